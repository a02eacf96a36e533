//! The binary's command line: usage errors exit 2, help and version exit 0.

use std::path::Path;
use std::process::Command;

fn gantry(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .env_clear()
        .output()
        .expect("run gantry")
}

/// `gantry <args…>` run in `dir` as its workspace, with nothing else in its environment: the
/// exit status and all it printed.
fn run_in(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("GITHUB_WORKSPACE", dir)
        .output()
        .expect("run gantry");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr),
    )
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

/// Issue 27 §5: `gantry demo` from a folder without the examples printed an error for each
/// action in turn and went on; it stops at once (exit 2) and says where to run it, writing
/// nothing.
#[test]
fn the_demo_away_from_the_examples_says_where_to_run_it() {
    let elsewhere = std::env::temp_dir().join(format!("gantry-demo-{}", std::process::id()));
    std::fs::create_dir_all(&elsewhere).unwrap();
    let (code, said) = run_in(&elsewhere, &["demo"]);
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains("no examples at `examples`") && said.contains("--examples"),
        "{said}"
    );
    assert_eq!(said.matches("::error::").count(), 1, "{said}");
    assert!(!elsewhere.join("gantry-out").exists());
    std::fs::remove_dir_all(&elsewhere).unwrap();
}

/// Issue 27 §5: `metrics: prometheus` was taken for a file and failed with "cannot read: no
/// such file"; it is refused naming what `metrics` takes.
#[test]
fn a_metrics_set_that_is_none_of_the_known_ones_nor_a_file_is_refused_saying_what_it_takes() {
    let output = gantry(&[
        "canary-verify",
        "--prometheus-url",
        "http://127.0.0.1:9",
        "--namespace",
        "shop",
        "--canary",
        "cart-canary",
        "--baseline",
        "cart-baseline",
        "--metrics",
        "prometheus",
    ]);
    let said = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(
        said.contains(
            "`prometheus` is none of `istio`, `http`, or a file of your own PromQL templates"
        ),
        "{said}"
    );
}

/// Issue 27 §5: two report paths on one line were "no such file"; the error says they are two
/// paths and how to give them.
#[test]
fn several_paths_on_one_line_are_told_apart_from_a_missing_one() {
    let workspace = std::env::temp_dir().join(format!("gantry-paths-{}", std::process::id()));
    std::fs::create_dir_all(&workspace).unwrap();
    for report in ["bandit.json", "trivy.json"] {
        std::fs::write(workspace.join(report), "{}").unwrap();
    }
    let run = |reports: &str| {
        run_in(
            &workspace,
            &["security-scan", "--dry-run", "--reports", reports],
        )
    };
    let (code, said) = run("bandit.json trivy.json");
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains("is 2 paths on one line: give one a line"),
        "{said}"
    );
    let (code, said) = run("bandit.json missing.json");
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains("no such file") && !said.contains("paths on one line"),
        "{said}"
    );
    std::fs::remove_dir_all(&workspace).unwrap();
}

/// Issue 27 §5: `output: ../x.sarif` was written outside the workspace; it is refused (exit 2)
/// and nothing is written anywhere.
#[test]
fn an_output_outside_the_workspace_is_refused_and_nothing_is_written() {
    let root = std::env::temp_dir().join(format!("gantry-outside-{}", std::process::id()));
    let workspace = root.join("workspace");
    std::fs::create_dir_all(&workspace).unwrap();
    std::fs::write(
        workspace.join("empty.sarif"),
        r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"Bandit"}},"results":[]}]}"#,
    )
    .unwrap();
    let absolute = root.join("absolute.sarif");
    for output in [
        "../outside.sarif",
        "sub/../../outside.sarif",
        absolute.to_str().unwrap(),
    ] {
        let (code, said) = run_in(
            &workspace,
            &[
                "security-scan",
                "--dry-run",
                "--reports",
                "empty.sarif",
                "--comment",
                "off",
                "--output",
                output,
            ],
        );
        assert_eq!(code, Some(2), "{output}: {said}");
        assert!(
            said.contains("is outside the workspace"),
            "{output}: {said}"
        );
        assert!(!root.join("outside.sarif").exists() && !absolute.exists());
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// Issue 27 §4: run locally on a stack without drift, drift-report said "wrote issue `Drift:
/// stack shop changed outside Terraform`" and wrote that issue's file. Nothing drifts, so no
/// issue is written and the line says so; a drifted stack still gets its issue file.
#[test]
fn a_clean_stack_run_locally_writes_no_drift_issue() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../drift-report/tests/fixtures");
    std::fs::copy(
        fixtures.join("aws-after-apply.json"),
        dir.path().join("clean.json"),
    )
    .unwrap();
    std::fs::copy(
        fixtures.join("aws-drifted.json"),
        dir.path().join("drifted.json"),
    )
    .unwrap();
    let (code, output) = run_in(dir.path(), &["drift-report", "--plans", "shop=clean.json"]);
    assert_eq!(code, Some(0), "{output}");
    assert!(!output.contains("wrote issue"), "{output}");
    assert!(output.contains("no issue: nothing to report"), "{output}");
    assert!(
        !dir.path()
            .join("gantry-out/drift-report-1-issue.md")
            .exists()
    );
    let (code, output) = run_in(
        dir.path(),
        &["drift-report", "--plans", "shop=drifted.json"],
    );
    assert_eq!(code, Some(0), "{output}");
    assert!(
        output.contains("wrote issue `Drift: stack shop"),
        "{output}"
    );
}

/// Issue 27 §5: `window: 5` (meant as five minutes) was refused as "a window of 5s holds fewer
/// than 8 intervals of 1m", naming neither the input nor what would do.
#[test]
fn a_window_too_short_for_its_step_says_what_would_do() {
    let dir = tempfile::tempdir().unwrap();
    let (code, output) = run_in(
        dir.path(),
        &[
            "canary-verify",
            "--prometheus-url",
            "http://127.0.0.1:9",
            "--namespace",
            "shop",
            "--canary",
            "cart-canary",
            "--baseline",
            "cart-baseline",
            "--window",
            "5",
        ],
    );
    assert_eq!(code, Some(2), "{output}");
    assert!(
        output.contains("`window` 5s holds fewer than 8 intervals of `step` 1m")
            && output.contains("give a window of 8m or more")
            && output.contains("without a unit is seconds"),
        "{output}"
    );
}

/// Issue 27 §5 reported a local `gantry publish` that printed `::error::` and exited 0; not
/// reproduced. Every way publish can go wrong locally — no event, another action's report, a
/// report that is not one, none at all — prints its error and exits non-zero.
#[test]
fn publish_never_exits_0_after_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../drift-report/tests/fixtures");
    std::fs::copy(
        fixtures.join("aws-drifted.json"),
        dir.path().join("plan.json"),
    )
    .unwrap();
    let (code, output) = run_in(
        dir.path(),
        &[
            "drift-report",
            "--plans",
            "shop=plan.json",
            "--save-report",
            "r.json",
        ],
    );
    assert_eq!(code, Some(0), "{output}");
    std::fs::write(dir.path().join("not-a-report.json"), "{\"action\": 3}").unwrap();
    let publish = |report: &str, action: &str| {
        run_in(
            dir.path(),
            &[
                "publish",
                "--report",
                report,
                "--action",
                action,
                "--comment-key",
                "k",
            ],
        )
    };
    for (report, action) in [
        ("r.json", "drift-report"),
        ("r.json", "security-scan"),
        ("not-a-report.json", "security-scan"),
        ("missing.json", "security-scan"),
    ] {
        let (code, output) = publish(report, action);
        assert!(output.contains("::error::"), "{report} {action}: {output}");
        assert!(
            code.is_some_and(|code| code != 0),
            "{report} {action}: exit {code:?}: {output}"
        );
    }
}
