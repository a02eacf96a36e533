//! Deduplication across tools, workspace-relative paths, and matching against a baseline.
//!
//! **Deduplication.** A dependency finding is identified by its vulnerability id, package and
//! installed version: the same CVE in the same package version from Trivy, Grype and Snyk is one
//! finding naming all three. Any other finding is identified by its tool, rule and place (file,
//! first line, first column): the same rule at the same place reported twice is one finding;
//! different places stay different. The merged finding keeps the report with the strongest
//! severity evidence (a score over a tool's word over a SARIF level), then the most severe.
//!
//! **Baselines.** Matching is by content, not line number: a code finding matches a baseline
//! finding of the same tool, rule and file with the same `primaryLocationLineHash` (the upload
//! action's hash of the line's text and what follows it), so lines moving keeps it matched and a
//! fixed finding and a new one of the same rule in the same file are told apart. Where a side has
//! no hash (its file is not in the workspace) the message and the nearest line decide. A
//! dependency finding matches the same vulnerability in the same package; another installed
//! version is `updated`.

use std::collections::{BTreeMap, HashMap};

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

/// The identity two reports of one finding share.
pub fn identity(finding: &Finding) -> String {
    match (&finding.vulnerability, &finding.package) {
        (Some(vulnerability), Some(package)) => format!(
            "dependency\u{0}{vulnerability}\u{0}{}\u{0}{}",
            package.to_ascii_lowercase(),
            finding.version.as_deref().unwrap_or_default()
        ),
        _ => format!(
            "place\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
            finding.tool,
            finding.rule_id,
            finding.location.path.as_deref().unwrap_or_default(),
            finding.location.start_line.unwrap_or(0),
            finding.location.start_column.unwrap_or(0)
        ),
    }
}

/// The `partialFingerprints` entry holding [`Merged::content_key`] in the SARIF we write.
pub const CONTENT_KEY: &str = "gantryLineContent/v1";

/// Deduplicates findings, keeping the order in which each was first seen.
pub fn dedupe(findings: Vec<Finding>) -> Vec<Merged> {
    let mut merged: Vec<Merged> = Vec::new();
    let mut by_identity: HashMap<String, usize> = HashMap::new();
    for finding in findings {
        let key = identity(&finding);
        if let Some(&index) = by_identity.get(&key) {
            let entry = &mut merged[index];
            if entry.content_key.is_none() {
                entry.content_key = finding.fingerprints.get(CONTENT_KEY).cloned();
            }
            if !entry.tools.contains(&finding.tool) {
                entry.tools.push(finding.tool.clone());
                entry.tools.sort();
            }
            if entry.line_hash.is_none() {
                entry.line_hash = finding.fingerprints.get("primaryLocationLineHash").cloned();
            }
            entry.finding.suppressed_in_source |= finding.suppressed_in_source;
            if stronger(&finding, &entry.finding) {
                let suppressed = entry.finding.suppressed_in_source;
                entry.finding = finding;
                entry.finding.suppressed_in_source = suppressed;
            }
            continue;
        }
        by_identity.insert(key, merged.len());
        merged.push(Merged {
            tools: vec![finding.tool.clone()],
            line_hash: finding.fingerprints.get("primaryLocationLineHash").cloned(),
            content_key: finding.fingerprints.get(CONTENT_KEY).cloned(),
            finding,
            state: None,
            suppressed_by: None,
            expired: Vec::new(),
        });
    }
    merged
}

/// The workspace as the action sees it: where it is, and its files' text.
pub trait Workspace {
    /// Absolute path of the workspace root (`GITHUB_WORKSPACE`), without a trailing `/`.
    fn root(&self) -> &str;
    /// Whether a workspace-relative path is a file.
    fn is_file(&self, relative: &str) -> bool;
    /// A workspace file's text, if it is one and is text.
    fn read_text(&self, relative: &str) -> Option<String>;
}

/// A workspace with no files (reports read on their own: tests, benchmarks, a WASI host):
/// paths are still made relative to `/github/workspace`, nothing is hashed.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoWorkspace;

impl Workspace for NoWorkspace {
    fn root(&self) -> &'static str {
        "/github/workspace"
    }
    fn is_file(&self, _: &str) -> bool {
        false
    }
    fn read_text(&self, _: &str) -> Option<String> {
        None
    }
}

/// Roots tools commonly report from when they run in a container or on another checkout.
const FOREIGN_ROOTS: [&str; 3] = ["/github/workspace/", "/src/", "/code/"];

/// A path as a workspace-relative URI path, and whether it had to be guessed. Relative paths are
/// kept; absolute ones lose the workspace root, a known container root, or else as many leading
/// folders as it takes to name a workspace file; failing all that the path is kept, made
/// relative, and flagged.
pub fn relative_path(path: &str, workspace: &dyn Workspace) -> (String, bool) {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("file://").unwrap_or(&path);
    // `file:///C:/x` and `/C:/x`.
    let path = if path.len() > 3 && path.as_bytes()[0] == b'/' && path.as_bytes()[2] == b':' {
        &path[1..]
    } else {
        path
    };
    let root = format!("{}/", workspace.root().trim_end_matches('/'));
    if let Some(inside) = path.strip_prefix(&root) {
        return (inside.to_owned(), false);
    }
    let is_absolute = path.starts_with('/') || path.get(1..3) == Some(":/");
    if !is_absolute {
        return (path.trim_start_matches("./").to_owned(), false);
    }
    for foreign in FOREIGN_ROOTS {
        if let Some(inside) = path.strip_prefix(foreign) {
            if workspace.is_file(inside) {
                return (inside.to_owned(), false);
            }
        }
    }
    let parts: Vec<&str> = path.split('/').filter(|part| !part.is_empty()).collect();
    for start in 1..parts.len() {
        let candidate = parts[start..].join("/");
        if workspace.is_file(&candidate) {
            return (candidate, false);
        }
    }
    (parts.join("/"), true)
}

type LineKeys = Option<(Vec<String>, Vec<String>)>;

/// Computes `primaryLocationLineHash` and the content key from the workspace's files (a hash the
/// tool gave is replaced: the upload action would compute the same one from the same file).
pub fn hash_lines(merged: &mut [Merged], workspace: &dyn Workspace) {
    let mut files: HashMap<String, LineKeys> = HashMap::new();
    for entry in merged.iter_mut() {
        let location = &entry.finding.location;
        let (Some(path), Some(line)) = (&location.path, location.start_line) else {
            continue;
        };
        let keys = files.entry(path.clone()).or_insert_with(|| {
            workspace.read_text(path).map(|text| {
                (
                    crate::fingerprint::line_hashes(&text),
                    crate::fingerprint::line_content_keys(&text),
                )
            })
        });
        let Some((hashes, contents)) = keys.as_ref() else {
            continue;
        };
        let index = usize::try_from(line).unwrap_or(usize::MAX) - 1;
        if let (Some(hash), Some(content)) = (hashes.get(index), contents.get(index)) {
            entry.line_hash = Some(hash.clone());
            entry.content_key = Some(content.clone());
        }
    }
}

fn is_dependency(entry: &Merged) -> bool {
    entry.finding.package.is_some() && entry.finding.vulnerability.is_some()
}

fn hash_without_occurrence(hash: &str) -> &str {
    hash.split(':').next().unwrap_or(hash)
}

/// One matching pass: whether a current finding and a baseline one of the same group match.
type Pass = fn(&Merged, &Merged) -> bool;

/// Marks each finding `new`, `unchanged` or `updated` against the baseline's findings and
/// returns the baseline findings that are gone (`absent`: fixed).
pub fn match_baseline(merged: &mut [Merged], baseline: Vec<Merged>) -> Vec<Merged> {
    let mut left: Vec<Option<Merged>> = baseline.into_iter().map(Some).collect();
    // Candidates by the part of the identity that does not move: tool (or vulnerability),
    // rule, file.
    let group = |entry: &Merged| -> String {
        let finding = &entry.finding;
        match (&finding.vulnerability, &finding.package) {
            (Some(vulnerability), Some(package)) => {
                format!(
                    "dependency\u{0}{vulnerability}\u{0}{}",
                    package.to_ascii_lowercase()
                )
            }
            _ => format!(
                "code\u{0}{}\u{0}{}\u{0}{}",
                finding.tool.to_ascii_lowercase(),
                finding.rule_id,
                finding.location.path.as_deref().unwrap_or_default()
            ),
        }
    };
    let mut by_group: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, entry) in left.iter().enumerate() {
        if let Some(entry) = entry {
            by_group.entry(group(entry)).or_default().push(index);
        }
    }
    let mut states: Vec<Option<BaselineState>> = vec![None; merged.len()];
    // Passes from the surest to the loosest; each pairs one-to-one.
    let passes: [Pass; 5] = [
        // Dependencies (grouped by vulnerability and package): same version; then any version.
        |current, old| is_dependency(current) && current.finding.version == old.finding.version,
        |current, _| is_dependency(current),
        // Code (grouped by tool, rule, file): the same line text, nearest first.
        |current, old| matches!((&current.content_key, &old.content_key), (Some(a), Some(b)) if a == b),
        // The same upload hash (when a tool gave one and the file is not here).
        |current, old| match (&current.line_hash, &old.line_hash) {
            (Some(a), Some(b)) => hash_without_occurrence(a) == hash_without_occurrence(b),
            _ => false,
        },
        // Nothing to compare the text by on one side: the same message, nearest first.
        |current, old| {
            (current.content_key.is_none() || old.content_key.is_none())
                && (current.line_hash.is_none() || old.line_hash.is_none())
                && current.finding.message == old.finding.message
        },
    ];
    for pass in passes {
        for (index, entry) in merged.iter().enumerate() {
            if states[index].is_some() {
                continue;
            }
            let Some(candidates) = by_group.get(&group(entry)) else {
                continue;
            };
            let line = i64::from(entry.finding.location.start_line.unwrap_or(0));
            let best = candidates
                .iter()
                .copied()
                .filter(|&candidate| left[candidate].as_ref().is_some_and(|old| pass(entry, old)))
                .min_by_key(|&candidate| {
                    let old_line = left[candidate].as_ref().map_or(0, |old| {
                        i64::from(old.finding.location.start_line.unwrap_or(0))
                    });
                    (line - old_line).abs()
                });
            if let Some(found) = best {
                let Some(old) = left[found].take() else {
                    continue;
                };
                let changed = old.finding.severity != entry.finding.severity
                    || old.finding.version != entry.finding.version;
                states[index] = Some(if changed {
                    BaselineState::Updated
                } else {
                    BaselineState::Unchanged
                });
            }
        }
    }
    for (entry, state) in merged.iter_mut().zip(states) {
        entry.state = Some(state.unwrap_or(BaselineState::New));
    }
    left.into_iter()
        .flatten()
        .map(|mut gone| {
            gone.state = Some(BaselineState::Absent);
            gone
        })
        .collect()
}

#[cfg(test)]
mod tests {
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
            suppressed_in_source: false,
        }
    }

    fn dependency(
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

    struct Files(Vec<(&'static str, &'static str)>);
    impl Workspace for Files {
        fn root(&self) -> &'static str {
            "/srv/checkout/app"
        }
        fn is_file(&self, relative: &str) -> bool {
            self.0.iter().any(|(path, _)| *path == relative)
        }
        fn read_text(&self, relative: &str) -> Option<String> {
            self.0
                .iter()
                .find(|(path, _)| *path == relative)
                .map(|(_, text)| (*text).to_owned())
        }
    }

    #[test]
    fn absolute_paths_become_workspace_relative() {
        let files = Files(vec![("src/app.py", ""), ("modules/vpc/main.tf", "")]);
        assert_eq!(
            relative_path("/srv/checkout/app/src/app.py", &files),
            ("src/app.py".into(), false)
        );
        assert_eq!(
            relative_path("file:///github/workspace/src/app.py", &files),
            ("src/app.py".into(), false)
        );
        assert_eq!(
            relative_path("./src/app.py", &files),
            ("src/app.py".into(), false)
        );
        assert_eq!(
            relative_path("/tmp/checkout/modules/vpc/main.tf", &files),
            ("modules/vpc/main.tf".into(), false)
        );
        assert_eq!(
            relative_path("/usr/lib/libssl.so", &files),
            ("usr/lib/libssl.so".into(), true)
        );
        assert_eq!(
            relative_path("C:\\work\\src\\app.py", &files),
            ("src/app.py".into(), false)
        );
    }

    #[test]
    fn baseline_matching_survives_moves_and_tells_fixed_from_new() {
        let before = Files(vec![("a.py", "import os\nos.system(a)\nos.system(b)\n")]);
        let after = Files(vec![(
            "a.py",
            "import os\n\n\nos.system(b)\nos.system(c)\n",
        )]);
        let mut baseline = dedupe(vec![
            finding("Bandit", "B605", "a.py", 2),
            finding("Bandit", "B605", "a.py", 3),
        ]);
        hash_lines(&mut baseline, &before);
        let mut current = dedupe(vec![
            finding("Bandit", "B605", "a.py", 4),
            finding("Bandit", "B605", "a.py", 5),
        ]);
        hash_lines(&mut current, &after);
        let absent = match_baseline(&mut current, baseline);
        assert_eq!(
            current[0].state,
            Some(BaselineState::Unchanged),
            "moved from line 3 to 4"
        );
        assert_eq!(
            current[1].state,
            Some(BaselineState::New),
            "os.system(c) was added"
        );
        assert_eq!(absent.len(), 1);
        assert_eq!(
            absent[0].finding.location.start_line,
            Some(2),
            "os.system(a) was fixed"
        );
    }

    #[test]
    fn a_dependency_at_another_version_is_updated() {
        let baseline = dedupe(vec![dependency(
            "Trivy",
            "CVE-1",
            "openssl",
            "1.1",
            Severity::High,
        )]);
        let mut current = dedupe(vec![
            dependency("Trivy", "CVE-1", "openssl", "1.2", Severity::High),
            dependency("Trivy", "CVE-2", "openssl", "1.2", Severity::High),
        ]);
        let absent = match_baseline(&mut current, baseline);
        assert_eq!(current[0].state, Some(BaselineState::Updated));
        assert_eq!(current[1].state, Some(BaselineState::New));
        assert!(absent.is_empty());
    }
}
