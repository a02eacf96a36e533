//! One finding, whatever tool reported it.

use std::collections::BTreeMap;

use crate::severity::{Severity, SeveritySource};

/// Where a finding is, workspace-relative when it is a file of the repository.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Location {
    /// File (or image, lock file) path as the tool gave it, `file://` removed.
    pub path: Option<String>,
    /// First line, 1-based.
    pub start_line: Option<u32>,
    /// Last line.
    pub end_line: Option<u32>,
    /// First column, 1-based.
    pub start_column: Option<u32>,
    /// Last column.
    pub end_column: Option<u32>,
}

/// The SARIF `level` of a finding: what a linter's gate (quality-gate's `fail-on-lint`) reads.
/// From SARIF, the result's level, else its rule's default, else `warning` (`none` is a note);
/// from other formats, the level their severity word stands for.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// `error`.
    Error,
    /// `warning`, SARIF's default.
    #[default]
    Warning,
    /// `note` or `none`.
    Note,
}

impl Level {
    /// A SARIF level word; anything else is SARIF's default, `warning`.
    pub fn from_sarif(word: &str) -> Self {
        match word {
            "error" => Self::Error,
            "note" | "none" => Self::Note,
            _ => Self::Warning,
        }
    }

    /// The level a severity read from a level stands for (the inverse of
    /// [`Severity::from_sarif_level`]): medium and above are errors, low a warning.
    pub fn of(severity: Severity) -> Self {
        match severity {
            Severity::Critical | Severity::High | Severity::Medium => Self::Error,
            Severity::Low => Self::Warning,
            Severity::Note => Self::Note,
        }
    }
}

/// A finding, normalised.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// The tool, as it names itself (`Trivy`, `bandit`).
    pub tool: String,
    /// The tool's rule or check id.
    pub rule_id: String,
    /// A vulnerability id (CVE, GHSA, RUSTSEC, …) when the finding is one.
    pub vulnerability: Option<String>,
    /// The affected package, for dependency findings.
    pub package: Option<String>,
    /// Its installed version.
    pub version: Option<String>,
    /// The normalised severity.
    pub severity: Severity,
    /// What the severity was decided from.
    pub severity_source: SeveritySource,
    /// The SARIF level.
    #[serde(default)]
    pub level: Level,
    /// The 0–10 score, when the tool gave one.
    pub score: Option<f64>,
    /// One line (the rule's short description or the message's first line).
    pub title: String,
    /// The full message (untrusted text).
    pub message: String,
    /// Where.
    pub location: Location,
    /// Fingerprints the tool computed (`partialFingerprints`).
    pub fingerprints: BTreeMap<String, String>,
    /// Where to read more.
    pub help_uri: Option<String>,
    /// For a dependency finding: the version(s) that fix it, as the tool says (`2.31.0`,
    /// `>=1.2.3`, `4.0.1, 3.9.8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_in: Option<String>,
    /// Suppressed in source by the tool itself (`# nosec`, `nosemgrep`).
    pub suppressed_in_source: bool,
}

/// A CVE, GHSA, RUSTSEC, PYSEC, GO or OSV-style id found in `text`, upper-cased where the
/// scheme is.
pub fn vulnerability_id(text: &str) -> Option<String> {
    for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        // Most tokens are not ids: look at the scheme before building anything.
        let scheme_end = token.find('-').unwrap_or(token.len());
        if !matches!(scheme_end, 2 | 3 | 4 | 5 | 7)
            || !["CVE", "GHSA", "RUSTSEC", "PYSEC", "GO"]
                .iter()
                .any(|scheme| scheme.eq_ignore_ascii_case(&token[..scheme_end]))
        {
            continue;
        }
        let upper = token.to_ascii_uppercase();
        let mut parts = upper.splitn(3, '-');
        let scheme = parts.next().unwrap_or("");
        let first = parts.next().unwrap_or("");
        let rest = parts.next().unwrap_or("");
        let numeric = |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit());
        let matched = match scheme {
            "CVE" | "RUSTSEC" | "PYSEC" | "GO" => numeric(first) && numeric(rest),
            "GHSA" => {
                first.len() == 4
                    && rest.len() == 9
                    && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            }
            _ => false,
        };
        if matched {
            return Some(if scheme == "GHSA" {
                format!(
                    "GHSA-{}-{}",
                    first.to_ascii_lowercase(),
                    rest.to_ascii_lowercase()
                )
            } else {
                upper
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vulnerability_ids_are_found_and_normalised() {
        assert_eq!(
            vulnerability_id("CVE-2019-1549"),
            Some("CVE-2019-1549".into())
        );
        assert_eq!(
            vulnerability_id("see cve-2021-44228 now"),
            Some("CVE-2021-44228".into())
        );
        assert_eq!(
            vulnerability_id("GHSA-JFH8-C2JP-5V3Q"),
            Some("GHSA-jfh8-c2jp-5v3q".into())
        );
        assert_eq!(
            vulnerability_id("RUSTSEC-2020-0071"),
            Some("RUSTSEC-2020-0071".into())
        );
        assert_eq!(vulnerability_id("B105"), None);
        assert_eq!(vulnerability_id("CVE-abc-1"), None);
    }
}
