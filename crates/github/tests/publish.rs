//! The GitHub edge against the testkit's fake GitHub: reruns, faults, limits, pagination.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use gantry_core::report::{
    Annotation, CheckConclusion, CheckRunEffect, CommentEffect, CommentMode, DeploymentState,
    DeploymentStatusEffect, Effect, IssueEffect, IssueState, Marker, Report, SarifUploadEffect,
    Verdict,
};
use gantry_core::runner::{AnnotationLevel, AnnotationPlace};
use gantry_github::clock::ManualClock;
use gantry_github::rest::{Endpoint, RestClient};
use gantry_github::retry::RetryPolicy;
use gantry_github::{GitHubError, GitHubSink, Target};
use gantry_testkit::fake_github::{FakeGitHub, Fault, FaultKind};

const HEAD: &str = "89abcdef0123456789abcdef0123456789abcdef";

fn connect(fake: &FakeGitHub, api_path: &str) -> (RestClient, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::starting_at(SystemTime::now()));
    let endpoint = Endpoint {
        api_url: format!("{}{api_path}", fake.url()),
        // GHES serves GraphQL at `/api/graphql` beside the REST API's `/api/v3`.
        graphql_url: if api_path.is_empty() {
            format!("{}/graphql", fake.url())
        } else {
            format!("{}/api/graphql", fake.url())
        },
        token: "ghs_test".to_owned(),
    };
    let client = RestClient::new(&endpoint, clock.clone(), RetryPolicy::default()).unwrap();
    (client, clock)
}

fn target() -> Target {
    Target {
        owner: "octo".into(),
        repository: "repo".into(),
        pull_request: Some(7),
        head_sha: Some(HEAD.into()),
        sha: Some(HEAD.into()),
        git_ref: Some("refs/pull/7/merge".into()),
        run_key: "1001-1".into(),
    }
}

fn comment_report(body: &str, mode: CommentMode) -> Report {
    let mut report = Report::new("terraform-plan", Verdict::Passed, "ok");
    report.effects.push(Effect::Comment(CommentEffect {
        marker: Marker::new("terraform-plan", "prod"),
        body: body.to_owned(),
        mode,
        issue_number: None,
        section: None,
    }));
    report
}

fn fake_with_pr() -> FakeGitHub {
    let fake = FakeGitHub::start();
    fake.add_pull_request(7, HEAD);
    fake
}

fn ours(fake: &FakeGitHub) -> Vec<String> {
    fake.state()
        .comments_on(7)
        .into_iter()
        .filter(|comment| comment.body.contains("<!-- gantry:terraform-plan:prod -->"))
        .map(|comment| comment.body.clone())
        .collect()
}

#[tokio::test]
async fn a_rerun_edits_the_one_sticky_comment_past_pages_of_other_comments() {
    let fake = fake_with_pr();
    for n in 0..120 {
        fake.add_comment(7, "someone", &format!("chatter {n}"));
    }
    let (client, _) = connect(&fake, "");
    let sink = GitHubSink::new(&client, target());
    let first = sink
        .publish(&comment_report("plan one", CommentMode::Update))
        .await
        .unwrap();
    sink.publish(&comment_report("plan two", CommentMode::Update))
        .await
        .unwrap();
    sink.publish(&comment_report("plan two", CommentMode::Update))
        .await
        .unwrap();
    let state = fake.state();
    let bodies = ours(&fake);
    assert_eq!(bodies.len(), 1, "exactly one sticky comment");
    assert!(bodies[0].starts_with("plan two"));
    assert_eq!(state.requests_to("POST", "/comments"), 1);
    assert_eq!(
        state.requests_to("PATCH", "/issues/comments/"),
        1,
        "identical body is not re-sent"
    );
    assert!(first.comment_url().unwrap().contains("#issuecomment-"));
    assert!(
        state.requests.iter().any(|r| r.query.contains("page=2")),
        "listing followed the Link header"
    );
    assert!(
        state.contract_violations.is_empty(),
        "{:?}",
        state.contract_violations
    );
    assert!(
        state
            .requests
            .iter()
            .all(|r| r.authorization.as_deref() == Some("Bearer ghs_test"))
    );
}

#[tokio::test]
async fn a_502_or_a_lost_response_on_the_first_post_still_ends_with_one_comment() {
    for kind in [
        FaultKind::ServerError {
            status: 502,
            after_write: true,
        },
        FaultKind::ServerError {
            status: 502,
            after_write: false,
        },
        FaultKind::LoseResponse,
    ] {
        let fake = fake_with_pr();
        fake.inject(Fault::new("POST", "/issues/7/comments", kind.clone(), 1));
        let (client, _) = connect(&fake, "");
        let sink = GitHubSink::new(&client, target());
        sink.publish(&comment_report("plan", CommentMode::Update))
            .await
            .unwrap();
        assert_eq!(ours(&fake).len(), 1, "{kind:?}");
        let state = fake.state();
        assert!(
            state.requests_to("GET", "/issues/7/comments") >= 2,
            "{kind:?}: looked before writing again"
        );
    }
}

#[tokio::test]
async fn rate_limits_are_waited_out_for_as_long_as_github_asks() {
    let fake = fake_with_pr();
    fake.inject(Fault::new(
        "POST",
        "/comments",
        FaultKind::TooManyRequests {
            retry_after: Some(7),
        },
        1,
    ));
    fake.inject(Fault::new(
        "GET",
        "/comments",
        FaultKind::SecondaryRateLimit {
            retry_after: Some(3),
        },
        1,
    ));
    let (client, clock) = connect(&fake, "");
    GitHubSink::new(&client, target())
        .publish(&comment_report("plan", CommentMode::Update))
        .await
        .unwrap();
    assert_eq!(
        clock.waits(),
        [Duration::from_secs(3), Duration::from_secs(7)]
    );
    assert_eq!(ours(&fake).len(), 1);

    let fake = fake_with_pr();
    fake.inject(Fault::new(
        "GET",
        "/comments",
        FaultKind::PrimaryRateLimit { reset_in: 30 },
        1,
    ));
    fake.inject(Fault::new(
        "GET",
        "/comments",
        FaultKind::SecondaryRateLimit { retry_after: None },
        1,
    ));
    let (client, clock) = connect(&fake, "");
    GitHubSink::new(&client, target())
        .publish(&comment_report("plan", CommentMode::Update))
        .await
        .unwrap();
    let waits = clock.waits();
    assert!(
        (29..=32).contains(&waits[0].as_secs()),
        "until the reset: {waits:?}"
    );
    assert_eq!(
        waits[1],
        Duration::from_secs(60),
        "a minute when GitHub gives no time"
    );
}

#[tokio::test]
async fn a_reset_too_far_away_fails_instead_of_hanging() {
    let fake = fake_with_pr();
    fake.inject(Fault::new(
        "GET",
        "/comments",
        FaultKind::PrimaryRateLimit { reset_in: 3_600 },
        1,
    ));
    let (client, clock) = connect(&fake, "");
    let error = GitHubSink::new(&client, target())
        .publish(&comment_report("plan", CommentMode::Update))
        .await
        .unwrap_err();
    assert!(matches!(error, GitHubError::RateLimited { .. }), "{error}");
    assert!(clock.waits().is_empty());
}

#[tokio::test]
async fn reads_are_retried_with_backoff_and_give_up_in_bounded_time() {
    let fake = fake_with_pr();
    fake.inject(Fault::new(
        "GET",
        "/comments",
        FaultKind::ServerError {
            status: 503,
            after_write: false,
        },
        2,
    ));
    let (client, clock) = connect(&fake, "");
    GitHubSink::new(&client, target())
        .publish(&comment_report("plan", CommentMode::Update))
        .await
        .unwrap();
    let waits = clock.waits();
    assert_eq!(waits.len(), 2);
    assert!(
        waits[0] >= Duration::from_millis(500) && waits[0] <= Duration::from_secs(1),
        "{waits:?}"
    );
    assert!(
        waits[1] >= Duration::from_secs(1) && waits[1] <= Duration::from_secs(2),
        "{waits:?}"
    );

    let fake = fake_with_pr();
    fake.inject(Fault::new(
        "GET",
        "/comments",
        FaultKind::ServerError {
            status: 500,
            after_write: false,
        },
        100,
    ));
    let (client, clock) = connect(&fake, "");
    let error = GitHubSink::new(&client, target())
        .publish(&comment_report("plan", CommentMode::Update))
        .await
        .unwrap_err();
    assert!(
        matches!(error, GitHubError::Unavailable { attempts: 5, .. }),
        "{error}"
    );
    assert_eq!(clock.waits().len(), 4);
    assert!(ours(&fake).is_empty(), "nothing was written");
}

#[tokio::test]
async fn a_read_only_token_stops_publishing_without_failing() {
    let fake = fake_with_pr();
    fake.inject(Fault::new("POST", "/", FaultKind::ReadOnlyToken, 10));
    let (client, _) = connect(&fake, "");
    let outcome = GitHubSink::new(&client, target())
        .publish(&comment_report("plan", CommentMode::Update))
        .await
        .unwrap();
    let message = outcome.read_only.unwrap();
    assert!(
        message.contains("Resource not accessible by integration"),
        "{message}"
    );
    assert!(ours(&fake).is_empty());
}

#[tokio::test]
async fn new_mode_posts_again_and_minimizes_the_old_comment() {
    let fake = fake_with_pr();
    let (client, _) = connect(&fake, "");
    let sink = GitHubSink::new(&client, target());
    sink.publish(&comment_report("first", CommentMode::New))
        .await
        .unwrap();
    sink.publish(&comment_report("second", CommentMode::New))
        .await
        .unwrap();
    let state = fake.state();
    let comments = state.comments_on(7);
    assert_eq!(comments.len(), 2);
    assert!(comments[0].minimized && !comments[1].minimized);
    assert!(comments[1].body.starts_with("second"));
}

#[tokio::test]
async fn an_oversized_comment_is_cut_to_the_limit_before_sending() {
    let fake = fake_with_pr();
    let (client, _) = connect(&fake, "");
    let body = "é long line of plan output\n".repeat(4_000);
    GitHubSink::new(&client, target())
        .publish(&comment_report(&body, CommentMode::Update))
        .await
        .unwrap();
    let state = fake.state();
    let posted = &state.comments_on(7)[0].body;
    assert!(posted.len() <= 65_536, "{}", posted.len());
    assert!(posted.contains("cut to fit GitHub's limit"));
    assert_eq!(state.requests.iter().filter(|r| r.status == 422).count(), 0);
}

fn annotation(n: u32) -> Annotation {
    Annotation {
        level: if n % 2 == 0 {
            AnnotationLevel::Error
        } else {
            AnnotationLevel::Warning
        },
        place: AnnotationPlace {
            file: Some(format!("src/file{n}.rs")),
            line: Some(n),
            end_line: Some(n),
            column: Some(2),
            end_column: Some(5),
            title: Some(format!("rule {n}")),
        },
        message: format!("problem {n}"),
    }
}

fn check_run_report(count: u32) -> Report {
    let mut report = Report::new("quality-gate", Verdict::Failed, "3 failed");
    report.effects.push(Effect::CheckRun(CheckRunEffect {
        name: "quality gate".into(),
        head_sha: None,
        conclusion: CheckConclusion::Failure,
        title: "3 failed".into(),
        summary: "## Failed".into(),
        text: Some("details".into()),
        annotations: (1..=count).map(annotation).collect(),
    }));
    report
}

#[tokio::test]
async fn check_runs_carry_every_annotation_fifty_at_a_time() {
    let fake = fake_with_pr();
    let (client, _) = connect(&fake, "");
    GitHubSink::new(&client, target())
        .publish(&check_run_report(120))
        .await
        .unwrap();
    let state = fake.state();
    assert_eq!(state.check_runs.len(), 1);
    let run = &state.check_runs[0];
    assert_eq!(run.annotations.len(), 120);
    assert_eq!(run.head_sha, HEAD);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(state.requests_to("POST", "/check-runs"), 1);
    assert_eq!(state.requests_to("PATCH", "/check-runs/"), 2);
    assert!(
        state.contract_violations.is_empty(),
        "{:?}",
        state.contract_violations
    );
}

#[tokio::test]
async fn a_lost_check_run_response_or_batch_is_not_duplicated() {
    let fake = fake_with_pr();
    fake.inject(Fault::new(
        "POST",
        "/check-runs",
        FaultKind::LoseResponse,
        1,
    ));
    fake.inject(Fault::new(
        "PATCH",
        "/check-runs/",
        FaultKind::ServerError {
            status: 502,
            after_write: true,
        },
        1,
    ));
    fake.inject(Fault::new(
        "PATCH",
        "/check-runs/",
        FaultKind::ServerError {
            status: 502,
            after_write: false,
        },
        1,
    ));
    let (client, _) = connect(&fake, "");
    GitHubSink::new(&client, target())
        .publish(&check_run_report(160))
        .await
        .unwrap();
    let state = fake.state();
    assert_eq!(state.check_runs.len(), 1);
    assert_eq!(
        state.check_runs[0].annotations.len(),
        160,
        "no batch lost or doubled"
    );
}

#[tokio::test]
async fn issues_open_update_close_and_reopen_by_marker() {
    let fake = fake_with_pr();
    fake.add_issue("octocat", "unrelated", "no marker here", "open");
    let (client, _) = connect(&fake, "");
    let sink = GitHubSink::new(&client, target());
    let issue = |body: &str, state: IssueState| {
        let mut report = Report::new("drift-report", Verdict::Failed, "drift");
        report.effects.push(Effect::Issue(IssueEffect {
            marker: Marker::new("drift-report", "prod"),
            title: "Drift in prod".into(),
            body: body.into(),
            labels: vec!["drift".into()],
            state,
            comment: None,
        }));
        report
    };
    sink.publish(&issue("nothing yet", IssueState::Closed))
        .await
        .unwrap();
    assert_eq!(
        fake.state().issues.len(),
        2,
        "closing a missing issue creates nothing"
    );
    sink.publish(&issue("3 resources drifted", IssueState::Open))
        .await
        .unwrap();
    sink.publish(&issue("4 resources drifted", IssueState::Open))
        .await
        .unwrap();
    let ours = |fake: &FakeGitHub| {
        fake.state()
            .issues
            .into_iter()
            .filter(|i| i.body.contains("<!-- gantry:drift-report:prod -->"))
            .collect::<Vec<_>>()
    };
    let open = ours(&fake);
    assert_eq!(open.len(), 1);
    assert!(open[0].body.starts_with("4 resources") && open[0].state == "open");
    assert_eq!(open[0].labels, ["drift"]);
    sink.publish(&issue("no drift", IssueState::Closed))
        .await
        .unwrap();
    assert_eq!(ours(&fake)[0].state, "closed");
    fake.inject(Fault::new(
        "PATCH",
        "/issues/",
        FaultKind::ServerError {
            status: 502,
            after_write: false,
        },
        1,
    ));
    sink.publish(&issue("drift again", IssueState::Open))
        .await
        .unwrap();
    let reopened = ours(&fake);
    assert_eq!(reopened.len(), 1, "reopened, not duplicated");
    assert_eq!(reopened[0].state, "open");
    assert!(fake.state().contract_violations.is_empty());
}

fn sarif_report(sarif: String) -> Report {
    let mut report = Report::new("security-scan", Verdict::Passed, "ok");
    report.effects.push(Effect::UploadSarif(SarifUploadEffect {
        sarif,
        commit_sha: None,
        git_ref: None,
        wait_for_processing: true,
    }));
    report
}

#[tokio::test]
async fn sarif_is_gzipped_uploaded_and_polled_until_processed() {
    let fake = fake_with_pr();
    let (client, clock) = connect(&fake, "");
    let sarif =
        r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"bandit"}},"results":[]}]}"#;
    let outcome = GitHubSink::new(&client, target())
        .publish(&sarif_report(sarif.into()))
        .await
        .unwrap();
    assert!(outcome.published[0].description.contains("processed"));
    let state = fake.state();
    assert_eq!(state.sarif_uploads.len(), 1);
    assert_eq!(
        state.sarif_uploads[0].sarif["runs"][0]["tool"]["driver"]["name"],
        "bandit"
    );
    assert_eq!(state.sarif_uploads[0].git_ref, "refs/pull/7/merge");
    assert_eq!(clock.waits(), [Duration::from_secs(2)], "one pending poll");

    let twice = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t"}}},{"tool":{"driver":{"name":"t"}}}]}"#;
    let error = GitHubSink::new(&client, target())
        .publish(&sarif_report(twice.into()))
        .await
        .unwrap_err();
    // Refused before it is sent (code scanning would refuse it while processing, after the
    // comment and the check run went out).
    assert!(
        matches!(&error, GitHubError::SarifRefused { problems } if problems.contains("second run of tool `t`")),
        "{error}"
    );
    assert_eq!(fake.state().sarif_uploads.len(), 1, "nothing more uploaded");
}

#[tokio::test]
async fn sarif_over_ten_megabytes_gzipped_is_refused_before_sending() {
    let fake = fake_with_pr();
    let (client, _) = connect(&fake, "");
    // Nearly incompressible: 16 M pseudo-random characters of 6 bits each, 12 MB gzipped.
    let mut state = 0x1234_5678_u64;
    let noise: String = (0..16_000_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                    [(state & 63) as usize],
            )
        })
        .collect();
    let error = GitHubSink::new(&client, target())
        .publish(&sarif_report(format!(
            "{{\"version\":\"2.1.0\",\"runs\":[],\"x\":\"{noise}\"}}"
        )))
        .await
        .unwrap_err();
    assert!(matches!(error, GitHubError::TooLarge { .. }), "{error}");
    assert!(fake.state().requests.is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_lost_deployment_status_is_not_posted_twice() {
    let fake = fake_with_pr();
    fake.inject(Fault::new("POST", "/statuses", FaultKind::LoseResponse, 1));
    let (client, _) = connect(&fake, "");
    let mut report = Report::new("helm-deploy", Verdict::Passed, "deployed");
    report
        .effects
        .push(Effect::DeploymentStatus(DeploymentStatusEffect {
            deployment_id: 42,
            state: DeploymentState::Success,
            description: "rolled out 3/3 pods".into(),
            environment_url: Some("https://staging.example.com".into()),
            log_url: None,
        }));
    GitHubSink::new(&client, target())
        .publish(&report)
        .await
        .unwrap();
    let state = fake.state();
    assert_eq!(state.deployment_statuses.len(), 1);
    assert_eq!(state.deployment_statuses[0].state, "success");
}

#[tokio::test]
async fn github_enterprise_server_paths_work_by_the_api_url_alone() {
    let fake = fake_with_pr();
    let (client, _) = connect(&fake, "/api/v3");
    GitHubSink::new(&client, target())
        .publish(&comment_report("plan", CommentMode::Update))
        .await
        .unwrap();
    assert_eq!(ours(&fake).len(), 1);
    assert!(
        fake.state()
            .requests
            .iter()
            .all(|r| r.path.starts_with("/api/v3/repos/octo/repo/") || r.path == "/api/graphql"),
        "{:?}",
        fake.state().requests
    );
}

#[tokio::test]
async fn the_fake_rejects_a_body_the_contract_rejects() {
    let fake = fake_with_pr();
    let (client, _) = connect(&fake, "");
    let invalid = serde_json::json!({"name": "gate", "head_sha": HEAD, "conclusion": "passed"});
    let error = client
        .send(
            http::Method::POST,
            "/repos/octo/repo/check-runs",
            Some(&invalid),
            "create the check run",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, GitHubError::Rejected { status: 422, .. }),
        "{error}"
    );
    let violations = fake.state().contract_violations;
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].contains("$.conclusion"), "{violations:?}");
}

fn section_report(stack: &str, body: &str) -> Report {
    let mut report = Report::new("terraform-plan", Verdict::Passed, "ok");
    report.effects.push(Effect::Comment(CommentEffect {
        marker: Marker::new("terraform-plan", "shared"),
        body: body.to_owned(),
        mode: CommentMode::Update,
        issue_number: None,
        section: Some(stack.to_owned()),
    }));
    report
}

#[tokio::test]
async fn matrix_jobs_sharing_a_key_land_in_one_comment_even_when_they_race() {
    let fake = fake_with_pr();
    let (client_a, _) = connect(&fake, "");
    let (client_b, _) = connect(&fake, "");
    let (client_c, _) = connect(&fake, "");
    let (a, b, c) = (
        GitHubSink::new(&client_a, target()),
        GitHubSink::new(&client_b, target()),
        GitHubSink::new(&client_c, target()),
    );
    let reports = [
        section_report("aws", "aws: 1 to add"),
        section_report("gcp", "gcp: 2 to add"),
        section_report("azure", "azure: 3 to add"),
    ];
    let (ra, rb, rc) = tokio::join!(
        a.publish(&reports[0]),
        b.publish(&reports[1]),
        c.publish(&reports[2])
    );
    ra.unwrap();
    rb.unwrap();
    rc.unwrap();
    let state = fake.state();
    let marked: Vec<&str> = state
        .comments_on(7)
        .into_iter()
        .map(|comment| comment.body.as_str())
        .filter(|body| body.contains("<!-- gantry:terraform-plan:shared -->"))
        .collect();
    assert_eq!(marked.len(), 1, "{marked:#?}");
    for section in ["aws: 1 to add", "gcp: 2 to add", "azure: 3 to add"] {
        assert!(
            marked[0].contains(section),
            "{section} missing:\n{}",
            marked[0]
        );
    }
    assert!(
        marked[0].find("aws:").unwrap() < marked[0].find("azure:").unwrap(),
        "ordered by stack"
    );

    // A rerun of one job replaces only its own section.
    GitHubSink::new(&client_b, target())
        .publish(&section_report("gcp", "gcp: 0 to add"))
        .await
        .unwrap();
    let body = fake
        .state()
        .comments_on(7)
        .into_iter()
        .find(|c| c.body.contains("<!-- gantry:terraform-plan:shared -->"))
        .unwrap()
        .body
        .clone();
    assert!(
        body.contains("gcp: 0 to add")
            && !body.contains("gcp: 2 to add")
            && body.contains("aws: 1 to add")
    );
}

#[tokio::test]
async fn a_pull_requests_files_are_listed_over_every_page() {
    let fake = fake_with_pr();
    let files: Vec<String> = (0..250)
        .map(|index| format!("src/file_{index:03}.rs"))
        .collect();
    fake.set_pull_files(7, &files.iter().map(String::as_str).collect::<Vec<_>>());
    let (client, _) = connect(&fake, "");
    let listed = client.pull_request_files("octo", "repo", 7).await.unwrap();
    assert_eq!(listed, files);
    assert_eq!(
        fake.state().requests_to("GET", "/pulls/7/files"),
        3,
        "100 a page"
    );
    assert!(
        client
            .pull_request_files("octo", "repo", 8)
            .await
            .unwrap()
            .is_empty()
    );
}
