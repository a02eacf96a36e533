//! The real kube-rs client against the fake API server: what helm-deploy and drift-report rely
//! on the server to do, and the edge's own retries, conflicts and read-backs.

use std::time::Duration;

use gantry_helm_deploy::failure::{Cause, Watcher};
use gantry_helm_deploy::plan::{self, Routing, Strategy, Traffic, Weights};
use gantry_helm_deploy::readiness::{self, Rollout};
use gantry_helm_deploy::release::{self, Status};
use gantry_kube::Cluster;
use gantry_testkit::fake_kube::{Behaviour, FakeKube};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::{Value, json};
use tokio_stream_shim::next;

mod tokio_stream_shim {
    use futures_util::StreamExt as _;
    pub(crate) async fn next<S: futures_util::Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
        stream.next().await
    }
}

async fn cluster(fake: &FakeKube, context: Option<&str>) -> (Cluster, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, fake.kubeconfig()).unwrap();
    let cluster = Cluster::from_kubeconfig(&path, context, "default")
        .await
        .unwrap();
    (cluster, dir)
}

fn deployment(name: &str, image: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/instance": name}},
            "template": {"metadata": {"labels": {"app.kubernetes.io/instance": name}},
                "spec": {"containers": [{"name": "app", "image": image}, {"name": "side", "image": "envoy:1"}]}}}
    })
}

fn virtual_service() -> Value {
    json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"hosts": ["web"], "http": [{"route": [
            {"destination": {"host": "web"}, "weight": 100},
            {"destination": {"host": "web-canary"}, "weight": 0},
            {"destination": {"host": "web-baseline"}, "weight": 0}
        ]}]}
    })
}

async fn wait_for<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..100 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within 10 s");
}

#[tokio::test]
async fn a_deployment_becomes_ready_by_kubectls_rules_and_a_crash_loop_is_seen_in_seconds() {
    let fake = FakeKube::start();
    fake.behave("crash", Behaviour::CrashLoop);
    let (cluster, _dir) = cluster(&fake, None).await;
    let api: Api<Deployment> = Api::namespaced(cluster.client(), "default");
    let created = api
        .create(
            &PostParams::default(),
            &serde_json::from_value(deployment("web", "shop/web:1", 3)).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    wait_for("web ready", async || {
        let d = api.get("web").await.unwrap();
        (readiness::deployment(&d, None) == Rollout::Done).then_some(())
    })
    .await;
    // A new image rolls out; while it crash-loops the old pods keep serving and the watcher
    // names the cause.
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "shop/web:crash"}]}}}});
    let patched = api
        .patch("web", &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .unwrap();
    let containers = &patched
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers;
    assert_eq!(
        containers.len(),
        2,
        "strategic merge keeps the other container"
    );
    assert_eq!(containers[0].image.as_deref(), Some("shop/web:crash"));
    assert_eq!(patched.metadata.generation, Some(2));
    let pods: Api<Pod> = Api::namespaced(cluster.client(), "default");
    let mut watcher = Watcher::default();
    let started = std::time::Instant::now();
    let failure = wait_for("a crash loop", async || {
        let list = pods.list(&ListParams::default()).await.unwrap();
        let new: Vec<Pod> = list
            .items
            .into_iter()
            .filter(|p| {
                p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("shop/web:crash")
            })
            .collect();
        #[expect(clippy::cast_possible_wrap)]
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        watcher.observe(now, &new)
    })
    .await;
    assert_eq!(failure.cause, Cause::CrashLoopBackOff, "{failure:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let d = api.get("web").await.unwrap();
    assert!(matches!(
        readiness::deployment(&d, None),
        Rollout::Waiting(_)
    ));
    assert_eq!(
        d.status.unwrap().available_replicas,
        Some(3),
        "the old pods still serve"
    );
}

#[tokio::test]
async fn the_status_subresource_and_stale_writes_behave_as_the_real_server() {
    let fake = FakeKube::start();
    let (cluster, _dir) = cluster(&fake, None).await;
    let api: Api<Deployment> = Api::namespaced(cluster.client(), "default");
    let mut d: Deployment = serde_json::from_value(deployment("paused", "x:1", 1)).unwrap();
    d.spec.as_mut().unwrap().paused = Some(true);
    let d = api.create(&PostParams::default(), &d).await.unwrap();
    // A write to the object ignores its status; a stale resourceVersion is a 409.
    let mut changed = d.clone();
    changed.status = Some(k8s_openapi::api::apps::v1::DeploymentStatus {
        replicas: Some(42),
        ..Default::default()
    });
    changed.spec.as_mut().unwrap().replicas = Some(2);
    let written = api
        .replace("paused", &PostParams::default(), &changed)
        .await
        .unwrap();
    assert_eq!(written.status.as_ref().and_then(|s| s.replicas), None);
    assert_eq!(written.metadata.generation, Some(2));
    let stale = api
        .replace("paused", &PostParams::default(), &changed)
        .await
        .unwrap_err();
    assert!(
        matches!(stale, kube::Error::Api(ref s) if s.code == 409 && s.reason == "Conflict"),
        "{stale:?}"
    );
    let exists = api.create(&PostParams::default(), &d).await.unwrap_err();
    assert!(
        matches!(exists, kube::Error::Api(ref s) if s.code == 409 && s.reason == "AlreadyExists")
    );
    // Server-side apply: a manager's dropped field goes, another manager's stays.
    let apply = |image: &str, env: Option<&str>| {
        let mut container = json!({"name": "app", "image": image});
        if let Some(env) = env {
            container["env"] = json!([{"name": env, "value": "1"}]);
        }
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "paused"},
            "spec": {"template": {"spec": {"containers": [container]}}}})
    };
    // An apply that changes a field another manager set is refused unless forced, as
    // server-side apply refuses it; forced, the applier owns the field.
    let params = PatchParams::apply("helm");
    let refused = api
        .patch("paused", &params, &Patch::Apply(apply("x:2", Some("A"))))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, kube::Error::Api(ref s) if s.code == 409 && s.message.contains("conflict with \"unknown-client\"") && s.message.contains(".spec.template.spec.containers")),
        "{refused:?}"
    );
    api.patch(
        "paused",
        &PatchParams::apply("helm").force(),
        &Patch::Apply(apply("x:2", Some("A"))),
    )
    .await
    .unwrap();

    api.patch("paused", &PatchParams::apply("other"), &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "paused"}, "spec": {"template": {"spec": {"containers": [{"name": "app", "env": [{"name": "B", "value": "2"}]}]}}}}))).await.unwrap();
    let after = api
        .patch("paused", &params, &Patch::Apply(apply("x:3", None)))
        .await
        .unwrap();
    let container = &after.spec.unwrap().template.spec.unwrap().containers[0];
    assert_eq!(container.image.as_deref(), Some("x:3"));
    let env: Vec<_> = container
        .env
        .iter()
        .flatten()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(env, ["B"], "helm's A is gone, other's B stays");
}

#[tokio::test]
async fn watches_resume_from_a_version_send_bookmarks_and_answer_gone_once_compacted() {
    let fake = FakeKube::start();
    fake.bookmark_every(Duration::from_millis(200));
    let (cluster, _dir) = cluster(&fake, None).await;
    let api: Api<Deployment> = Api::namespaced(cluster.client(), "default");
    let list = api.list(&ListParams::default()).await.unwrap();
    let version = list.metadata.resource_version.unwrap();
    let mut d: Deployment = serde_json::from_value(deployment("w", "x:1", 0)).unwrap();
    d.spec.as_mut().unwrap().paused = Some(true);
    api.create(&PostParams::default(), &d).await.unwrap();
    let params = WatchParams {
        bookmarks: true,
        ..WatchParams::default()
    }
    .timeout(5);
    let mut stream = Box::pin(api.watch(&params, &version).await.unwrap());
    let mut saw_added = false;
    let mut saw_bookmark = false;
    while !(saw_added && saw_bookmark) {
        match next(&mut stream).await.unwrap().unwrap() {
            WatchEvent::Added(d) => saw_added = d.metadata.name.as_deref() == Some("w"),
            WatchEvent::Bookmark(_) => saw_bookmark = true,
            _ => {}
        }
    }
    fake.compact();
    let mut stream = Box::pin(api.watch(&params, &version).await.unwrap());
    match next(&mut stream).await.unwrap().unwrap() {
        WatchEvent::Error(status) => assert_eq!(status.code, 410),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn release_history_comes_from_helms_secrets() {
    let fake = FakeKube::start();
    for (revision, status) in [(1, "superseded"), (2, "pending-upgrade")] {
        let record = json!({"name": "web", "namespace": "default", "version": revision,
            "info": {"status": status}, "chart": {"metadata": {"name": "web", "version": "0.1.0"}}, "manifest": ""});
        let data = base64_std(&release::encode(&record));
        fake.create(&json!({"apiVersion": "v1", "kind": "Secret", "type": release::SECRET_TYPE,
            "metadata": {"name": release::secret_name("web", revision), "labels": {"owner": "helm", "name": "web", "status": status, "version": revision.to_string()}},
            "data": {"release": data}}));
    }
    fake.create(&json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "unrelated"}, "data": {}}));
    let (cluster, _dir) = cluster(&fake, None).await;
    let history = cluster.history("web").await.unwrap();
    assert_eq!(
        history
            .iter()
            .map(|r| (r.revision, r.status))
            .collect::<Vec<_>>(),
        [(2, Status::PendingUpgrade), (1, Status::Superseded)]
    );
    assert!(cluster.history("other").await.unwrap().is_empty());
}

fn base64_std(bytes: &[u8]) -> String {
    // The Secret's own base64 around Helm's (the JSON carries bytes as base64).
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn routing_is_written_through_conflicts_and_read_back_until_it_holds() {
    let fake = FakeKube::start();
    fake.create(&virtual_service());
    let (cluster, _dir) = cluster(&fake, None).await;
    let tracks = plan::tracks(Strategy::Canary);
    let wanted = Routing::Weights(Weights::canary_step(25));
    // Two conflicts in a row: read again, write again.
    let conflicts_before = fake.requests().len();
    inject_conflicts(&fake, 2);
    cluster
        .write_routing(
            &gantry_helm_deploy::routing::Route::contract(Traffic::Istio, "web"),
            tracks,
            &wanted,
        )
        .await
        .unwrap();
    let puts = fake.requests()[conflicts_before..]
        .iter()
        .filter(|r| r.method == "PUT")
        .count();
    assert_eq!(puts, 3, "two conflicted writes and one that landed");
    let read = |object: &serde_json::Value| {
        gantry_helm_deploy::routing::read(
            object,
            &gantry_helm_deploy::routing::Route::contract(Traffic::Istio, "web"),
            "default",
            tracks,
        )
        .unwrap()
    };
    let object = cluster.route(Traffic::Istio, "web").await.unwrap();
    assert!(gantry_helm_deploy::routing::equal(
        &read(&object),
        &wanted,
        tracks
    ));
    let stored = fake.get("VirtualService", "default", "web").unwrap();
    assert_eq!(stored["spec"]["http"][0]["route"][1]["weight"], 25);
    // Someone else puts it back: read back, it is what they wrote.
    let mut reverted = stored.clone();
    reverted["spec"]["http"][0]["route"][0]["weight"] = json!(100);
    reverted["spec"]["http"][0]["route"][1]["weight"] = json!(0);
    reverted["spec"]["http"][0]["route"][2]["weight"] = json!(0);
    fake.replace(&reverted);
    let object = cluster.route(Traffic::Istio, "web").await.unwrap();
    assert_eq!(read(&object).to_string(), "stable 100 %");
}

fn inject_conflicts(fake: &FakeKube, count: u32) {
    fake.fail("PUT", "/virtualservices/web", count, 409);
}

#[tokio::test]
async fn an_unreachable_server_is_retried_then_reported_as_unreachable() {
    let fake = FakeKube::start();
    let (nowhere, _dir) = cluster(&fake, Some("other")).await;
    let started = std::time::Instant::now();
    let error = nowhere.history("web").await.unwrap_err();
    assert!(error.unreachable(), "{error}");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "four backoffs: 0.2+0.4+0.8+1.6 s"
    );
    // 5xx is retried and recovers.
    let (cluster, _dir) = cluster(&fake, None).await;
    fake.fail("GET", "/secrets", 2, 503);
    assert!(cluster.history("web").await.unwrap().is_empty());
    let secrets = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/secrets"))
        .count();
    assert_eq!(secrets, 3);
}

#[tokio::test]
async fn a_follower_keeps_up_through_ended_watches_and_compaction_in_a_few_requests() {
    let fake = FakeKube::start();
    let (cluster, _dir) = cluster(&fake, None).await;
    let mut pods = gantry_kube::Follow::<Pod>::start(&cluster, "app.kubernetes.io/instance=web")
        .await
        .unwrap();
    assert_eq!(pods.objects().count(), 0);
    fake.create(&deployment("web", "shop/web:1", 3));
    fake.create(&deployment("other", "shop/other:1", 2));
    let count = |pods: &gantry_kube::Follow<Pod>| pods.objects().count();
    while count(&pods) < 3 {
        tokio::time::timeout(Duration::from_secs(5), pods.next())
            .await
            .unwrap()
            .unwrap();
    }
    // Only this release's pods.
    assert!(
        pods.objects()
            .all(|p| p.metadata.name.as_deref().unwrap().starts_with("web-"))
    );
    // The watch ends and the history it would resume from is compacted: it lists again.
    fake.compact();
    fake.end_watches();
    fake.delete("Deployment", "default", "web");
    while count(&pods) > 0 {
        tokio::time::timeout(Duration::from_secs(5), pods.next())
            .await
            .unwrap()
            .unwrap();
    }
    assert!(pods.requests() <= 6, "{} requests", pods.requests());
    let lists = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/pods") && !r.query.contains("watch="))
        .count();
    assert_eq!(lists, 2, "listed again after the 410");
}

#[tokio::test]
async fn merge_and_json_patches_apply_as_the_rfcs_say_and_a_failed_test_changes_nothing() {
    let fake = FakeKube::start();
    let (cluster, _dir) = cluster(&fake, None).await;
    fake.create(&virtual_service());
    let api: Api<kube::api::DynamicObject> = Api::namespaced_with(
        cluster.client(),
        "default",
        &kube::api::ApiResource {
            group: "networking.istio.io".to_owned(),
            version: "v1".to_owned(),
            api_version: "networking.istio.io/v1".to_owned(),
            kind: "VirtualService".to_owned(),
            plural: "virtualservices".to_owned(),
        },
    );
    // Merge: objects merge, null deletes, lists are replaced whole.
    let merged = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"gateways": ["mesh"], "hosts": null}})),
        )
        .await
        .unwrap();
    assert_eq!(merged.data["spec"]["gateways"], json!(["mesh"]));
    assert!(merged.data["spec"].get("hosts").is_none());
    assert_eq!(
        merged.data["spec"]["http"][0]["route"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // JSON patch: a test that holds, then a replace; a test that fails changes nothing.
    let json_patch = async |operations: Value| {
        let request = http::Request::patch(
            "/apis/networking.istio.io/v1/namespaces/default/virtualservices/web",
        )
        .header("content-type", "application/json-patch+json")
        .body(operations.to_string().into_bytes())
        .unwrap();
        cluster.client().request_text(request).await
    };
    let patched = json_patch(json!([
        {"op": "test", "path": "/spec/http/0/route/1/weight", "value": 0},
        {"op": "replace", "path": "/spec/http/0/route/1/weight", "value": 10},
        {"op": "replace", "path": "/spec/http/0/route/0/weight", "value": 90}
    ]))
    .await
    .unwrap();
    let patched: Value = serde_json::from_str(&patched).unwrap();
    assert_eq!(patched["spec"]["http"][0]["route"][1]["weight"], 10);
    let error = json_patch(json!([
        {"op": "test", "path": "/spec/http/0/route/1/weight", "value": 0},
        {"op": "replace", "path": "/spec/http/0/route/0/weight", "value": 100}
    ]))
    .await
    .unwrap_err();
    assert!(
        matches!(error, kube::Error::Api(ref s) if s.code == 422),
        "{error:?}"
    );
    assert_eq!(
        fake.get("VirtualService", "default", "web").unwrap()["spec"]["http"][0]["route"][0]["weight"],
        90
    );
    // Custom resources take no strategic merge patch, as the real server says.
    let strategic = api
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {}})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(strategic, kube::Error::Api(ref s) if s.code == 415),
        "{strategic:?}"
    );
}

#[tokio::test]
async fn an_exec_credential_plugin_supplies_the_token() {
    let fake = FakeKube::start();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    // The plugin: a program that prints an ExecCredential (here `cat` of one).
    let credential = dir.path().join("credential.json");
    std::fs::write(
        &credential,
        r#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-the-plugin"}}"#,
    )
    .unwrap();
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: eks\nclusters:\n- name: c\n  cluster:\n    server: {}\ncontexts:\n- name: eks\n  context:\n    cluster: c\n    user: plugin\nusers:\n- name: plugin\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: cat\n      args: ['{}']\n      interactiveMode: Never\n",
            fake.url(),
            credential.display()
        ),
    )
    .unwrap();
    let cluster = Cluster::from_kubeconfig(&kubeconfig, None, "default")
        .await
        .unwrap();
    assert!(cluster.history("web").await.unwrap().is_empty());
    let sent = fake.requests().last().unwrap().authorization.clone();
    assert_eq!(sent.as_deref(), Some("Bearer from-the-plugin"));
}
