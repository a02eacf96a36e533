//! `kics scan --report-formats json`.

use serde_json::Value;

use super::parts::{by_word, finding, has, line, text};
use crate::finding::{Finding, Location};
use crate::severity::Severity;

pub(super) fn detect(report: &Value) -> bool {
    report["queries"].is_array()
        && (has(report, "kics_version")
            || has(report, "scan_id")
            || has(report, "severity_counters"))
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    for query in report["queries"].as_array().into_iter().flatten() {
        let id = text(&query["query_id"]).unwrap_or_else(|| "(no id)".to_owned());
        let title = text(&query["query_name"]).unwrap_or_else(|| id.clone());
        for file in query["files"].as_array().into_iter().flatten() {
            let expected = text(&file["expected_value"]).unwrap_or_default();
            let actual = text(&file["actual_value"]).unwrap_or_default();
            let mut message = title.clone();
            for (label, value) in [("Expected", expected), ("Actual", actual)] {
                if !value.is_empty() {
                    message.push('\n');
                    message.push_str(label);
                    message.push_str(": ");
                    message.push_str(&value);
                }
            }
            let location = Location {
                path: text(&file["file_name"]),
                start_line: line(&file["line"]),
                end_line: line(&file["line"]),
                ..Location::default()
            };
            let mut found = finding(
                "KICS",
                id.clone(),
                title.clone(),
                message,
                by_word(query["severity"].as_str(), Severity::Medium),
                location,
            );
            found.help_uri = text(&query["query_url"]);
            if let Some(similarity) = text(&file["similarity_id"]) {
                found.fingerprints.insert("kics".to_owned(), similarity);
            }
            findings.push(found);
        }
    }
    findings
}
