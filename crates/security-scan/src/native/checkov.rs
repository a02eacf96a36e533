//! `checkov -o json` (one framework, or a list of them).

use serde_json::Value;

use super::parts::{by_word, every_item, finding, has, line, text};
use crate::finding::{Finding, Location};
use crate::severity::Severity;

pub(super) fn detect(report: &Value) -> bool {
    (has(report, "check_type") && has(report, "results"))
        || every_item(report, |item| {
            has(item, "check_type") && has(item, "results")
        })
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    let frameworks: Vec<&Value> = match report {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut findings = Vec::new();
    for framework in frameworks {
        for check in framework["results"]["failed_checks"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let id = text(&check["check_id"]).unwrap_or_else(|| "(no id)".to_owned());
            let title = text(&check["check_name"]).unwrap_or_else(|| id.clone());
            let resource = text(&check["resource"]).unwrap_or_default();
            let range = check["file_line_range"].as_array();
            let location = Location {
                path: text(&check["repo_file_path"])
                    .or_else(|| text(&check["file_path"]))
                    .map(|path| path.trim_start_matches('/').to_owned()),
                start_line: range.and_then(|range| range.first()).and_then(line),
                end_line: range.and_then(|range| range.get(1)).and_then(line),
                ..Location::default()
            };
            // Checkov's own `severity` when its platform filled it in; otherwise a failed check is
            // a medium, not the "error" every Checkov result carries in SARIF.
            let severity = by_word(check["severity"].as_str(), Severity::Medium);
            let message = if resource.is_empty() {
                title.clone()
            } else {
                format!("{resource}: {title}")
            };
            let mut item = finding("Checkov", id, title, message, severity, location);
            item.help_uri = text(&check["guideline"]);
            findings.push(item);
        }
    }
    findings
}
