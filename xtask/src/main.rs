//! `cargo xtask`: see the library (`xtask::main`) and the README.

fn main() -> std::process::ExitCode {
    xtask::main(std::env::args_os())
}
