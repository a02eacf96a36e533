//! `kube-linter lint --format json`.

use serde_json::Value;

use super::parts::{finding, has, lint_level, text};
use crate::finding::{Finding, Location};

pub(super) fn detect(report: &Value) -> bool {
    report["Reports"].is_array() && has(report, "Checks")
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    report["Reports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let check = text(&item["Check"]).unwrap_or_else(|| "(check)".to_owned());
            let message = text(&item["Diagnostic"]["Message"]).unwrap_or_else(|| check.clone());
            let object = &item["Object"]["K8sObject"];
            let kind = text(&object["GroupVersionKind"]["Kind"]).unwrap_or_default();
            let name = text(&object["Name"]).unwrap_or_default();
            let remediation = text(&item["Remediation"])
                .map(|fix| format!("\n{fix}"))
                .unwrap_or_default();
            finding(
                "KubeLinter",
                check,
                message.lines().next().unwrap_or_default().to_owned(),
                format!("{kind} {name}: {message}{remediation}"),
                // kube-linter has no severities: a failed check is a warning.
                lint_level(Some("warning")),
                Location {
                    path: text(&item["Object"]["Metadata"]["FilePath"]),
                    ..Location::default()
                },
            )
        })
        .collect()
}
