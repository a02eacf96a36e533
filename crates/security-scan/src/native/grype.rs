//! `grype -o json`.

use serde_json::Value;

use super::parts::{by_word, finding, has, text};
use crate::finding::{Finding, Location};
use crate::severity::{Severity, SeveritySource};

pub(super) fn detect(report: &Value) -> bool {
    has(report, "matches") && report["descriptor"]["name"].as_str() == Some("grype")
}

pub(super) fn read(report: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    for matched in report["matches"].as_array().into_iter().flatten() {
        let vulnerability = &matched["vulnerability"];
        let artifact = &matched["artifact"];
        let id = text(&vulnerability["id"]).unwrap_or_else(|| "(no id)".to_owned());
        let score = vulnerability["cvss"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|cvss| {
                cvss["version"]
                    .as_str()
                    .is_none_or(|version| version.starts_with('3'))
            })
            .filter_map(|cvss| cvss["metrics"]["baseScore"].as_f64())
            .reduce(f64::max);
        let severity = match score.and_then(|score| Severity::from_score(score).map(|s| (s, score)))
        {
            Some((severity, score)) => (severity, SeveritySource::Score, Some(score)),
            None => by_word(vulnerability["severity"].as_str(), Severity::Medium),
        };
        let package = text(&artifact["name"]);
        let version = text(&artifact["version"]);
        let path = artifact["locations"]
            .as_array()
            .and_then(|locations| locations.first())
            .and_then(|location| text(&location["path"]));
        let title = text(&vulnerability["description"]).map_or_else(
            || id.clone(),
            |description| description.lines().next().unwrap_or_default().to_owned(),
        );
        let message = format!(
            "{} {} {id}",
            package.as_deref().unwrap_or("?"),
            version.as_deref().unwrap_or("?")
        );
        let mut item = finding(
            "Grype",
            id,
            title,
            message,
            severity,
            Location {
                path,
                ..Location::default()
            },
        );
        item.package = package;
        item.version = version;
        item.help_uri = text(&vulnerability["dataSource"]);
        let fixes = super::parts::strings(&vulnerability["fix"]["versions"]);
        if vulnerability["fix"]["state"].as_str() == Some("fixed") && !fixes.is_empty() {
            item.fixed_in = Some(fixes.join(", "));
        }
        findings.push(item);
    }
    findings
}
