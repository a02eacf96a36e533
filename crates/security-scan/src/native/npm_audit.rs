//! `npm audit --json`, npm 6 (`advisories`) and npm 7+ (`auditReportVersion: 2`).

use serde_json::Value;

use super::parts::{by_word, finding, has, scored, text};
use crate::finding::{Finding, Location, vulnerability_id};
use crate::severity::Severity;

pub(super) fn detect(report: &Value) -> bool {
    (has(report, "auditReportVersion") && has(report, "vulnerabilities"))
        || (has(report, "advisories") && has(report, "actions"))
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(vulnerabilities) = report["vulnerabilities"].as_object() {
        // npm 7+: per package, `via` lists the advisories (objects) or other packages (strings).
        for (package, entry) in vulnerabilities {
            for advisory in entry["via"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|via| via.is_object())
            {
                let url = text(&advisory["url"]);
                let id = url
                    .as_deref()
                    .and_then(vulnerability_id)
                    .or_else(|| {
                        advisory["source"]
                            .as_u64()
                            .map(|source| format!("npm-{source}"))
                    })
                    .unwrap_or_else(|| "(no id)".to_owned());
                let severity = scored(
                    advisory["cvss"]["score"]
                        .as_f64()
                        .filter(|score| *score > 0.0),
                    advisory["cvss"]["vectorString"].as_str(),
                    advisory["severity"].as_str(),
                    Severity::Medium,
                );
                let title = text(&advisory["title"]).unwrap_or_else(|| id.clone());
                let range = text(&advisory["range"]).unwrap_or_default();
                let message = format!("{package} {range}: {title}");
                let mut item = finding(
                    "npm audit",
                    id,
                    title,
                    message,
                    severity,
                    Location {
                        path: Some("package-lock.json".to_owned()),
                        ..Location::default()
                    },
                );
                item.package = Some(package.clone());
                item.help_uri = url;
                // `fixAvailable`: the package version `npm audit fix` installs, or whether
                // one exists at all.
                item.fixed_in = match &entry["fixAvailable"] {
                    Value::Object(fix) => text(&fix["version"]).map(|version| {
                        let name = text(&fix["name"]).unwrap_or_else(|| package.clone());
                        let major = if fix["isSemVerMajor"].as_bool() == Some(true) {
                            " (a major upgrade)"
                        } else {
                            ""
                        };
                        if name == *package {
                            format!("{version}{major}")
                        } else {
                            format!("{name} {version}{major}")
                        }
                    }),
                    _ => None,
                };
                findings.push(item);
            }
        }
    }
    if let Some(advisories) = report["advisories"].as_object() {
        // npm 6: one advisory, possibly several installed versions.
        for advisory in advisories.values() {
            let package = text(&advisory["module_name"]);
            let id = advisory["cves"]
                .as_array()
                .and_then(|cves| cves.first())
                .and_then(text)
                .or_else(|| advisory["github_advisory_id"].as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("npm-{}", advisory["id"]));
            let title = text(&advisory["title"]).unwrap_or_else(|| id.clone());
            let versions: Vec<String> = advisory["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|found| text(&found["version"]))
                .collect();
            for version in if versions.is_empty() {
                vec![None]
            } else {
                versions.into_iter().map(Some).collect()
            } {
                let message = format!(
                    "{} {}: {title}",
                    package.as_deref().unwrap_or("?"),
                    version.as_deref().unwrap_or("?")
                );
                let mut item = finding(
                    "npm audit",
                    id.clone(),
                    title.clone(),
                    message,
                    by_word(advisory["severity"].as_str(), Severity::Medium),
                    Location {
                        path: Some("package-lock.json".to_owned()),
                        ..Location::default()
                    },
                );
                item.package.clone_from(&package);
                item.version = version;
                item.help_uri = text(&advisory["url"]);
                item.fixed_in = text(&advisory["patched_versions"]).filter(|v| v != "<0.0.0");
                findings.push(item);
            }
        }
    }
    findings
}
