//! reviewdog's Diagnostic Format (`rdjson`), the lingua franca of reviewdog users.

use serde_json::Value;

use super::parts::{finding, has, line, lint_level, text};
use crate::finding::{Finding, Location};

pub(super) fn detect(report: &Value) -> bool {
    report["diagnostics"]
        .as_array()
        .is_some_and(|items| items.iter().all(|item| has(item, "message")))
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    let source = text(&report["source"]["name"]).unwrap_or_else(|| "reviewdog".to_owned());
    report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|diagnostic| {
            let tool = text(&diagnostic["source"]["name"]).unwrap_or_else(|| source.clone());
            let id = text(&diagnostic["code"]["value"]).unwrap_or_else(|| tool.clone());
            let message = text(&diagnostic["message"]).unwrap_or_else(|| id.clone());
            // Severity is a level (ERROR, WARNING, INFO). Without one (absent,
            // UNKNOWN_SEVERITY, or the enum's number) reviewdog reports at its `-level`, which
            // is `error` unless told otherwise: so is it here.
            let level = match diagnostic["severity"]
                .as_str()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("warning") => "warning",
                Some("info") => "info",
                _ => "error",
            };
            let range = &diagnostic["location"]["range"];
            let location = Location {
                path: text(&diagnostic["location"]["path"]),
                start_line: line(&range["start"]["line"]),
                end_line: line(&range["end"]["line"]).or_else(|| line(&range["start"]["line"])),
                start_column: line(&range["start"]["column"]),
                end_column: line(&range["end"]["column"]),
            };
            let mut found = finding(
                &tool,
                id,
                message.lines().next().unwrap_or_default().to_owned(),
                message,
                lint_level(Some(level)),
                location,
            );
            found.help_uri = text(&diagnostic["code"]["url"]);
            found
        })
        .collect()
}
