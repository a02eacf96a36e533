//! The canary judge's queries against a real Prometheus: one backfilled server holds a scenario
//! per namespace (and the distractors around them), in the metric names of both presets, at
//! fixed times; each scenario runs the judge's queries through the Prometheus edge and asserts
//! the decision and its reason. What a simulation cannot show is shown here: the PromQL of the
//! presets selects exactly the series it should, `increase` over counters that reset, Istio's
//! lazily created 5xx series, `histogram_quantile` over real buckets, nothing after `at`.

use std::collections::BTreeMap;
use std::time::Duration;

use gantry_canary_verify::judge::{self, Config, Decision, Evaluation, Judge};
use gantry_canary_verify::metrics::{self, MetricSet};
use gantry_prometheus::{Auth, Client, Options};
use gantry_testkit::prometheus::{Backfilled, Names, OpenMetrics, Workload, write};

const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const MINUTES: i64 = 70;
/// The evaluation time: an hour in; ten more minutes of data lie after it.
const AT: i64 = T0 + 3600;

fn workload(namespace: &'static str, name: &'static str, names: Names) -> Workload {
    Workload::new(namespace, name, names, T0, T0 + MINUTES * 60)
}

/// One scenario: a namespace with `cart-canary` and `cart-baseline` (and whatever else).
struct Scenario {
    namespace: &'static str,
    names: Names,
    workloads: Vec<Workload>,
    expect: Decision,
    says: &'static str,
}

fn scenario(
    namespace: &'static str,
    names: Names,
    change: impl Fn(&mut Workload, &mut Workload),
    expect: Decision,
    says: &'static str,
) -> Scenario {
    let mut canary = workload(namespace, "cart-canary", names);
    let mut baseline = workload(namespace, "cart-baseline", names);
    change(&mut canary, &mut baseline);
    Scenario {
        namespace,
        names,
        workloads: vec![canary, baseline],
        expect,
        says,
    }
}

fn scenarios() -> Vec<Scenario> {
    use Decision::{Inconclusive, Promote, Rollback};
    use Names::{Http, Istio};
    let mut all = vec![
        scenario(
            "healthy",
            Istio,
            |_, _| {},
            Promote,
            "no metric of the canary is worse",
        ),
        scenario(
            "healthy-http",
            Http,
            |_, _| {},
            Promote,
            "no metric of the canary is worse",
        ),
        scenario(
            "errors-10x",
            Istio,
            |c, _| c.error_rate = 0.05,
            Rollback,
            "errors over the window",
        ),
        scenario(
            "errors-10x-http",
            Http,
            |c, _| c.error_rate = 0.05,
            Rollback,
            "errors over the window",
        ),
        scenario(
            "errors-2x",
            Istio,
            |c, _| c.error_rate = 0.01,
            Rollback,
            "errors",
        ),
        scenario(
            "zero-inflated",
            Istio,
            |c, b| {
                b.error_rate = 0.0;
                c.error_rate = 0.001;
            },
            Rollback,
            "errors",
        ),
        scenario(
            "p99-only",
            Istio,
            |c, _| c.slow = 0.05,
            Rollback,
            "p99 per interval",
        ),
        scenario(
            "slower",
            Http,
            |c, _| c.median_ms = 90.0,
            Rollback,
            "per interval",
        ),
        scenario(
            "improvement",
            Istio,
            |c, _| {
                c.error_rate = 0.001;
                c.median_ms = 40.0;
            },
            Promote,
            "no metric of the canary is worse",
        ),
        scenario(
            "no-canary-traffic",
            Istio,
            |c, _| c.from = T0 + MINUTES * 60 + 60,
            Inconclusive,
            "no requests of cart-canary",
        ),
        scenario(
            "canary-dies",
            Istio,
            |c, _| c.until = AT - 600,
            Inconclusive,
            "cart-canary's requests stop at",
        ),
        scenario(
            "no-baseline",
            Istio,
            |_, b| b.namespace = "elsewhere",
            Inconclusive,
            "no requests of cart-baseline",
        ),
        scenario(
            "little-traffic",
            Istio,
            |c, b| {
                c.rps = 0.3;
                b.rps = 0.3;
            },
            Inconclusive,
            "fewer than min-requests",
        ),
        scenario(
            "counter-reset",
            Istio,
            |c, _| c.restart = Some(AT - 900),
            Promote,
            "no metric of the canary is worse",
        ),
        scenario(
            "after-at",
            Istio,
            |c, _| c.errors_between = Some((AT + 60, i64::MAX, 0.5)),
            Promote,
            "no metric of the canary is worse",
        ),
        scenario(
            "error-ramp",
            Istio,
            |c, _| c.errors_between = Some((AT - 900, i64::MAX, 0.03)),
            Rollback,
            "errors",
        ),
        scenario(
            "late-burst",
            Istio,
            |c, _| c.errors_between = Some((AT - 180, i64::MAX, 0.3)),
            Rollback,
            "errors over the window",
        ),
    ];
    // A flaky shared dependency: bursts of errors and latency that hit both alike.
    let noisy = scenario(
        "noisy",
        Istio,
        |c, b| {
            for workload in [c, b] {
                workload.errors_between = Some((AT - 1200, AT - 1080, 0.3));
                workload.slow = 0.02;
            }
        },
        Promote,
        "no metric of the canary is worse",
    );
    all.push(noisy);
    // Distractors: the same names elsewhere, similar names here, the client side's reports —
    // all failing; the pair itself is healthy.
    let mut distracted = scenario(
        "distractors",
        Istio,
        |c, _| c.source_reporter = true,
        Promote,
        "no metric of the canary is worse",
    );
    for (namespace, name) in [
        ("other", "cart-canary"),
        ("distractors", "cart-canary-v2"),
        ("distractors", "cart-canaryx"),
    ] {
        let mut failing = workload(namespace, name, Istio);
        failing.error_rate = 0.4;
        failing.median_ms = 900.0;
        distracted.workloads.push(failing);
    }
    all.push(distracted);
    // A stable primary unlike the baseline: not what the canary is compared with.
    let mut primary = scenario(
        "primary",
        Istio,
        |_, _| {},
        Promote,
        "no metric of the canary is worse",
    );
    let mut stable = workload("primary", "cart-primary", Istio);
    stable.rps = 40.0;
    stable.error_rate = 0.0;
    stable.median_ms = 20.0;
    primary.workloads.push(stable);
    all.push(primary);
    all
}

fn config(namespace: &str, metrics: MetricSet) -> Config {
    Config {
        namespace: namespace.to_owned(),
        canary: "cart-canary".to_owned(),
        baseline: "cart-baseline".to_owned(),
        metrics,
        window: 1800,
        step: 60,
        confidence: 0.98,
        min_requests: 1000,
        min_effect: 0.1,
        looks: 1,
    }
}

/// The judge's look at `AT`, its queries answered by the real server.
fn look(client: &Client, runtime: &tokio::runtime::Runtime, config: Config) -> (Evaluation, usize) {
    let mut judge = Judge::new(config).unwrap();
    let queries = judge.queries(AT);
    let mut answers = BTreeMap::new();
    for query in &queries {
        let answer = runtime
            .block_on(client.query_range(&query.promql, query.start, query.end, query.step))
            .unwrap_or_else(|error| panic!("{}: {error}", query.promql));
        answers.insert(
            query.id,
            judge::Answer {
                series: answer
                    .series
                    .into_iter()
                    .map(|series| series.samples)
                    .collect(),
                warnings: answer.warnings,
            },
        );
    }
    (judge.evaluate(AT, &answers).unwrap(), queries.len())
}

#[test]
fn every_scenario_gets_its_decision_and_reason_from_a_real_prometheus() {
    let scenarios = scenarios();
    let mut metrics = OpenMetrics::default();
    for (index, scenario) in scenarios.iter().enumerate() {
        for (offset, workload) in scenario.workloads.iter().enumerate() {
            write(&mut metrics, workload, (index * 10 + offset) as u64);
        }
    }
    let server = Backfilled::start(&metrics);
    let client = Client::new(Options {
        url: server.url.clone(),
        auth: Auth::None,
        timeout: Duration::from_secs(10),
        attempts: 2,
        backoff: Duration::from_millis(50),
    })
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut wrong = Vec::new();
    for scenario in &scenarios {
        let preset = match scenario.names {
            Names::Istio => metrics::istio(),
            Names::Http => metrics::http(),
        };
        let (evaluation, queries) = look(&client, &runtime, config(scenario.namespace, preset));
        assert_eq!(
            queries, 10,
            "requests (also the errors' denominator), errors, requests with a status code, p50, p99: each for canary and baseline"
        );
        if evaluation.decision != scenario.expect || !evaluation.reason.contains(scenario.says) {
            wrong.push(format!(
                "{}: {:?} ({}), expected {:?} saying {:?}",
                scenario.namespace,
                evaluation.decision,
                evaluation.reason,
                scenario.expect,
                scenario.says
            ));
        }
    }
    // The same data through a custom metrics file in the http names.
    let custom = gantry_canary_verify::custom::read(CUSTOM).unwrap();
    for (namespace, expect, says) in [
        (
            "healthy-http",
            Decision::Promote,
            "no metric of the canary is worse",
        ),
        (
            "errors-10x-http",
            Decision::Rollback,
            "failures over the window",
        ),
        ("slower", Decision::Rollback, "p90 per interval"),
    ] {
        let (evaluation, _) = look(&client, &runtime, config(namespace, custom.clone()));
        if evaluation.decision != expect || !evaluation.reason.contains(says) {
            wrong.push(format!(
                "custom {namespace}: {:?} ({}), expected {expect:?} saying {says:?}",
                evaluation.decision, evaluation.reason
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

const CUSTOM: &str = r#"
requests: 'sum(increase(http_requests_total{namespace="{{namespace}}",deployment="{{workload}}"}[{{interval}}]))'
metrics:
  - name: failures
    kind: ratio
    numerator: 'sum(increase(http_requests_total{namespace="{{namespace}}",deployment="{{workload}}",code=~"5.."}[{{interval}}]))'
    denominator: 'sum(increase(http_requests_total{namespace="{{namespace}}",deployment="{{workload}}"}[{{interval}}]))'
    critical: true
  - name: duration
    kind: latency
    buckets: 'sum by (le) (rate(http_request_duration_seconds_bucket{namespace="{{namespace}}",deployment="{{workload}}"}[{{interval}}]))'
    quantiles: [0.9]
    unit: s
    critical: true
  - name: mean duration
    kind: gauge
    query: 'sum(rate(http_request_duration_seconds_sum{namespace="{{namespace}}",deployment="{{workload}}"}[{{interval}}])) / sum(rate(http_request_duration_seconds_count{namespace="{{namespace}}",deployment="{{workload}}"}[{{interval}}]))'
    unit: s
"#;

/// Regenerates `examples/canary/recorded.json`, the Prometheus answers `gantry demo` replays:
/// a canary in `shop` with twice the baseline's errors and a slower tail, backfilled into a real
/// Prometheus, and the raw JSON of each query the judge asks at `AT`. Run by
/// `examples/canary/generate.sh`.
#[test]
#[ignore = "writes the demo's recording; run by examples/canary/generate.sh"]
fn record_the_demo() {
    let mut canary = workload("shop", "cart-canary", Names::Istio);
    canary.error_rate = 0.012;
    canary.slow = 0.02;
    let baseline = workload("shop", "cart-baseline", Names::Istio);
    let mut metrics = OpenMetrics::default();
    write(&mut metrics, &canary, 101);
    write(&mut metrics, &baseline, 102);
    let server = Backfilled::start(&metrics);
    let judge = Judge::new(config("shop", metrics::istio())).unwrap();
    let mut answers = Vec::new();
    for query in judge.queries(AT) {
        let (start, end, step) = (
            query.start.to_string(),
            query.end.to_string(),
            query.step.to_string(),
        );
        let form = [
            ("query", query.promql.as_str()),
            ("start", start.as_str()),
            ("end", end.as_str()),
            ("step", step.as_str()),
        ];
        let response = raw_post(&server.url, "/api/v1/query_range", &form);
        answers.push(serde_json::json!({
            "key": gantry_prometheus::recording_key("query_range", &form),
            "response": response,
        }));
    }
    let recording = serde_json::json!({
        "about": "Prometheus answers for `gantry demo` (examples/canary/generate.sh writes them from a backfilled Prometheus)",
        "answers": answers,
    });
    let path = gantry_tests::repository().join("examples/canary/recorded.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, format!("{recording:#}\n")).unwrap();
}

/// The server's raw JSON answer to a form POST.
fn raw_post(base: &str, path: &str, form: &[(&str, &str)]) -> serde_json::Value {
    use std::io::{Read as _, Write as _};
    let address = base.trim_start_matches("http://");
    let body = gantry_prometheus::form(form);
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, json) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    serde_json::from_str(json).unwrap()
}
