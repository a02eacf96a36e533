//! The gate: what this run found, against the baseline this action wrote on the base branch,
//! and the decision.
//!
//! Every run writes a summary (the `summary-file` output); on the base branch it is the baseline
//! the pull request is compared with: new failures (failing here, not failing there), fixed tests
//! (failing there, passing here), the coverage delta, and new lint findings. A lint finding is
//! known when the baseline has one of the same tool, rule, file and message — its line may have
//! moved — and as many of them.

use std::collections::BTreeMap;

use gantry_core::junit::{Outcome, TestSuite, Totals};
use serde::{Deserialize, Serialize};

use crate::coverage::{Coverage, percent};
use crate::lint::{LintFinding, LintSeverity};

/// The summary's format version.
pub const SUMMARY_VERSION: u32 = 1;

/// Coverage as the summary keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageSummary {
    /// Lines that could run.
    pub lines_valid: u64,
    /// Lines that ran.
    pub lines_covered: u64,
    /// Branches that could be taken.
    pub branches_valid: u64,
    /// Branches taken.
    pub branches_covered: u64,
    /// Per file: (lines valid, lines covered).
    pub files: BTreeMap<String, (u64, u64)>,
}

impl CoverageSummary {
    /// From one or more reports (summed; a file in several reports keeps its largest reading).
    pub fn of(reports: &[Coverage]) -> Option<Self> {
        if reports.is_empty() {
            return None;
        }
        let mut summary = Self::default();
        for report in reports {
            summary.lines_valid += report.lines_valid;
            summary.lines_covered += report.lines_covered;
            summary.branches_valid += report.branches_valid;
            summary.branches_covered += report.branches_covered;
            for file in &report.files {
                let entry = summary.files.entry(file.path.clone()).or_insert((0, 0));
                if file.lines_valid > entry.0 || file.lines_covered > entry.1 {
                    *entry = (file.lines_valid, file.lines_covered);
                }
            }
        }
        Some(summary)
    }

    /// The percentage of the chosen metric.
    pub fn percent(&self, branch: bool) -> Option<f64> {
        if branch {
            percent(self.branches_covered, self.branches_valid)
        } else {
            percent(self.lines_covered, self.lines_valid)
        }
    }
}

/// What one run found, as written to the summary file (the next run's baseline).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Format version.
    pub version: u32,
    /// Test totals.
    pub totals: Totals,
    /// Ids (`suite › class › name`) of tests that failed or errored.
    pub failing: Vec<String>,
    /// Coverage, when reports were given.
    pub coverage: Option<CoverageSummary>,
    /// Lint findings by key (tool, rule, file, message) and how many.
    pub lint: BTreeMap<String, u64>,
}

/// A test's id in summaries.
pub fn test_id(suite: &TestSuite, case: &gantry_core::junit::TestCase) -> String {
    format!("{} › {} › {}", suite.name, case.classname, case.name)
}

/// A lint finding's key: what it is and where, without the line (lines move).
pub fn lint_key(finding: &LintFinding) -> String {
    format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}",
        finding.tool, finding.rule, finding.file, finding.message
    )
}

impl Summary {
    /// The summary of this run.
    pub fn of(
        suites: &[TestSuite],
        coverage: Option<CoverageSummary>,
        lint: &[LintFinding],
    ) -> Self {
        let mut failing: Vec<String> = suites
            .iter()
            .flat_map(|suite| suite.cases.iter().map(move |case| (suite, case)))
            .filter(|(_, case)| {
                matches!(
                    case.outcome,
                    Outcome::Failed { .. } | Outcome::Errored { .. }
                )
            })
            .map(|(suite, case)| test_id(suite, case))
            .collect();
        failing.sort();
        failing.dedup();
        let mut counts = BTreeMap::new();
        for finding in lint {
            *counts.entry(lint_key(finding)).or_insert(0) += 1;
        }
        Self {
            version: SUMMARY_VERSION,
            totals: Totals::of(suites),
            failing,
            coverage,
            lint: counts,
        }
    }
}

/// Which lint findings are new against the baseline's counts (all of them without one).
pub fn new_lint<'f>(
    findings: &'f [LintFinding],
    baseline: Option<&Summary>,
) -> Vec<&'f LintFinding> {
    let Some(baseline) = baseline else {
        return findings.iter().collect();
    };
    let mut allowance = baseline.lint.clone();
    findings
        .iter()
        .filter(|finding| {
            let left = allowance.get_mut(&lint_key(finding));
            match left {
                Some(count) if *count > 0 => {
                    *count -= 1;
                    false
                }
                _ => true,
            }
        })
        .collect()
}

/// The lint gate: `error`, `warning` or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LintGate {
    /// Fail on errors.
    Error,
    /// Fail on warnings and errors.
    Warning,
    /// Never fail on lint.
    None,
}

impl LintGate {
    /// Whether a finding of this severity fails the gate.
    pub fn fails(self, severity: LintSeverity) -> bool {
        match self {
            Self::Error => severity == LintSeverity::Error,
            Self::Warning => severity >= LintSeverity::Warning,
            Self::None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, line: u32) -> LintFinding {
        LintFinding {
            tool: "flake8".into(),
            file: "a.py".into(),
            line: Some(line),
            column: None,
            rule: rule.into(),
            severity: LintSeverity::Error,
            message: "m".into(),
        }
    }

    #[test]
    fn lint_is_new_beyond_what_the_baseline_had_wherever_it_moved() {
        let baseline = Summary::of(&[], None, &[finding("E1", 3), finding("E2", 9)]);
        let now = [finding("E1", 30), finding("E1", 31), finding("E2", 1)];
        let new = new_lint(&now, Some(&baseline));
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].rule, "E1");
        assert_eq!(new_lint(&now, None).len(), 3);
    }

    #[test]
    fn the_lint_gate_levels() {
        assert!(LintGate::Error.fails(LintSeverity::Error));
        assert!(!LintGate::Error.fails(LintSeverity::Warning));
        assert!(LintGate::Warning.fails(LintSeverity::Warning));
        assert!(!LintGate::Warning.fails(LintSeverity::Note));
        assert!(!LintGate::None.fails(LintSeverity::Error));
    }
}
