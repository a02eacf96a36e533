//! `gantry quality-gate` as the runner runs it, against the testkit's fake GitHub: a check run
//! with 120 annotations sent in three requests, annotations on the pull request's changed files
//! first, one sticky comment, and a fork's read-only token.

use std::fmt::Write as _;

use gantry_testkit::fake_github::{FakeGitHub, Fault, FaultKind};
use gantry_testkit::harness::RunnerHarness;

const HEAD: &str = "2222222222222222222222222222222222222222";

/// 100 failing tests in `src/module.py` and 20 lint errors in `src/changed.py`.
fn workspace(fake: &FakeGitHub) -> RunnerHarness<'_> {
    let mut junit = String::from("<testsuite name=\"unit\" tests=\"101\">");
    for index in 0..100 {
        let _ = write!(
            junit,
            "<testcase classname=\"module\" name=\"test_{index}\" file=\"src/module.py\" line=\"{}\"><failure message=\"assert {index} == 0\"/></testcase>",
            index + 1
        );
    }
    junit.push_str("<testcase classname=\"module\" name=\"test_ok\"/></testsuite>");
    let mut lint = String::new();
    for line in 1..=20 {
        let _ = writeln!(
            lint,
            "src/changed.py:{line}:1: F401 'os{line}' imported but unused"
        );
    }
    let harness = RunnerHarness::new()
        .pull_request(7, HEAD, false)
        .github(fake)
        .input("junit", "reports/*.xml")
        .input("lint", "flake8.txt");
    harness.write("reports/junit.xml", junit);
    harness.write("flake8.txt", lint);
    harness
}

fn fake() -> FakeGitHub {
    let fake = FakeGitHub::start();
    fake.add_pull_request(7, HEAD);
    fake.set_pull_files(7, &["src/changed.py", "README.md"]);
    fake
}

#[test]
fn check_run_annotations_go_fifty_at_a_time_changed_files_first() {
    let fake = fake();
    let harness = workspace(&fake);
    let outcome = harness.run(&["quality-gate"]);
    assert_eq!(
        outcome.exit_code,
        Some(1),
        "{}\n{}",
        outcome.stdout,
        outcome.stderr
    );
    assert_eq!(outcome.output("failed"), "100");
    assert_eq!(outcome.output("lint-errors"), "20");
    let state = fake.state();
    assert!(
        state.contract_violations.is_empty(),
        "{:?}",
        state.contract_violations
    );
    let [run] = state.check_runs.as_slice() else {
        panic!("{} check runs", state.check_runs.len())
    };
    assert_eq!(run.name, "quality gate");
    assert_eq!(run.head_sha, HEAD, "the PR's head, not the merge commit");
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(run.annotations.len(), 120);
    let requests =
        state.requests_to("POST", "/check-runs") + state.requests_to("PATCH", "/check-runs/");
    assert_eq!(requests, 3, "120 annotations, 50 a request");
    // The changed file's findings come first.
    assert!(
        run.annotations[..20]
            .iter()
            .all(|annotation| annotation["path"] == "src/changed.py"),
        "{:?}",
        &run.annotations[..3]
    );
    let comments = state.comments_on(7);
    assert_eq!(comments.len(), 1);
    assert!(comments[0].body.starts_with("### ❌ Quality gate failed"));
    assert!(comments[0].body.len() <= 65_536);
    let summary =
        std::fs::read_to_string(harness.workspace().join("gantry-quality-summary.json")).unwrap();
    assert!(summary.contains("\"failed\": 100"));

    // A rerun edits the comment and adds a check run (a check run is per run).
    let again = workspace(&fake).run(&["quality-gate"]);
    assert_eq!(again.exit_code, Some(1));
    assert_eq!(fake.state().comments_on(7).len(), 1);
}

#[test]
fn a_forks_read_only_token_exits_by_the_gate_with_the_summary() {
    let fake = fake();
    fake.inject(Fault::new("POST", "/", FaultKind::ReadOnlyToken, 10));
    let harness = RunnerHarness::new()
        .pull_request(7, HEAD, true)
        .github(&fake)
        .input("junit", "junit.xml");
    harness.write(
        "junit.xml",
        "<testsuite name=\"s\"><testcase classname=\"c\" name=\"passes\"/></testsuite>",
    );
    let outcome = harness.run(&["quality-gate"]);
    assert_eq!(
        outcome.exit_code,
        Some(0),
        "{}\n{}",
        outcome.stdout,
        outcome.stderr
    );
    assert!(
        outcome.summary.starts_with("### ✅ Quality gate passed"),
        "{}",
        outcome.summary
    );
    let warnings = outcome
        .stdout
        .lines()
        .filter(|line| line.starts_with("::warning title=Gantry could not publish"))
        .count();
    assert_eq!(warnings, 1, "{}", outcome.stdout);
    assert!(fake.state().check_runs.is_empty());
}

#[test]
fn an_xxe_report_is_refused_and_nothing_is_published() {
    let fake = fake();
    let harness = RunnerHarness::new()
        .pull_request(7, HEAD, false)
        .github(&fake)
        .input("junit", "evil.xml");
    harness.write(
        "evil.xml",
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><testsuite><testcase name=\"&x;\"/></testsuite>",
    );
    let outcome = harness.run(&["quality-gate"]);
    assert_eq!(outcome.exit_code, Some(2));
    assert!(
        format!("{}{}", outcome.stdout, outcome.stderr)
            .contains("evil.xml: refused: its document type declares entities"),
        "{}",
        outcome.stdout
    );
    let state = fake.state();
    assert!(state.check_runs.is_empty() && state.comments_on(7).is_empty());
}

/// Issue 27 §2: `baseline: auto` takes the summary in the base branch's last successful run's
/// artifact: twenty old lint errors stay known and the gate passes. A newer failed run's
/// summary (which would make them new) is passed over; with no successful run yet, the gate
/// judges every finding and says why — exit 1 by the gate, not exit 2.
#[test]
fn baseline_auto_takes_the_last_successful_runs_summary_and_else_judges_everything() {
    use gantry_testkit::fake_github::{REPOSITORY_ID, WorkflowRun};
    let fake = fake();
    let mut lint = String::new();
    for line in 1..=20 {
        let _ = writeln!(lint, "src/old.py:{line}:1: E999 SyntaxError: old {line}");
    }
    let harness = RunnerHarness::new()
        .pull_request(7, HEAD, false)
        .github(&fake)
        .input("junit", "junit.xml")
        .input("lint", "flake8.txt")
        .input("comment", "off");
    harness.write(
        "junit.xml",
        "<testsuite name=\"unit\" tests=\"1\"><testcase classname=\"m\" name=\"test_ok\"/></testsuite>",
    );
    harness.write("flake8.txt", &lint);
    let base = harness.run(&["quality-gate", "--dry-run"]);
    assert_eq!(base.exit_code, Some(1), "{}", base.stderr);
    let with_errors =
        std::fs::read(harness.workspace().join("gantry-quality-summary.json")).unwrap();
    harness.write("flake8.txt", "");
    harness.run(&["quality-gate", "--dry-run"]);
    let clean = std::fs::read(harness.workspace().join("gantry-quality-summary.json")).unwrap();
    harness.write("flake8.txt", &lint);
    let run = |id: u64, conclusion: &str| WorkflowRun {
        id,
        event: "push".into(),
        conclusion: Some(conclusion.into()),
        head_branch: "main".into(),
        head_sha: format!("{id}").repeat(10),
        head_repository_id: REPOSITORY_ID,
    };
    let gate = |exit_code: i32| {
        let outcome = harness.run(&["quality-gate", "--dry-run", "--baseline", "auto"]);
        assert_eq!(
            outcome.exit_code,
            Some(exit_code),
            "{}\n{}",
            outcome.stdout,
            outcome.stderr
        );
        outcome.summary
    };

    // Only a failed run so far: no baseline, every finding judged.
    fake.add_run(run(2000, "failure"));
    fake.add_artifact(
        "gantry-quality-gate",
        2000,
        false,
        gantry_testkit::archive::zip(&[("gantry-quality-summary.json", &clean)]),
    );
    let summary = gate(1);
    assert!(
        summary.contains("found no baseline on `main`") && summary.contains("run 2000 failure"),
        "{summary}"
    );

    // A successful run, older than the failed one: its summary is the baseline.
    fake.add_run(run(1000, "success"));
    fake.add_artifact(
        "gantry-quality-gate",
        1000,
        false,
        gantry_testkit::archive::zip(&[("gantry-quality-summary.json", &with_errors)]),
    );
    // Listed oldest first by the fake's clock: make the failed run's artifact the newest.
    fake.add_artifact(
        "gantry-quality-gate",
        2000,
        false,
        gantry_testkit::archive::zip(&[("gantry-quality-summary.json", &clean)]),
    );
    let summary = gate(0);
    assert!(
        summary.contains("artifact `gantry-quality-gate` of run 1000"),
        "{summary}"
    );

    // A successful run's artifact that is not a summary: said, and judged.
    fake.add_run(run(3000, "success"));
    fake.add_artifact(
        "gantry-quality-gate",
        3000,
        false,
        gantry_testkit::archive::zip(&[("gantry-quality-summary.json", b"<html>")]),
    );
    let summary = gate(1);
    assert!(
        summary.contains("not a summary this action wrote"),
        "{summary}"
    );
    assert_eq!(fake.state().storage_requests_with_token, 0);
}
