//! `tfsec --format json` (current and legacy rule ids).

use serde_json::Value;

use super::parts::{by_word, every_item, finding, has, line, lint_level, text};
use crate::finding::{Finding, Location};
use crate::severity::Severity;

pub(super) fn detect(report: &Value) -> bool {
    every_item(&report["results"], |item| {
        item["rule_id"].is_string() && has(item, "location")
    }) || (report.as_object().is_some_and(|map| map.len() == 1)
        && report.get("results") == Some(&Value::Null))
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    report["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|result| {
            result["passed"].as_bool() != Some(true)
                && result["status"]
                    .as_str()
                    .is_none_or(|status| status != "passed")
        })
        .map(|result| {
            let id = text(&result["long_id"])
                .or_else(|| text(&result["rule_id"]))
                .unwrap_or_else(|| "(no id)".to_owned());
            let title = text(&result["rule_description"]).unwrap_or_else(|| id.clone());
            let message = text(&result["description"]).unwrap_or_else(|| title.clone());
            let word = result["severity"].as_str();
            // Legacy tfsec wrote levels (ERROR, WARNING, INFO), current tfsec risk words.
            let severity = match word {
                Some("ERROR" | "WARNING" | "INFO") => {
                    lint_level(word.map(str::to_ascii_lowercase).as_deref())
                }
                _ => by_word(word, Severity::Medium),
            };
            let location = Location {
                path: text(&result["location"]["filename"]),
                start_line: line(&result["location"]["start_line"]),
                end_line: line(&result["location"]["end_line"]),
                ..Location::default()
            };
            let mut found = finding("tfsec", id, title, message, severity, location);
            found.help_uri = result["links"]
                .as_array()
                .and_then(|links| links.first())
                .and_then(text);
            found
        })
        .collect()
}
