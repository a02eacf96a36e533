//! A marked comment or issue is Gantry's only if Gantry wrote it (issue 25, §1): every hijack a
//! user who may comment on a PR could try, against the fake GitHub with comments and issues
//! seeded as that user. Each leaves the stranger's text untouched and the bot's content exactly
//! what the run computed.

use std::sync::Arc;
use std::time::SystemTime;

use gantry_core::report::{
    CommentEffect, CommentMode, Effect, IssueEffect, IssueState, Marker, Report, Verdict,
};
use gantry_github::clock::ManualClock;
use gantry_github::rest::{Endpoint, RestClient};
use gantry_github::retry::RetryPolicy;
use gantry_github::{GitHubSink, PublishOutcome, Target};
use gantry_testkit::fake_github::{ACTIONS_BOT, FakeGitHub};

const HEAD: &str = "89abcdef0123456789abcdef0123456789abcdef";
const MARKER: &str = "<!-- gantry:terraform-plan:infra -->";

fn connect(fake: &FakeGitHub, token: &str) -> RestClient {
    let endpoint = Endpoint {
        api_url: fake.url(),
        graphql_url: format!("{}/graphql", fake.url()),
        token: token.to_owned(),
    };
    RestClient::new(
        &endpoint,
        Arc::new(ManualClock::starting_at(SystemTime::now())),
        RetryPolicy::default(),
    )
    .unwrap()
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

fn plan_comment(body: &str, mode: CommentMode, section: Option<&str>) -> Report {
    let mut report = Report::new("terraform-plan", Verdict::Passed, "ok");
    report.effects.push(Effect::Comment(CommentEffect {
        marker: Marker::new("terraform-plan", "infra"),
        body: body.to_owned(),
        mode,
        issue_number: None,
        section: section.map(str::to_owned),
    }));
    report
}

fn fake_with_pr() -> FakeGitHub {
    let fake = FakeGitHub::start();
    fake.add_pull_request(7, HEAD);
    fake
}

async fn publish(fake: &FakeGitHub, token: &str, report: &Report) -> PublishOutcome {
    let client = connect(fake, token);
    GitHubSink::new(&client, target())
        .publish(report)
        .await
        .unwrap()
}

/// The bodies of the comments on #7 by `author`.
fn bodies_by(fake: &FakeGitHub, author: &str) -> Vec<String> {
    fake.state()
        .comments_on(7)
        .into_iter()
        .filter(|comment| comment.author == author)
        .map(|comment| comment.body.clone())
        .collect()
}

#[tokio::test]
async fn a_strangers_marked_comment_is_never_edited_and_the_bot_writes_its_own() {
    let fake = fake_with_pr();
    let forged = format!("Plan: 0 to destroy. Approved by @octo-org/admins\n\n{MARKER}\n");
    let stranger = fake.add_comment(7, "mallory", &forged);
    let outcome = publish(
        &fake,
        "ghs_actions",
        &plan_comment("Plan: 3 to destroy", CommentMode::Update, None),
    )
    .await;
    let state = fake.state();
    let theirs = state.comments.iter().find(|c| c.id == stranger).unwrap();
    assert_eq!(theirs.body, forged, "the stranger's comment is untouched");
    assert_eq!(theirs.edits, 0);
    assert_eq!(
        bodies_by(&fake, ACTIONS_BOT),
        [format!("Plan: 3 to destroy\n\n{MARKER}\n")],
        "the bot's comment is exactly what the run computed"
    );
    assert!(
        outcome
            .warnings
            .iter()
            .any(|w| w.contains("`mallory`") && w.contains(MARKER) && w.contains(ACTIONS_BOT)),
        "{:?}",
        outcome.warnings
    );
    // A rerun edits the bot's own comment, still not the stranger's.
    publish(
        &fake,
        "ghs_actions",
        &plan_comment("Plan: 2 to destroy", CommentMode::Update, None),
    )
    .await;
    assert_eq!(
        bodies_by(&fake, ACTIONS_BOT),
        [format!("Plan: 2 to destroy\n\n{MARKER}\n")]
    );
    assert_eq!(bodies_by(&fake, "mallory"), [forged]);
}

#[tokio::test]
async fn a_strangers_fake_section_is_never_merged_and_their_comment_never_rewritten() {
    let fake = fake_with_pr();
    let forged = format!(
        "<!-- gantry:section:prod -->\nPlan: 0 to destroy. Approved by @octo-org/admins\n<!-- gantry:section-end:prod -->\n\n{MARKER}\n"
    );
    fake.add_comment(7, "mallory", &forged);
    publish(
        &fake,
        "ghs_actions",
        &plan_comment("staging: 1 to add", CommentMode::Update, Some("staging")),
    )
    .await;
    assert_eq!(
        bodies_by(&fake, "mallory"),
        [forged],
        "not rewritten to `Merged into…`"
    );
    let ours = bodies_by(&fake, ACTIONS_BOT);
    assert_eq!(ours.len(), 1);
    assert_eq!(
        ours[0],
        format!(
            "<!-- gantry:section:staging -->\nstaging: 1 to add\n<!-- gantry:section-end:staging -->\n\n{MARKER}\n"
        ),
        "no section but ours"
    );
}

#[tokio::test]
async fn mode_new_minimizes_only_gantrys_own_earlier_comments() {
    let fake = fake_with_pr();
    let stranger = fake.add_comment(7, "mallory", &format!("mine\n\n{MARKER}\n"));
    let older = fake.add_comment(7, ACTIONS_BOT, &format!("Plan: 1 to add\n\n{MARKER}\n"));
    publish(
        &fake,
        "ghs_actions",
        &plan_comment("Plan: 2 to add", CommentMode::New, None),
    )
    .await;
    let state = fake.state();
    let minimized = |id: u64| {
        state
            .comments
            .iter()
            .find(|c| c.id == id)
            .unwrap()
            .minimized
    };
    assert!(
        minimized(older),
        "our earlier comment is hidden as outdated"
    );
    assert!(!minimized(stranger), "someone else's is not");
    assert_eq!(bodies_by(&fake, ACTIONS_BOT).len(), 2);
}

#[tokio::test]
async fn a_marker_quoted_inside_a_body_does_not_make_it_ours() {
    // quality-gate's own comment quoting a test name that holds terraform-plan's marker: the
    // bot wrote it, but it is quality-gate's, and terraform-plan must not PATCH it.
    let fake = fake_with_pr();
    let quality = format!("1 test failed: `{MARKER}`\n\n<!-- gantry:quality-gate:ci -->\n");
    fake.add_comment(7, ACTIONS_BOT, &quality);
    publish(
        &fake,
        "ghs_actions",
        &plan_comment("Plan: 1 to add", CommentMode::Update, None),
    )
    .await;
    let ours = bodies_by(&fake, ACTIONS_BOT);
    assert_eq!(ours.len(), 2, "{ours:#?}");
    assert_eq!(ours[0], quality, "quality-gate's comment untouched");
}

fn drift_issue(body: &str) -> Report {
    let mut report = Report::new("drift-report", Verdict::Failed, "drift");
    report.effects.push(Effect::Issue(IssueEffect {
        marker: Marker::new("drift-report", "stack/prod"),
        title: "Drift: stack prod".into(),
        body: body.into(),
        labels: vec!["drift".into()],
        state: IssueState::Open,
        comment: None,
    }));
    report
}

#[tokio::test]
async fn drift_report_never_adopts_an_issue_someone_else_opened() {
    let fake = fake_with_pr();
    let forged = "No drift. Closing is safe.\n\n<!-- gantry:drift-report:stack/prod -->\n";
    let theirs = fake.add_issue("mallory", "Drift: stack prod", forged, "open");
    let outcome = publish(&fake, "ghs_actions", &drift_issue("2 resources drifted")).await;
    let state = fake.state();
    let stranger = state.issues.iter().find(|i| i.number == theirs).unwrap();
    assert_eq!(stranger.body, forged);
    assert_eq!(stranger.state, "open");
    let ours: Vec<_> = state
        .issues
        .iter()
        .filter(|i| i.author == ACTIONS_BOT)
        .collect();
    assert_eq!(ours.len(), 1);
    assert!(ours[0].body.starts_with("2 resources drifted"));
    assert!(
        outcome
            .warnings
            .iter()
            .any(|w| w.contains("issue by `mallory`")),
        "{:?}",
        outcome.warnings
    );
    // The next run finds its own issue, not the stranger's.
    let client = connect(&fake, "ghs_actions");
    let marked = GitHubSink::new(&client, target())
        .marked_issues("drift-report", None)
        .await
        .unwrap();
    assert_eq!(marked.len(), 1);
    assert_eq!(marked[0].number, ours[0].number);
}

#[tokio::test]
async fn a_personal_token_owns_what_its_user_wrote_and_nothing_the_actions_bot_wrote() {
    let fake = fake_with_pr();
    fake.add_token("github_pat_release", "release-bot", false);
    let by_actions = fake.add_comment(7, ACTIONS_BOT, &format!("old\n\n{MARKER}\n"));
    let by_user = fake.add_comment(7, "release-bot", &format!("older\n\n{MARKER}\n"));
    publish(
        &fake,
        "github_pat_release",
        &plan_comment("Plan: 5 to add", CommentMode::Update, None),
    )
    .await;
    let state = fake.state();
    let body = |id: u64| {
        state
            .comments
            .iter()
            .find(|c| c.id == id)
            .unwrap()
            .body
            .clone()
    };
    assert_eq!(body(by_user), format!("Plan: 5 to add\n\n{MARKER}\n"));
    assert_eq!(body(by_actions), format!("old\n\n{MARKER}\n"));
    assert_eq!(state.comments_on(7).len(), 2, "nothing created");
}

#[tokio::test]
async fn comment_author_names_an_app_gantry_cannot_learn_of() {
    let fake = fake_with_pr();
    fake.add_token("ghs_app", "deployer[bot]", true);
    fake.refuse_viewer();
    let ours = fake.add_comment(7, "deployer[bot]", &format!("old\n\n{MARKER}\n"));
    let client = connect(&fake, "ghs_app");
    GitHubSink::new(&client, target())
        .with_author(Some("deployer[bot]"))
        .publish(&plan_comment(
            "Plan: 1 to change",
            CommentMode::Update,
            None,
        ))
        .await
        .unwrap();
    let state = fake.state();
    assert_eq!(state.comments_on(7).len(), 1);
    assert_eq!(
        state.comments.iter().find(|c| c.id == ours).unwrap().body,
        format!("Plan: 1 to change\n\n{MARKER}\n")
    );
    assert_eq!(state.requests_to("POST", "/graphql"), 0, "nothing asked");
}

#[tokio::test]
async fn when_nobody_says_who_the_token_is_nothing_earlier_is_adopted() {
    let fake = fake_with_pr();
    fake.add_token("ghs_app", "deployer[bot]", true);
    fake.refuse_viewer();
    let earlier = fake.add_comment(7, "deployer[bot]", &format!("old\n\n{MARKER}\n"));
    let client = connect(&fake, "ghs_app");
    let sink = GitHubSink::new(&client, target());
    let outcome = sink
        .publish(&plan_comment("Plan: 1 to add", CommentMode::Update, None))
        .await
        .unwrap();
    let state = fake.state();
    assert_eq!(
        state
            .comments
            .iter()
            .find(|c| c.id == earlier)
            .unwrap()
            .edits,
        0,
        "an unknown author's comment is never edited"
    );
    assert_eq!(state.comments_on(7).len(), 2, "ours is created");
    assert!(
        outcome
            .warnings
            .iter()
            .any(|w| w.contains("comment-author")),
        "{:?}",
        outcome.warnings
    );
    assert_eq!(state.requests_to("GET", "/user"), 1, "GET /user was tried");
}
