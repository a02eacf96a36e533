//! The README as a newcomer reads it (issue 27, §5): it opens with what works and a workflow
//! of ten lines, and every `uses:` in it is pinned the way its own pinning section says — by
//! full commit sha with the version in a comment (Gantry's own as `@<full commit sha> # vX.Y.Z`).

use std::path::Path;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap()
}

#[test]
fn every_uses_in_the_readme_is_pinned_by_full_commit_sha() {
    let text = readme();
    let mut checked = 0;
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start().trim_start_matches("- ");
        let Some(target) = trimmed.strip_prefix("uses: ") else {
            continue;
        };
        checked += 1;
        let (reference, comment) = target.split_once(" # ").unwrap_or((target, ""));
        let (action, pin) = reference
            .rsplit_once('@')
            .unwrap_or_else(|| panic!("README line {}: `{line}` names no version", number + 1));
        let sha = pin.len() == 40 && pin.chars().all(|c| c.is_ascii_hexdigit());
        let ours = action.starts_with("OWNER/gantry") && pin == "<full commit sha>";
        let image = action.starts_with("docker://") && pin.starts_with("sha256:");
        assert!(
            sha || ours || image,
            "README line {}: `{line}` is not pinned by full commit sha",
            number + 1
        );
        if !image {
            assert!(
                comment.starts_with('v'),
                "README line {}: `{line}` has no version comment",
                number + 1
            );
        }
    }
    assert!(checked >= 10, "only {checked} uses: lines found");
}

#[test]
fn the_readme_opens_with_what_works_and_a_ten_line_workflow() {
    let text = readme();
    let quick_start = text.find("## Quick start").unwrap();
    let opening = &text[..quick_start];
    let works = opening
        .find("## What works today")
        .expect("a what-works section first");
    for action in [
        "security-scan",
        "quality-gate",
        "terraform-plan",
        "drift-report",
        "helm-deploy",
        "canary-verify",
    ] {
        assert!(
            opening[works..].contains(&format!("| `{action}` |")),
            "{action} is not in what works"
        );
    }
    let start = opening
        .find("```yaml\n")
        .expect("a workflow in the opening")
        + 8;
    let end = start + opening[start..].find("```").unwrap();
    let workflow: Vec<&str> = opening[start..end].lines().collect();
    assert!(
        workflow.len() <= 10,
        "{} lines: {workflow:#?}",
        workflow.len()
    );
    assert!(
        workflow
            .iter()
            .any(|line| line.contains("uses: OWNER/gantry/actions/"))
    );
    assert!(workflow[0].starts_with("on:") && workflow.iter().any(|l| l.starts_with("jobs:")));
}
