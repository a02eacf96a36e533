//! `cargo audit --json`.

use serde_json::Value;

use super::parts::{finding, has, scored, text};
use crate::finding::{Finding, Location, vulnerability_id};
use crate::severity::Severity;

pub(super) fn detect(report: &Value) -> bool {
    has(report, "database") && report["vulnerabilities"].get("list").is_some()
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    report["vulnerabilities"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| {
            let advisory = &entry["advisory"];
            let id = text(&advisory["id"]).unwrap_or_else(|| "(no id)".to_owned());
            let cve = advisory["aliases"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .find_map(vulnerability_id);
            // RustSec advisories carry a CVSS vector at most; without one, medium.
            let severity = scored(None, advisory["cvss"].as_str(), None, Severity::Medium);
            let package = text(&entry["package"]["name"]).or_else(|| text(&advisory["package"]));
            let version = text(&entry["package"]["version"]);
            let title = text(&advisory["title"]).unwrap_or_else(|| id.clone());
            let message = format!(
                "{} {} {id}: {title}",
                package.as_deref().unwrap_or("?"),
                version.as_deref().unwrap_or("?")
            );
            let mut item = finding(
                "cargo-audit",
                id,
                title,
                message,
                severity,
                Location {
                    path: Some("Cargo.lock".to_owned()),
                    ..Location::default()
                },
            );
            item.vulnerability = cve.or(item.vulnerability);
            item.package = package;
            item.version = version;
            item.help_uri = text(&advisory["url"]).or_else(|| {
                Some(format!(
                    "https://rustsec.org/advisories/{}.html",
                    gantry_core::markdown::url_path(&item.rule_id)
                ))
            });
            let fixes = super::parts::strings(&entry["versions"]["patched"]);
            item.fixed_in = (!fixes.is_empty()).then(|| fixes.join(", "));
            item
        })
        .collect()
}
