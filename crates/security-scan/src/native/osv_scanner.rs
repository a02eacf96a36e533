//! `osv-scanner --format json`.

use serde_json::Value;

use super::parts::{UNRATED_VULNERABILITY, Vulnerable, every_item, has, strings, text};
use crate::finding::Finding;
use crate::severity::{Severity, SeveritySource};

pub(super) fn detect(report: &Value) -> bool {
    every_item(&report["results"], |item| {
        has(item, "source") && item["packages"].is_array()
    })
}

/// The score of an OSV record: a CVSS vector's base score, or GHSA's word.
fn osv_severity(vulnerability: &Value) -> (Severity, SeveritySource, Option<f64>) {
    for entry in vulnerability["severity"].as_array().into_iter().flatten() {
        if let Some(score) = entry["score"]
            .as_str()
            .and_then(crate::severity::cvss3_base_score)
        {
            if let Some(severity) = Severity::from_score(score) {
                return (severity, SeveritySource::Score, Some(score));
            }
        }
    }
    match vulnerability["database_specific"]["severity"]
        .as_str()
        .and_then(Severity::from_word)
    {
        Some(severity) => (severity, SeveritySource::ToolWord, None),
        None if text(&vulnerability["id"]).is_some_and(|id| id.starts_with("MAL-")) => {
            // A malicious package is compromise on install.
            (Severity::Critical, SeveritySource::ToolWord, None)
        }
        None => UNRATED_VULNERABILITY,
    }
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    for result in report["results"].as_array().into_iter().flatten() {
        let source = text(&result["source"]["path"]);
        for package in result["packages"].as_array().into_iter().flatten() {
            let name = text(&package["package"]["name"]).unwrap_or_else(|| "(unnamed)".to_owned());
            let version = text(&package["package"]["version"]);
            for vulnerability in package["vulnerabilities"].as_array().into_iter().flatten() {
                let id = text(&vulnerability["id"]).unwrap_or_else(|| "(no id)".to_owned());
                let summary = text(&vulnerability["summary"]).unwrap_or_else(|| id.clone());
                let details = text(&vulnerability["details"]).unwrap_or_default();
                let vulnerable = Vulnerable {
                    tool: "OSV-Scanner",
                    id: &id,
                    aliases: strings(&vulnerability["aliases"]),
                    package: &name,
                    version: version.clone(),
                    path: source.clone(),
                };
                let message = if details.is_empty() {
                    summary.clone()
                } else {
                    details
                };
                let mut found = vulnerable.finding(summary, message, osv_severity(vulnerability));
                found.help_uri = Some(format!("https://osv.dev/vulnerability/{id}"));
                findings.push(found);
            }
        }
    }
    findings
}
