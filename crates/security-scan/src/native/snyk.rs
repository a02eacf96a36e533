//! `snyk test --json` (open source and container; one project or `--all-projects`).

use serde_json::Value;

use super::parts::{every_item, finding, scored, text};
use crate::finding::{Finding, Location, vulnerability_id};
use crate::severity::Severity;

pub(super) fn detect(report: &Value) -> bool {
    is_snyk_project(report) || every_item(report, is_snyk_project)
}

/// Whether a value is one Snyk project result.
fn is_snyk_project(value: &Value) -> bool {
    value.get("vulnerabilities").is_some_and(Value::is_array)
        && (value.get("packageManager").is_some() || value.get("ok").is_some())
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    let projects: Vec<&Value> = match report {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut findings = Vec::new();
    for project in projects {
        let target = text(&project["displayTargetFile"]).or_else(|| text(&project["path"]));
        for vulnerability in project["vulnerabilities"].as_array().into_iter().flatten() {
            let id = text(&vulnerability["id"]).unwrap_or_else(|| "(no id)".to_owned());
            let identifiers = &vulnerability["identifiers"];
            let cve = ["CVE", "GHSA"].iter().find_map(|scheme| {
                identifiers[*scheme]
                    .as_array()
                    .and_then(|ids| ids.first())
                    .and_then(text)
            });
            let severity = scored(
                vulnerability["cvssScore"].as_f64(),
                vulnerability["CVSSv3"].as_str(),
                vulnerability["severity"].as_str(),
                Severity::Medium,
            );
            let package = text(&vulnerability["packageName"]);
            let version = text(&vulnerability["version"]);
            let title = text(&vulnerability["title"]).unwrap_or_else(|| id.clone());
            let message = format!(
                "{} {} {}: {title}",
                package.as_deref().unwrap_or("?"),
                version.as_deref().unwrap_or("?"),
                cve.as_deref().unwrap_or(&id)
            );
            let mut item = finding(
                "Snyk",
                id,
                title,
                message,
                severity,
                Location {
                    path: target.clone(),
                    ..Location::default()
                },
            );
            item.vulnerability = cve
                .as_deref()
                .and_then(vulnerability_id)
                .or(item.vulnerability);
            item.package = package;
            item.version = version;
            let fixes = super::parts::strings(&vulnerability["fixedIn"]);
            item.fixed_in = (!fixes.is_empty()).then(|| fixes.join(", "));
            item.help_uri = Some(format!(
                "https://security.snyk.io/vuln/{}",
                gantry_core::markdown::url_path(&item.rule_id)
            ));
            findings.push(item);
        }
    }
    findings
}
