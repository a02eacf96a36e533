//! What the judge measures: metrics as PromQL templates, one query per variant so each answer
//! is exactly one series, and the two presets (`istio`, `http`).
//!
//! Templates name `{{namespace}}`, `{{workload}}` and `{{interval}}`; the judge fills them with
//! the analysed namespace, the canary's or the baseline's workload name, and the sample step
//! (`1m`). Every template gives one value per interval — a count over the interval for requests
//! and ratios, a rate for histogram buckets — and the judge runs it as a range query over the
//! window, so each point only sees samples of its own interval and nothing after `at`.

/// Which way a metric moves when the canary is worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bad {
    /// Higher is worse (errors, latency).
    Increase,
    /// Lower is worse (a success or hit rate).
    Decrease,
}

/// How a metric's values are had and tested.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Bad events among all events (5xx among requests): totals over the window are tested
    /// exactly (rare events), per-interval ratios by rank.
    Ratio {
        /// The count of bad events over `{{interval}}`.
        numerator: String,
        /// The count of all events over `{{interval}}`.
        denominator: String,
        /// The count of events that carry the label the numerator filters on (any status code),
        /// when there is one: a ratio whose label is missing counts no bad events at all, which
        /// must not read as a healthy canary.
        labelled: Option<String>,
    },
    /// Latency from histogram buckets (`sum by (le) (rate(…_bucket[{{interval}}]))`): each
    /// quantile's per-interval values tested by rank — the tail (p99), not only the middle.
    Latency {
        /// The buckets expression.
        buckets: String,
        /// Quantiles to compare, in (0, 1).
        quantiles: Vec<f64>,
    },
    /// Any value per interval, tested by rank.
    Gauge {
        /// The expression.
        query: String,
    },
}

/// One metric of the analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// Its name in the report (`errors`, `latency`).
    pub name: String,
    /// How it is had and tested.
    pub kind: Kind,
    /// Which way is worse.
    pub bad: Bad,
    /// The canary may not go above this (a ratio's fraction, a latency's unit, a gauge's value),
    /// whatever the baseline does.
    pub max: Option<f64>,
    /// The canary may not go below this.
    pub min: Option<f64>,
    /// A regression rolls back; a non-critical one only keeps the canary from being promoted.
    pub critical: bool,
    /// What a value is in (`ms`, `s`, `ratio`), for the report.
    pub unit: String,
}

/// Everything the judge queries: the traffic of each variant and the metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSet {
    /// The count of requests over `{{interval}}`: traffic, `min-requests`, and whether a
    /// variant still reports at `at` (a dead canary's series stop).
    pub requests: String,
    /// The metrics compared.
    pub metrics: Vec<Metric>,
}

/// The `istio` preset: Istio's standard metrics as the destination sidecar reports them.
#[must_use]
pub fn istio() -> MetricSet {
    preset(
        r#"reporter="destination",destination_workload_namespace="{{namespace}}",destination_workload="{{workload}}""#,
        "istio_requests_total",
        "response_code",
        "istio_request_duration_milliseconds_bucket",
        "ms",
    )
}

/// The `http` preset: `client_golang`'s conventional names with the scrape config's `namespace`
/// and `deployment` labels.
#[must_use]
pub fn http() -> MetricSet {
    preset(
        r#"namespace="{{namespace}}",deployment="{{workload}}""#,
        "http_requests_total",
        "code",
        "http_request_duration_seconds_bucket",
        "s",
    )
}

/// Errors (5xx among requests) and latency (p50 and p99 from the buckets), both critical.
fn preset(
    selector: &str,
    requests_metric: &str,
    code_label: &str,
    buckets_metric: &str,
    unit: &str,
) -> MetricSet {
    let requests = format!("sum(increase({requests_metric}{{{selector}}}[{{{{interval}}}}]))");
    let metric = |name: &str, kind: Kind, unit: &str| Metric {
        name: name.to_owned(),
        kind,
        bad: Bad::Increase,
        max: None,
        min: None,
        critical: true,
        unit: unit.to_owned(),
    };
    MetricSet {
        metrics: vec![
            metric(
                "errors",
                Kind::Ratio {
                    numerator: format!(
                        r#"sum(increase({requests_metric}{{{selector},{code_label}=~"5.."}}[{{{{interval}}}}]))"#
                    ),
                    denominator: requests.clone(),
                    labelled: Some(format!(
                        r#"sum(increase({requests_metric}{{{selector},{code_label}=~".+"}}[{{{{interval}}}}]))"#
                    )),
                },
                "ratio",
            ),
            metric(
                "latency",
                Kind::Latency {
                    buckets: format!(
                        "sum by (le) (rate({buckets_metric}{{{selector}}}[{{{{interval}}}}]))"
                    ),
                    quantiles: vec![0.5, 0.99],
                },
                unit,
            ),
        ],
        requests,
    }
}

/// A template with its placeholders filled. Names are checked by the judge to be Kubernetes
/// names (no quote or backslash can reach the query).
#[must_use]
pub fn render(template: &str, namespace: &str, workload: &str, interval: &str) -> String {
    template
        .replace("{{namespace}}", namespace)
        .replace("{{workload}}", workload)
        .replace("{{interval}}", interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_select_exactly_the_namespace_and_workload() {
        let set = istio();
        let query = render(&set.requests, "shop", "cart-canary", "1m");
        assert_eq!(
            query,
            r#"sum(increase(istio_requests_total{reporter="destination",destination_workload_namespace="shop",destination_workload="cart-canary"}[1m]))"#
        );
        let Kind::Ratio { numerator, .. } = &set.metrics[0].kind else {
            panic!("errors is a ratio");
        };
        assert!(
            render(numerator, "shop", "cart-canary", "1m")
                .ends_with(r#"destination_workload="cart-canary",response_code=~"5.."}[1m]))"#)
        );
        let Kind::Latency { buckets, .. } = &http().metrics[1].kind else {
            panic!("latency is a histogram");
        };
        assert_eq!(
            render(buckets, "shop", "cart", "2m"),
            r#"sum by (le) (rate(http_request_duration_seconds_bucket{namespace="shop",deployment="cart"}[2m]))"#
        );
    }
}
