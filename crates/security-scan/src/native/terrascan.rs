//! `terrascan scan -o json`.

use serde_json::Value;

use super::parts::{by_word, finding, line, text};
use crate::finding::{Finding, Location};
use crate::severity::Severity;

pub(super) fn detect(report: &Value) -> bool {
    report["results"].is_object()
        && (report["results"].get("violations").is_some()
            || report["results"].get("scan_summary").is_some())
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    report["results"]["violations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|violation| {
            let id = text(&violation["rule_id"]).unwrap_or_else(|| "(no id)".to_owned());
            let title = text(&violation["description"])
                .or_else(|| text(&violation["rule_name"]))
                .unwrap_or_else(|| id.clone());
            let resource = [
                text(&violation["resource_type"]),
                text(&violation["resource_name"]),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(".");
            let line_number = line(&violation["line"]);
            finding(
                "Terrascan",
                id,
                title.clone(),
                if resource.is_empty() {
                    title
                } else {
                    format!("{resource}: {title}")
                },
                by_word(violation["severity"].as_str(), Severity::Medium),
                Location {
                    path: text(&violation["file"]),
                    start_line: line_number,
                    end_line: line_number,
                    ..Location::default()
                },
            )
        })
        .collect()
}
