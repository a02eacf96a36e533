//! `gitleaks --report-format json` (v6 to v8).

use serde_json::Value;

use super::parts::{every_item, finding, has, line, text};
use crate::finding::{Finding, Location};
use crate::severity::{Severity, SeveritySource};

pub(super) fn detect(report: &Value) -> bool {
    every_item(report, |item| {
        (has(item, "RuleID") && has(item, "File")) || (has(item, "rule") && has(item, "offender"))
    })
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    report
        .as_array()
        .into_iter()
        .flatten()
        .map(|leak| {
            let v8 = leak.get("RuleID").is_some();
            let (rule, path, start, end) = if v8 {
                (text(&leak["RuleID"]), text(&leak["File"]), line(&leak["StartLine"]), line(&leak["EndLine"]))
            } else {
                (text(&leak["rule"]), text(&leak["file"]), line(&leak["lineNumber"]), None)
            };
            let rule = rule.unwrap_or_else(|| "secret".to_owned());
            let description = text(&leak["Description"]).unwrap_or_else(|| rule.clone());
            // The match and the secret are never kept: a finding must not republish the leak.
            let message = format!("{description}: leaked credential found by rule `{rule}`; the matched text is not shown");
            let location = Location { path, start_line: start, end_line: end.or(start), ..Location::default() };
            let mut item = finding("Gitleaks", rule, description, message, (Severity::High, SeveritySource::ToolWord, None), location);
            if let Some(fingerprint) = text(&leak["Fingerprint"]) {
                item.fingerprints.insert("gitleaks".to_owned(), fingerprint);
            }
            item
        })
        .collect()
}
