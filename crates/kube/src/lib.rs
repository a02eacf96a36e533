//! gantry-kube: the one Kubernetes edge (helm-deploy and drift-report both use it).
//!
//! A [`Cluster`] is a kube-rs client from the kubeconfig kube-rs finds the way kubectl does
//! (`KUBECONFIG`, `~/.kube/config`, the in-cluster service account; contexts; exec credential
//! plugins) and one namespace. What it does: read Helm's release records, read and write the
//! routing objects (a write is the whole object back with its `resourceVersion`; a 409 is read
//! again and written again, never forced), read a routing back until it holds, and follow a
//! release's workloads and pods by list + watch, resuming after `410 Gone`.
//!
//! Failures are [`Error`]s that say whether the cluster could not be reached (exit 3) or
//! refused what was asked (the deploy fails).

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::Value;

use gantry_helm_deploy::plan::{Routing, Track, Traffic};
use gantry_helm_deploy::release::{self, Release};
use gantry_helm_deploy::routing::{self, Route};

/// What went wrong talking to the cluster.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No kubeconfig, a context it does not have, credentials that cannot be had.
    #[error("kubeconfig: {0}")]
    Config(String),
    /// The API server could not be reached, or kept failing (5xx, 429) after retries.
    #[error("the Kubernetes API server could not be reached: {0}")]
    Unreachable(String),
    /// The API server refused (403, 404, 422…).
    #[error("the Kubernetes API server refused {what}: {message}")]
    Refused {
        /// What was asked.
        what: String,
        /// What the server said.
        message: String,
        /// The HTTP status.
        code: u16,
    },
    /// An object that is not what the chart contract says.
    #[error("{0}")]
    Contract(String),
    /// A routing that did not hold.
    #[error("{0}")]
    NotHeld(String),
}

impl Error {
    /// The cluster could not be reached (exit 3), as opposed to refusing.
    #[must_use]
    pub const fn unreachable(&self) -> bool {
        matches!(self, Self::Unreachable(_) | Self::Config(_))
    }
}

fn classify(what: &str, error: kube::Error) -> Error {
    match error {
        kube::Error::Api(status) if status.code >= 500 || status.code == 429 => {
            Error::Unreachable(format!("{what}: {} {}", status.code, status.message))
        }
        kube::Error::Api(status) => Error::Refused {
            what: what.to_owned(),
            message: status.message.clone(),
            code: status.code,
        },
        other => Error::Unreachable(format!("{what}: {other}")),
    }
}

const ATTEMPTS: u32 = 6;

/// The wait before attempt `attempt` + 1: 0.2 s doubling, at most 2 s (about 5 s in all).
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((200u64 << attempt.saturating_sub(1).min(4)).min(2000))
}

/// Runs `call` until it succeeds or fails for good: unreachable and 5xx or 429 answers are
/// retried with [`backoff`], refusals are not. (kube's own retry layer is off — its default
/// retries a 503 fifteen times over minutes, which would hold a deploy hostage to a dead API
/// server.)
async fn retried<T, F, Fut>(what: &str, mut call: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(error) => {
                let error = classify(what, error);
                if !error.unreachable() || attempt >= ATTEMPTS {
                    return Err(error);
                }
                tracing::debug!(%error, attempt, "retrying");
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
        }
    }
}

/// A namespaced Kubernetes object kind the edge reads and writes (every k8s-openapi one).
pub trait Object:
    kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType: Default>
    + Clone
    + serde::de::DeserializeOwned
    + serde::Serialize
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
}

impl<K> Object for K where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType: Default>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug
        + Send
        + Sync
        + 'static
{
}

/// A cluster and the namespace a deploy works in.
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    namespace: String,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// The API resource of a routing object.
/// Creates `object`, or replaces the one named `name` with the `resourceVersion` read; a 409
/// (someone wrote in between) reads again.
async fn create_or_replace<K>(api: &Api<K>, what: &str, name: &str, object: &K) -> Result<(), Error>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    for _ in 0..ATTEMPTS {
        match retried(what, || api.get_opt(name)).await? {
            None => match api.create(&PostParams::default(), object).await {
                Ok(_) => return Ok(()),
                Err(kube::Error::Api(status)) if status.code == 409 => {}
                Err(error) => return Err(classify(what, error)),
            },
            Some(existing) => {
                let mut next = object.clone();
                next.meta_mut()
                    .resource_version
                    .clone_from(&existing.meta().resource_version);
                match api.replace(name, &PostParams::default(), &next).await {
                    Ok(_) => return Ok(()),
                    Err(kube::Error::Api(status)) if status.code == 409 => {}
                    Err(error) => return Err(classify(what, error)),
                }
            }
        }
    }
    Err(Error::NotHeld(format!(
        "{what}: every write conflicted with another writer"
    )))
}

/// Deletes the object `name` in the background; one already gone is fine.
async fn delete_named<K>(api: &Api<K>, what: &str, name: &str) -> Result<(), Error>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let params = kube::api::DeleteParams::background();
    match retried(what, || api.delete(name, &params)).await {
        Ok(_) | Err(Error::Refused { code: 404, .. }) => Ok(()),
        Err(error) => Err(error),
    }
}

fn route_resource(traffic: Traffic) -> ApiResource {
    let (group, version, kind, plural) = match traffic {
        Traffic::Istio => (
            "networking.istio.io",
            "v1",
            "VirtualService",
            "virtualservices",
        ),
        Traffic::GatewayApi => ("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes"),
        Traffic::Service => ("", "v1", "Service", "services"),
    };
    ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: if group.is_empty() {
            version.to_owned()
        } else {
            format!("{group}/{version}")
        },
        kind: kind.to_owned(),
        plural: plural.to_owned(),
    }
}

impl Cluster {
    /// Connects with the kubeconfig's `context` (or its current one; in a pod, the service
    /// account), for `namespace`.
    pub async fn connect(context: Option<&str>, namespace: &str) -> Result<Self, Error> {
        let config = match context {
            Some(context) => {
                let kubeconfig =
                    Kubeconfig::read().map_err(|error| Error::Config(error.to_string()))?;
                let options = KubeConfigOptions {
                    context: Some(context.to_owned()),
                    ..KubeConfigOptions::default()
                };
                kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(|error| Error::Config(format!("context {context:?}: {error}")))?
            }
            None => kube::Config::infer()
                .await
                .map_err(|error| Error::Config(no_kubeconfig().unwrap_or(error.to_string())))?,
        };
        Self::with_config(config, namespace)
    }

    fn with_config(mut config: kube::Config, namespace: &str) -> Result<Self, Error> {
        config.default_retry = false;
        let client =
            kube::Client::try_from(config).map_err(|error| Error::Config(error.to_string()))?;
        Ok(Self {
            client,
            namespace: namespace.to_owned(),
        })
    }

    /// Connects with a kubeconfig file's `context` (or its current one), for `namespace`.
    pub async fn from_kubeconfig(
        path: &std::path::Path,
        context: Option<&str>,
        namespace: &str,
    ) -> Result<Self, Error> {
        let kubeconfig = Kubeconfig::read_from(path)
            .map_err(|error| Error::Config(format!("{}: {error}", path.display())))?;
        let options = KubeConfigOptions {
            context: context.map(str::to_owned),
            ..KubeConfigOptions::default()
        };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|error| Error::Config(format!("{}: {error}", path.display())))?;
        Self::with_config(config, namespace)
    }

    /// The client (for callers that need another API).
    #[must_use]
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// The namespace.
    #[must_use]
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// A release's revisions, newest first, from its Secrets.
    pub async fn history(&self, name: &str) -> Result<Vec<Release>, Error> {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), &self.namespace);
        let params = ListParams::default().labels(&release::selector(name));
        let what = format!("the release Secrets of {name:?}");
        let list = retried(&what, || secrets.list(&params)).await?;
        release::history(name, &list.items).map_err(|error| Error::Contract(error.to_string()))
    }

    /// A routing object (a `VirtualService`, an `HTTPRoute` or the Service switched), as JSON.
    pub async fn route(&self, traffic: Traffic, name: &str) -> Result<Value, Error> {
        let resource = route_resource(traffic);
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), &self.namespace, &resource);
        let what = format!("{} {name:?}", resource.kind);
        let object = retried(&what, || api.get(name)).await?;
        serde_json::to_value(object).map_err(|error| Error::Contract(error.to_string()))
    }

    /// Every routing object of a kind in the namespace, as JSON (an absent CRD: none).
    pub async fn routes(&self, traffic: Traffic) -> Result<Vec<Value>, Error> {
        let resource = route_resource(traffic);
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), &self.namespace, &resource);
        let what = format!("the {} objects", resource.kind);
        let params = ListParams::default();
        let list = match retried(&what, || api.list(&params)).await {
            Ok(list) => list,
            Err(Error::Refused { code: 404, .. }) => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        list.items
            .into_iter()
            .map(|item| serde_json::to_value(item).map_err(|e| Error::Contract(e.to_string())))
            .collect()
    }

    /// Creates or replaces a routing object given as JSON.
    pub async fn put_route(&self, traffic: Traffic, object: &Value) -> Result<(), Error> {
        let resource = route_resource(traffic);
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), &self.namespace, &resource);
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let what = format!("{} {name:?}", resource.kind);
        let next: DynamicObject = serde_json::from_value(object.clone())
            .map_err(|error| Error::Contract(error.to_string()))?;
        create_or_replace(&api, &what, &name, &next).await
    }

    /// Deletes a routing object (none there is done).
    pub async fn delete_route(&self, traffic: Traffic, name: &str) -> Result<(), Error> {
        let resource = route_resource(traffic);
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), &self.namespace, &resource);
        let what = format!("{} {name:?}", resource.kind);
        delete_named(&api, &what, name).await
    }

    /// Writes `routing` into the routing object: read, change, replace with the
    /// `resourceVersion` read; a 409 (someone wrote in between) reads again.
    pub async fn write_routing(
        &self,
        route: &Route,
        tracks: &[Track],
        routing: &Routing,
    ) -> Result<(), Error> {
        let resource = route_resource(route.traffic);
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client.clone(), &self.namespace, &resource);
        let name = &route.object;
        let what = format!("{} {name:?}", resource.kind);
        for _ in 0..ATTEMPTS {
            let current = self.route(route.traffic, name).await?;
            let next = routing::write(&current, route, &self.namespace, tracks, routing)
                .map_err(|error| Error::Contract(error.to_string()))?;
            let object: DynamicObject =
                serde_json::from_value(next).map_err(|error| Error::Contract(error.to_string()))?;
            match api.replace(name, &PostParams::default(), &object).await {
                Ok(_) => return Ok(()),
                Err(kube::Error::Api(status)) if status.code == 409 => {
                    tracing::debug!(%what, "conflict; reading again");
                }
                Err(error) => {
                    let error = classify(&what, error);
                    if !error.unreachable() {
                        return Err(error);
                    }
                    tokio::time::sleep(backoff(1)).await;
                }
            }
        }
        Err(Error::NotHeld(format!(
            "{what}: {ATTEMPTS} writes of {routing} in a row conflicted with another writer"
        )))
    }
}

impl Cluster {
    fn api<K: Object>(&self) -> Api<K> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// The same cluster, working in `namespace`.
    #[must_use]
    pub fn in_namespace(&self, namespace: &str) -> Self {
        Self {
            client: self.client.clone(),
            namespace: namespace.to_owned(),
        }
    }

    /// An object of any kind the API server serves, as JSON, found by discovery (a kind that
    /// is cluster-scoped is read without a namespace; `namespace` `None` is this cluster's).
    /// `None` when it is not there — also when its kind is no longer served: deleting a CRD
    /// deletes its objects.
    pub async fn get_object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, Error> {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
        let what = format!("the API resource of {api_version} {kind}");
        let client = self.client.clone();
        let found = retried(&what, || {
            let client = client.clone();
            let gvk = gvk.clone();
            async move {
                match kube::discovery::pinned_kind(&client, &gvk).await {
                    Ok(found) => Ok(Some(found)),
                    Err(kube::Error::Discovery(_)) => Ok(None),
                    Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
                    Err(error) => Err(error),
                }
            }
        })
        .await?;
        let Some((resource, capabilities)) = found else {
            return Ok(None);
        };
        let api: Api<DynamicObject> = match capabilities.scope {
            kube::discovery::Scope::Cluster => Api::all_with(self.client.clone(), &resource),
            kube::discovery::Scope::Namespaced => Api::namespaced_with(
                self.client.clone(),
                namespace.unwrap_or(&self.namespace),
                &resource,
            ),
        };
        let what = format!("{kind} {name:?}");
        let object = retried(&what, || api.get_opt(name)).await?;
        object
            .map(|object| {
                serde_json::to_value(object).map_err(|error| Error::Contract(error.to_string()))
            })
            .transpose()
    }

    /// The objects of a kind with these labels (`app.kubernetes.io/instance=web`).
    pub async fn list<K: Object>(&self, selector: &str) -> Result<Vec<K>, Error> {
        let api = self.api::<K>();
        let params = ListParams::default().labels(selector);
        let what = format!(
            "the {} labelled {selector}",
            K::plural(&K::DynamicType::default())
        );
        Ok(retried(&what, || api.list(&params)).await?.items)
    }

    /// One object, if it exists.
    pub async fn get<K: Object>(&self, name: &str) -> Result<Option<K>, Error> {
        let api = self.api::<K>();
        let what = format!("{} {name:?}", K::kind(&K::DynamicType::default()));
        retried(&what, || api.get_opt(name)).await
    }

    /// Creates an object, or replaces the one of its name (the deploy's own copies).
    pub async fn put<K: Object>(&self, object: &K) -> Result<(), Error> {
        let api = self.api::<K>();
        let name = object.meta().name.clone().unwrap_or_default();
        let what = format!("{} {name:?}", K::kind(&K::DynamicType::default()));
        create_or_replace(&api, &what, &name, object).await
    }

    /// Deletes an object; one already gone is fine.
    pub async fn delete<K: Object>(&self, name: &str) -> Result<(), Error> {
        let api = self.api::<K>();
        let what = format!("{} {name:?}", K::kind(&K::DynamicType::default()));
        delete_named(&api, &what, name).await
    }

    /// A `GET` of `path` on the API server as it stands (a Service's proxy path): the status and
    /// how long the answer took. Not retried: a health check that needed retries failed.
    pub async fn get_raw(&self, path: &str, timeout: Duration) -> Result<(u16, Duration), Error> {
        let request = http::Request::get(path)
            .body(kube::client::Body::empty())
            .map_err(|error| Error::Contract(format!("{path}: {error}")))?;
        let started = std::time::Instant::now();
        match tokio::time::timeout(timeout, self.client.send(request)).await {
            Err(_) => Err(Error::Unreachable(format!(
                "{path}: no answer within {} ms",
                timeout.as_millis()
            ))),
            Ok(Err(error)) => Err(classify(path, error)),
            Ok(Ok(response)) => Ok((response.status().as_u16(), started.elapsed())),
        }
    }

    /// A `POST` of a form to `path` on the API server as it stands (a Service's proxy path):
    /// the status and the body, within `timeout`. Not retried: the caller's client retries.
    pub async fn post_raw(
        &self,
        path: &str,
        form: Vec<u8>,
        timeout: Duration,
    ) -> Result<(u16, Vec<u8>), Error> {
        let request = http::Request::post(path)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(kube::client::Body::from(form))
            .map_err(|error| Error::Contract(format!("{path}: {error}")))?;
        let exchange = async {
            let response = self.client.send(request).await?;
            let status = response.status().as_u16();
            let body = response.into_body().collect_bytes().await?;
            Ok::<_, kube::Error>((status, body.to_vec()))
        };
        match tokio::time::timeout(timeout, exchange).await {
            Err(_) => Err(Error::Unreachable(format!(
                "{path}: no answer within {} ms",
                timeout.as_millis()
            ))),
            Ok(Err(error)) => Err(classify(path, error)),
            Ok(Ok(answer)) => Ok(answer),
        }
    }

    /// A pod's events, oldest first, as `Reason: message`.
    pub async fn events(&self, pod: &str) -> Result<Vec<String>, Error> {
        let api = self.api::<k8s_openapi::api::core::v1::Event>();
        let params = ListParams::default().fields(&format!("involvedObject.name={pod}"));
        let mut events = retried("the pod's events", || api.list(&params))
            .await?
            .items;
        events.sort_by(|a, b| {
            let at = |e: &k8s_openapi::api::core::v1::Event| {
                e.last_timestamp
                    .as_ref()
                    .or(e.first_timestamp.as_ref())
                    .map(|t| t.0)
            };
            at(a).cmp(&at(b))
        });
        Ok(events
            .into_iter()
            .map(|event| {
                format!(
                    "{}: {}",
                    event.reason.unwrap_or_default(),
                    event.message.unwrap_or_default()
                )
            })
            .collect())
    }

    /// A container's last `lines` log lines (of its previous run, when `previous`).
    pub async fn logs(
        &self,
        pod: &str,
        container: Option<&str>,
        previous: bool,
        lines: i64,
    ) -> Result<Vec<String>, Error> {
        let api = self.api::<k8s_openapi::api::core::v1::Pod>();
        let params = kube::api::LogParams {
            container: container.map(str::to_owned),
            previous,
            tail_lines: Some(lines),
            ..kube::api::LogParams::default()
        };
        let text = retried("the pod's logs", || api.logs(pod, &params)).await?;
        Ok(text.lines().map(str::to_owned).collect())
    }
}

type Events<K> = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<kube::api::WatchEvent<K>, kube::Error>> + Send>,
>;

/// The objects of one kind with one label selector, kept current by a list and then a watch
/// from its `resourceVersion` (with bookmarks), as kubectl's `rollout status` follows a rollout:
/// a few requests however many pods change. A watch that ends is resumed from the last version
/// seen; one answered `410 Gone` lists again.
pub struct Follow<K: Object> {
    api: Api<K>,
    selector: String,
    /// A field selector (`metadata.name=web`), when the objects are named rather than labelled.
    fields: String,
    objects: std::collections::BTreeMap<String, K>,
    version: String,
    events: Option<Events<K>>,
    requests: u64,
    /// Watch failures in a row, kept across calls to [`Self::next`] (a caller may give up
    /// waiting for one and call again: the count must not start over).
    failures: u32,
}

impl<K: Object> std::fmt::Debug for Follow<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follow")
            .field("selector", &self.selector)
            .field("objects", &self.objects.len())
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl<K: Object> Follow<K> {
    /// Lists the objects; [`Self::next`] then follows them.
    pub async fn start(cluster: &Cluster, selector: &str) -> Result<Self, Error> {
        Self::start_with(cluster, selector, "").await
    }

    /// Lists the one object called `name` (by a field selector: whatever its labels); then
    /// follows it as [`Self::start`] does.
    pub async fn start_named(cluster: &Cluster, name: &str) -> Result<Self, Error> {
        Self::start_with(cluster, "", &format!("metadata.name={name}")).await
    }

    async fn start_with(cluster: &Cluster, selector: &str, fields: &str) -> Result<Self, Error> {
        let mut follow = Self {
            api: cluster.api::<K>(),
            selector: selector.to_owned(),
            fields: fields.to_owned(),
            objects: std::collections::BTreeMap::new(),
            version: String::new(),
            events: None,
            requests: 0,
            failures: 0,
        };
        follow.list().await?;
        Ok(follow)
    }

    async fn list(&mut self) -> Result<(), Error> {
        let mut params = ListParams::default();
        if !self.selector.is_empty() {
            params = params.labels(&self.selector);
        }
        if !self.fields.is_empty() {
            params = params.fields(&self.fields);
        }
        let what = format!(
            "the {} {}",
            K::plural(&K::DynamicType::default()),
            self.described()
        );
        self.requests += 1;
        let list = retried(&what, || self.api.list(&params)).await?;
        self.version = list.metadata.resource_version.unwrap_or_default();
        self.objects = list
            .items
            .into_iter()
            .map(|object| (object.meta().name.clone().unwrap_or_default(), object))
            .collect();
        self.events = None;
        Ok(())
    }

    /// What is followed, in words (`labelled app=web`, `with metadata.name=web`).
    fn described(&self) -> String {
        if self.fields.is_empty() {
            format!("labelled {}", self.selector)
        } else {
            format!("with {}", self.fields)
        }
    }

    /// The objects as last seen.
    pub fn objects(&self) -> impl Iterator<Item = &K> {
        self.objects.values()
    }

    /// Requests made so far (lists and watches).
    #[must_use]
    pub const fn requests(&self) -> u64 {
        self.requests
    }

    /// Waits for the next change and applies it (a bookmark only moves the version on).
    pub async fn next(&mut self) -> Result<(), Error> {
        use futures_util::StreamExt as _;
        loop {
            if self.events.is_none() {
                let mut params = kube::api::WatchParams {
                    bookmarks: true,
                    ..kube::api::WatchParams::default()
                }
                .timeout(290);
                if !self.selector.is_empty() {
                    params = params.labels(&self.selector);
                }
                if !self.fields.is_empty() {
                    params = params.fields(&self.fields);
                }
                self.requests += 1;
                match self.api.watch(&params, &self.version).await {
                    Ok(stream) => self.events = Some(Box::pin(stream)),
                    Err(error) => {
                        let error = classify("a watch", error);
                        self.failures += 1;
                        if !error.unreachable() || self.failures >= ATTEMPTS {
                            return Err(error);
                        }
                        tokio::time::sleep(backoff(self.failures)).await;
                        continue;
                    }
                }
            }
            let Some(events) = self.events.as_mut() else {
                continue;
            };
            let event = match events.next().await {
                // The server ended the watch (its timeout): resume from where it was.
                None => {
                    self.events = None;
                    continue;
                }
                Some(Err(error)) => {
                    tracing::debug!(%error, "watch broke; resuming");
                    self.events = None;
                    self.failures += 1;
                    if self.failures >= ATTEMPTS {
                        return Err(classify("a watch", error));
                    }
                    continue;
                }
                Some(Ok(event)) => {
                    self.failures = 0;
                    event
                }
            };
            let name = |object: &K| object.meta().name.clone().unwrap_or_default();
            let version = |object: &K| object.meta().resource_version.clone().unwrap_or_default();
            match event {
                kube::api::WatchEvent::Added(object) | kube::api::WatchEvent::Modified(object) => {
                    self.version = version(&object);
                    self.objects.insert(name(&object), object);
                    return Ok(());
                }
                kube::api::WatchEvent::Deleted(object) => {
                    self.version = version(&object);
                    self.objects.remove(&name(&object));
                    return Ok(());
                }
                kube::api::WatchEvent::Bookmark(bookmark) => {
                    self.version = bookmark.metadata.resource_version;
                }
                kube::api::WatchEvent::Error(status) if status.code == 410 => {
                    // The version is gone from the server's history: start again from a list.
                    self.list().await?;
                    return Ok(());
                }
                kube::api::WatchEvent::Error(status) => {
                    return Err(Error::Refused {
                        what: format!("a watch of the objects {}", self.described()),
                        message: status.message,
                        code: status.code,
                    });
                }
            }
        }
    }
}

/// The next change of any of `follows` (never, when there are none): for `select!` over the
/// followers of a release's workloads, one per workload.
pub async fn next_of_any<K: Object>(follows: &mut [Follow<K>]) -> Result<(), Error> {
    if follows.is_empty() {
        return std::future::pending().await;
    }
    let waiting: Vec<_> = follows
        .iter_mut()
        .map(|follow| Box::pin(follow.next()))
        .collect();
    futures_util::future::select_all(waiting).await.0
}

/// The next change of an optional follower (never, without one): for `select!` over followers
/// of kinds that may have no objects.
pub async fn next_if<K: Object>(follow: Option<&mut Follow<K>>) -> Result<(), Error> {
    match follow {
        Some(follow) => follow.next().await,
        None => std::future::pending().await,
    }
}

/// What to say when no cluster is configured at all — no `KUBECONFIG` file, no
/// `~/.kube/config`, not a pod with a service account — instead of kube-rs's two nested reasons;
/// `None` when one of them is there (its own error then says what is wrong with it).
fn no_kubeconfig() -> Option<String> {
    let named: Vec<std::path::PathBuf> = std::env::var_os("KUBECONFIG")
        .map(|paths| std::env::split_paths(&paths).collect())
        .unwrap_or_default();
    let home = std::env::var_os("HOME")
        .map(|home| std::path::Path::new(&home).join(".kube").join("config"));
    let in_cluster = std::env::var_os("KUBERNETES_SERVICE_HOST").is_some();
    let any_file = named.iter().any(|path| path.is_file())
        || (named.is_empty() && home.as_ref().is_some_and(|path| path.is_file()));
    if any_file || in_cluster {
        return None;
    }
    let looked = if named.is_empty() {
        format!(
            "KUBECONFIG is not set and {} does not exist",
            home.map_or_else(
                || "~/.kube/config".to_owned(),
                |path| path.display().to_string()
            )
        )
    } else {
        format!(
            "KUBECONFIG names {}, which does not exist",
            named
                .iter()
                .map(|path| path.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Some(format!(
        "no kubeconfig: {looked}, and this is not a pod with a service account. Add a step before this one that logs in to the cluster (azure/k8s-set-context, `aws eks update-kubeconfig`, google-github-actions/get-gke-credentials), or set KUBECONFIG"
    ))
}
