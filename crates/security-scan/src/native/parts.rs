//! What several readers share: fields read leniently, the finding built from them, the
//! severity from a level, a word or a score.

use serde_json::Value;

use crate::finding::{Finding, Level, Location, vulnerability_id};
use crate::severity::{Severity, SeveritySource};

/// A non-empty list whose every item satisfies `test`.
pub(super) fn every_item(report: &Value, test: impl Fn(&Value) -> bool) -> bool {
    report
        .as_array()
        .is_some_and(|items| !items.is_empty() && items.iter().all(test))
}

pub(super) fn text(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

pub(super) fn line(value: &Value) -> Option<u32> {
    value
        .as_u64()
        .filter(|line| *line > 0)
        .and_then(|line| u32::try_from(line).ok())
}

pub(super) fn finding(
    tool: &str,
    rule_id: String,
    title: String,
    message: String,
    severity: (Severity, SeveritySource, Option<f64>),
    location: Location,
) -> Finding {
    Finding {
        tool: tool.to_owned(),
        vulnerability: vulnerability_id(&rule_id),
        rule_id,
        package: None,
        version: None,
        severity: severity.0,
        severity_source: severity.1,
        level: Level::of(severity.0),
        score: severity.2,
        title,
        message,
        location,
        fingerprints: std::collections::BTreeMap::new(),
        help_uri: None,
        fixed_in: None,
        suppressed_in_source: false,
    }
}

/// A word severity, or the given fallback when the word says nothing.
pub(super) fn by_word(
    word: Option<&str>,
    fallback: Severity,
) -> (Severity, SeveritySource, Option<f64>) {
    match word.and_then(Severity::from_word) {
        Some(severity) => (severity, SeveritySource::ToolWord, None),
        None => (fallback, SeveritySource::Level, None),
    }
}

/// A level word of a linter (`error`, `warning`, `info`, `style`) as a SARIF level.
pub(super) fn lint_level(level: Option<&str>) -> (Severity, SeveritySource, Option<f64>) {
    let level = match level.unwrap_or("warning") {
        "error" => "error",
        "warning" => "warning",
        _ => "note",
    };
    (
        Severity::from_sarif_level(level),
        SeveritySource::Level,
        None,
    )
}

/// hadolint and `ShellCheck`: a list of `{file, line, column, code, level, message}`.
pub(super) fn lint_list(
    tool: &str,
    list: &Value,
    code: impl Fn(&Value) -> Option<String>,
) -> Vec<Finding> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let id = code(item).unwrap_or_else(|| "(no code)".to_owned());
            let message = text(&item["message"]).unwrap_or_else(|| id.clone());
            let location = Location {
                path: text(&item["file"])
                    .map(|path| path.replace('\\', "/").trim_start_matches("./").to_owned()),
                start_line: line(&item["line"]),
                end_line: line(&item["endLine"]).or_else(|| line(&item["line"])),
                start_column: line(&item["column"]),
                end_column: line(&item["endColumn"]),
            };
            finding(
                tool,
                id,
                message.lines().next().unwrap_or_default().to_owned(),
                message,
                lint_level(item["level"].as_str()),
                location,
            )
        })
        .collect()
}

/// Score first (a number, or a CVSS v3 vector computed), then the word.
pub(super) fn scored(
    score: Option<f64>,
    vector: Option<&str>,
    word: Option<&str>,
    fallback: Severity,
) -> (Severity, SeveritySource, Option<f64>) {
    let score = score.or_else(|| vector.and_then(crate::severity::cvss3_base_score));
    match score.and_then(|score| Severity::from_score(score).map(|severity| (severity, score))) {
        Some((severity, score)) => (severity, SeveritySource::Score, Some(score)),
        None => by_word(word, fallback),
    }
}

/// A dependency vulnerability without a score or word: a known vulnerability is at least worth
/// a look, so medium, decided from the weakest evidence.
pub(super) const UNRATED_VULNERABILITY: (Severity, SeveritySource, Option<f64>) =
    (Severity::Medium, SeveritySource::Level, None);

/// One vulnerable package version, as a package auditor reports it.
pub(super) struct Vulnerable<'r> {
    pub(super) tool: &'r str,
    pub(super) id: &'r str,
    pub(super) aliases: Vec<String>,
    pub(super) package: &'r str,
    pub(super) version: Option<String>,
    /// The lock file or manifest, when the tool names it.
    pub(super) path: Option<String>,
}

impl Vulnerable<'_> {
    /// The finding: its vulnerability id is a CVE among the aliases when there is one (so the
    /// same CVE from different databases is one finding).
    pub(super) fn finding(
        self,
        title: String,
        message: String,
        severity: (Severity, SeveritySource, Option<f64>),
    ) -> Finding {
        let vulnerability = std::iter::once(self.id)
            .chain(self.aliases.iter().map(String::as_str))
            .filter_map(vulnerability_id)
            .min_by_key(|found| !found.starts_with("CVE-"));
        let mut found = finding(
            self.tool,
            self.id.to_owned(),
            title,
            message,
            severity,
            Location {
                path: self.path,
                ..Location::default()
            },
        );
        found.vulnerability = vulnerability.or_else(|| Some(self.id.to_owned()));
        found.package = Some(self.package.to_owned());
        found.version = self.version;
        found
    }
}

pub(super) fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(text)
        .collect()
}

/// Whether an object has the key.
pub(super) fn has(value: &Value, key: &str) -> bool {
    value.get(key).is_some()
}
