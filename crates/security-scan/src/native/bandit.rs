//! `bandit -f json`.

use serde_json::Value;

use super::parts::{by_word, finding, has, line, text};
use crate::finding::{Finding, Location};
use crate::severity::Severity;

pub(super) fn detect(report: &Value) -> bool {
    has(report, "results") && has(report, "metrics") && has(report, "generated_at")
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    report["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|result| {
            let id = text(&result["test_id"]).unwrap_or_else(|| "(no id)".to_owned());
            // Bandit's test names are families (`blacklist`); the issue text says what is wrong.
            let test_name = text(&result["test_name"]).unwrap_or_else(|| id.clone());
            let message = text(&result["issue_text"]).unwrap_or_else(|| test_name.clone());
            let title = message.lines().next().unwrap_or_default().to_owned();
            let start = line(&result["line_number"]);
            let end = result["line_range"]
                .as_array()
                .and_then(|range| range.last())
                .and_then(line)
                .or(start);
            let location = Location {
                path: text(&result["filename"])
                    .map(|path| path.trim_start_matches("./").to_owned()),
                start_line: start,
                end_line: end,
                start_column: result["col_offset"]
                    .as_u64()
                    .and_then(|column| u32::try_from(column + 1).ok()),
                end_column: None,
            };
            let mut item = finding(
                "Bandit",
                id,
                title,
                message,
                by_word(result["issue_severity"].as_str(), Severity::Low),
                location,
            );
            item.help_uri = text(&result["more_info"]);
            item
        })
        .collect()
}
