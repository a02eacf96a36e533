//! `zizmor --format=json-v1` (or the older `--format=json`).

use serde_json::Value;

use super::parts::{by_word, every_item, finding, has, text};
use crate::finding::{Finding, Location};
use crate::severity::Severity;

pub(super) fn detect(report: &Value) -> bool {
    every_item(report, |item| {
        item["ident"].is_string() && has(item, "determinations")
    })
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    report
        .as_array()
        .into_iter()
        .flatten()
        .filter(|item| item["ignored"].as_bool() != Some(true))
        .map(|item| {
            let id = text(&item["ident"]).unwrap_or_else(|| "(no id)".to_owned());
            let title = text(&item["desc"]).unwrap_or_else(|| id.clone());
            let locations = item["locations"].as_array();
            let primary = locations
                .and_then(|all| {
                    all.iter()
                        .find(|location| location["symbolic"]["kind"].as_str() == Some("Primary"))
                        .or_else(|| all.first())
                })
                .unwrap_or(&Value::Null);
            let key = &primary["symbolic"]["key"]["Local"];
            let path = text(&key["given_path"])
                .or_else(|| text(&key["verbatim_path"]))
                .or_else(|| text(&key["prefix"]));
            // zizmor's rows and columns count from 0.
            let point = |name: &str, part: &str| {
                primary["concrete"]["location"][name][part]
                    .as_u64()
                    .and_then(|value| u32::try_from(value + 1).ok())
            };
            let annotation = text(&primary["symbolic"]["annotation"]);
            let message = match &annotation {
                Some(annotation) => format!("{title}: {annotation}"),
                None => title.clone(),
            };
            let location = Location {
                path,
                start_line: point("start_point", "row"),
                end_line: point("end_point", "row"),
                start_column: point("start_point", "column"),
                end_column: point("end_point", "column"),
            };
            let mut found = finding(
                "zizmor",
                id,
                title,
                message,
                by_word(
                    item["determinations"]["severity"].as_str(),
                    Severity::Medium,
                ),
                location,
            );
            found.help_uri = text(&item["url"]);
            found
        })
        .collect()
}
