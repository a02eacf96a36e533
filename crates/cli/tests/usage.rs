//! The binary's command line: usage errors exit 2, help and version exit 0.

use std::process::Command;

fn gantry(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .env_clear()
        .output()
        .expect("run gantry")
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    assert_eq!(gantry(&[]).status.code(), Some(2));
    assert_eq!(gantry(&["no-such-action"]).status.code(), Some(2));
    assert_eq!(
        gantry(&["publish"]).status.code(),
        Some(2),
        "--report is required"
    );
    let help = gantry(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("publish"));
    let version = gantry(&["--version"]);
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("gantry {}", env!("CARGO_PKG_VERSION"))
    );
}
