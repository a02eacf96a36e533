//! `detect-secrets scan` baseline JSON.

use serde_json::Value;

use super::parts::{finding, has, line, text};
use crate::finding::{Finding, Location};
use crate::severity::{Severity, SeveritySource};

pub(super) fn detect(report: &Value) -> bool {
    has(report, "plugins_used") && report["results"].is_object()
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (file, secrets) in report["results"].as_object().into_iter().flatten() {
        for secret in secrets.as_array().into_iter().flatten() {
            // An entry audited as not a secret is not a finding.
            if secret["is_secret"].as_bool() == Some(false) {
                continue;
            }
            let kind = text(&secret["type"]).unwrap_or_else(|| "Secret".to_owned());
            let message = format!("{kind}: a possible credential; the matched text is not shown");
            let location = Location {
                path: Some(file.clone()),
                start_line: line(&secret["line_number"]),
                end_line: line(&secret["line_number"]),
                ..Location::default()
            };
            let found = finding(
                "detect-secrets",
                kind.clone(),
                kind,
                message,
                (Severity::High, SeveritySource::ToolWord, None),
                location,
            );
            // `hashed_secret` is an unsalted SHA-1 of the secret: not republished, even as a
            // fingerprint (a short secret falls to a dictionary).
            findings.push(found);
        }
    }
    findings
}
