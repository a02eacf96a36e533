//! `trufflehog … --json` (JSON lines).

use serde_json::Value;

use super::parts::{every_item, finding, has, line, text};
use crate::finding::{Finding, Location};
use crate::severity::{Severity, SeveritySource};

pub(super) fn detect(report: &Value) -> bool {
    every_item(report, |item| {
        has(item, "DetectorName") && has(item, "SourceMetadata")
    })
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    report
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let detector = text(&item["DetectorName"]).unwrap_or_else(|| "secret".to_owned());
            let verified = item["Verified"].as_bool() == Some(true);
            // Where: the one source under `SourceMetadata.Data` (Git, Filesystem, GitHub, …).
            let source = item["SourceMetadata"]["Data"]
                .as_object()
                .and_then(|data| data.values().next())
                .unwrap_or(&Value::Null);
            let line_number = line(&source["line"]);
            let location = Location {
                path: text(&source["file"]),
                start_line: line_number,
                end_line: line_number,
                ..Location::default()
            };
            // `Raw`, `RawV2` and `Redacted` hold the secret: never kept.
            let message = format!(
                "{detector} credential{}; the matched text is not shown{}",
                if verified {
                    " that TruffleHog verified is live"
                } else {
                    " (not verified)"
                },
                text(&source["commit"])
                    .map(|commit| format!(" (commit {commit})"))
                    .unwrap_or_default()
            );
            finding(
                "TruffleHog",
                detector.clone(),
                format!("{detector} credential"),
                message,
                if verified {
                    (Severity::Critical, SeveritySource::ToolWord, None)
                } else {
                    (Severity::High, SeveritySource::ToolWord, None)
                },
                location,
            )
        })
        .collect()
}
