//! The action's declaration and its inputs read into settings: durations (`30m`, `1h30m`,
//! `90s`), the evaluation time (RFC 3339 or Unix seconds), the presets.

use gantry_core::action::{
    ActionSpec, COMMENT_AUTHOR_INPUT, GITHUB_TOKEN_INPUT, InputKind, InputSpec, OutputSpec,
    RESULT_OUTPUT,
};
use gantry_core::runner::{InputError, Inputs};

use crate::judge::Config;
use crate::metrics::{self, MetricSet};

/// The action's declaration.
pub const SPEC: ActionSpec = ActionSpec {
    name: crate::report::NAME,
    title: "Gantry: canary verify",
    description: "Judges a canary against a baseline of the current version on Prometheus data — errors tested exactly on totals and by rank per interval, latency at p50 and p99, the false-rollback rate held across metrics and repeated looks — and says promote, roll back, or that it cannot tell yet, never promoting on missing data.",
    inputs: &[
        InputSpec::new(
            "prometheus-url",
            "The Prometheus server's base URL (with its path prefix, if any), or `file:<path>`: a recording of its answers (`examples/canary/recorded.json` is the demo's), to decide again offline.",
            true,
            None,
            InputKind::Text,
        ),
        InputSpec::new(
            "prometheus-token",
            "A bearer token for Prometheus.",
            false,
            None,
            InputKind::Secret,
        ),
        InputSpec::new(
            "prometheus-username",
            "A user for basic auth (with `prometheus-password`).",
            false,
            None,
            InputKind::Text,
        ),
        InputSpec::new(
            "prometheus-password",
            "The password for basic auth.",
            false,
            None,
            InputKind::Secret,
        ),
        InputSpec::new(
            "kube-context",
            "When `prometheus-url` names a Service by its cluster DNS name (`http://prometheus-server.monitoring.svc:9090`), Prometheus is reached through the API server's service proxy — from a hosted runner, outside the cluster — with this kubeconfig context (default: the current one; the kubeconfig is `KUBECONFIG`, `~/.kube/config`, or the in-cluster service account).",
            false,
            None,
            InputKind::Text,
        ),
        InputSpec::new(
            "namespace",
            "The namespace of the canary and the baseline.",
            true,
            None,
            InputKind::Text,
        ),
        InputSpec::new(
            "canary",
            "The workload running the new version.",
            true,
            None,
            InputKind::Text,
        ),
        InputSpec::new(
            "baseline",
            "The workload running the current version beside the canary, at the same size and share of traffic (not the stable primary).",
            true,
            None,
            InputKind::Text,
        ),
        InputSpec::new(
            "metrics",
            "`istio` (Istio's standard metrics, destination reporter), `http` (`http_requests_total` and `http_request_duration_seconds` with `namespace` and `deployment` labels), or the path of a YAML file of your own PromQL templates: `requests`, and `metrics`, each with a `name` and a `kind` — `ratio` (`numerator`, `denominator`), `latency` (`buckets`, `quantiles`) or `gauge` (`query`, `bad`) — in which `{{namespace}}`, `{{workload}}` and `{{interval}}` are filled in (the README has an example).",
            false,
            Some("istio"),
            InputKind::Text,
        ),
        InputSpec::new(
            "window",
            "How much data each look analyses, ending at the look's time (`30m`, `1h`).",
            false,
            Some("30m"),
            InputKind::Text,
        ),
        InputSpec::new(
            "step",
            "The sample interval: one value per metric and workload each `step`; at least four scrape intervals.",
            false,
            Some("1m"),
            InputKind::Text,
        ),
        InputSpec::new(
            "at",
            "The evaluation time, RFC 3339 or Unix seconds. Default: now.",
            false,
            None,
            InputKind::Text,
        ),
        InputSpec::new(
            "interval",
            "With a `timeout`, the time between looks.",
            false,
            Some("1m"),
            InputKind::Text,
        ),
        InputSpec::new(
            "timeout",
            "`0`: one look. Otherwise look every `interval` until a decision or this long; the looks share the false-rollback budget, so looking often does not roll back more.",
            false,
            Some("0"),
            InputKind::Text,
        ),
        InputSpec::new(
            "confidence",
            "1 − the chance of rolling back a healthy canary over the whole analysis.",
            false,
            Some("0.98"),
            InputKind::Number,
        ),
        InputSpec::new(
            "min-requests",
            "Requests each workload must serve in the window before anything is decided.",
            false,
            Some("1000"),
            InputKind::Number,
        ),
        InputSpec::new(
            "min-effect",
            "The smallest relative change that counts as a regression (`0.1`: 10 % worse).",
            false,
            Some("0.1"),
            InputKind::Number,
        ),
        InputSpec::new(
            "on-inconclusive",
            "`fail` exits 1 when the analysis cannot tell; `pass` exits 0 (the `decision` output still says `inconclusive`).",
            false,
            Some("fail"),
            InputKind::Choice(&["fail", "pass"]),
        ),
        InputSpec::new(
            "evidence-file",
            "Where to write the evidence (JSON), relative to the workspace.",
            false,
            Some("gantry-canary-evidence.json"),
            InputKind::Text,
        ),
        InputSpec::new(
            "comment",
            "`update` keeps one sticky PR comment per canary and edits it; `off` posts none (the step summary is still written).",
            false,
            Some("update"),
            InputKind::Choice(&["update", "off"]),
        ),
        GITHUB_TOKEN_INPUT,
        COMMENT_AUTHOR_INPUT,
    ],
    outputs: &[
        OutputSpec {
            name: "decision",
            description: "`promote`, `rollback` or `inconclusive`.",
        },
        OutputSpec {
            name: "reason",
            description: "Why, in one line.",
        },
        OutputSpec {
            name: "canary-requests",
            description: "Requests the canary served in the window.",
        },
        OutputSpec {
            name: "baseline-requests",
            description: "Requests the baseline served in the window.",
        },
        OutputSpec {
            name: "evidence-file",
            description: "The evidence file: per metric the samples used, the statistics and the verdict.",
        },
        RESULT_OUTPUT,
    ],
};

/// `30m`, `1h30m`, `90s`, `2h`, or plain seconds, as seconds.
pub fn duration(name: &str, value: &str) -> Result<u32, InputError> {
    let invalid = || InputError::NotANumber {
        name: name.to_owned(),
        value: value.to_owned(),
        expected: "a duration such as `90s`, `30m` or `1h30m`".to_owned(),
    };
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u32>() {
        return Ok(seconds);
    }
    let (mut total, mut digits) = (0u64, String::new());
    for c in value.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(invalid()),
        };
        let amount: u64 = digits.parse().map_err(|_| invalid())?;
        total += amount * unit;
        digits.clear();
    }
    if !digits.is_empty() || value.is_empty() {
        return Err(invalid());
    }
    u32::try_from(total).map_err(|_| invalid())
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// An evaluation time: Unix seconds, or RFC 3339 (`2026-01-01T00:30:00Z`, with an offset or
/// fractional seconds).
pub fn time(name: &str, value: &str) -> Result<i64, InputError> {
    let invalid = || InputError::NotANumber {
        name: name.to_owned(),
        value: value.to_owned(),
        expected: "an RFC 3339 time (2026-01-01T00:30:00Z) or Unix seconds".to_owned(),
    };
    let value = value.trim();
    if let Ok(seconds) = value.parse::<i64>() {
        return Ok(seconds);
    }
    let bytes = value.as_bytes();
    if bytes.len() < 20
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !matches!(bytes[10], b'T' | b't' | b' ')
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return Err(invalid());
    }
    let field = |range: std::ops::Range<usize>| -> Result<i64, InputError> {
        value
            .get(range)
            .filter(|part| part.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|part| part.parse().ok())
            .ok_or_else(invalid)
    };
    let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
    let (hour, minute, second) = (field(11..13)?, field(14..16)?, field(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(invalid());
    }
    let mut rest = &value[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return Err(invalid()),
            };
            let hours: i64 = rest
                .get(1..3)
                .and_then(|h| h.parse().ok())
                .ok_or_else(invalid)?;
            let minutes: i64 = rest
                .get(4..6)
                .and_then(|m| m.parse().ok())
                .ok_or_else(invalid)?;
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return Err(invalid());
            }
            sign * (hours * 3600 + minutes * 60)
        }
    };
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// The judge's inputs that every action driving it shares, by the same names: `metrics`,
/// `step`, `confidence`, `min-requests`, `min-effect`.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// The preset's metrics (or `istio`'s, until a custom file replaces them).
    pub metrics: MetricSet,
    /// The custom metrics file `metrics` names, which replaces `metrics` once read
    /// ([`crate::custom::read`]).
    pub metrics_file: Option<String>,
    /// Seconds per sample interval.
    pub step: u32,
    /// 1 − the false-rollback rate.
    pub confidence: f64,
    /// Requests each workload must serve.
    pub min_requests: u64,
    /// The smallest relative change that counts.
    pub min_effect: f64,
}

impl Judged {
    /// Reads the judge's inputs.
    pub fn from_inputs(inputs: &Inputs) -> Result<Self, InputError> {
        let (metrics, metrics_file): (MetricSet, Option<String>) =
            match inputs.optional("metrics").as_deref().map(str::trim) {
                None | Some("istio") => (metrics::istio(), None),
                Some("http") => (metrics::http(), None),
                Some(path) => (metrics::istio(), Some(path.to_owned())),
            };
        let number = |name: &str| -> Result<f64, InputError> {
            let value = inputs.optional(name).unwrap_or_default();
            value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| InputError::NotANumber {
                    name: name.to_owned(),
                    value: value.clone(),
                    expected: "a number".to_owned(),
                })
        };
        let step = duration("step", &inputs.optional("step").unwrap_or_default())?;
        let min_requests = number("min-requests")?;
        if min_requests < 0.0 || min_requests.fract() != 0.0 {
            return Err(InputError::NotANumber {
                name: "min-requests".to_owned(),
                value: min_requests.to_string(),
                expected: "a whole number of requests".to_owned(),
            });
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a whole, non-negative count"
        )]
        let min_requests = min_requests as u64;
        Ok(Self {
            metrics,
            metrics_file,
            step,
            confidence: number("confidence")?,
            min_requests,
            min_effect: number("min-effect")?,
        })
    }
}

/// The action's settings, from its inputs; `now` is the evaluation time when `at` is not given.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The judge's settings.
    pub config: Config,
    /// The time of the first look.
    pub at: i64,
    /// Seconds between looks.
    pub interval: u32,
    /// Inconclusive passes.
    pub inconclusive_passes: bool,
    /// Post the sticky comment.
    pub comment: bool,
    /// The evidence file's path.
    pub evidence_file: String,
    /// The custom metrics file `metrics` names, which replaces `config.metrics` once read.
    pub metrics_file: Option<String>,
}

impl Options {
    /// Reads the inputs.
    pub fn from_inputs(inputs: &Inputs, now: i64) -> Result<Self, InputError> {
        let judged = Judged::from_inputs(inputs)?;
        let window = duration("window", &inputs.optional("window").unwrap_or_default())?;
        let interval = duration("interval", &inputs.optional("interval").unwrap_or_default())?;
        let timeout = duration("timeout", &inputs.optional("timeout").unwrap_or_default())?;
        if timeout > 0 && interval == 0 {
            return Err(InputError::NotANumber {
                name: "interval".to_owned(),
                value: "0".to_owned(),
                expected: "a duration above zero when `timeout` is set".to_owned(),
            });
        }
        let at = match inputs.optional("at") {
            Some(at) => time("at", &at)?,
            None => now,
        };
        Ok(Self {
            config: Config {
                namespace: inputs.required("namespace")?.trim().to_owned(),
                canary: inputs.required("canary")?.trim().to_owned(),
                baseline: inputs.required("baseline")?.trim().to_owned(),
                metrics: judged.metrics,
                window,
                step: judged.step,
                confidence: judged.confidence,
                min_requests: judged.min_requests,
                min_effect: judged.min_effect,
                looks: if timeout == 0 {
                    1
                } else {
                    (timeout / interval).max(1)
                },
            },
            at,
            interval,
            inconclusive_passes: inputs.chosen(SPEC.declared("on-inconclusive"))? == "pass",
            comment: inputs.chosen(SPEC.declared("comment"))? == "update",
            metrics_file: judged.metrics_file,
            evidence_file: inputs
                .optional("evidence-file")
                .unwrap_or_else(|| "gantry-canary-evidence.json".to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times_read_as_people_write_them() {
        assert_eq!(duration("w", "30m"), Ok(1800));
        assert_eq!(duration("w", "1h30m"), Ok(5400));
        assert_eq!(duration("w", "90"), Ok(90));
        assert!(duration("w", "5 minutes").is_err());
        assert!(duration("w", "m").is_err());
        assert!(duration("w", "10").is_ok() && duration("w", "10x").is_err());
        assert_eq!(time("at", "2026-01-01T00:00:00Z"), Ok(1_767_225_600));
        assert_eq!(time("at", "2026-01-01T01:00:00+01:00"), Ok(1_767_225_600));
        assert_eq!(
            time("at", "2025-12-31T23:00:00.250-01:00"),
            Ok(1_767_225_600)
        );
        assert_eq!(time("at", "1767225600"), Ok(1_767_225_600));
        assert_eq!(time("at", "2000-02-29T12:00:00Z"), Ok(951_825_600));
        for bad in [
            "2026-13-01T00:00:00Z",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "tomorrow",
            "2026-01-01T00:00:00+0100",
        ] {
            assert!(time("at", bad).is_err(), "{bad}");
        }
    }

    fn inputs(pairs: &[(&str, &str)]) -> Inputs {
        let mut inputs = Inputs::default();
        for spec in SPEC.inputs {
            if let Some(default) = spec.default.filter(|d| !d.contains("${{")) {
                inputs.set(spec.name, default);
            }
        }
        for (name, value) in pairs {
            inputs.set(name, *value);
        }
        inputs
    }

    #[test]
    fn the_inputs_make_a_config_and_live_mode_plans_its_looks() {
        let required = [
            ("prometheus-url", "http://127.0.0.1:9090"),
            ("namespace", "shop"),
            ("canary", "cart-canary"),
            ("baseline", "cart-baseline"),
        ];
        let options = Options::from_inputs(&inputs(&required), 1_767_225_600).unwrap();
        assert_eq!(options.config.looks, 1);
        assert_eq!((options.config.window, options.config.step), (1800, 60));
        assert_eq!(options.at, 1_767_225_600);
        assert!(options.comment && !options.inconclusive_passes);
        let mut live = required.to_vec();
        live.extend([
            ("timeout", "30m"),
            ("interval", "2m"),
            ("metrics", "http"),
            ("at", "2026-01-01T00:30:00Z"),
        ]);
        let options = Options::from_inputs(&inputs(&live), 0).unwrap();
        assert_eq!(
            (options.config.looks, options.interval, options.at),
            (15, 120, 1_767_227_400)
        );
        assert!(
            options
                .config
                .metrics
                .requests
                .contains("http_requests_total")
        );
        let mut custom = required.to_vec();
        custom.push(("metrics", " canary/metrics.yml "));
        let options = Options::from_inputs(&inputs(&custom), 0).unwrap();
        assert_eq!(options.metrics_file.as_deref(), Some("canary/metrics.yml"));
    }
}
