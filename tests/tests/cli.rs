use std::process::ExitCode;

#[test]
fn unknown_subcommand_is_a_usage_error() {
    assert_eq!(
        xtask::main(["cargo xtask", "no-such-command"]),
        ExitCode::from(2)
    );
}
