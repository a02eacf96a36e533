//! Deduplication across tools and workspace-relative paths (matching against a baseline is
//! [`crate::baseline`]).
//!
//! **Deduplication.** A dependency finding is identified by its vulnerability id, package and
//! installed version: the same CVE in the same package version from Trivy, Grype and Snyk is one
//! finding naming all three. Any other finding is identified by its tool identity
//! ([`crate::tools`]), rule and place (file, first line): the same rule at the same line reported
//! twice is one finding — also when one report gives a column and the other none (Trivy's SARIF
//! says `startColumn: 1`, its JSON no column). A column only separates two findings of one line
//! that both have one. The merged finding keeps the report with the strongest
//! severity evidence (a score over a tool's word over a SARIF level), then the most severe.

use std::collections::BTreeMap;

use crate::finding::Finding;
use crate::severity::SeveritySource;

/// A finding after deduplication.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The representative report.
    pub finding: Finding,
    /// Every tool that reported it, sorted.
    pub tools: Vec<String>,
    /// `primaryLocationLineHash`, from the source file or the tool.
    pub line_hash: Option<String>,
    /// A key of the text of the finding's first line ([`crate::fingerprint::line_content_keys`]).
    pub content_key: Option<String>,
    /// Keys of the non-blank lines around it ([`crate::baseline::Neighbourhood`]).
    pub context: Option<String>,
    /// Against the baseline, when one is given.
    pub state: Option<BaselineState>,
    /// The suppression that applies, by index into the suppressions.
    pub suppressed_by: Option<usize>,
    /// Suppressions that would apply but expired.
    pub expired: Vec<usize>,
}

/// SARIF's `baselineState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BaselineState {
    /// Not in the baseline.
    New,
    /// In the baseline, the same.
    Unchanged,
    /// In the baseline, changed (another version, another severity).
    Updated,
    /// In the baseline only: fixed.
    Absent,
}

impl BaselineState {
    /// SARIF's word.
    pub fn word(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Unchanged => "unchanged",
            Self::Updated => "updated",
            Self::Absent => "absent",
        }
    }
}

fn evidence_rank(source: SeveritySource) -> u8 {
    match source {
        SeveritySource::Score => 2,
        SeveritySource::ToolWord => 1,
        SeveritySource::Level => 0,
    }
}

/// Whether `candidate` is better evidence than `current`.
fn stronger(candidate: &Finding, current: &Finding) -> bool {
    let rank = |finding: &Finding| (evidence_rank(finding.severity_source), finding.severity);
    match rank(candidate).cmp(&rank(current)) {
        std::cmp::Ordering::Equal => candidate
            .score
            .unwrap_or(-1.0)
            .total_cmp(&current.score.unwrap_or(-1.0))
            .is_gt(),
        order => order.is_gt(),
    }
}

/// The identity two reports of one finding share (beside the column, see [`dedupe`]).
pub fn identity(finding: &Finding) -> String {
    match (&finding.vulnerability, &finding.package) {
        (Some(vulnerability), Some(package)) => format!(
            "dependency\u{0}{vulnerability}\u{0}{}\u{0}{}",
            package.to_ascii_lowercase(),
            finding.version.as_deref().unwrap_or_default()
        ),
        _ => format!(
            "place\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
            crate::tools::tool_identity(&finding.tool).slug,
            finding.rule_id,
            finding.location.path.as_deref().unwrap_or_default(),
            // A finding on no line is on the file as a whole, which a SARIF writer puts on
            // line 1 (Trivy's file-level misconfigurations: no line in its JSON, 1 in its SARIF).
            finding.location.start_line.unwrap_or(1),
        ),
    }
}

/// The `partialFingerprints` entry holding [`Merged::content_key`] in the SARIF we write.
pub const CONTENT_KEY: &str = "gantryLineContent/v1";

/// The `partialFingerprints` entry holding [`Merged::context`] in the SARIF we write.
pub const CONTEXT_KEY: &str = "gantryLineContext/v1";

/// Deduplicates findings, keeping the order in which each was first seen.
pub fn dedupe(findings: Vec<Finding>) -> Vec<Merged> {
    let mut merged: Vec<Merged> = Vec::new();
    // Findings of one identity, by their index; a column separates them only when both have one.
    let mut by_identity: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for finding in findings {
        let key = identity(&finding);
        let column = finding.location.start_column;
        let same = by_identity.get(&key).and_then(|indexes| {
            indexes.iter().copied().find(|&index| {
                let other = merged[index].finding.location.start_column;
                column.is_none() || other.is_none() || column == other
            })
        });
        if let Some(index) = same {
            let entry = &mut merged[index];
            if entry.content_key.is_none() {
                entry.content_key = finding.fingerprints.get(CONTENT_KEY).cloned();
            }
            if entry.context.is_none() {
                entry.context = finding.fingerprints.get(CONTEXT_KEY).cloned();
            }
            if !entry.tools.contains(&finding.tool) {
                entry.tools.push(finding.tool.clone());
                entry.tools.sort();
            }
            if entry.line_hash.is_none() {
                entry.line_hash = finding.fingerprints.get("primaryLocationLineHash").cloned();
            }
            // What one tool knows of the fix or the advisory is kept whichever tool's
            // finding is kept.
            let fixed_in = entry
                .finding
                .fixed_in
                .take()
                .or_else(|| finding.fixed_in.clone());
            let help_uri = entry
                .finding
                .help_uri
                .take()
                .or_else(|| finding.help_uri.clone());
            entry.finding.suppressed_in_source |= finding.suppressed_in_source;
            if entry.finding.location.start_column.is_none() {
                entry.finding.location.start_column = column;
            }
            if stronger(&finding, &entry.finding) {
                let suppressed = entry.finding.suppressed_in_source;
                let kept_column = entry.finding.location.start_column;
                entry.finding = finding;
                entry.finding.suppressed_in_source = suppressed;
                entry.finding.location.start_column =
                    entry.finding.location.start_column.or(kept_column);
            }
            entry.finding.fixed_in = entry.finding.fixed_in.take().or(fixed_in);
            entry.finding.help_uri = entry.finding.help_uri.take().or(help_uri);
            continue;
        }
        by_identity.entry(key).or_default().push(merged.len());
        merged.push(Merged {
            tools: vec![finding.tool.clone()],
            line_hash: finding.fingerprints.get("primaryLocationLineHash").cloned(),
            content_key: finding.fingerprints.get(CONTENT_KEY).cloned(),
            context: finding.fingerprints.get(CONTEXT_KEY).cloned(),
            finding,
            state: None,
            suppressed_by: None,
            expired: Vec::new(),
        });
    }
    merged
}

#[cfg(test)]
pub(crate) mod tests {

    use super::*;
    use crate::finding::Location;
    use crate::severity::Severity;

    pub(crate) fn finding(tool: &str, rule: &str, path: &str, line: u32) -> Finding {
        Finding {
            tool: tool.into(),
            rule_id: rule.into(),
            vulnerability: None,
            package: None,
            version: None,
            severity: Severity::Medium,
            severity_source: SeveritySource::ToolWord,
            level: crate::finding::Level::Error,
            score: None,
            title: rule.into(),
            message: format!("{rule} message"),
            location: Location {
                path: Some(path.into()),
                start_line: Some(line),
                ..Location::default()
            },
            fingerprints: BTreeMap::new(),
            help_uri: None,
            fixed_in: None,
            suppressed_in_source: false,
        }
    }

    pub(crate) fn dependency(
        tool: &str,
        id: &str,
        package: &str,
        version: &str,
        severity: Severity,
    ) -> Finding {
        let mut found = finding(tool, id, "Cargo.lock", 1);
        found.vulnerability = Some(id.into());
        found.package = Some(package.into());
        found.version = Some(version.into());
        found.severity = severity;
        found
    }

    #[test]
    fn one_vulnerability_from_three_tools_is_one_finding_naming_them() {
        let mut scored = dependency("Grype", "CVE-1", "openssl", "1.1", Severity::High);
        scored.severity_source = SeveritySource::Score;
        scored.score = Some(7.5);
        let merged = dedupe(vec![
            dependency("Trivy", "CVE-1", "openssl", "1.1", Severity::Medium),
            scored,
            dependency("Snyk", "CVE-1", "OpenSSL", "1.1", Severity::Critical),
            dependency("Snyk", "CVE-1", "openssl", "1.2", Severity::Critical),
            finding("Bandit", "B105", "a.py", 3),
            finding("Bandit", "B105", "a.py", 3),
            finding("Bandit", "B105", "a.py", 4),
        ]);
        assert_eq!(merged.len(), 4);
        assert_eq!(merged[0].tools, ["Grype", "Snyk", "Trivy"]);
        assert_eq!(
            merged[0].finding.severity,
            Severity::High,
            "the scored report wins"
        );
        assert_eq!(merged[1].finding.version.as_deref(), Some("1.2"));
        assert_eq!(merged[2].tools, ["Bandit"]);
    }

    /// Where the test workspaces are.
    pub(crate) const ROOT: &str = "/srv/checkout/app";
}
