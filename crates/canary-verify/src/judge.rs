//! The judge: a state machine with time passed in. For an evaluation time it says which queries
//! it needs ([`Judge::queries`]); given their answers it decides ([`Judge::evaluate`]) and keeps
//! what the next look needs (how much of the error budget is spent).
//!
//! How it decides, per look:
//!
//! 1. **Traffic.** Both variants must report requests, up to `at` (a variant whose series stop
//!    earlier is dead or lost its traffic: `rate` windows would still show its old samples, the
//!    per-interval series do not), with at least `min-requests` each. Otherwise: no decision.
//! 2. **Tests, relative to the baseline.** A ratio (errors): Fisher's exact test on the totals
//!    (sees a canary failing sparsely while the baseline never fails) and Mann–Whitney on the
//!    per-interval ratios. A latency: Mann–Whitney on each quantile's per-interval values (the
//!    tail, not only the middle). A gauge: Mann–Whitney on its values. All one-sided in the bad
//!    direction: an improvement is not a regression.
//! 3. **Error control.** The look's share of `1 − confidence` is what an O'Brien–Fleming
//!    spending function allots it (early looks get almost nothing), split across every test of
//!    the look by Holm. A test rejects only when its effect is also at least `min-effect`.
//! 4. **Decision.** A critical regression or a breached absolute bound: rollback, at any look.
//!    At the last look, with every metric's data sufficient (including enough requests that a
//!    doubling of the error rate would have shown) and no regression: promote. Otherwise the
//!    last look is inconclusive, an earlier one continues.

#![expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    reason = "Unix seconds and request counts, far below 2^52; timestamps rounded to seconds"
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::metrics::{Bad, Kind, Metric, MetricSet, render};
use crate::stats;

/// The lowest error rate whose doubling the traffic must be able to show before a promotion:
/// below it, a doubling is noise no one pages for, and demanding it would need millions of
/// requests. Above it, the baseline's own rate is what must be seen doubling.
pub const DETECTABLE_ERROR_RATE_FLOOR: f64 = 0.002;

/// The fewest per-interval values on each side for a rank test.
pub const MIN_POINTS: usize = 8;

/// Which deployment a query is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Variant {
    /// The new version.
    Canary,
    /// The current version, deployed beside it at the same size and share of traffic.
    Baseline,
}

/// What a query asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// Requests per interval.
    Requests,
    /// A ratio's numerator.
    Numerator(usize),
    /// A ratio's denominator.
    Denominator(usize),
    /// The events of a ratio that carry the numerator's label.
    Labelled(usize),
    /// A latency metric's quantile (metric, quantile index).
    Quantile(usize, usize),
    /// A gauge's value.
    Value(usize),
}

/// Names one query of a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueryId {
    /// What it asks for.
    pub part: Part,
    /// About whom.
    pub variant: Variant,
}

/// A Prometheus range query the judge needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Which answer this is.
    pub id: QueryId,
    /// The metric it serves, for messages (`requests` for traffic).
    pub metric: String,
    /// The PromQL.
    pub promql: String,
    /// Unix seconds of the first point.
    pub start: i64,
    /// Unix seconds of the last point: the evaluation time.
    pub end: i64,
    /// Seconds between points.
    pub step: u32,
}

/// What Prometheus answered to one query: its series (each `(unix seconds, value)`) and
/// warnings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    /// The series; an aggregated query gives at most one.
    pub series: Vec<Vec<(f64, f64)>>,
    /// Prometheus's `warnings` (data may be partial).
    pub warnings: Vec<String>,
}

/// The judge's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The namespace of both workloads.
    pub namespace: String,
    /// The workload running the new version.
    pub canary: String,
    /// The workload running the current version beside it.
    pub baseline: String,
    /// What to measure.
    pub metrics: MetricSet,
    /// Seconds of data each look analyses, ending at the look's time.
    pub window: u32,
    /// Seconds per sample interval (at least four scrape intervals).
    pub step: u32,
    /// 1 − the false-rollback rate allowed over the whole analysis.
    pub confidence: f64,
    /// Requests each variant needs in the window.
    pub min_requests: u64,
    /// The smallest relative change that counts as a regression (0.1 = 10 %).
    pub min_effect: f64,
    /// How many looks the analysis will take (1: one evaluation).
    pub looks: u32,
}

/// A setting the judge cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A name that is not a Kubernetes name.
    #[error("{what} {value:?} is not a Kubernetes name (lowercase letters, digits, '-' and '.')")]
    Name {
        /// Which input.
        what: &'static str,
        /// Its value.
        value: String,
    },
    /// Canary and baseline are the same workload.
    #[error("canary and baseline are both {0:?}: the canary is compared with a different workload")]
    SameWorkload(String),
    /// Numbers out of range.
    #[error("{0}")]
    Range(String),
}

/// A look the judge cannot take: an answer it cannot use, or no look left.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// No answer for a query it asked.
    #[error("no answer to the {metric} query `{promql}`")]
    Missing {
        /// The metric.
        metric: String,
        /// The query.
        promql: String,
    },
    /// Every planned look is taken: another would spend error budget there is none of.
    #[error("all {0} looks of the analysis are taken")]
    NoLookLeft(u32),
    /// More than one series where one was meant: an unaggregated template.
    #[error(
        "the {metric} query `{promql}` gave {count} series for one workload; aggregate it (sum, or sum by (le) for buckets) so each workload gives one"
    )]
    Ambiguous {
        /// The metric.
        metric: String,
        /// The query.
        promql: String,
        /// How many series.
        count: usize,
    },
}

/// What a look decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The canary is at least as good as the baseline, on enough data.
    Promote,
    /// The canary is worse.
    Rollback,
    /// Not enough to tell, and no more looks.
    Inconclusive,
    /// Not enough to tell yet; look again after the next interval.
    Continue,
}

impl Decision {
    /// The word in outputs.
    #[must_use]
    pub const fn word(self) -> &'static str {
        match self {
            Self::Promote => "promote",
            Self::Rollback => "rollback",
            Self::Inconclusive => "inconclusive",
            Self::Continue => "continue",
        }
    }
}

/// One statistical test of a look.
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    /// What was compared (`errors over the window`, `p99 per interval`).
    pub name: String,
    /// Fisher's exact test or Mann–Whitney.
    pub method: &'static str,
    /// One-sided p-value in the bad direction.
    pub p: f64,
    /// The relative change, canary against baseline (0.25 = 25 % worse; negative = better).
    pub effect: f64,
    /// The level Holm compared `p` with (absent when an earlier test stopped the step-down).
    pub level: Option<f64>,
    /// The test says the canary is worse: `p` under its level and `effect` at least
    /// `min-effect`.
    pub regression: bool,
    /// The baseline's value this test compared (the window's ratio, or the median of the
    /// per-interval values).
    pub baseline: Option<f64>,
    /// The canary's.
    pub canary: Option<f64>,
}

/// How one metric came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No regression on sufficient data.
    Pass,
    /// Worse than the baseline.
    Regression,
    /// Beyond an absolute bound.
    Breach,
    /// Too little data to tell.
    Insufficient,
}

/// Per-interval values of one comparison, `(unix seconds, value)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    /// What they are (`errors`, `p99`).
    pub name: String,
    /// The canary's.
    pub canary: Vec<(f64, f64)>,
    /// The baseline's.
    pub baseline: Vec<(f64, f64)>,
}

/// One metric's evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// The metric's name.
    pub metric: String,
    /// Its unit.
    pub unit: String,
    /// Whether a regression rolls back.
    pub critical: bool,
    /// The canary's value over the window (a ratio's total fraction, else the median of its
    /// per-interval values).
    pub canary: Option<f64>,
    /// The baseline's.
    pub baseline: Option<f64>,
    /// The per-interval values used.
    pub samples: Vec<Samples>,
    /// Its tests.
    pub tests: Vec<Test>,
    /// The outcome.
    pub verdict: Verdict,
    /// Why, when not a plain pass.
    pub note: Option<String>,
}

/// A look's decision with everything it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// What to do.
    pub decision: Decision,
    /// Why, in one line.
    pub reason: String,
    /// This look's number (1-based) and how many the analysis takes.
    pub look: (u32, u32),
    /// The evaluation time.
    pub at: i64,
    /// The false-rollback budget this look spent.
    pub alpha: f64,
    /// Requests in the window, canary and baseline.
    pub requests: (u64, u64),
    /// Per metric.
    pub evidence: Vec<Evidence>,
    /// Prometheus's warnings, by query.
    pub warnings: Vec<String>,
    /// Every metric had enough data and none is worse, with no warning: had this been the last
    /// look, it would have promoted. Stopping at a clean look to promote never adds a false
    /// rollback (it only ends the looking), and the power each metric needed was checked at
    /// this look's own, smaller, level — so a stepped rollout may promote at its last step's
    /// first clean look.
    pub clean: bool,
}

/// The judge.
#[derive(Debug, Clone)]
pub struct Judge {
    config: Config,
    looks_done: u32,
}

fn kubernetes_name(what: &'static str, value: &str) -> Result<(), ConfigError> {
    let valid = !value.is_empty()
        && value.len() <= 253
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && value.as_bytes()[0].is_ascii_alphanumeric()
        && value.as_bytes()[value.len() - 1].is_ascii_alphanumeric();
    if valid {
        Ok(())
    } else {
        Err(ConfigError::Name {
            what,
            value: value.to_owned(),
        })
    }
}

/// `90` → `1m30s`, the way PromQL writes durations.
#[must_use]
pub fn promql_duration(seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let mut text = String::new();
    for (value, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if value > 0 {
            let _ = write!(text, "{value}{unit}");
        }
    }
    if text.is_empty() {
        "0s".to_owned()
    } else {
        text
    }
}

/// The one series of an answer (none: empty), NaN and infinite points dropped.
fn one_series(
    answers: &BTreeMap<QueryId, Answer>,
    query: &Query,
) -> Result<Vec<(f64, f64)>, AnswerError> {
    let answer = answers.get(&query.id).ok_or_else(|| AnswerError::Missing {
        metric: query.metric.clone(),
        promql: query.promql.clone(),
    })?;
    match answer.series.as_slice() {
        [] => Ok(Vec::new()),
        [series] => Ok(series
            .iter()
            .copied()
            .filter(|(t, v)| t.is_finite() && v.is_finite())
            .collect()),
        many => Err(AnswerError::Ambiguous {
            metric: query.metric.clone(),
            promql: query.promql.clone(),
            count: many.len(),
        }),
    }
}

fn values(series: &[(f64, f64)]) -> Vec<f64> {
    series.iter().map(|&(_, v)| v).collect()
}

/// A count's integer value (Prometheus extrapolates `increase`).
#[expect(clippy::cast_sign_loss, reason = "a non-negative count, rounded")]
fn count(value: f64) -> u64 {
    value.max(0.0).round() as u64
}

impl Judge {
    /// The workloads compared, named again (a deploy learns them once it has read the chart).
    ///
    /// # Errors
    /// A name that is not a Kubernetes name.
    pub fn name_workloads(&mut self, canary: &str, baseline: &str) -> Result<(), ConfigError> {
        kubernetes_name("canary", canary)?;
        kubernetes_name("baseline", baseline)?;
        canary.clone_into(&mut self.config.canary);
        baseline.clone_into(&mut self.config.baseline);
        Ok(())
    }

    /// A judge for these settings.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        kubernetes_name("namespace", &config.namespace)?;
        kubernetes_name("canary", &config.canary)?;
        kubernetes_name("baseline", &config.baseline)?;
        if config.canary == config.baseline {
            return Err(ConfigError::SameWorkload(config.canary));
        }
        if !(config.confidence > 0.5 && config.confidence < 1.0) {
            return Err(ConfigError::Range(format!(
                "confidence {} is not between 0.5 and 1",
                config.confidence
            )));
        }
        if config.step == 0 || u64::from(config.window) < u64::from(config.step) * MIN_POINTS as u64
        {
            return Err(ConfigError::Range(format!(
                "`window` {} holds fewer than {MIN_POINTS} intervals of `step` {}: give a window of {} or more, or a shorter step (a number without a unit is seconds: write `30m` for minutes)",
                promql_duration(config.window),
                promql_duration(config.step),
                promql_duration(config.step.max(1).saturating_mul(MIN_POINTS as u32))
            )));
        }
        if config.window / config.step > 11_000 {
            return Err(ConfigError::Range(format!(
                "a window of {} at {} intervals is more than the 11,000 points Prometheus answers",
                promql_duration(config.window),
                promql_duration(config.step)
            )));
        }
        if config.looks == 0 {
            return Err(ConfigError::Range("the analysis takes no look".to_owned()));
        }
        if !(config.min_effect >= 0.0 && config.min_effect.is_finite()) {
            return Err(ConfigError::Range(format!(
                "min-effect {} is not a non-negative number",
                config.min_effect
            )));
        }
        Ok(Self {
            config,
            looks_done: 0,
        })
    }

    /// The settings.
    #[must_use]
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// The queries a look at `at` needs, every one a range query over the window.
    #[must_use]
    pub fn queries(&self, at: i64) -> Vec<Query> {
        let config = &self.config;
        let interval = promql_duration(config.step);
        let start = at - i64::from(config.window) + i64::from(config.step);
        let mut queries = Vec::new();
        let mut push = |part: Part, metric: &str, template: &str| {
            for (variant, workload) in [
                (Variant::Canary, &config.canary),
                (Variant::Baseline, &config.baseline),
            ] {
                queries.push(Query {
                    id: QueryId { part, variant },
                    metric: metric.to_owned(),
                    promql: render(template, &config.namespace, workload, &interval),
                    start,
                    end: at,
                    step: config.step,
                });
            }
        };
        push(Part::Requests, "requests", &config.metrics.requests);
        for (index, metric) in config.metrics.metrics.iter().enumerate() {
            match &metric.kind {
                Kind::Ratio {
                    numerator,
                    denominator,
                    labelled,
                } => {
                    push(Part::Numerator(index), &metric.name, numerator);
                    // The presets count requests as their denominator: asked once.
                    if *denominator != config.metrics.requests {
                        push(Part::Denominator(index), &metric.name, denominator);
                    }
                    if let Some(labelled) = labelled {
                        push(Part::Labelled(index), &metric.name, labelled);
                    }
                }
                Kind::Latency { buckets, quantiles } => {
                    for (q, quantile) in quantiles.iter().enumerate() {
                        push(
                            Part::Quantile(index, q),
                            &metric.name,
                            &format!("histogram_quantile({quantile}, {buckets})"),
                        );
                    }
                }
                Kind::Gauge { query } => push(Part::Value(index), &metric.name, query),
            }
        }
        queries
    }

    /// Decides a look at `at` from the answers to [`Self::queries`]`(at)`.
    pub fn evaluate(
        &mut self,
        at: i64,
        answers: &BTreeMap<QueryId, Answer>,
    ) -> Result<Evaluation, AnswerError> {
        if self.looks_done >= self.config.looks {
            return Err(AnswerError::NoLookLeft(self.config.looks));
        }
        let queries = self.queries(at);
        let mut series = BTreeMap::new();
        let mut warnings = Vec::new();
        for query in &queries {
            series.insert(query.id, one_series(answers, query)?);
            if let Some(answer) = answers.get(&query.id) {
                for warning in &answer.warnings {
                    warnings.push(format!("{} query: {warning}", query.metric));
                }
            }
        }
        let config = &self.config;
        self.looks_done += 1;
        let look = self.looks_done;
        let last = look >= config.looks;
        let fraction = |look: u32| f64::from(look) / f64::from(config.looks);
        let budget = 1.0 - config.confidence;
        let alpha = stats::obrien_fleming_spent(budget, fraction(look))
            - stats::obrien_fleming_spent(budget, fraction(look - 1));
        let get = |part: Part, variant: Variant| -> &[(f64, f64)] {
            series
                .get(&QueryId { part, variant })
                .map_or(&[], Vec::as_slice)
        };
        let canary_requests = get(Part::Requests, Variant::Canary);
        let baseline_requests = get(Part::Requests, Variant::Baseline);
        let total = |points: &[(f64, f64)]| count(points.iter().map(|&(_, v)| v).sum());
        let requests = (total(canary_requests), total(baseline_requests));
        let mut evaluation = Evaluation {
            decision: Decision::Continue,
            reason: String::new(),
            look: (look, config.looks),
            at,
            alpha,
            requests,
            evidence: Vec::new(),
            warnings,
            clean: false,
        };
        let undecided = |evaluation: &mut Evaluation, reason: String| {
            evaluation.decision = if last {
                Decision::Inconclusive
            } else {
                Decision::Continue
            };
            evaluation.reason = reason;
        };

        // 1. Traffic: both report, up to `at`, with enough requests.
        let latest =
            |points: &[(f64, f64)]| points.iter().map(|&(t, _)| t).fold(f64::NAN, f64::max);
        let fresh_after = (at - i64::from(config.step)) as f64;
        for (name, points) in [
            (&config.canary, canary_requests),
            (&config.baseline, baseline_requests),
        ] {
            if points.is_empty() {
                undecided(
                    &mut evaluation,
                    format!(
                        "no requests of {name} in the window: nothing to compare (is it deployed and receiving traffic?)"
                    ),
                );
                return Ok(evaluation);
            }
            let last_seen = latest(points);
            if last_seen < fresh_after {
                undecided(
                    &mut evaluation,
                    format!(
                        "{name}'s requests stop at {last_seen} ({}s before the evaluation): a workload that stopped reporting is not healthy",
                        at as f64 - last_seen
                    ),
                );
                return Ok(evaluation);
            }
        }
        for (name, requests) in [(&config.canary, requests.0), (&config.baseline, requests.1)] {
            if requests < config.min_requests {
                undecided(
                    &mut evaluation,
                    format!(
                        "{name} served {requests} requests in the window, fewer than min-requests ({})",
                        config.min_requests
                    ),
                );
                return Ok(evaluation);
            }
        }

        // 2. The tests of every metric.
        for (index, metric) in config.metrics.metrics.iter().enumerate() {
            evaluation
                .evidence
                .push(self.measure(index, metric, &get, alpha));
        }

        // 3. Holm across every test of the look.
        let p_values: Vec<f64> = evaluation
            .evidence
            .iter()
            .flat_map(|evidence| evidence.tests.iter().map(|test| test.p))
            .collect();
        let mut levels = stats::holm_levels(&p_values, alpha).into_iter();
        for evidence in &mut evaluation.evidence {
            for test in &mut evidence.tests {
                test.level = levels.next().flatten();
                let rejected = test.level.is_some_and(|level| test.p <= level);
                test.regression = rejected && test.effect >= config.min_effect;
            }
            // A shown regression is evidence enough, whatever else the metric lacks.
            if evidence.verdict != Verdict::Breach && evidence.tests.iter().any(|t| t.regression) {
                evidence.verdict = Verdict::Regression;
            }
        }

        // 4. The decision.
        let worst = evaluation.evidence.iter().find(|e| {
            e.verdict == Verdict::Breach || (e.critical && e.verdict == Verdict::Regression)
        });
        if let Some(evidence) = worst {
            evaluation.decision = Decision::Rollback;
            evaluation.reason = rollback_reason(evidence);
            return Ok(evaluation);
        }
        if let Some(evidence) = evaluation
            .evidence
            .iter()
            .find(|e| e.verdict == Verdict::Regression)
        {
            let reason = format!(
                "{} (not critical): {}",
                evidence.metric,
                rollback_reason(evidence)
            );
            undecided(&mut evaluation, reason);
            return Ok(evaluation);
        }
        if let Some(evidence) = evaluation
            .evidence
            .iter()
            .find(|e| e.verdict == Verdict::Insufficient)
        {
            let reason = format!(
                "{}: {}",
                evidence.metric,
                evidence.note.clone().unwrap_or_default()
            );
            undecided(&mut evaluation, reason);
            return Ok(evaluation);
        }
        if !evaluation.warnings.is_empty() {
            let reason = format!(
                "Prometheus says the data may be partial: {}",
                evaluation.warnings[0]
            );
            undecided(&mut evaluation, reason);
            return Ok(evaluation);
        }
        evaluation.clean = true;
        if last {
            evaluation.decision = Decision::Promote;
            evaluation.reason = format!(
                "no metric of the canary is worse than the baseline's ({} and {} requests, confidence {})",
                requests.0, requests.1, config.confidence
            );
        } else {
            evaluation.decision = Decision::Continue;
            evaluation.reason = format!("no regression so far (look {look} of {})", config.looks);
        }
        Ok(evaluation)
    }

    /// One metric's data and tests (Holm levels filled in later).
    fn measure<'a>(
        &self,
        index: usize,
        metric: &Metric,
        get: &impl Fn(Part, Variant) -> &'a [(f64, f64)],
        alpha: f64,
    ) -> Evidence {
        let mut evidence = Evidence {
            metric: metric.name.clone(),
            unit: metric.unit.clone(),
            critical: metric.critical,
            canary: None,
            baseline: None,
            samples: Vec::new(),
            tests: Vec::new(),
            verdict: Verdict::Pass,
            note: None,
        };
        let worse = |canary: f64, baseline: f64| -> f64 {
            // The relative change in the bad direction.
            let change = if baseline == 0.0 {
                if canary == 0.0 { 0.0 } else { f64::INFINITY }
            } else {
                canary / baseline - 1.0
            };
            match metric.bad {
                Bad::Increase => change,
                Bad::Decrease => -change,
            }
        };
        let rank_test = |name: String, canary: &[f64], baseline: &[f64]| -> Option<Test> {
            let test = stats::rank_sum(canary, baseline)?;
            let (mut c, mut b) = (canary.to_vec(), baseline.to_vec());
            let (canary_median, baseline_median) = (stats::median(&mut c), stats::median(&mut b));
            let effect = worse(canary_median, baseline_median);
            Some(Test {
                name,
                method: "Mann–Whitney",
                p: match metric.bad {
                    Bad::Increase => test.p_greater,
                    Bad::Decrease => test.p_less,
                },
                effect,
                level: None,
                regression: false,
                baseline: Some(baseline_median).filter(|v| v.is_finite()),
                canary: Some(canary_median).filter(|v| v.is_finite()),
            })
        };
        match &metric.kind {
            Kind::Ratio {
                denominator,
                labelled,
                ..
            } => {
                let per_interval = |variant| {
                    let part = if *denominator == self.config.metrics.requests {
                        Part::Requests
                    } else {
                        Part::Denominator(index)
                    };
                    let all = get(part, variant);
                    let bad: BTreeMap<i64, f64> = get(Part::Numerator(index), variant)
                        .iter()
                        .map(|&(t, v)| (t.round() as i64, v))
                        .collect();
                    // Istio creates the 5xx series with the first 5xx: an interval with
                    // requests and no bad series had no bad events.
                    all.iter()
                        .filter(|&&(_, n)| n > 0.0)
                        .map(|&(t, n)| (t, bad.get(&(t.round() as i64)).copied().unwrap_or(0.0), n))
                        .collect::<Vec<(f64, f64, f64)>>()
                };
                let canary = per_interval(Variant::Canary);
                let baseline = per_interval(Variant::Baseline);
                // Events without the label the bad ones are told by: no error could be seen.
                if labelled.is_some() {
                    for (variant, rows, name) in [
                        (Variant::Canary, &canary, &self.config.canary),
                        (Variant::Baseline, &baseline, &self.config.baseline),
                    ] {
                        if !rows.is_empty() && get(Part::Labelled(index), variant).is_empty() {
                            evidence.verdict = Verdict::Insufficient;
                            evidence.note = Some(format!(
                                "{name}'s requests carry none of the labels its {} are counted by: they cannot be told from successes",
                                metric.name
                            ));
                            return evidence;
                        }
                    }
                }
                let totals = |rows: &[(f64, f64, f64)]| {
                    (
                        count(rows.iter().map(|r| r.1).sum()),
                        count(rows.iter().map(|r| r.2).sum()),
                    )
                };
                let ((cb, ct), (bb, bt)) = (totals(&canary), totals(&baseline));
                let ratio = |(bad, all): (u64, u64)| {
                    if all == 0 {
                        f64::NAN
                    } else {
                        bad as f64 / all as f64
                    }
                };
                let canary_ratio = ratio((cb.min(ct), ct));
                let baseline_ratio = ratio((bb.min(bt), bt));
                evidence.canary = Some(canary_ratio).filter(|v| v.is_finite());
                evidence.baseline = Some(baseline_ratio).filter(|v| v.is_finite());
                let ratios = |rows: &[(f64, f64, f64)]| -> Vec<(f64, f64)> {
                    rows.iter()
                        .map(|&(t, b, n)| (t, (b / n).min(1.0)))
                        .collect()
                };
                evidence.samples.push(Samples {
                    name: metric.name.clone(),
                    canary: ratios(&canary),
                    baseline: ratios(&baseline),
                });
                if ct == 0 || bt == 0 {
                    evidence.verdict = Verdict::Insufficient;
                    evidence.note = Some("no events in the window".to_owned());
                    return evidence;
                }
                let (cb, bb) = (cb.min(ct), bb.min(bt));
                let p = match metric.bad {
                    Bad::Increase => stats::fisher_greater(cb, ct, bb, bt),
                    Bad::Decrease => stats::fisher_greater(bb, bt, cb, ct),
                };
                evidence.tests.push(Test {
                    name: format!("{} over the window", metric.name),
                    method: "Fisher's exact",
                    p,
                    effect: worse(canary_ratio, baseline_ratio),
                    level: None,
                    regression: false,
                    baseline: evidence.baseline,
                    canary: evidence.canary,
                });
                let (c, b) = (values(&ratios(&canary)), values(&ratios(&baseline)));
                if c.len() >= MIN_POINTS && b.len() >= MIN_POINTS {
                    if let Some(test) = rank_test(format!("{} per interval", metric.name), &c, &b) {
                        evidence.tests.push(test);
                    }
                }
                // Would a doubling have shown? Only then does "no regression" mean something.
                if metric.bad == Bad::Increase {
                    let reference = baseline_ratio.max(DETECTABLE_ERROR_RATE_FLOOR);
                    let doubled = count(2.0 * reference * ct as f64).min(ct);
                    let expected_baseline = count(reference * bt as f64).min(bt);
                    let power = stats::fisher_greater(doubled, ct, expected_baseline, bt);
                    let tests = self.tests_per_look();
                    let level = alpha / tests as f64;
                    if power > level {
                        evidence.verdict = Verdict::Insufficient;
                        evidence.note = Some(format!(
                            "{ct} canary and {bt} baseline requests cannot show a doubling of the error rate ({:.2} % → {:.2} %) at this look's level",
                            reference * 100.0,
                            reference * 200.0
                        ));
                    }
                }
                bounds(&mut evidence, metric, canary_ratio);
            }
            Kind::Latency { .. } | Kind::Gauge { .. } => {
                // One rank test per series: each quantile of a latency, a gauge's values.
                let series: Vec<(Part, String)> = match &metric.kind {
                    Kind::Latency { quantiles, .. } => quantiles
                        .iter()
                        .enumerate()
                        .map(|(q, quantile)| {
                            (Part::Quantile(index, q), format!("p{}", quantile * 100.0))
                        })
                        .collect(),
                    _ => vec![(Part::Value(index), metric.name.clone())],
                };
                let last = series.len() - 1;
                for (position, (part, name)) in series.into_iter().enumerate() {
                    let canary = get(part, Variant::Canary).to_vec();
                    let baseline = get(part, Variant::Baseline).to_vec();
                    let (c, b) = (values(&canary), values(&baseline));
                    evidence.samples.push(Samples {
                        name: name.clone(),
                        canary,
                        baseline,
                    });
                    if c.len() < MIN_POINTS || b.len() < MIN_POINTS {
                        let which = if name == metric.name {
                            String::new()
                        } else {
                            format!("{name}: ")
                        };
                        evidence.verdict = Verdict::Insufficient;
                        evidence.note = Some(format!(
                            "{which}{} canary and {} baseline intervals with data, fewer than {MIN_POINTS}",
                            c.len(),
                            b.len()
                        ));
                        continue;
                    }
                    // The window's value (for the report and the bounds) is the last series'.
                    if position == last {
                        let (mut cm, mut bm) = (c.clone(), b.clone());
                        evidence.canary = Some(stats::median(&mut cm));
                        evidence.baseline = Some(stats::median(&mut bm));
                    }
                    if let Some(test) = rank_test(format!("{name} per interval"), &c, &b) {
                        evidence.tests.push(test);
                    }
                }
                if let Some(canary) = evidence.canary {
                    bounds(&mut evidence, metric, canary);
                }
            }
        }
        evidence
    }

    /// How many tests a look runs when every metric has its data.
    fn tests_per_look(&self) -> usize {
        self.config
            .metrics
            .metrics
            .iter()
            .map(|metric| match &metric.kind {
                Kind::Ratio { .. } => 2,
                Kind::Latency { quantiles, .. } => quantiles.len(),
                Kind::Gauge { .. } => 1,
            })
            .sum()
    }
}

/// The absolute guard: a canary beyond a bound the user set breaches it.
fn bounds(evidence: &mut Evidence, metric: &Metric, canary: f64) {
    if evidence.verdict == Verdict::Insufficient || !canary.is_finite() {
        return;
    }
    if let Some(max) = metric.max.filter(|&max| canary > max) {
        evidence.verdict = Verdict::Breach;
        evidence.note = Some(format!("{canary} is above the bound {max}"));
    } else if let Some(min) = metric.min.filter(|&min| canary < min) {
        evidence.verdict = Verdict::Breach;
        evidence.note = Some(format!("{canary} is below the bound {min}"));
    }
}

fn rollback_reason(evidence: &Evidence) -> String {
    if evidence.verdict == Verdict::Breach {
        return format!(
            "{}: {}",
            evidence.metric,
            evidence.note.clone().unwrap_or_default()
        );
    }
    let test = evidence
        .tests
        .iter()
        .filter(|test| test.regression)
        .min_by(|a, b| a.p.total_cmp(&b.p));
    match test {
        Some(test) => format!(
            "{}: the canary is {} worse than the baseline ({} p = {:.2e})",
            test.name,
            if test.effect.is_infinite() {
                "infinitely".to_owned()
            } else {
                format!("{:.0} %", test.effect * 100.0)
            },
            test.method,
            test.p
        ),
        None => format!("{} regressed", evidence.metric),
    }
}
