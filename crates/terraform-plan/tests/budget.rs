//! A plan far larger than a comment: the comment stays under GitHub's limit and still starts
//! with the verdict, Terraform's totals and the warnings, and says what was left out.

use gantry_core::report::{COMMENT_LIMIT_BYTES, Effect};
use gantry_core::runner::STEP_SUMMARY_LIMIT;
use gantry_terraform_plan::{CommentSetting, Options, StackSource, run};
use gantry_testkit::terraform::{SYNTHETIC_SECRET, synthetic_plan};

fn options(fail_on_destroy: bool) -> Options {
    Options {
        comment: CommentSetting::Update,
        comment_key: None,
        fail_on_destroy,
        destroy_allowlist: Vec::new(),
        expect_digest: None,
        workflow_and_job: "ci/plan".into(),
    }
}

#[test]
fn a_five_megabyte_plan_gives_a_comment_under_the_limit_with_totals_and_warnings() {
    let (plan, counts) = synthetic_plan(3_700);
    assert!(plan.len() > 5_000_000, "{} bytes", plan.len());
    let options = options(true);
    let report = run(
        &options,
        &[StackSource {
            name: "prod".into(),
            file: "big.json".into(),
            bytes: plan.as_bytes(),
        }],
    )
    .unwrap();
    let Effect::Comment(comment) = &report.effects[0] else {
        panic!("no comment")
    };
    let body = comment.body_with_marker();
    assert!(body.len() <= COMMENT_LIMIT_BYTES, "{} bytes", body.len());
    assert!(report.summary.len() <= STEP_SUMMARY_LIMIT);

    let add = counts.create + counts.replace;
    let destroy = counts.delete + counts.replace;
    let plan_line = format!(
        "Plan: {add} to add, {} to change, {destroy} to destroy.",
        counts.update
    );
    assert!(
        body.starts_with("### Terraform plan · stack `prod` · **Failed**"),
        "{}",
        &body[..200]
    );
    assert!(body.contains(&format!("**{plan_line}**")));
    assert!(body.contains("> [!WARNING]"));
    assert!(body.contains(&format!(
        "**{} destroyed, {} replaced**",
        counts.delete, counts.replace
    )));
    assert!(
        body.contains("… and "),
        "the warning list is capped and says so"
    );
    assert!(
        body.contains("too long for GitHub"),
        "says what was cut: {}",
        &body[body.len().saturating_sub(1500)..]
    );
    assert!(body.contains("job's step summary"), "points at the summary");
    assert!(!body.contains(SYNTHETIC_SECRET) && !report.summary.contains(SYNTHETIC_SECRET));
    assert_eq!(report.outputs.value("add"), Some(add.to_string().as_str()));
    assert_eq!(
        report.outputs.value("destroy"),
        Some(destroy.to_string().as_str())
    );
    let details_kept = report.summary.matches("<details>").count();
    assert!(
        details_kept > 100,
        "the summary keeps as many details as fit: {details_kept}"
    );
}

// Issue 9, section 3: a renamed module instance's 50 moves were listed as "0 attribute change(s);
// details left out" without their old address.
#[test]
fn moves_survive_the_cut_as_from_and_to_with_module_renames_folded() {
    let (plan, _) = synthetic_plan(3_700);
    let mut plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    let changes = plan["resource_changes"].as_array_mut().unwrap();
    let no_op = |address: &str, previous: &str| {
        serde_json::json!({
            "address": address,
            "previous_address": previous,
            "mode": "managed",
            "type": "terraform_data",
            "name": "r",
            "provider_name": "terraform.io/builtin/terraform",
            "change": {"actions": ["no-op"], "before": {"input": "x"}, "after": {"input": "x"},
                       "after_unknown": {}, "before_sensitive": {}, "after_sensitive": {}}
        })
    };
    for index in 0..50 {
        changes.push(no_op(
            &format!("module.shard[\"s00-renamed\"].terraform_data.r[{index}]"),
            &format!("module.shard[\"s00\"].terraform_data.r[{index}]"),
        ));
    }
    changes.push(no_op("terraform_data.new_name", "terraform_data.old_name"));
    let plan = serde_json::to_string(&plan).unwrap();
    let options = options(false);
    let report = run(
        &options,
        &[StackSource {
            name: "prod".into(),
            file: "big.json".into(),
            bytes: plan.as_bytes(),
        }],
    )
    .unwrap();
    let Effect::Comment(comment) = &report.effects[0] else {
        panic!("no comment")
    };
    let body = comment.body_with_marker();
    assert!(body.len() <= COMMENT_LIMIT_BYTES);
    assert!(body.contains("too long for GitHub"), "the comment was cut");
    assert!(body.contains("**Moved** (51):"), "{}", &body[..3000]);
    assert!(
        body.contains("- `module.shard[\"s00\"]` → `module.shard[\"s00-renamed\"]` (50 resources)")
    );
    assert!(body.contains("- `terraform_data.old_name` → `terraform_data.new_name`"));
    assert!(!body.contains("0 attribute change(s)"));
    assert!(report.summary.contains("(50 resources)"));
}
