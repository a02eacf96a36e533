//! A stateful fake Kubernetes API server on 127.0.0.1, for the real kube-rs client, unmodified.
//!
//! What it does as the real one does (`k8s.io/apiserver`): discovery (`/api`, `/apis`, the
//! resource lists, `/version`, `/openapi/v2` and `/openapi/v3`); one `resourceVersion` counter
//! across all objects, `generation` bumped by spec changes only, `uid` and `creationTimestamp` on
//! create; 409 `AlreadyExists` on create and 409 `Conflict` on a write with a stale
//! `resourceVersion`; the `status` subresource (a write to the object ignores its status, a write
//! to `/status` ignores all but the status); JSON merge, JSON, strategic-merge (list-maps merged by
//! the keys the real server merges them by: containers and env by `name`, ports by
//! `containerPort`/`port`, conditions by `type`, …) and apply patches (a field manager's applied
//! fields remembered, fields it stops applying removed); list with label and field selectors,
//! items without `kind`/`apiVersion` as the real server sends them; watch from a
//! `resourceVersion` with `BOOKMARK`s, `410 Gone` (as an `ERROR` event) once the version is
//! compacted, `sendInitialEvents` closed by the `k8s.io/initial-events-end` bookmark, and
//! `timeoutSeconds`; deletion with cascading to owned objects; pod logs; `Status` error bodies.
//! Istio's `VirtualService` and Gateway API's `HTTPRoute` are served as CRDs are.
//!
//! A scripted controller turns Deployments into ReplicaSets and Pods, and pods into running,
//! ready, crash-looping, unpullable, OOM-killed, misconfigured, unschedulable, unready or slow
//! ones, by their image ([`Behaviour`]), on wall time since the pod was created; it writes the
//! Events a kubelet and scheduler would. Every request is recorded; faults can be injected.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use tokio::sync::{broadcast, mpsc};

/// A kind the fake serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// API group (`""` for core).
    pub group: &'static str,
    /// Version.
    pub version: &'static str,
    /// Plural resource name.
    pub resource: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Namespaced.
    pub namespaced: bool,
    /// Has a `status` subresource.
    pub status: bool,
}

const fn kind(
    group: &'static str,
    version: &'static str,
    resource: &'static str,
    kind: &'static str,
    status: bool,
) -> Kind {
    Kind {
        group,
        version,
        resource,
        kind,
        namespaced: true,
        status,
    }
}

/// The annotation the API server counts a DaemonSet's template changes in; its pods carry the
/// count as the label `pod-template-generation`.
pub const TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

/// Every kind served.
pub const KINDS: &[Kind] = &[
    cluster(kind("", "v1", "namespaces", "Namespace", true)),
    kind("", "v1", "pods", "Pod", true),
    kind("", "v1", "services", "Service", true),
    kind("", "v1", "secrets", "Secret", false),
    kind("", "v1", "configmaps", "ConfigMap", false),
    kind("", "v1", "events", "Event", false),
    kind("", "v1", "serviceaccounts", "ServiceAccount", false),
    kind("apps", "v1", "deployments", "Deployment", true),
    kind("apps", "v1", "replicasets", "ReplicaSet", true),
    kind("apps", "v1", "statefulsets", "StatefulSet", true),
    kind("apps", "v1", "daemonsets", "DaemonSet", true),
    kind("batch", "v1", "jobs", "Job", true),
    kind(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "EndpointSlice",
        false,
    ),
    kind(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        true,
    ),
    kind(
        "networking.istio.io",
        "v1",
        "virtualservices",
        "VirtualService",
        true,
    ),
    kind(
        "networking.istio.io",
        "v1",
        "destinationrules",
        "DestinationRule",
        true,
    ),
    kind(
        "gateway.networking.k8s.io",
        "v1",
        "httproutes",
        "HTTPRoute",
        true,
    ),
    kind(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "NetworkPolicy",
        false,
    ),
    kind(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        true,
    ),
    kind("rbac.authorization.k8s.io", "v1", "roles", "Role", false),
    kind(
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "RoleBinding",
        false,
    ),
    cluster(kind(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "ClusterRole",
        false,
    )),
    cluster(kind(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "ClusterRoleBinding",
        false,
    )),
    cluster(kind(
        "admissionregistration.k8s.io",
        "v1",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        false,
    )),
    cluster(kind(
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        false,
    )),
    cluster(kind(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        true,
    )),
];

const fn cluster(kind: Kind) -> Kind {
    Kind {
        namespaced: false,
        ..kind
    }
}

impl Kind {
    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// Every kind served: the built-in ones, then those the stored `CustomResourceDefinitions` define.
fn served(state: &State) -> impl Iterator<Item = &'static Kind> + '_ {
    KINDS.iter().chain(state.custom.iter().copied())
}

fn find_kind(state: &State, group: &str, version: &str, resource: &str) -> Option<&'static Kind> {
    served(state).find(|k| k.group == group && k.version == version && k.resource == resource)
}

/// The kinds a `CustomResourceDefinition` defines, one per served version, as the API server
/// starts serving them once the definition is stored.
fn defined_kinds(definition: &Value) -> Vec<Kind> {
    let spec = &definition["spec"];
    let text = |value: &Value| -> &'static str {
        Box::leak(
            value
                .as_str()
                .unwrap_or_default()
                .to_owned()
                .into_boxed_str(),
        )
    };
    spec["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|version| version["served"].as_bool().unwrap_or(true))
        .map(|version| Kind {
            group: text(&spec["group"]),
            version: text(&version["name"]),
            resource: text(&spec["names"]["plural"]),
            kind: text(&spec["names"]["kind"]),
            namespaced: spec["scope"] != "Cluster",
            status: !version["subresources"]["status"].is_null(),
        })
        .collect()
}

/// Serves what a stored `CustomResourceDefinition` defines (again, after an update), or stops
/// serving it when the definition is gone.
fn register(state: &mut State, definition: &Value, stored: bool) {
    let group = definition["spec"]["group"].as_str().unwrap_or_default();
    let plural = definition["spec"]["names"]["plural"]
        .as_str()
        .unwrap_or_default();
    state
        .custom
        .retain(|k| !(k.group == group && k.resource == plural));
    if stored {
        for kind in defined_kinds(definition) {
            state.custom.push(Box::leak(Box::new(kind)));
        }
    }
}

/// How a pod whose first container's image contains a word behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Running and ready after a moment.
    Healthy,
    /// Ready only after this many seconds.
    Slow(u64),
    /// Exits 1 after starting; the kubelet backs off.
    CrashLoop,
    /// `ErrImagePull`, then `ImagePullBackOff`.
    ImagePull,
    /// `CreateContainerConfigError`.
    ConfigError,
    /// Killed for memory, then backs off.
    OomKilled,
    /// No node fits.
    Unschedulable,
    /// Running, never ready.
    Unready,
    /// Runs this many seconds, then exits 0 (a Job's or a test's pod: `Succeeded`).
    Completes(u64),
    /// Runs this many seconds, then exits 1 (a pod that does not restart: `Failed`).
    Fails(u64),
}

/// A request as the fake saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query.
    pub query: String,
    /// `Content-Type`.
    pub content_type: String,
    /// `Authorization`, as sent.
    pub authorization: Option<String>,
    /// Status answered.
    pub status: u16,
    /// When, since the fake started.
    pub at: Duration,
    /// When, in Unix seconds.
    pub unix: f64,
}

#[derive(Debug, Clone)]
struct Event {
    rv: u64,
    kind: &'static Kind,
    namespace: String,
    kind_word: &'static str,
    object: Value,
}

type Key = (&'static str, String, String);

#[derive(Debug, Default)]
struct State {
    objects: BTreeMap<Key, Value>,
    kinds: BTreeMap<&'static str, &'static Kind>,
    /// The kinds stored `CustomResourceDefinitions` define.
    custom: Vec<&'static Kind>,
    /// Field ownership, as server-side apply keeps it in `managedFields`: the managers of each
    /// leaf (as [`leaves`] writes its path) of each object.
    owners: BTreeMap<(Key, String), BTreeSet<String>>,
    /// A StatefulSet's pod templates by revision (its `ControllerRevisions`), by namespace and
    /// revision name.
    revisions: BTreeMap<(String, String), Value>,
    rv: u64,
    log: VecDeque<Event>,
    /// Versions at or below this are compacted: a watch from them is 410.
    floor: u64,
    requests: Vec<Recorded>,
    /// (method, path part, count, status) failures to inject.
    faults: Vec<(String, String, u32, u16)>,
    applied: BTreeMap<(Key, String), Value>,
    behaviours: Vec<(String, Behaviour)>,
    logs: BTreeMap<(String, String), String>,
    names: u64,
    bookmark_every: Option<Duration>,
    /// Pod start times (by namespace/name), wall seconds.
    started: BTreeMap<(String, String), f64>,
    /// When a pod first showed a failing state (Unix seconds), since the last [`FakeKube::mark`].
    first_failure: Option<f64>,
    /// What a Service's pods answer through the API server's proxy (default 200).
    proxied: BTreeMap<String, u16>,
    /// Services whose proxy forwards to a real server (`http://127.0.0.1:port`), by
    /// namespace and name.
    upstreams: BTreeMap<(String, String), String>,
}

struct Shared {
    state: Mutex<State>,
    events: broadcast::Sender<Event>,
    started: Instant,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running fake API server; stops when dropped.
pub struct FakeKube {
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
    address: SocketAddr,
}

impl std::fmt::Debug for FakeKube {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FakeKube")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn timestamp(seconds: f64) -> String {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "seconds since 1970 fit an i64"
    )]
    let secs = seconds.floor() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

impl FakeKube {
    /// Starts the fake on a free port of 127.0.0.1 with the namespace `default`, on a runtime of
    /// its own; the controller ticks every 100 ms.
    ///
    /// # Panics
    /// When no port can be bound.
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime for the fake API server");
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        std_listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let address = std_listener.local_addr().expect("local address");
        let (events, _) = broadcast::channel(4096);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            events,
            started: Instant::now(),
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
                        async move { Ok::<_, Infallible>(handle(&shared, request).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        let ticking = Arc::clone(&shared);
        runtime.spawn(async move {
            let mut last_bookmark = Instant::now();
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let bookmark = {
                    let mut state = ticking.lock();
                    control(&mut state, &ticking.events, now_seconds());
                    match state.bookmark_every {
                        Some(every) if last_bookmark.elapsed() >= every => Some(state.rv),
                        _ => None,
                    }
                };
                if let Some(rv) = bookmark {
                    last_bookmark = Instant::now();
                    let _ = ticking.events.send(Event {
                        rv,
                        kind: &KINDS[0],
                        namespace: String::new(),
                        kind_word: "BOOKMARK",
                        object: Value::Null,
                    });
                }
            }
        });
        let fake = Self {
            shared,
            runtime: Some(runtime),
            address,
        };
        fake.create(
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}),
        );
        fake
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// A kubeconfig for the fake: context `fake` (current), and `other`, pointing nowhere.
    pub fn kubeconfig(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters:\n- name: fake\n  cluster:\n    server: {}\n- name: nowhere\n  cluster:\n    server: http://127.0.0.1:9\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: tester\n    namespace: default\n- name: other\n  context:\n    cluster: nowhere\n    user: tester\nusers:\n- name: tester\n  user:\n    token: fake-token\n",
            self.url()
        )
    }

    /// Stores an object as a create would (namespace `default` when it has none).
    ///
    /// # Panics
    /// When the kind is not served or the object exists.
    pub fn create(&self, object: &Value) -> Value {
        let mut state = self.shared.lock();
        let kind = kind_of(&state, object).unwrap_or_else(|| panic!("kind not served: {object}"));
        let namespace = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or(if kind.namespaced { "default" } else { "" })
            .to_owned();
        let created = create(
            &mut state,
            &self.shared.events,
            kind,
            &namespace,
            object.clone(),
        )
        .unwrap_or_else(|(_, status)| panic!("create failed: {status}"));
        control(&mut state, &self.shared.events, now_seconds());
        created
    }

    /// An object, if stored.
    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let state = self.shared.lock();
        let kind = served(&state).find(|k| k.kind == kind)?;
        state
            .objects
            .get(&(kind.resource, namespace.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Every stored object of a kind in a namespace.
    pub fn list(&self, kind: &str, namespace: &str) -> Vec<Value> {
        let state = self.shared.lock();
        let Some(kind) = served(&state).find(|k| k.kind == kind) else {
            return Vec::new();
        };
        state
            .objects
            .iter()
            .filter(|((resource, ns, _), _)| *resource == kind.resource && ns == namespace)
            .map(|(_, object)| object.clone())
            .collect()
    }

    /// Replaces an object as another client would (bumping its resourceVersion).
    ///
    /// # Panics
    /// When the kind is not served.
    pub fn replace(&self, object: &Value) {
        let mut state = self.shared.lock();
        let kind = kind_of(&state, object).expect("kind served");
        let namespace = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or(if kind.namespaced { "default" } else { "" })
            .to_owned();
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut object = object.clone();
        if let Some(meta) = object["metadata"].as_object_mut() {
            meta.remove("resourceVersion");
        }
        let key = (kind.resource, namespace.clone(), name.clone());
        let old = state.objects.get(&key).cloned();
        if let Ok(stored) = store(
            &mut state,
            &self.shared.events,
            kind,
            &namespace,
            &name,
            object,
            Write::Whole,
        ) {
            owned_update(
                &mut state,
                &key,
                old.as_ref(),
                &stored,
                "another-controller",
            );
        }
        control(&mut state, &self.shared.events, now_seconds());
    }

    /// Deletes an object (and what it owns).
    ///
    /// # Panics
    /// When the kind is not served.
    pub fn delete(&self, kind: &str, namespace: &str, name: &str) {
        let mut state = self.shared.lock();
        let kind = served(&state)
            .find(|k| k.kind == kind)
            .expect("kind served");
        delete(&mut state, &self.shared.events, kind, namespace, name);
    }

    /// Pods whose first image contains `word` behave so (later rules win).
    pub fn behave(&self, word: &str, behaviour: Behaviour) {
        self.shared
            .lock()
            .behaviours
            .push((word.to_owned(), behaviour));
    }

    /// The log a pod's container prints (every pod whose name starts with `pod_prefix`).
    pub fn set_log(&self, pod_prefix: &str, log: &str) {
        self.shared
            .lock()
            .logs
            .insert((pod_prefix.to_owned(), String::new()), log.to_owned());
    }

    /// Compacts history: a watch from any version before now answers 410 Gone.
    pub fn compact(&self) {
        let mut state = self.shared.lock();
        state.floor = state.rv;
        state.log.clear();
    }

    /// The API server goes away: every request from now on answers 503 and every open watch
    /// ends.
    pub fn go_down(&self) {
        self.fail("", "/", u32::MAX, 503);
        self.end_watches();
    }

    /// What the pods behind `service` answer through the API server's service proxy.
    pub fn answer_through(&self, service: &str, status: u16) {
        self.shared
            .lock()
            .proxied
            .insert(service.to_owned(), status);
    }

    /// The service proxy of `namespace/service` forwards to `upstream` (a server on 127.0.0.1),
    /// as the API server forwards to the Service's endpoints: path after `/proxy`, query,
    /// method and body as sent. The Service object must exist (404 otherwise).
    pub fn proxy_to(&self, namespace: &str, service: &str, upstream: &str) {
        self.shared.lock().upstreams.insert(
            (namespace.to_owned(), service.to_owned()),
            upstream.trim_end_matches('/').to_owned(),
        );
    }

    /// Ends every open watch, as an API server restarting or timing watches out does.
    pub fn end_watches(&self) {
        let _ = self.shared.events.send(Event {
            rv: 0,
            kind: &KINDS[0],
            namespace: String::new(),
            kind_word: "CLOSE",
            object: Value::Null,
        });
    }

    /// Sends a BOOKMARK to watchers that asked for them this often.
    pub fn bookmark_every(&self, every: Duration) {
        self.shared.lock().bookmark_every = Some(every);
    }

    /// The next `count` requests of `method` (`""`: any) whose path contains `path` answer
    /// `status` (0: no answer ever comes).
    pub fn fail(&self, method: &str, path: &str, count: u32, status: u16) {
        self.shared
            .lock()
            .faults
            .push((method.to_owned(), path.to_owned(), count, status));
    }

    /// When a pod first showed a state that means it will not run (waiting in CrashLoopBackOff,
    /// an image pull or config error, OOM-killed, unschedulable), in Unix seconds, since
    /// [`Self::mark`].
    pub fn first_failure(&self) -> Option<f64> {
        self.shared.lock().first_failure
    }

    /// Forgets the first failure seen.
    pub fn mark(&self) {
        self.shared.lock().first_failure = None;
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }
}

fn kind_of(state: &State, object: &Value) -> Option<&'static Kind> {
    let api_version = object["apiVersion"].as_str()?;
    let kind = object["kind"].as_str()?;
    served(state).find(|k| k.kind == kind && k.api_version() == api_version)
}

// ----- storage -----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// The object without its status (status kept).
    Whole,
    /// Only the status.
    Status,
    /// Everything (the controller's own writes).
    Controller,
}

fn status_body(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code
    })
}

type Failure = (u16, Value);

fn emit(state: &mut State, events: &broadcast::Sender<Event>, event: Event) {
    state.log.push_back(event.clone());
    while state.log.len() > 10_000 {
        if let Some(old) = state.log.pop_front() {
            state.floor = old.rv;
        }
    }
    let _ = events.send(event);
}

fn create(
    state: &mut State,
    events: &broadcast::Sender<Event>,
    kind: &'static Kind,
    namespace: &str,
    mut object: Value,
) -> Result<Value, Failure> {
    let mut name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if name.is_empty() {
        if let Some(prefix) = object["metadata"]["generateName"].as_str() {
            state.names += 1;
            name = format!("{prefix}{:05x}", state.names * 7919 % 0xfffff);
        }
    }
    if name.is_empty() {
        return Err((
            422,
            status_body(
                422,
                "Invalid",
                "metadata.name: Required value: name or generateName is required",
            ),
        ));
    }
    if kind.namespaced
        && !state
            .objects
            .contains_key(&("namespaces", String::new(), namespace.to_owned()))
    {
        return Err((
            404,
            status_body(
                404,
                "NotFound",
                &format!("namespaces \"{namespace}\" not found"),
            ),
        ));
    }
    let key = (kind.resource, namespace.to_owned(), name.clone());
    if state.objects.contains_key(&key) {
        let mut body = status_body(
            409,
            "AlreadyExists",
            &format!("{}.{} \"{name}\" already exists", kind.resource, kind.group),
        );
        body["details"] = json!({"name": name, "group": kind.group, "kind": kind.resource});
        return Err((409, body));
    }
    state.rv += 1;
    state.names += 1;
    let meta = object["metadata"]
        .as_object_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let mut meta = meta;
    meta.insert("name".to_owned(), Value::String(name.clone()));
    if kind.namespaced {
        meta.insert("namespace".to_owned(), Value::String(namespace.to_owned()));
    }
    meta.insert(
        "resourceVersion".to_owned(),
        Value::String(state.rv.to_string()),
    );
    meta.insert(
        "uid".to_owned(),
        Value::String(format!("uid-{:08}", state.names)),
    );
    meta.insert(
        "creationTimestamp".to_owned(),
        Value::String(timestamp(now_seconds())),
    );
    if object.get("spec").is_some() {
        meta.insert("generation".to_owned(), json!(1));
    }
    object["metadata"] = Value::Object(meta);
    object["apiVersion"] = Value::String(kind.api_version());
    object["kind"] = Value::String(kind.kind.to_owned());
    if kind.resource == "daemonsets" {
        object["metadata"]["annotations"][TEMPLATE_GENERATION] = json!("1");
    }
    if kind.resource == "customresourcedefinitions" {
        // Established at once: the fake has no names to negotiate.
        object["status"] = json!({
            "acceptedNames": object["spec"]["names"],
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts"},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted"},
            ],
            "storedVersions": object["spec"]["versions"].as_array().into_iter().flatten()
                .filter(|v| v["storage"] == true).map(|v| v["name"].clone()).collect::<Vec<_>>(),
        });
        register(state, &object, true);
    }
    state.kinds.insert(kind.resource, kind);
    state.objects.insert(key, object.clone());
    let rv = state.rv;
    emit(
        state,
        events,
        Event {
            rv,
            kind,
            namespace: namespace.to_owned(),
            kind_word: "ADDED",
            object: object.clone(),
        },
    );
    Ok(object)
}

/// Writes `object` over the stored one as `write` says; 409 on a stale resourceVersion.
fn store(
    state: &mut State,
    events: &broadcast::Sender<Event>,
    kind: &'static Kind,
    namespace: &str,
    name: &str,
    mut object: Value,
    write: Write,
) -> Result<Value, Failure> {
    let key = (kind.resource, namespace.to_owned(), name.to_owned());
    let Some(old) = state.objects.get(&key).cloned() else {
        return Err((
            404,
            status_body(
                404,
                "NotFound",
                &format!("{}.{} \"{name}\" not found", kind.resource, kind.group),
            ),
        ));
    };
    if let Some(wanted) = object["metadata"]["resourceVersion"].as_str() {
        if wanted
            != old["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or_default()
        {
            let mut body = status_body(
                409,
                "Conflict",
                &format!(
                    "Operation cannot be fulfilled on {}.{} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    kind.resource, kind.group
                ),
            );
            body["details"] = json!({"name": name, "group": kind.group, "kind": kind.resource});
            return Err((409, body));
        }
    }
    match write {
        Write::Whole if kind.status => {
            object["status"] = old.get("status").cloned().unwrap_or(Value::Null);
            if object["status"].is_null() {
                if let Some(map) = object.as_object_mut() {
                    map.remove("status");
                }
            }
        }
        Write::Status => {
            let status = object.get("status").cloned();
            object = old.clone();
            match status {
                Some(status) => object["status"] = status,
                None => {
                    if let Some(map) = object.as_object_mut() {
                        map.remove("status");
                    }
                }
            }
        }
        Write::Whole | Write::Controller => {}
    }
    // What the server owns stays the server's.
    for field in [
        "uid",
        "creationTimestamp",
        "namespace",
        "name",
        "generation",
    ] {
        match old["metadata"].get(field) {
            Some(value) => object["metadata"][field] = value.clone(),
            None => {
                if let Some(meta) = object["metadata"].as_object_mut() {
                    meta.remove(field);
                }
            }
        }
    }
    if object.get("spec") != old.get("spec") && old.get("spec").is_some() {
        let generation = old["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
        object["metadata"]["generation"] = json!(generation);
    }
    if kind.resource == "daemonsets" {
        // The API server's own count of template changes (`spec.templateGeneration` of old).
        let was = old["metadata"]["annotations"][TEMPLATE_GENERATION]
            .as_str()
            .and_then(|g| g.parse::<i64>().ok())
            .unwrap_or(1);
        let now = if object["spec"]["template"] == old["spec"]["template"] {
            was
        } else {
            was + 1
        };
        object["metadata"]["annotations"][TEMPLATE_GENERATION] = json!(now.to_string());
    }
    object["apiVersion"] = Value::String(kind.api_version());
    object["kind"] = Value::String(kind.kind.to_owned());
    object["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
    if object == old {
        return Ok(old);
    }
    state.rv += 1;
    object["metadata"]["resourceVersion"] = Value::String(state.rv.to_string());
    if kind.resource == "customresourcedefinitions" {
        register(state, &object, true);
    }
    state.objects.insert(key, object.clone());
    let rv = state.rv;
    emit(
        state,
        events,
        Event {
            rv,
            kind,
            namespace: namespace.to_owned(),
            kind_word: "MODIFIED",
            object: object.clone(),
        },
    );
    Ok(object)
}

fn delete(
    state: &mut State,
    events: &broadcast::Sender<Event>,
    kind: &'static Kind,
    namespace: &str,
    name: &str,
) -> Option<Value> {
    let object = state
        .objects
        .remove(&(kind.resource, namespace.to_owned(), name.to_owned()))?;
    if kind.resource == "customresourcedefinitions" {
        register(state, &object, false);
    }
    state.rv += 1;
    let mut gone = object.clone();
    gone["metadata"]["resourceVersion"] = Value::String(state.rv.to_string());
    let rv = state.rv;
    emit(
        state,
        events,
        Event {
            rv,
            kind,
            namespace: namespace.to_owned(),
            kind_word: "DELETED",
            object: gone.clone(),
        },
    );
    // The garbage collector: what this object owns goes with it.
    let uid = object["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let owned: Vec<(&'static Kind, String)> = state
        .objects
        .iter()
        .filter(|((_, ns, _), child)| {
            ns == namespace
                && child["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid.as_str()))
        })
        .filter_map(|((resource, _, child), _)| {
            state.kinds.get(resource).map(|k| (*k, child.clone()))
        })
        .collect();
    for (kind, child) in owned {
        delete(state, events, kind, namespace, &child);
    }
    state
        .started
        .remove(&(namespace.to_owned(), name.to_owned()));
    Some(gone)
}

// ----- patches -----

/// The keys the real server merges list-maps by, by field name (`patchMergeKey` in k8s.io/api).
fn merge_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "containerStatuses"
        | "initContainerStatuses" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "conditions" => "type",
        "hostAliases" => "ip",
        _ => return None,
    })
}

fn port_key(items: &[Value]) -> Option<&'static str> {
    let first = items.first()?;
    if first.get("containerPort").is_some() {
        Some("containerPort")
    } else if first.get("port").is_some() {
        Some("port")
    } else {
        None
    }
}

/// RFC 7386 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let map = target.as_object_mut().expect("an object");
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// A strategic merge patch: objects merged, list-maps merged by key, `null` deletes,
/// `$patch: replace`/`delete` honoured, other lists replaced.
fn strategic_merge(target: &mut Value, patch: &Value, field: &str) {
    match patch {
        Value::Object(entries) => {
            if entries.get("$patch").and_then(Value::as_str) == Some("replace") {
                let mut replaced = patch.clone();
                if let Some(map) = replaced.as_object_mut() {
                    map.remove("$patch");
                }
                *target = replaced;
                return;
            }
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let map = target.as_object_mut().expect("an object");
            for (key, value) in entries {
                if key.starts_with("$setElementOrder/") || key == "$retainKeys" {
                    continue;
                }
                if value.is_null() {
                    map.remove(key);
                } else {
                    strategic_merge(map.entry(key.clone()).or_insert(Value::Null), value, key);
                }
            }
        }
        Value::Array(items) => {
            let key = merge_key(field).or_else(|| {
                if field == "ports" {
                    port_key(items)
                } else {
                    None
                }
            });
            let (Some(key), Value::Array(existing)) = (key, &mut *target) else {
                *target = patch.clone();
                return;
            };
            for item in items {
                let id = &item[key];
                let position = existing.iter().position(|e| &e[key] == id);
                let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                match (position, delete) {
                    (Some(at), true) => {
                        existing.remove(at);
                    }
                    (Some(at), false) => strategic_merge(&mut existing[at], item, ""),
                    (None, false) => existing.push(item.clone()),
                    (None, true) => {}
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// RFC 6902 JSON patch.
fn json_patch(target: &mut Value, operations: &Value) -> Result<(), String> {
    let operations = operations.as_array().ok_or("a JSON patch is an array")?;
    for operation in operations {
        let op = operation["op"].as_str().ok_or("an operation without op")?;
        let path = operation["path"]
            .as_str()
            .ok_or("an operation without path")?;
        let (parent, last) = path.rsplit_once('/').ok_or("a path without /")?;
        let last = last.replace("~1", "/").replace("~0", "~");
        match op {
            "test" => {
                if target.pointer(path) != Some(&operation["value"]) {
                    return Err(format!("test failed at {path}"));
                }
            }
            "remove" | "replace" | "add" => {
                let parent_value = target
                    .pointer_mut(parent)
                    .ok_or_else(|| format!("no {parent}"))?;
                match parent_value {
                    Value::Object(map) => {
                        if op == "remove" {
                            map.remove(&last).ok_or_else(|| format!("no {path}"))?;
                        } else {
                            if op == "replace" && !map.contains_key(&last) {
                                return Err(format!("no {path} to replace"));
                            }
                            map.insert(last, operation["value"].clone());
                        }
                    }
                    Value::Array(items) => {
                        let index = if last == "-" {
                            items.len()
                        } else {
                            last.parse::<usize>()
                                .map_err(|_| format!("bad index in {path}"))?
                        };
                        match op {
                            "remove" if index < items.len() => {
                                items.remove(index);
                            }
                            "replace" if index < items.len() => {
                                items[index] = operation["value"].clone();
                            }
                            "add" if index <= items.len() => {
                                items.insert(index, operation["value"].clone());
                            }
                            _ => return Err(format!("index out of range in {path}")),
                        }
                    }
                    _ => return Err(format!("{parent} is not a container")),
                }
            }
            other => return Err(format!("unsupported op {other}")),
        }
    }
    Ok(())
}

/// The paths of an object's leaves (list-map items by key), for what an applier stopped setting.
fn leaves(value: &Value, field: &str, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                leaves(
                    child,
                    key,
                    &format!("{prefix}/{}", key.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => match merge_key(field).or_else(|| {
            if field == "ports" {
                port_key(items)
            } else {
                None
            }
        }) {
            Some(key) => {
                for item in items {
                    // The item itself (gone when its key is no longer applied), then its fields.
                    let at = format!("{prefix}[{key}={}]", item[key]);
                    out.push(at.clone());
                    leaves(item, "", &at, out);
                }
            }
            None => out.push(prefix.to_owned()),
        },
        _ => out.push(prefix.to_owned()),
    }
}

/// Removes a leaf path (as [`leaves`] writes them) from an object.
fn remove_leaf(value: &mut Value, path: &str) {
    let mut current = value;
    let mut parts: Vec<&str> = path.split('/').skip(1).collect();
    let Some(last) = parts.pop() else { return };
    for part in parts {
        let (name, selector) = part
            .split_once('[')
            .map_or((part, None), |(n, s)| (n, Some(s)));
        let name = name.replace("~1", "/").replace("~0", "~");
        let Some(next) = current.get_mut(&name) else {
            return;
        };
        current = next;
        if let Some(selector) = selector {
            let Some((key, id)) = selector.trim_end_matches(']').split_once('=') else {
                return;
            };
            let id: Value = serde_json::from_str(id).unwrap_or(Value::Null);
            let Some(item) = current
                .as_array_mut()
                .and_then(|items| items.iter_mut().find(|item| item[key] == id))
            else {
                return;
            };
            current = item;
        }
    }
    if let Some((name, selector)) = last.split_once('[') {
        let name = name.replace("~1", "/").replace("~0", "~");
        if let (Some(items), Some((key, id))) = (
            current.get_mut(&name).and_then(Value::as_array_mut),
            selector.trim_end_matches(']').split_once('='),
        ) {
            let id: Value = serde_json::from_str(id).unwrap_or(Value::Null);
            items.retain(|item| item[key] != id);
        }
    } else if let Some(map) = current.as_object_mut() {
        map.remove(&last.replace("~1", "/").replace("~0", "~"));
    }
}

/// The value at a leaf path (as [`leaves`] writes them), if the object has one.
fn leaf_get<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let mut current = value;
    for part in path.split('/').skip(1) {
        let (name, selector) = part
            .split_once('[')
            .map_or((part, None), |(n, s)| (n, Some(s)));
        current = current.get(name.replace("~1", "/").replace("~0", "~"))?;
        if let Some(selector) = selector {
            let (key, id) = selector.trim_end_matches(']').split_once('=')?;
            let id: Value = serde_json::from_str(id).unwrap_or(Value::Null);
            current = current.as_array()?.iter().find(|item| item[key] == id)?;
        }
    }
    Some(current)
}

/// The leaves of an object that a manager can own: not what the server sets.
fn owned_leaves(object: &Value) -> Vec<String> {
    let mut out = Vec::new();
    leaves(object, "", "", &mut out);
    out.retain(|path| {
        ![
            "/apiVersion",
            "/kind",
            "/status",
            "/metadata/name",
            "/metadata/namespace",
            "/metadata/resourceVersion",
            "/metadata/uid",
            "/metadata/generation",
            "/metadata/creationTimestamp",
            "/metadata/managedFields",
        ]
        .iter()
        .any(|server| path == server || path.starts_with(&format!("{server}/")))
            // A list item's own entry: its fields are what is owned.
            && !path.ends_with(']')
    });
    out
}

/// An update (a create, a PUT, a non-apply PATCH) by `manager`: it owns, alone, every field
/// whose value it set or changed; a field it removed is no one's.
fn owned_update(state: &mut State, key: &Key, old: Option<&Value>, new: &Value, manager: &str) {
    let now = owned_leaves(new);
    if let Some(old) = old {
        for path in owned_leaves(old).into_iter().filter(|p| !now.contains(p)) {
            state.owners.remove(&(key.clone(), path));
        }
    }
    for path in now {
        if old.and_then(|old| leaf_get(old, &path)) != leaf_get(new, &path) {
            state
                .owners
                .insert((key.clone(), path), BTreeSet::from([manager.to_owned()]));
        }
    }
}

/// What an apply by `manager` of `patch` onto `object` would change that another manager owns:
/// server-side apply refuses it (409) unless forced.
fn apply_conflicts(
    state: &State,
    key: &Key,
    object: &Value,
    patch: &Value,
    manager: &str,
) -> Vec<(String, String)> {
    let mut conflicts = Vec::new();
    for path in owned_leaves(patch) {
        if leaf_get(object, &path) == leaf_get(patch, &path) {
            continue;
        }
        if let Some(owners) = state.owners.get(&(key.clone(), path.clone())) {
            for owner in owners.iter().filter(|owner| *owner != manager) {
                conflicts.push((owner.clone(), path.clone()));
            }
        }
    }
    conflicts
}

/// An apply by `manager` took effect: it owns each field it applied (alone where it changed the
/// value), and no longer the ones it stopped applying.
fn owned_apply(state: &mut State, key: &Key, before: &Value, patch: &Value, manager: &str) {
    let applied = owned_leaves(patch);
    let stopped: Vec<String> = state
        .owners
        .iter()
        .filter(|((k, path), owners)| {
            k == key && owners.contains(manager) && !applied.contains(path)
        })
        .map(|((_, path), _)| path.clone())
        .collect();
    for path in stopped {
        if let Some(owners) = state.owners.get_mut(&(key.clone(), path)) {
            owners.remove(manager);
        }
    }
    for path in applied {
        let entry = state.owners.entry((key.clone(), path.clone())).or_default();
        if leaf_get(before, &path) != leaf_get(patch, &path) {
            entry.clear();
        }
        entry.insert(manager.to_owned());
    }
}

/// The manager of a write: its `fieldManager`, else what the server derives from the client.
fn manager_of(params: &BTreeMap<String, String>) -> String {
    params
        .get("fieldManager")
        .filter(|m| !m.is_empty())
        .cloned()
        .unwrap_or_else(|| "unknown-client".to_owned())
}

// ----- the controller -----

fn behaviour(state: &State, pod: &Value) -> Behaviour {
    let image = pod["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or_default();
    state
        .behaviours
        .iter()
        .rev()
        .find(|(word, _)| image.contains(word.as_str()))
        .map_or(Behaviour::Healthy, |(_, b)| *b)
}

fn short_hash(value: &Value) -> String {
    // FNV-1a of the template's JSON: stable across runs, like pod-template-hash.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in value.to_string().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let alphabet = b"bcdfghjklmnpqrstvwxz2456789";
    let mut text = String::new();
    for _ in 0..10 {
        text.push(char::from(
            alphabet[usize::try_from(hash % 27).unwrap_or(0)],
        ));
        hash /= 27;
    }
    text
}

fn kind_named(name: &str) -> &'static Kind {
    KINDS
        .iter()
        .find(|k| k.kind == name)
        .expect("a served kind")
}

fn owner(object: &Value) -> Value {
    json!([{
        "apiVersion": object["apiVersion"], "kind": object["kind"],
        "name": object["metadata"]["name"], "uid": object["metadata"]["uid"],
        "controller": true, "blockOwnerDeletion": true
    }])
}

fn owned_by<'a>(state: &'a State, resource: &str, namespace: &str, uid: &str) -> Vec<&'a Value> {
    state
        .objects
        .iter()
        .filter(|((r, ns, _), o)| {
            *r == resource
                && ns == namespace
                && o["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|refs| refs.iter().any(|x| x["uid"] == uid))
        })
        .map(|(_, o)| o)
        .collect()
}

/// An object's uid.
fn uid_of(object: &Value) -> String {
    object["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// An object's namespace and name.
fn namespace_and_name(object: &Value) -> (String, String) {
    let field = |key: &str| {
        object["metadata"][key]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    (field("namespace"), field("name"))
}

/// Every object of a resource, as it stands.
fn all_of(state: &State, resource: &str) -> Vec<Value> {
    state
        .objects
        .iter()
        .filter(|((r, _, _), _)| *r == resource)
        .map(|(_, o)| o.clone())
        .collect()
}

/// One pass of the controllers and the kubelet.
fn control(state: &mut State, events: &broadcast::Sender<Event>, now: f64) {
    for deployment in all_of(state, "deployments") {
        control_deployment(state, events, &deployment, now);
    }
    for replica_set in all_of(state, "replicasets") {
        control_replica_set(state, events, &replica_set);
    }
    for job in all_of(state, "jobs") {
        control_job(state, events, &job, now);
    }
    for set in all_of(state, "statefulsets") {
        control_stateful_set(state, events, &set);
    }
    for set in all_of(state, "daemonsets") {
        control_daemon_set(state, events, &set);
    }
    for pod in all_of(state, "pods") {
        kubelet(state, events, &pod, now);
    }
    for service in all_of(state, "services") {
        control_endpoint_slice(state, events, &service);
    }
}

/// The `EndpointSlice` controller: one slice per Service with a selector (`<service>-fake`,
/// labelled `kubernetes.io/service-name`), an endpoint per pod the selector selects that is not
/// being deleted, `ready` as the pod's Ready condition.
fn control_endpoint_slice(state: &mut State, events: &broadcast::Sender<Event>, service: &Value) {
    let (namespace, name) = namespace_and_name(service);
    let Some(selector) = service["spec"]["selector"]
        .as_object()
        .filter(|s| !s.is_empty())
    else {
        return;
    };
    let selector: Vec<String> = selector
        .iter()
        .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
        .collect();
    let selector = selector.join(",");
    let endpoints: Vec<Value> = all_of(state, "pods")
        .iter()
        .filter(|pod| pod["metadata"]["namespace"] == namespace.as_str())
        .filter(|pod| pod["metadata"]["deletionTimestamp"].is_null())
        .filter(|pod| matches_labels(pod, &selector))
        .map(|pod| {
            let ready = pod["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
            json!({"addresses": [pod["status"]["podIP"].as_str().unwrap_or("10.1.0.9")],
                "conditions": {"ready": ready, "serving": ready, "terminating": false},
                "targetRef": {"kind": "Pod", "namespace": namespace, "name": pod["metadata"]["name"]}})
        })
        .collect();
    let slice_name = format!("{name}-fake");
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": slice_name, "namespace": namespace,
            "labels": {"kubernetes.io/service-name": name,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
            "ownerReferences": owner(service)},
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": service["spec"]["ports"].as_array().map_or_else(Vec::new, |ports| ports
            .iter()
            .map(|p| json!({"name": p["name"], "port": p["port"], "protocol": "TCP"}))
            .collect()),
    });
    let key = ("endpointslices", namespace.clone(), slice_name.clone());
    match state.objects.get(&key) {
        Some(existing) if existing["endpoints"] == slice["endpoints"] => {}
        Some(existing) => {
            let mut next = existing.clone();
            next["endpoints"] = slice["endpoints"].clone();
            let _ = store(
                state,
                events,
                kind_named("EndpointSlice"),
                &namespace,
                &slice_name,
                next,
                Write::Controller,
            );
        }
        None => {
            let _ = create(
                state,
                events,
                kind_named("EndpointSlice"),
                &namespace,
                slice,
            );
        }
    }
}

fn control_deployment(
    state: &mut State,
    events: &broadcast::Sender<Event>,
    deployment: &Value,
    now: f64,
) {
    let namespace = deployment["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let name = deployment["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let uid = deployment["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let template = deployment["spec"]["template"].clone();
    let hash = short_hash(&template);
    let wanted = deployment["spec"]["replicas"].as_i64().unwrap_or(1);
    let paused = deployment["spec"]["paused"].as_bool().unwrap_or(false);
    let rs_name = format!("{name}-{hash}");
    let sets: Vec<Value> = owned_by(state, "replicasets", &namespace, &uid)
        .into_iter()
        .cloned()
        .collect();
    let max_revision = sets
        .iter()
        .filter_map(|rs| {
            rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                .as_str()?
                .parse::<i64>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    let current = sets
        .iter()
        .find(|rs| rs["metadata"]["name"] == rs_name.as_str())
        .cloned();
    if paused {
        return;
    }
    let current = if let Some(rs) = current {
        let revision = rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
            .as_str()
            .and_then(|r| r.parse::<i64>().ok())
            .unwrap_or(0);
        if rs["spec"]["replicas"].as_i64() != Some(wanted) || revision < max_revision {
            let mut rs = rs.clone();
            rs["spec"]["replicas"] = json!(wanted);
            if revision < max_revision {
                rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] =
                    json!((max_revision + 1).to_string());
            }
            store(
                state,
                events,
                kind_named("ReplicaSet"),
                &namespace,
                &rs_name,
                rs,
                Write::Controller,
            )
            .unwrap_or_default()
        } else {
            rs
        }
    } else {
        let mut template = template.clone();
        template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
        let mut selector = deployment["spec"]["selector"].clone();
        selector["matchLabels"]["pod-template-hash"] = json!(hash);
        let rs = json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": rs_name, "namespace": namespace,
                "labels": template["metadata"]["labels"],
                "annotations": {"deployment.kubernetes.io/revision": (max_revision + 1).to_string()},
                "ownerReferences": owner(deployment)},
            "spec": {"replicas": wanted, "selector": selector, "template": template}
        });
        create(state, events, kind_named("ReplicaSet"), &namespace, rs).unwrap_or_default()
    };
    let revision = current["metadata"]["annotations"]["deployment.kubernetes.io/revision"].clone();
    // Old ReplicaSets scale down as the new one becomes available (maxUnavailable 0).
    let new_ready = current["status"]["readyReplicas"].as_i64().unwrap_or(0);
    let mut old_replicas = 0;
    for rs in &sets {
        if rs["metadata"]["name"] == rs_name.as_str() {
            continue;
        }
        let replicas = rs["spec"]["replicas"].as_i64().unwrap_or(0);
        let keep = (wanted - new_ready).clamp(0, replicas);
        if keep != replicas {
            let mut rs = rs.clone();
            rs["spec"]["replicas"] = json!(keep);
            let rs_name = rs["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let _ = store(
                state,
                events,
                kind_named("ReplicaSet"),
                &namespace,
                &rs_name,
                rs,
                Write::Controller,
            );
        }
        old_replicas += rs["status"]["replicas"].as_i64().unwrap_or(0);
    }
    let updated = current["status"]["replicas"].as_i64().unwrap_or(0);
    let ready = current["status"]["readyReplicas"].as_i64().unwrap_or(0);
    let old_ready: i64 = sets
        .iter()
        .filter(|rs| rs["metadata"]["name"] != rs_name.as_str())
        .map(|rs| rs["status"]["readyReplicas"].as_i64().unwrap_or(0))
        .sum();
    let complete = updated == wanted && ready == wanted && old_replicas == 0;
    let generation = deployment["metadata"]["generation"].clone();
    let deadline = deployment["spec"]["progressDeadlineSeconds"]
        .as_f64()
        .unwrap_or(600.0);
    let progressing_since = if deployment["status"]["observedGeneration"] == generation {
        deployment["status"]["gantryProgressSince"]
            .as_f64()
            .unwrap_or(now)
    } else {
        now
    };
    let reason = if complete {
        "NewReplicaSetAvailable"
    } else if now - progressing_since > deadline {
        "ProgressDeadlineExceeded"
    } else {
        "ReplicaSetUpdated"
    };
    let progressing = json!({"type": "Progressing", "status": if reason == "ProgressDeadlineExceeded" {"False"} else {"True"},
        "reason": reason, "message": format!("ReplicaSet \"{rs_name}\" {}", if complete {"has successfully progressed."} else if reason == "ProgressDeadlineExceeded" {"has timed out progressing."} else {"is progressing."})});
    let available = ready + old_ready >= wanted;
    let available_condition = json!({"type": "Available", "status": if available {"True"} else {"False"},
        "reason": if available {"MinimumReplicasAvailable"} else {"MinimumReplicasUnavailable"}});
    let mut status = json!({
        "observedGeneration": generation,
        "replicas": updated + old_replicas,
        "updatedReplicas": updated,
        "readyReplicas": ready + old_ready,
        "availableReplicas": ready + old_ready,
        "unavailableReplicas": (wanted - ready - old_ready).max(0),
        "conditions": [available_condition, progressing],
        "gantryProgressSince": if complete { Value::Null } else { json!(progressing_since) },
    });
    if status["gantryProgressSince"].is_null() {
        status
            .as_object_mut()
            .expect("an object")
            .remove("gantryProgressSince");
    }
    let mut next = deployment.clone();
    next["status"] = status;
    next["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = revision;
    if next != *deployment {
        let _ = store(
            state,
            events,
            kind_named("Deployment"),
            &namespace,
            &name,
            next,
            Write::Controller,
        );
    }
}

fn control_replica_set(state: &mut State, events: &broadcast::Sender<Event>, rs: &Value) {
    let namespace = rs["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let name = rs["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let uid = rs["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let wanted = usize::try_from(rs["spec"]["replicas"].as_i64().unwrap_or(0)).unwrap_or(0);
    let mut pods: Vec<Value> = owned_by(state, "pods", &namespace, &uid)
        .into_iter()
        .cloned()
        .collect();
    pods.sort_by(|a, b| {
        a["metadata"]["name"]
            .as_str()
            .cmp(&b["metadata"]["name"].as_str())
    });
    while pods.len() > wanted {
        let pod = pods.pop().expect("a pod");
        let pod_name = pod["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        delete(state, events, kind_named("Pod"), &namespace, &pod_name);
    }
    while pods.len() < wanted {
        let mut pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"generateName": format!("{name}-"), "namespace": namespace,
                "labels": rs["spec"]["template"]["metadata"]["labels"], "ownerReferences": owner(rs)},
            "spec": rs["spec"]["template"]["spec"],
            "status": {"phase": "Pending"}
        });
        if pod["metadata"]["labels"].is_null() {
            pod["metadata"]["labels"] = json!({});
        }
        match create(state, events, kind_named("Pod"), &namespace, pod) {
            Ok(pod) => pods.push(pod),
            Err(_) => break,
        }
    }
    let ready = pods
        .iter()
        .filter(|p| {
            p["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
        })
        .count();
    let status = json!({"replicas": pods.len(), "readyReplicas": ready, "availableReplicas": ready,
        "fullyLabeledReplicas": pods.len(), "observedGeneration": rs["metadata"]["generation"]});
    if rs["status"] != status {
        set_status(state, events, "ReplicaSet", rs, status);
    }
}

fn running_and_ready(pod: &Value) -> bool {
    pod["status"]["phase"] == "Running"
        && pod["status"]["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// A pod of `owner` from `template`, with these labels besides the template's.
fn spawn_pod(
    state: &mut State,
    events: &broadcast::Sender<Event>,
    owner_object: &Value,
    name: &str,
    template: &Value,
    labels: &[(&str, &str)],
) {
    let namespace = owner_object["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut all = template["metadata"]["labels"].clone();
    if !all.is_object() {
        all = json!({});
    }
    for (key, value) in labels {
        all[*key] = json!(value);
    }
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": all,
            "ownerReferences": owner(owner_object)},
        "spec": template["spec"],
        "status": {"phase": "Pending"}
    });
    let _ = create(state, events, kind_named("Pod"), &namespace, pod);
}

/// The StatefulSet controller, as `pkg/controller/statefulset` does it: pods `<set>-<ordinal>`
/// labelled `controller-revision-hash` (`<set>-<hash of the template>`), made in order and
/// each only once those before it are Running and Ready (`OrderedReady`, the default) or all at
/// once (`Parallel`); a rolling update replaces one pod at a time from the highest ordinal down
/// to the partition, each once the one above is Running and Ready. Like the real controller, an
/// `OrderedReady` set whose pod is not Running and Ready waits on it, even when the template
/// has since been reverted: the reverted-to revision reaches that pod only once someone deletes
/// it (the "forced rollback" of the StatefulSet documentation).
fn control_stateful_set(state: &mut State, events: &broadcast::Sender<Event>, set: &Value) {
    let (namespace, name) = namespace_and_name(set);
    let uid = uid_of(set);
    let spec = &set["spec"];
    let template = spec["template"].clone();
    let update_revision = format!("{name}-{}", short_hash(&template));
    state.revisions.insert(
        (namespace.clone(), update_revision.clone()),
        template.clone(),
    );
    let current_revision = set["status"]["currentRevision"]
        .as_str()
        .filter(|r| {
            state
                .revisions
                .contains_key(&(namespace.clone(), (*r).to_owned()))
        })
        .unwrap_or(&update_revision)
        .to_owned();
    let wanted = spec["replicas"].as_i64().unwrap_or(1).max(0);
    let parallel = spec["podManagementPolicy"] == "Parallel";
    let on_delete = spec["updateStrategy"]["type"] == "OnDelete";
    let partition = spec["updateStrategy"]["rollingUpdate"]["partition"]
        .as_i64()
        .unwrap_or(0);
    let ordinal = |pod: &Value| -> Option<i64> {
        pod["metadata"]["name"]
            .as_str()?
            .strip_prefix(&format!("{name}-"))?
            .parse()
            .ok()
    };
    let revision_of = |pod: &Value| -> String {
        pod["metadata"]["labels"]["controller-revision-hash"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let pods: BTreeMap<i64, Value> = owned_by(state, "pods", &namespace, &uid)
        .into_iter()
        .filter_map(|pod| Some((ordinal(pod)?, pod.clone())))
        .collect();
    let mut blocked = false;
    for index in 0..wanted {
        match pods.get(&index) {
            None => {
                // Below the partition a missing pod comes back at the current revision.
                let revision = if index < partition || on_delete {
                    current_revision.clone()
                } else {
                    update_revision.clone()
                };
                let template = state
                    .revisions
                    .get(&(namespace.clone(), revision.clone()))
                    .cloned()
                    .unwrap_or_else(|| template.clone());
                let pod_name = format!("{name}-{index}");
                let index_text = index.to_string();
                spawn_pod(
                    state,
                    events,
                    set,
                    &pod_name,
                    &template,
                    &[
                        ("controller-revision-hash", &revision),
                        ("statefulset.kubernetes.io/pod-name", &pod_name),
                        ("apps.kubernetes.io/pod-index", &index_text),
                    ],
                );
                if !parallel {
                    blocked = true;
                    break;
                }
            }
            Some(pod) if pod["status"]["phase"] == "Failed" => {
                let pod_name = format!("{name}-{index}");
                delete(state, events, kind_named("Pod"), &namespace, &pod_name);
                blocked = true;
                break;
            }
            Some(pod) if !parallel && !running_and_ready(pod) => {
                blocked = true;
                break;
            }
            Some(_) => {}
        }
    }
    // Scaled down: the highest ordinal first, one at a time.
    if !blocked {
        if let Some((&index, _)) = pods.range(wanted..).next_back() {
            let pod_name = format!("{name}-{index}");
            delete(state, events, kind_named("Pod"), &namespace, &pod_name);
            blocked = !parallel;
        }
    }
    if !blocked && !on_delete {
        for index in (partition.max(0)..wanted).rev() {
            let Some(pod) = pods.get(&index) else { break };
            if revision_of(pod) != update_revision {
                let pod_name = format!("{name}-{index}");
                delete(state, events, kind_named("Pod"), &namespace, &pod_name);
                break;
            }
            if !running_and_ready(pod) {
                break;
            }
        }
    }
    let pods: Vec<Value> = owned_by(state, "pods", &namespace, &uid)
        .into_iter()
        .cloned()
        .collect();
    let count = |test: &dyn Fn(&Value) -> bool| pods.iter().filter(|p| test(p)).count();
    let ready = count(&running_and_ready);
    let updated = count(&|p| revision_of(p) == update_revision);
    let current = count(&|p| revision_of(p) == current_revision);
    let replicas = pods.len();
    let done = usize::try_from(wanted).unwrap_or(0);
    let current_revision = if !on_delete && updated == done && ready == done && replicas == done {
        update_revision.clone()
    } else {
        current_revision
    };
    let current = if current_revision == update_revision {
        updated
    } else {
        current
    };
    let status = json!({
        "observedGeneration": set["metadata"]["generation"],
        "replicas": replicas, "readyReplicas": ready, "availableReplicas": ready,
        "currentReplicas": current, "updatedReplicas": updated,
        "currentRevision": current_revision, "updateRevision": update_revision,
        "collisionCount": 0,
    });
    if set["status"] != status {
        set_status(state, events, "StatefulSet", set, status);
    }
}

/// The nodes a DaemonSet runs a pod on (the fake has no Node objects).
const NODES: [&str; 2] = ["fake-node-a", "fake-node-b"];

/// The DaemonSet controller: a pod per node (`<set>-<node>`, `spec.nodeName` set), labelled
/// `pod-template-generation` with the set's template generation and `controller-revision-hash`;
/// a rolling update (maxUnavailable 1) replaces one old pod at a time once every other pod is
/// ready; `OnDelete` replaces none.
fn control_daemon_set(state: &mut State, events: &broadcast::Sender<Event>, set: &Value) {
    let (namespace, name) = namespace_and_name(set);
    let uid = uid_of(set);
    let template = set["spec"]["template"].clone();
    let generation = set["metadata"]["annotations"][TEMPLATE_GENERATION]
        .as_str()
        .unwrap_or("1")
        .to_owned();
    let hash = short_hash(&template);
    let on_delete = set["spec"]["updateStrategy"]["type"] == "OnDelete";
    let is_new =
        |pod: &Value| pod["metadata"]["labels"]["pod-template-generation"] == generation.as_str();
    let pods: Vec<Value> = owned_by(state, "pods", &namespace, &uid)
        .into_iter()
        .cloned()
        .collect();
    for node in NODES {
        let pod_name = format!("{name}-{node}");
        match pods
            .iter()
            .find(|p| p["metadata"]["name"] == pod_name.as_str())
        {
            None => {
                let mut template = template.clone();
                template["spec"]["nodeName"] = json!(node);
                spawn_pod(
                    state,
                    events,
                    set,
                    &pod_name,
                    &template,
                    &[
                        ("pod-template-generation", &generation),
                        ("controller-revision-hash", &hash),
                    ],
                );
            }
            Some(pod) if pod["status"]["phase"] == "Failed" => {
                delete(state, events, kind_named("Pod"), &namespace, &pod_name);
            }
            Some(_) => {}
        }
    }
    if !on_delete {
        // maxUnavailable 1: an old pod that is unavailable goes at once; an available one only
        // when no pod is unavailable.
        let unready = pods.iter().filter(|p| !running_and_ready(p)).count();
        let old = pods
            .iter()
            .find(|p| !is_new(p) && !running_and_ready(p))
            .or_else(|| pods.iter().find(|p| !is_new(p)).filter(|_| unready == 0));
        if let Some(old) = old {
            let pod_name = old["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            delete(state, events, kind_named("Pod"), &namespace, &pod_name);
        }
    }
    let pods: Vec<Value> = owned_by(state, "pods", &namespace, &uid)
        .into_iter()
        .cloned()
        .collect();
    let ready = pods.iter().filter(|p| running_and_ready(p)).count();
    let updated = pods.iter().filter(|p| is_new(p)).count();
    let available = pods
        .iter()
        .filter(|p| is_new(p) && running_and_ready(p))
        .count();
    let status = json!({
        "observedGeneration": set["metadata"]["generation"],
        "desiredNumberScheduled": NODES.len(), "currentNumberScheduled": pods.len(),
        "numberMisscheduled": 0, "numberReady": ready,
        "updatedNumberScheduled": updated, "numberAvailable": available,
        "numberUnavailable": NODES.len().saturating_sub(available),
    });
    if set["status"] != status {
        set_status(state, events, "DaemonSet", set, status);
    }
}

/// The Job controller, for one pod at a time: a pod from the template until one succeeds
/// (`Complete`), or `backoffLimit` + 1 have failed (`Failed`, reason `BackoffLimitExceeded`).
fn control_job(state: &mut State, events: &broadcast::Sender<Event>, job: &Value, now: f64) {
    let (namespace, name) = namespace_and_name(job);
    let uid = job["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let finished = job["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True")
    });
    if finished {
        return;
    }
    let pods: Vec<Value> = owned_by(state, "pods", &namespace, &uid)
        .into_iter()
        .cloned()
        .collect();
    let phase = |p: &Value, phase: &str| p["status"]["phase"] == phase;
    let succeeded = pods.iter().filter(|p| phase(p, "Succeeded")).count();
    let crashed = |p: &Value| {
        p["status"]["containerStatuses"]
            .as_array()
            .is_some_and(|c| {
                c.iter()
                    .any(|c| c["restartCount"].as_i64().unwrap_or(0) > 0)
            })
    };
    let failed = pods
        .iter()
        .filter(|p| phase(p, "Failed") || crashed(p))
        .count();
    let active = pods.len() - succeeded - failed;
    let limit = usize::try_from(job["spec"]["backoffLimit"].as_i64().unwrap_or(6)).unwrap_or(6);
    if succeeded == 0 && active == 0 && failed <= limit {
        let mut labels = job["spec"]["template"]["metadata"]["labels"].clone();
        if !labels.is_object() {
            labels = json!({});
        }
        labels["batch.kubernetes.io/job-name"] = json!(name);
        labels["job-name"] = json!(name);
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"generateName": format!("{name}-"), "namespace": namespace,
                "labels": labels, "ownerReferences": owner(job)},
            "spec": job["spec"]["template"]["spec"],
            "status": {"phase": "Pending"}
        });
        let _ = create(state, events, kind_named("Pod"), &namespace, pod);
    }
    let at = timestamp(now);
    let mut status = json!({"active": active, "succeeded": succeeded, "failed": failed,
        "startTime": job["status"]["startTime"].as_str().map_or_else(|| at.clone(), str::to_owned)});
    if succeeded > 0 {
        status["completionTime"] = json!(at);
        status["conditions"] = json!([
            {"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": at},
            {"type": "Complete", "status": "True", "lastTransitionTime": at},
        ]);
    } else if failed > limit {
        status["conditions"] = json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
            "message": "Job has reached the specified backoff limit", "lastTransitionTime": at}]);
    }
    let changed = ["active", "succeeded", "failed", "conditions"]
        .iter()
        .any(|key| job["status"][key] != status[key]);
    if changed {
        set_status(state, events, "Job", job, status);
    }
}

fn record_event(
    state: &mut State,
    events: &broadcast::Sender<Event>,
    pod: &Value,
    reason: &str,
    message: &str,
    kind: &str,
) {
    let namespace = pod["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let name = format!("{pod_name}.{}", reason.to_ascii_lowercase());
    if state
        .objects
        .contains_key(&("events", namespace.clone(), name.clone()))
    {
        return;
    }
    let event = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": {"kind": "Pod", "name": pod_name, "namespace": namespace, "uid": pod["metadata"]["uid"]},
        "reason": reason, "message": message, "type": kind, "count": 1,
        "firstTimestamp": timestamp(now_seconds()), "lastTimestamp": timestamp(now_seconds()),
        "source": {"component": if reason == "FailedScheduling" {"default-scheduler"} else {"kubelet"}}
    });
    let _ = create(state, events, kind_named("Event"), &namespace, event);
}

fn kubelet(state: &mut State, events: &broadcast::Sender<Event>, pod: &Value, now: f64) {
    let namespace = pod["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let name = pod["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let started = *state
        .started
        .entry((namespace.clone(), name.clone()))
        .or_insert(now);
    let age = now - started;
    let behaviour = behaviour(state, pod);
    let start_time = timestamp(started);
    let containers: Vec<Value> = pod["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let image = containers
        .first()
        .and_then(|c| c["image"].as_str())
        .unwrap_or_default()
        .to_owned();
    let condition = |kind: &str, status: bool, reason: Option<&str>| {
        let mut c = json!({"type": kind, "status": if status {"True"} else {"False"}, "lastTransitionTime": start_time});
        if let Some(reason) = reason {
            c["reason"] = json!(reason);
        }
        c
    };
    #[expect(clippy::cast_possible_truncation, reason = "a small count")]
    let restarts = ((age - 1.0).max(0.0) / 2.0).floor() as i64;
    let state_of = |ready: bool| -> (Value, bool) {
        match behaviour {
            Behaviour::Healthy | Behaviour::Unready => (
                json!({"running": {"startedAt": start_time}}),
                ready && behaviour == Behaviour::Healthy && age >= 0.2,
            ),
            Behaviour::Slow(seconds) => (
                json!({"running": {"startedAt": start_time}}),
                age >= f64::from(u32::try_from(seconds).unwrap_or(u32::MAX)),
            ),
            Behaviour::Completes(_) | Behaviour::Fails(_) => {
                (json!({"running": {"startedAt": start_time}}), ready)
            }
            Behaviour::CrashLoop | Behaviour::OomKilled if age < 1.0 => {
                (json!({"running": {"startedAt": start_time}}), false)
            }
            Behaviour::CrashLoop | Behaviour::OomKilled => (
                json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 10s restarting failed container={} pod={name}", containers[0]["name"].as_str().unwrap_or_default())}}),
                false,
            ),
            Behaviour::ImagePull => (
                json!({"waiting": {"reason": if age < 1.0 {"ErrImagePull"} else {"ImagePullBackOff"}, "message": format!("Back-off pulling image \"{image}\": not found")}}),
                false,
            ),
            Behaviour::ConfigError => (
                json!({"waiting": {"reason": "CreateContainerConfigError", "message": "secret \"db-credentials\" not found"}}),
                false,
            ),
            Behaviour::Unschedulable => (Value::Null, false),
        }
    };
    let mut status = json!({"phase": "Running", "startTime": start_time, "hostIP": "10.0.0.2", "podIP": "10.1.0.9"});
    let all_ready;
    if let Behaviour::Completes(seconds) | Behaviour::Fails(seconds) = behaviour {
        let (code, reason, phase) = if matches!(behaviour, Behaviour::Fails(_)) {
            (1, "Error", "Failed")
        } else {
            (0, "Completed", "Succeeded")
        };
        if age >= f64::from(u32::try_from(seconds).unwrap_or(u32::MAX)) {
            let finished = timestamp(now);
            let statuses: Vec<Value> = containers.iter().map(|container| json!({
                "name": container["name"], "image": container["image"], "imageID": "",
                "state": {"terminated": {"exitCode": code, "reason": reason, "startedAt": start_time, "finishedAt": finished}},
                "ready": false, "started": false, "restartCount": 0})).collect();
            status["phase"] = json!(phase);
            status["containerStatuses"] = Value::Array(statuses);
            status["conditions"] = json!([
                condition("PodScheduled", true, None),
                condition("Initialized", true, None),
                condition("ContainersReady", false, Some("PodCompleted")),
                condition("Ready", false, Some("PodCompleted")),
            ]);
            set_pod_status(state, events, pod, status);
            return;
        }
    }
    if behaviour == Behaviour::Unschedulable {
        status = json!({"phase": "Pending", "conditions": [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "lastTransitionTime": start_time,
            "message": "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."}]});
        all_ready = false;
        record_event(
            state,
            events,
            pod,
            "FailedScheduling",
            "0/3 nodes are available: 3 Insufficient cpu.",
            "Warning",
        );
    } else {
        let mut statuses = Vec::new();
        let mut ready_all = true;
        for container in &containers {
            let (container_state, ready) = state_of(true);
            ready_all &= ready;
            let mut entry = json!({"name": container["name"], "image": container["image"], "imageID": "",
                "state": container_state, "ready": ready, "started": ready, "restartCount": 0});
            if matches!(behaviour, Behaviour::CrashLoop | Behaviour::OomKilled) && age >= 1.0 {
                let reason = if behaviour == Behaviour::OomKilled {
                    "OOMKilled"
                } else {
                    "Error"
                };
                let code = if behaviour == Behaviour::OomKilled {
                    137
                } else {
                    1
                };
                entry["restartCount"] = json!(restarts + 1);
                entry["lastState"] = json!({"terminated": {"exitCode": code, "reason": reason, "startedAt": start_time, "finishedAt": start_time}});
            }
            statuses.push(entry);
        }
        all_ready = ready_all;
        status["containerStatuses"] = Value::Array(statuses);
        status["conditions"] = json!([
            condition("PodScheduled", true, None),
            condition("Initialized", true, None),
            condition(
                "ContainersReady",
                all_ready,
                if all_ready {
                    None
                } else {
                    Some("ContainersNotReady")
                }
            ),
            condition(
                "Ready",
                all_ready,
                if all_ready {
                    None
                } else {
                    Some("ContainersNotReady")
                }
            ),
        ]);
        match behaviour {
            Behaviour::CrashLoop | Behaviour::OomKilled if age >= 1.0 => record_event(
                state,
                events,
                pod,
                "BackOff",
                "Back-off restarting failed container",
                "Warning",
            ),
            Behaviour::ImagePull => record_event(
                state,
                events,
                pod,
                "Failed",
                &format!("Failed to pull image \"{image}\": rpc error: code = NotFound"),
                "Warning",
            ),
            Behaviour::ConfigError => record_event(
                state,
                events,
                pod,
                "Failed",
                "Error: secret \"db-credentials\" not found",
                "Warning",
            ),
            Behaviour::Unready if age >= 1.0 => record_event(
                state,
                events,
                pod,
                "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 503",
                "Warning",
            ),
            _ => {}
        }
    }
    let _ = all_ready;
    let failing = behaviour == Behaviour::Unschedulable
        || status["containerStatuses"]
            .as_array()
            .is_some_and(|statuses| {
                statuses.iter().any(|c| {
                    c["state"]["waiting"]["reason"]
                        .as_str()
                        .is_some_and(|reason| {
                            matches!(
                                reason,
                                "CrashLoopBackOff"
                                    | "ErrImagePull"
                                    | "ImagePullBackOff"
                                    | "CreateContainerConfigError"
                            )
                        })
                })
            });
    if failing && state.first_failure.is_none() {
        state.first_failure = Some(now);
    }
    set_pod_status(state, events, pod, status);
}

/// A controller's write of an object's status.
fn set_status(
    state: &mut State,
    events: &broadcast::Sender<Event>,
    kind: &str,
    object: &Value,
    status: Value,
) {
    let (namespace, name) = namespace_and_name(object);
    let mut next = object.clone();
    next["status"] = status;
    let _ = store(
        state,
        events,
        kind_named(kind),
        &namespace,
        &name,
        next,
        Write::Controller,
    );
}

/// The kubelet's write of a pod's status, when it changed.
fn set_pod_status(
    state: &mut State,
    events: &broadcast::Sender<Event>,
    pod: &Value,
    status: Value,
) {
    if pod["status"] != status {
        set_status(state, events, "Pod", pod, status);
    }
}

// ----- HTTP -----

/// A response body: whole, or a stream of watch events.
pub enum Body {
    /// The whole body.
    Full(Option<Bytes>),
    /// Watch events as they come.
    Stream(mpsc::Receiver<Bytes>),
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Self::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Self::Stream(receiver) => receiver
                .poll_recv(cx)
                .map(|next| next.map(|b| Ok(Frame::data(b)))),
        }
    }
}

fn respond(status: u16, body: &Value) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .body(Body::Full(Some(Bytes::from(body.to_string()))))
        .expect("a response")
}

fn query_map(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, other) => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Does an object match a label selector (`a=b,c!=d,e,!f,g in (x,y)`)?
fn matches_labels(object: &Value, selector: &str) -> bool {
    let labels = &object["metadata"]["labels"];
    split_selector(selector).iter().all(|term| {
        let term = term.trim();
        if let Some((key, values)) = term.split_once(" in ") {
            let values = values.trim().trim_start_matches('(').trim_end_matches(')');
            return labels[key.trim()]
                .as_str()
                .is_some_and(|v| values.split(',').any(|x| x.trim() == v));
        }
        if let Some((key, values)) = term.split_once(" notin ") {
            let values = values.trim().trim_start_matches('(').trim_end_matches(')');
            return !labels[key.trim()]
                .as_str()
                .is_some_and(|v| values.split(',').any(|x| x.trim() == v));
        }
        if let Some((key, value)) = term.split_once("!=") {
            return labels[key].as_str() != Some(value);
        }
        if let Some((key, value)) = term.split_once("==").or_else(|| term.split_once('=')) {
            return labels[key].as_str() == Some(value);
        }
        if let Some(key) = term.strip_prefix('!') {
            return labels.get(key).is_none();
        }
        term.is_empty() || labels.get(term).is_some()
    })
}

fn split_selector(selector: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in selector.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    terms.push(current);
    terms
}

fn matches_fields(object: &Value, selector: &str) -> bool {
    selector.split(',').filter(|t| !t.is_empty()).all(|term| {
        let (path, value, negate) = if let Some((p, v)) = term.split_once("!=") {
            (p, v, true)
        } else {
            let (p, v) = term
                .split_once("==")
                .or_else(|| term.split_once('='))
                .unwrap_or((term, ""));
            (p, v, false)
        };
        let pointer = format!("/{}", path.replace('.', "/"));
        let actual = object
            .pointer(&pointer)
            .and_then(Value::as_str)
            .unwrap_or_default();
        (actual == value) != negate
    })
}

fn discovery(state: &State, path: &str) -> Option<Value> {
    match path {
        "/version" => Some(
            json!({"major": "1", "minor": "33", "gitVersion": "v1.33.0-gantry-fake", "platform": "linux/amd64"}),
        ),
        "/api" => Some(
            json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
        ),
        "/apis" => {
            let mut groups: Vec<Value> = Vec::new();
            for kind in served(state).filter(|k| !k.group.is_empty()) {
                if groups.iter().any(|g| g["name"] == kind.group) {
                    continue;
                }
                let version = json!({"groupVersion": kind.api_version(), "version": kind.version});
                groups.push(
                    json!({"name": kind.group, "versions": [version], "preferredVersion": version}),
                );
            }
            Some(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
        }
        "/openapi/v2" => Some(
            json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.33.0"}, "paths": {}, "definitions": {}}),
        ),
        "/openapi/v3" => Some(json!({"paths": {}})),
        _ => {
            let group_version = path
                .strip_prefix("/api/")
                .or_else(|| path.strip_prefix("/apis/"))?;
            let resources: Vec<Value> = served(state)
                .filter(|k| k.api_version() == group_version)
                .flat_map(|k| {
                    let verbs = json!(["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]);
                    let mut list = vec![json!({"name": k.resource, "singularName": k.kind.to_ascii_lowercase(), "namespaced": k.namespaced, "kind": k.kind, "verbs": verbs})];
                    if k.status {
                        list.push(json!({"name": format!("{}/status", k.resource), "singularName": "", "namespaced": k.namespaced, "kind": k.kind, "verbs": ["get", "patch", "update"]}));
                    }
                    if k.resource == "pods" {
                        list.push(json!({"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]}));
                    }
                    list
                })
                .collect();
            if resources.is_empty() {
                return None;
            }
            Some(
                json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
            )
        }
    }
}

/// A resource path: kind, namespace, name, subresource.
fn route(
    state: &State,
    path: &str,
) -> Option<(&'static Kind, String, Option<String>, Option<String>)> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    let (namespace, rest) = match rest {
        ["namespaces", namespace, rest @ ..] if !rest.is_empty() => ((*namespace).to_owned(), rest),
        rest => (String::new(), rest),
    };
    match rest {
        [resource] => Some((
            find_kind(state, group, version, resource)?,
            namespace,
            None,
            None,
        )),
        [resource, name] => Some((
            find_kind(state, group, version, resource)?,
            namespace,
            Some((*name).to_owned()),
            None,
        )),
        [resource, name, sub] => Some((
            find_kind(state, group, version, resource)?,
            namespace,
            Some((*name).to_owned()),
            Some((*sub).to_owned()),
        )),
        _ if group.is_empty() && parts.len() == 4 && parts[2] == "namespaces" => Some((
            find_kind(state, "", "v1", "namespaces")?,
            String::new(),
            Some(parts[3].to_owned()),
            None,
        )),
        _ => None,
    }
}

fn strip_for_list(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("kind");
        map.remove("apiVersion");
    }
    object
}

async fn handle(shared: &Arc<Shared>, request: Request<Incoming>) -> Response<Body> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    let authorization = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let accept = request
        .headers()
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let content_type = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = request
        .into_body()
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let at = shared.started.elapsed();
    let fault = {
        let mut state = shared.lock();
        let fault = state
            .faults
            .iter_mut()
            .find(|(m, p, count, _)| {
                *count > 0 && (m.is_empty() || m == method.as_str()) && path.contains(p.as_str())
            })
            .map(|(_, _, count, status)| {
                *count -= 1;
                *status
            });
        state.faults.retain(|(_, _, count, _)| *count > 0);
        fault
    };
    let answer = match fault {
        Some(0) => {
            // A dropped connection: hyper sees the service error out.
            std::future::pending::<()>().await;
            unreachable!("pending never resolves")
        }
        Some(status) => {
            let reason = if status == 409 {
                "Conflict"
            } else {
                "ServiceUnavailable"
            };
            respond(status, &status_body(status, reason, "injected fault"))
        }
        None if path == "/openapi/v2" && accept.contains("protobuf") => openapi_v2_protobuf(),
        None => answer(shared, &method, &path, &query, &content_type, &body),
    };
    shared.lock().requests.push(Recorded {
        method: method.to_string(),
        path,
        query,
        content_type,
        authorization,
        status: answer.status().as_u16(),
        at,
        unix: now_seconds(),
    });
    answer
}

/// The `OpenAPI` v2 document as client-go asks for it (`gnostic`'s protobuf `Document`): only
/// `swagger: "2.0"` and its `info`, no definitions — so a client validates nothing itself and
/// leaves the judging of objects to the server, as it does for kinds the document lacks.
fn openapi_v2_protobuf() -> Response<Body> {
    fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![(number << 3) | 2, u8::try_from(bytes.len()).expect("short")];
        out.extend_from_slice(bytes);
        out
    }
    let info = [field(1, b"Kubernetes"), field(2, b"v1.33.0")].concat();
    let document = [field(1, b"2.0"), field(2, &info)].concat();
    Response::builder()
        .status(200)
        .header(
            "content-type",
            "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
        )
        .body(Body::Full(Some(Bytes::from(document))))
        .expect("a response")
}

// ----- protobuf (client-go sends core objects so) -----

/// The fields of a protobuf message: (number, varint or bytes).
/// A protobuf field's number and its varint or its bytes.
type Field<'a> = (u64, Result<u64, &'a [u8]>);

fn proto_fields(mut bytes: &[u8]) -> Option<Vec<Field<'_>>> {
    fn varint(bytes: &mut &[u8]) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = bytes.split_first()?;
            *bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    let mut fields = Vec::new();
    while !bytes.is_empty() {
        let tag = varint(&mut bytes)?;
        match tag & 7 {
            0 => fields.push((tag >> 3, Ok(varint(&mut bytes)?))),
            2 => {
                let length = usize::try_from(varint(&mut bytes)?).ok()?;
                let (value, rest) = (bytes.get(..length)?, bytes.get(length..)?);
                bytes = rest;
                fields.push((tag >> 3, Err(value)));
            }
            _ => return None,
        }
    }
    Some(fields)
}

fn proto_text(value: &[u8]) -> Value {
    Value::String(String::from_utf8_lossy(value).into_owned())
}

fn proto_map(entry: &[u8], bytes_values: bool) -> Option<(String, Value)> {
    let mut key = String::new();
    let mut value = Value::String(String::new());
    for (number, field) in proto_fields(entry)? {
        match (number, field) {
            (1, Err(k)) => key = String::from_utf8_lossy(k).into_owned(),
            (2, Err(v)) if bytes_values => {
                use base64::Engine as _;
                value = Value::String(base64::engine::general_purpose::STANDARD.encode(v));
            }
            (2, Err(v)) => value = proto_text(v),
            _ => {}
        }
    }
    Some((key, value))
}

/// A Secret or ConfigMap sent as `application/vnd.kubernetes.protobuf` (`k8s\0` + a
/// `runtime.Unknown` around the object), as JSON.
fn from_protobuf(body: &[u8]) -> Option<Value> {
    let unknown = proto_fields(body.strip_prefix(b"k8s\0")?)?;
    let mut type_meta = Map::new();
    let mut raw: &[u8] = &[];
    for (number, field) in &unknown {
        match (number, field) {
            (1, Err(meta)) => {
                for (n, f) in proto_fields(meta)? {
                    match (n, f) {
                        (1, Err(v)) => type_meta.insert("apiVersion".to_owned(), proto_text(v)),
                        (2, Err(v)) => type_meta.insert("kind".to_owned(), proto_text(v)),
                        _ => None,
                    };
                }
            }
            (2, Err(bytes)) => raw = bytes,
            _ => {}
        }
    }
    let kind = type_meta
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut object = Value::Object(type_meta);
    let (mut data, mut labels, mut annotations) = (Map::new(), Map::new(), Map::new());
    for (number, field) in proto_fields(raw)? {
        match (number, field) {
            (1, Err(meta)) => {
                for (n, f) in proto_fields(meta)? {
                    match (n, f) {
                        (1, Err(v)) => object["metadata"]["name"] = proto_text(v),
                        (2, Err(v)) => object["metadata"]["generateName"] = proto_text(v),
                        (3, Err(v)) => object["metadata"]["namespace"] = proto_text(v),
                        (6, Err(v)) if !v.is_empty() => {
                            object["metadata"]["resourceVersion"] = proto_text(v);
                        }
                        (11, Err(entry)) => {
                            let (k, v) = proto_map(entry, false)?;
                            labels.insert(k, v);
                        }
                        (12, Err(entry)) => {
                            let (k, v) = proto_map(entry, false)?;
                            annotations.insert(k, v);
                        }
                        _ => {}
                    }
                }
            }
            (2, Err(entry)) => {
                let (k, v) = proto_map(entry, kind == "Secret")?;
                data.insert(k, v);
            }
            (3, Err(v)) if kind == "Secret" => object["type"] = proto_text(v),
            (5, Ok(v)) => object["immutable"] = Value::Bool(v != 0),
            _ => {}
        }
    }
    object["metadata"]["labels"] = Value::Object(labels);
    if !annotations.is_empty() {
        object["metadata"]["annotations"] = Value::Object(annotations);
    }
    object["data"] = Value::Object(data);
    Some(object)
}

/// A request, as the proxy forwards it.
struct Forwarded<'a> {
    method: &'a Method,
    path: &'a str,
    query: &'a str,
    content_type: &'a str,
    body: &'a [u8],
}

/// The service proxy to a Service with an upstream ([`FakeKube::proxy_to`]): the request
/// forwarded over HTTP/1.0 (so the answer is never chunked), the answer returned as it came.
fn forward(shared: &Arc<Shared>, request: &Forwarded<'_>) -> Option<Response<Body>> {
    use std::io::{Read as _, Write as _};
    let Forwarded {
        method,
        path,
        query,
        content_type,
        body,
    } = *request;
    let rest = path.strip_prefix("/api/v1/namespaces/")?;
    let (namespace, rest) = rest.split_once("/services/")?;
    let (target, tail) = rest.split_once("/proxy")?;
    let name = target.split(':').nth(1).unwrap_or(target);
    let upstream = {
        let state = shared.lock();
        let upstream = state
            .upstreams
            .get(&(namespace.to_owned(), name.to_owned()))?
            .clone();
        if !state
            .objects
            .contains_key(&("services", namespace.to_owned(), name.to_owned()))
        {
            return Some(respond(
                404,
                &status_body(404, "NotFound", &format!("services \"{name}\" not found")),
            ));
        }
        upstream
    };
    let address = upstream.strip_prefix("http://")?;
    let target = if query.is_empty() {
        (if tail.is_empty() { "/" } else { tail }).to_owned()
    } else {
        format!("{tail}?{query}")
    };
    let exchange = || -> std::io::Result<Vec<u8>> {
        let mut stream = std::net::TcpStream::connect(address)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let head = format!(
            "{method} {target} HTTP/1.0\r\nHost: {address}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nAccept: application/json\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer)?;
        Ok(answer)
    };
    let Ok(answer) = exchange() else {
        return Some(respond(
            503,
            &status_body(
                503,
                "ServiceUnavailable",
                &format!("error trying to reach service: {upstream}"),
            ),
        ));
    };
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    let content_type = head
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    Some(
        Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Body::Full(Some(Bytes::copy_from_slice(
                &answer[split + 4..],
            ))))
            .expect("a response"),
    )
}

/// `GET /api/v1/namespaces/{ns}/services/{name}[:{port}]/proxy/{path}`: the Service's ready
/// pods answer (what [`FakeKube::answer_through`] set, else 200); none ready is the API server's
/// 503.
fn service_proxy(shared: &Arc<Shared>, path: &str) -> Option<Response<Body>> {
    let rest = path.strip_prefix("/api/v1/namespaces/")?;
    let (namespace, rest) = rest.split_once("/services/")?;
    let (target, _) = rest.split_once("/proxy")?;
    let name = target.split(':').next().unwrap_or(target);
    let state = shared.lock();
    let Some(service) = state
        .objects
        .get(&("services", namespace.to_owned(), name.to_owned()))
    else {
        return Some(respond(
            404,
            &status_body(404, "NotFound", &format!("services \"{name}\" not found")),
        ));
    };
    let selector: Vec<String> = service["spec"]["selector"]
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let selector = selector.join(",");
    let ready = state.objects.iter().any(|((resource, ns, _), pod)| {
        *resource == "pods"
            && ns == namespace
            && !selector.is_empty()
            && matches_labels(pod, &selector)
            && pod["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
    });
    if !ready {
        return Some(respond(
            503,
            &status_body(
                503,
                "ServiceUnavailable",
                &format!("no endpoints available for service \"{name}\""),
            ),
        ));
    }
    let status = state.proxied.get(name).copied().unwrap_or(200);
    Some(
        Response::builder()
            .status(status)
            .header("content-type", "text/plain")
            .body(Body::Full(Some(Bytes::from_static(b"ok\n"))))
            .expect("a response"),
    )
}

fn answer(
    shared: &Arc<Shared>,
    method: &Method,
    path: &str,
    query: &str,
    content_type: &str,
    body: &[u8],
) -> Response<Body> {
    let forwarded = Forwarded {
        method,
        path,
        query,
        content_type,
        body,
    };
    if let Some(response) = forward(shared, &forwarded) {
        return response;
    }
    if *method == Method::GET && path.contains("/proxy") {
        if let Some(response) = service_proxy(shared, path) {
            return response;
        }
    }
    if *method == Method::GET {
        if let Some(document) = discovery(&shared.lock(), path) {
            return respond(200, &document);
        }
    }
    let routed = route(&shared.lock(), path);
    let Some((kind, namespace, name, sub)) = routed else {
        return respond(
            404,
            &status_body(
                404,
                "NotFound",
                &format!("the server could not find the requested resource ({path})"),
            ),
        );
    };
    let params = query_map(query);
    let events = &shared.events;
    let parse = |body: &[u8]| -> Result<Value, Box<Response<Body>>> {
        if content_type.starts_with("application/vnd.kubernetes.protobuf") {
            return from_protobuf(body).ok_or_else(|| {
                Box::new(respond(
                    400,
                    &status_body(400, "BadRequest", "the protobuf body could not be decoded"),
                ))
            });
        }
        serde_json::from_slice(body).map_err(|error| {
            Box::new(respond(
                400,
                &status_body(
                    400,
                    "BadRequest",
                    &format!(
                        "the body of the request was in an unknown format ({content_type}): {error}"
                    ),
                ),
            ))
        })
    };
    match (method.clone(), name, sub.as_deref()) {
        (Method::GET, None, None)
            if params.get("watch").is_some_and(|w| w == "true" || w == "1") =>
        {
            watch(shared, kind, &namespace, &params)
        }
        (Method::GET, None, None) => {
            let state = shared.lock();
            let labels = params.get("labelSelector").cloned().unwrap_or_default();
            let fields = params.get("fieldSelector").cloned().unwrap_or_default();
            let items: Vec<Value> = state
                .objects
                .iter()
                .filter(|((r, ns, _), o)| {
                    *r == kind.resource
                        && (namespace.is_empty() || *ns == namespace)
                        && matches_labels(o, &labels)
                        && matches_fields(o, &fields)
                })
                .map(|(_, o)| strip_for_list(o))
                .collect();
            respond(
                200,
                &json!({
                    "kind": format!("{}List", kind.kind), "apiVersion": kind.api_version(),
                    "metadata": {"resourceVersion": state.rv.to_string()}, "items": items
                }),
            )
        }
        (Method::GET, Some(name), None | Some("status")) => {
            let state = shared.lock();
            match state
                .objects
                .get(&(kind.resource, namespace.clone(), name.clone()))
            {
                Some(object) => respond(200, object),
                None => respond(
                    404,
                    &status_body(
                        404,
                        "NotFound",
                        &format!(
                            "{}{} \"{name}\" not found",
                            kind.resource,
                            if kind.group.is_empty() {
                                String::new()
                            } else {
                                format!(".{}", kind.group)
                            }
                        ),
                    ),
                ),
            }
        }
        (Method::GET, Some(name), Some("log")) => {
            let state = shared.lock();
            if !state
                .objects
                .contains_key(&("pods", namespace.clone(), name.clone()))
            {
                return respond(
                    404,
                    &status_body(404, "NotFound", &format!("pods \"{name}\" not found")),
                );
            }
            let log = state
                .logs
                .iter()
                .filter(|((prefix, _), _)| name.starts_with(prefix.as_str()))
                .max_by_key(|((prefix, _), _)| prefix.len())
                .map(|(_, log)| log.clone())
                .unwrap_or_default();
            let tail = params
                .get("tailLines")
                .and_then(|t| t.parse::<usize>().ok());
            let lines: Vec<&str> = log.lines().collect();
            let start = tail.map_or(0, |t| lines.len().saturating_sub(t));
            let mut text = lines[start..].join("\n");
            if !text.is_empty() {
                text.push('\n');
            }
            Response::builder()
                .status(200)
                .header("content-type", "text/plain")
                .body(Body::Full(Some(Bytes::from(text))))
                .expect("a response")
        }
        (Method::POST, None, None) => {
            let object = match parse(body) {
                Ok(object) => object,
                Err(response) => return *response,
            };
            let dry_run = params.get("dryRun").is_some_and(|d| d == "All");
            let mut state = shared.lock();
            if dry_run {
                return respond(201, &object);
            }
            match create(&mut state, events, kind, &namespace, object) {
                Ok(created) => {
                    let name = created["metadata"]["name"].as_str().unwrap_or_default();
                    let key = (kind.resource, namespace.clone(), name.to_owned());
                    owned_update(&mut state, &key, None, &created, &manager_of(&params));
                    control(&mut state, events, now_seconds());
                    respond(201, &created)
                }
                Err((code, body)) => respond(code, &body),
            }
        }
        (Method::PUT, Some(name), sub @ (None | Some("status"))) => {
            let object = match parse(body) {
                Ok(object) => object,
                Err(response) => return *response,
            };
            if object["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n != name)
            {
                return respond(
                    400,
                    &status_body(
                        400,
                        "BadRequest",
                        "the name of the object does not match the name on the URL",
                    ),
                );
            }
            let write = if sub == Some("status") {
                Write::Status
            } else {
                Write::Whole
            };
            let mut state = shared.lock();
            let key = (kind.resource, namespace.clone(), name.clone());
            let old = state.objects.get(&key).cloned();
            match store(&mut state, events, kind, &namespace, &name, object, write) {
                Ok(stored) => {
                    if write == Write::Whole {
                        owned_update(
                            &mut state,
                            &key,
                            old.as_ref(),
                            &stored,
                            &manager_of(&params),
                        );
                    }
                    control(&mut state, events, now_seconds());
                    respond(200, &stored)
                }
                Err((code, body)) => respond(code, &body),
            }
        }
        (Method::PATCH, Some(name), sub @ (None | Some("status"))) => patch(
            shared,
            kind,
            &namespace,
            &name,
            sub == Some("status"),
            content_type,
            body,
            &params,
        ),
        (Method::DELETE, Some(name), None) => {
            let mut state = shared.lock();
            match delete(&mut state, events, kind, &namespace, &name) {
                Some(gone) => respond(200, &gone),
                None => respond(
                    404,
                    &status_body(
                        404,
                        "NotFound",
                        &format!("{} \"{name}\" not found", kind.resource),
                    ),
                ),
            }
        }
        _ => respond(
            405,
            &status_body(
                405,
                "MethodNotAllowed",
                &format!("{method} is not supported on {path}"),
            ),
        ),
    }
}

#[expect(clippy::too_many_arguments, reason = "one request's parts")]
fn patch(
    shared: &Arc<Shared>,
    kind: &'static Kind,
    namespace: &str,
    name: &str,
    status: bool,
    content_type: &str,
    body: &[u8],
    params: &BTreeMap<String, String>,
) -> Response<Body> {
    let events = &shared.events;
    let Ok(patch) = serde_json::from_slice::<Value>(body) else {
        return respond(
            400,
            &status_body(400, "BadRequest", "the patch is not JSON"),
        );
    };
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let mut state = shared.lock();
    let key = (kind.resource, namespace.to_owned(), name.to_owned());
    let existing = state.objects.get(&key).cloned();
    let mut object = match (existing, media) {
        (Some(object), _) => object,
        (None, "application/apply-patch+yaml") => {
            // Apply creates.
            let mut created = patch.clone();
            created["metadata"]["namespace"] = json!(namespace);
            let manager = params.get("fieldManager").cloned().unwrap_or_default();
            if manager.is_empty() {
                return respond(
                    422,
                    &status_body(422, "Invalid", "PATCH with apply requires a fieldManager"),
                );
            }
            return match create(&mut state, events, kind, namespace, created) {
                Ok(created) => {
                    owned_apply(&mut state, &key, &Value::Null, &patch, &manager);
                    state.applied.insert((key, manager), patch);
                    control(&mut state, events, now_seconds());
                    respond(201, &created)
                }
                Err((code, body)) => respond(code, &body),
            };
        }
        (None, _) => {
            return respond(
                404,
                &status_body(
                    404,
                    "NotFound",
                    &format!("{} \"{name}\" not found", kind.resource),
                ),
            );
        }
    };
    let stale_check = patch["metadata"]["resourceVersion"]
        .as_str()
        .map(str::to_owned);
    let original = object.clone();
    match media {
        "application/merge-patch+json" => merge_patch(&mut object, &patch),
        "application/strategic-merge-patch+json" => {
            if matches!(
                kind.group,
                "networking.istio.io" | "gateway.networking.k8s.io"
            ) {
                return respond(
                    415,
                    &status_body(
                        415,
                        "UnsupportedMediaType",
                        "strategic merge patch is not supported for custom resources",
                    ),
                );
            }
            strategic_merge(&mut object, &patch, "");
        }
        "application/json-patch+json" => {
            if let Err(problem) = json_patch(&mut object, &patch) {
                return respond(422, &status_body(422, "Invalid", &problem));
            }
        }
        "application/apply-patch+yaml" => {
            let Some(manager) = params
                .get("fieldManager")
                .cloned()
                .filter(|m| !m.is_empty())
            else {
                return respond(
                    422,
                    &status_body(422, "Invalid", "PATCH with apply requires a fieldManager"),
                );
            };
            let conflicts = apply_conflicts(&state, &key, &object, &patch, &manager);
            let forced = params.get("force").is_some_and(|f| f == "true");
            if !conflicts.is_empty() && !forced {
                let listed: Vec<String> = conflicts
                    .iter()
                    .map(|(owner, path)| {
                        format!(
                            "conflict with \"{owner}\" using {}: .{}",
                            kind.api_version(),
                            path.trim_start_matches('/').replace('/', ".")
                        )
                    })
                    .collect();
                let mut body = status_body(
                    409,
                    "Conflict",
                    &format!(
                        "Apply failed with {} conflict{}: {}",
                        listed.len(),
                        if listed.len() == 1 { "" } else { "s" },
                        listed.join("\n")
                    ),
                );
                body["details"] = json!({"name": name, "group": kind.group, "kind": kind.resource,
                    "causes": conflicts.iter().map(|(_, path)| json!({"reason": "FieldManagerConflict",
                        "field": format!(".{}", path.trim_start_matches('/').replace('/', "."))})).collect::<Vec<_>>()});
                return respond(409, &body);
            }
            let before_apply = object.clone();
            let applied_key = (key.clone(), manager.clone());
            if let Some(before) = state.applied.get(&applied_key) {
                let (mut was, mut now) = (Vec::new(), Vec::new());
                leaves(before, "", "", &mut was);
                leaves(&patch, "", "", &mut now);
                for path in was.iter().filter(|p| !now.contains(p)) {
                    remove_leaf(&mut object, path);
                }
            }
            let mut merged = patch.clone();
            if let Some(meta) = merged["metadata"].as_object_mut() {
                meta.remove("resourceVersion");
            }
            strategic_merge(&mut object, &merged, "");
            owned_apply(&mut state, &key, &before_apply, &patch, &manager);
            state.applied.insert(applied_key, patch.clone());
        }
        other => {
            return respond(
                415,
                &status_body(
                    415,
                    "UnsupportedMediaType",
                    &format!(
                        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {other})"
                    ),
                ),
            );
        }
    }
    // A patch carrying a resourceVersion is a precondition, like a PUT's.
    let current_rv = state
        .objects
        .get(&key)
        .map(|o| o["metadata"]["resourceVersion"].clone())
        .unwrap_or_default();
    object["metadata"]["resourceVersion"] = match stale_check {
        Some(rv) => json!(rv),
        None => current_rv,
    };
    let write = if status { Write::Status } else { Write::Whole };
    match store(&mut state, events, kind, namespace, name, object, write) {
        Ok(stored) => {
            if media != "application/apply-patch+yaml" && !status {
                owned_update(
                    &mut state,
                    &key,
                    Some(&original),
                    &stored,
                    &manager_of(params),
                );
            }
            control(&mut state, events, now_seconds());
            respond(200, &stored)
        }
        Err((code, body)) => respond(code, &body),
    }
}

fn watch_line(kind_word: &str, object: &Value) -> Bytes {
    let mut line = json!({"type": kind_word, "object": object}).to_string();
    line.push('\n');
    Bytes::from(line)
}

fn watch(
    shared: &Arc<Shared>,
    kind: &'static Kind,
    namespace: &str,
    params: &BTreeMap<String, String>,
) -> Response<Body> {
    let (sender, receiver) = mpsc::channel::<Bytes>(1024);
    let labels = params.get("labelSelector").cloned().unwrap_or_default();
    let fields = params.get("fieldSelector").cloned().unwrap_or_default();
    let bookmarks = params
        .get("allowWatchBookmarks")
        .is_some_and(|b| b == "true");
    let initial = params.get("sendInitialEvents").is_some_and(|b| b == "true");
    let timeout = params
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800);
    let from: Option<u64> = params
        .get("resourceVersion")
        .and_then(|rv| rv.parse().ok())
        .filter(|rv| *rv > 0);
    let namespace = namespace.to_owned();
    let selected = move |event: &Event| -> bool {
        event.kind.resource == kind.resource
            && (namespace.is_empty() || event.namespace == namespace)
            && matches_labels(&event.object, &labels)
            && matches_fields(&event.object, &fields)
    };
    let mut subscription = shared.events.subscribe();
    let mut backlog: Vec<Bytes> = Vec::new();
    let last_rv;
    {
        let state = shared.lock();
        last_rv = state.rv;
        // Without a version (or with sendInitialEvents), the current objects come first as
        // ADDED; with sendInitialEvents a bookmark marks their end.
        if initial || from.is_none() {
            for ((resource, _, _), object) in &state.objects {
                let event = Event {
                    rv: 0,
                    kind,
                    namespace: object["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    kind_word: "ADDED",
                    object: object.clone(),
                };
                if *resource == kind.resource && selected(&event) {
                    backlog.push(watch_line("ADDED", object));
                }
            }
        }
        if initial {
            let bookmark = json!({"kind": kind.kind, "apiVersion": kind.api_version(), "metadata": {
                "resourceVersion": state.rv.to_string(), "annotations": {"k8s.io/initial-events-end": "true"}}});
            backlog.push(watch_line("BOOKMARK", &bookmark));
        } else if let Some(from) = from {
            if from < state.floor {
                let gone = status_body(
                    410,
                    "Expired",
                    &format!("too old resource version: {from} ({})", state.floor),
                );
                backlog.push(watch_line("ERROR", &gone));
                let _ = sender.try_send(backlog.remove(0));
                drop(sender);
                return Response::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(Body::Stream(receiver))
                    .expect("a response");
            }
            for event in state.log.iter().filter(|e| e.rv > from) {
                if selected(event) {
                    backlog.push(watch_line(event.kind_word, &event.object));
                }
            }
        }
    }
    tokio::spawn(async move {
        for line in backlog {
            if sender.send(line).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
        loop {
            let next = tokio::time::timeout_at(deadline, subscription.recv()).await;
            let event = match next {
                Err(_) | Ok(Err(broadcast::error::RecvError::Closed)) => return,
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                    let gone = status_body(410, "Expired", "too old resource version");
                    let _ = sender.send(watch_line("ERROR", &gone)).await;
                    return;
                }
                Ok(Ok(event)) => event,
            };
            if event.kind_word == "CLOSE" {
                return;
            }
            if event.rv <= last_rv && event.kind_word != "BOOKMARK" {
                continue;
            }
            let line = if event.kind_word == "BOOKMARK" {
                if !bookmarks {
                    continue;
                }
                watch_line(
                    "BOOKMARK",
                    &json!({"kind": kind.kind, "apiVersion": kind.api_version(), "metadata": {"resourceVersion": event.rv.to_string()}}),
                )
            } else if selected(&event) {
                watch_line(event.kind_word, &event.object)
            } else {
                continue;
            };
            if sender.send(line).await.is_err() {
                return;
            }
        }
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::Stream(receiver))
        .expect("a response")
}
