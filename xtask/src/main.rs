//! `cargo xtask`: see the library (`xtask::main`) and the README.

/// mimalloc keeps freed memory for reuse: with glibc's allocator, blocks given back to the OS
/// and faulted in again were a large share of a run's system time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    xtask::main(std::env::args_os())
}
