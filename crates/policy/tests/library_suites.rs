//! The Gatekeeper library's own suites (`suite.yaml`, as `gator verify` runs them), vendored
//! under `tests/fixtures/gatekeeper-library/` with their licence: every case's assertions hold
//! when the template's Rego is run by regorus. A suite whose templates carry CEL beside Rego
//! (requiredlabels) is judged by its Rego.

use std::path::{Path, PathBuf};

use gantry_policy::{Constraint, Template, evaluate};
use serde_json::Value;

fn library() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gatekeeper-library/library")
}

fn yaml(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    gantry_helm_deploy::manifest::documents(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs one suite; returns how many cases it checked.
fn run_suite(folder: &Path) -> usize {
    let suite = &yaml(&folder.join("suite.yaml"))[0];
    let mut cases = 0;
    for test in suite["tests"].as_array().unwrap() {
        let template_file = folder.join(test["template"].as_str().unwrap());
        let template = Template::read(
            &template_file.display().to_string(),
            &yaml(&template_file)[0],
        )
        .unwrap();
        let constraint_file = folder.join(test["constraint"].as_str().unwrap());
        let constraint = Constraint::read(
            &constraint_file.display().to_string(),
            &yaml(&constraint_file)[0],
        )
        .unwrap();
        for case in test["cases"].as_array().unwrap() {
            let name = format!(
                "{} / {} / {}",
                suite["metadata"]["name"], test["name"], case["name"]
            );
            let object = &yaml(&folder.join(case["object"].as_str().unwrap()))[0];
            let violations = evaluate(&template, &constraint, object)
                .unwrap_or_else(|error| panic!("{name}: {error}"));
            for assertion in case["assertions"].as_array().unwrap() {
                let matching: Vec<_> = match assertion.get("message").and_then(Value::as_str) {
                    Some(message) => violations
                        .iter()
                        .filter(|v| v.msg.contains(message))
                        .collect(),
                    None => violations.iter().collect(),
                };
                // `violations: yes|no|N`, as `gator verify` reads it.
                let expected: Option<usize> = match &assertion["violations"] {
                    Value::Bool(true) => None,
                    Value::Bool(false) => Some(0),
                    Value::Number(count) => Some(usize::try_from(count.as_u64().unwrap()).unwrap()),
                    Value::String(word) if word == "yes" => None,
                    Value::String(word) if word == "no" => Some(0),
                    other => panic!("{name}: an assertion of {other}"),
                };
                match expected {
                    None => assert!(
                        !matching.is_empty(),
                        "{name}: expected violations, got none"
                    ),
                    Some(count) => assert_eq!(matching.len(), count, "{name}: {violations:?}"),
                }
            }
            cases += 1;
        }
    }
    cases
}

#[test]
fn required_labels_suite_passes() {
    assert_eq!(run_suite(&library().join("general/requiredlabels")), 5);
}

#[test]
fn allowed_repos_suite_passes() {
    assert!(run_suite(&library().join("general/allowedrepos")) >= 5);
}

#[test]
fn a_template_whose_rego_does_not_compile_names_its_file() {
    let document: Value = serde_json::json!({
        "apiVersion": "templates.gatekeeper.sh/v1", "kind": "ConstraintTemplate",
        "metadata": {"name": "broken"},
        "spec": {"crd": {"spec": {"names": {"kind": "Broken"}}},
            "targets": [{"target": "admission.k8s.gatekeeper.sh", "rego": "package broken\n\nviolation[{\"msg\": msg}] {\n  msg := \n}\n"}]}
    });
    let template = Template::read("policies/broken.yaml", &document).unwrap();
    let constraint = Constraint::read(
        "c.yaml",
        &serde_json::json!({"kind": "Broken", "metadata": {"name": "b"}}),
    )
    .unwrap();
    let error = evaluate(&template, &constraint, &serde_json::json!({"kind": "Pod"})).unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("policies/broken.yaml: the Rego of template `broken` does not compile"),
        "{text}"
    );
    // A constraint of another kind is refused, not silently passed.
    let other = Constraint::read(
        "d.yaml",
        &serde_json::json!({"kind": "Other", "metadata": {"name": "o"}}),
    )
    .unwrap();
    assert!(evaluate(&template, &other, &serde_json::json!({})).is_err());
}

#[test]
fn a_template_without_a_violation_rule_is_refused_not_passed() {
    let document: Value = serde_json::json!({
        "kind": "ConstraintTemplate", "metadata": {"name": "quiet"},
        "spec": {"crd": {"spec": {"names": {"kind": "Quiet"}}},
            "targets": [{"target": "admission.k8s.gatekeeper.sh", "rego": "package quiet\n\ndeny contains msg if { msg := \"x\" }\n"}]}
    });
    let template = Template::read("quiet.yaml", &document).unwrap();
    let constraint = Constraint::read(
        "c.yaml",
        &serde_json::json!({"kind": "Quiet", "metadata": {"name": "q"}}),
    )
    .unwrap();
    let error = evaluate(&template, &constraint, &serde_json::json!({"kind": "Pod"})).unwrap_err();
    assert!(
        error.to_string().contains("must define `violation"),
        "{error}"
    );
}
