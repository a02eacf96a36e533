//! The REST client: octocrab for transport and authentication, our policy for retries.
//!
//! octocrab's own retry layer re-sends POSTs after a 5xx, which can create a comment twice, so
//! it is off (default features off) and every request goes through [`RestClient::send`], which
//! applies [`RetryPolicy`](crate::retry::RetryPolicy) and never re-sends a POST whose fate is
//! unclear: it reports [`GitHubError::Unclear`] and the caller looks before writing again.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt as _;
use octocrab::Octocrab;
use serde_json::Value;

use crate::GitHubError;
use crate::clock::Clock;
use crate::retry::{Answer, RetryPolicy, classify};

/// A file a pull request changes, as `GET /pulls/{number}/files` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    /// `filename`.
    pub filename: String,
    /// `previous_filename`, for a renamed file.
    pub previous_filename: Option<String>,
    /// `status` (`added`, `removed`, `modified`, `renamed`, …).
    pub status: String,
    /// `patch`: the file's hunks, when GitHub gives them.
    pub patch: Option<String>,
}
/// Where and how to reach GitHub.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// REST base, e.g. `https://api.github.com` or `https://ghe.example.com/api/v3`.
    pub api_url: String,
    /// GraphQL address.
    pub graphql_url: String,
    /// Installation or personal token.
    pub token: String,
}

/// A REST client with Gantry's retry policy.
pub struct RestClient {
    octocrab: Octocrab,
    /// For GraphQL: octocrab puts its base address's path in front of every path that lacks
    /// it, so on GHES (`…/api/v3`) `/api/graphql` would become `/api/v3/api/graphql`; this
    /// one's base is the GraphQL address's origin alone.
    graphql_octocrab: Octocrab,
    /// For downloads: the token, no default `Accept` (each request says what it takes).
    raw_octocrab: std::sync::OnceLock<Octocrab>,
    /// For where GitHub redirects a download (blob storage): no token, ever.
    anonymous_octocrab: std::sync::OnceLock<Octocrab>,
    token: String,
    api_url: String,
    graphql_url: String,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
    jitter_state: Mutex<u64>,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        formatter
            .debug_struct("RestClient")
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

/// One decoded answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Headers (for `Link`).
    pub headers: HeaderMap,
    /// JSON body (`Null` when empty).
    pub body: Value,
}

impl RestClient {
    /// A client for `endpoint`, waiting on `clock`.
    pub fn new(
        endpoint: &Endpoint,
        clock: Arc<dyn Clock>,
        policy: RetryPolicy,
    ) -> Result<Self, GitHubError> {
        let invalid = |detail: String| GitHubError::Configuration { detail };
        let build = |base: &str, what: &str| build_client(base, what, Some(&endpoint.token), true);
        let octocrab = build(endpoint.api_url.as_str(), "GITHUB_API_URL")?;
        let graphql_origin = endpoint
            .graphql_url
            .parse::<http::Uri>()
            .ok()
            .and_then(|uri| Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?)))
            .ok_or_else(|| {
                invalid(format!(
                    "GITHUB_GRAPHQL_URL `{}` is not a valid address",
                    gantry_core::markdown::redact_userinfo(&endpoint.graphql_url)
                ))
            })?;
        let graphql_octocrab = build(&graphql_origin, "GITHUB_GRAPHQL_URL")?;
        let seed = clock
            .now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9_7F4A_7C15, |d| {
                u64::from(d.subsec_nanos()) ^ d.as_secs()
            });
        Ok(Self {
            octocrab,
            graphql_octocrab,
            raw_octocrab: std::sync::OnceLock::new(),
            anonymous_octocrab: std::sync::OnceLock::new(),
            token: endpoint.token.clone(),
            api_url: endpoint.api_url.trim_end_matches('/').to_owned(),
            graphql_url: endpoint.graphql_url.clone(),
            clock,
            policy,
            jitter_state: Mutex::new(seed | 1),
        })
    }

    /// `base` scaled by a random factor in `[½, 1½)`, so jobs that collided do not collide again.
    pub fn jitter(&self, base: Duration) -> Duration {
        base.mul_f64(0.5 + self.unit())
    }

    /// The clock this client waits on.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The REST base.
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// A number in `[0, 1)` for jitter (splitmix64; no cryptographic need).
    fn unit(&self) -> f64 {
        let mut state = self
            .jitter_state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        #[expect(clippy::cast_precision_loss, reason = "53 bits are plenty for jitter")]
        let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
        unit
    }

    /// The client for a download: the token without a default `Accept`, or none at all.
    fn download_client(&self, anonymous: bool) -> Result<&Octocrab, String> {
        let cell = if anonymous {
            &self.anonymous_octocrab
        } else {
            &self.raw_octocrab
        };
        if let Some(client) = cell.get() {
            return Ok(client);
        }
        let token = (!anonymous).then_some(self.token.as_str());
        let built = build_client(&self.api_url, "GITHUB_API_URL", token, false)
            .map_err(|error| error.to_string())?;
        Ok(cell.get_or_init(|| built))
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &str,
        body: Option<&Value>,
        download: Option<&Download<'_>>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), String> {
        let uri: http::Uri = url
            .parse()
            .map_err(|error| format!("bad address {url}: {error}"))?;
        let response = if let Some(download) = download {
            let mut headers = HeaderMap::new();
            headers.insert(
                http::header::ACCEPT,
                http::HeaderValue::from_str(download.accept)
                    .map_err(|error| format!("bad Accept {}: {error}", download.accept))?,
            );
            self.download_client(download.anonymous)?
                ._get_with_headers(uri, Some(headers))
                .await
        } else {
            let client = if url == self.graphql_url {
                &self.graphql_octocrab
            } else {
                &self.octocrab
            };
            match *method {
                Method::GET => client._get(uri).await,
                Method::POST => client._post(uri, body).await,
                Method::PATCH => client._patch(uri, body).await,
                Method::PUT => client._put(uri, body).await,
                _ => return Err(format!("method {method} is not used by gantry")),
            }
        }
        .map_err(|error| transport_detail(&error))?;
        let (parts, body) = response.into_parts();
        let bytes = body
            .collect()
            .await
            .map_err(|error| transport_detail(&error))?
            .to_bytes();
        Ok((parts.status, parts.headers, bytes))
    }

    /// Sends one request under the retry policy. `path` is relative to the API base
    /// (`/repos/o/r/...`) or an absolute address (a `Link` header's). `operation` names the
    /// request in errors ("create the PR comment").
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        operation: &str,
    ) -> Result<Reply, GitHubError> {
        let idempotent = method != Method::POST;
        self.send_with(method, path, body, operation, idempotent)
            .await
    }

    /// As [`RestClient::send`], saying whether the request may be re-sent after an unclear
    /// failure (a PATCH that appends annotations may not: it would append them twice).
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        operation: &str,
        idempotent: bool,
    ) -> Result<Reply, GitHubError> {
        let (status, headers, bytes) = self
            .exchange(method, path, body, operation, idempotent, None)
            .await?;
        Ok(Reply {
            status,
            headers,
            body: decoded(&bytes),
        })
    }

    /// GETs `path` (relative to the API base, or an absolute address) as bytes, asking for
    /// `accept`, under the retry policy. A redirect is answered, not followed (its `Location`
    /// is in the headers); `anonymous` sends no token (where GitHub redirects a download to).
    pub async fn download(
        &self,
        path: &str,
        accept: &str,
        anonymous: bool,
        operation: &str,
    ) -> Result<(StatusCode, HeaderMap, Bytes), GitHubError> {
        let download = Download { accept, anonymous };
        self.exchange(Method::GET, path, None, operation, true, Some(&download))
            .await
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        operation: &str,
        idempotent: bool,
        download: Option<&Download<'_>>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), GitHubError> {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.api_url)
        };
        let mut rate_waits = 0u32;
        let mut server_retries = 0u32;
        loop {
            let failure = match self.attempt(&method, &url, body, download).await {
                Err(detail) => detail,
                Ok((status, headers, bytes)) => {
                    if download.is_some() && status.is_redirection() {
                        return Ok((status, headers, bytes));
                    }
                    let message = error_message(&decoded(&bytes));
                    match classify(status, &headers, &message, self.clock.now()) {
                        Answer::Success => return Ok((status, headers, bytes)),
                        Answer::RateLimited(wait) => {
                            rate_waits += 1;
                            if rate_waits > self.policy.rate_limit_waits
                                || wait > self.policy.longest_wait
                            {
                                return Err(GitHubError::RateLimited {
                                    operation: operation.to_owned(),
                                    wait_seconds: wait.as_secs(),
                                });
                            }
                            tracing::warn!(
                                operation,
                                seconds = wait.as_secs(),
                                "rate limited by GitHub; waiting"
                            );
                            self.clock.sleep(wait).await;
                            continue;
                        }
                        Answer::NotPermitted => {
                            return Err(GitHubError::NotPermitted {
                                operation: operation.to_owned(),
                                message,
                            });
                        }
                        Answer::Rejected => {
                            return Err(GitHubError::Rejected {
                                operation: operation.to_owned(),
                                status: status.as_u16(),
                                message,
                            });
                        }
                        Answer::ServerError => format!("GitHub answered {status}: {message}"),
                    }
                }
            };
            if !idempotent {
                return Err(GitHubError::Unclear {
                    operation: operation.to_owned(),
                    detail: failure,
                });
            }
            server_retries += 1;
            if server_retries > self.policy.server_retries {
                return Err(GitHubError::Unavailable {
                    operation: operation.to_owned(),
                    attempts: server_retries,
                    detail: failure,
                });
            }
            let wait = self.policy.backoff(server_retries, self.unit());
            tracing::warn!(operation, attempt = server_retries, detail = %failure, "retrying after a failure");
            self.clock.sleep(wait).await;
        }
    }

    /// GETs every page of a list (following `Link: rel="next"`), 100 items a page.
    /// `items_key` names the array inside a wrapping object (`check_runs`).
    pub async fn list_all(
        &self,
        path: &str,
        items_key: Option<&str>,
        operation: &str,
    ) -> Result<Vec<Value>, GitHubError> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut next = Some(format!("{path}{separator}per_page=100"));
        let mut items = Vec::new();
        let mut pages = 0u32;
        while let Some(address) = next.take() {
            pages += 1;
            if pages > 1_000 {
                return Err(GitHubError::InvalidResponse {
                    operation: operation.to_owned(),
                    detail: "more than 1000 pages; stopping".to_owned(),
                });
            }
            let reply = self.send(Method::GET, &address, None, operation).await?;
            let page = match items_key {
                Some(key) => reply.body.get(key).cloned().unwrap_or(Value::Null),
                None => reply.body,
            };
            let Value::Array(page) = page else {
                return Err(GitHubError::InvalidResponse {
                    operation: operation.to_owned(),
                    detail: "expected a list".to_owned(),
                });
            };
            items.extend(page);
            next = next_link(&reply.headers);
        }
        Ok(items)
    }

    /// The paths a pull request changes (`GET /repos/{owner}/{repo}/pulls/{number}/files`, every
    /// page; GitHub lists at most 3,000). A listed file without a `filename` is an invalid
    /// response, not a file to skip.
    pub async fn pull_request_files(
        &self,
        owner: &str,
        repository: &str,
        number: u64,
    ) -> Result<Vec<String>, GitHubError> {
        Ok(self
            .pull_request_changes(owner, repository, number)
            .await?
            .into_iter()
            .map(|file| file.filename)
            .collect())
    }

    /// The files a pull request changes with how (`GET /repos/{owner}/{repo}/pulls/{number}/files`,
    /// every page): name, former name, status and `patch` (which GitHub leaves out of large
    /// files).
    pub async fn pull_request_changes(
        &self,
        owner: &str,
        repository: &str,
        number: u64,
    ) -> Result<Vec<ChangedFile>, GitHubError> {
        let operation = "list the pull request's files";
        let path = format!("/repos/{owner}/{repository}/pulls/{number}/files");
        let text =
            |file: &Value, key: &str| file.get(key).and_then(Value::as_str).map(str::to_owned);
        self.list_all(&path, None, operation)
            .await?
            .iter()
            .map(|file| {
                let filename =
                    text(file, "filename").ok_or_else(|| GitHubError::InvalidResponse {
                        operation: operation.to_owned(),
                        detail: "a listed file has no `filename`".to_owned(),
                    })?;
                Ok(ChangedFile {
                    filename,
                    previous_filename: text(file, "previous_filename"),
                    status: text(file, "status").unwrap_or_else(|| "modified".to_owned()),
                    patch: text(file, "patch"),
                })
            })
            .collect()
    }

    /// A pull request's head: its commit and the repository (`owner/name`) it comes from
    /// (`GET /repos/{owner}/{repo}/pulls/{number}`). `None` when there is no such pull request.
    pub async fn pull_request_head(
        &self,
        owner: &str,
        repository: &str,
        number: u64,
    ) -> Result<Option<(String, String)>, GitHubError> {
        let operation = "read the pull request";
        let path = format!("/repos/{owner}/{repository}/pulls/{number}");
        let pull = match self.send(Method::GET, &path, None, operation).await {
            Ok(reply) => reply.body,
            Err(GitHubError::Rejected { status: 404, .. }) => return Ok(None),
            Err(error) => return Err(error),
        };
        let field = |pointer: &str| {
            pull.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| GitHubError::InvalidResponse {
                    operation: operation.to_owned(),
                    detail: format!("no `{pointer}` in the pull request"),
                })
        };
        // A head repository deleted since (`repo: null`) matches no run.
        let repository = pull
            .pointer("/head/repo/full_name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok(Some((field("/head/sha")?, repository)))
    }

    /// The login the token writes as: GraphQL's `viewer`, which answers for a user's token and
    /// an App installation token alike (`github-actions[bot]` for the Actions token), else
    /// `GET /user` (a user's token where GraphQL is not reachable). `None` when neither says.
    /// A read, so it may be sent again after a failure.
    pub async fn viewer_login(&self) -> Result<Option<String>, GitHubError> {
        let body = serde_json::json!({"query": "query { viewer { login } }"});
        let graphql_url = self.graphql_url.clone();
        let operation = "learn who the token writes as";
        let login_in = |value: &Value, pointer: &str| {
            value
                .pointer(pointer)
                .and_then(Value::as_str)
                .filter(|login| !login.is_empty())
                .map(str::to_owned)
        };
        match self
            .send_with(Method::POST, &graphql_url, Some(&body), operation, true)
            .await
        {
            Ok(reply) => {
                if let Some(login) = login_in(&reply.body, "/data/viewer/login") {
                    return Ok(Some(login));
                }
            }
            Err(GitHubError::NotPermitted { .. } | GitHubError::Rejected { .. }) => {}
            Err(other) => return Err(other),
        }
        match self.send(Method::GET, "/user", None, operation).await {
            Ok(reply) => Ok(login_in(&reply.body, "/login")),
            Err(GitHubError::NotPermitted { .. } | GitHubError::Rejected { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// A GraphQL request; GraphQL errors become [`GitHubError::Rejected`].
    pub async fn graphql(
        &self,
        query: &str,
        variables: Value,
        operation: &str,
    ) -> Result<Value, GitHubError> {
        let body = serde_json::json!({"query": query, "variables": variables});
        let graphql_url = self.graphql_url.clone();
        let reply = self
            .send(Method::POST, &graphql_url, Some(&body), operation)
            .await?;
        if let Some(errors) = reply.body.get("errors").and_then(Value::as_array) {
            if !errors.is_empty() {
                let message = errors
                    .iter()
                    .filter_map(|error| error.get("message").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(GitHubError::Rejected {
                    operation: operation.to_owned(),
                    status: reply.status.as_u16(),
                    message,
                });
            }
        }
        Ok(reply.body.get("data").cloned().unwrap_or(Value::Null))
    }
}

/// How a download is asked for.
struct Download<'a> {
    accept: &'a str,
    anonymous: bool,
}

/// A body as JSON (`Null` when empty, a string when it is not JSON).
fn decoded(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
    }
}

/// An octocrab client for `base`: with `token` when given, with GitHub's JSON `Accept` when
/// `json_accept`.
fn build_client(
    base: &str,
    what: &str,
    token: Option<&str>,
    json_accept: bool,
) -> Result<Octocrab, GitHubError> {
    let invalid = |detail: String| GitHubError::Configuration { detail };
    let mut builder = Octocrab::builder()
        .base_uri(base)
        .map_err(|error| {
            invalid(format!(
                "{what} `{}` is not a valid address: {error}",
                gantry_core::markdown::redact_userinfo(base)
            ))
        })?
        .add_header(
            http::header::USER_AGENT,
            format!("gantry/{}", env!("CARGO_PKG_VERSION")),
        );
    if let Some(token) = token {
        builder = builder.personal_token(token.to_owned()).add_header(
            http::HeaderName::from_static("x-github-api-version"),
            "2022-11-28".to_owned(),
        );
    }
    if json_accept {
        builder = builder.add_header(
            http::header::ACCEPT,
            "application/vnd.github+json".to_owned(),
        );
    }
    builder
        .set_connect_timeout(Some(Duration::from_secs(10)))
        .set_read_timeout(Some(Duration::from_secs(60)))
        .set_write_timeout(Some(Duration::from_secs(60)))
        .build()
        .map_err(|error| invalid(format!("cannot build the HTTP client: {error}")))
}

/// The transport failure in words, without octocrab's nested "source" repetitions.
fn transport_detail(error: &dyn std::error::Error) -> String {
    let mut detail = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !detail.contains(&text) {
            detail.push_str(": ");
            detail.push_str(&text);
        }
        source = cause.source();
    }
    detail
}

/// GitHub's `message` plus each `errors[].message`.
fn error_message(body: &Value) -> String {
    let mut message = body
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| body.as_str().map(|text| text.chars().take(200).collect()))
        .unwrap_or_default();
    for detail in body
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|error| error.get("message").and_then(Value::as_str))
    {
        message.push_str(": ");
        message.push_str(detail);
    }
    message
}

/// The `rel="next"` address of a `Link` header.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(http::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (address, relations) = part.split_once(';')?;
        relations
            .split(';')
            .any(|relation| relation.trim() == "rel=\"next\"")
            .then(|| {
                address
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::LINK,
            "<https://api.github.com/x?page=3>; rel=\"next\", <https://api.github.com/x?page=9>; rel=\"last\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://api.github.com/x?page=3")
        );
        headers.insert(
            http::header::LINK,
            "<https://a/x?page=1>; rel=\"prev\"".parse().unwrap(),
        );
        assert_eq!(next_link(&headers), None);
    }

    #[test]
    fn error_messages_include_the_details() {
        let body = serde_json::json!({"message": "Validation Failed", "errors": [{"message": "Body is too long"}]});
        assert_eq!(error_message(&body), "Validation Failed: Body is too long");
    }
}
