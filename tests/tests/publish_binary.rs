//! The built binary against the fake GitHub, through `gantry publish` (a saved report carried
//! out as a trusted job would): reruns, faults, read-only tokens, exit codes, masking.

use gantry_core::report::{
    Annotation, CheckConclusion, CheckRunEffect, CommentEffect, CommentMode, Effect, Marker,
    Report, Verdict,
};
use gantry_core::runner::{AnnotationLevel, AnnotationPlace};
use gantry_testkit::fake_github::{FakeGitHub, Fault, FaultKind};
use gantry_testkit::harness::RunnerHarness;

const HEAD: &str = "89abcdef0123456789abcdef0123456789abcdef";
const TOKEN: &str = "ghs_faketoken0123456789";
const MARKER: &str = "<!-- gantry:terraform-plan:prod -->";

fn report(verdict: Verdict, body: &str) -> Report {
    let mut report = Report::new(
        "terraform-plan",
        verdict,
        "1 to add, 0 to change, 1 to destroy",
    );
    report.outputs.set("add", "1");
    report.summary = format!("## Plan\n\n{body}\n");
    report.annotations.push(Annotation {
        level: AnnotationLevel::Warning,
        place: AnnotationPlace {
            file: Some("main.tf".into()),
            line: Some(3),
            title: Some("destroy".into()),
            ..AnnotationPlace::default()
        },
        message: "aws_instance.web will be destroyed".into(),
    });
    report.effects.push(Effect::Comment(CommentEffect {
        marker: Marker::new("terraform-plan", "prod"),
        body: body.to_owned(),
        mode: CommentMode::Update,
        issue_number: None,
        section: None,
    }));
    report
}

fn harness<'f>(fake: &'f FakeGitHub, report: &Report) -> RunnerHarness<'f> {
    let harness = RunnerHarness::new()
        .pull_request(7, HEAD, false)
        .github(fake);
    harness.write("report.json", serde_json::to_vec(report).unwrap());
    harness
}

fn fake() -> FakeGitHub {
    let fake = FakeGitHub::start();
    fake.add_pull_request(7, HEAD);
    fake
}

fn our_comments(fake: &FakeGitHub) -> usize {
    fake.state()
        .comments_on(7)
        .iter()
        .filter(|c| c.body.contains(MARKER))
        .count()
}

#[test]
fn a_rerun_of_the_same_job_leaves_exactly_one_sticky_comment() {
    let fake = fake();
    let first = harness(&fake, &report(Verdict::Passed, "plan v1")).run(&[
        "publish",
        "--report",
        "report.json",
    ]);
    assert_eq!(
        first.exit_code,
        Some(0),
        "{}\n{}",
        first.stdout,
        first.stderr
    );
    assert_eq!(first.output("result"), "passed");
    assert_eq!(first.output("add"), "1");
    assert!(
        first.output("comment-url").contains("#issuecomment-"),
        "{:?}",
        first.outputs
    );
    assert!(first.summary.starts_with("## Plan"));
    assert!(first.stdout.contains(
        "::warning file=main.tf,line=3,title=destroy::aws_instance.web will be destroyed"
    ));

    let second = harness(&fake, &report(Verdict::Passed, "plan v2")).run(&[
        "publish",
        "--report",
        "report.json",
    ]);
    assert_eq!(second.exit_code, Some(0));
    assert_eq!(our_comments(&fake), 1);
    let state = second.github.unwrap();
    assert!(state.comments_on(7)[0].body.starts_with("plan v2"));
    assert!(
        state.contract_violations.is_empty(),
        "{:?}",
        state.contract_violations
    );
}

#[test]
fn a_502_or_a_lost_response_on_the_first_post_still_ends_with_one_comment() {
    for kind in [
        FaultKind::ServerError {
            status: 502,
            after_write: true,
        },
        FaultKind::LoseResponse,
    ] {
        let fake = fake();
        fake.inject(Fault::new("POST", "/issues/7/comments", kind.clone(), 1));
        let outcome = harness(&fake, &report(Verdict::Passed, "plan")).run(&[
            "publish",
            "--report",
            "report.json",
        ]);
        assert_eq!(outcome.exit_code, Some(0), "{kind:?}: {}", outcome.stderr);
        assert_eq!(our_comments(&fake), 1, "{kind:?}");
    }
}

#[test]
fn rate_limits_are_waited_out() {
    let fake = fake();
    fake.inject(Fault::new(
        "POST",
        "/comments",
        FaultKind::TooManyRequests {
            retry_after: Some(0),
        },
        1,
    ));
    fake.inject(Fault::new(
        "GET",
        "/comments",
        FaultKind::SecondaryRateLimit {
            retry_after: Some(0),
        },
        1,
    ));
    let outcome = harness(&fake, &report(Verdict::Passed, "plan")).run(&[
        "publish",
        "--report",
        "report.json",
    ]);
    assert_eq!(outcome.exit_code, Some(0), "{}", outcome.stderr);
    assert!(
        outcome.stderr.contains("rate limited"),
        "{}",
        outcome.stderr
    );
    let state = outcome.github.unwrap();
    assert_eq!(
        state
            .requests
            .iter()
            .filter(|r| r.status == 429 || r.status == 403)
            .count(),
        2
    );
    assert_eq!(our_comments(&fake), 1);
}

#[test]
fn a_read_only_token_exits_0_with_the_summary_and_one_warning() {
    let fake = fake();
    fake.inject(Fault::new("POST", "/", FaultKind::ReadOnlyToken, 10));
    let outcome = harness(&fake, &report(Verdict::Passed, "plan"))
        .pull_request(7, HEAD, true)
        .run(&["publish", "--report", "report.json"]);
    assert_eq!(
        outcome.exit_code,
        Some(0),
        "{}\n{}",
        outcome.stdout,
        outcome.stderr
    );
    assert_eq!(outcome.output("result"), "passed");
    assert!(outcome.summary.contains("## Plan"));
    let warnings: Vec<&str> = outcome
        .stdout
        .lines()
        .filter(|l| l.starts_with("::warning title=Gantry could not publish"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", outcome.stdout);
    assert!(warnings[0].contains("Resource not accessible by integration"));
    assert_eq!(our_comments(&fake), 0);
}

#[test]
fn a_failed_gate_exits_1_after_publishing() {
    let fake = fake();
    let outcome = harness(&fake, &report(Verdict::Failed, "destroys")).run(&[
        "publish",
        "--report",
        "report.json",
    ]);
    assert_eq!(outcome.exit_code, Some(1));
    assert_eq!(outcome.output("result"), "failed");
    assert_eq!(our_comments(&fake), 1, "the comment explains the failure");
}

#[test]
fn github_refusing_the_write_exits_3() {
    let fake = FakeGitHub::start(); // no PR 7: GitHub answers 404
    let outcome = harness(&fake, &report(Verdict::Passed, "plan")).run(&[
        "publish",
        "--report",
        "report.json",
    ]);
    assert_eq!(outcome.exit_code, Some(3), "{}", outcome.stdout);
    assert_eq!(outcome.output("result"), "service-error");
    assert!(
        outcome
            .stdout
            .contains("::error::GitHub rejected the request to create the PR comment (404)"),
        "{}",
        outcome.stdout
    );
}

#[test]
fn bad_input_exits_2_names_the_file_and_publishes_nothing() {
    let fake = fake();
    let harness = harness(&fake, &report(Verdict::Passed, "plan"));
    harness.write("broken.json", "{\"action\": ");
    let outcome = harness.run(&["publish", "--report", "broken.json"]);
    assert_eq!(outcome.exit_code, Some(2));
    assert_eq!(outcome.output("result"), "invalid-input");
    assert!(
        outcome
            .stdout
            .contains("::error::broken.json: not a gantry report"),
        "{}",
        outcome.stdout
    );
    assert!(outcome.github.unwrap().requests.is_empty());

    let outcome = harness.run(&["publish", "--report", "missing.json"]);
    assert_eq!(outcome.exit_code, Some(2));
    assert!(
        outcome
            .stdout
            .contains("missing.json: cannot read: no such file"),
        "{}",
        outcome.stdout
    );
}

#[test]
fn a_broken_event_payload_exits_2_naming_it() {
    let fake = fake();
    let outcome = harness(&fake, &report(Verdict::Passed, "plan"))
        .event(
            "pull_request",
            serde_json::json!({"action": "opened", "pull_request": {"number": "seven"}}),
        )
        .run(&["publish", "--report", "report.json"]);
    assert_eq!(outcome.exit_code, Some(2));
    assert!(
        outcome
            .stdout
            .contains("(GITHUB_EVENT_PATH): `pull_request` event payload is not valid"),
        "{}",
        outcome.stdout
    );
    assert!(outcome.github.unwrap().requests.is_empty());
}

#[test]
fn the_token_is_masked_and_never_printed() {
    let fake = fake();
    let outcome = harness(&fake, &report(Verdict::Passed, "plan"))
        .env("RUNNER_DEBUG", "1")
        .run(&["publish", "--report", "report.json"]);
    assert_eq!(outcome.exit_code, Some(0));
    let mask = format!("::add-mask::{TOKEN}");
    assert!(outcome.stdout.starts_with(&mask), "{}", outcome.stdout);
    assert_eq!(
        outcome.stdout.matches(TOKEN).count(),
        1,
        "only in the add-mask command"
    );
    assert!(!outcome.stderr.contains(TOKEN), "{}", outcome.stderr);
    assert!(!outcome.summary.contains(TOKEN));
}

#[test]
fn without_a_token_outside_actions_effects_become_local_files() {
    let harness = RunnerHarness::new().without("GITHUB_ACTIONS");
    let mut report = report(Verdict::Passed, "plan");
    report.effects.push(Effect::CheckRun(CheckRunEffect {
        name: "plan".into(),
        head_sha: None,
        conclusion: CheckConclusion::Success,
        title: "ok".into(),
        summary: "s".into(),
        text: None,
        annotations: Vec::new(),
    }));
    harness.write("report.json", serde_json::to_vec(&report).unwrap());
    let outcome = harness.run(&["publish", "--report", "report.json"]);
    assert_eq!(outcome.exit_code, Some(0), "{}", outcome.stderr);
    let comment = std::fs::read_to_string(
        harness
            .workspace()
            .join("gantry-out/terraform-plan-1-comment.md"),
    )
    .unwrap();
    assert!(comment.starts_with("plan") && comment.contains(MARKER));
    assert!(
        harness
            .workspace()
            .join("gantry-out/terraform-plan-2-check-run.json")
            .is_file()
    );
    assert!(
        outcome.stdout.contains("wrote PR comment → "),
        "{}",
        outcome.stdout
    );
    assert!(
        !outcome.stdout.contains("::add-mask::"),
        "no secret to mask, none printed"
    );
}

#[test]
fn dry_run_writes_locally_even_with_a_token() {
    let fake = fake();
    let harness = harness(&fake, &report(Verdict::Passed, "plan"));
    let outcome = harness.run(&[
        "publish",
        "--report",
        "report.json",
        "--dry-run",
        "--out-dir",
        "out",
    ]);
    assert_eq!(outcome.exit_code, Some(0));
    assert!(
        harness
            .workspace()
            .join("out/terraform-plan-1-comment.md")
            .is_file()
    );
    assert!(outcome.github.unwrap().requests.is_empty());
}
