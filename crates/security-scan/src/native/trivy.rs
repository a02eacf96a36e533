//! `trivy … --format json`.

use serde_json::Value;

use super::parts::{by_word, every_item, finding, has, line, text};
use crate::finding::{Finding, Location};
use crate::severity::{Severity, SeveritySource};

pub(super) fn detect(report: &Value) -> bool {
    (has(report, "SchemaVersion") && (has(report, "Results") || has(report, "ArtifactName")))
        || (has(report, "ClusterName")
            && (has(report, "Vulnerabilities") || has(report, "Misconfigurations")))
        || every_item(report, |item| {
            item["Target"].is_string()
                && (has(item, "Vulnerabilities")
                    || has(item, "Misconfigurations")
                    || has(item, "Type"))
        })
}

/// The highest CVSS v3 score among Trivy's sources (NVD first when present).
fn trivy_score(vulnerability: &Value) -> Option<f64> {
    let cvss = vulnerability["CVSS"].as_object()?;
    cvss.get("nvd")
        .and_then(|nvd| nvd["V3Score"].as_f64())
        .or_else(|| {
            cvss.values()
                .filter_map(|source| source["V3Score"].as_f64())
                .reduce(f64::max)
        })
}

/// Trivy's shapes: a report with `Results` (schema 2), a bare list of results (before schema
/// versions), or a Kubernetes report whose resources each carry `Results`.
pub(super) fn read(report: &Value) -> Vec<Finding> {
    if let Some(results) = report.as_array() {
        return trivy_results(results);
    }
    if report.get("ClusterName").is_some() {
        let mut findings = Vec::new();
        for section in ["Vulnerabilities", "Misconfigurations", "Resources"] {
            for resource in report[section].as_array().into_iter().flatten() {
                findings.extend(trivy_results(
                    resource["Results"]
                        .as_array()
                        .map_or(&[][..], Vec::as_slice),
                ));
            }
        }
        return findings;
    }
    trivy_results(report["Results"].as_array().map_or(&[][..], Vec::as_slice))
}

fn trivy_results(results: &[Value]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for result in results {
        let target = text(&result["Target"]);
        for vulnerability in result["Vulnerabilities"].as_array().into_iter().flatten() {
            let id =
                text(&vulnerability["VulnerabilityID"]).unwrap_or_else(|| "(no id)".to_owned());
            let severity = match trivy_score(vulnerability)
                .and_then(|score| Severity::from_score(score).map(|s| (s, score)))
            {
                Some((severity, score)) => (severity, SeveritySource::Score, Some(score)),
                None => by_word(vulnerability["Severity"].as_str(), Severity::Medium),
            };
            let package = text(&vulnerability["PkgName"]);
            let version = text(&vulnerability["InstalledVersion"]);
            let title = text(&vulnerability["Title"]).unwrap_or_else(|| id.clone());
            let message = format!(
                "{} {} {}: {}",
                package.as_deref().unwrap_or("?"),
                version.as_deref().unwrap_or("?"),
                id,
                text(&vulnerability["Description"]).unwrap_or_else(|| title.clone())
            );
            let mut item = finding(
                "Trivy",
                id,
                title,
                message,
                severity,
                Location {
                    path: target.clone(),
                    ..Location::default()
                },
            );
            item.package = package;
            item.version = version;
            item.help_uri = text(&vulnerability["PrimaryURL"]);
            item.fixed_in = text(&vulnerability["FixedVersion"]);
            findings.push(item);
        }
        for misconfiguration in result["Misconfigurations"].as_array().into_iter().flatten() {
            if misconfiguration["Status"]
                .as_str()
                .is_some_and(|status| status != "FAIL")
            {
                continue;
            }
            let id = text(&misconfiguration["AVDID"])
                .or_else(|| text(&misconfiguration["ID"]))
                .unwrap_or_else(|| "(no id)".to_owned());
            let cause = &misconfiguration["CauseMetadata"];
            let location = Location {
                path: target.clone(),
                start_line: line(&cause["StartLine"]),
                end_line: line(&cause["EndLine"]),
                ..Location::default()
            };
            let title = text(&misconfiguration["Title"]).unwrap_or_else(|| id.clone());
            let message = text(&misconfiguration["Message"]).unwrap_or_else(|| title.clone());
            let mut item = finding(
                "Trivy",
                id,
                title,
                message,
                by_word(misconfiguration["Severity"].as_str(), Severity::Medium),
                location,
            );
            item.help_uri = text(&misconfiguration["PrimaryURL"]);
            findings.push(item);
        }
        for secret in result["Secrets"].as_array().into_iter().flatten() {
            let id = text(&secret["RuleID"]).unwrap_or_else(|| "secret".to_owned());
            let title = text(&secret["Title"]).unwrap_or_else(|| id.clone());
            let location = Location {
                path: target.clone(),
                start_line: line(&secret["StartLine"]),
                end_line: line(&secret["EndLine"]),
                ..Location::default()
            };
            // Trivy's `Match` holds the secret itself (masked, but not always): never kept.
            let message = format!("{title} (secret not shown)");
            findings.push(finding(
                "Trivy",
                id,
                title,
                message,
                by_word(secret["Severity"].as_str(), Severity::High),
                location,
            ));
        }
    }
    findings
}
