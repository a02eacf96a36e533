//! The judge on simulated traffic (no Prometheus): answers built per query from seeded
//! per-interval requests, errors and latency quantiles, looked at as live mode looks — every
//! interval until a decision or the last look.
//!
//! - Healthy canaries, with error and latency bursts that hit both variants: across 500 seeds
//!   at most 2 % roll back, and most are promoted.
//! - A 10× error regression rolls back within a few intervals; a 2× one at 10 req/s within
//!   30 minutes; a zero-inflated one (the baseline never fails) too; a p99-only regression too.
//! - An improvement is promoted; a dead, absent or starved canary is never promoted.

#![expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_wrap,
    reason = "Unix seconds and interval numbers, far below 2^52"
)]

use std::collections::BTreeMap;

use gantry_canary_verify::judge::{
    Answer, AnswerError, Config, Decision, Evaluation, Judge, Part, Variant, Verdict,
};
use gantry_canary_verify::metrics;
use gantry_canary_verify::report::{self, ReportOptions};
use gantry_core::markdown::text;
use gantry_core::report::{Contents, Effect, Verdict as CoreVerdict};

use gantry_testkit::random::Seeded;

const START: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const STEP: i64 = 60;

#[derive(Clone, Copy)]
struct Traffic {
    rps: f64,
    error_rate: f64,
    p50: f64,
    p99: f64,
}

const HEALTHY: Traffic = Traffic {
    rps: 10.0,
    error_rate: 0.005,
    p50: 80.0,
    p99: 400.0,
};

/// One interval of one variant.
#[derive(Clone, Copy)]
struct Interval {
    requests: f64,
    errors: f64,
    p50: f64,
    p99: f64,
}

/// Seeded traffic of both variants, interval by interval from START.
struct World {
    canary: Vec<Option<Interval>>,
    baseline: Vec<Option<Interval>>,
}

struct Scenario {
    canary: Traffic,
    baseline: Traffic,
    /// The chance an interval has a burst that hits both (a flaky shared dependency).
    burst: f64,
    /// The canary stops reporting after this many intervals.
    canary_dies_after: Option<usize>,
    intervals: usize,
}

impl Scenario {
    fn healthy() -> Self {
        Self {
            canary: HEALTHY,
            baseline: HEALTHY,
            burst: 0.05,
            canary_dies_after: None,
            intervals: 30,
        }
    }

    fn world(&self, seed: u64) -> World {
        let mut random = Seeded(seed);
        let mut canary = Vec::new();
        let mut baseline = Vec::new();
        for index in 0..self.intervals {
            let burst = random.unit() < self.burst;
            let shared_latency = 1.0 + 0.05 * random.normal();
            for (traffic, into) in [(self.canary, &mut canary), (self.baseline, &mut baseline)] {
                let requests = random.poisson(traffic.rps * STEP as f64);
                let rate = if burst {
                    (traffic.error_rate * 20.0).min(1.0)
                } else {
                    traffic.error_rate
                };
                let errors = random.poisson(requests * rate).min(requests);
                let slow = if burst { 1.5 } else { 1.0 } * shared_latency;
                into.push(Some(Interval {
                    requests,
                    errors,
                    p50: traffic.p50 * slow * (1.0 + 0.03 * random.normal()),
                    p99: traffic.p99 * slow * (1.0 + 0.08 * random.normal()),
                }));
            }
            if self.canary_dies_after.is_some_and(|after| index >= after) {
                *canary.last_mut().unwrap() = None;
            }
        }
        World { canary, baseline }
    }
}

impl World {
    /// Prometheus's answers to the judge's queries at `at`: one point per interval that ended
    /// at or before `at` and after the traffic started; no error point before a variant's first
    /// error (Istio creates the 5xx series lazily).
    fn answers(
        &self,
        judge: &Judge,
        at: i64,
    ) -> BTreeMap<gantry_canary_verify::judge::QueryId, Answer> {
        let mut answers = BTreeMap::new();
        for query in judge.queries(at) {
            let intervals = match query.id.variant {
                Variant::Canary => &self.canary,
                Variant::Baseline => &self.baseline,
            };
            let mut points = Vec::new();
            let mut seen_error = false;
            for (index, interval) in intervals.iter().enumerate() {
                let t = START + (index as i64 + 1) * STEP;
                if t < query.start || t > query.end {
                    continue;
                }
                let Some(interval) = interval else { continue };
                let value = match query.id.part {
                    Part::Requests | Part::Denominator(_) | Part::Labelled(_) => interval.requests,
                    Part::Numerator(_) => {
                        seen_error |= interval.errors > 0.0;
                        if !seen_error {
                            continue;
                        }
                        interval.errors
                    }
                    Part::Quantile(_, 0) => interval.p50,
                    Part::Quantile(..) => interval.p99,
                    Part::Value(_) => unreachable!("no gauge in the preset"),
                };
                points.push((t as f64, value));
            }
            let series = if points.is_empty() {
                vec![]
            } else {
                vec![points]
            };
            answers.insert(
                query.id,
                Answer {
                    series,
                    warnings: vec![],
                },
            );
        }
        answers
    }
}

fn config(looks: u32) -> Config {
    Config {
        namespace: "shop".to_owned(),
        canary: "cart-canary".to_owned(),
        baseline: "cart-baseline".to_owned(),
        metrics: metrics::istio(),
        window: 1800,
        step: 60,
        confidence: 0.98,
        min_requests: 1000,
        min_effect: 0.1,
        looks,
    }
}

/// The evaluation decided `decision` with a reason saying `says`.
#[track_caller]
fn decided(evaluation: &Evaluation, decision: Decision, says: &str) {
    assert_eq!(evaluation.decision, decision, "{}", evaluation.reason);
    assert!(evaluation.reason.contains(says), "{}", evaluation.reason);
}

/// Live mode: a look every interval until a decision or the last look.
fn live(world: &World) -> Evaluation {
    let mut judge = Judge::new(config(30)).unwrap();
    for look in 1..=30 {
        let at = START + look * STEP;
        let evaluation = judge.evaluate(at, &world.answers(&judge, at)).unwrap();
        if evaluation.decision != Decision::Continue {
            return evaluation;
        }
    }
    unreachable!("the last look decides")
}

/// One look at the end of the window.
fn once(world: &World) -> Evaluation {
    let mut judge = Judge::new(config(1)).unwrap();
    let at = START + 30 * STEP;
    let evaluation = judge.evaluate(at, &world.answers(&judge, at)).unwrap();
    // The one look is spent: a second would test on budget there is none of.
    assert_eq!(
        judge.evaluate(at, &world.answers(&judge, at)),
        Err(AnswerError::NoLookLeft(1))
    );
    evaluation
}

#[test]
fn healthy_canaries_with_shared_bursts_rarely_roll_back_and_are_promoted() {
    let scenario = Scenario::healthy();
    let (mut rollbacks, mut promotions, mut reasons) = (0, 0, Vec::new());
    for seed in 0..500 {
        let evaluation = live(&scenario.world(seed));
        match evaluation.decision {
            Decision::Rollback => {
                rollbacks += 1;
                reasons.push(evaluation.reason);
            }
            Decision::Promote => promotions += 1,
            _ => {}
        }
    }
    assert!(
        rollbacks <= 10,
        "{rollbacks} of 500 rolled back: {reasons:?}"
    );
    assert!(promotions >= 475, "only {promotions} of 500 promoted");
}

#[test]
fn a_10x_error_regression_rolls_back_within_a_few_intervals() {
    let mut scenario = Scenario::healthy();
    scenario.canary.error_rate = 0.05;
    let mut latest = 0;
    for seed in 0..100 {
        let evaluation = live(&scenario.world(seed));
        decided(&evaluation, Decision::Rollback, "errors over the window");
        latest = latest.max(evaluation.look.0);
    }
    assert!(
        latest <= 4,
        "the last of 100 rolled back at interval {latest}"
    );
}

#[test]
fn a_2x_error_regression_at_10_rps_rolls_back_within_30_minutes() {
    let mut scenario = Scenario::healthy();
    scenario.canary.error_rate = 0.01;
    let caught = (0..100)
        .filter(|&seed| live(&scenario.world(seed)).decision == Decision::Rollback)
        .count();
    assert!(caught >= 95, "{caught} of 100 caught");
}

#[test]
fn a_canary_failing_sparsely_while_the_baseline_never_fails_rolls_back() {
    let mut scenario = Scenario::healthy();
    scenario.burst = 0.0;
    scenario.baseline.error_rate = 0.0;
    scenario.canary.error_rate = 0.001;
    for seed in 0..20 {
        let world = scenario.world(seed);
        // Many intervals of the canary have no error: ranks alone see little.
        let quiet = world
            .canary
            .iter()
            .flatten()
            .filter(|i| i.errors == 0.0)
            .count();
        assert!(quiet >= 10, "seed {seed}: {quiet} quiet intervals");
        let evaluation = once(&world);
        decided(&evaluation, Decision::Rollback, "");
        let totals = &evaluation.evidence[0].tests[0];
        assert!(
            totals.method == "Fisher's exact" && totals.regression,
            "the exact test on totals sees it: {totals:?}"
        );
    }
}

#[test]
fn a_p99_only_regression_rolls_back_naming_the_tail() {
    let mut scenario = Scenario::healthy();
    scenario.canary.p99 = 600.0;
    let evaluation = once(&scenario.world(7));
    decided(&evaluation, Decision::Rollback, "p99 per interval");
    let latency = &evaluation.evidence[1];
    let p50 = latency
        .tests
        .iter()
        .find(|t| t.name.starts_with("p50"))
        .unwrap();
    assert!(!p50.regression, "the middle did not move: {p50:?}");

    // The table gives each quantile its own baseline and canary, as the test compared them.
    let summary = report::markdown(&evaluation, &config(1));
    let p99 = latency
        .tests
        .iter()
        .find(|t| t.name.starts_with("p99"))
        .unwrap();
    for test in [p50, p99] {
        let row = summary
            .lines()
            .find(|line| line.contains(&format!("| {} (Mann–Whitney) |", test.name)))
            .unwrap_or_else(|| panic!("no row for {}: {summary}", test.name));
        let cells: Vec<&str> = row.split(" | ").collect();
        let expected =
            |value: Option<f64>| format!("{} ms", report::significant(value.unwrap(), 3));
        assert_eq!(cells[2], expected(test.baseline), "{row}");
        assert_eq!(cells[3], expected(test.canary), "{row}");
    }
    assert_ne!(p50.baseline, p99.baseline);
    // Three significant digits, not four decimals.
    assert!(!summary.contains(".0000 ms"), "{summary}");
}

#[test]
fn a_change_below_min_effect_says_so() {
    let mut scenario = Scenario::healthy();
    scenario.canary.p99 = 440.0;
    let mut config = config(1);
    config.min_effect = 0.5;
    let world = scenario.world(11);
    let mut judge = Judge::new(config.clone()).unwrap();
    let at = START + 30 * STEP;
    let evaluation = judge.evaluate(at, &world.answers(&judge, at)).unwrap();
    let summary = report::markdown(&evaluation, &config);
    let p99 = evaluation.evidence[1]
        .tests
        .iter()
        .find(|t| t.name.starts_with("p99"))
        .unwrap();
    assert!(p99.effect > 0.0 && p99.effect < 0.5, "{p99:?}");
    assert!(!p99.regression);
    assert!(summary.contains("(below min-effect 50.0 %)"), "{summary}");
}

#[test]
fn numbers_are_rounded_to_what_matters() {
    assert_eq!(report::significant(0.012_345, 3), "0.0123");
    assert_eq!(report::significant(412.37, 3), "412");
    assert_eq!(report::significant(1.5, 3), "1.50");
    assert_eq!(report::significant(0.000_031_2, 2), "3.1e-5");
    assert_eq!(report::significant(0.0, 3), "0");
}

#[test]
fn an_improvement_is_promoted() {
    let mut scenario = Scenario::healthy();
    scenario.canary.error_rate = 0.001;
    scenario.canary.p50 = 50.0;
    scenario.canary.p99 = 200.0;
    for seed in 0..20 {
        let evaluation = once(&scenario.world(seed));
        decided(&evaluation, Decision::Promote, "");
    }
}

#[test]
fn a_canary_without_errors_and_so_without_an_error_series_is_promoted() {
    let mut scenario = Scenario::healthy();
    scenario.burst = 0.0;
    scenario.canary.error_rate = 0.0;
    let world = scenario.world(3);
    let judge = Judge::new(config(1)).unwrap();
    let answers = world.answers(&judge, START + 30 * STEP);
    let numerator = answers
        .iter()
        .find(|(id, _)| id.part == Part::Numerator(0) && id.variant == Variant::Canary)
        .unwrap();
    assert!(
        numerator.1.series.is_empty(),
        "Istio has no 5xx series for it"
    );
    let evaluation = once(&world);
    decided(&evaluation, Decision::Promote, "");
}

#[test]
fn a_canary_that_dies_mid_window_is_never_promoted() {
    let mut scenario = Scenario::healthy();
    scenario.canary_dies_after = Some(20);
    let evaluation = once(&scenario.world(1));
    decided(&evaluation, Decision::Inconclusive, "");
    assert!(
        evaluation.reason.contains("cart-canary's requests stop at")
            && evaluation.reason.contains("not healthy"),
        "{}",
        evaluation.reason
    );
    // In live mode too: it continues until its last look, then is inconclusive.
    let evaluation = live(&scenario.world(1));
    decided(&evaluation, Decision::Inconclusive, "");
}

#[test]
fn no_canary_traffic_and_too_little_traffic_are_inconclusive() {
    let mut scenario = Scenario::healthy();
    scenario.canary_dies_after = Some(0);
    let evaluation = once(&scenario.world(1));
    decided(
        &evaluation,
        Decision::Inconclusive,
        "no requests of cart-canary",
    );

    // 2 req/s: over min-requests, but a doubling of 0.5 % errors would not show.
    let mut scenario = Scenario::healthy();
    scenario.burst = 0.0;
    scenario.canary.rps = 2.0;
    scenario.baseline.rps = 2.0;
    let evaluation = once(&scenario.world(2));
    decided(
        &evaluation,
        Decision::Inconclusive,
        "cannot show a doubling",
    );
    assert_eq!(evaluation.evidence[0].verdict, Verdict::Insufficient);

    // 0.3 req/s: under min-requests.
    scenario.canary.rps = 0.3;
    let evaluation = once(&scenario.world(2));
    decided(
        &evaluation,
        Decision::Inconclusive,
        "fewer than min-requests (1000)",
    );
}

#[test]
fn an_unaggregated_answer_is_an_error_naming_the_query() {
    let world = Scenario::healthy().world(1);
    let mut judge = Judge::new(config(1)).unwrap();
    let at = START + 30 * STEP;
    let mut answers = world.answers(&judge, at);
    let requests = answers
        .iter_mut()
        .find(|(id, _)| id.part == Part::Requests && id.variant == Variant::Baseline)
        .unwrap()
        .1;
    requests.series.push(vec![(at as f64, 1.0)]);
    let error = judge.evaluate(at, &answers).unwrap_err();
    assert!(
        matches!(error, AnswerError::Ambiguous { count: 2, .. }),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains(r#"destination_workload="cart-baseline""#),
        "{error}"
    );
}

#[test]
fn names_that_are_not_kubernetes_names_are_refused() {
    let mut bad = config(1);
    bad.canary = r#"cart"} or vector(1) or {x=""#.to_owned();
    let error = Judge::new(bad).unwrap_err();
    assert!(error.to_string().starts_with("canary "), "{error}");
    let mut same = config(1);
    same.baseline = same.canary.clone();
    assert!(Judge::new(same).is_err());
}

fn report_options(comment: bool, inconclusive_passes: bool) -> ReportOptions {
    ReportOptions {
        inconclusive_passes,
        comment_key: comment.then(|| "deploy/canary/shop/cart-canary".to_owned()),
        evidence_file: "gantry-canary-evidence.json".to_owned(),
    }
}

#[test]
fn a_rollback_reports_its_reason_first_then_the_tests_then_the_chart() {
    let mut scenario = Scenario::healthy();
    scenario.canary.error_rate = 0.05;
    let evaluation = once(&scenario.world(5));
    let config = config(1);
    let report = report::report(&evaluation, &config, &report_options(true, false));
    assert_eq!(report.verdict, CoreVerdict::Failed);
    assert_eq!(report.outputs.value("decision"), Some("rollback"));
    assert_eq!(
        report.outputs.value("canary-requests"),
        Some(evaluation.requests.0.to_string().as_str())
    );
    let summary = &report.summary;
    let mut lines = summary.lines();
    assert_eq!(lines.next(), Some("### ❌ Canary `cart-canary`: roll back"));
    assert_eq!(lines.next(), Some(""));
    let reason = lines.next().unwrap();
    assert!(
        reason.starts_with(&text("errors over the window: the canary is")),
        "{reason}"
    );
    let table = summary
        .find("| metric | test | baseline | canary |")
        .expect("a table");
    let chart = summary.find("```mermaid\n").expect("a chart");
    assert!(table < chart, "{summary}");
    assert!(
        summary.contains("| errors | errors over the window (Fisher's exact) | 0.5"),
        "{summary}"
    );
    // A legend under the chart, and titled axes.
    assert!(summary.contains("🟦 baseline · 🟥 canary"), "{summary}");
    assert!(
        summary.contains("  y-axis \"errors (%)\" 0 --> "),
        "{summary}"
    );
    assert!(summary.contains("**worse**"), "{summary}");
    // One label and one value per interval, both lines.
    let x_axis = summary
        .lines()
        .find(|l| l.starts_with("  x-axis \"minutes before the decision\" ["))
        .unwrap();
    assert_eq!(x_axis.matches("m\"").count(), 29, "{x_axis}");
    assert!(x_axis.ends_with(", \"-1m\", \"at\"]"), "{x_axis}");
    assert_eq!(
        summary
            .lines()
            .filter(|l| l.starts_with("  line ["))
            .count(),
        2
    );
    let Some(Effect::Comment(comment)) = report.effects.first() else {
        panic!("a sticky comment");
    };
    assert_eq!(&comment.body, summary);

    let evidence: serde_json::Value = match &report.files[0].contents {
        Contents::Text(text) => serde_json::from_str(text).unwrap(),
        Contents::Junit { .. } => panic!("JSON"),
    };
    assert_eq!(report.files[0].path, "gantry-canary-evidence.json");
    assert_eq!(evidence["decision"], "rollback");
    let errors = &evidence["metrics"][0];
    assert_eq!(errors["verdict"], "regression");
    assert_eq!(errors["tests"][0]["method"], "Fisher's exact");
    assert_eq!(errors["tests"][0]["regression"], true);
    assert_eq!(errors["samples"][0]["canary"].as_array().unwrap().len(), 30);
}

#[test]
fn inconclusive_fails_unless_told_to_pass_and_says_why() {
    let mut scenario = Scenario::healthy();
    scenario.canary_dies_after = Some(20);
    let evaluation = once(&scenario.world(1));
    let config = config(1);
    let failing = report::report(&evaluation, &config, &report_options(false, false));
    assert_eq!(failing.verdict, CoreVerdict::Failed);
    assert!(failing.effects.is_empty(), "comment: off posts nothing");
    assert_eq!(failing.outputs.value("decision"), Some("inconclusive"));
    assert!(
        failing.summary.starts_with(&format!(
            "### ⚠️ Canary `cart-canary`: inconclusive\n\n{}",
            text("cart-canary's requests stop at")
        )),
        "{}",
        failing.summary
    );
    let passing = report::report(&evaluation, &config, &report_options(false, true));
    assert_eq!(passing.verdict, CoreVerdict::Passed);
    assert_eq!(passing.outputs.value("decision"), Some("inconclusive"));
}

#[test]
fn partial_data_is_never_promoted() {
    let world = Scenario::healthy().world(4);
    let mut judge = Judge::new(config(1)).unwrap();
    let at = START + 30 * STEP;
    let mut answers = world.answers(&judge, at);
    answers.values_mut().next().unwrap().warnings =
        vec!["remote read of store eu-1 failed".to_owned()];
    let evaluation = judge.evaluate(at, &answers).unwrap();
    decided(
        &evaluation,
        Decision::Inconclusive,
        "Prometheus says the data may be partial: requests query: remote read of store eu-1 failed",
    );
}

#[test]
fn requests_without_the_label_errors_are_told_by_are_never_promoted() {
    // An app that labels its status `status`, not `code`: no error could ever be counted.
    let world = Scenario::healthy().world(6);
    let mut judge = Judge::new(config(1)).unwrap();
    let at = START + 30 * STEP;
    let mut answers = world.answers(&judge, at);
    for (id, answer) in &mut answers {
        if matches!(id.part, Part::Labelled(_) | Part::Numerator(_)) {
            answer.series.clear();
        }
    }
    let evaluation = judge.evaluate(at, &answers).unwrap();
    decided(
        &evaluation,
        Decision::Inconclusive,
        "errors: cart-canary's requests carry none of the labels its errors are counted by",
    );
}
