//! Helm's own engine (its v4 library, from `PyPI` `helm-python-sdk`) installing and upgrading a
//! release against the fake API server — discovery, the protobuf `OpenAPI` document, protobuf
//! release Secrets, server-side apply — and the edge reading the records real Helm wrote.

use gantry_helm_deploy::release::Status;
use gantry_kube::Cluster;
use gantry_testkit::fake_kube::FakeKube;

const HELM: &str = r#"
import sys, json, helm_python as h
verb, kubeconfig, chart, release, values = sys.argv[1:6]
config = h.Config(kubeconfig_path=kubeconfig, namespace="default")
getattr(config, verb)(chart, release, json.loads(values), timeout=20)
"#;

fn chart(dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: probe\nversion: 0.3.0\nappVersion: \"1.0\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("templates/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  colour: {{ .Values.colour | default \"blue\" | quote }}\n",
    )
    .unwrap();
}

fn helm(verb: &str, kubeconfig: &std::path::Path, chart: &std::path::Path, values: &str) {
    let output = std::process::Command::new(gantry_testkit::python_tool("python"))
        .args(["-c", HELM, verb])
        .arg(kubeconfig)
        .arg(chart)
        .args(["probe", values])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "helm: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn real_helm_installs_and_upgrades_against_the_fake_and_its_records_decode() {
    let fake = FakeKube::start();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, fake.kubeconfig()).unwrap();
    let chart_dir = dir.path().join("chart");
    chart(&chart_dir);
    let (kc, cd) = (kubeconfig.clone(), chart_dir.clone());
    tokio::task::spawn_blocking(move || {
        helm("install", &kc, &cd, "{}");
        helm("upgrade", &kc, &cd, r#"{"colour": "green"}"#);
    })
    .await
    .unwrap();
    let configmap = fake
        .get("ConfigMap", "default", "probe-settings")
        .expect("Helm applied it");
    assert_eq!(configmap["data"]["colour"], "green");
    assert_eq!(
        configmap["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "Helm"
    );
    // Helm sent its records as protobuf; the edge reads them as Helm wrote them.
    let protobuf = fake
        .requests()
        .iter()
        .filter(|r| r.path.contains("/secrets") && r.content_type.contains("protobuf"))
        .count();
    assert!(protobuf >= 2, "Helm writes its release Secrets as protobuf");
    let cluster = Cluster::from_kubeconfig(&kubeconfig, None, "default")
        .await
        .unwrap();
    let history = cluster.history("probe").await.unwrap();
    let revisions: Vec<_> = history.iter().map(|r| (r.revision, r.status)).collect();
    assert_eq!(revisions, [(2, Status::Deployed), (1, Status::Superseded)]);
    assert_eq!(history[0].values["colour"], "green");
    assert_eq!(
        (history[0].chart.as_str(), history[0].chart_version.as_str()),
        ("probe", "0.3.0")
    );
    assert!(
        history[0].manifest.contains("colour: \"green\""),
        "{}",
        history[0].manifest
    );
}
