//! The comment, the check run's text and the step summary: the verdict and totals first, then
//! new failures with their messages folded, flaky and fixed tests, coverage with its delta and
//! the changed files' coverage, lint by rule. Test names and messages are untrusted text.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use gantry_core::junit::{Failure, Outcome};
use gantry_core::markdown::{Align, Document, Table, code, code_block, details, shorten, text};

use crate::gate::test_id;
use crate::lint::LintSeverity;
use crate::{Findings, Options};

const ROWS: usize = 2_000;

/// Failing tests listed one line each when their details do not fit.
const LISTED_FAILURES: usize = 50;

/// A failure's message, type, trace and place, for its fold.
fn failure_body(case: &gantry_core::junit::TestCase, failure: &Failure) -> String {
    let Failure {
        message,
        kind,
        details: trace,
    } = failure;
    let mut body = String::new();
    if !message.trim().is_empty() {
        let _ = writeln!(body, "{}", text(&shorten(message.trim(), 500)));
    }
    if !kind.is_empty() {
        let _ = writeln!(body, "\n{}", code(kind));
    }
    if !trace.trim().is_empty() {
        body.push('\n');
        body.push_str(&code_block("", &shorten(trace.trim(), 4_000)));
    }
    if let Some(file) = &case.file {
        let _ = writeln!(
            body,
            "\nin {}",
            code(&format!("{file}:{}", case.line.unwrap_or(1)))
        );
    }
    body
}

/// Details, rendered once for every budget.
pub(crate) fn sections(findings: &Findings, options: &Options) -> Document {
    let mut document = Document::new();
    let was_failing: BTreeSet<&str> = findings
        .baseline
        .iter()
        .flat_map(|baseline| baseline.failing.iter().map(String::as_str))
        .collect();
    let mut new_failures = String::new();
    let mut old_failures = Vec::new();
    let mut flaky = Vec::new();
    let mut shown = 0usize;
    // One line per new failure (the first LISTED_FAILURES), and how many there are.
    let mut failure_lines = String::new();
    let mut new_failure_count = 0usize;
    let mut failing_now = BTreeSet::new();
    let mut passing_now = BTreeSet::new();
    for suite in &findings.suites {
        for case in &suite.cases {
            if matches!(case.outcome, Outcome::Passed | Outcome::Skipped { .. })
                && was_failing.is_empty()
            {
                // Only a test that failed on the base branch has anything to say when it passes.
                continue;
            }
            let id = test_id(suite, case);
            match &case.outcome {
                Outcome::Failed(failure) | Outcome::Errored(failure) => {
                    let message = &failure.message;
                    failing_now.insert(id.clone());
                    if was_failing.contains(id.as_str()) {
                        // Failing before is no reason to hide why it fails.
                        if old_failures.len() < ROWS {
                            let word = if matches!(case.outcome, Outcome::Errored { .. }) {
                                "errored"
                            } else {
                                "failed"
                            };
                            let summary = format!("{word}: {}", shorten(&id, 200));
                            old_failures.push(details(
                                &summary,
                                &failure_body(case, failure),
                                false,
                            ));
                        } else {
                            old_failures.push(String::new());
                        }
                        continue;
                    }
                    new_failure_count += 1;
                    if new_failure_count <= LISTED_FAILURES {
                        let first_line = message.trim().lines().next().unwrap_or_default();
                        let _ = write!(failure_lines, "- {}", text(&shorten(&id, 160)));
                        if !first_line.is_empty() {
                            let _ = write!(failure_lines, " — {}", text(&shorten(first_line, 120)));
                        }
                        failure_lines.push('\n');
                    }
                    if shown >= ROWS {
                        continue;
                    }
                    shown += 1;
                    let word = if matches!(case.outcome, Outcome::Errored { .. }) {
                        "errored"
                    } else {
                        "failed"
                    };
                    let summary = format!("{word}: {}", shorten(&id, 200));
                    new_failures.push_str(&details(&summary, &failure_body(case, failure), false));
                }
                Outcome::Flaky {
                    failed_attempts, ..
                } => {
                    if was_failing.contains(id.as_str()) {
                        passing_now.insert(id.clone());
                    }
                    flaky.push((id, *failed_attempts));
                }
                Outcome::Passed => {
                    if was_failing.contains(id.as_str()) {
                        passing_now.insert(id);
                    }
                }
                Outcome::Skipped { .. } => {}
            }
        }
    }
    if !new_failures.is_empty() {
        let heading = if findings.baseline.is_some() {
            "#### New failures\n\n"
        } else {
            "#### Failures\n\n"
        };
        let word = if findings.baseline.is_some() {
            "New failures"
        } else {
            "Failures"
        };
        let mut list = format!("#### {word} ({new_failure_count})\n\n{failure_lines}");
        if new_failure_count > LISTED_FAILURES {
            let _ = writeln!(list, "- … and {} more", new_failure_count - LISTED_FAILURES);
        }
        document.detail("failures", format!("{heading}{new_failures}"), Some(list));
    }
    if !old_failures.is_empty() {
        let mut block = format!(
            "#### Failing on the base branch too ({})\n\n",
            old_failures.len()
        );
        for failure in old_failures.iter().take(ROWS) {
            block.push_str(failure);
        }
        document.detail("failing on the base branch too", block, None);
    }
    if !flaky.is_empty() {
        let mut block = format!(
            "#### Flaky: failed, then passed on a retry ({})\n\n",
            flaky.len()
        );
        for (id, attempts) in flaky.iter().take(ROWS) {
            let _ = writeln!(block, "- {} — {attempts} failed attempt(s)", text(id));
        }
        document.detail("flaky tests", block, None);
    }
    let fixed: Vec<&str> = was_failing
        .iter()
        .copied()
        .filter(|id| passing_now.contains(*id) && !failing_now.contains(*id))
        .collect();
    if !fixed.is_empty() {
        let mut block = format!("#### Fixed since the base branch ({})\n\n", fixed.len());
        for id in fixed.iter().take(ROWS) {
            let _ = writeln!(block, "- {}", text(id));
        }
        document.detail("fixed tests", block, None);
    }
    if let Some(coverage) = &findings.coverage {
        let changed: Vec<(&String, &(u64, u64))> = coverage
            .files
            .iter()
            .filter(|(path, _)| options.changed_files.iter().any(|changed| changed == *path))
            .collect();
        if !changed.is_empty() {
            let mut table = Table::new(&[
                ("changed file", Align::Left),
                ("lines", Align::Right),
                ("coverage", Align::Right),
            ]);
            for (path, (valid, covered)) in changed.iter().take(ROWS) {
                table.row([
                    code(path),
                    format!("{covered}/{valid}"),
                    crate::coverage::percent(*covered, *valid)
                        .map_or_else(|| "—".to_owned(), |p| format!("{p:.2}%")),
                ]);
            }
            document.detail(
                "coverage of changed files",
                format!(
                    "#### Coverage of the files this pull request changes\n\n{}",
                    table.render()
                ),
                None,
            );
        }
    }
    if !findings.lint.is_empty() {
        let new: BTreeSet<usize> = findings.new_lint.iter().copied().collect();
        let mut by_rule: BTreeMap<(LintSeverity, String, String), (usize, usize)> = BTreeMap::new();
        for (index, finding) in findings.lint.iter().enumerate() {
            let entry = by_rule
                .entry((finding.severity, finding.tool.clone(), finding.rule.clone()))
                .or_default();
            entry.0 += 1;
            entry.1 += usize::from(new.contains(&index));
        }
        let mut rows: Vec<_> = by_rule.into_iter().collect();
        rows.sort_by(|a, b| b.0.0.cmp(&a.0.0).then(b.1.0.cmp(&a.1.0)));
        let mut table = Table::new(&[
            ("severity", Align::Left),
            ("tool", Align::Left),
            ("rule", Align::Left),
            ("findings", Align::Right),
            ("new", Align::Right),
        ]);
        for ((severity, tool, rule), (all, new)) in rows.iter().take(ROWS) {
            table.row([
                format!("{severity:?}").to_lowercase(),
                text(tool),
                code(if rule.is_empty() { "(none)" } else { rule }),
                all.to_string(),
                new.to_string(),
            ]);
        }
        document.detail(
            "lint by rule",
            format!("#### Lint by rule\n\n{}", table.render()),
            None,
        );
    }
    document
}

/// Everything within `budget` bytes.
pub(crate) fn render(
    findings: &Findings,
    options: &Options,
    sections: &Document,
    budget: usize,
    full_text_at: &str,
) -> String {
    let mut document = Document::new();
    let totals = findings.totals;
    document.essential(if findings.reasons.is_empty() {
        "### ✅ Quality gate passed".to_owned()
    } else {
        let mut block = String::from("### ❌ Quality gate failed\n");
        for reason in &findings.reasons {
            let _ = write!(block, "\n- {}", text(reason));
        }
        block
    });
    let mut table = Table::new(&[
        ("tests", Align::Right),
        ("passed", Align::Right),
        ("failed", Align::Right),
        ("errors", Align::Right),
        ("skipped", Align::Right),
        ("flaky", Align::Right),
    ]);
    table.row([
        totals.tests.to_string(),
        totals.passed.to_string(),
        totals.failed.to_string(),
        totals.errors.to_string(),
        totals.skipped.to_string(),
        totals.flaky.to_string(),
    ]);
    document.essential(table.render());
    let mut lines = Vec::new();
    if let Some(coverage) = &findings.coverage {
        let metric = if options.branch_metric {
            "branch"
        } else {
            "line"
        };
        let now = coverage.percent(options.branch_metric);
        let before = findings
            .baseline
            .as_ref()
            .and_then(|baseline| baseline.coverage.as_ref())
            .and_then(|coverage| coverage.percent(options.branch_metric));
        let mut line = match now {
            Some(now) => format!("Coverage ({metric}): **{now:.2}%**"),
            None => format!("Coverage ({metric}): no data"),
        };
        if let (Some(now), Some(before)) = (now, before) {
            let _ = write!(
                line,
                " ({:+.2} points against the base branch's {before:.2}%)",
                now - before
            );
        }
        if let Some(minimum) = options.min_coverage {
            let _ = write!(line, " · minimum {minimum}%");
        }
        lines.push(line);
    }
    if !findings.lint.is_empty() {
        let errors = findings
            .lint
            .iter()
            .filter(|f| f.severity == LintSeverity::Error)
            .count();
        let warnings = findings
            .lint
            .iter()
            .filter(|f| f.severity == LintSeverity::Warning)
            .count();
        let mut line = format!("Lint: {errors} error(s), {warnings} warning(s)");
        if findings.baseline.is_some() {
            let _ = write!(line, " · {} new", findings.new_lint.len());
        }
        lines.push(line);
    }
    if findings.baseline.is_none() {
        lines.push("No baseline given: every failure and lint finding counts as new.".to_owned());
    }
    if !lines.is_empty() {
        document.essential(lines.join("  \n"));
    }
    if !findings.notes.is_empty() {
        let mut block = String::from("> [!NOTE]\n");
        for note in findings.notes.iter().take(10) {
            let _ = writeln!(block, "> {}", gantry_core::markdown::prose(note));
        }
        document.essential(block);
    }
    document.append(sections);
    document.render_within(budget, full_text_at).0
}
