//! The merged SARIF, written for what GitHub code scanning accepts.
//!
//! - One run per tool, at most [`MAX_RUNS`]; beyond that the smallest tools share one run (their
//!   rule ids prefixed with the tool) and the report says so. Each run has its own
//!   `automationDetails.id` (`gantry-security-scan/<tool>/`), so GitHub keeps their alerts apart
//!   and accepts the upload (two runs of one tool and category are refused since July 2025).
//! - At most [`MAX_RESULTS_PER_RUN`] results per run: the most severe are kept, the report says
//!   how many were left out.
//! - `security-severity` on each rule (GitHub reads it there), a number in 0.1–10 written as a
//!   string; each result's `level` follows its severity.
//! - Locations are workspace-relative URIs; `primaryLocationLineHash` where the file is in the
//!   workspace; `baselineState` when a baseline was given; findings suppressed in the source or
//!   by the suppressions file carry SARIF `suppressions`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::merge::{BaselineState, CONTENT_KEY, CONTEXT_KEY, Merged};
use crate::severity::Severity;
use crate::suppress::Suppression;

/// GitHub's limit of runs per upload.
pub const MAX_RUNS: usize = 20;
/// GitHub's limit of results per run.
pub const MAX_RESULTS_PER_RUN: usize = 25_000;
/// GitHub's limit of a gzipped upload.
pub const MAX_GZIPPED_BYTES: usize = 10 * 1024 * 1024;

/// The run that tools beyond [`MAX_RUNS`] share.
pub const SHARED_RUN: &str = "Gantry (other tools)";

/// One run to write.
#[derive(Debug)]
pub struct RunPlan<'m> {
    /// The tool as the driver name.
    pub tool: String,
    /// The results, most severe first.
    pub results: Vec<&'m Merged>,
    /// Whether several tools share it (rule ids are then prefixed with the tool).
    pub shared: bool,
}

/// What writing had to leave out or change, for the report.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteNotes {
    /// Tools folded into the shared run.
    pub folded_tools: Vec<String>,
    /// Results left out per tool (the least severe beyond the per-run limit).
    pub dropped: Vec<(String, usize)>,
}

pub use crate::tools::slug;

/// Groups findings into runs within GitHub's limits.
pub fn plan_runs<'m>(findings: &[&'m Merged]) -> (Vec<RunPlan<'m>>, WriteNotes) {
    // One tool identity per slug: `Semgrep` (native JSON) and `semgrep` (its SARIF) are one
    // tool to GitHub's category rules, so they share a run, named as first seen.
    let mut by_tool: BTreeMap<String, (String, Vec<&'m Merged>)> = BTreeMap::new();
    for merged in findings {
        by_tool
            .entry(slug(&merged.finding.tool))
            .or_insert_with(|| (merged.finding.tool.clone(), Vec::new()))
            .1
            .push(merged);
    }
    let mut tools: Vec<(String, Vec<&'m Merged>)> = by_tool.into_values().collect();
    // Largest first keep their own runs.
    tools.sort_by_key(|(tool, results)| (std::cmp::Reverse(results.len()), tool.clone()));
    let mut notes = WriteNotes::default();
    let mut runs: Vec<RunPlan<'m>> = Vec::new();
    if tools.len() > MAX_RUNS {
        let rest = tools.split_off(MAX_RUNS - 1);
        let mut shared = Vec::new();
        for (tool, results) in rest {
            notes.folded_tools.push(tool);
            shared.extend(results);
        }
        tools.push((SHARED_RUN.to_owned(), shared));
    }
    let any_shared = !notes.folded_tools.is_empty();
    for (tool, mut results) in tools {
        results.sort_by(|a, b| severity_order(a, b));
        if results.len() > MAX_RESULTS_PER_RUN {
            notes
                .dropped
                .push((tool.clone(), results.len() - MAX_RESULTS_PER_RUN));
            results.truncate(MAX_RESULTS_PER_RUN);
        }
        runs.push(RunPlan {
            shared: any_shared && tool == SHARED_RUN,
            tool,
            results,
        });
    }
    runs.sort_by(|a, b| a.tool.cmp(&b.tool));
    (runs, notes)
}

/// Most severe first, then by file and line.
pub fn severity_order(a: &Merged, b: &Merged) -> std::cmp::Ordering {
    b.finding
        .severity
        .cmp(&a.finding.severity)
        .then_with(|| {
            b.finding
                .score
                .unwrap_or(0.0)
                .total_cmp(&a.finding.score.unwrap_or(0.0))
        })
        .then_with(|| a.finding.location.path.cmp(&b.finding.location.path))
        .then_with(|| {
            a.finding
                .location
                .start_line
                .cmp(&b.finding.location.start_line)
        })
}

/// The `security-severity` of a finding: its score when it has one, else the middle of its
/// severity's band; a note has none.
pub fn security_severity(merged: &Merged) -> Option<f64> {
    if merged.finding.severity == Severity::Note {
        return None;
    }
    let score = merged
        .finding
        .score
        .filter(|score| Severity::from_score(*score) == Some(merged.finding.severity))
        .or_else(|| merged.finding.severity.representative_score())?;
    Some(score.clamp(0.1, 10.0))
}

/// Percent-encodes what may not stand in a URI path (spaces, `#`, `?`, non-ASCII…).
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// One run's JSON: as written to the file, and (when asked for and different) as uploaded,
/// without `absent` results — code scanning would open alerts for them.
#[derive(Debug, Clone, Default)]
pub struct RunText {
    /// The run for the file.
    pub file: String,
    /// The run for the upload, when it differs.
    pub upload: Option<String>,
}

const LOG_START: &str =
    r#"{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":["#;
const LOG_END: &str = "]}";

/// Writes each run's JSON. Results are written one at a time (a run with 25,000 results never
/// exists as a JSON tree), then the run's rules.
pub fn write_runs(
    plans: &[RunPlan<'_>],
    suppressions: &[Suppression],
    with_baseline: bool,
    version: &str,
    separate_upload: bool,
) -> Vec<RunText> {
    plans
        .iter()
        .map(|plan| {
            let mut file = String::new();
            let mut upload = separate_upload.then(String::new);
            write_run(
                plan,
                suppressions,
                with_baseline,
                version,
                &mut file,
                upload.as_mut(),
            );
            RunText { file, upload }
        })
        .collect()
}

/// A SARIF log of these runs' JSON, consuming them as it goes.
pub fn join(runs: impl IntoIterator<Item = String>) -> String {
    let mut log = String::from(LOG_START);
    for (index, run) in runs.into_iter().enumerate() {
        if index > 0 {
            log.push(',');
        }
        log.push_str(&run);
    }
    log.push_str(LOG_END);
    log
}

/// Whether texts of this total length fit GitHub's 10 MB gzipped limit. Small ones surely do;
/// for large ones the gzip ratio of up to 8 MB of samples estimates it, and only a close call
/// compresses everything.
pub fn fits_upload(texts: &[&str]) -> bool {
    let total: usize = texts.iter().map(|text| text.len()).sum();
    if total <= MAX_GZIPPED_BYTES {
        return true;
    }
    let mut sampled = 0usize;
    let mut compressed = 0usize;
    for text in texts {
        if sampled >= 8 * 1024 * 1024 {
            break;
        }
        let mut end = text.len().min(8 * 1024 * 1024 - sampled);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        compressed += gzipped_len(&text[..end]);
        sampled += end;
    }
    #[expect(clippy::cast_precision_loss, reason = "sizes far below 2^52")]
    let estimate = total as f64 * compressed as f64 / sampled.max(1) as f64;
    #[expect(clippy::cast_precision_loss, reason = "a constant")]
    let limit = MAX_GZIPPED_BYTES as f64;
    if estimate < limit * 0.5 {
        return true;
    }
    if estimate > limit * 1.5 {
        return false;
    }
    texts.iter().map(|text| gzipped_len(text)).sum::<usize>() <= MAX_GZIPPED_BYTES
}

fn push_json(out: &mut String, value: &Value) {
    out.push_str(&serde_json::to_string(value).unwrap_or_default());
}

/// One run; `upload`, when given, gets the same run without `absent` results.
fn write_run(
    plan: &RunPlan<'_>,
    suppressions: &[Suppression],
    with_baseline: bool,
    version: &str,
    file: &mut String,
    mut upload: Option<&mut String>,
) {
    let head = format!(
        r#"{{"automationDetails":{{"id":{}}},"columnKind":"utf16CodeUnits","originalUriBaseIds":{{"%SRCROOT%":{{"description":{{"text":"The repository's root (GITHUB_WORKSPACE)."}}}}}},"results":["#,
        Value::from(format!("gantry-security-scan/{}/", slug(&plan.tool)))
    );
    file.push_str(&head);
    if let Some(upload) = upload.as_deref_mut() {
        upload.push_str(&head);
    }
    let mut rules: Vec<Value> = Vec::new();
    let mut rule_index: gantry_core::collections::FixedHashMap<String, usize> =
        gantry_core::collections::FixedHashMap::default();
    let mut rule_scores: Vec<Option<f64>> = Vec::new();
    let (mut first_in_file, mut first_in_upload) = (true, true);
    for merged in &plan.results {
        let finding = &merged.finding;
        let rule_id = if plan.shared {
            format!("{}/{}", finding.tool, finding.rule_id)
        } else {
            finding.rule_id.clone()
        };
        let score = security_severity(merged);
        let index = *rule_index.entry(rule_id.clone()).or_insert_with(|| {
            let mut rule = Map::new();
            rule.insert("id".into(), json!(rule_id));
            rule.insert("shortDescription".into(), json!({ "text": finding.title }));
            if let Some(uri) = &finding.help_uri {
                rule.insert("helpUri".into(), json!(uri));
            }
            rules.push(Value::Object(rule));
            rule_scores.push(None);
            rules.len() - 1
        });
        if score > rule_scores[index] {
            rule_scores[index] = score;
        }
        let result = result_value(merged, &rule_id, index, score, suppressions, with_baseline);
        let text = serde_json::to_string(&result).unwrap_or_default();
        if !std::mem::take(&mut first_in_file) {
            file.push(',');
        }
        file.push_str(&text);
        if let Some(upload) = upload.as_deref_mut() {
            if merged.state != Some(BaselineState::Absent) {
                if !std::mem::take(&mut first_in_upload) {
                    upload.push(',');
                }
                upload.push_str(&text);
            }
        }
    }
    for (rule, score) in rules.iter_mut().zip(rule_scores) {
        let mut properties = Map::new();
        properties.insert("tags".into(), json!(["security"]));
        if let Some(score) = score {
            properties.insert("security-severity".into(), json!(format!("{score:.1}")));
        }
        rule["properties"] = Value::Object(properties);
    }
    let tool = json!({ "driver": {
        "name": plan.tool,
        "informationUri": env!("CARGO_PKG_REPOSITORY"),
        "semanticVersion": version,
        "rules": rules,
    }});
    let mut tail = String::from(r#"],"tool":"#);
    push_json(&mut tail, &tool);
    tail.push('}');
    file.push_str(&tail);
    if let Some(upload) = upload {
        upload.push_str(&tail);
    }
}

fn result_value(
    merged: &Merged,
    rule_id: &str,
    index: usize,
    score: Option<f64>,
    suppressions: &[Suppression],
    with_baseline: bool,
) -> Value {
    let finding = &merged.finding;
    let mut result = Map::new();
    result.insert("ruleId".into(), json!(rule_id));
    result.insert("ruleIndex".into(), json!(index));
    result.insert("level".into(), json!(finding.severity.sarif_level()));
    result.insert("message".into(), json!({ "text": finding.message }));
    if let Some(path) = &finding.location.path {
        let mut region = Map::new();
        let start = finding.location.start_line.unwrap_or(1);
        region.insert("startLine".into(), json!(start));
        if let Some(end) = finding.location.end_line.filter(|end| *end >= start) {
            region.insert("endLine".into(), json!(end));
        }
        if let Some(column) = finding.location.start_column {
            region.insert("startColumn".into(), json!(column));
            if let Some(end) = finding.location.end_column.filter(|end| {
                *end > column || finding.location.end_line > finding.location.start_line
            }) {
                region.insert("endColumn".into(), json!(end));
            }
        }
        result.insert(
            "locations".into(),
            json!([{ "physicalLocation": {
                "artifactLocation": { "uri": uri_path(path), "uriBaseId": "%SRCROOT%" },
                "region": region,
            }}]),
        );
    }
    let mut fingerprints = Map::new();
    if let Some(hash) = &merged.line_hash {
        fingerprints.insert("primaryLocationLineHash".into(), json!(hash));
    }
    if let Some(key) = &merged.content_key {
        fingerprints.insert(CONTENT_KEY.into(), json!(key));
    }
    if let Some(context) = &merged.context {
        fingerprints.insert(CONTEXT_KEY.into(), json!(context));
    }
    if !fingerprints.is_empty() {
        result.insert("partialFingerprints".into(), Value::Object(fingerprints));
    }
    if with_baseline {
        result.insert(
            "baselineState".into(),
            json!(merged.state.unwrap_or(BaselineState::New).word()),
        );
    }
    let mut suppression_list = Vec::new();
    if finding.suppressed_in_source {
        suppression_list.push(json!({ "kind": "inSource", "status": "accepted" }));
    }
    if let Some(entry) = merged
        .suppressed_by
        .and_then(|index| suppressions.get(index))
    {
        suppression_list.push(json!({
            "kind": "external",
            "status": "accepted",
            "justification": entry.reason,
        }));
    }
    if !suppression_list.is_empty() {
        result.insert("suppressions".into(), Value::Array(suppression_list));
    }
    let mut properties = Map::new();
    properties.insert("gantry/severity".into(), json!(finding.severity.word()));
    properties.insert("gantry/tools".into(), json!(merged.tools));
    if let Some(score) = score {
        properties.insert("security-severity".into(), json!(format!("{score:.1}")));
    }
    if let Some(vulnerability) = &finding.vulnerability {
        properties.insert("gantry/vulnerability".into(), json!(vulnerability));
    }
    if let Some(package) = &finding.package {
        properties.insert("gantry/package".into(), json!(package));
    }
    if let Some(version) = &finding.version {
        properties.insert("gantry/version".into(), json!(version));
    }
    if let Some(fixed_in) = &finding.fixed_in {
        properties.insert("gantry/fixedIn".into(), json!(fixed_in));
    }
    result.insert("properties".into(), Value::Object(properties));
    Value::Object(result)
}

/// The gzipped size of `text` (what GitHub's 10 MB limit counts).
pub fn gzipped_len(text: &str) -> usize {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = encoder.write_all(text.as_bytes());
    encoder.finish().map_or(usize::MAX, |bytes| bytes.len())
}
