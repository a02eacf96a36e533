//! `yarn audit --json` (JSON lines, read as a list of its lines).

use serde_json::Value;

use super::parts::{by_word, every_item, finding, has, text};
use crate::finding::{Finding, Location};
use crate::severity::Severity;

pub(super) fn detect(report: &Value) -> bool {
    every_item(report, |item| item["type"].is_string() && has(item, "data"))
}

pub(super) fn read(lines: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    for line in lines
        .as_array()
        .into_iter()
        .flatten()
        .filter(|line| line["type"] == "auditAdvisory")
    {
        let advisory = &line["data"]["advisory"];
        let package = text(&advisory["module_name"]);
        let id = advisory["cves"]
            .as_array()
            .and_then(|cves| cves.first())
            .and_then(text)
            .or_else(|| text(&advisory["github_advisory_id"]))
            .unwrap_or_else(|| format!("npm-{}", advisory["id"]));
        let title = text(&advisory["title"]).unwrap_or_else(|| id.clone());
        let version = advisory["findings"]
            .as_array()
            .and_then(|found| found.first())
            .and_then(|found| text(&found["version"]));
        let message = format!(
            "{} {}: {title}",
            package.as_deref().unwrap_or("?"),
            version.as_deref().unwrap_or("?")
        );
        let mut item = finding(
            "yarn audit",
            id,
            title,
            message,
            by_word(advisory["severity"].as_str(), Severity::Medium),
            Location {
                path: Some("yarn.lock".to_owned()),
                ..Location::default()
            },
        );
        item.package = package;
        item.version = version;
        item.help_uri = text(&advisory["url"]);
        item.fixed_in = text(&advisory["patched_versions"]).filter(|v| v != "<0.0.0");
        findings.push(item);
    }
    findings
}
