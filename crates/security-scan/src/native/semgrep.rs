//! `semgrep --json`.

use serde_json::Value;

use super::parts::{finding, has, line, text};
use crate::finding::{Finding, Location};
use crate::severity::{Severity, SeveritySource};

pub(super) fn detect(report: &Value) -> bool {
    report["results"].as_array().is_some_and(|results| {
        results
            .iter()
            .all(|result| result.get("check_id").is_some())
    }) && (has(report, "errors") || has(report, "paths") || has(report, "version"))
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    report["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|result| {
            let id = text(&result["check_id"]).unwrap_or_else(|| "(no id)".to_owned());
            let extra = &result["extra"];
            let message = text(&extra["message"]).unwrap_or_else(|| id.clone());
            let title = message.lines().next().unwrap_or_default().to_owned();
            // Semgrep's ERROR/WARNING/INFO is a level; `impact` in the metadata is a risk word.
            let severity = if let Some(severity) = extra["metadata"]["impact"]
                .as_str()
                .and_then(Severity::from_word)
            {
                (severity, SeveritySource::ToolWord, None)
            } else {
                let level = match extra["severity"].as_str().unwrap_or("WARNING") {
                    "ERROR" | "CRITICAL" => "error",
                    "WARNING" => "warning",
                    _ => "note",
                };
                (
                    Severity::from_sarif_level(level),
                    SeveritySource::Level,
                    None,
                )
            };
            let location = Location {
                path: text(&result["path"]),
                start_line: line(&result["start"]["line"]),
                end_line: line(&result["end"]["line"]),
                start_column: line(&result["start"]["col"]),
                end_column: line(&result["end"]["col"]),
            };
            let mut item = finding("Semgrep", id, title, message, severity, location);
            item.suppressed_in_source = extra["is_ignored"].as_bool().unwrap_or(false);
            if let Some(fingerprint) =
                text(&extra["fingerprint"]).filter(|print| print != "requires login")
            {
                item.fingerprints.insert("semgrep".to_owned(), fingerprint);
            }
            item
        })
        .collect()
}
