//! `cargo bench -p gantry-canary-verify --bench judge`: one evaluation of three metrics (errors,
//! latency at p50 and p99, a gauge) over a 60-minute window at 15 s resolution — the judge's own
//! time from answers to decision, and the number and size of the Prometheus requests it needs
//! (the form bodies `gantry-prometheus` sends) and of the answers (JSON as Prometheus writes it).
//!
//! Target (issue 11): the judge's own time well under 10 ms.

#![expect(
    clippy::print_stdout,
    clippy::cast_precision_loss,
    reason = "a benchmark reports on stdout; seconds and counts"
)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use gantry_canary_verify::judge::{Answer, Config, Judge, Part};
use gantry_canary_verify::metrics::{self, Bad, Kind, Metric};
use gantry_testkit::random::Seeded;

const AT: i64 = 1_767_229_200;

fn main() {
    let mut metric_set = metrics::istio();
    metric_set.metrics.push(Metric {
        name: "cpu".to_owned(),
        kind: Kind::Gauge {
            query: r#"sum(rate(container_cpu_usage_seconds_total{namespace="{{namespace}}",pod=~"{{workload}}-.*"}[{{interval}}]))"#.to_owned(),
        },
        bad: Bad::Increase,
        max: None,
        min: None,
        critical: false,
        unit: "cores".to_owned(),
    });
    let config = Config {
        namespace: "shop".to_owned(),
        canary: "cart-canary".to_owned(),
        baseline: "cart-baseline".to_owned(),
        metrics: metric_set,
        window: 3600,
        step: 15,
        confidence: 0.98,
        min_requests: 1000,
        min_effect: 0.1,
        looks: 1,
    };
    let judge = Judge::new(config).expect("a valid config");
    let queries = judge.queries(AT);
    let mut random = Seeded(1);
    let mut answers = BTreeMap::new();
    let (mut request_bytes, mut answer_bytes) = (0usize, 0usize);
    for query in &queries {
        let points: Vec<(f64, f64)> = (0..240)
            .map(|i| {
                let t = (query.start + i * 15) as f64;
                let value = match query.id.part {
                    Part::Requests | Part::Denominator(_) | Part::Labelled(_) => {
                        150.0 + 10.0 * random.normal()
                    }
                    Part::Numerator(_) => (random.unit() * 2.0).floor(),
                    Part::Quantile(_, 0) => 80.0 * (1.0 + 0.03 * random.normal()),
                    Part::Quantile(..) => 400.0 * (1.0 + 0.08 * random.normal()),
                    Part::Value(_) => 0.5 + 0.05 * random.normal(),
                };
                (t, value)
            })
            .collect();
        // What gantry-prometheus sends, and what Prometheus answers for one matrix series.
        request_bytes += format!(
            "query={}&start={}&end={}&step={}&timeout=30000ms",
            query.promql, query.start, query.end, query.step
        )
        .len();
        answer_bytes += 80
            + points
                .iter()
                .map(|(t, v)| format!("[{t},\"{v}\"],").len())
                .sum::<usize>();
        answers.insert(
            query.id,
            Answer {
                series: vec![points],
                warnings: vec![],
            },
        );
    }
    let runs = 200;
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let mut judge = judge.clone();
            let start = Instant::now();
            let evaluation = judge.evaluate(AT, &answers).expect("answers");
            let elapsed = start.elapsed();
            assert!(!evaluation.reason.is_empty());
            elapsed
        })
        .collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "one evaluation: 3 metrics (errors, latency p50/p99, a gauge), 60 min at 15 s = 240 points a series"
    );
    println!("| | |\n| --- | ---: |");
    println!(
        "| judge, median of {runs} | {:.3} ms |",
        ms(times[runs / 2])
    );
    println!("| judge, slowest | {:.3} ms |", ms(times[runs - 1]));
    println!("| Prometheus requests | {} |", queries.len());
    println!("| request bodies | {request_bytes} bytes |");
    println!("| answers (JSON, about) | {} KB |", answer_bytes / 1024);
}
