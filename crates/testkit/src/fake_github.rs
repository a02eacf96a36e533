//! A stateful fake of the GitHub REST API on 127.0.0.1.
//!
//! It serves the endpoints Gantry calls with GitHub's behaviour where it matters to us: real
//! pagination with `Link` headers, GitHub's limits and error bodies (422 for a body over 65,536
//! characters or more than 50 annotations), request bodies validated against the contract in
//! `shared/contracts/`, authentication required, and injectable faults — 429, secondary and
//! primary rate limits, 5xx before or after the write, a write whose response is lost, and the
//! read-only token's 403. Every request and every contract violation is recorded.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::contract::Contract;

/// GitHub's limit for comment and issue bodies, in characters.
pub const BODY_LIMIT_CHARS: usize = 65_536;
/// GitHub's limit for a check run's summary and text, in characters.
pub const CHECK_TEXT_LIMIT_CHARS: usize = 65_535;
const SARIF_GZIP_LIMIT: usize = 10 * 1024 * 1024;

/// A fault to inject into matching requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// 429 with an optional `Retry-After` (seconds).
    TooManyRequests {
        /// Seconds to wait.
        retry_after: Option<u64>,
    },
    /// 403 "secondary rate limit", with an optional `Retry-After`.
    SecondaryRateLimit {
        /// Seconds to wait.
        retry_after: Option<u64>,
    },
    /// 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` this many seconds ahead.
    PrimaryRateLimit {
        /// Seconds until the reset.
        reset_in: u64,
    },
    /// A 5xx; with `after_write` the write happens first (a proxy that failed on the way back).
    ServerError {
        /// 500, 502, 503, 504…
        status: u16,
        /// Whether the request is carried out before the error is returned.
        after_write: bool,
    },
    /// The request is carried out, then the connection is dropped without a response.
    LoseResponse,
    /// 403 "Resource not accessible by integration", as a fork PR's read-only token gets.
    ReadOnlyToken,
}

/// Which requests a fault hits, and how many times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// A substring of the path, e.g. `/comments`.
    pub path_contains: String,
    /// What goes wrong.
    pub kind: FaultKind,
    /// How many matching requests it hits.
    pub times: u32,
}

impl Fault {
    /// A fault for the next `times` requests matching `method` and `path_contains`.
    pub fn new(method: &str, path_contains: &str, kind: FaultKind, times: u32) -> Self {
        Self {
            method: method.to_owned(),
            path_contains: path_contains.to_owned(),
            kind,
            times,
        }
    }
}

/// An issue or PR comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// REST id.
    pub id: u64,
    /// GraphQL node id.
    pub node_id: String,
    /// Issue or PR number.
    pub issue_number: u64,
    /// Markdown body.
    pub body: String,
    /// Author login.
    pub author: String,
    /// Hidden through GraphQL `minimizeComment`.
    pub minimized: bool,
    /// How many times it was edited.
    pub edits: u32,
}

/// An issue (or the issue side of a PR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// `open` or `closed`.
    pub state: String,
    /// Label names.
    pub labels: Vec<String>,
    /// Whether it is a pull request.
    pub pull_request: bool,
    /// Head commit, for PRs.
    pub head_sha: Option<String>,
    /// Author login.
    pub author: String,
}

/// Who a token writes as. A token the fake was not told of is the Actions token: an App
/// installation token of `github-actions[bot]`, which `GET /user` refuses and GraphQL's
/// `viewer` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenIdentity {
    /// The login comments and issues created with the token carry.
    pub login: String,
    /// An App installation token (`GET /user` answers 403) rather than a user's.
    pub app: bool,
}

/// The Actions token's identity.
pub const ACTIONS_BOT: &str = "github-actions[bot]";

/// A check run with every annotation sent to it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRun {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Commit.
    pub head_sha: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// Conclusion once completed.
    pub conclusion: Option<String>,
    /// `output.title`.
    pub title: String,
    /// `output.summary`.
    pub summary: String,
    /// `output.text`.
    pub text: Option<String>,
    /// All annotations, in the order received.
    pub annotations: Vec<Value>,
    /// `external_id`.
    pub external_id: Option<String>,
}

/// A SARIF upload, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct SarifUpload {
    /// Upload id.
    pub id: String,
    /// Commit.
    pub commit_sha: String,
    /// Ref.
    pub git_ref: String,
    /// The SARIF document, un-gzipped.
    pub sarif: Value,
    /// Status requests answered so far.
    pub polls: u32,
}

/// A deployment status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentStatus {
    /// Id.
    pub id: u64,
    /// Deployment.
    pub deployment_id: u64,
    /// State.
    pub state: String,
    /// Description.
    pub description: String,
    /// `environment_url`.
    pub environment_url: Option<String>,
    /// `log_url`.
    pub log_url: Option<String>,
}

/// A deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// Id.
    pub id: u64,
    /// The ref deployed.
    pub git_ref: String,
    /// The environment.
    pub environment: String,
    /// Description.
    pub description: String,
    /// `production_environment`.
    pub production: bool,
    /// `transient_environment`.
    pub transient: bool,
    /// `payload`, as sent (`{}` when none).
    pub payload: Value,
}

/// A code-scanning analysis: one run of one SARIF upload, as GitHub keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Id.
    pub id: u64,
    /// `refs/heads/main`, `refs/pull/7/merge`.
    pub git_ref: String,
    /// The commit analysed.
    pub commit_sha: String,
    /// The category (`automationDetails.id` up to its last `/`).
    pub category: String,
    /// The tool's name (the run's driver).
    pub tool: String,
    /// The run, as uploaded: what `Accept: application/sarif+json` answers with.
    pub run: Value,
}

/// A workflow run, as far as artifacts need one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRun {
    /// Id.
    pub id: u64,
    /// `push`, `pull_request`, `schedule`, …
    pub event: String,
    /// `success`, `failure`, … (`None` while it runs).
    pub conclusion: Option<String>,
    /// The branch it ran on (a pull request's head branch for `pull_request`).
    pub head_branch: String,
    /// The commit it ran on.
    pub head_sha: String,
    /// The repository the head commit is in (a fork's for a fork's pull request).
    pub head_repository_id: u64,
}

/// The base repository's id in the fake.
pub const REPOSITORY_ID: u64 = 42;

/// An artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// The run that uploaded it.
    pub run_id: u64,
    /// Expired (its download answers 410).
    pub expired: bool,
    /// Its zip archive.
    pub zip: Vec<u8>,
    /// `created_at`.
    pub created_at: String,
}

/// One request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Method.
    pub method: String,
    /// Path as sent (with a GHES `/api/v3` prefix if any).
    pub path: String,
    /// Query string.
    pub query: String,
    /// Status answered (0 when the response was dropped).
    pub status: u16,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
}

/// Everything the fake knows.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Issue and PR comments.
    pub comments: Vec<Comment>,
    /// Issues and PRs.
    pub issues: Vec<Issue>,
    /// The repository's label names.
    pub labels: Vec<String>,
    /// Labels that came into being only because an issue named them (GitHub creates them,
    /// uncoloured): a test that expects labels made first asserts this is 0.
    pub labels_created_with_issues: u32,
    /// Check runs.
    pub check_runs: Vec<CheckRun>,
    /// SARIF uploads.
    pub sarif_uploads: Vec<SarifUpload>,
    /// Deployments.
    pub deployments: Vec<Deployment>,
    /// Deployment statuses.
    pub deployment_statuses: Vec<DeploymentStatus>,
    /// Files changed per PR.
    pub pull_files: BTreeMap<u64, Vec<Value>>,
    /// Pull requests by number: (head sha, head repository `owner/name`).
    pub pulls: BTreeMap<u64, (String, String)>,
    /// Tokens other than the Actions token, by the token's text.
    pub tokens: BTreeMap<String, TokenIdentity>,
    /// Whether GraphQL `viewer` is refused (an old GHES, a proxy that blocks GraphQL).
    pub viewer_unavailable: bool,
    /// Code-scanning analyses, oldest first (a SARIF upload adds one per run).
    pub analyses: Vec<Analysis>,
    /// Whether code scanning is off (its endpoints answer 403, as without Advanced Security).
    pub code_scanning_disabled: bool,
    /// Workflow runs by id.
    pub runs: BTreeMap<u64, WorkflowRun>,
    /// Artifacts, oldest first.
    pub artifacts: Vec<Artifact>,
    /// Downloads from artifact storage that carried an `Authorization` header (a token sent
    /// where GitHub's redirect led, which storage refuses): a test asserts this is 0.
    pub storage_requests_with_token: u32,
    /// Every request.
    pub requests: Vec<RecordedRequest>,
    /// Request bodies the contract rejects: a test should assert this is empty.
    pub contract_violations: Vec<String>,
    faults: Vec<Fault>,
    next_id: u64,
}

impl State {
    /// Who `authorization` (`Bearer X` / `token X`) writes as.
    pub fn identity_of(&self, authorization: Option<&str>) -> TokenIdentity {
        let token = authorization
            .and_then(|header| header.split_once(' '))
            .map_or("", |(_, token)| token.trim());
        self.tokens.get(token).cloned().unwrap_or(TokenIdentity {
            login: ACTIONS_BOT.to_owned(),
            app: true,
        })
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Comments on one issue or PR, oldest first.
    pub fn comments_on(&self, issue_number: u64) -> Vec<&Comment> {
        self.comments
            .iter()
            .filter(|comment| comment.issue_number == issue_number)
            .collect()
    }

    /// Requests with this method whose path contains `fragment`.
    pub fn requests_to(&self, method: &str, fragment: &str) -> usize {
        self.requests
            .iter()
            .filter(|request| request.method == method && request.path.contains(fragment))
            .count()
    }
}

struct Shared {
    state: Mutex<State>,
    contract: Contract,
    base_url: String,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running fake; stops when dropped.
pub struct FakeGitHub {
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
    address: SocketAddr,
}

impl std::fmt::Debug for FakeGitHub {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FakeGitHub")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl FakeGitHub {
    /// Starts the fake on a free port of 127.0.0.1, on a runtime of its own (so it serves
    /// synchronous tests and async tests alike).
    ///
    /// # Panics
    /// When the contract cannot be loaded or no port can be bound: the test cannot run.
    pub fn start() -> Self {
        let contract_path = crate::shared_dir().join("contracts/github-rest-subset.json");
        let contract = Contract::load(&contract_path).unwrap_or_else(|error| panic!("{error}"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime for the fake GitHub");
        // Bound with std so that starting the fake inside another runtime does not block on it.
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        std_listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let address = std_listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            contract,
            base_url: format!("http://{address}"),
        });
        let serving = Arc::clone(&shared);
        runtime.spawn(async move {
            let listener =
                tokio::net::TcpListener::from_std(std_listener).expect("listener on the runtime");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = Arc::clone(&serving);
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let shared = Arc::clone(&shared);
                        async move { handle(&shared, request).await }
                    });
                    // A dropped response (LoseResponse) ends the connection with an error.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            shared,
            runtime: Some(runtime),
            address,
        }
    }

    /// `http://127.0.0.1:<port>`: use as `GITHUB_API_URL` (GHES style `…/api/v3` works too).
    pub fn url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// A copy of the current state.
    pub fn state(&self) -> State {
        self.shared.lock().clone()
    }

    /// Adds a fault.
    pub fn inject(&self, fault: Fault) {
        self.shared.lock().faults.push(fault);
    }

    /// Removes every fault not yet spent.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Creates an open pull request with this number and head commit.
    pub fn add_pull_request(&self, number: u64, head_sha: &str) {
        self.add_pull_request_from(number, head_sha, "octo/repo");
    }

    /// Makes `GET /pulls/{number}` answer with this head, and nothing else know the pull
    /// request (its comments answer 404, as a deleted one's would).
    pub fn set_pull_head(&self, number: u64, head_sha: &str, head_repository: &str) {
        self.shared
            .lock()
            .pulls
            .insert(number, (head_sha.to_owned(), head_repository.to_owned()));
    }

    /// Adds a pull request whose head comes from `head_repository` (`owner/name`: a fork's, or
    /// `octo/repo`, the harness's own).
    pub fn add_pull_request_from(&self, number: u64, head_sha: &str, head_repository: &str) {
        self.shared
            .lock()
            .pulls
            .insert(number, (head_sha.to_owned(), head_repository.to_owned()));
        self.shared.lock().issues.push(Issue {
            number,
            title: format!("PR {number}"),
            body: String::new(),
            state: "open".to_owned(),
            labels: Vec::new(),
            pull_request: true,
            head_sha: Some(head_sha.to_owned()),
            author: "octocat".to_owned(),
        });
    }

    /// Makes `token` write as `login`: a user's token (`app: false`, `GET /user` answers) or
    /// another App's installation token.
    pub fn add_token(&self, token: &str, login: &str, app: bool) {
        self.shared.lock().tokens.insert(
            token.to_owned(),
            TokenIdentity {
                login: login.to_owned(),
                app,
            },
        );
    }

    /// Makes GraphQL's `viewer` query fail, as where GraphQL is not reachable.
    pub fn refuse_viewer(&self) {
        self.shared.lock().viewer_unavailable = true;
    }

    /// Creates an issue by `author` and returns its number.
    pub fn add_issue(&self, author: &str, title: &str, body: &str, state: &str) -> u64 {
        let mut guard = self.shared.lock();
        let number = guard
            .issues
            .iter()
            .map(|issue| issue.number)
            .max()
            .unwrap_or(0)
            + 1;
        guard.issues.push(Issue {
            number,
            title: title.to_owned(),
            body: body.to_owned(),
            state: state.to_owned(),
            labels: Vec::new(),
            pull_request: false,
            head_sha: None,
            author: author.to_owned(),
        });
        number
    }

    /// Replaces an issue's labels, as a person editing it would.
    ///
    /// # Panics
    /// When there is no such issue.
    pub fn set_issue_labels(&self, number: u64, labels: &[&str]) {
        let mut guard = self.shared.lock();
        let issue = guard
            .issues
            .iter_mut()
            .find(|issue| issue.number == number)
            .expect("the issue exists");
        issue.labels = labels.iter().map(|label| (*label).to_owned()).collect();
    }

    /// Replaces an issue's body, as a person editing it would.
    ///
    /// # Panics
    /// When there is no such issue.
    pub fn set_issue_body(&self, number: u64, body: &str) {
        let mut guard = self.shared.lock();
        let issue = guard
            .issues
            .iter_mut()
            .find(|issue| issue.number == number)
            .expect("the issue exists");
        body.clone_into(&mut issue.body);
    }

    /// Adds a comment by `author` (someone else, to fill pages before ours or to pose as us;
    /// [`ACTIONS_BOT`] for one an earlier run of Gantry left).
    pub fn add_comment(&self, issue_number: u64, author: &str, body: &str) -> u64 {
        let mut guard = self.shared.lock();
        let id = guard.id();
        guard.comments.push(Comment {
            id,
            node_id: format!("IC_{id}"),
            issue_number,
            body: body.to_owned(),
            author: author.to_owned(),
            minimized: false,
            edits: 0,
        });
        id
    }

    /// Sets the files a PR changes.
    pub fn set_pull_files(&self, number: u64, files: &[&str]) {
        let listed: Vec<Value> = files
            .iter()
            .map(|file| json!({"filename": file, "status": "modified", "additions": 1, "deletions": 0, "changes": 1}))
            .collect();
        self.set_pull_file_entries(number, listed);
    }

    /// Adds a code-scanning analysis of `run` (a SARIF run) and returns its id.
    pub fn add_analysis(&self, git_ref: &str, commit_sha: &str, run: Value) -> u64 {
        let mut state = self.shared.lock();
        let id = state.id();
        let analysis = analysis_of(id, git_ref, commit_sha, run);
        state.analyses.push(analysis);
        id
    }

    /// Turns code scanning off for the repository.
    pub fn disable_code_scanning(&self) {
        self.shared.lock().code_scanning_disabled = true;
    }

    /// Adds a workflow run.
    pub fn add_run(&self, run: WorkflowRun) {
        self.shared.lock().runs.insert(run.id, run);
    }

    /// Adds an artifact of run `run_id` holding `zip`, created after every earlier one, and
    /// returns its id.
    pub fn add_artifact(&self, name: &str, run_id: u64, expired: bool, zip: Vec<u8>) -> u64 {
        let mut state = self.shared.lock();
        let id = state.id();
        let created_at = format!("2026-12-01T00:{:02}:{:02}Z", (id / 60) % 60, id % 60);
        state.artifacts.push(Artifact {
            id,
            name: name.to_owned(),
            run_id,
            expired,
            zip,
            created_at,
        });
        id
    }

    /// Sets the files a PR changes as GitHub lists them (`filename`, `status`, `patch`, …).
    pub fn set_pull_file_entries(&self, number: u64, files: Vec<Value>) {
        self.shared.lock().pull_files.insert(number, files);
    }
}

type Answer = Result<Response<Full<Bytes>>, std::io::Error>;

fn respond(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn error_body(message: &str, documentation: &str) -> Value {
    json!({"message": message, "documentation_url": format!("https://docs.github.com/rest/{documentation}")})
}

fn validation_failed(resource: &str, field: &str, message: &str) -> Response<Full<Bytes>> {
    respond(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({
            "message": "Validation Failed",
            "errors": [{"resource": resource, "code": "custom", "field": field, "message": message}],
            "documentation_url": "https://docs.github.com/rest",
            "status": "422"
        }),
    )
}

/// A rate-limit refusal, with `Retry-After` when given.
fn rate_limited(
    status: StatusCode,
    message: &str,
    documentation: &str,
    retry_after: Option<u64>,
) -> Response<Full<Bytes>> {
    let mut response = respond(status, &error_body(message, documentation));
    if let Some(seconds) = retry_after {
        response.headers_mut().insert("retry-after", seconds.into());
    }
    response
}

fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

async fn handle(shared: &Shared, request: Request<Incoming>) -> Answer {
    let method = request.method().clone();
    let raw_path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    let authorization = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let accept = request
        .headers()
        .get(http::header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body_bytes = request
        .into_body()
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();

    let path = raw_path
        .strip_prefix("/api/v3")
        .map_or_else(|| raw_path.clone(), str::to_owned);
    let path = if raw_path == "/api/graphql" {
        "/graphql".to_owned()
    } else {
        path
    };
    let record = |status: u16| {
        shared.lock().requests.push(RecordedRequest {
            method: method.to_string(),
            path: raw_path.clone(),
            query: query.clone(),
            status,
            authorization: authorization.clone(),
        });
    };

    if let Some(id) = path.strip_prefix("/_storage/artifacts/") {
        // Blob storage: a signed address, and a request that also carries a token is refused.
        if authorization.is_some() {
            shared.lock().storage_requests_with_token += 1;
            record(400);
            return Ok(respond(
                StatusCode::BAD_REQUEST,
                &json!({"message": "Authentication information is not given in the correct format."}),
            ));
        }
        let zip = id.parse::<u64>().ok().and_then(|id| {
            shared
                .lock()
                .artifacts
                .iter()
                .find(|artifact| artifact.id == id)
                .map(|artifact| artifact.zip.clone())
        });
        let Some(zip) = zip.filter(|_| query.contains("sig=")) else {
            record(403);
            return Ok(respond(
                StatusCode::FORBIDDEN,
                &json!({"message": "signature required"}),
            ));
        };
        record(200);
        let mut response = Response::new(Full::new(Bytes::from(zip)));
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/zip"),
        );
        return Ok(response);
    }

    if authorization.is_none() {
        record(401);
        return Ok(respond(
            StatusCode::UNAUTHORIZED,
            &error_body(
                "Requires authentication",
                "overview/authenticating-to-the-rest-api",
            ),
        ));
    }

    let body: Option<Value> = if body_bytes.is_empty() {
        None
    } else if let Ok(value) = serde_json::from_slice(&body_bytes) {
        Some(value)
    } else {
        record(400);
        return Ok(respond(
            StatusCode::BAD_REQUEST,
            &error_body("Problems parsing JSON", "overview"),
        ));
    };

    if path != "/graphql" && method != Method::GET {
        let violations = shared
            .contract
            .validate_request(method.as_str(), &path, body.as_ref());
        if !violations.is_empty() {
            let message = format!("Invalid request.\n\n{}", violations.join("\n"));
            shared
                .lock()
                .contract_violations
                .extend(violations.iter().map(|v| format!("{method} {path}: {v}")));
            record(422);
            return Ok(respond(
                StatusCode::UNPROCESSABLE_ENTITY,
                &error_body(&message, "overview"),
            ));
        }
    }

    let fault = {
        let mut state = shared.lock();
        let position = state.faults.iter().position(|fault| {
            fault.times > 0
                && fault.method == method.as_str()
                && path.contains(&fault.path_contains)
        });
        position.map(|index| {
            state.faults[index].times -= 1;
            state.faults[index].kind.clone()
        })
    };
    let is_write = method != Method::GET;
    match fault {
        Some(FaultKind::TooManyRequests { retry_after }) => {
            record(429);
            return Ok(rate_limited(
                StatusCode::TOO_MANY_REQUESTS,
                "API rate limit exceeded",
                "overview/rate-limits-for-the-rest-api",
                retry_after,
            ));
        }
        Some(FaultKind::SecondaryRateLimit { retry_after }) => {
            record(403);
            return Ok(rate_limited(
                StatusCode::FORBIDDEN,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000.",
                "overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                retry_after,
            ));
        }
        Some(FaultKind::PrimaryRateLimit { reset_in }) => {
            record(403);
            let mut response = respond(
                StatusCode::FORBIDDEN,
                &error_body(
                    "API rate limit exceeded for installation ID 1.",
                    "overview/rate-limits-for-the-rest-api",
                ),
            );
            let headers = response.headers_mut();
            headers.insert("x-ratelimit-limit", 5000.into());
            headers.insert("x-ratelimit-remaining", 0.into());
            headers.insert("x-ratelimit-reset", (now_epoch() + reset_in).into());
            return Ok(response);
        }
        Some(FaultKind::ReadOnlyToken) if is_write => {
            record(403);
            return Ok(respond(
                StatusCode::FORBIDDEN,
                &error_body(
                    "Resource not accessible by integration",
                    "issues/comments#create-an-issue-comment",
                ),
            ));
        }
        Some(FaultKind::ServerError {
            status,
            after_write: false,
        }) => {
            record(status);
            return Ok(respond(
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                &json!({"message": "Server Error"}),
            ));
        }
        _ => {}
    }

    let response = route(
        shared,
        &method,
        &path,
        &query,
        body.as_ref(),
        authorization.as_deref(),
        accept.as_deref(),
    );
    match fault {
        Some(FaultKind::LoseResponse) => {
            record(0);
            Err(std::io::Error::other("response lost on purpose"))
        }
        Some(FaultKind::ServerError { status, .. }) => {
            record(status);
            Ok(respond(
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                &json!({"message": "Server Error"}),
            ))
        }
        _ => {
            record(response.status().as_u16());
            Ok(response)
        }
    }
}

/// `%20` and friends decoded (a label name in a query).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' && at + 2 < bytes.len() + 1 {
            if let Some(byte) = text
                .get(at + 1..at + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            {
                out.push(byte);
                at += 3;
                continue;
            }
        }
        out.push(if bytes[at] == b'+' { b' ' } else { bytes[at] });
        at += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_value<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == key)
        .map(|(_, value)| value)
}

/// One page of `items` with GitHub's `Link` header.
fn page(
    shared: &Shared,
    path: &str,
    query: &str,
    items: Vec<Value>,
    wrap: Option<&str>,
) -> Response<Full<Bytes>> {
    let per_page = query_value(query, "per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = query_value(query, "page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len();
    let last = total.div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let body = match wrap {
        Some(key) => json!({"total_count": total, key: slice}),
        None => Value::Array(slice),
    };
    let mut response = respond(StatusCode::OK, &body);
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            !pair.is_empty() && !pair.starts_with("page=") && !pair.starts_with("per_page=")
        })
        .collect();
    let link_to = |target: usize| {
        let mut parts = kept.clone();
        let per = format!("per_page={per_page}");
        let number = format!("page={target}");
        parts.push(&per);
        parts.push(&number);
        format!("<{}{}?{}>", shared.base_url, path, parts.join("&"))
    };
    let mut links = Vec::new();
    if page < last {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", link_to(1)));
        links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
    }
    if !links.is_empty() {
        if let Ok(value) = http::HeaderValue::from_str(&links.join(", ")) {
            response.headers_mut().insert(http::header::LINK, value);
        }
    }
    response
}

fn comment_json(shared: &Shared, owner_repo: &str, comment: &Comment) -> Value {
    json!({
        "id": comment.id,
        "node_id": comment.node_id,
        "body": comment.body,
        "user": user_json(&comment.author),
        "performed_via_github_app": app_json(&comment.author),
        "html_url": format!("https://github.com/{owner_repo}/pull/{}#issuecomment-{}", comment.issue_number, comment.id),
        "url": format!("{}/repos/{owner_repo}/issues/comments/{}", shared.base_url, comment.id),
        "issue_url": format!("{}/repos/{owner_repo}/issues/{}", shared.base_url, comment.issue_number),
        "author_association": "NONE",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z"
    })
}

/// A `user` object as GitHub shapes it: a `[bot]` login is an App's bot user.
fn user_json(login: &str) -> Value {
    json!({"login": login, "type": if login.ends_with("[bot]") { "Bot" } else { "User" }})
}

/// `performed_via_github_app`: the App whose bot wrote it, else null.
fn app_json(login: &str) -> Value {
    login
        .strip_suffix("[bot]")
        .map_or(Value::Null, |slug| json!({"slug": slug, "name": slug}))
}

fn issue_json(owner_repo: &str, issue: &Issue) -> Value {
    let mut value = json!({
        "id": issue.number * 1000,
        "number": issue.number,
        "title": issue.title,
        "body": issue.body,
        "state": issue.state,
        "labels": issue.labels.iter().map(|name| json!({"name": name})).collect::<Vec<_>>(),
        "html_url": format!("https://github.com/{owner_repo}/issues/{}", issue.number),
        "user": user_json(&issue.author),
    });
    if issue.pull_request {
        value["pull_request"] = json!({"url": format!("https://api.github.com/repos/{owner_repo}/pulls/{}", issue.number)});
    }
    value
}

fn check_run_json(owner_repo: &str, run: &CheckRun) -> Value {
    json!({
        "id": run.id,
        "name": run.name,
        "head_sha": run.head_sha,
        "status": run.status,
        "conclusion": run.conclusion,
        "external_id": run.external_id,
        "html_url": format!("https://github.com/{owner_repo}/runs/{}", run.id),
        "output": {"title": run.title, "summary": run.summary, "text": run.text, "annotations_count": run.annotations.len()}
    })
}

fn text_of(body: Option<&Value>, pointer: &str) -> Option<String> {
    body.and_then(|b| b.pointer(pointer))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn check_output_limits(body: Option<&Value>) -> Option<Response<Full<Bytes>>> {
    for field in ["summary", "text"] {
        if let Some(text) = text_of(body, &format!("/output/{field}")) {
            let length = text.chars().count();
            if length > CHECK_TEXT_LIMIT_CHARS {
                return Some(validation_failed(
                    "CheckRun",
                    &format!("output.{field}"),
                    &format!(
                        "Only {CHECK_TEXT_LIMIT_CHARS} characters are allowed; {length} were supplied."
                    ),
                ));
            }
        }
    }
    None
}

fn body_too_long(resource: &str, body: &str) -> Option<Response<Full<Bytes>>> {
    (body.chars().count() > BODY_LIMIT_CHARS).then(|| {
        validation_failed(
            resource,
            "body",
            &format!("Body is too long (maximum is {BODY_LIMIT_CHARS} characters)"),
        )
    })
}

fn not_found() -> Response<Full<Bytes>> {
    respond(StatusCode::NOT_FOUND, &error_body("Not Found", "overview"))
}

fn route(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: &str,
    body: Option<&Value>,
    authorization: Option<&str>,
    accept: Option<&str>,
) -> Response<Full<Bytes>> {
    let identity = shared.lock().identity_of(authorization);
    if path == "/graphql" {
        return graphql(shared, body, &identity);
    }
    if (method.as_str(), path) == ("GET", "/user") {
        // An installation token is no user: GitHub refuses it this endpoint.
        if identity.app {
            return respond(
                StatusCode::FORBIDDEN,
                &error_body(
                    "Resource not accessible by integration",
                    "users/users#get-the-authenticated-user",
                ),
            );
        }
        return respond(
            StatusCode::OK,
            &json!({"login": identity.login, "id": 1, "type": "User"}),
        );
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let ["repos", owner, repo, rest @ ..] = segments.as_slice() else {
        return not_found();
    };
    let owner_repo = format!("{owner}/{repo}");
    let number = |text: &str| text.parse::<u64>().ok();
    let mut state = shared.lock();
    match (method.as_str(), rest) {
        ("GET", ["issues", n, "comments"]) => {
            let Some(n) = number(n) else {
                return not_found();
            };
            let items = state
                .comments_on(n)
                .into_iter()
                .map(|comment| comment_json(shared, &owner_repo, comment))
                .collect();
            drop(state);
            page(shared, path, query, items, None)
        }
        ("POST", ["issues", n, "comments"]) => {
            let Some(n) = number(n) else {
                return not_found();
            };
            if !state.issues.iter().any(|issue| issue.number == n) {
                return not_found();
            }
            let text = text_of(body, "/body").unwrap_or_default();
            if let Some(rejection) = body_too_long("IssueComment", &text) {
                return rejection;
            }
            let id = state.id();
            let comment = Comment {
                id,
                node_id: format!("IC_{id}"),
                issue_number: n,
                body: text,
                author: identity.login.clone(),
                minimized: false,
                edits: 0,
            };
            let value = comment_json(shared, &owner_repo, &comment);
            state.comments.push(comment);
            respond(StatusCode::CREATED, &value)
        }
        ("PATCH", ["issues", "comments", id]) => {
            let text = text_of(body, "/body").unwrap_or_default();
            if let Some(rejection) = body_too_long("IssueComment", &text) {
                return rejection;
            }
            let Some(comment) =
                number(id).and_then(|id| state.comments.iter_mut().find(|c| c.id == id))
            else {
                return not_found();
            };
            comment.body = text;
            comment.edits += 1;
            let value = comment_json(shared, &owner_repo, comment);
            respond(StatusCode::OK, &value)
        }
        ("GET", ["issues"]) => {
            let wanted = query_value(query, "state").unwrap_or("open");
            // `labels=a,b`: issues that carry every one of them.
            let labels: Vec<String> = query_value(query, "labels")
                .map(|list| list.split(',').map(percent_decoded).collect())
                .unwrap_or_default();
            let mut items: Vec<&Issue> = state
                .issues
                .iter()
                .filter(|issue| wanted == "all" || issue.state == wanted)
                .filter(|issue| {
                    labels.iter().all(|label| {
                        issue
                            .labels
                            .iter()
                            .any(|have| have.eq_ignore_ascii_case(label))
                    })
                })
                .collect();
            items.sort_by_key(|issue| std::cmp::Reverse(issue.number));
            let items = items
                .into_iter()
                .map(|issue| issue_json(&owner_repo, issue))
                .collect();
            drop(state);
            page(shared, path, query, items, None)
        }
        ("GET", ["labels"]) => {
            let items = state
                .labels
                .iter()
                .enumerate()
                .map(|(index, name)| json!({"id": index + 1, "name": name, "color": "ededed", "default": false}))
                .collect();
            drop(state);
            page(shared, path, query, items, None)
        }
        ("POST", ["labels"]) => {
            let Some(name) = text_of(body, "/name").filter(|name| !name.is_empty()) else {
                return validation_failed("Label", "name", "missing_field");
            };
            if state
                .labels
                .iter()
                .any(|existing| existing.eq_ignore_ascii_case(&name))
            {
                return validation_failed("Label", "name", "already_exists");
            }
            state.labels.push(name.clone());
            let color = text_of(body, "/color").unwrap_or_else(|| "ededed".to_owned());
            respond(
                StatusCode::CREATED,
                &json!({"id": state.labels.len(), "name": name, "color": color, "default": false}),
            )
        }
        ("POST", ["issues"]) => {
            let text = text_of(body, "/body").unwrap_or_default();
            if let Some(rejection) = body_too_long("Issue", &text) {
                return rejection;
            }
            let number = state
                .issues
                .iter()
                .map(|issue| issue.number)
                .max()
                .unwrap_or(0)
                + 1;
            let labels: Vec<String> = body
                .and_then(|b| b.get("labels"))
                .and_then(Value::as_array)
                .map(|labels| {
                    labels
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            for label in &labels {
                if !state
                    .labels
                    .iter()
                    .any(|existing: &String| existing.eq_ignore_ascii_case(label))
                {
                    state.labels.push(label.clone());
                    state.labels_created_with_issues += 1;
                }
            }
            let issue = Issue {
                number,
                title: text_of(body, "/title").unwrap_or_default(),
                body: text,
                state: "open".to_owned(),
                labels,
                pull_request: false,
                head_sha: None,
                author: identity.login.clone(),
            };
            let value = issue_json(&owner_repo, &issue);
            state.issues.push(issue);
            respond(StatusCode::CREATED, &value)
        }
        ("PATCH", ["issues", n]) => {
            if let Some(text) = text_of(body, "/body") {
                if let Some(rejection) = body_too_long("Issue", &text) {
                    return rejection;
                }
            }
            let Some(issue) =
                number(n).and_then(|n| state.issues.iter_mut().find(|i| i.number == n))
            else {
                return not_found();
            };
            if let Some(title) = text_of(body, "/title") {
                issue.title = title;
            }
            if let Some(text) = text_of(body, "/body") {
                issue.body = text;
            }
            if let Some(new_state) = text_of(body, "/state") {
                issue.state = new_state;
            }
            let value = issue_json(&owner_repo, issue);
            respond(StatusCode::OK, &value)
        }
        ("GET", ["pulls", n]) => {
            let Some((head_sha, head_repository)) = number(n).and_then(|n| state.pulls.get(&n))
            else {
                return not_found();
            };
            // The fields of GitHub's pull request the edge reads, as the REST API shapes them.
            let (head_owner, head_name) = head_repository
                .split_once('/')
                .unwrap_or((head_repository.as_str(), ""));
            let value = json!({
                "number": number(n),
                "state": "open",
                "head": {
                    "sha": head_sha,
                    "ref": "topic",
                    "repo": {"full_name": head_repository, "name": head_name, "owner": {"login": head_owner}},
                },
                "base": {"ref": "main", "repo": {"full_name": owner_repo}},
            });
            respond(StatusCode::OK, &value)
        }
        ("GET", ["pulls", n, "files"]) => {
            let Some(n) = number(n) else {
                return not_found();
            };
            let items = state
                .pull_files
                .get(&n)
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            drop(state);
            page(shared, path, query, items, None)
        }
        ("POST", ["check-runs"]) => {
            if let Some(rejection) = check_output_limits(body) {
                return rejection;
            }
            let id = state.id();
            let conclusion = text_of(body, "/conclusion");
            let run = CheckRun {
                id,
                name: text_of(body, "/name").unwrap_or_default(),
                head_sha: text_of(body, "/head_sha").unwrap_or_default(),
                status: if conclusion.is_some() {
                    "completed".to_owned()
                } else {
                    text_of(body, "/status").unwrap_or_else(|| "queued".to_owned())
                },
                conclusion,
                title: text_of(body, "/output/title").unwrap_or_default(),
                summary: text_of(body, "/output/summary").unwrap_or_default(),
                text: text_of(body, "/output/text"),
                annotations: body
                    .and_then(|b| b.pointer("/output/annotations"))
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
                external_id: text_of(body, "/external_id"),
            };
            let value = check_run_json(&owner_repo, &run);
            state.check_runs.push(run);
            respond(StatusCode::CREATED, &value)
        }
        ("PATCH", ["check-runs", id]) => {
            if let Some(rejection) = check_output_limits(body) {
                return rejection;
            }
            let Some(run) =
                number(id).and_then(|id| state.check_runs.iter_mut().find(|r| r.id == id))
            else {
                return not_found();
            };
            if let Some(conclusion) = text_of(body, "/conclusion") {
                run.conclusion = Some(conclusion);
                "completed".clone_into(&mut run.status);
            } else if let Some(status) = text_of(body, "/status") {
                run.status = status;
            }
            if let Some(title) = text_of(body, "/output/title") {
                run.title = title;
            }
            if let Some(summary) = text_of(body, "/output/summary") {
                run.summary = summary;
            }
            if let Some(text) = text_of(body, "/output/text") {
                run.text = Some(text);
            }
            if let Some(more) = body
                .and_then(|b| b.pointer("/output/annotations"))
                .and_then(Value::as_array)
            {
                run.annotations.extend(more.iter().cloned());
            }
            let value = check_run_json(&owner_repo, run);
            respond(StatusCode::OK, &value)
        }
        ("GET", ["commits", git_ref, "check-runs"]) => {
            let name =
                query_value(query, "check_name").map(|n| n.replace("%20", " ").replace('+', " "));
            let items = state
                .check_runs
                .iter()
                .filter(|run| {
                    run.head_sha == *git_ref && name.as_deref().is_none_or(|n| n == run.name)
                })
                .map(|run| check_run_json(&owner_repo, run))
                .collect();
            drop(state);
            page(shared, path, query, items, Some("check_runs"))
        }
        ("GET", ["check-runs", id, "annotations"]) => {
            let Some(run) = number(id).and_then(|id| state.check_runs.iter().find(|r| r.id == id))
            else {
                return not_found();
            };
            let items = run.annotations.clone();
            drop(state);
            page(shared, path, query, items, None)
        }
        ("POST", ["code-scanning", "sarifs"]) => {
            let encoded = text_of(body, "/sarif").unwrap_or_default();
            let Ok(gzipped) = base64::engine::general_purpose::STANDARD.decode(encoded.as_bytes())
            else {
                return respond(
                    StatusCode::BAD_REQUEST,
                    &error_body("Invalid sarif: not base64", "code-scanning"),
                );
            };
            if gzipped.len() > SARIF_GZIP_LIMIT {
                return respond(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &error_body("Payload Too Large", "code-scanning"),
                );
            }
            let mut json_text = String::new();
            if flate2::read::GzDecoder::new(gzipped.as_slice())
                .read_to_string(&mut json_text)
                .is_err()
            {
                return respond(
                    StatusCode::BAD_REQUEST,
                    &error_body("Invalid sarif: not gzip", "code-scanning"),
                );
            }
            let sarif: Value = serde_json::from_str(&json_text).unwrap_or(Value::Null);
            if state.code_scanning_disabled {
                return code_scanning_off();
            }
            let commit = text_of(body, "/commit_sha").unwrap_or_default();
            let git_ref = text_of(body, "/ref").unwrap_or_default();
            for run in sarif
                .get("runs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let analysis_id = state.id();
                let analysis = analysis_of(analysis_id, &git_ref, &commit, run.clone());
                state.analyses.push(analysis);
            }
            let id = format!("sarif-{}", state.id());
            state.sarif_uploads.push(SarifUpload {
                id: id.clone(),
                commit_sha: text_of(body, "/commit_sha").unwrap_or_default(),
                git_ref: text_of(body, "/ref").unwrap_or_default(),
                sarif,
                polls: 0,
            });
            respond(
                StatusCode::ACCEPTED,
                &json!({"id": id, "url": format!("{}/repos/{owner_repo}/code-scanning/sarifs/{id}", shared.base_url)}),
            )
        }
        ("GET", ["code-scanning", "sarifs", id]) => {
            let Some(upload) = state.sarif_uploads.iter_mut().find(|u| u.id == *id) else {
                return not_found();
            };
            upload.polls += 1;
            let problems = sarif_problems(&upload.sarif);
            let (status, errors) = if upload.polls == 1 {
                ("pending", Value::Null)
            } else if problems.is_empty() {
                ("complete", Value::Null)
            } else {
                ("failed", json!(problems))
            };
            respond(
                StatusCode::OK,
                &json!({"processing_status": status, "analyses_url": format!("{}/repos/{owner_repo}/code-scanning/analyses?sarif_id={id}", shared.base_url), "errors": errors}),
            )
        }
        ("GET", ["code-scanning", "analyses"]) => {
            if state.code_scanning_disabled {
                return code_scanning_off();
            }
            let wanted = query_value(query, "ref").map(percent_decoded);
            let wanted = wanted.map(|name| {
                if name.starts_with("refs/") {
                    name
                } else {
                    format!("refs/heads/{name}")
                }
            });
            let items: Vec<Value> = state
                .analyses
                .iter()
                .rev()
                .filter(|analysis| wanted.as_ref().is_none_or(|name| analysis.git_ref == *name))
                .map(|analysis| analysis_json(&owner_repo, &shared.base_url, analysis))
                .collect();
            drop(state);
            if items.is_empty() {
                return respond(
                    StatusCode::NOT_FOUND,
                    &error_body(
                        "no analysis found",
                        "code-scanning/code-scanning#list-code-scanning-analyses-for-a-repository",
                    ),
                );
            }
            page(shared, path, query, items, None)
        }
        ("GET", ["code-scanning", "analyses", id]) => {
            if state.code_scanning_disabled {
                return code_scanning_off();
            }
            let Some(analysis) =
                number(id).and_then(|id| state.analyses.iter().find(|a| a.id == id))
            else {
                return not_found();
            };
            if accept.is_some_and(|accept| accept.contains("application/sarif+json")) {
                let mut run = analysis.run.clone();
                // GitHub adds its alert numbers to what it gives back.
                for (index, result) in run
                    .get_mut("results")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    if let Some(result) = result.as_object_mut() {
                        let properties = result.entry("properties").or_insert_with(|| json!({}));
                        if let Some(properties) = properties.as_object_mut() {
                            properties.insert("github/alertNumber".to_owned(), json!(index + 1));
                        }
                    }
                }
                let mut response = respond(
                    StatusCode::OK,
                    &json!({"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}),
                );
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("application/sarif+json"),
                );
                return response;
            }
            respond(
                StatusCode::OK,
                &analysis_json(&owner_repo, &shared.base_url, analysis),
            )
        }
        ("GET", ["actions", "artifacts"]) => {
            let wanted = query_value(query, "name").map(percent_decoded);
            let items: Vec<Value> = state
                .artifacts
                .iter()
                .rev()
                .filter(|artifact| wanted.as_ref().is_none_or(|name| artifact.name == *name))
                .map(|artifact| {
                    artifact_json(
                        &owner_repo,
                        &shared.base_url,
                        artifact,
                        state.runs.get(&artifact.run_id),
                    )
                })
                .collect();
            drop(state);
            page(shared, path, query, items, Some("artifacts"))
        }
        ("GET", ["actions", "artifacts", id, format]) => {
            let Some(artifact) =
                number(id).and_then(|id| state.artifacts.iter().find(|a| a.id == id))
            else {
                return not_found();
            };
            if *format != "zip" {
                return not_found();
            }
            if artifact.expired {
                return respond(
                    StatusCode::GONE,
                    &error_body(
                        "Artifact has expired",
                        "actions/artifacts#download-an-artifact",
                    ),
                );
            }
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::FOUND;
            if let Ok(location) = http::HeaderValue::from_str(&format!(
                "{}/_storage/artifacts/{}?sig=fake-signature",
                shared.base_url, artifact.id
            )) {
                response
                    .headers_mut()
                    .insert(http::header::LOCATION, location);
            }
            response
        }
        ("GET", ["actions", "runs", id]) => {
            let Some(run) = number(id).and_then(|id| state.runs.get(&id)) else {
                return not_found();
            };
            respond(StatusCode::OK, &run_json(&owner_repo, run))
        }
        ("POST", ["deployments"]) => {
            let id = state.id();
            let environment =
                text_of(body, "/environment").unwrap_or_else(|| "production".to_owned());
            let deployment = Deployment {
                id,
                git_ref: text_of(body, "/ref").unwrap_or_default(),
                // GitHub's default: true for an environment named `production`, else false.
                production: body
                    .and_then(|b| b.pointer("/production_environment"))
                    .and_then(Value::as_bool)
                    .unwrap_or(environment == "production"),
                environment,
                description: text_of(body, "/description").unwrap_or_default(),
                transient: body
                    .and_then(|b| b.pointer("/transient_environment"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                payload: body
                    .and_then(|b| b.get("payload"))
                    .cloned()
                    .unwrap_or_else(|| json!({})),
            };
            let value = deployment_json(&deployment);
            state.deployments.push(deployment);
            respond(StatusCode::CREATED, &value)
        }
        ("GET", ["deployments"]) => {
            let environment = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("environment="))
                .map(str::to_owned);
            let mut items: Vec<Value> = state
                .deployments
                .iter()
                .filter(|d| environment.as_ref().is_none_or(|e| *e == d.environment))
                .map(deployment_json)
                .collect();
            items.reverse();
            drop(state);
            page(shared, path, query, items, None)
        }
        ("POST", ["deployments", id, "statuses"]) => {
            let Some(deployment_id) = number(id) else {
                return not_found();
            };
            let status_id = state.id();
            let status = DeploymentStatus {
                id: status_id,
                deployment_id,
                state: text_of(body, "/state").unwrap_or_default(),
                description: text_of(body, "/description").unwrap_or_default(),
                environment_url: text_of(body, "/environment_url"),
                log_url: text_of(body, "/log_url"),
            };
            let value = deployment_status_json(&status);
            state.deployment_statuses.push(status);
            respond(StatusCode::CREATED, &value)
        }
        ("GET", ["deployments", id, "statuses"]) => {
            let Some(deployment_id) = number(id) else {
                return not_found();
            };
            let mut items: Vec<Value> = state
                .deployment_statuses
                .iter()
                .filter(|status| status.deployment_id == deployment_id)
                .map(deployment_status_json)
                .collect();
            items.reverse();
            drop(state);
            page(shared, path, query, items, None)
        }
        _ => not_found(),
    }
}

fn analysis_of(id: u64, git_ref: &str, commit_sha: &str, run: Value) -> Analysis {
    // GitHub's category is the automation id up to its last `/`; no id, no category.
    let automation = run
        .pointer("/automationDetails/id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let category = automation
        .rfind('/')
        .map_or_else(String::new, |at| automation[..=at].to_owned());
    Analysis {
        id,
        git_ref: git_ref.to_owned(),
        commit_sha: commit_sha.to_owned(),
        category,
        tool: run
            .pointer("/tool/driver/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        run,
    }
}

fn analysis_json(owner_repo: &str, base_url: &str, analysis: &Analysis) -> Value {
    json!({
        "ref": analysis.git_ref,
        "commit_sha": analysis.commit_sha,
        "analysis_key": ".github/workflows/ci.yml:security",
        "environment": "{}",
        "category": analysis.category,
        "error": "",
        "created_at": format!("2026-12-01T00:00:{:02}Z", analysis.id % 60),
        "results_count": analysis.run.get("results").and_then(Value::as_array).map_or(0, Vec::len),
        "rules_count": 0,
        "id": analysis.id,
        "url": format!("{base_url}/repos/{owner_repo}/code-scanning/analyses/{}", analysis.id),
        "sarif_id": format!("sarif-{}", analysis.id),
        "tool": {"name": analysis.tool, "guid": null, "version": null},
        "deletable": true,
        "warning": "",
    })
}

fn artifact_json(
    owner_repo: &str,
    base_url: &str,
    artifact: &Artifact,
    run: Option<&WorkflowRun>,
) -> Value {
    json!({
        "id": artifact.id,
        "node_id": format!("MDg6QXJ0aWZhY3Q{}", artifact.id),
        "name": artifact.name,
        "size_in_bytes": artifact.zip.len(),
        "url": format!("{base_url}/repos/{owner_repo}/actions/artifacts/{}", artifact.id),
        "archive_download_url": format!("{base_url}/repos/{owner_repo}/actions/artifacts/{}/zip", artifact.id),
        "expired": artifact.expired,
        "created_at": artifact.created_at,
        "expires_at": "2027-03-01T00:00:00Z",
        "updated_at": artifact.created_at,
        "digest": null,
        "workflow_run": run.map(|run| json!({
            "id": run.id,
            "repository_id": REPOSITORY_ID,
            "head_repository_id": run.head_repository_id,
            "head_branch": run.head_branch,
            "head_sha": run.head_sha,
        })),
    })
}

fn run_json(owner_repo: &str, run: &WorkflowRun) -> Value {
    json!({
        "id": run.id,
        "name": "CI",
        "event": run.event,
        "status": if run.conclusion.is_some() { "completed" } else { "in_progress" },
        "conclusion": run.conclusion,
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "repository": {"id": REPOSITORY_ID, "full_name": owner_repo},
        "head_repository": {"id": run.head_repository_id},
    })
}

fn code_scanning_off() -> Response<Full<Bytes>> {
    respond(
        StatusCode::FORBIDDEN,
        &error_body(
            "Advanced Security must be enabled for this repository to use code scanning.",
            "code-scanning/code-scanning",
        ),
    )
}

fn deployment_json(deployment: &Deployment) -> Value {
    json!({"id": deployment.id, "ref": deployment.git_ref, "environment": deployment.environment,
        "description": deployment.description, "production_environment": deployment.production,
        "transient_environment": deployment.transient, "task": "deploy",
        "payload": deployment.payload})
}

fn deployment_status_json(status: &DeploymentStatus) -> Value {
    json!({"id": status.id, "state": status.state, "description": status.description,
        "environment_url": status.environment_url, "log_url": status.log_url})
}

/// What code scanning would refuse while processing an upload.
fn sarif_problems(sarif: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if sarif.get("version").and_then(Value::as_str) != Some("2.1.0") {
        problems.push("SARIF version must be 2.1.0".to_owned());
    }
    let runs = sarif
        .get("runs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if runs.len() > 20 {
        problems.push(format!("{} runs, more than the 20 allowed", runs.len()));
    }
    let mut identities = std::collections::BTreeSet::new();
    for run in &runs {
        let tool = run
            .pointer("/tool/driver/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let category = run
            .pointer("/automationDetails/id")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !identities.insert((tool.to_owned(), category.to_owned())) {
            problems.push(format!(
                "two runs of tool `{tool}` with category `{category}`"
            ));
        }
        let results = run
            .get("results")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if results > 25_000 {
            problems.push(format!("{results} results in one run, more than 25000"));
        }
    }
    problems
}

fn graphql(
    shared: &Shared,
    body: Option<&Value>,
    identity: &TokenIdentity,
) -> Response<Full<Bytes>> {
    let query = text_of(body, "/query").unwrap_or_default();
    if query.contains("viewer") && !query.contains("mutation") {
        if shared.lock().viewer_unavailable {
            return respond(
                StatusCode::OK,
                &json!({"errors": [{"type": "FORBIDDEN", "message": "Resource not accessible by integration"}]}),
            );
        }
        return respond(
            StatusCode::OK,
            &json!({"data": {"viewer": {"login": identity.login}}}),
        );
    }
    if !query.contains("minimizeComment") {
        return respond(
            StatusCode::OK,
            &json!({"errors": [{"message": "the fake supports only viewer and minimizeComment"}]}),
        );
    }
    let subject = body
        .and_then(|b| {
            b.pointer("/variables/id")
                .or_else(|| b.pointer("/variables/subjectId"))
        })
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut state = shared.lock();
    match state
        .comments
        .iter_mut()
        .find(|comment| comment.node_id == subject)
    {
        Some(comment) => {
            comment.minimized = true;
            respond(
                StatusCode::OK,
                &json!({"data": {"minimizeComment": {"minimizedComment": {"isMinimized": true}}}}),
            )
        }
        None => respond(
            StatusCode::OK,
            &json!({"data": {"minimizeComment": null}, "errors": [{"type": "NOT_FOUND", "message": format!("Could not resolve to a node with the global id of '{subject}'")}]}),
        ),
    }
}
