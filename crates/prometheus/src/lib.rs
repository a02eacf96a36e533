//! gantry-prometheus: the Prometheus HTTP API edge.
//!
//! `query` and `query_range`, always as a POST form (queries of any length), with bearer or
//! basic auth, a per-request timeout (also passed to Prometheus as `timeout`), and retries with
//! backoff on what may pass: connection failures, timeouts, 429 and 5xx. The JSON envelope is
//! read strictly: `status`, `data.resultType`, sample values as strings (`"NaN"`, `"+Inf"`),
//! `warnings`; an `error` answer keeps its `errorType`. What the caller needs to decide the exit
//! code is [`Error::is_bad_input`]: a query Prometheus rejects (`bad_data`, `execution`), a URL
//! that is not an API, credentials refused are the workflow's to fix; an unreachable or failing
//! server is not.

use std::collections::BTreeMap;
use std::time::Duration;

pub use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// How to authenticate.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// Nothing.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic …`.
    Basic {
        /// The user.
        username: String,
        /// The password.
        password: String,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never a secret in a log or a panic message.
        f.write_str(match self {
            Self::None => "None",
            Self::Bearer(_) => "Bearer(***)",
            Self::Basic { .. } => "Basic(***)",
        })
    }
}

/// The client's settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// The server's base URL (`https://prometheus.example.com`, or with a path prefix).
    pub url: String,
    /// How to authenticate.
    pub auth: Auth,
    /// The most one request may take.
    pub timeout: Duration,
    /// How many times a request is tried.
    pub attempts: u32,
    /// The wait before the first retry; doubled after each.
    pub backoff: Duration,
}

/// One series of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// `(unix seconds, value)`, in time order; NaN and infinities as Prometheus gave them.
    pub samples: Vec<(f64, f64)>,
}

/// What a query returned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answer {
    /// The series (a vector's: one sample each).
    pub series: Vec<Series>,
    /// Prometheus's `warnings`: the data may be partial.
    pub warnings: Vec<String>,
}

/// What can go wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The URL is not one the client can use.
    #[error("prometheus-url {0:?} is not an http:// or https:// URL")]
    Url(String),
    /// Prometheus answered with an error about the query (`bad_data`, `execution`, …).
    #[error(
        "Prometheus refused the query `{query}`: {message} (errorType {error_type}, HTTP {status})"
    )]
    Query {
        /// The query.
        query: String,
        /// `errorType`.
        error_type: String,
        /// `error`.
        message: String,
        /// The HTTP status.
        status: u16,
    },
    /// The credentials were refused.
    #[error(
        "{url} refused the credentials (HTTP {status}): check prometheus-token or prometheus-username/-password"
    )]
    Unauthorized {
        /// The endpoint.
        url: String,
        /// 401 or 403.
        status: u16,
    },
    /// Not found: the URL does not lead to the API.
    #[error(
        "{url} answered 404: is prometheus-url the server's base URL (with its path prefix, if any)?"
    )]
    NotFound {
        /// The endpoint.
        url: String,
    },
    /// Every attempt failed on something that might have passed.
    #[error("cannot get an answer from {url} after {attempts} attempts: {last}")]
    Unavailable {
        /// The endpoint.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// An answer that is not the API's JSON.
    #[error("{url} did not answer as the Prometheus API does: {detail}")]
    Malformed {
        /// The endpoint.
        url: String,
        /// What was wrong.
        detail: String,
    },
}

impl Error {
    /// Whether the workflow's inputs are at fault (exit 2) rather than the server (exit 3).
    #[must_use]
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::Url(_) | Self::NotFound { .. } | Self::Unauthorized { .. } => true,
            Self::Query { error_type, .. } => {
                // The query is wrong; a server that timed out or is overloaded is not.
                !matches!(
                    error_type.as_str(),
                    "timeout" | "canceled" | "internal" | "unavailable"
                )
            }
            Self::Unavailable { .. } | Self::Malformed { .. } => false,
        }
    }
}

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// A Prometheus HTTP API client.
#[derive(Clone)]
pub struct Client {
    base: String,
    authorization: Option<String>,
    options: Options,
    source: Source,
}

/// Where answers come from.
#[derive(Clone)]
enum Source {
    Http(HyperClient<Connector, Full<Bytes>>),
    /// A recording (`file:<path>`): answers by endpoint and form, for the demo and for
    /// deciding again, offline, on the data a decision was made on.
    Recorded(std::sync::Arc<BTreeMap<String, Value>>),
    /// Another way to the server (the Kubernetes API server's service proxy).
    Transport(std::sync::Arc<dyn Transport>),
}

/// The answer to one POST: its status and body, or why there was none.
pub type Exchange =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(u16, Bytes), String>> + Send>>;

/// A way to POST a form to the server other than a direct connection: the Kubernetes API
/// server's service proxy for a Prometheus inside the cluster (`gantry-kube`).
pub trait Transport: Send + Sync {
    /// POSTs `form` to the API path `path` (`/api/v1/query_range`).
    fn post(&self, path: &str, form: Bytes) -> Exchange;
}

/// A Prometheus named as a Service inside a cluster: `http(s)://<name>.<namespace>.svc[.cluster.local][:port][/prefix]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InCluster {
    /// `http` or `https`.
    pub scheme: String,
    /// The Service.
    pub service: String,
    /// Its namespace.
    pub namespace: String,
    /// The port (80 or 443 when the URL names none).
    pub port: u16,
    /// A path prefix the server is served under (`/prometheus`), without a trailing `/`.
    pub prefix: String,
}

impl InCluster {
    /// The URL, if it names a Service by its cluster DNS name.
    #[must_use]
    pub fn of(url: &str) -> Option<Self> {
        let uri: http::Uri = url.trim().trim_end_matches('/').parse().ok()?;
        let scheme = uri
            .scheme_str()
            .filter(|s| matches!(*s, "http" | "https"))?;
        let host = uri.host()?;
        let rest = host
            .strip_suffix(".svc.cluster.local")
            .or_else(|| host.strip_suffix(".svc"))?;
        let (service, namespace) = rest.split_once('.')?;
        if service.is_empty() || namespace.is_empty() || namespace.contains('.') {
            return None;
        }
        Some(Self {
            scheme: scheme.to_owned(),
            service: service.to_owned(),
            namespace: namespace.to_owned(),
            port: uri
                .port_u16()
                .unwrap_or(if scheme == "https" { 443 } else { 80 }),
            prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// The API server's proxy path to the Service, with the server's prefix
    /// (`/api/v1/namespaces/monitoring/services/http:prometheus:9090/proxy/prometheus`).
    #[must_use]
    pub fn proxy_path(&self) -> String {
        format!(
            "/api/v1/namespaces/{}/services/{}:{}:{}/proxy{}",
            self.namespace, self.scheme, self.service, self.port, self.prefix
        )
    }
}

/// A form body (`application/x-www-form-urlencoded`), as the client sends it.
#[must_use]
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        form.append_pair(name, value);
    }
    form.finish()
}

/// The key of a recorded answer: the endpoint and the form, without the timeout.
#[must_use]
pub fn recording_key(endpoint: &str, pairs: &[(&str, &str)]) -> String {
    format!("{endpoint}?{}", form(pairs))
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// A failure of one attempt: retried or final.
enum Attempt {
    Retry(String),
    Final(Error),
}

/// HTTPS (native roots, else the webpki roots) or plain HTTP.
fn connector() -> Result<Connector, String> {
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .or_else(|_| {
            Ok::<_, std::io::Error>(hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots())
        })
        .map_err(|error| error.to_string())?
        .https_or_http()
        .enable_http1()
        .build())
}

/// `Authorization: Basic …` for a user and password.
fn basic(username: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
    )
}

/// `url` without the `user:password@` before its host, and that user and password
/// (percent-decoded), when it has them.
fn without_userinfo(url: &str) -> (String, Option<(String, String)>) {
    let Some(scheme_end) = url.find("://") else {
        return (url.to_owned(), None);
    };
    let start = scheme_end + 3;
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |end| start + end);
    let Some(at) = url[start..end].rfind('@') else {
        return (url.to_owned(), None);
    };
    let userinfo = &url[start..start + at];
    let decode = |text: &str| {
        form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
            .next()
            .map_or_else(String::new, |(_, value)| value.into_owned())
    };
    let (username, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    (
        format!("{}{}", &url[..start], &url[start + at + 1..]),
        Some((decode(username), decode(password))),
    )
}

/// A health check's `GET`: the status and how long the answer took, or why there was none
/// (the same HTTP client as the queries: proxies aside, what reaches Prometheus reaches this).
pub async fn probe(url: &str, timeout: Duration) -> Result<(u16, Duration), String> {
    let shown = gantry_core::markdown::redact_userinfo(url);
    let (bare, userinfo) = without_userinfo(url);
    let uri: http::Uri = bare
        .parse()
        .map_err(|_| format!("{shown:?} is not a URL"))?;
    let client: HyperClient<Connector, http_body_util::Empty<bytes::Bytes>> =
        HyperClient::builder(TokioExecutor::new()).build(connector()?);
    let mut request = http::Request::get(uri).header(
        http::header::USER_AGENT,
        concat!("gantry/", env!("CARGO_PKG_VERSION")),
    );
    if let Some((username, password)) = userinfo {
        request = request.header(http::header::AUTHORIZATION, basic(&username, &password));
    }
    let request = request
        .body(http_body_util::Empty::new())
        .map_err(|error| error.to_string())?;
    let started = std::time::Instant::now();
    match tokio::time::timeout(timeout, client.request(request)).await {
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
        Ok(Err(error)) => Err(format!("no answer: {error}")),
        Ok(Ok(response)) => Ok((response.status().as_u16(), started.elapsed())),
    }
}

impl Client {
    /// A client for `options.url`: an `http(s)://` server, or `file:<path>`, a recording written
    /// as `{"answers": [{"key": recording_key(…), "response": <the API's JSON>}]}`.
    pub fn new(options: Options) -> Result<Self, Error> {
        if let Some(path) = options.url.trim().strip_prefix("file:") {
            return Self::recorded(path, options.clone());
        }
        let shown = gantry_core::markdown::redact_userinfo(options.url.trim()).into_owned();
        let (base, userinfo) = without_userinfo(options.url.trim().trim_end_matches('/'));
        let uri: http::Uri = base.parse().map_err(|_| Error::Url(shown.clone()))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(Error::Url(shown));
        }
        // `https://user:password@host` is basic auth, sent as such (a URL's credentials are
        // never sent by the HTTP client, and never printed); explicit credentials win.
        let mut options = options;
        if let (Auth::None, Some((username, password))) = (&options.auth, userinfo) {
            options.auth = Auth::Basic { username, password };
        }
        let connector = connector().map_err(|detail| Error::Malformed {
            url: base.clone(),
            detail,
        })?;
        let authorization = match &options.auth {
            Auth::None => None,
            Auth::Bearer(token) => Some(format!("Bearer {}", token.trim())),
            Auth::Basic { username, password } => Some(basic(username, password)),
        };
        Ok(Self {
            base,
            authorization,
            source: Source::Http(HyperClient::builder(TokioExecutor::new()).build(connector)),
            options,
        })
    }

    /// A client that reaches the server named `shown` through `transport`; `options.url` is
    /// only shown, its credentials are sent as `options.auth` says.
    #[must_use]
    pub fn through(transport: std::sync::Arc<dyn Transport>, options: Options) -> Self {
        let authorization = match &options.auth {
            Auth::None => None,
            Auth::Bearer(token) => Some(format!("Bearer {}", token.trim())),
            Auth::Basic { username, password } => Some(basic(username, password)),
        };
        Self {
            base: gantry_core::markdown::redact_userinfo(options.url.trim())
                .trim_end_matches('/')
                .to_owned(),
            authorization,
            source: Source::Transport(transport),
            options,
        }
    }

    fn recorded(path: &str, options: Options) -> Result<Self, Error> {
        let malformed = |detail: String| Error::Malformed {
            url: format!("file:{path}"),
            detail,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|error| malformed(format!("cannot read the recording: {error}")))?;
        let recording: Value = serde_json::from_str(&text)
            .map_err(|error| malformed(format!("the recording is not JSON: {error}")))?;
        let answers = recording["answers"]
            .as_array()
            .ok_or_else(|| malformed("the recording has no `answers` list".to_owned()))?;
        let mut by_key = BTreeMap::new();
        for answer in answers {
            let key = answer["key"]
                .as_str()
                .ok_or_else(|| malformed("an answer has no `key`".to_owned()))?;
            by_key.insert(key.to_owned(), answer["response"].clone());
        }
        Ok(Self {
            base: format!("file:{path}"),
            authorization: None,
            source: Source::Recorded(std::sync::Arc::new(by_key)),
            options,
        })
    }

    /// `query_range` from `start` to `end` every `step` seconds.
    pub async fn query_range(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step: u32,
    ) -> Result<Answer, Error> {
        let (start, end, step) = (start.to_string(), end.to_string(), step.to_string());
        self.ask(
            "query_range",
            query,
            &[("start", &start), ("end", &end), ("step", &step)],
        )
        .await
    }

    /// An instant `query` at `time`.
    pub async fn query(&self, query: &str, time: i64) -> Result<Answer, Error> {
        let time = time.to_string();
        self.ask("query", query, &[("time", &time)]).await
    }

    async fn ask(
        &self,
        endpoint: &str,
        query: &str,
        params: &[(&str, &str)],
    ) -> Result<Answer, Error> {
        let url = format!("{}/api/v1/{endpoint}", self.base);
        if let Source::Recorded(answers) = &self.source {
            return self.replay(answers, &url, endpoint, query, params);
        }
        let timeout = format!("{}ms", self.options.timeout.as_millis().max(1));
        let mut pairs = vec![("query", query)];
        pairs.extend_from_slice(params);
        pairs.push(("timeout", &timeout));
        let body = Bytes::from(form(&pairs));
        let attempts = self.options.attempts.max(1);
        let mut wait = self.options.backoff;
        let mut last = String::new();
        for attempt in 1..=attempts {
            match self.attempt(endpoint, &url, query, body.clone()).await {
                Ok(answer) => return Ok(answer),
                Err(Attempt::Final(error)) => return Err(error),
                Err(Attempt::Retry(why)) => last = why,
            }
            if attempt < attempts {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
        Err(Error::Unavailable {
            url,
            attempts,
            last,
        })
    }

    /// The recorded answer to this query.
    fn replay(
        &self,
        answers: &BTreeMap<String, Value>,
        url: &str,
        endpoint: &str,
        query: &str,
        params: &[(&str, &str)],
    ) -> Result<Answer, Error> {
        let mut form = vec![("query", query)];
        form.extend_from_slice(params);
        let key = recording_key(endpoint, &form);
        let envelope = answers.get(&key).ok_or_else(|| Error::Query {
            query: query.to_owned(),
            error_type: "not_recorded".to_owned(),
            message: format!("{} holds no answer to it ({key})", self.base),
            status: 404,
        })?;
        if envelope["status"] == "error" {
            return Err(Error::Query {
                query: query.to_owned(),
                error_type: envelope["errorType"]
                    .as_str()
                    .unwrap_or("unknown")
                    .to_owned(),
                message: envelope["error"].as_str().unwrap_or_default().to_owned(),
                status: 400,
            });
        }
        parse(envelope).map_err(|detail| Error::Malformed {
            url: url.to_owned(),
            detail,
        })
    }

    /// One POST, through the client's source: its status and body.
    async fn exchange(
        &self,
        endpoint: &str,
        url: &str,
        body: Bytes,
    ) -> Result<(u16, Bytes), Attempt> {
        let http = match &self.source {
            Source::Http(http) => http,
            Source::Transport(transport) => {
                return transport
                    .post(&format!("/api/v1/{endpoint}"), body)
                    .await
                    .map_err(Attempt::Retry);
            }
            Source::Recorded(_) => unreachable!("a recording answers without a request"),
        };
        let mut request = http::Request::post(url)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .header(
                http::header::USER_AGENT,
                concat!("gantry/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(authorization) = &self.authorization {
            request = request.header(http::header::AUTHORIZATION, authorization);
        }
        let request = request
            .body(Full::new(body))
            .map_err(|error| Attempt::Final(Error::Url(format!("{url}: {error}"))))?;
        let response = http.request(request).await.map_err(|error| {
            use std::error::Error as _;
            let cause = error
                .source()
                .map_or_else(|| error.to_string(), ToString::to_string);
            Attempt::Retry(format!("connection failed: {cause}"))
        })?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|error| Attempt::Retry(format!("the answer broke off: {error}")))?
            .to_bytes();
        Ok((status, bytes))
    }

    async fn attempt(
        &self,
        endpoint: &str,
        url: &str,
        query: &str,
        body: Bytes,
    ) -> Result<Answer, Attempt> {
        let (status, bytes) =
            tokio::time::timeout(self.options.timeout, self.exchange(endpoint, url, body))
                .await
                .map_err(|_| {
                    Attempt::Retry(format!(
                        "no answer within {} ms",
                        self.options.timeout.as_millis()
                    ))
                })??;
        match status {
            401 | 403 => {
                return Err(Attempt::Final(Error::Unauthorized {
                    url: url.to_owned(),
                    status,
                }));
            }
            404 => {
                return Err(Attempt::Final(Error::NotFound {
                    url: url.to_owned(),
                }));
            }
            _ => {}
        }
        let envelope: Option<Value> = serde_json::from_slice(&bytes).ok();
        let Some(envelope) = envelope.filter(Value::is_object) else {
            if status == 429 || status >= 500 {
                return Err(Attempt::Retry(format!("HTTP {status}")));
            }
            return Err(Attempt::Final(Error::Malformed {
                url: url.to_owned(),
                detail: format!("HTTP {status} with a body that is not JSON"),
            }));
        };
        if envelope["status"] == "error" {
            let error_type = envelope["errorType"]
                .as_str()
                .unwrap_or("unknown")
                .to_owned();
            let message = envelope["error"].as_str().unwrap_or_default().to_owned();
            if matches!(
                error_type.as_str(),
                "timeout" | "canceled" | "internal" | "unavailable"
            ) || status == 429
                || status >= 500
            {
                return Err(Attempt::Retry(format!(
                    "HTTP {status} {error_type}: {message}"
                )));
            }
            return Err(Attempt::Final(Error::Query {
                query: query.to_owned(),
                error_type,
                message,
                status,
            }));
        }
        if status == 429 || status >= 500 {
            return Err(Attempt::Retry(format!("HTTP {status}")));
        }
        parse(&envelope).map_err(|detail| {
            Attempt::Final(Error::Malformed {
                url: url.to_owned(),
                detail,
            })
        })
    }
}

/// A sample `[time, "value"]`.
fn sample(point: &Value) -> Result<(f64, f64), String> {
    let pair = point.as_array().filter(|pair| pair.len() == 2);
    let parsed =
        pair.and_then(|pair| Some((pair[0].as_f64()?, pair[1].as_str()?.parse::<f64>().ok()?)));
    parsed.ok_or_else(|| format!("a sample {point} is not [time, \"value\"]"))
}

/// The `data` of a success envelope.
fn parse(envelope: &Value) -> Result<Answer, String> {
    if envelope["status"] != "success" {
        return Err(format!(
            "status {} is neither success nor error",
            envelope["status"]
        ));
    }
    let data = &envelope["data"];
    let warnings: Vec<String> = envelope["warnings"]
        .as_array()
        .map(|warnings| {
            warnings
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if data["resultType"] == "scalar" {
        // `[time, "value"]`: one series without labels.
        return Ok(Answer {
            series: vec![Series {
                labels: BTreeMap::new(),
                samples: vec![sample(&data["result"])?],
            }],
            warnings,
        });
    }
    let result = data["result"]
        .as_array()
        .ok_or_else(|| "data.result is not a list".to_owned())?;
    let kind = data["resultType"].as_str().unwrap_or_default();
    let mut series = Vec::with_capacity(result.len());
    for item in result {
        let labels = item["metric"]
            .as_object()
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let samples = match kind {
            "matrix" => item["values"]
                .as_array()
                .ok_or_else(|| "a matrix series has no values".to_owned())?
                .iter()
                .map(sample)
                .collect::<Result<Vec<_>, _>>()?,
            "vector" => vec![sample(&item["value"])?],
            other => {
                return Err(format!(
                    "resultType {other:?} is not a vector, a matrix or a scalar"
                ));
            }
        };
        series.push(Series { labels, samples });
    }
    Ok(Answer { series, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_is_read_with_its_special_values() {
        let envelope: Value = serde_json::from_str(
            r#"{"status":"success","warnings":["partial"],"data":{"resultType":"matrix","result":[
                {"metric":{"job":"a"},"values":[[1735689600,"1.5"],[1735689660.5,"NaN"],[1735689720,"+Inf"]]}]}}"#,
        )
        .unwrap();
        let answer = parse(&envelope).unwrap();
        assert_eq!(answer.warnings, ["partial"]);
        let samples = &answer.series[0].samples;
        assert_eq!(samples[0], (1_735_689_600.0, 1.5));
        assert!(samples[1].1.is_nan() && samples[2].1 == f64::INFINITY);
        assert_eq!(answer.series[0].labels["job"], "a");
        let broken: Value = serde_json::from_str(
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"values":[[1,2]]}]}}"#,
        )
        .unwrap();
        assert!(
            parse(&broken)
                .unwrap_err()
                .contains("is not [time, \"value\"]")
        );
    }

    #[test]
    fn credentials_never_show_in_debug_output() {
        let shown = format!("{:?}", Auth::Bearer("s3cret".to_owned()));
        assert!(!shown.contains("s3cret"));
    }
}
