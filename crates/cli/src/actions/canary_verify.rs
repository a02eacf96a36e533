//! `gantry canary-verify`: reads a custom metrics file when `metrics` names one, asks Prometheus
//! what the judge needs for each look (waiting for a look's time when it is still to come), and
//! hands the answers to `gantry-canary-verify`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gantry_canary_verify::custom;
use gantry_canary_verify::judge::{self, Decision, Judge};
use gantry_canary_verify::options::Options;
use gantry_canary_verify::report::{ReportOptions, report};
use gantry_core::report::Report;
use gantry_prometheus::{Auth, Client, Error as PrometheusError, Options as ClientOptions};

use gantry_kube::Cluster;

use crate::invocation::{ActionFailure, Invocation};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// A Prometheus failure: the workflow's to fix (exit 2) or the server's (exit 3).
fn failure(metric: &str, error: &PrometheusError) -> ActionFailure {
    classified(format!("the {metric} query: {error}"), error)
}

fn classified(message: String, error: &PrometheusError) -> ActionFailure {
    if error.is_bad_input() {
        ActionFailure::InvalidInput(message)
    } else {
        ActionFailure::Service(message)
    }
}

/// The Prometheus client the inputs describe: `prometheus-url` as given, or, when it names a
/// Service inside the cluster, through the API server of `kube-context`'s cluster (a cluster
/// that cannot be connected to is the workflow's to fix: exit 2, nothing asked).
async fn client(invocation: &Invocation, namespace: &str) -> Result<Client, ActionFailure> {
    let options = client_options(invocation)?;
    if gantry_prometheus::InCluster::of(&options.url).is_none() {
        return Client::new(options).map_err(|error| classified(error.to_string(), &error));
    }
    let context = invocation.inputs.optional("kube-context");
    let cluster = Cluster::connect(context.as_deref(), namespace)
        .await
        .map_err(|error| {
            ActionFailure::InvalidInput(format!(
                "prometheus-url {} names a Service inside a cluster, reached through its API server: {error}",
                options.url
            ))
        })?;
    prometheus_client(Some(&cluster), options)
}

/// The Prometheus client's settings from the inputs (helm-deploy's canary analysis uses them
/// too, and reaches a Prometheus inside the cluster through the API server).
pub(crate) fn client_options(invocation: &Invocation) -> Result<ClientOptions, ActionFailure> {
    let inputs = &invocation.inputs;
    let token = inputs.optional("prometheus-token");
    let username = inputs.optional("prometheus-username");
    let password = inputs.optional("prometheus-password");
    let auth = match (token, username, password) {
        (None, None, None) => Auth::None,
        (Some(token), None, None) => Auth::Bearer(token),
        (None, Some(username), Some(password)) => Auth::Basic { username, password },
        (Some(_), _, _) => {
            return Err(ActionFailure::InvalidInput(
                "give prometheus-token or prometheus-username and prometheus-password, not both"
                    .to_owned(),
            ));
        }
        _ => {
            return Err(ActionFailure::InvalidInput(
                "prometheus-username and prometheus-password go together".to_owned(),
            ));
        }
    };
    let mut url = inputs.required("prometheus-url")?;
    // A recording is read from the workspace, like every other file an input names.
    if let Some(path) = url.trim().strip_prefix("file:") {
        url = format!("file:{}", invocation.resolve(path).display());
    }
    Ok(ClientOptions {
        url,
        auth,
        timeout: Duration::from_secs(30),
        attempts: 4,
        backoff: Duration::from_secs(1),
    })
}

/// Runs the action.
pub fn run_action(invocation: &Invocation) -> Result<Report, ActionFailure> {
    let mut options = Options::from_inputs(&invocation.inputs, now())?;
    if let Some(path) = &options.metrics_file {
        if !invocation.resolve(path).exists() {
            return Err(ActionFailure::InvalidInput(format!(
                "input `metrics`: `{path}` is none of `istio`, `http`, or a file of your own PromQL templates (there is no such file in the workspace)"
            )));
        }
        let bytes = invocation.read(path)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| ActionFailure::InvalidInput(format!("{path}: is not UTF-8 text")))?;
        options.config.metrics = custom::read(&text)
            .map_err(|error| ActionFailure::InvalidInput(format!("{path}: {error}")))?;
    }
    let mut judge = Judge::new(options.config.clone())
        .map_err(|error| ActionFailure::InvalidInput(error.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| ActionFailure::Service(format!("cannot start: {error}")))?;
    let client = runtime.block_on(client(invocation, &options.config.namespace))?;
    let mut at = options.at;
    let evaluation = loop {
        // A look's time still to come is waited for; one in the past (a fixed `at`) is not.
        let wait = at - now();
        if wait > 0 {
            std::thread::sleep(Duration::from_secs(wait.unsigned_abs()));
        }
        let mut answers = BTreeMap::new();
        for query in judge.queries(at) {
            let answer = runtime
                .block_on(client.query_range(&query.promql, query.start, query.end, query.step))
                .map_err(|error| failure(&query.metric, &error))?;
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
        let evaluation = judge
            .evaluate(at, &answers)
            .map_err(|error| ActionFailure::InvalidInput(error.to_string()))?;
        tracing::info!(
            look = evaluation.look.0,
            of = evaluation.look.1,
            decision = evaluation.decision.word(),
            reason = %evaluation.reason,
            "canary look"
        );
        if evaluation.decision != Decision::Continue {
            break evaluation;
        }
        at += i64::from(options.interval);
    };
    let comment_key = options.comment.then(|| {
        format!(
            "{}/{}/{}",
            invocation.context.workflow_and_job(),
            options.config.namespace,
            options.config.canary
        )
    });
    Ok(report(
        &evaluation,
        &options.config,
        &ReportOptions {
            inconclusive_passes: options.inconclusive_passes,
            comment_key,
            evidence_file: options.evidence_file.clone(),
        },
    ))
}

/// A Prometheus inside the cluster, reached through the API server's service proxy — the
/// way a hosted runner, outside the cluster, can reach it at all.
struct ServiceProxy {
    cluster: Cluster,
    /// `/api/v1/namespaces/<ns>/services/<scheme>:<name>:<port>/proxy<prefix>`.
    path: String,
    timeout: Duration,
}

impl gantry_prometheus::Transport for ServiceProxy {
    fn post(&self, path: &str, form: gantry_prometheus::Bytes) -> gantry_prometheus::Exchange {
        let (cluster, path, timeout) = (
            self.cluster.clone(),
            format!("{}{path}", self.path),
            self.timeout,
        );
        Box::pin(async move {
            cluster
                .post_raw(&path, form.to_vec(), timeout)
                .await
                .map(|(status, body)| (status, gantry_prometheus::Bytes::from(body)))
                .map_err(|error| error.to_string())
        })
    }
}

/// The canary judge's Prometheus: `prometheus-url` as given, or — when it names a Service by its
/// cluster DNS name (`http://prometheus-server.monitoring.svc:9090`) — through the API server
/// of `cluster`. Such a URL with no cluster to reach it through is the workflow's to fix.
pub(crate) fn prometheus_client(
    cluster: Option<&Cluster>,
    options: gantry_prometheus::Options,
) -> Result<gantry_prometheus::Client, ActionFailure> {
    match gantry_prometheus::InCluster::of(&options.url) {
        Some(service) => {
            let Some(cluster) = cluster else {
                return Err(ActionFailure::InvalidInput(format!(
                    "prometheus-url {} names a Service inside a cluster, and no cluster is connected to reach it through",
                    options.url
                )));
            };
            tracing::info!(path = %service.proxy_path(), "Prometheus through the API server's service proxy");
            let transport = ServiceProxy {
                cluster: cluster.clone(),
                path: service.proxy_path(),
                timeout: options.timeout,
            };
            Ok(gantry_prometheus::Client::through(
                std::sync::Arc::new(transport),
                options,
            ))
        }
        None => gantry_prometheus::Client::new(options).map_err(|error| {
            if error.is_bad_input() {
                ActionFailure::InvalidInput(error.to_string())
            } else {
                ActionFailure::Service(error.to_string())
            }
        }),
    }
}
