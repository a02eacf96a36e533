//! The decision as people and the deployment gate see it: a [`Report`] whose summary and
//! comment start with the decision and its reason, then a table per test (baseline, canary,
//! change, p-value against its level, verdict), then a Mermaid `xychart-beta` of the metric
//! that decided, per interval, baseline against canary; and the evidence file (JSON) with every
//! sample, statistic and verdict.

use std::fmt::Write as _;

use gantry_core::markdown::{Align, Table, code, text};
use gantry_core::report::{CommentEffect, Contents, Effect, OutputFile, Report, Verdict};
use serde_json::{Value, json};

use crate::judge::{Config, Decision, Evaluation, Evidence, Verdict as MetricVerdict};

/// The action's name.
pub const NAME: &str = "canary-verify";

/// How the report is put together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOptions {
    /// An inconclusive analysis passes (exit 0) instead of failing.
    pub inconclusive_passes: bool,
    /// Post the sticky comment, under this key (`None`: no comment).
    pub comment_key: Option<String>,
    /// Where the evidence file is written, relative to the workspace.
    pub evidence_file: String,
}

/// `value` to `digits` significant digits (`0.0123`, `12.3`, `1230`); below 0.001 in
/// scientific notation (`3.1e-5`).
pub fn significant(value: f64, digits: i32) -> String {
    if value == 0.0 || !value.is_finite() {
        return if value == 0.0 {
            "0".to_owned()
        } else {
            value.to_string()
        };
    }
    if value.abs() < 1e-3 {
        let precision = usize::try_from(digits - 1).unwrap_or(0);
        return format!("{value:.precision$e}");
    }
    #[expect(clippy::cast_possible_truncation, reason = "a decimal exponent")]
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = usize::try_from((digits - 1 - magnitude).max(0)).unwrap_or(0);
    format!("{value:.decimals$}")
}

fn number(value: Option<f64>, unit: &str) -> String {
    match value {
        None => "—".to_owned(),
        Some(value) if unit == "ratio" => format!("{} %", significant(value * 100.0, 3)),
        Some(value) => format!("{} {unit}", significant(value, 3)),
    }
}

/// The change, and whether it is too small to count (`min-effect`).
fn change(effect: f64, min_effect: f64) -> String {
    if effect.is_infinite() {
        return "from zero".to_owned();
    }
    let shown = format!("{:+.1} %", effect * 100.0);
    if effect > 0.0 && effect < min_effect {
        format!(
            "{shown} (below min-effect {} %)",
            significant(min_effect * 100.0, 3)
        )
    } else {
        shown
    }
}

/// The decision's first line.
fn heading(evaluation: &Evaluation, config: &Config) -> String {
    let canary = code(&config.canary);
    match evaluation.decision {
        Decision::Promote => format!("### ✅ Canary {canary}: promote"),
        Decision::Rollback => format!("### ❌ Canary {canary}: roll back"),
        Decision::Inconclusive | Decision::Continue => {
            format!("### ⚠️ Canary {canary}: inconclusive")
        }
    }
}

/// A Mermaid name: letters, digits, spaces and a few signs only.
fn mermaid_safe(untrusted: &str) -> String {
    untrusted
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '%'))
        .collect()
}

/// The chart of one comparison: per interval (minutes before the evaluation), baseline then
/// canary.
#[expect(
    clippy::cast_possible_truncation,
    reason = "Unix seconds, rounded to whole seconds"
)]
fn chart(evidence: &Evidence, at: i64) -> Option<String> {
    let samples = evidence.samples.first()?;
    if samples.canary.is_empty() || samples.baseline.is_empty() {
        return None;
    }
    let mut times: Vec<i64> = samples
        .canary
        .iter()
        .chain(&samples.baseline)
        .map(|&(t, _)| t.round() as i64)
        .collect();
    times.sort_unstable();
    times.dedup();
    let value_at = |series: &[(f64, f64)], time: i64| {
        series
            .iter()
            .find(|&&(t, _)| t.round() as i64 == time)
            .map_or(0.0, |&(_, v)| {
                if evidence.unit == "ratio" {
                    v * 100.0
                } else {
                    v
                }
            })
    };
    let labels: Vec<String> = times
        .iter()
        .map(|time| match (at - time) / 60 {
            0 => "\"at\"".to_owned(),
            minutes => format!("\"-{minutes}m\""),
        })
        .collect();
    let line = |series: &[(f64, f64)]| {
        times
            .iter()
            .map(|&time| format!("{:.4}", value_at(series, time)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let unit = if evidence.unit == "ratio" {
        "%"
    } else {
        evidence.unit.as_str()
    };
    let highest = samples
        .canary
        .iter()
        .chain(&samples.baseline)
        .map(|&(_, v)| {
            if evidence.unit == "ratio" {
                v * 100.0
            } else {
                v
            }
        })
        .fold(0.0_f64, f64::max);
    let top = if highest > 0.0 { highest * 1.1 } else { 1.0 };
    // Mermaid's xychart draws no legend: the lines get fixed colours, named below the chart.
    let mut block = String::from(
        "```mermaid\n%%{init: {\"themeVariables\": {\"xyChart\": {\"plotColorPalette\": \"#1f6feb, #d1242f\"}}}}%%\nxychart-beta\n",
    );
    let _ = writeln!(
        block,
        "  title \"{} per interval\"",
        mermaid_safe(&samples.name)
    );
    let _ = writeln!(
        block,
        "  x-axis \"minutes before the decision\" [{}]",
        labels.join(", ")
    );
    let _ = writeln!(
        block,
        "  y-axis \"{} ({})\" 0 --> {}",
        mermaid_safe(&samples.name),
        mermaid_safe(unit),
        significant(top, 3)
    );
    let _ = writeln!(block, "  line [{}]", line(&samples.baseline));
    let _ = writeln!(block, "  line [{}]", line(&samples.canary));
    block.push_str("```\n\n🟦 baseline · 🟥 canary\n");
    Some(block)
}

/// The summary and comment body.
#[must_use]
pub fn markdown(evaluation: &Evaluation, config: &Config) -> String {
    let mut body = heading(evaluation, config);
    let _ = write!(
        body,
        "\n\n{}\n\n<sub>{} against {} in {}, {} requests against {}; look {} of {}, error budget of the look {:.2e} (confidence {} over the analysis).</sub>\n\n",
        text(&evaluation.reason),
        code(&config.canary),
        code(&config.baseline),
        code(&config.namespace),
        evaluation.requests.0,
        evaluation.requests.1,
        evaluation.look.0,
        evaluation.look.1,
        evaluation.alpha,
        config.confidence
    );
    let mut table = Table::new(&[
        ("metric", Align::Left),
        ("test", Align::Left),
        ("baseline", Align::Right),
        ("canary", Align::Right),
        ("change", Align::Right),
        ("p-value", Align::Right),
        ("level", Align::Right),
        ("verdict", Align::Left),
    ]);
    for evidence in &evaluation.evidence {
        let verdict = match evidence.verdict {
            MetricVerdict::Pass => "pass".to_owned(),
            MetricVerdict::Regression if evidence.critical => "**regression**".to_owned(),
            MetricVerdict::Regression => "regression (not critical)".to_owned(),
            MetricVerdict::Breach => "**beyond its bound**".to_owned(),
            MetricVerdict::Insufficient => "too little data".to_owned(),
        };
        if evidence.tests.is_empty() {
            table.row([
                text(&evidence.metric),
                "—".to_owned(),
                number(evidence.baseline, &evidence.unit),
                number(evidence.canary, &evidence.unit),
                "—".to_owned(),
                "—".to_owned(),
                "—".to_owned(),
                verdict,
            ]);
            continue;
        }
        for (index, test) in evidence.tests.iter().enumerate() {
            let first = index == 0;
            // Each test with the values it compared: p50 and p99 each their own.
            table.row([
                if first {
                    text(&evidence.metric)
                } else {
                    String::new()
                },
                format!("{} ({})", text(&test.name), test.method),
                number(test.baseline, &evidence.unit),
                number(test.canary, &evidence.unit),
                change(test.effect, config.min_effect),
                significant(test.p, 2),
                test.level
                    .map_or_else(|| "—".to_owned(), |level| significant(level, 2)),
                if test.regression {
                    "**worse**".to_owned()
                } else if first {
                    verdict.clone()
                } else {
                    String::new()
                },
            ]);
        }
    }
    if !table.is_empty() {
        body.push_str(&table.render());
        body.push('\n');
    }
    for evidence in &evaluation.evidence {
        if let Some(note) = evidence
            .note
            .as_deref()
            .filter(|_| evidence.verdict != MetricVerdict::Pass)
        {
            let _ = writeln!(body, "- {}: {}", text(&evidence.metric), text(note));
        }
    }
    for warning in &evaluation.warnings {
        let _ = writeln!(body, "- Prometheus warned: {}", text(warning));
    }
    // The metric that decided, else the first.
    let shown = evaluation
        .evidence
        .iter()
        .find(|e| matches!(e.verdict, MetricVerdict::Regression | MetricVerdict::Breach))
        .or_else(|| evaluation.evidence.first());
    if let Some(block) = shown.and_then(|evidence| chart(evidence, evaluation.at)) {
        body.push('\n');
        body.push_str(&block);
    }
    body
}

fn series_json(series: &[(f64, f64)]) -> Value {
    Value::Array(series.iter().map(|&(t, v)| json!([t, v])).collect())
}

/// The evidence file: everything the decision rests on, for the deployment gate.
#[must_use]
pub fn evidence_json(evaluation: &Evaluation, config: &Config) -> Value {
    let finite = |value: f64| {
        if value.is_finite() {
            json!(value)
        } else {
            json!(value.to_string())
        }
    };
    json!({
        "decision": evaluation.decision.word(),
        "reason": evaluation.reason,
        "at": evaluation.at,
        "namespace": config.namespace,
        "canary": config.canary,
        "baseline": config.baseline,
        "window_seconds": config.window,
        "step_seconds": config.step,
        "confidence": config.confidence,
        "look": evaluation.look.0,
        "looks": evaluation.look.1,
        "alpha": evaluation.alpha,
        "requests": {"canary": evaluation.requests.0, "baseline": evaluation.requests.1},
        "warnings": evaluation.warnings,
        "metrics": evaluation.evidence.iter().map(|evidence| json!({
            "metric": evidence.metric,
            "unit": evidence.unit,
            "critical": evidence.critical,
            "verdict": match evidence.verdict {
                MetricVerdict::Pass => "pass",
                MetricVerdict::Regression => "regression",
                MetricVerdict::Breach => "breach",
                MetricVerdict::Insufficient => "insufficient",
            },
            "note": evidence.note,
            "canary": evidence.canary,
            "baseline": evidence.baseline,
            "tests": evidence.tests.iter().map(|test| json!({
                "name": test.name,
                "method": test.method,
                "p": test.p,
                "effect": finite(test.effect),
                "level": test.level,
                "regression": test.regression,
                "baseline": test.baseline,
                "canary": test.canary,
            })).collect::<Vec<_>>(),
            "samples": evidence.samples.iter().map(|samples| json!({
                "name": samples.name,
                "canary": series_json(&samples.canary),
                "baseline": series_json(&samples.baseline),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// The report of a final evaluation.
#[must_use]
pub fn report(evaluation: &Evaluation, config: &Config, options: &ReportOptions) -> Report {
    let decision = match evaluation.decision {
        Decision::Continue => Decision::Inconclusive,
        other => other,
    };
    let verdict = match decision {
        Decision::Promote => Verdict::Passed,
        Decision::Inconclusive if options.inconclusive_passes => Verdict::Passed,
        _ => Verdict::Failed,
    };
    let mut report = Report::new(
        NAME,
        verdict,
        format!("{}: {}", decision.word(), evaluation.reason),
    );
    report.outputs.set("decision", decision.word());
    report
        .outputs
        .set("reason", evaluation.reason.replace(['\r', '\n'], " "));
    report
        .outputs
        .set("canary-requests", evaluation.requests.0.to_string());
    report
        .outputs
        .set("baseline-requests", evaluation.requests.1.to_string());
    report
        .outputs
        .set("evidence-file", options.evidence_file.clone());
    let mut evidence = evidence_json(evaluation, config);
    evidence["decision"] = json!(decision.word());
    report.files.push(OutputFile {
        path: options.evidence_file.clone(),
        contents: Contents::Text(format!("{evidence:#}\n")),
    });
    let body = markdown(evaluation, config);
    if let Some(key) = &options.comment_key {
        report.effects.push(Effect::Comment(CommentEffect::sticky(
            NAME,
            key,
            body.clone(),
        )));
    }
    report.summary = body;
    report
}
