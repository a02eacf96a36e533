//! `hadolint -f json`.

use serde_json::Value;

use super::parts::{every_item, has, lint_list, text};
use crate::finding::Finding;

pub(super) fn detect(report: &Value) -> bool {
    every_item(report, |item| {
        item["code"].is_string() && has(item, "file") && has(item, "level")
    })
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    lint_list("hadolint", report, |item| text(&item["code"]))
}
