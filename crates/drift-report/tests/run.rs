//! The action's whole run: issues with first and last seen, closing and reopening words, the
//! size GitHub allows, untrusted values that try to pose as a marker, sensitive values, and
//! what it refuses.

use std::collections::BTreeMap;

use gantry_core::report::{COMMENT_LIMIT_BYTES, Effect, IssueEffect, IssueState};
use gantry_core::runner::Inputs;
use gantry_drift_report::{Options, Previous, StackSource, previous_from, run};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn options(now: &str) -> Options {
    Options::from_inputs(
        &Inputs::default(),
        now.to_owned(),
        Some("https://github.com/o/r/actions/runs/9".to_owned()),
    )
    .unwrap()
}

fn issues(report: &gantry_core::report::Report) -> Vec<&IssueEffect> {
    report
        .effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Issue(issue) => Some(issue),
            _ => None,
        })
        .collect()
}

fn one_stack(
    bytes: &[u8],
    previous: &BTreeMap<String, Previous>,
    now: &str,
) -> gantry_core::report::Report {
    let source = StackSource {
        name: "shop".to_owned(),
        file: "infra/shop/plan.json".to_owned(),
        bytes,
    };
    run(&options(now), &[source], &[], previous).unwrap()
}

fn previous(first: &str, last: &str, open: bool) -> BTreeMap<String, Previous> {
    BTreeMap::from([(
        "stack/shop".to_owned(),
        Previous {
            first_seen: Some(first.to_owned()),
            last_seen: Some(last.to_owned()),
            open,
        },
    )])
}

#[test]
fn first_seen_lasts_while_the_issue_is_open_and_starts_again_when_it_returns() {
    let drifted = fixture("aws-drifted.json");
    let fresh = one_stack(&drifted, &BTreeMap::new(), "2026-12-04T06:00:00Z");
    let issue = issues(&fresh)[0];
    assert_eq!(issue.state, IssueState::Open);
    // Said only if the edge finds the issue closed and reopens it.
    assert!(
        issue
            .comment
            .as_deref()
            .unwrap()
            .starts_with("Drift is back in stack `shop`")
    );
    let seen = previous_from(&issue.body, true);
    assert_eq!(seen.first_seen.as_deref(), Some("2026-12-04T06:00:00Z"));

    let lasting = one_stack(
        &drifted,
        &previous("2026-12-01T06:00:00Z", "2026-12-03T06:00:00Z", true),
        "2026-12-04T06:00:00Z",
    );
    let seen = previous_from(&issues(&lasting)[0].body, true);
    assert_eq!(seen.first_seen.as_deref(), Some("2026-12-01T06:00:00Z"));
    assert_eq!(seen.last_seen.as_deref(), Some("2026-12-04T06:00:00Z"));

    let back = one_stack(
        &drifted,
        &previous("2026-12-01T06:00:00Z", "2026-12-02T06:00:00Z", false),
        "2026-12-04T06:00:00Z",
    );
    let issue = issues(&back)[0];
    assert_eq!(
        previous_from(&issue.body, true).first_seen.as_deref(),
        Some("2026-12-04T06:00:00Z")
    );
    assert!(
        issue
            .comment
            .as_deref()
            .unwrap()
            .starts_with("Drift is back in stack `shop`")
    );

    let clean = fixture("aws-after-apply.json");
    let closing = one_stack(
        &clean,
        &previous("2026-12-01T06:00:00Z", "2026-12-03T06:00:00Z", true),
        "2026-12-04T06:00:00Z",
    );
    let issue = issues(&closing)[0];
    assert_eq!(issue.state, IssueState::Closed);
    let comment = issue.comment.as_deref().unwrap();
    assert!(
        comment.contains("`2026-12-04T06:00:00Z`: closing"),
        "{comment}"
    );
    assert!(
        comment.contains("first seen `2026-12-01T06:00:00Z` and last seen `2026-12-03T06:00:00Z`"),
        "{comment}"
    );
    // Nothing known of the last drift: the comment says only what it knows.
    let unknown = one_stack(&clean, &BTreeMap::new(), "2026-12-05T06:00:00Z");
    assert_eq!(
        issues(&unknown)[0].comment.as_deref(),
        Some("No drift in stack `shop` as of `2026-12-05T06:00:00Z`: closing.")
    );
    assert_eq!(unknown.outputs.value("drifted"), Some("false"));
}

#[test]
fn a_value_cannot_pose_as_a_marker_or_break_the_table() {
    let text = String::from_utf8(fixture("aws-drifted.json")).unwrap();
    let hostile = "ops | x <!-- gantry:drift-report:stack/other --> <!-- gantry drift-report seen: 1999-01-01T00:00:00Z 1999-01-01T00:00:00Z --> @admin";
    let needle = "\"team\":\"ops\"";
    assert!(text.contains(needle));
    let patched = text.replace(
        needle,
        &format!("\"team\":{}", serde_json::Value::from(hostile)),
    );
    let report = one_stack(patched.as_bytes(), &BTreeMap::new(), "2026-12-04T06:00:00Z");
    let issue = issues(&report)[0];
    let body = issue.body_with_marker();
    assert!(
        !body.contains("<!-- gantry:drift-report:stack/other"),
        "{body}"
    );
    assert_eq!(
        previous_from(&body, true).first_seen.as_deref(),
        Some("2026-12-04T06:00:00Z")
    );
    let team = body
        .lines()
        .find(|line| line.contains("`tags.team`"))
        .unwrap();
    assert_eq!(
        team.matches('|').count() - team.matches("\\|").count(),
        5,
        "four cells: {team}"
    );
    assert!(
        !report.summary.contains("<!-- gantry:"),
        "{}",
        report.summary
    );
}

#[test]
fn sensitive_values_are_masked_where_terraform_marks_them() {
    let mut plan: serde_json::Value = serde_json::from_slice(&fixture("aws-drifted.json")).unwrap();
    let entries = plan["resource_drift"].as_array_mut().unwrap();
    let web = entries
        .iter_mut()
        .find(|entry| entry["address"] == "aws_instance.web")
        .unwrap();
    web["change"]["before_sensitive"]["tags"] = serde_json::json!({"team": true});
    web["change"]["after_sensitive"]["tags"] = serde_json::json!({"team": true});
    web["change"]["before"]["tags"]["team"] = serde_json::json!("shop-secret-before");
    web["change"]["after"]["tags"]["team"] = serde_json::json!("ops-secret-after");
    web["change"]["after"]["tags_all"]["team"] = serde_json::json!("ops-secret-after");
    let bytes = plan.to_string().into_bytes();
    let report = one_stack(&bytes, &BTreeMap::new(), "2026-12-04T06:00:00Z");
    let body = &issues(&report)[0].body;
    for secret in ["shop-secret-before", "ops-secret-after"] {
        assert!(
            !body.contains(secret) && !report.summary.contains(secret),
            "{secret} leaked"
        );
        assert!(
            !report
                .annotations
                .iter()
                .any(|a| a.message.contains(secret))
        );
    }
    assert!(
        body.contains("| ~ | `tags.team` | `(sensitive)` | `(sensitive)` |"),
        "{body}"
    );
}

#[test]
fn five_thousand_drifted_resources_fit_github_and_keep_their_seen_line() {
    let plan = gantry_testkit::terraform::synthetic_drift_plan(5_000, 5_000);
    let report = one_stack(plan.as_bytes(), &BTreeMap::new(), "2026-12-04T06:00:00Z");
    assert_eq!(report.outputs.value("resources-drifted"), Some("5000"));
    let issue = issues(&report)[0];
    let body = issue.body_with_marker();
    assert!(body.len() <= COMMENT_LIMIT_BYTES, "{} bytes", body.len());
    assert!(body.contains("more, not shown here for GitHub's size limit"));
    assert_eq!(
        previous_from(&body, true).first_seen.as_deref(),
        Some("2026-12-04T06:00:00Z")
    );
    assert!(report.summary.len() <= gantry_core::runner::STEP_SUMMARY_LIMIT);
    assert!(!body.contains(gantry_testkit::terraform::SYNTHETIC_SECRET));
}

#[test]
fn fifty_real_drifts_among_five_thousand_noisy_entries() {
    let plan = gantry_testkit::terraform::synthetic_drift_plan(5_000, 50);
    let report = one_stack(plan.as_bytes(), &BTreeMap::new(), "2026-12-04T06:00:00Z");
    assert_eq!(report.outputs.value("resources-drifted"), Some("50"));
    let body = &issues(&report)[0].body;
    assert_eq!(
        body.matches("| ~ | `instance_type` | `\"t3.micro\"` | `\"t3.xlarge\"` |")
            .count(),
        45
    );
    assert_eq!(body.matches("`aws_instance` |").count(), 5, "five deleted");
    assert!(
        !body.contains("tags_all"),
        "tags_all null → {{}} is not drift"
    );
}

#[test]
fn names_that_would_share_an_issue_and_empty_runs_are_refused() {
    let bytes = fixture("aws-drifted.json");
    let source = |name: &str| StackSource {
        name: name.to_owned(),
        file: format!("{name}/plan.json"),
        bytes: &bytes,
    };
    let error = run(
        &options("2026-12-04T06:00:00Z"),
        &[source("a b"), source("a-b")],
        &[],
        &BTreeMap::new(),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("would share one issue"),
        "{error}"
    );
    let error = run(&options("2026-12-04T06:00:00Z"), &[], &[], &BTreeMap::new()).unwrap_err();
    assert!(error.to_string().contains("nothing to check"), "{error}");
}

#[test]
fn an_ordinary_plan_is_read_for_its_drift_only() {
    let mut plan: serde_json::Value = serde_json::from_slice(&fixture("aws-drifted.json")).unwrap();
    plan["resource_changes"] = serde_json::json!([{
        "address": "aws_instance.web", "mode": "managed", "type": "aws_instance", "name": "web",
        "change": {"actions": ["update"], "before": {"instance_type": "t3.micro"}, "after": {"instance_type": "t3.large"}}
    }]);
    let bytes = plan.to_string().into_bytes();
    let report = one_stack(&bytes, &BTreeMap::new(), "2026-12-04T06:00:00Z");
    assert_eq!(
        report.outputs.value("resources-drifted"),
        Some("4"),
        "the planned change is not drift"
    );
    assert!(
        report.summary.contains("an ordinary plan"),
        "{}",
        report.summary
    );
    assert!(!report.summary.contains("t3.large"));
}

#[test]
fn damaged_plans_and_manifests_are_refused_by_name_or_read_never_a_panic() {
    let mut random = gantry_testkit::random::Seeded(13);
    let plan = fixture("aws-drifted.json");
    let manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: cart\n  labels: {app: cart}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: cart\n        image: shop/cart:1\n        env: [{name: A, value: \"1\"}]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {A: \"1\"}\n";
    for round in 0..400 {
        let mut bytes = plan.clone();
        let mut text = manifest.as_bytes().to_vec();
        for _ in 0..=(round % 4) {
            #[expect(
                clippy::cast_possible_truncation,
                reason = "an index into a small file"
            )]
            let at = (random.bits() % bytes.len() as u64) as usize;
            bytes[at] = b"{}[],:\"0 nx"[at % 11];
            #[expect(
                clippy::cast_possible_truncation,
                reason = "an index into a small file"
            )]
            let at = (random.bits() % text.len() as u64) as usize;
            text[at] = b"{}[]-:\"\n 0"[at % 10];
        }
        let source = StackSource {
            name: "shop".to_owned(),
            file: "infra/shop/plan.json".to_owned(),
            bytes: &bytes,
        };
        if let Err(error) = run(
            &options("2026-12-04T06:00:00Z"),
            &[source],
            &[],
            &BTreeMap::new(),
        ) {
            assert!(
                error.to_string().starts_with("infra/shop/plan.json:"),
                "{error}"
            );
        }
        let Ok(text) = String::from_utf8(text) else {
            continue;
        };
        match gantry_drift_report::kube::desired("shop/cart", 2, &text) {
            Ok(objects) => {
                for object in &objects {
                    let mut secrets = Vec::new();
                    let live = object.object.clone();
                    let same = gantry_drift_report::kube::compare(
                        object,
                        Some(&live),
                        &[],
                        &[],
                        &mut secrets,
                    );
                    assert_eq!(same, None, "an object is never drifted from itself: {text}");
                }
            }
            Err(error) => assert!(
                error
                    .to_string()
                    .starts_with("release shop/cart: its manifest (revision 2)"),
                "{error}"
            ),
        }
    }
}
