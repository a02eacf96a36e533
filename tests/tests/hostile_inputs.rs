//! Input files that cannot be read as files (issue 25 §6): a FIFO nobody writes to, a device
//! that never ends, a socket, a folder — named as a report, a plan or a saved report. Each is
//! refused by name with exit 2, at once, and nothing is published; a file over the cap is
//! refused without being read past it.

#![cfg(unix)]

use std::sync::mpsc;
use std::time::Duration;

use gantry_testkit::harness::{RunOutcome, RunnerHarness};

/// How an action is pointed at one file.
struct Case {
    command: &'static [&'static str],
    input: Option<&'static str>,
}

const CASES: [Case; 4] = [
    Case {
        command: &["security-scan"],
        input: Some("reports"),
    },
    Case {
        command: &["quality-gate"],
        input: Some("junit"),
    },
    Case {
        command: &["terraform-plan"],
        input: Some("plan"),
    },
    Case {
        command: &[
            "publish",
            "--action",
            "terraform-plan",
            "--comment-key",
            "k",
            "--report",
        ],
        input: None,
    },
];

/// Runs `case` on `path` in `harness`, failing the test if it does not end within a minute.
fn run_within_a_minute(harness: RunnerHarness<'static>, case: &Case, path: &str) -> RunOutcome {
    let (sender, receiver) = mpsc::channel();
    let mut args: Vec<String> = case.command.iter().map(|s| (*s).to_owned()).collect();
    let harness = if let Some(input) = case.input {
        harness.input(input, path)
    } else {
        args.push(path.to_owned());
        harness
    };
    std::thread::spawn(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let _ = sender.send(harness.run(&args));
    });
    receiver
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{:?} on {path} hung", case.command))
}

#[test]
fn fifos_devices_sockets_and_folders_are_refused_by_name_without_blocking() {
    for case in &CASES {
        for (path, says) in [
            ("pipe.json", "is a FIFO (named pipe)"),
            ("/dev/zero", "is a device"),
            ("sock.json", "is a socket"),
            ("folder.json", "is a folder"),
        ] {
            let harness = RunnerHarness::new();
            let here = harness.workspace().to_owned();
            if !path.starts_with('/') {
                match path {
                    "pipe.json" => {
                        std::process::Command::new("mkfifo")
                            .arg(here.join(path))
                            .status()
                            .unwrap();
                    }
                    "sock.json" => {
                        let listener =
                            std::os::unix::net::UnixListener::bind(here.join(path)).unwrap();
                        std::mem::forget(listener);
                    }
                    _ => std::fs::create_dir(here.join(path)).unwrap(),
                }
            }
            let outcome = run_within_a_minute(harness, case, path);
            assert_eq!(
                outcome.exit_code,
                Some(2),
                "{:?} on {path}: {}\n{}",
                case.command,
                outcome.stdout,
                outcome.stderr
            );
            assert!(
                outcome.stdout.contains(&format!("{path}: {says}")),
                "{:?} on {path}: {}",
                case.command,
                outcome.stdout
            );
        }
    }
}

#[test]
fn a_file_over_the_cap_is_refused_naming_the_variable_that_raises_it() {
    for case in &CASES {
        let harness = RunnerHarness::new().env("GANTRY_MAX_INPUT_BYTES", "100");
        harness.write("big.json", "x".repeat(101));
        let outcome = run_within_a_minute(harness, case, "big.json");
        assert_eq!(
            outcome.exit_code,
            Some(2),
            "{:?}: {}",
            case.command,
            outcome.stdout
        );
        assert!(
            outcome
                .stdout
                .contains("big.json: over 100 bytes, the most gantry reads from one file (set GANTRY_MAX_INPUT_BYTES to raise it)"),
            "{:?}: {}",
            case.command,
            outcome.stdout
        );
    }
}
