//! Drift read from real refresh-only plans: Terraform 1.11 with the real `hashicorp/aws`
//! provider 5.100.0 against moto, the plans saved as `tests/fixtures/aws-*.json` (the stack and
//! the out-of-band changes are `tests/fixtures/drift-aws/` at the repository's top; the
//! end-to-end test makes them afresh). Right after the apply Terraform reports four resources as
//! drifted (`tags: null → {}`, and the bucket's `versioning` that its sibling
//! `aws_s3_bucket_versioning` set); none of it is drift.

use gantry_drift_report::terraform::analyse;
use gantry_drift_report::{AttributeChange, IgnoreRule, ObjectDrift};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn change(path: &str, before: Option<&str>, after: Option<&str>) -> AttributeChange {
    AttributeChange {
        path: path.to_owned(),
        before: before.map(str::to_owned),
        after: after.map(str::to_owned),
    }
}

#[test]
fn a_plan_right_after_apply_has_no_drift_though_terraform_reports_four() {
    let bytes = fixture("aws-after-apply.json");
    let raw: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        raw["resource_drift"].as_array().unwrap().len(),
        4,
        "the fixture is what it claims"
    );
    let drift = analyse("aws", "aws-after-apply.json", &bytes, &[]).unwrap();
    assert_eq!(drift.drifted, []);
    assert_eq!(drift.not_drift.len(), 4);
    assert!(drift.refresh_only);
}

#[test]
fn exactly_the_out_of_band_changes_are_drift_deleted_first() {
    let bytes = fixture("aws-drifted.json");
    let drift = analyse("aws", "aws-drifted.json", &bytes, &[]).unwrap();
    let addresses: Vec<&str> = drift.drifted.iter().map(|d| d.address.as_str()).collect();
    assert_eq!(
        addresses,
        [
            "aws_s3_bucket.logs",
            "aws_instance.web",
            "aws_s3_bucket_versioning.assets",
            "aws_security_group.web",
        ]
    );
    assert_eq!(drift.drifted[0].drift, ObjectDrift::Deleted);
    let changes = |index: usize| match &drift.drifted[index].drift {
        ObjectDrift::Changed(changes) => changes.clone(),
        ObjectDrift::Deleted => panic!("{} is changed, not deleted", drift.drifted[index].address),
    };
    // tags_all repeats tags exactly: shown once.
    assert_eq!(
        changes(1),
        [
            change("tags.owner", None, Some("\"bob\"")),
            change("tags.team", Some("\"shop\""), Some("\"ops\"")),
        ]
    );
    assert_eq!(
        changes(2),
        [change(
            "versioning_configuration[0].status",
            Some("\"Enabled\""),
            Some("\"Suspended\"")
        )]
    );
    let rules = changes(3);
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0].path, "ingress[]");
    assert_eq!(rules[0].before, None);
    let added = rules[0].after.as_deref().unwrap();
    assert!(
        added.contains("\"from_port\": 22") && added.contains("0.0.0.0/0"),
        "{added}"
    );
    // The IAM role's `tags: null → {}` and the bucket's are not drift.
    let quiet: Vec<&str> = drift
        .not_drift
        .iter()
        .map(|(address, _)| address.as_str())
        .collect();
    assert_eq!(quiet, ["aws_iam_role.app", "aws_s3_bucket.assets"]);
}

#[test]
fn ignore_rules_take_out_what_the_team_does_not_count() {
    let bytes = fixture("aws-drifted.json");
    let rules = [
        IgnoreRule::parse("aws_instance.tags").unwrap(),
        IgnoreRule::parse("aws_instance.tags_all").unwrap(),
        IgnoreRule::parse("*.ingress").unwrap(),
    ];
    let drift = analyse("aws", "aws-drifted.json", &bytes, &rules).unwrap();
    let addresses: Vec<&str> = drift.drifted.iter().map(|d| d.address.as_str()).collect();
    assert_eq!(
        addresses,
        ["aws_s3_bucket.logs", "aws_s3_bucket_versioning.assets"]
    );
}

#[test]
fn what_is_not_a_plan_is_refused_with_the_file() {
    let bytes = fixture("aws-drifted.json");
    let truncated = &bytes[..bytes.len() / 2];
    let error = analyse("aws", "plans/aws.json", truncated, &[])
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("plans/aws.json:") && error.contains("truncated"),
        "{error}"
    );
    let raw: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let state = serde_json::json!({"format_version": "1.0", "terraform_version": "1.11.0", "values": raw["prior_state"]["values"]});
    let error = analyse("aws", "state.json", state.to_string().as_bytes(), &[])
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("state.json:") && error.contains("state"),
        "{error}"
    );
}

#[test]
fn without_the_companion_resource_the_same_attribute_is_drift() {
    // The after-apply plan minus the `aws_s3_bucket_versioning` block: the bucket's
    // `versioning` false → true is no longer explained by the configuration.
    let mut plan: serde_json::Value =
        serde_json::from_slice(&fixture("aws-after-apply.json")).unwrap();
    let resources = plan["configuration"]["root_module"]["resources"]
        .as_array_mut()
        .unwrap();
    let before = resources.len();
    resources.retain(|resource| resource["type"] != "aws_s3_bucket_versioning");
    assert_eq!(resources.len(), before - 1);
    let bytes = plan.to_string().into_bytes();
    let drift = analyse("aws", "plan.json", &bytes, &[]).unwrap();
    assert_eq!(drift.drifted.len(), 1, "{:?}", drift.drifted);
    assert_eq!(drift.drifted[0].address, "aws_s3_bucket.assets");
    assert_eq!(
        drift.drifted[0].drift,
        ObjectDrift::Changed(vec![change(
            "versioning[0].enabled",
            Some("false"),
            Some("true")
        )])
    );
}

#[test]
fn a_move_is_not_drift_and_a_moved_plan_still_shows_its_drift() {
    // `moved` blocks make `terraform plan -detailed-exitcode` exit 0 even with drift entries.
    let mut plan: serde_json::Value = serde_json::from_slice(&fixture("aws-drifted.json")).unwrap();
    plan["resource_changes"] = serde_json::json!([{
        "address": "aws_iam_role.application", "previous_address": "aws_iam_role.app",
        "mode": "managed", "type": "aws_iam_role", "name": "application",
        "change": {"actions": ["no-op"], "before": {}, "after": {}}
    }]);
    let bytes = plan.to_string().into_bytes();
    let drift = analyse("aws", "plan.json", &bytes, &[]).unwrap();
    assert_eq!(
        drift.moved,
        [(
            "aws_iam_role.app".to_owned(),
            "aws_iam_role.application".to_owned()
        )]
    );
    assert_eq!(drift.drifted.len(), 4);
}
