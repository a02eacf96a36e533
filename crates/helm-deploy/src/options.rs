//! The action's declaration and its inputs read into settings: the release and chart, the
//! strategy and its traffic, the canary judge's settings (canary-verify's inputs, by the same
//! names), health checks, time budgets, the GitHub deployment.

use gantry_canary_verify::judge::Config;
use gantry_canary_verify::options::{Judged, duration};
use gantry_core::action::{
    ActionSpec, GITHUB_TOKEN_INPUT, InputKind, InputSpec, OutputSpec, RESULT_OUTPUT,
};
use gantry_core::runner::{InputError, Inputs};

use crate::helm::Chart;
use crate::plan::{self, Strategy, Track, Traffic};

/// The action's name.
pub const NAME: &str = "helm-deploy";

/// The action's declaration.
pub const SPEC: ActionSpec = ActionSpec {
    name: NAME,
    title: "Gantry: helm deploy",
    description: "Deploys a Helm release rolling, blue-green or canary: waits by kubectl's rules, stops at the first crash-looping, unpullable, OOM-killed or unschedulable pod with its events and logs, judges a canary against a baseline on Prometheus, and rolls back traffic first — never leaving a release pending.",
    inputs: &[
        InputSpec::new("release", "The Helm release.", true, None, InputKind::Text),
        InputSpec::new(
            "chart",
            "The chart: a path, `repo/name`, or an `oci://` reference.",
            true,
            None,
            InputKind::Text,
        ),
        InputSpec::new(
            "namespace",
            "The release's namespace.",
            true,
            None,
            InputKind::Text,
        ),
        InputSpec::new(
            "values",
            "Values files, one a line, in order.",
            false,
            None,
            InputKind::List,
        ),
        InputSpec::new(
            "set",
            "Value overrides, one `key=value` a line (as `helm --set`).",
            false,
            None,
            InputKind::List,
        ),
        InputSpec::new(
            "version",
            "The chart version (for a repository or OCI chart).",
            false,
            None,
            InputKind::Text,
        ),
        InputSpec::new(
            "helm-command",
            "The `helm` to run (a program on PATH or a path; `azure/setup-helm` installs one).",
            false,
            Some("helm"),
            InputKind::Text,
        ),
        InputSpec::new(
            "kube-context",
            "The kubeconfig context (default: the current one). The kubeconfig is `KUBECONFIG`, `~/.kube/config`, or the in-cluster service account.",
            false,
            None,
            InputKind::Text,
        ),
        InputSpec::new(
            "strategy",
            "`rolling`, `blue-green` or `canary`. A first install is always rolling: there is nothing to compare with.",
            false,
            Some("rolling"),
            InputKind::Choice(&["rolling", "blue-green", "canary"]),
        ),
        InputSpec::new(
            "traffic",
            "How traffic is steered: `istio` (VirtualService weights), `gateway-api` (HTTPRoute weights) or `service` (a Service's selector; blue-green only). Required for blue-green and canary.",
            false,
            None,
            InputKind::Text,
        ),
        InputSpec::new(
            "canary-steps",
            "The canary's share of traffic at each step, rising to 100.",
            false,
            Some("10,25,50,100"),
            InputKind::Text,
        ),
        InputSpec::new(
            "step-interval",
            "How long each traffic step holds before it is judged (and how often a step is judged again while the judge cannot tell).",
            false,
            Some("1m"),
            InputKind::Text,
        ),
        InputSpec::new(
            "prometheus-url",
            "Canary analysis: the Prometheus server's base URL (canary-verify's input). A Service's cluster DNS name (`http://prometheus-server.monitoring.svc:9090`) is reached through the Kubernetes API server's service proxy, so a hosted runner outside the cluster can judge; the kubeconfig's identity needs `get` and `create` on `services/proxy` there.",
            false,
            None,
            InputKind::Text,
        ),
        InputSpec::new(
            "prometheus-token",
            "Canary analysis: a bearer token for Prometheus.",
            false,
            None,
            InputKind::Secret,
        ),
        InputSpec::new(
            "prometheus-username",
            "Canary analysis: a user for basic auth (with `prometheus-password`).",
            false,
            None,
            InputKind::Text,
        ),
        InputSpec::new(
            "prometheus-password",
            "Canary analysis: the password for basic auth.",
            false,
            None,
            InputKind::Secret,
        ),
        InputSpec::new(
            "metrics",
            "Canary analysis: `istio`, `http`, or a custom metrics file (canary-verify's input).",
            false,
            Some("istio"),
            InputKind::Text,
        ),
        InputSpec::new(
            "step",
            "Canary analysis: the sample interval (at least four scrape intervals). The judge decides nothing before it has eight of them.",
            false,
            Some("1m"),
            InputKind::Text,
        ),
        InputSpec::new(
            "confidence",
            "Canary analysis: 1 − the chance of rolling back a healthy canary over the whole deploy.",
            false,
            Some("0.98"),
            InputKind::Number,
        ),
        InputSpec::new(
            "min-requests",
            "Canary analysis: requests the canary and the baseline must each serve before anything is decided.",
            false,
            Some("1000"),
            InputKind::Number,
        ),
        InputSpec::new(
            "min-effect",
            "Canary analysis: the smallest relative change that counts as a regression.",
            false,
            Some("0.1"),
            InputKind::Number,
        ),
        InputSpec::new(
            "health-checks",
            "HTTP checks run after each step, one a line: `<url> <status> <latency budget>` (`https://app.example.com/healthz 200 500ms`). A URL on `http://{service}` (`http://{service}:80/healthz`) goes through the API server's proxy to the Service under test: green's or the canary's before promotion, the stable's after.",
            false,
            None,
            InputKind::List,
        ),
        InputSpec::new(
            "timeout",
            "The whole deploy's budget; past it the deploy fails and rolls back.",
            false,
            Some("10m"),
            InputKind::Text,
        ),
        InputSpec::new(
            "rollback-timeout",
            "The rollback's own budget, on top of `timeout`.",
            false,
            Some("5m"),
            InputKind::Text,
        ),
        InputSpec::new(
            "unschedulable-grace",
            "How long a new pod may wait for a node before the deploy fails (a cluster autoscaler may be adding one).",
            false,
            Some("60s"),
            InputKind::Text,
        ),
        InputSpec::new(
            "not-ready-grace",
            "How long past its readiness probe's own allowance (initial delay + failure threshold × period) a running pod may stay unready.",
            false,
            Some("30s"),
            InputKind::Text,
        ),
        InputSpec::new(
            "test",
            "`true`: run the chart's tests (`helm test`, its `helm.sh/hook: test` pods) on the new version once it is ready, before any traffic or promotion; a failing test rolls back.",
            false,
            Some("false"),
            InputKind::Boolean,
        ),
        InputSpec::new(
            "chart-contract",
            "`false` (the default): canary and blue-green work on any chart as published — Gantry copies the Deployment Helm renders with the new values as the canary or green, and the live stable as the baseline, each with its own Service (every label the stable Service selects on told apart, so it never selects a copy), and steers traffic with the chart's own VirtualService or HTTPRoute for the Service (patched, then restored) or one it makes and removes. `true`: the chart keeps Gantry's contract (`gantry.track`, `gantry.weights.*`, a route listing every track's Service, as the reference chart does) and each track is a Helm release of its own.",
            false,
            Some("false"),
            InputKind::Boolean,
        ),
        InputSpec::new(
            "recover-pending",
            "A release left `pending-install/upgrade/rollback` (a killed helm): `fail` stops with guidance; `rollback` returns it to its last deployed revision first.",
            false,
            Some("fail"),
            InputKind::Choice(&["fail", "rollback"]),
        ),
        InputSpec::new(
            "environment",
            "A GitHub environment: a deployment is created with statuses `in_progress` → `success`/`failure`.",
            false,
            None,
            InputKind::Text,
        ),
        InputSpec::new(
            "production-environment",
            "Whether `environment` is one that end users reach (the deployment's `production_environment`): `auto` leaves it to GitHub's rule (an environment named `production` is), `true` or `false` says so.",
            false,
            Some("auto"),
            InputKind::Choice(&["auto", "true", "false"]),
        ),
        InputSpec::new(
            "environment-url",
            "The URL the environment serves, shown on the deployment.",
            false,
            None,
            InputKind::Text,
        ),
        InputSpec::new(
            "plan-only",
            "`true`: show the plan — steps, weights, checks, what undoes each — and change nothing (no cluster, no helm).",
            false,
            Some("false"),
            InputKind::Boolean,
        ),
        GITHUB_TOKEN_INPUT,
    ],
    outputs: &[
        RESULT_OUTPUT,
        OutputSpec {
            name: "decision",
            description: "`deployed`, `promoted`, `rolled-back` or `failed`.",
        },
        OutputSpec {
            name: "revision",
            description: "The release's revision serving at the end.",
        },
        OutputSpec {
            name: "previous-revision",
            description: "The revision serving before the deploy (empty for a first install).",
        },
        OutputSpec {
            name: "failure-reason",
            description: "Why the deploy failed, in one line.",
        },
        OutputSpec {
            name: "deployment-id",
            description: "The GitHub deployment's id.",
        },
        OutputSpec {
            name: "environment-url",
            description: "The environment's URL.",
        },
    ],
};

/// An HTTP check: the URL, the status it must answer, the time it must answer within. A URL
/// whose host is `{service}` (`http://{service}/healthz`, `http://{service}:8080/healthz`) is
/// checked through the API server's proxy to the Service under test — green's before the
/// switch, the canary's during its steps, the stable's once promoted — so the new version is
/// checked on its own before any user is sent to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// The URL.
    pub url: String,
    /// The expected status.
    pub status: u16,
    /// Milliseconds it may take.
    pub budget_ms: u64,
}

/// The placeholder for the Service under test.
pub const SERVICE: &str = "{service}";

impl HealthCheck {
    /// For a `http://{service}…` check: the port (when the URL names one) and the path.
    #[must_use]
    pub fn through_service(&self) -> Option<(Option<u16>, String)> {
        let rest = self.url.strip_prefix("http://")?.strip_prefix(SERVICE)?;
        let (port, path) = match rest.strip_prefix(':') {
            Some(rest) => {
                let end = rest.find('/').unwrap_or(rest.len());
                (rest[..end].parse().ok(), &rest[end..])
            }
            None => (None, rest),
        };
        Some((
            port,
            if path.is_empty() {
                "/".to_owned()
            } else {
                path.to_owned()
            },
        ))
    }

    /// The API server's proxy path to `service` in `namespace` for this check.
    #[must_use]
    pub fn proxy_path(&self, namespace: &str, service: &str) -> Option<String> {
        let (port, path) = self.through_service()?;
        let target = port.map_or_else(|| service.to_owned(), |port| format!("{service}:{port}"));
        Some(format!(
            "/api/v1/namespaces/{namespace}/services/{target}/proxy{path}"
        ))
    }
}

/// `500ms`, `2s`, `1m` as milliseconds.
fn millis(name: &str, value: &str) -> Result<u64, InputError> {
    if let Some(ms) = value.strip_suffix("ms") {
        return ms.parse().map_err(|_| InputError::NotANumber {
            name: name.to_owned(),
            value: value.to_owned(),
            expected: "a latency budget such as `500ms` or `2s`".to_owned(),
        });
    }
    duration(name, value).map(|seconds| u64::from(seconds) * 1000)
}

/// One `health-checks` line.
pub fn health_check(line: &str) -> Result<HealthCheck, InputError> {
    let bad = |expected: &str| InputError::NotANumber {
        name: "health-checks".to_owned(),
        value: line.to_owned(),
        expected: expected.to_owned(),
    };
    let words: Vec<&str> = line.split_whitespace().collect();
    let [url, status, budget] = words.as_slice() else {
        return Err(bad(
            "`<url> <status> <latency budget>` (`https://app.example.com/healthz 200 500ms`)",
        ));
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(bad("an http:// or https:// URL first"));
    }
    if url.contains(SERVICE) {
        let check = HealthCheck {
            url: (*url).to_owned(),
            status: 0,
            budget_ms: 0,
        };
        let valid = check.through_service().is_some_and(|(port, path)| {
            path.starts_with('/') && (port.is_some() || !url[7 + SERVICE.len()..].starts_with(':'))
        });
        if !valid {
            return Err(bad(
                "`http://{service}/path` or `http://{service}:<port>/path` to check through the Service under test",
            ));
        }
    }
    let status: u16 = status
        .parse()
        .ok()
        .filter(|s| (100..600).contains(s))
        .ok_or_else(|| bad("an HTTP status (100–599) second"))?;
    let budget_ms = millis("health-checks", budget)?;
    if budget_ms == 0 {
        return Err(bad("a latency budget above zero"));
    }
    Ok(HealthCheck {
        url: (*url).to_owned(),
        status,
        budget_ms,
    })
}

/// The canary analysis's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// The judge's settings (canary and baseline named after the release).
    pub config: Config,
    /// Prometheus's base URL.
    pub prometheus_url: String,
    /// The custom metrics file, when `metrics` names one.
    pub metrics_file: Option<String>,
}

/// The action's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The release.
    pub release: String,
    /// Its namespace.
    pub namespace: String,
    /// The chart and values.
    pub chart: Chart,
    /// The `helm` to run.
    pub helm_command: String,
    /// The kubeconfig context.
    pub kube_context: Option<String>,
    /// The strategy.
    pub strategy: Strategy,
    /// How traffic is steered (rolling: unused).
    pub traffic: Traffic,
    /// The canary's steps.
    pub canary_steps: Vec<u32>,
    /// Seconds each step holds.
    pub step_interval: u32,
    /// The canary analysis (canary only).
    pub analysis: Option<Analysis>,
    /// The health checks.
    pub health_checks: Vec<HealthCheck>,
    /// Seconds the deploy may take.
    pub timeout: u32,
    /// Seconds the rollback may take.
    pub rollback_timeout: u32,
    /// Recover a pending release by rolling it back.
    pub recover_pending: bool,
    /// Run `helm test` on the new version once it is ready, before traffic or promotion.
    pub test: bool,
    /// The chart keeps Gantry's contract: tracks are Helm releases (`false`: copies, any chart).
    pub chart_contract: bool,
    /// When pods count as failing.
    pub grace: crate::failure::Grace,
    /// The GitHub environment.
    pub environment: Option<String>,
    /// Its URL.
    pub environment_url: Option<String>,
    /// Whether it is a production environment; `None`: GitHub's rule decides.
    pub production_environment: Option<bool>,
}

fn lines(inputs: &Inputs, name: &str) -> Vec<String> {
    inputs
        .optional(name)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn range(name: &str, value: String, expected: &str) -> InputError {
    InputError::NotANumber {
        name: name.to_owned(),
        value,
        expected: expected.to_owned(),
    }
}

/// A release name Helm accepts (a DNS-1123 label of at most 53 characters), short enough that
/// `-baseline` still makes a valid name.
fn release_name(value: &str) -> Result<String, InputError> {
    let valid = !value.is_empty()
        && value.len() <= 53 - "-baseline".len()
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && value.as_bytes()[0].is_ascii_alphanumeric()
        && value.as_bytes()[value.len() - 1].is_ascii_alphanumeric();
    if valid {
        Ok(value.to_owned())
    } else {
        Err(range(
            "release",
            value.to_owned(),
            "a Helm release name: lowercase letters, digits and '-', at most 44 characters (so that `<release>-baseline` is one too)",
        ))
    }
}

impl Options {
    /// The plan these inputs ask for (with `test: true`, the chart's tests in it), for a
    /// release that has a deployed revision or (`first_install`) has none.
    ///
    /// # Errors
    /// Canary steps or a strategy the traffic cannot carry.
    pub fn plan(&self, first_install: bool) -> Result<crate::plan::Plan, crate::plan::PlanError> {
        let plan = crate::plan::plan(
            self.strategy,
            self.traffic,
            &self.canary_steps,
            first_install,
        )?;
        Ok(if self.test {
            crate::plan::with_tests(plan)
        } else {
            plan
        })
    }

    /// Reads the inputs.
    pub fn from_inputs(inputs: &Inputs) -> Result<Self, InputError> {
        inputs.check(SPEC.inputs)?;
        let release = release_name(&inputs.required("release")?)?;
        let namespace = inputs.required("namespace")?;
        let strategy = match inputs.chosen(SPEC.declared("strategy"))?.as_str() {
            "blue-green" => Strategy::BlueGreen,
            "canary" => Strategy::Canary,
            _ => Strategy::Rolling,
        };
        let traffic = match (inputs.optional("traffic").as_deref(), strategy) {
            (Some("istio"), _) => Traffic::Istio,
            (Some("gateway-api"), _) => Traffic::GatewayApi,
            (Some("service"), _) | (None, Strategy::Rolling) => Traffic::Service,
            (None, _) => {
                return Err(InputError::Missing {
                    name: "traffic".to_owned(),
                });
            }
            (Some(other), _) => {
                return Err(InputError::NotOneOf {
                    name: "traffic".to_owned(),
                    value: other.to_owned(),
                    allowed: "`istio`, `gateway-api`, `service`".to_owned(),
                });
            }
        };
        let steps_text = inputs.optional("canary-steps").unwrap_or_default();
        let canary_steps = plan::canary_steps(&steps_text)
            .map_err(|error| range("canary-steps", steps_text.clone(), &error.to_string()))?;
        if strategy == Strategy::Canary && traffic == Traffic::Service {
            return Err(range(
                "traffic",
                "service".to_owned(),
                "`istio` or `gateway-api` for a canary: a Service's selector cannot split traffic",
            ));
        }
        let step_interval = duration(
            "step-interval",
            &inputs.optional("step-interval").unwrap_or_default(),
        )?;
        let timeout = duration("timeout", &inputs.optional("timeout").unwrap_or_default())?;
        let rollback_timeout = duration(
            "rollback-timeout",
            &inputs.optional("rollback-timeout").unwrap_or_default(),
        )?;
        if timeout == 0 || rollback_timeout == 0 {
            return Err(range(
                if timeout == 0 {
                    "timeout"
                } else {
                    "rollback-timeout"
                },
                "0".to_owned(),
                "a duration above zero",
            ));
        }
        if strategy != Strategy::Rolling && step_interval == 0 {
            return Err(range(
                "step-interval",
                "0".to_owned(),
                "a duration above zero",
            ));
        }
        let analysis = if strategy == Strategy::Canary {
            Some(analysis(
                inputs,
                &release,
                &namespace,
                &canary_steps,
                step_interval,
                timeout,
            )?)
        } else {
            None
        };
        let health_checks = lines(inputs, "health-checks")
            .iter()
            .map(|line| health_check(line))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            chart: Chart {
                reference: inputs.required("chart")?,
                version: inputs.optional("version"),
                values: lines(inputs, "values"),
                set: lines(inputs, "set"),
            },
            helm_command: inputs
                .optional("helm-command")
                .unwrap_or_else(|| "helm".to_owned()),
            kube_context: inputs.optional("kube-context"),
            release,
            namespace,
            strategy,
            traffic,
            canary_steps,
            step_interval,
            analysis,
            health_checks,
            timeout,
            rollback_timeout,
            recover_pending: inputs.chosen(SPEC.declared("recover-pending"))? == "rollback",
            test: inputs.boolean("test", false)?,
            chart_contract: inputs.boolean("chart-contract", false)?,
            grace: crate::failure::Grace {
                unschedulable: i64::from(duration(
                    "unschedulable-grace",
                    &inputs.optional("unschedulable-grace").unwrap_or_default(),
                )?),
                not_ready: i64::from(duration(
                    "not-ready-grace",
                    &inputs.optional("not-ready-grace").unwrap_or_default(),
                )?),
                ..crate::failure::Grace::default()
            },
            environment: inputs.optional("environment"),
            environment_url: inputs.optional("environment-url"),
            production_environment: match inputs.optional("production-environment").as_deref() {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => None,
            },
        })
    }
}

/// How many looks the judge plans: one for each analysed step, and as many again for the last
/// step to look again while it cannot tell yet — no more than fit in the timeout one
/// step-interval apart. (The false-rollback budget is spent across the planned looks by
/// O'Brien–Fleming: planning a look per step-interval of a long timeout would leave the early
/// looks almost none, and the last step would wait out the timeout before it could promote.)
pub fn looks(steps: &[u32], step_interval: u32, timeout: u32) -> u32 {
    let analysed = u32::try_from(steps.iter().filter(|&&p| p < 100).count())
        .unwrap_or(u32::MAX)
        .max(1);
    let fit = timeout / step_interval.max(1);
    (2 * analysed).min(fit).max(analysed)
}

fn analysis(
    inputs: &Inputs,
    release: &str,
    namespace: &str,
    steps: &[u32],
    step_interval: u32,
    timeout: u32,
) -> Result<Analysis, InputError> {
    let prometheus_url = inputs.required("prometheus-url")?;
    let judged = Judged::from_inputs(inputs)?;
    let step = judged.step;
    // The judge needs MIN_POINTS intervals of data before it decides anything, and every step
    // holds at least one step-interval: a timeout shorter than that can only ever fail.
    let steps_count = u32::try_from(steps.len()).unwrap_or(u32::MAX);
    let first_decision = step
        .saturating_mul(u32::try_from(gantry_canary_verify::judge::MIN_POINTS).unwrap_or(u32::MAX))
        .max(step_interval);
    let needed = first_decision.saturating_add(step_interval.saturating_mul(steps_count - 1));
    if timeout < needed {
        return Err(range(
            "timeout",
            gantry_canary_verify::judge::promql_duration(timeout),
            &format!(
                "at least {} for this canary: the judge decides nothing before {} intervals of {} of data, and the other {} steps hold {} each",
                gantry_canary_verify::judge::promql_duration(needed),
                gantry_canary_verify::judge::MIN_POINTS,
                gantry_canary_verify::judge::promql_duration(step),
                steps_count - 1,
                gantry_canary_verify::judge::promql_duration(step_interval),
            ),
        ));
    }
    Ok(Analysis {
        config: Config {
            namespace: namespace.to_owned(),
            canary: Track::Canary.name(release),
            baseline: Track::Baseline.name(release),
            metrics: judged.metrics,
            window: timeout,
            step,
            confidence: judged.confidence,
            min_requests: judged.min_requests,
            min_effect: judged.min_effect,
            looks: looks(steps, step_interval, timeout),
        },
        prometheus_url,
        metrics_file: judged.metrics_file,
    })
}
