//! gantry-security-scan: many scanners in, one trustworthy verdict and one valid SARIF out.
//!
//! What it is: a sans-IO function from scanners' reports (SARIF from any tool, or the native
//! JSON of the common scanners, recognised from content), an optional baseline SARIF this action
//! wrote earlier and an optional suppressions file, to a [`Report`]: findings on one severity
//! scale ([`severity`]), deduplicated across tools ([`merge`]), matched against the baseline by
//! content, suppressed with reasons and expiry ([`suppress`]), written as one SARIF that GitHub
//! code scanning accepts ([`sarif_out`]), with a PR comment, a step summary and annotations.
//!
//! What it is not: a scanner, or a publisher. Secret scanners' matched text never comes through.

pub mod baseline;
pub mod diff;
pub mod finding;
pub mod fingerprint;
pub mod input;
pub mod merge;
pub mod native;
mod render;
pub mod sarif_input;
pub mod sarif_out;
pub mod severity;
pub mod suppress;
pub mod tools;

use gantry_core::action::{
    ActionSpec, COMMENT_AUTHOR_INPUT, GITHUB_TOKEN_INPUT, InputKind, InputSpec, OutputSpec,
    RESULT_OUTPUT,
};
use gantry_core::report::{
    Annotation, COMMENT_BODY_BUDGET, CommentEffect, Effect, OutputFile, Report, SarifUploadEffect,
    Verdict,
};
use gantry_core::runner::{
    AnnotationLevel, AnnotationPlace, InputError, Inputs, STEP_SUMMARY_LIMIT,
};

use crate::input::{ReportError, read_report};
use gantry_core::workspace::Workspace;

use crate::merge::{BaselineState, Merged};
use crate::severity::Severity;
use crate::suppress::{Suppression, SuppressionError};

/// The action's name.
pub const NAME: &str = "security-scan";

/// The action's declaration.
pub const SPEC: ActionSpec = ActionSpec {
    name: NAME,
    title: "Gantry: security scan",
    description: "Merges many scanners' SARIF and native JSON into one deduplicated set of findings on one severity scale, tells new findings from known ones against a baseline, applies reviewed suppressions, writes one SARIF that GitHub code scanning accepts, and gates on new findings.",
    inputs: &[
        InputSpec {
            name: "reports",
            description: concat!(
                "Report files, one path or glob per line: SARIF 2.1.0 from any tool, or the JSON of ",
                native::supported_native!(),
                ". The format is recognised from the content."
            ),
            required: true,
            default: None,
            kind: InputKind::List,
        },
        InputSpec {
            name: "fail-on",
            description: "Exit 1 when a new, unsuppressed finding is at or above this severity: `critical`, `high`, `medium`, `low`, or `none`.",
            required: false,
            default: Some("high"),
            kind: InputKind::Choice(&["critical", "high", "medium", "low", "none"]),
        },
        InputSpec {
            name: "baseline",
            description: "A SARIF file this action wrote earlier (on the base branch, passed as an artifact), or `auto`: the base branch's latest code-scanning analyses of this action (needs `security-events: read`), else the newest `baseline-artifact` of a run on the base branch (needs `actions: read`); none yet is a warning, and every finding is judged. Findings matching the baseline are not new; matching follows the code when lines move.",
            required: false,
            default: None,
            kind: InputKind::Text,
        },
        InputSpec {
            name: "baseline-artifact",
            description: "With `baseline: auto`: the artifact the base branch's runs upload this action's `output` as, used when code scanning has no analysis.",
            required: false,
            default: Some("gantry-security-scan"),
            kind: InputKind::Text,
        },
        InputSpec {
            name: "suppressions",
            description: "A YAML file with a `suppressions:` list of entries: `id` (rule or vulnerability id), `reason`, optional `path` glob, `tool` and `expires` (YYYY-MM-DD; an expired entry stops suppressing and is listed).",
            required: false,
            default: None,
            kind: InputKind::Text,
        },
        InputSpec {
            name: "output",
            description: "Where to write the merged SARIF, relative to the workspace.",
            required: false,
            default: Some("gantry-security.sarif"),
            kind: InputKind::Text,
        },
        InputSpec {
            name: "upload",
            description: "Send the merged SARIF to GitHub code scanning for `GITHUB_SHA` and `GITHUB_REF` (needs `security-events: write`).",
            required: false,
            default: Some("false"),
            kind: InputKind::Boolean,
        },
        InputSpec {
            name: "comment",
            description: "`update` keeps one sticky PR comment and edits it; `off` posts none (the step summary is still written).",
            required: false,
            default: Some("update"),
            kind: InputKind::Choice(&["update", "off"]),
        },
        GITHUB_TOKEN_INPUT,
        COMMENT_AUTHOR_INPUT,
    ],
    outputs: &[
        OutputSpec {
            name: "total",
            description: "Findings after deduplication (suppressed ones included; fixed ones not).",
        },
        OutputSpec {
            name: "new",
            description: "Unsuppressed findings not in the baseline (all unsuppressed findings without one).",
        },
        OutputSpec {
            name: "fixed",
            description: "Baseline findings no longer found.",
        },
        OutputSpec {
            name: "suppressed",
            description: "Findings suppressed in the source or by the suppressions file.",
        },
        OutputSpec {
            name: "critical",
            description: "Unsuppressed findings of critical severity (critical + high + medium + low + note + suppressed = total).",
        },
        OutputSpec {
            name: "high",
            description: "Unsuppressed findings of high severity.",
        },
        OutputSpec {
            name: "medium",
            description: "Unsuppressed findings of medium severity.",
        },
        OutputSpec {
            name: "low",
            description: "Unsuppressed findings of low severity.",
        },
        OutputSpec {
            name: "note",
            description: "Unsuppressed informational findings.",
        },
        OutputSpec {
            name: "sarif-file",
            description: "The merged SARIF's path (several, one a line, when it had to be split by tool to stay under GitHub's 10 MB).",
        },
        RESULT_OUTPUT,
    ],
};

/// The action's options, from its inputs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The gate: `None` never fails.
    pub fail_on: Option<Severity>,
    /// Where the merged SARIF goes.
    pub output: String,
    /// Send it to code scanning.
    pub upload: bool,
    /// Post the sticky comment.
    pub comment: bool,
    /// Today, `YYYY-MM-DD`, for suppression expiry.
    pub today: String,
    /// `https://github.com/<owner>/<repo>/blob/<sha>/` for links to findings, when known.
    pub blob_base: Option<String>,
    /// `GITHUB_WORKFLOW`/`GITHUB_JOB`, for the comment key.
    pub workflow_and_job: String,
    /// The change's diff, when the edge has one (the pull request's files, `git diff`): a
    /// finding is matched against the baseline by the line it was on before the change.
    pub change: Option<diff::Change>,
    /// What the edge has to say of the baseline (where `baseline: auto` found it, or why it
    /// found none), shown with the summary's notes.
    pub baseline_notes: Vec<String>,
}

impl Options {
    /// Reads the options from the step's inputs; `today` and `blob_base` come from the edge.
    pub fn from_inputs(
        inputs: &Inputs,
        today: String,
        blob_base: Option<String>,
        workflow_and_job: String,
    ) -> Result<Self, InputError> {
        let fail_on = inputs.chosen(SPEC.declared("fail-on"))?;
        Ok(Self {
            fail_on: Severity::threshold(&fail_on).flatten(),
            output: inputs
                .optional("output")
                .unwrap_or_else(|| "gantry-security.sarif".to_owned()),
            upload: inputs.flag(SPEC.declared("upload"))?,
            comment: inputs.chosen(SPEC.declared("comment"))? == "update",
            today,
            blob_base,
            workflow_and_job,
            change: None,
            baseline_notes: Vec::new(),
        })
    }
}

/// One input file's name and bytes.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// Workspace-relative name, for messages.
    pub file: &'a str,
    /// Contents.
    pub bytes: &'a [u8],
}

/// Why the action could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// A report was refused.
    #[error("{0}")]
    Report(#[from] ReportError),
    /// The baseline was refused.
    #[error("baseline {0}")]
    Baseline(ReportError),
    /// The suppressions file was refused.
    #[error("{0}")]
    Suppressions(#[from] SuppressionError),
    /// No report given.
    #[error("input `reports` names no file")]
    NoReports,
}

/// Everything decided, before rendering.
#[derive(Debug)]
pub(crate) struct Scan {
    pub(crate) findings: Vec<Merged>,
    pub(crate) absent: Vec<Merged>,
    pub(crate) suppressions: Vec<Suppression>,
    pub(crate) expired_used: Vec<usize>,
    pub(crate) with_baseline: bool,
    pub(crate) notes: Vec<String>,
    pub(crate) tools: Vec<String>,
}

impl Scan {
    pub(crate) fn is_suppressed(entry: &Merged) -> bool {
        entry.finding.suppressed_in_source || entry.suppressed_by.is_some()
    }

    pub(crate) fn is_new(entry: &Merged) -> bool {
        !Self::is_suppressed(entry) && matches!(entry.state, None | Some(BaselineState::New))
    }
}

/// Reads reports into findings, in the given order. [`read_in_order`] is the sans-IO default;
/// an edge with threads may pass one that reads several at a time (the CLI does), as long as it
/// returns one result per source in the sources' order.
pub type ReadReports = dyn Fn(&[Source<'_>]) -> Vec<Result<input::ReportInput, ReportError>>;

/// Reads every report, one after another.
pub fn read_in_order(sources: &[Source<'_>]) -> Vec<Result<input::ReportInput, ReportError>> {
    sources
        .iter()
        .map(|source| read_report(source.file, source.bytes))
        .collect()
}

fn read_findings(
    read: &ReadReports,
    sources: &[Source<'_>],
    workspace: &dyn Workspace,
    notes: &mut Vec<String>,
    tools: &mut Vec<String>,
) -> Result<Vec<finding::Finding>, ReportError> {
    let mut findings = Vec::new();
    let mut guessed = 0usize;
    let mut remote = 0usize;
    for input in read(sources) {
        let input = input?;
        notes.extend(input.warnings.into_iter().take(20));
        for mut found in input.findings {
            found.tool = tools::tool_identity(&found.tool).name;
            if let Some(path) = found
                .location
                .path
                .take_if(|path| path.contains("://") && !path.starts_with("file://"))
            {
                // A URL is no place in the repository: GitHub refuses it as a location.
                remote += 1;
                found.message = format!("{} (at {path})", found.message);
            }
            if let Some(path) = &found.location.path {
                let (relative, was_guessed) =
                    gantry_core::workspace::relative_path(path, workspace);
                guessed += usize::from(was_guessed);
                found.location.path = Some(relative);
            }
            if tools.last() != Some(&found.tool) && !tools.contains(&found.tool) {
                tools.push(found.tool.clone());
            }
            findings.push(found);
        }
    }
    if remote > 0 {
        notes.push(format!(
            "{remote} finding(s) point at a URL rather than a file; the URL is kept in the message"
        ));
    }
    if guessed > 0 {
        notes.push(format!(
            "{guessed} finding(s) name an absolute path outside the workspace that matches no workspace file (an image layer, another checkout); the path is kept, made relative"
        ));
    }
    Ok(findings)
}

/// Runs the action, reading the reports one after another.
pub fn run(
    options: &Options,
    reports: &[Source<'_>],
    baseline: Option<Source<'_>>,
    suppressions: Option<Source<'_>>,
    workspace: &dyn Workspace,
) -> Result<Report, ScanError> {
    run_with_reader(
        options,
        reports,
        baseline,
        suppressions,
        workspace,
        &read_in_order,
    )
}

/// Runs the action, reading the reports with `read` ([`ReadReports`]).
pub fn run_with_reader(
    options: &Options,
    reports: &[Source<'_>],
    baseline: Option<Source<'_>>,
    suppressions: Option<Source<'_>>,
    workspace: &dyn Workspace,
    read: &ReadReports,
) -> Result<Report, ScanError> {
    if reports.is_empty() {
        return Err(ScanError::NoReports);
    }
    let suppressions = match suppressions {
        Some(source) => suppress::parse(source.file, source.bytes)?,
        None => Vec::new(),
    };
    let mut notes = options.baseline_notes.clone();
    let mut tools = Vec::new();
    let findings = read_findings(read, reports, workspace, &mut notes, &mut tools)?;
    let mut merged = merge::dedupe(findings);
    baseline::hash_lines(&mut merged, workspace);

    let with_baseline = baseline.is_some();
    let absent = match baseline {
        Some(source) => {
            let mut ignored = Vec::new();
            let mut baseline_tools = Vec::new();
            let old = read_findings(
                read,
                &[source],
                workspace,
                &mut ignored,
                &mut baseline_tools,
            )
            .map_err(ScanError::Baseline)?;
            let old = merge::dedupe(old);
            let without_context = old
                .iter()
                .filter(|entry| !baseline::is_dependency(entry) && entry.context.is_none())
                .count();
            if without_context > 0 && options.change.is_none() {
                notes.push(format!(
                    "baseline {}: {without_context} finding(s) carry no line context (a SARIF from another tool or an older Gantry): each matches only a finding on the same line with the same message, so a finding that merely moved is reported fixed and new — write the baseline with this version of security-scan, or run on a pull request, whose diff is used instead",
                    source.file
                ));
            }
            baseline::match_baseline(&mut merged, old, workspace, options.change.as_ref())
        }
        None => Vec::new(),
    };

    let mut expired_used = Vec::new();
    for entry in &mut merged {
        for (index, suppression) in suppressions.iter().enumerate() {
            if suppression.names(&entry.finding, &entry.tools) {
                if suppression.expired(&options.today) {
                    entry.expired.push(index);
                    if !expired_used.contains(&index) {
                        expired_used.push(index);
                    }
                } else if entry.suppressed_by.is_none() {
                    entry.suppressed_by = Some(index);
                }
            }
        }
    }
    // Expired entries are listed even when nothing matches them any more.
    for (index, suppression) in suppressions.iter().enumerate() {
        if suppression.expired(&options.today) && !expired_used.contains(&index) {
            expired_used.push(index);
        }
    }
    expired_used.sort_unstable();

    let scan = Scan {
        findings: merged,
        absent,
        suppressions,
        expired_used,
        with_baseline,
        notes,
        tools,
    };
    Ok(report(options, scan))
}

fn report(options: &Options, mut scan: Scan) -> Report {
    // The SARIF: current findings and the fixed ones (`absent`); the upload leaves the fixed
    // ones out — code scanning would open alerts for them.
    let all: Vec<&Merged> = scan.findings.iter().chain(&scan.absent).collect();
    let (runs, write_notes) = sarif_out::plan_runs(&all);
    let version = env!("CARGO_PKG_VERSION");
    let separate_upload = options.upload && !scan.absent.is_empty();
    if !write_notes.folded_tools.is_empty() {
        scan.notes.push(format!(
            "GitHub accepts at most {} runs in one upload: {} share the run `{}`, their rule ids prefixed with the tool",
            sarif_out::MAX_RUNS,
            write_notes.folded_tools.join(", "),
            sarif_out::SHARED_RUN
        ));
    }
    for (tool, dropped) in &write_notes.dropped {
        scan.notes.push(format!(
            "{tool}: {dropped} least severe result(s) left out of the SARIF (GitHub accepts at most {} per run)",
            sarif_out::MAX_RESULTS_PER_RUN
        ));
    }
    let texts = sarif_out::write_runs(
        &runs,
        &scan.suppressions,
        scan.with_baseline,
        version,
        separate_upload,
    );
    let upload_texts: Vec<&str> = texts
        .iter()
        .map(|text| text.upload.as_deref().unwrap_or(&text.file))
        .collect();
    let fits = sarif_out::fits_upload(&upload_texts);
    drop(upload_texts);
    // (path, file text, upload text when it differs)
    let mut files: Vec<(String, String, Option<String>)> = Vec::new();
    if fits {
        let (file_runs, upload_runs): (Vec<String>, Vec<Option<String>>) = texts
            .into_iter()
            .map(|text| (text.file, text.upload))
            .unzip();
        let upload = separate_upload.then(|| sarif_out::join(upload_runs.into_iter().flatten()));
        files.push((options.output.clone(), sarif_out::join(file_runs), upload));
    } else {
        let stem = options
            .output
            .strip_suffix(".sarif")
            .unwrap_or(&options.output);
        for (plan, text) in runs.iter().zip(texts) {
            files.push((
                format!("{stem}-{}.sarif", sarif_out::slug(&plan.tool)),
                sarif_out::join([text.file]),
                text.upload.map(|upload| sarif_out::join([upload])),
            ));
        }
        scan.notes.push(format!(
            "the merged SARIF is over GitHub's 10 MB gzipped limit: written as {} files, one per tool",
            files.len()
        ));
    }
    drop(runs);

    let count = |test: &dyn Fn(&Merged) -> bool| scan.findings.iter().filter(|m| test(m)).count();
    let new_count = count(&Scan::is_new);
    let suppressed = count(&Scan::is_suppressed);
    let failing: Vec<&Merged> = scan
        .findings
        .iter()
        .filter(|entry| {
            Scan::is_new(entry)
                && options
                    .fail_on
                    .is_some_and(|floor| entry.finding.severity >= floor)
        })
        .collect();
    let verdict = if failing.is_empty() {
        Verdict::Passed
    } else {
        Verdict::Failed
    };
    let headline = if failing.is_empty() {
        format!("{new_count} new finding(s), none at or above the gate")
    } else {
        format!(
            "{} new finding(s) at or above {}",
            failing.len(),
            options.fail_on.map_or("", Severity::word)
        )
    };
    let mut report = Report::new(NAME, verdict, headline);
    let set =
        |report: &mut Report, name: &str, value: usize| report.outputs.set(name, value.to_string());
    set(&mut report, "total", scan.findings.len());
    set(&mut report, "new", new_count);
    set(&mut report, "fixed", scan.absent.len());
    set(&mut report, "suppressed", suppressed);
    for severity in Severity::ALL {
        set(
            &mut report,
            severity.word(),
            count(&|entry| !Scan::is_suppressed(entry) && entry.finding.severity == severity),
        );
    }
    report.outputs.set(
        "sarif-file",
        files
            .iter()
            .map(|(path, _, _)| path.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
    );

    // Annotations: new findings with a place, most severe first.
    let mut new_findings: Vec<&Merged> = scan
        .findings
        .iter()
        .filter(|entry| Scan::is_new(entry))
        .collect();
    new_findings.sort_by(|a, b| sarif_out::severity_order(a, b));
    // Every new finding with a place, most severe first: the edge shows the runner's ten of each
    // kind and says how many more there are (`Report::workflow_commands`).
    for entry in &new_findings {
        let finding = &entry.finding;
        let Some(path) = &finding.location.path else {
            continue;
        };
        let level = match finding.severity {
            Severity::Critical | Severity::High => AnnotationLevel::Error,
            Severity::Medium => AnnotationLevel::Warning,
            Severity::Low | Severity::Note => AnnotationLevel::Notice,
        };
        report.annotations.push(Annotation {
            level,
            place: AnnotationPlace {
                file: Some(path.clone()),
                line: finding.location.start_line,
                end_line: finding.location.end_line,
                title: Some(format!(
                    "{} {}: {}",
                    finding.severity.word(),
                    entry.tools.join(", "),
                    finding.rule_id
                )),
                ..AnnotationPlace::default()
            },
            message: markdown_free(&finding.message),
        });
    }

    let sections = render::sections(&scan, options, &new_findings);
    report.summary = render::render(
        &scan,
        options,
        &failing,
        &sections,
        STEP_SUMMARY_LIMIT,
        "the merged SARIF file",
    );
    if options.comment {
        let body = render::render(
            &scan,
            options,
            &failing,
            &sections,
            COMMENT_BODY_BUDGET,
            "the job's step summary",
        );
        report.effects.push(Effect::Comment(CommentEffect::sticky(
            NAME,
            &options.workflow_and_job,
            body,
        )));
    }
    for (path, file, upload) in files {
        if options.upload {
            report.effects.push(Effect::UploadSarif(SarifUploadEffect {
                sarif: upload.unwrap_or_else(|| file.clone()),
                commit_sha: None,
                git_ref: None,
                wait_for_processing: true,
            }));
        }
        report.files.push(OutputFile {
            path,
            contents: file.into(),
        });
    }
    report
}

/// A message for an annotation: one paragraph, at most 1,000 characters.
fn markdown_free(message: &str) -> String {
    let flat: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
    gantry_core::markdown::shorten(&flat, 1_000).into_owned()
}
