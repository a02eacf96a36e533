//! `pip-audit -f json` (a list of dependencies, or `{"dependencies": […]}`).

use serde_json::Value;

use super::parts::{UNRATED_VULNERABILITY, Vulnerable, every_item, strings, text};
use crate::finding::Finding;

pub(super) fn detect(report: &Value) -> bool {
    every_item(report, is_pip_audit_dependency)
        || (report.as_object().is_some_and(|map| map.len() <= 2)
            && report["dependencies"]
                .as_array()
                .is_some_and(|items| items.iter().all(is_pip_audit_dependency)))
}

fn is_pip_audit_dependency(item: &Value) -> bool {
    item["name"].is_string() && (item["vulns"].is_array() || item["skip_reason"].is_string())
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    let dependencies = report
        .get("dependencies")
        .unwrap_or(report)
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let mut findings = Vec::new();
    for dependency in dependencies {
        let name = text(&dependency["name"]).unwrap_or_else(|| "(unnamed)".to_owned());
        let version = text(&dependency["version"]);
        for vulnerability in dependency["vulns"].as_array().into_iter().flatten() {
            let id = text(&vulnerability["id"]).unwrap_or_else(|| "(no id)".to_owned());
            let fixes = strings(&vulnerability["fix_versions"]);
            let description = text(&vulnerability["description"]).unwrap_or_else(|| id.clone());
            let title = format!("{id} in {name} {}", version.as_deref().unwrap_or_default());
            let message = if fixes.is_empty() {
                format!("{description}\n\nNo fixed version is known.")
            } else {
                format!("{description}\n\nFixed in: {}.", fixes.join(", "))
            };
            let vulnerable = Vulnerable {
                tool: "pip-audit",
                id: &id,
                aliases: strings(&vulnerability["aliases"]),
                package: &name,
                version: version.clone(),
                path: None,
            };
            let mut found =
                vulnerable.finding(title.trim_end().to_owned(), message, UNRATED_VULNERABILITY);
            found.fixed_in = (!fixes.is_empty()).then(|| fixes.join(", "));
            found.help_uri = Some(format!(
                "https://osv.dev/vulnerability/{}",
                gantry_core::markdown::url_path(&id)
            ));
            findings.push(found);
        }
    }
    findings
}
