//! gantry-quality-gate: tests, coverage and lint in one gate that people trust.
//!
//! What it is: a sans-IO function from test reports ([`junit`], [`dotnet`]: `JUnit` in its
//! dialects, `NUnit`, `xUnit`, TRX — streamed, entities never expanded), coverage reports
//! ([`coverage`]: Cobertura, `JaCoCo`, LCOV) and linter reports ([`lint`]), plus the summary this
//! action wrote on the base branch ([`gate`]), to a [`Report`]: the counts, new failures, flaky
//! and fixed tests, coverage and its delta, new lint findings, the decision, a check run with
//! annotations, a sticky comment, the step summary, a merged `JUnit` file and this run's summary.
//!
//! What it is not: a test runner, or a publisher.

mod collect;
pub mod coverage;
pub mod dotnet;
pub mod gate;
pub mod junit;
pub mod lint;
mod render;
pub mod test_report;
mod traceback;
mod xml;

use std::io::BufRead;

use gantry_core::action::{
    ActionSpec, COMMENT_AUTHOR_INPUT, GITHUB_TOKEN_INPUT, InputKind, InputSpec, OutputSpec,
    RESULT_OUTPUT,
};
use gantry_core::collections::FixedHashMap;
use gantry_core::junit::{Outcome, TestSuite, Totals};
use gantry_core::report::{
    Annotation, CHECK_RUN_TEXT_LIMIT, COMMENT_BODY_BUDGET, CheckConclusion, CheckRunEffect,
    CommentEffect, Contents, Effect, OutputFile, Report, Verdict,
};
use gantry_core::runner::{
    AnnotationLevel, AnnotationPlace, InputError, Inputs, STEP_SUMMARY_LIMIT,
};
use gantry_core::workspace::{Workspace, relative_path};

use crate::coverage::{Coverage, read_coverage};
use crate::gate::{CoverageSummary, LintGate, Summary, new_lint, test_id};
use crate::junit::{TestReportError, read_test_report};
use crate::lint::{LintFinding, LintSeverity, read_lint};

/// The action's name.
pub const NAME: &str = "quality-gate";

/// Where the summary is written unless `summary-file` says otherwise.
pub const DEFAULT_SUMMARY_FILE: &str = "gantry-quality-summary.json";

/// The action's declaration.
pub const SPEC: ActionSpec = ActionSpec {
    name: NAME,
    title: "Gantry: quality gate",
    description: "Reads test reports (JUnit in its dialects, NUnit, xUnit, TRX), coverage (Cobertura, JaCoCo, LCOV) and linter reports into one gate: counts people can trust (reruns and flaky tests counted once), new failures and new lint against the base branch, coverage and its delta, a check run with annotations, and one sticky comment.",
    inputs: &[
        InputSpec {
            name: "junit",
            description: "Test reports, one path or glob per line: JUnit XML (pytest, Jest, Mocha, Surefire/Gradle, go-junit-report, gotestsum, cargo-nextest, PHPUnit, RSpec, googletest, ctest, Ant, Bazel, Playwright, Cypress…), NUnit 2/3, xUnit v2 or TRX, recognised from the content.",
            required: false,
            default: None,
            kind: InputKind::List,
        },
        InputSpec {
            name: "coverage",
            description: "Coverage reports, one path or glob per line: Cobertura XML, JaCoCo XML or LCOV, recognised from the content.",
            required: false,
            default: None,
            kind: InputKind::List,
        },
        InputSpec {
            name: "min-coverage",
            description: "Fail below this coverage, in percent.",
            required: false,
            default: None,
            kind: InputKind::Number,
        },
        InputSpec {
            name: "coverage-metric",
            description: "`line` or `branch`: the coverage `min-coverage`, `max-coverage-drop` and the `coverage` output use.",
            required: false,
            default: Some("line"),
            kind: InputKind::Choice(&["line", "branch"]),
        },
        InputSpec {
            name: "max-coverage-drop",
            description: "Fail when coverage falls more than this many percentage points below the baseline's.",
            required: false,
            default: None,
            kind: InputKind::Number,
        },
        InputSpec {
            name: "lint",
            description: "Linter reports, one path or glob per line: checkstyle XML, ESLint JSON, pylint JSON, ruff JSON, SARIF, `cargo clippy --message-format=json` output, or the text of flake8, pycodestyle, mypy, Black --check and isort --check.",
            required: false,
            default: None,
            kind: InputKind::List,
        },
        InputSpec {
            name: "fail-on-lint",
            description: "`error`, `warning` or `none`: the lint findings that fail the gate — new ones when a baseline is given, all otherwise.",
            required: false,
            default: Some("error"),
            kind: InputKind::Choice(&["error", "warning", "none"]),
        },
        InputSpec {
            name: "fail-on-tests",
            description: "`any`: every failing or erroring test fails the gate; `new`: only those that do not fail on the base branch too (all of them without a baseline); `none`: tests never fail it (they are still reported).",
            required: false,
            default: Some("any"),
            kind: InputKind::Choice(&["any", "new", "none"]),
        },
        InputSpec {
            name: "baseline",
            description: "The summary file this action wrote on the base branch (the `summary-file` output there, passed as an artifact), or `auto`: the `summary-file` in the newest `baseline-artifact` of the base branch's last successful run (needs `actions: read`); none yet is a warning, and every failure and finding counts as new. Gives new failures, fixed tests, the coverage delta and new lint findings.",
            required: false,
            default: None,
            kind: InputKind::Text,
        },
        InputSpec {
            name: "baseline-artifact",
            description: "With `baseline: auto`: the artifact the base branch's runs upload this action's `summary-file` as.",
            required: false,
            default: Some("gantry-quality-gate"),
            kind: InputKind::Text,
        },
        InputSpec {
            name: "summary-file",
            description: "Where to write this run's summary (the next baseline).",
            required: false,
            default: Some(DEFAULT_SUMMARY_FILE),
            kind: InputKind::Text,
        },
        InputSpec {
            name: "check-name",
            description: "The check run's name.",
            required: false,
            default: Some("quality gate"),
            kind: InputKind::Text,
        },
        InputSpec {
            name: "comment",
            description: "`update` keeps one sticky PR comment and edits it; `off` posts none (the check run and step summary are still written).",
            required: false,
            default: Some("update"),
            kind: InputKind::Choice(&["update", "off"]),
        },
        InputSpec {
            name: "merged-junit",
            description: "Where to write all tests as one JUnit file (each test once, flaky tests as passed with a note).",
            required: false,
            default: None,
            kind: InputKind::Text,
        },
        GITHUB_TOKEN_INPUT,
        COMMENT_AUTHOR_INPUT,
    ],
    outputs: &[
        OutputSpec {
            name: "tests",
            description: "Tests, each counted once however often it ran.",
        },
        OutputSpec {
            name: "passed",
            description: "Tests that passed (flaky ones included).",
        },
        OutputSpec {
            name: "failed",
            description: "Tests that failed.",
        },
        OutputSpec {
            name: "errors",
            description: "Tests that errored (could not run to an assertion).",
        },
        OutputSpec {
            name: "skipped",
            description: "Tests skipped.",
        },
        OutputSpec {
            name: "flaky",
            description: "Tests that failed and then passed on a retry.",
        },
        OutputSpec {
            name: "coverage",
            description: "Coverage in percent, two decimals (`coverage-metric`); empty without coverage reports.",
        },
        OutputSpec {
            name: "coverage-delta",
            description: "Coverage minus the baseline's, in percentage points (`+0.42`); empty without both.",
        },
        OutputSpec {
            name: "lint-errors",
            description: "Lint errors (all of them, new or not).",
        },
        OutputSpec {
            name: "lint-warnings",
            description: "Lint warnings.",
        },
        OutputSpec {
            name: "summary-file",
            description: "Path of this run's summary, the next run's `baseline`.",
        },
        RESULT_OUTPUT,
    ],
};

/// Which failing tests fail the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestGate {
    /// Every failing or erroring test.
    Any,
    /// Those that do not fail on the base branch too (all without a baseline).
    New,
    /// None.
    None,
}

/// The action's options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Fail below this coverage.
    pub min_coverage: Option<f64>,
    /// Branch coverage rather than line.
    pub branch_metric: bool,
    /// Fail when coverage drops more than this.
    pub max_coverage_drop: Option<f64>,
    /// The lint gate.
    pub fail_on_lint: LintGate,
    /// Which failing tests fail the gate.
    pub fail_on_tests: TestGate,
    /// Check run name.
    pub check_name: String,
    /// Post the comment.
    pub comment: bool,
    /// Where the merged `JUnit` goes.
    pub merged_junit: Option<String>,
    /// Where the summary goes.
    pub summary_file: String,
    /// Files changed in the pull request (annotations on them come first), when known.
    pub changed_files: Vec<String>,
    /// `https://github.com/<owner>/<repo>/blob/<sha>/` for links, when known.
    pub blob_base: Option<String>,
    /// `GITHUB_WORKFLOW`/`GITHUB_JOB`, for the comment key.
    pub workflow_and_job: String,
    /// What the edge has to say of the baseline (where `baseline: auto` found it, or why it
    /// found none), shown with the summary's notes.
    pub baseline_notes: Vec<String>,
}

impl Options {
    /// Reads the options from the inputs; the rest comes from the edge.
    pub fn from_inputs(inputs: &Inputs) -> Result<Self, InputError> {
        let min_coverage = inputs.number("min-coverage", 0.0..=100.0)?;
        // A fraction where a percentage is asked for: 0.8 would pass at 0.8 % coverage.
        if let Some(fraction) = min_coverage.filter(|value| *value > 0.0 && *value < 1.0) {
            return Err(InputError::NotANumber {
                name: "min-coverage".to_owned(),
                value: inputs.optional("min-coverage").unwrap_or_default(),
                expected: format!(
                    "a percentage from 0 to 100 (did you mean {}?)",
                    (fraction * 100.0 * 100.0).round() / 100.0
                ),
            });
        }
        Ok(Self {
            min_coverage,
            branch_metric: inputs.chosen(SPEC.declared("coverage-metric"))? == "branch",
            max_coverage_drop: inputs.number("max-coverage-drop", 0.0..=100.0)?,
            fail_on_tests: match inputs.chosen(SPEC.declared("fail-on-tests"))?.as_str() {
                "new" => TestGate::New,
                "none" => TestGate::None,
                _ => TestGate::Any,
            },
            fail_on_lint: match inputs.chosen(SPEC.declared("fail-on-lint"))?.as_str() {
                "warning" => LintGate::Warning,
                "none" => LintGate::None,
                _ => LintGate::Error,
            },
            check_name: inputs
                .optional("check-name")
                .unwrap_or_else(|| "quality gate".to_owned()),
            comment: inputs.chosen(SPEC.declared("comment"))? == "update",
            merged_junit: inputs.optional("merged-junit"),
            summary_file: inputs
                .optional("summary-file")
                .unwrap_or_else(|| DEFAULT_SUMMARY_FILE.to_owned()),
            changed_files: Vec::new(),
            blob_base: None,
            workflow_and_job: String::new(),
            baseline_notes: Vec::new(),
        })
    }
}

/// One input file: its name and a reader of its bytes (files are streamed, not loaded).
pub struct Source<'a> {
    /// Workspace-relative name, for messages.
    pub file: String,
    /// Its contents.
    pub reader: Box<dyn BufRead + 'a>,
}

impl Source<'_> {
    /// The whole contents (linter reports and summaries are small).
    fn bytes(&mut self) -> Result<Vec<u8>, TestReportError> {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut self.reader, &mut bytes).map_err(|error| {
            TestReportError::Io {
                file: self.file.clone(),
                message: error.to_string(),
            }
        })?;
        Ok(bytes)
    }
}

impl std::fmt::Debug for Source<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Source")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

/// What the inputs name.
#[derive(Debug, Default)]
pub struct Sources<'a> {
    /// Test reports.
    pub tests: Vec<Source<'a>>,
    /// Coverage reports.
    pub coverage: Vec<Source<'a>>,
    /// Linter reports.
    pub lint: Vec<Source<'a>>,
    /// The baseline summary.
    pub baseline: Option<Source<'a>>,
}

/// Everything read and decided, for rendering.
#[derive(Debug)]
pub(crate) struct Findings {
    pub(crate) suites: Vec<TestSuite>,
    pub(crate) totals: Totals,
    pub(crate) coverage: Option<CoverageSummary>,
    pub(crate) lint: Vec<LintFinding>,
    pub(crate) new_lint: Vec<usize>,
    pub(crate) baseline: Option<Summary>,
    pub(crate) reasons: Vec<String>,
    pub(crate) notes: Vec<String>,
}

/// Reported paths, workspace-relative by the rule both actions share
/// ([`gantry_core::workspace::relative_path`]), each distinct path worked out once (100,000
/// tests name a few hundred files, and a path under a foreign root is looked for on disk).
struct Rebase<'w> {
    workspace: &'w dyn Workspace,
    seen: FixedHashMap<String, String>,
}

impl Rebase<'_> {
    fn relative(&mut self, path: &str) -> String {
        if let Some(known) = self.seen.get(path) {
            return known.clone();
        }
        let relative = relative_path(path, self.workspace).0;
        self.seen.insert(path.to_owned(), relative.clone());
        relative
    }
}

/// Runs the action. `workspace` makes the reports' paths relative (a path under another
/// root, as a tool in a container writes it, is found by the files it names).
pub fn run(
    options: &Options,
    sources: Sources<'_>,
    workspace: &dyn Workspace,
) -> Result<Report, TestReportError> {
    if sources.tests.is_empty() && sources.coverage.is_empty() && sources.lint.is_empty() {
        return Err(TestReportError::Io {
            file: "inputs".to_owned(),
            message: "none of `junit`, `coverage` and `lint` names a file: give at least one"
                .to_owned(),
        });
    }
    let mut rebase = Rebase {
        workspace,
        seen: FixedHashMap::default(),
    };
    let mut notes = options.baseline_notes.clone();
    let mut suites = Vec::new();
    let mut attempts = 0u64;
    for source in sources.tests {
        let report = read_test_report(&source.file, source.reader)?;
        attempts += report.attempts;
        notes.extend(report.warnings.into_iter().take(10));
        suites.extend(report.suites);
    }
    let mut coverage_reports: Vec<Coverage> = Vec::new();
    for source in sources.coverage {
        let mut report = read_coverage(&source.file, source.reader)?;
        for file in &mut report.files {
            file.path = rebase.relative(&file.path);
        }
        coverage_reports.push(report);
    }
    let mut lint = Vec::new();
    for mut source in sources.lint {
        let bytes = source.bytes()?;
        let mut report = read_lint(&source.file, &bytes)?;
        for finding in &mut report.findings {
            finding.file = rebase.relative(&finding.file);
        }
        lint.extend(report.findings);
    }
    let baseline = match sources.baseline {
        Some(mut source) => {
            let bytes = source.bytes()?;
            let summary: Summary = serde_json::from_slice(&bytes).map_err(|error| TestReportError::Io {
                file: source.file.clone(),
                message: format!(
                    "not a summary this action wrote (line {}: {error}); pass the `summary-file` of a run on the base branch",
                    error.line()
                ),
            })?;
            Some(summary)
        }
        None => None,
    };
    for suite in &mut suites {
        for case in &mut suite.cases {
            if let Some(file) = &case.file {
                case.file = Some(rebase.relative(file));
            } else if let Outcome::Failed(failure) | Outcome::Errored(failure) = &case.outcome {
                // No file in the report (pytest's, Jest's JUnit): the traceback says where,
                // when its path is in the workspace (a guess is no place to annotate).
                let place = traceback::failure_place(&failure.details)
                    .or_else(|| traceback::failure_place(&failure.message));
                if let Some((path, line)) = place {
                    let (relative, guessed) = relative_path(&path, workspace);
                    if !guessed {
                        case.file = Some(relative);
                        case.line = Some(line);
                    }
                }
            }
        }
    }

    let totals = Totals::of(&suites);
    if attempts > totals.tests {
        notes.push(format!(
            "{attempts} test case element(s) for {} test(s): reruns are counted once",
            totals.tests
        ));
    }
    let coverage = CoverageSummary::of(&coverage_reports);
    let new_lint_findings = new_lint(&lint, baseline.as_ref());
    let new_lint: Vec<usize> = new_lint_findings
        .iter()
        .filter_map(|finding| {
            lint.iter()
                .position(|candidate| std::ptr::eq(candidate, *finding))
        })
        .collect();

    // The decision.
    let mut reasons = Vec::new();
    let failing_too: std::collections::BTreeSet<&str> = baseline
        .iter()
        .flat_map(|baseline| baseline.failing.iter().map(String::as_str))
        .collect();
    // This run's summary (the next run's baseline) lists the failing tests the gate needs.
    let summary = Summary::of(&suites, coverage.clone(), &lint);
    let failing_ids = &summary.failing;
    let new_failing = failing_ids
        .iter()
        .filter(|id| !failing_too.contains(id.as_str()))
        .count();
    match options.fail_on_tests {
        TestGate::Any if totals.failed + totals.errors > 0 => {
            reasons.push(format!(
                "{} test(s) failed and {} errored",
                totals.failed, totals.errors
            ));
        }
        TestGate::New if new_failing > 0 => {
            let old = failing_ids.len() - new_failing;
            reasons.push(if baseline.is_some() {
                format!(
                    "{new_failing} test(s) fail that pass on the base branch ({old} fail there too)"
                )
            } else {
                format!(
                    "{new_failing} test(s) failed or errored (no baseline: every failure is new)"
                )
            });
        }
        _ => {}
    }
    let metric = if options.branch_metric {
        "branch"
    } else {
        "line"
    };
    let current = coverage
        .as_ref()
        .and_then(|coverage| coverage.percent(options.branch_metric));
    if let (Some(minimum), Some(current)) = (options.min_coverage, current) {
        if current + 1e-9 < minimum {
            reasons.push(format!(
                "{metric} coverage {current:.2}% is below min-coverage {minimum}%"
            ));
        }
    }
    if options.min_coverage.is_some() && current.is_none() {
        reasons.push(format!(
            "min-coverage is set but no {metric} coverage was reported"
        ));
    }
    let before = baseline
        .as_ref()
        .and_then(|baseline| baseline.coverage.as_ref())
        .and_then(|coverage| coverage.percent(options.branch_metric));
    let delta = current.zip(before).map(|(now, then)| now - then);
    if let (Some(allowed), Some(delta)) = (options.max_coverage_drop, delta) {
        if -delta > allowed + 1e-9 {
            reasons.push(format!(
                "{metric} coverage dropped {:.2} points, more than max-coverage-drop {allowed}",
                -delta
            ));
        }
    }
    let gating_lint = new_lint
        .iter()
        .filter(|&&index| options.fail_on_lint.fails(lint[index].severity))
        .count();
    if gating_lint > 0 {
        reasons.push(format!(
            "{gating_lint} {}lint finding(s) at or above fail-on-lint",
            if baseline.is_some() { "new " } else { "" }
        ));
    }

    let verdict = if reasons.is_empty() {
        Verdict::Passed
    } else {
        Verdict::Failed
    };
    let headline = reasons.first().cloned().unwrap_or_else(|| {
        format!(
            "{} tests: {} passed, {} skipped{}",
            totals.tests,
            totals.passed,
            totals.skipped,
            current
                .map(|c| format!("; {metric} coverage {c:.2}%"))
                .unwrap_or_default()
        )
    });
    let mut report = Report::new(NAME, verdict, headline.clone());
    for (name, value) in [
        ("tests", totals.tests),
        ("passed", totals.passed),
        ("failed", totals.failed),
        ("errors", totals.errors),
        ("skipped", totals.skipped),
        ("flaky", totals.flaky),
    ] {
        report.outputs.set(name, value.to_string());
    }
    report.outputs.set(
        "coverage",
        current.map(|c| format!("{c:.2}")).unwrap_or_default(),
    );
    report.outputs.set(
        "coverage-delta",
        delta.map(|d| format!("{d:+.2}")).unwrap_or_default(),
    );
    let count = |severity| lint.iter().filter(|f| f.severity == severity).count();
    report
        .outputs
        .set("lint-errors", count(LintSeverity::Error).to_string());
    report
        .outputs
        .set("lint-warnings", count(LintSeverity::Warning).to_string());
    report
        .outputs
        .set("summary-file", options.summary_file.clone());

    report.files.push(OutputFile {
        path: options.summary_file.clone(),
        contents: serde_json::to_string_pretty(&summary)
            .unwrap_or_default()
            .into(),
    });

    let outcome = Findings {
        suites,
        totals,
        coverage,
        lint,
        new_lint,
        baseline,
        reasons,
        notes,
    };
    report.annotations = annotations(&outcome, options);
    let sections = render::sections(&outcome, options);
    report.summary = render::render(
        &outcome,
        options,
        &sections,
        STEP_SUMMARY_LIMIT,
        "the merged files",
    );
    let check_text = render::render(
        &outcome,
        options,
        &sections,
        CHECK_RUN_TEXT_LIMIT,
        "the job's step summary",
    );
    report.effects.push(Effect::CheckRun(CheckRunEffect {
        name: options.check_name.clone(),
        head_sha: None,
        conclusion: if verdict == Verdict::Passed {
            CheckConclusion::Success
        } else {
            CheckConclusion::Failure
        },
        title: headline,
        summary: check_text,
        text: None,
        annotations: report.annotations.clone(),
    }));
    if options.comment {
        report.effects.push(Effect::Comment(CommentEffect::sticky(
            NAME,
            &options.workflow_and_job,
            render::render(
                &outcome,
                options,
                &sections,
                COMMENT_BODY_BUDGET,
                "the job's step summary",
            ),
        )));
    }
    if let Some(path) = &options.merged_junit {
        // Last: the suites move into the file, which the edge writes without rendering it
        // whole in memory.
        report.files.push(OutputFile {
            path: path.clone(),
            contents: Contents::Junit {
                name: "quality gate".to_owned(),
                suites: outcome.suites,
            },
        });
    }
    Ok(report)
}

/// Annotations: failed tests and lint findings with a file and line, files changed in the pull
/// request first, then the most serious.
fn annotations(outcome: &Findings, options: &Options) -> Vec<Annotation> {
    let mut found: Vec<(bool, u8, Annotation)> = Vec::new();
    let changed = |file: &str| options.changed_files.iter().any(|changed| changed == file);
    for suite in &outcome.suites {
        for case in &suite.cases {
            let (Outcome::Failed(failure) | Outcome::Errored(failure)) = &case.outcome else {
                continue;
            };
            let Some(file) = &case.file else { continue };
            let text = if failure.message.trim().is_empty() {
                &failure.details
            } else {
                &failure.message
            };
            found.push((
                !changed(file),
                0,
                Annotation {
                    level: AnnotationLevel::Error,
                    place: AnnotationPlace {
                        file: Some(file.clone()),
                        line: Some(case.line.unwrap_or(1)),
                        title: Some(format!("test failed: {}", test_id(suite, case))),
                        ..AnnotationPlace::default()
                    },
                    message: gantry_core::markdown::shorten(text.trim(), 2_000).into_owned(),
                },
            ));
        }
    }
    for finding in &outcome.lint {
        if finding.file.is_empty() {
            continue;
        }
        let (level, rank) = match finding.severity {
            LintSeverity::Error => (AnnotationLevel::Error, 1),
            LintSeverity::Warning => (AnnotationLevel::Warning, 2),
            LintSeverity::Note => (AnnotationLevel::Notice, 3),
        };
        found.push((
            !changed(&finding.file),
            rank,
            Annotation {
                level,
                place: AnnotationPlace {
                    file: Some(finding.file.clone()),
                    line: Some(finding.line.unwrap_or(1)),
                    column: finding.column,
                    title: Some(format!("{} {}", finding.tool, finding.rule)),
                    ..AnnotationPlace::default()
                },
                message: gantry_core::markdown::shorten(&finding.message, 2_000).into_owned(),
            },
        ));
    }
    found.sort_by_key(|(unchanged, rank, _)| (*unchanged, *rank));
    found
        .into_iter()
        .map(|(_, _, annotation)| annotation)
        .collect()
}
