//! `gosec -fmt json`.

use serde_json::Value;

use super::parts::{by_word, finding, has, text};
use crate::finding::{Finding, Location};
use crate::severity::Severity;

pub(super) fn detect(report: &Value) -> bool {
    report["Issues"].is_array() && has(report, "Stats")
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    report["Issues"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|issue| {
            let id = text(&issue["rule_id"]).unwrap_or_else(|| "(no id)".to_owned());
            let message = text(&issue["details"]).unwrap_or_else(|| id.clone());
            // gosec writes lines as strings, a range as "12-14".
            let lines = issue["line"].as_str().unwrap_or_default();
            let mut bounds = lines
                .split('-')
                .filter_map(|part| part.trim().parse::<u32>().ok());
            let start = bounds.next().filter(|line| *line > 0);
            let end = bounds.next().or(start);
            let location = Location {
                path: text(&issue["file"]),
                start_line: start,
                end_line: end,
                start_column: issue["column"]
                    .as_str()
                    .and_then(|column| column.parse().ok())
                    .filter(|column| *column > 0),
                end_column: None,
            };
            let mut found = finding(
                "gosec",
                id,
                message.clone(),
                message,
                by_word(issue["severity"].as_str(), Severity::Medium),
                location,
            );
            found.help_uri = text(&issue["cwe"]["url"]);
            found
        })
        .collect()
}
