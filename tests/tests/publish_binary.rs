//! The built binary against the fake GitHub, through `gantry publish` (a saved report carried
//! out as a trusted job would): reruns, faults, read-only tokens, exit codes, masking.

use gantry_core::report::{
    Annotation, CheckConclusion, CheckRunEffect, CommentEffect, CommentMode, Effect, Marker,
    Report, Verdict,
};
use gantry_core::runner::{AnnotationLevel, AnnotationPlace};
use gantry_testkit::fake_github::{ACTIONS_BOT, FakeGitHub, Fault, FaultKind};
use gantry_testkit::harness::{RunOutcome, RunnerHarness};

const HEAD: &str = "89abcdef0123456789abcdef0123456789abcdef";
const TOKEN: &str = "ghs_faketoken0123456789";
const MARKER: &str = "<!-- gantry:terraform-plan:prod -->";
/// The trusted job's command line: it names the action and the comment key it publishes.
const PUBLISH: [&str; 7] = [
    "publish",
    "--report",
    "report.json",
    "--action",
    "terraform-plan",
    "--comment-key",
    "prod",
];

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
        .workflow_run(4242, HEAD, "octo/repo", &[7])
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
    let first = harness(&fake, &report(Verdict::Passed, "plan v1")).run(&PUBLISH);
    assert_eq!(
        first.exit_code,
        Some(0),
        "{}\n{}",
        first.stdout,
        first.stderr
    );
    assert_eq!(first.output("result"), "passed");
    // The untrusted run's outputs and annotations stay there: an output here could reach a
    // trusted step's script, an annotation would land on this job's commit.
    assert_eq!(first.output("add"), "");
    assert!(
        first.output("comment-url").contains("#issuecomment-"),
        "{:?}",
        first.outputs
    );
    assert!(first.summary.starts_with("## Plan"));
    assert!(
        !first.stdout.contains("::warning file=main.tf"),
        "{}",
        first.stdout
    );

    let second = harness(&fake, &report(Verdict::Passed, "plan v2")).run(&PUBLISH);
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
            "--action",
            "terraform-plan",
            "--comment-key",
            "prod",
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
    let outcome = harness(&fake, &report(Verdict::Passed, "plan")).run(&PUBLISH);
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
    let outcome = harness(&fake, &report(Verdict::Passed, "plan")).run(&PUBLISH);
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
    let outcome = harness(&fake, &report(Verdict::Failed, "destroys")).run(&PUBLISH);
    assert_eq!(outcome.exit_code, Some(1));
    assert_eq!(outcome.output("result"), "failed");
    assert_eq!(our_comments(&fake), 1, "the comment explains the failure");
}

#[test]
fn github_refusing_the_write_exits_3() {
    let fake = FakeGitHub::start();
    // GitHub reads the pull request, then answers 404 to its comments (deleted meanwhile).
    fake.set_pull_head(7, HEAD, "octo/repo");
    let outcome = harness(&fake, &report(Verdict::Passed, "plan")).run(&PUBLISH);
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
    let outcome = harness.run(&[
        "publish",
        "--report",
        "broken.json",
        "--action",
        "terraform-plan",
        "--comment-key",
        "prod",
    ]);
    assert_eq!(outcome.exit_code, Some(2));
    assert_eq!(outcome.output("result"), "invalid-input");
    assert!(
        outcome
            .stdout
            .contains("::error::broken.json: not a gantry report"),
        "{}",
        outcome.stdout
    );
    // The job's page says why too, not only the log.
    assert!(
        outcome
            .summary
            .starts_with("### ❌ Gantry refused its inputs (exit 2)")
            && outcome.summary.contains("broken.json: not a gantry report"),
        "{}",
        outcome.summary
    );
    assert!(outcome.github.unwrap().requests.is_empty());

    let outcome = harness.run(&[
        "publish",
        "--report",
        "missing.json",
        "--action",
        "terraform-plan",
        "--comment-key",
        "prod",
    ]);
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
        .run(&[
            "publish",
            "--report",
            "report.json",
            "--action",
            "terraform-plan",
            "--comment-key",
            "prod",
        ]);
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
        .run(&[
            "publish",
            "--report",
            "report.json",
            "--action",
            "terraform-plan",
            "--comment-key",
            "prod",
        ]);
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
    let harness = RunnerHarness::new()
        .workflow_run(4242, HEAD, "octo/repo", &[7])
        .without("GITHUB_ACTIONS");
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
    let outcome = harness.run(&PUBLISH);
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
        "--action",
        "terraform-plan",
        "--comment-key",
        "prod",
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

/// What a fork's read-only run leaves: the saved report of a failing quality gate.
fn fork_run_saves_a_report(fake: &FakeGitHub) -> Vec<u8> {
    fake.inject(Fault::new("POST", "/", FaultKind::ReadOnlyToken, 10));
    let fork_run = RunnerHarness::new()
        .pull_request(9, HEAD, true)
        .github(fake)
        .input("junit", "junit.xml");
    fork_run.write(
        "junit.xml",
        r#"<testsuite name="unit"><testcase classname="t" name="ok"/><testcase classname="t" name="bad"><failure message="boom">trace</failure></testcase></testsuite>"#,
    );
    let saved = fork_run.run(&["quality-gate", "--save-report", "r.json"]);
    assert_eq!(
        saved.exit_code,
        Some(1),
        "the gate fails and the report is still saved: {}",
        saved.stdout
    );
    let bytes = std::fs::read(fork_run.workspace().join("r.json")).unwrap();
    let report: Report = serde_json::from_slice(&bytes).unwrap();
    let origin = report
        .origin
        .expect("the saved report says where it came from");
    assert_eq!(
        (origin.pull_request, origin.head_sha.as_deref()),
        (Some(9), Some(HEAD))
    );
    bytes
}

fn trusted_job<'f>(fake: &'f FakeGitHub, saved: &[u8]) -> RunnerHarness<'f> {
    // GitHub lists no pull request in a fork's workflow_run event.
    let job = RunnerHarness::new()
        .workflow_run(4242, HEAD, "someone/repo", &[])
        .github(fake);
    job.write("r.json", saved);
    job
}

#[test]
fn a_fork_prs_saved_report_gets_one_comment_and_one_check_run_on_its_head_even_rerun() {
    let fake = FakeGitHub::start();
    fake.add_pull_request_from(9, HEAD, "someone/repo");
    let saved = fork_run_saves_a_report(&fake);
    fake.clear_faults();
    for _ in 0..2 {
        let outcome = trusted_job(&fake, &saved).run(&[
            "publish",
            "--report",
            "r.json",
            "--action",
            "quality-gate",
            "--comment-key",
            "fork",
        ]);
        assert_eq!(
            outcome.exit_code,
            Some(1),
            "{}\n{}",
            outcome.stdout,
            outcome.stderr
        );
        assert_eq!(outcome.output("result"), "failed");
    }
    let state = fake.state();
    let comments: Vec<_> = state
        .comments_on(9)
        .into_iter()
        .filter(|c| c.body.contains("<!-- gantry:quality-gate:"))
        .collect();
    assert_eq!(comments.len(), 1, "{comments:?}");
    let checks: Vec<_> = state
        .check_runs
        .iter()
        .filter(|run| run.head_sha == HEAD)
        .collect();
    assert_eq!(checks.len(), 1, "{:?}", state.check_runs);
    assert_eq!(checks[0].name, "quality gate");
    assert_eq!(checks[0].conclusion.as_deref(), Some("failure"));
    assert!(
        state.contract_violations.is_empty(),
        "{:?}",
        state.contract_violations
    );
}

/// A poisoned report: nothing is written outside the pull request and its head commit.
fn refused(fake: &FakeGitHub, report: &Report, says: &str) {
    let outcome = harness(fake, report).run(&PUBLISH);
    assert_eq!(outcome.exit_code, Some(2), "{says}: {}", outcome.stdout);
    assert_eq!(outcome.output("result"), "invalid-input");
    assert!(outcome.stdout.contains(says), "{says}: {}", outcome.stdout);
    let state = fake.state();
    assert!(
        state.comments.is_empty() && state.check_runs.is_empty(),
        "{says}"
    );
    assert!(
        state.sarif_uploads.is_empty() && state.deployment_statuses.is_empty(),
        "{says}"
    );
    assert!(
        state.issues.iter().all(|issue| issue.pull_request),
        "{says}: an issue was opened"
    );
    assert!(
        state.requests.iter().all(|request| request.method == "GET"),
        "{says}: {:?}",
        state.requests
    );
}

#[test]
fn poisoned_reports_are_refused_whole_and_publish_nothing() {
    let other = "f".repeat(40);
    let mut check_elsewhere = report(Verdict::Passed, "plan");
    check_elsewhere
        .effects
        .push(Effect::CheckRun(CheckRunEffect {
            name: "required-security-review".into(),
            head_sha: Some(other.clone()),
            conclusion: CheckConclusion::Success,
            title: "ok".into(),
            summary: "ok".into(),
            text: None,
            annotations: Vec::new(),
        }));
    refused(&fake(), &check_elsewhere, "on commit ffff");

    let mut issue = report(Verdict::Passed, "plan");
    issue
        .effects
        .push(Effect::Issue(gantry_core::report::IssueEffect {
            marker: Marker::new("terraform-plan", "x"),
            title: "hello @octo-org/admins".into(),
            body: "see https://evil.example".into(),
            labels: Vec::new(),
            state: gantry_core::report::IssueState::Open,
            comment: None,
        }));
    refused(&fake(), &issue, "asks for an issue");

    let mut deployment = report(Verdict::Passed, "plan");
    deployment.effects.push(Effect::DeploymentStatus(
        gantry_core::report::DeploymentStatusEffect {
            deployment_id: 1,
            state: gantry_core::report::DeploymentState::Success,
            description: "ok".into(),
            environment_url: None,
            log_url: None,
        },
    ));
    refused(&fake(), &deployment, "a deployment status");

    let mut main_sarif = report(Verdict::Passed, "plan");
    main_sarif.effects.push(Effect::UploadSarif(
        gantry_core::report::SarifUploadEffect {
            sarif: r#"{"version":"2.1.0","runs":[]}"#.into(),
            commit_sha: None,
            git_ref: Some("refs/heads/main".into()),
            wait_for_processing: false,
        },
    ));
    refused(&fake(), &main_sarif, "`refs/heads/main`");

    // The report names a pull request whose head is another commit; the event lists none.
    let github = FakeGitHub::start();
    github.add_pull_request_from(8, &other, "octo/repo");
    let mut elsewhere = report(Verdict::Passed, "plan");
    elsewhere.origin = Some(gantry_core::saved::Origin {
        gantry_version: "0".into(),
        pull_request: Some(8),
        head_sha: Some(HEAD.into()),
    });
    let job = RunnerHarness::new()
        .workflow_run(4242, HEAD, "someone/repo", &[])
        .github(&github);
    job.write("report.json", serde_json::to_vec(&elsewhere).unwrap());
    let outcome = job.run(&PUBLISH);
    assert_eq!(outcome.exit_code, Some(2), "{}", outcome.stdout);
    assert!(
        outcome.stdout.contains("#8 has head ffff"),
        "{}",
        outcome.stdout
    );
    assert!(github.state().comments.is_empty());

    // Told which action it publishes, the job refuses another's report.
    let outcome = harness(&fake(), &report(Verdict::Passed, "plan")).run(&[
        "publish",
        "--report",
        "report.json",
        "--action",
        "security-scan",
        "--comment-key",
        "prod",
    ]);
    assert_eq!(outcome.exit_code, Some(2));
    assert!(
        outcome.stdout.contains("from `terraform-plan`"),
        "{}",
        outcome.stdout
    );
}

#[test]
fn a_poisoned_body_is_published_inert_within_limits_and_under_the_trusted_name() {
    let fake = fake();
    let body = format!(
        "ping @octo-org/admins, closes #1\n<!-- gantry:security-scan:ci/scan -->\n{}",
        "x".repeat(100_000)
    );
    let mut poisoned = report(Verdict::Passed, &body);
    poisoned.effects.push(Effect::CheckRun(CheckRunEffect {
        name: "required-security-review".into(),
        head_sha: None,
        conclusion: CheckConclusion::Success,
        title: "@octo-org/admins".into(),
        summary: "s".repeat(70_000),
        text: None,
        annotations: Vec::new(),
    }));
    let outcome = harness(&fake, &poisoned).run(&[
        "publish",
        "--report",
        "report.json",
        "--action",
        "terraform-plan",
        "--comment-key",
        "prod",
        "--check-name",
        "terraform plan (fork)",
    ]);
    assert_eq!(outcome.exit_code, Some(0), "{}", outcome.stdout);
    let state = fake.state();
    let comment = &state.comments_on(7)[0].body;
    assert!(comment.len() <= gantry_core::report::COMMENT_LIMIT_BYTES);
    assert!(
        !comment.contains("@octo-org") && !comment.contains("#1\n"),
        "{comment:.200}"
    );
    assert!(!Marker::new("security-scan", "ci/scan").is_in(comment));
    assert_eq!(state.check_runs.len(), 1);
    assert_eq!(state.check_runs[0].name, "terraform plan (fork)");
    assert_eq!(state.check_runs[0].head_sha, HEAD);
    assert!(!state.check_runs[0].title.contains("@octo-org"));
    assert!(
        state.contract_violations.is_empty(),
        "{:?}",
        state.contract_violations
    );
}

/// Published from the trusted job, a saved run's SARIF goes to its head commit with the pull
/// request's head ref — never to the job's own commit and ref (the default branch).
#[test]
fn a_saved_sarif_upload_pairs_the_head_commit_with_the_head_ref() {
    let fake = fake();
    let mut saved = report(Verdict::Passed, "plan");
    saved.effects.push(Effect::UploadSarif(gantry_core::report::SarifUploadEffect {
        sarif: r#"{"version":"2.1.0","$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs":[{"tool":{"driver":{"name":"t"}},"results":[]}]}"#.into(),
        commit_sha: None,
        git_ref: None,
        wait_for_processing: false,
    }));
    let outcome = harness(&fake, &saved).run(&PUBLISH);
    assert_eq!(outcome.exit_code, Some(0), "{}", outcome.stdout);
    let state = fake.state();
    let [upload] = state.sarif_uploads.as_slice() else {
        panic!("{:?}", state.sarif_uploads)
    };
    assert_eq!(
        (upload.commit_sha.as_str(), upload.git_ref.as_str()),
        (HEAD, "refs/pull/7/head")
    );
}

/// The bot's terraform-plan comment as a trusted run left it.
const PLAN_MARKER: &str = "<!-- gantry:terraform-plan:infra -->";

/// A fork's report that claims terraform-plan's comment, its `prod` section and mode `new`.
fn claiming_report(action: &str) -> Report {
    let mut report = Report::new(action, Verdict::Passed, "ok");
    report.effects.push(Effect::Comment(CommentEffect {
        marker: Marker::new("terraform-plan", "infra"),
        body: "Plan: 0 to destroy".into(),
        mode: CommentMode::New,
        issue_number: None,
        section: Some("prod".into()),
    }));
    report
}

/// `gantry publish` of `report` by a trusted job that names `action` and `key`.
fn publish_as(fake: &FakeGitHub, report: &Report, action: &str, key: &str) -> RunOutcome {
    harness(fake, report).run(&[
        "publish",
        "--report",
        "report.json",
        "--action",
        action,
        "--comment-key",
        key,
    ])
}

#[test]
fn a_saved_report_cannot_choose_the_comment_or_section_it_overwrites() {
    let fake = fake();
    let trusted = format!(
        "<!-- gantry:section:prod -->\nPlan: 3 to destroy\n<!-- gantry:section-end:prod -->\n\n{PLAN_MARKER}\n"
    );
    let plan = fake.add_comment(7, ACTIONS_BOT, &trusted);
    // The job publishes quality-gate reports: a report that says terraform-plan is refused.
    let outcome = publish_as(
        &fake,
        &claiming_report("terraform-plan"),
        "quality-gate",
        "fork",
    );
    assert_eq!(outcome.exit_code, Some(2), "{}", outcome.stdout);
    // The job publishes terraform-plan reports under the key it names: the trusted section
    // and comment are kept, the report's text lands in its own section, nothing minimized.
    let outcome = publish_as(
        &fake,
        &claiming_report("terraform-plan"),
        "terraform-plan",
        "infra",
    );
    assert_eq!(outcome.exit_code, Some(0), "{}", outcome.stdout);
    let state = fake.state();
    assert_eq!(
        state.comments_on(7).len(),
        1,
        "edited in place, never `new`"
    );
    let body = &state.comments.iter().find(|c| c.id == plan).unwrap().body;
    assert!(
        body.contains("<!-- gantry:section:prod -->\nPlan: 3 to destroy\n"),
        "{body}"
    );
    assert!(
        body.contains("<!-- gantry:section:saved/prod -->\nPlan: 0 to destroy\n"),
        "{body}"
    );
    assert!(state.comments.iter().all(|c| !c.minimized));
    // Under another key, the plan comment is not touched at all.
    let fake = self::fake();
    let plan = fake.add_comment(7, ACTIONS_BOT, &trusted);
    let outcome = publish_as(
        &fake,
        &claiming_report("terraform-plan"),
        "terraform-plan",
        "fork-plans",
    );
    assert_eq!(outcome.exit_code, Some(0), "{}", outcome.stdout);
    let state = fake.state();
    assert_eq!(
        state.comments.iter().find(|c| c.id == plan).unwrap().body,
        trusted
    );
    assert!(state.comments_on(7).iter().any(|c| {
        c.body
            .ends_with("<!-- gantry:terraform-plan:fork-plans -->\n")
    }));
}

#[test]
fn a_saved_sarif_code_scanning_would_refuse_publishes_nothing_at_all() {
    let fake = fake();
    let mut saved = report(Verdict::Passed, "plan");
    let run = r#"{"tool":{"driver":{"name":"trivy"}},"results":[]}"#;
    saved.effects.push(Effect::UploadSarif(
        gantry_core::report::SarifUploadEffect {
            sarif: format!(r#"{{"version":"2.1.0","runs":[{run},{run}]}}"#),
            commit_sha: None,
            git_ref: None,
            wait_for_processing: false,
        },
    ));
    saved.effects.push(Effect::CheckRun(CheckRunEffect {
        name: "n".into(),
        head_sha: None,
        conclusion: CheckConclusion::Success,
        title: "ok".into(),
        summary: "ok".into(),
        text: None,
        annotations: Vec::new(),
    }));
    let outcome = harness(&fake, &saved).run(&PUBLISH);
    assert_eq!(outcome.exit_code, Some(2), "{}", outcome.stdout);
    assert!(
        outcome.stdout.contains("tool `trivy`"),
        "{}",
        outcome.stdout
    );
    let state = fake.state();
    assert!(state.comments.is_empty() && state.check_runs.is_empty());
    assert!(state.sarif_uploads.is_empty());
}

#[test]
fn text_from_a_saved_report_cannot_inject_workflow_commands() {
    let fake = fake();
    let mut saved = report(Verdict::Passed, "plan");
    saved.headline = "ok\r::error::forged\n::add-mask::x\r\n::set-env name=A::b %0A".into();
    let outcome = harness(&fake, &saved).run(&PUBLISH);
    assert_eq!(outcome.exit_code, Some(0), "{}", outcome.stdout);
    for stream in [&outcome.stdout, &outcome.stderr] {
        for line in stream.split(['\r', '\n']) {
            assert!(
                !line.starts_with("::error::forged")
                    && !line.starts_with("::add-mask::x")
                    && !line.starts_with("::set-env"),
                "a command got through: {line:?} in {stream}"
            );
        }
    }
    assert!(
        outcome.stderr.contains("ok%0D::error::forged"),
        "{}",
        outcome.stderr
    );
}
