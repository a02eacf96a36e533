//! `shellcheck -f json` or `-f json1`.

use serde_json::Value;

use super::parts::{every_item, has, lint_list};
use crate::finding::Finding;

pub(super) fn detect(report: &Value) -> bool {
    (report["comments"].is_array() && report.as_object().is_some_and(|map| map.len() == 1))
        || every_item(report, |item| {
            item["code"].is_number() && has(item, "file") && has(item, "level")
        })
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    lint_list(
        "ShellCheck",
        if report.is_object() {
            &report["comments"]
        } else {
            report
        },
        |item| item["code"].as_u64().map(|code| format!("SC{code}")),
    )
}
