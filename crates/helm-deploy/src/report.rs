//! What a deploy tells people: the decision and its one-line reason first, then what failed and
//! why in the cluster's own words (the pod's events and last log lines, secrets masked), the
//! canary's looks, the health checks, the timeline of steps with their times, and the state the
//! deploy left — plus the outputs and the final GitHub deployment statuses.

use std::fmt::Write as _;

use gantry_core::markdown::{Align, Table, code, code_block, text};
use gantry_core::report::{DeploymentState, DeploymentStatusEffect, Effect, Report, Verdict};

use crate::mask::mask;
use crate::plan::Plan;

/// How a deploy ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A rolling or first deploy is serving.
    Deployed,
    /// A canary or blue-green deploy was promoted: the new version is the stable one.
    Promoted,
    /// The deploy failed and was undone: the old version serves.
    RolledBack,
    /// The deploy failed and could not be fully undone (or there was nothing to undo to).
    Failed,
}

impl Decision {
    /// The `decision` output.
    #[must_use]
    pub const fn word(self) -> &'static str {
        match self {
            Self::Deployed => "deployed",
            Self::Promoted => "promoted",
            Self::RolledBack => "rolled-back",
            Self::Failed => "failed",
        }
    }
}

/// The failing pod's story, as Kubernetes told it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evidence {
    /// The pod.
    pub pod: String,
    /// The container, when one is at fault.
    pub container: Option<String>,
    /// The cause, in words.
    pub cause: String,
    /// What the kubelet or scheduler said.
    pub detail: String,
    /// The pod's events (`reason: message`), oldest first.
    pub events: Vec<String>,
    /// The container's last log lines (of the previous run, for a crashed one).
    pub logs: Vec<String>,
}

/// One canary look.
#[derive(Debug, Clone, PartialEq)]
pub struct Look {
    /// The canary's share then.
    pub percent: u32,
    /// The judge's decision word.
    pub decision: String,
    /// Its reason.
    pub reason: String,
    /// Requests of canary and baseline.
    pub requests: (u64, u64),
}

/// One health check's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The URL.
    pub url: String,
    /// The status it answered (none: no answer).
    pub status: Option<u16>,
    /// Milliseconds it took.
    pub millis: u64,
    /// Whether it passed.
    pub passed: bool,
    /// Why not, when it did not.
    pub problem: Option<String>,
}

/// Everything a deploy did, for the report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// The release.
    pub release: String,
    /// The namespace.
    pub namespace: String,
    /// The plan that ran.
    pub plan: Option<Plan>,
    /// How it ended (`None` until it does).
    pub decision: Option<Decision>,
    /// The revision serving at the end.
    pub revision: Option<u32>,
    /// The revision serving before.
    pub previous_revision: Option<u32>,
    /// Why it failed, in one line.
    pub failure: Option<String>,
    /// The failing pod, when one was at fault.
    pub evidence: Option<Evidence>,
    /// What happened, with seconds since the deploy began.
    pub timeline: Vec<(f64, String)>,
    /// The canary's looks.
    pub looks: Vec<Look>,
    /// Health checks run.
    pub checks: Vec<Checked>,
    /// The state the deploy left (traffic, release status), when it had to undo.
    pub left: Vec<String>,
    /// Values that are secret wherever they appear.
    pub secrets: Vec<String>,
    /// What helm said when it failed, in full.
    pub helm_output: Option<String>,
}

/// The GitHub deployment the statuses go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// Its id.
    pub id: u64,
    /// The environment's URL.
    pub environment_url: Option<String>,
    /// The run's URL.
    pub log_url: Option<String>,
    /// Earlier successful deployments of the environment, now superseded.
    pub superseded: Vec<u64>,
}

fn seconds(value: f64) -> String {
    if value < 60.0 {
        format!("{value:.1} s")
    } else {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a short, non-negative duration"
        )]
        let whole = value.round() as u64;
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

fn heading(outcome: &Outcome, decision: Decision) -> String {
    let release = code(&outcome.release);
    let strategy = outcome
        .plan
        .as_ref()
        .map_or("rolling", |plan| plan.strategy.word());
    match decision {
        Decision::Deployed => format!("### ✅ {release}: deployed ({strategy})"),
        Decision::Promoted => format!("### ✅ {release}: promoted ({strategy})"),
        Decision::RolledBack => format!("### ↩️ {release}: rolled back ({strategy})"),
        Decision::Failed => format!("### ❌ {release}: failed ({strategy})"),
    }
}

/// One line, for outputs and statuses: no newlines, secrets masked.
fn one_line(untrusted: &str, secrets: &[String]) -> String {
    mask(untrusted, secrets)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The deploy's report; `deployment` gets its final status (and superseded ones `inactive`).
#[must_use]
pub fn report(outcome: &Outcome, deployment: Option<&Deployment>) -> Report {
    let decision = outcome.decision.unwrap_or(Decision::Failed);
    let passed = matches!(decision, Decision::Deployed | Decision::Promoted);
    let failure = outcome
        .failure
        .as_deref()
        .map(|failure| one_line(failure, &outcome.secrets));
    let headline = match &failure {
        Some(failure) => format!("{}: {} — {failure}", outcome.release, decision.word()),
        None => format!("{}: {}", outcome.release, decision.word()),
    };
    let mut report = Report::new(
        crate::options::NAME,
        if passed {
            Verdict::Passed
        } else {
            Verdict::Failed
        },
        headline,
    );
    let mut summary = String::new();
    let _ = writeln!(summary, "{}\n", heading(outcome, decision));
    if let Some(failure) = &failure {
        let _ = writeln!(
            summary,
            "**Why:** {}\n",
            gantry_core::markdown::prose(failure)
        );
    }
    if let Some(output) = outcome
        .helm_output
        .as_deref()
        .filter(|o| !o.trim().is_empty())
    {
        let lines: Vec<String> = output.lines().map(str::to_owned).collect();
        let masked = crate::mask::mask_lines(&lines, &outcome.secrets);
        let _ = writeln!(
            summary,
            "What helm said (secrets masked):\n\n{}",
            code_block("text", &masked.join("\n"))
        );
    }
    let revisions = match (outcome.previous_revision, outcome.revision) {
        (Some(before), Some(now)) => format!("revision {before} → {now}"),
        (None, Some(now)) => format!("revision {now} (first install)"),
        (Some(before), None) => format!("revision {before}"),
        (None, None) => "no revision".to_owned(),
    };
    let _ = writeln!(
        summary,
        "Release {} in namespace {}: {revisions}.\n",
        code(&outcome.release),
        code(&outcome.namespace)
    );
    if let Some(evidence) = &outcome.evidence {
        let container = evidence
            .container
            .as_deref()
            .map(|c| format!(", container {}", code(c)))
            .unwrap_or_default();
        let _ = writeln!(
            summary,
            "#### Pod {}{container}: {}\n\n{}\n",
            code(&evidence.pod),
            text(&evidence.cause),
            text(&one_line(&evidence.detail, &outcome.secrets))
        );
        if !evidence.events.is_empty() {
            let events: Vec<String> = evidence
                .events
                .iter()
                .map(|event| mask(event, &outcome.secrets))
                .collect();
            let _ = writeln!(
                summary,
                "Events:\n\n{}\n",
                code_block("text", &events.join("\n"))
            );
        }
        if !evidence.logs.is_empty() {
            let logs = crate::mask::mask_lines(&evidence.logs, &outcome.secrets);
            let _ = writeln!(
                summary,
                "Last log lines (secrets masked):\n\n{}\n",
                code_block("text", &logs.join("\n"))
            );
        }
    }
    if !outcome.looks.is_empty() {
        let mut table = Table::new(&[
            ("Canary share", Align::Right),
            ("Judge", Align::Left),
            ("Requests (canary / baseline)", Align::Right),
            ("Why", Align::Left),
        ]);
        for look in &outcome.looks {
            table.row([
                format!("{} %", look.percent),
                look.decision.clone(),
                format!("{} / {}", look.requests.0, look.requests.1),
                text(&look.reason),
            ]);
        }
        let _ = writeln!(summary, "#### Canary analysis\n\n{}", table.render());
    }
    if !outcome.checks.is_empty() {
        let mut table = Table::new(&[
            ("Health check", Align::Left),
            ("Status", Align::Right),
            ("Time", Align::Right),
            ("", Align::Left),
        ]);
        for check in &outcome.checks {
            table.row([
                code(&gantry_core::markdown::redact_userinfo(&check.url)),
                check
                    .status
                    .map_or_else(|| "—".to_owned(), |s| s.to_string()),
                format!("{} ms", check.millis),
                if check.passed {
                    "✅".to_owned()
                } else {
                    format!("❌ {}", text(check.problem.as_deref().unwrap_or_default()))
                },
            ]);
        }
        let _ = writeln!(summary, "#### Health checks\n\n{}", table.render());
    }
    if !outcome.timeline.is_empty() {
        let mut table = Table::new(&[("At", Align::Right), ("Step", Align::Left)]);
        for (at, step) in &outcome.timeline {
            table.row([seconds(*at), text(&mask(step, &outcome.secrets))]);
        }
        let _ = writeln!(summary, "#### Steps\n\n{}", table.render());
    }
    if !outcome.left.is_empty() {
        let _ = writeln!(summary, "#### State left\n");
        for line in &outcome.left {
            let _ = writeln!(summary, "- {}", text(line));
        }
        summary.push('\n');
    }
    report.summary = summary;
    report.outputs.set("decision", decision.word());
    report.outputs.set(
        "revision",
        outcome.revision.map(|r| r.to_string()).unwrap_or_default(),
    );
    report.outputs.set(
        "previous-revision",
        outcome
            .previous_revision
            .map(|r| r.to_string())
            .unwrap_or_default(),
    );
    report
        .outputs
        .set("failure-reason", failure.clone().unwrap_or_default());
    if let Some(deployment) = deployment {
        report
            .outputs
            .set("deployment-id", deployment.id.to_string());
        report.outputs.set(
            "environment-url",
            deployment.environment_url.clone().unwrap_or_default(),
        );
        let description = match &failure {
            Some(failure) => format!("{}: {failure}", decision.word()),
            None => format!("{} {}", outcome.release, decision.word()),
        };
        report
            .effects
            .push(Effect::DeploymentStatus(DeploymentStatusEffect {
                deployment_id: deployment.id,
                state: if passed {
                    DeploymentState::Success
                } else {
                    DeploymentState::Failure
                },
                description: description.chars().take(140).collect(),
                environment_url: deployment.environment_url.clone().filter(|_| passed),
                log_url: deployment.log_url.clone(),
            }));
        if passed {
            for &superseded in &deployment.superseded {
                report
                    .effects
                    .push(Effect::DeploymentStatus(DeploymentStatusEffect {
                        deployment_id: superseded,
                        state: DeploymentState::Inactive,
                        description: format!("superseded by deployment {}", deployment.id),
                        environment_url: None,
                        log_url: None,
                    }));
            }
        }
    }
    report
}

/// The plan alone (`plan-only`): every step in order, the checks, and what undoes the deploy if
/// it stops at each step.
#[must_use]
pub fn plan(
    release: &str,
    namespace: &str,
    plan: &Plan,
    checks: &[crate::options::HealthCheck],
) -> Report {
    let mut report = Report::new(
        crate::options::NAME,
        Verdict::Passed,
        format!("{release}: the plan of a {} deploy", plan.strategy.word()),
    );
    let mut summary = format!(
        "### 📋 {}: the plan ({}, traffic by {})\n\nRelease {} in namespace {}. Nothing was changed (`plan-only`).\n\n",
        code(release),
        plan.strategy.word(),
        plan.traffic.word(),
        code(release),
        code(namespace),
    );
    let mut table = Table::new(&[
        ("#", Align::Right),
        ("Step", Align::Left),
        ("If it fails here", Align::Left),
    ]);
    for (index, step) in plan.steps.iter().enumerate() {
        let mut name = gantry_core::markdown::prose(&step.to_string());
        if index == plan.promotion && plan.strategy != crate::plan::Strategy::Rolling {
            name = format!("**promotion** — {name}");
        }
        let undo = crate::plan::undo(plan, index)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" → ");
        table.row([
            (index + 1).to_string(),
            name,
            gantry_core::markdown::prose(&undo),
        ]);
    }
    let _ = writeln!(summary, "{}", table.render());
    if !checks.is_empty() {
        let mut table = Table::new(&[
            ("Health check", Align::Left),
            ("Expects", Align::Right),
            ("Within", Align::Right),
        ]);
        for check in checks {
            table.row([
                code(&gantry_core::markdown::redact_userinfo(&check.url)),
                check.status.to_string(),
                format!("{} ms", check.budget_ms),
            ]);
        }
        let _ = writeln!(
            summary,
            "#### Health checks, after each step\n\n{}",
            table.render()
        );
    }
    report.summary = summary;
    report.outputs.set("decision", "");
    report
}
