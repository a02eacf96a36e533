//! Drift in a Helm release: the live objects against the release's manifest.
//!
//! Only what the chart set is compared — the API server adds defaults, controllers add status
//! and other controllers own fields (an HPA owns a Deployment's `spec.replicas`). Extra keys
//! the server added are defaults and ignored, except in the maps people edit by hand (labels,
//! annotations, a ConfigMap's data, selectors), where an extra key is reported as added. Lists
//! that Kubernetes merges by a key (containers and env by `name`, volume mounts by
//! `mountPath`, ports by number) are matched by that key, so an env var added by hand shows as
//! added, not as every later entry changed.

use serde_json::Value;

use crate::model::{self, AttributeChange, Drifted, IgnoreRule, ObjectDrift, Step};

/// One object of the release's manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// `apps/v1`.
    pub api_version: String,
    /// `Deployment`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its namespace as the manifest gives it (`None`: the release's, or cluster-scoped).
    pub namespace: Option<String>,
    /// The object as rendered.
    pub object: Value,
}

impl Desired {
    /// `Deployment/cart`.
    pub fn address(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// Why a manifest could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("release {release}: its manifest (revision {revision}) {problem}")]
pub struct ManifestError {
    /// `namespace/name`.
    pub release: String,
    /// The revision read.
    pub revision: u32,
    /// What is wrong.
    pub problem: String,
}

/// The objects of a release's manifest (`release` and `revision` name it in errors).
pub fn desired(
    release: &str,
    revision: u32,
    manifest: &str,
) -> Result<Vec<Desired>, ManifestError> {
    let failed = |problem: String| ManifestError {
        release: release.to_owned(),
        revision,
        problem,
    };
    let mut documents = gantry_helm_deploy::manifest::documents(manifest)
        .map_err(|problem| failed(format!("is not YAML Helm could have written: {problem}")))?;
    // A `kind: List` stands for its items (Helm applies them one by one).
    let mut at = 0;
    while at < documents.len() {
        if documents[at]["kind"] == "List" {
            let list = documents.remove(at);
            let items = list["items"].as_array().cloned().unwrap_or_default();
            documents.splice(at..at, items);
        } else {
            at += 1;
        }
    }
    let mut objects = Vec::new();
    for document in documents {
        let text = |pointer: &str| {
            document
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let (Some(api_version), Some(kind), Some(name)) =
            (text("/apiVersion"), text("/kind"), text("/metadata/name"))
        else {
            return Err(failed(
                "holds a document without apiVersion, kind and metadata.name".to_owned(),
            ));
        };
        objects.push(Desired {
            api_version,
            kind,
            name,
            namespace: text("/metadata/namespace"),
            object: document,
        });
    }
    Ok(objects)
}

/// The workloads an HPA scales (`(kind, name)`), from HPA objects (the chart's or the live
/// ones of the namespace).
pub fn autoscaled(hpas: &[Value]) -> Vec<(String, String)> {
    hpas.iter()
        .filter(|hpa| hpa["kind"] == "HorizontalPodAutoscaler")
        .filter_map(|hpa| {
            let target = &hpa["spec"]["scaleTargetRef"];
            Some((
                target["kind"].as_str()?.to_owned(),
                target["name"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// Labels and annotations that Helm, kubectl and controllers put on live objects.
fn added_by_tools(key: &str) -> bool {
    matches!(
        key,
        "app.kubernetes.io/managed-by"
            | "meta.helm.sh/release-name"
            | "meta.helm.sh/release-namespace"
            | "kubectl.kubernetes.io/last-applied-configuration"
            | "kubectl.kubernetes.io/restartedAt"
            | "deployment.kubernetes.io/revision"
            | "deprecated.daemonset.template.generation"
            | "pod-template-hash"
            | "controller-revision-hash"
    ) || key.starts_with("autoscaling.alpha.kubernetes.io/")
        || key.starts_with("helm.sh/")
}

/// Maps whose keys are the user's: an extra key there was added by hand.
fn user_map(steps: &[Step]) -> bool {
    let last = match steps.last() {
        Some(Step::Key(key)) => key.as_str(),
        _ => return false,
    };
    match last {
        "labels" | "annotations" => {
            matches!(steps.iter().rev().nth(1), Some(Step::Key(key)) if key == "metadata")
        }
        "data" | "stringData" | "binaryData" => steps.len() == 1,
        "matchLabels" | "nodeSelector" => true,
        "selector" => steps.len() == 2 && matches!(&steps[0], Step::Key(key) if key == "spec"),
        _ => false,
    }
}

/// The key a list is merged by, as the API server's strategic merge keys it.
fn merge_key(field: &str, items: &[Value]) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "hostAliases" => Some(if field == "hostAliases" { "ip" } else { "name" }),
        "volumeMounts" | "volumeDevices" => Some(if field == "volumeMounts" {
            "mountPath"
        } else {
            "devicePath"
        }),
        "ports" if items.iter().all(|item| item.get("containerPort").is_some()) => {
            Some("containerPort")
        }
        "ports" if items.iter().all(|item| item.get("port").is_some()) => Some("port"),
        _ => None,
    }
}

struct Compare<'r> {
    kind: &'r str,
    secret: bool,
    autoscaled: bool,
    ignore: &'r [IgnoreRule],
    steps: Vec<Step>,
    changes: Vec<AttributeChange>,
    secrets: &'r mut Vec<String>,
}

fn shown(value: &Value) -> String {
    let text = match value {
        Value::String(text) => serde_json::to_string(text).unwrap_or_default(),
        other => other.to_string(),
    };
    gantry_core::markdown::shorten(&text, model::VALUE_CHARS).into_owned()
}

/// `null`, `false`, `0`, `""`, `[]`, `{}`: what the API server stores as nothing.
fn is_zero(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(flag) => !flag,
        Value::Number(number) => number.as_f64() == Some(0.0),
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
    }
}

/// `500m` and `0.5`, `1Gi` and `1073741824`: the same quantity.
fn quantity(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+')))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(number * factor)
}

fn scalar_equal(chart: &Value, live: &Value, in_resources: bool) -> bool {
    if chart == live {
        return true;
    }
    match (chart, live) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        // int-or-string fields: `port: "8080"` is stored as given, but compare loosely.
        (Value::Number(number), Value::String(text))
        | (Value::String(text), Value::Number(number)) => {
            text.parse::<f64>().ok() == number.as_f64()
                || (in_resources && quantity(text) == number.as_f64())
        }
        (Value::String(a), Value::String(b)) if in_resources => {
            matches!((quantity(a), quantity(b)), (Some(x), Some(y)) if (x - y).abs() <= 1e-9 * x.abs().max(1.0))
        }
        _ => false,
    }
}

impl Compare<'_> {
    fn push(&mut self, before: Option<String>, after: Option<String>) {
        let names = model::names(&self.steps);
        if model::ignored(self.ignore, self.kind, &names) {
            return;
        }
        let masked = self.secret
            && matches!(
                names.first().map(String::as_str),
                Some("data" | "stringData")
            );
        let mask = |value: Option<String>| {
            value.map(|value| {
                if masked {
                    "(sensitive)".to_owned()
                } else {
                    value
                }
            })
        };
        self.changes.push(AttributeChange {
            path: model::display(&self.steps),
            before: mask(before),
            after: mask(after),
        });
    }

    fn in_resources(&self) -> bool {
        self.steps
            .iter()
            .any(|step| matches!(step, Step::Key(key) if key == "resources"))
    }

    fn value(&mut self, chart: &Value, live: Option<&Value>) {
        if chart.is_null() {
            return; // not set by the chart: whatever the server has is its default
        }
        let Some(live) = live.filter(|live| !live.is_null()) else {
            // The API server drops empty and zero values (`args: []`, `hostNetwork: false`).
            if !is_zero(chart) {
                self.push(Some(shown(chart)), None);
            }
            return;
        };
        match (chart, live) {
            (Value::Object(chart_map), Value::Object(live_map)) => {
                let user = user_map(&self.steps);
                for (key, chart_value) in chart_map {
                    self.steps.push(Step::Key(key.clone()));
                    self.value(chart_value, live_map.get(key));
                    self.steps.pop();
                }
                if user {
                    for (key, live_value) in live_map {
                        if chart_map.contains_key(key) || added_by_tools(key) {
                            continue;
                        }
                        self.steps.push(Step::Key(key.clone()));
                        self.push(None, Some(shown(live_value)));
                        self.steps.pop();
                    }
                }
            }
            (Value::Array(chart_items), Value::Array(live_items)) => {
                self.list(chart_items, live_items);
            }
            (chart, live) => {
                if !scalar_equal(chart, live, self.in_resources()) {
                    self.push(Some(shown(chart)), Some(shown(live)));
                }
            }
        }
    }

    fn list(&mut self, chart: &[Value], live: &[Value]) {
        let field = match self.steps.last() {
            Some(Step::Key(key)) => key.clone(),
            _ => String::new(),
        };
        if let Some(key) = merge_key(&field, chart) {
            let key_of = |item: &Value| {
                item.get(key).map(|value| match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
            };
            for item in chart {
                let Some(name) = key_of(item) else { continue };
                let found = live
                    .iter()
                    .find(|other| key_of(other).as_deref() == Some(name.as_str()));
                self.steps.push(Step::Named(name));
                match found {
                    Some(found) => self.value(item, Some(found)),
                    None => self.push(Some(shown(item)), None),
                }
                self.steps.pop();
            }
            for item in live {
                let Some(name) = key_of(item) else { continue };
                if chart
                    .iter()
                    .any(|other| key_of(other).as_deref() == Some(name.as_str()))
                {
                    continue;
                }
                self.steps.push(Step::Named(name));
                self.push(None, Some(shown(item)));
                self.steps.pop();
            }
            return;
        }
        if chart.len() == live.len() {
            for (index, (item, other)) in chart.iter().zip(live).enumerate() {
                self.steps.push(Step::Index(index));
                self.value(item, Some(other));
                self.steps.pop();
            }
        } else {
            let whole = |items: &[Value]| shown(&Value::Array(items.to_vec()));
            self.push(Some(whole(chart)), Some(whole(live)));
        }
    }
}

/// Base64 of bytes (a Secret's `stringData` is stored as `data`).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Compares one object of the chart with what is live (`None`: it is gone). `autoscaled` says
/// an HPA owns its replica count. Secret values found are added to `secrets` for scrubbing.
pub fn compare(
    desired: &Desired,
    live: Option<&Value>,
    autoscaled: &[(String, String)],
    ignore: &[IgnoreRule],
    secrets: &mut Vec<String>,
) -> Option<Drifted> {
    let address = desired.address();
    let Some(live) = live else {
        return Some(Drifted {
            address,
            kind: desired.kind.clone(),
            drift: ObjectDrift::Deleted,
        });
    };
    let secret = desired.kind == "Secret";
    let mut chart = desired.object.clone();
    if secret {
        for side in [&chart, live] {
            for field in ["data", "stringData"] {
                if let Some(map) = side.get(field).and_then(Value::as_object) {
                    secrets.extend(map.values().filter_map(Value::as_str).map(str::to_owned));
                }
            }
        }
        // The server stores stringData as data.
        if let Some(Value::Object(strings)) = chart
            .as_object_mut()
            .and_then(|object| object.remove("stringData"))
        {
            let data = chart["data"].as_object().cloned().unwrap_or_default();
            let mut data = data;
            for (key, value) in strings {
                let text = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned);
                data.insert(key, Value::String(base64(text.as_bytes())));
            }
            chart["data"] = Value::Object(data);
        }
    }
    let is_autoscaled = autoscaled
        .iter()
        .any(|(kind, name)| *kind == desired.kind && *name == desired.name);
    let mut compare = Compare {
        kind: &desired.kind,
        secret,
        autoscaled: is_autoscaled,
        ignore,
        steps: Vec::new(),
        changes: Vec::new(),
        secrets,
    };
    let chart_map = chart.as_object()?;
    for (key, value) in chart_map {
        match key.as_str() {
            "apiVersion" | "kind" | "status" => {}
            "metadata" => {
                for field in ["labels", "annotations"] {
                    if let Some(chart_value) = value.get(field) {
                        compare.steps = vec![Step::Key("metadata".into()), Step::Key(field.into())];
                        compare.value(chart_value, live.pointer(&format!("/metadata/{field}")));
                    }
                }
            }
            "spec" => {
                let mut spec = value.clone();
                if compare.autoscaled {
                    if let Some(object) = spec.as_object_mut() {
                        object.remove("replicas");
                    }
                }
                compare.steps = vec![Step::Key("spec".into())];
                compare.value(&spec, live.get("spec"));
            }
            _ => {
                compare.steps = vec![Step::Key(key.clone())];
                compare.value(value, live.get(key));
            }
        }
    }
    // Labels added by hand on an object whose chart sets none.
    if desired.object.pointer("/metadata/labels").is_none() {
        if let Some(Value::Object(labels)) = live.pointer("/metadata/labels") {
            for (key, value) in labels {
                if !added_by_tools(key) {
                    compare.steps = vec![
                        Step::Key("metadata".into()),
                        Step::Key("labels".into()),
                        Step::Key(key.clone()),
                    ];
                    compare.push(None, Some(shown(value)));
                }
            }
        }
    }
    let changes = std::mem::take(&mut compare.changes);
    let _ = compare.secrets;
    (!changes.is_empty()).then(|| Drifted {
        address,
        kind: desired.kind.clone(),
        drift: ObjectDrift::Changed(changes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(replicas: u32, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "cart", "labels": {"app": "cart", "helm.sh/chart": "cart-1.0.0"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{
                "name": "cart", "image": image,
                "env": [{"name": "MODE", "value": "prod"}],
                "resources": {"limits": {"cpu": "0.5", "memory": "512Mi"}}
            }]}}}
        })
    }

    fn desired_of(object: Value) -> Desired {
        Desired {
            api_version: object["apiVersion"].as_str().unwrap().to_owned(),
            kind: object["kind"].as_str().unwrap().to_owned(),
            name: object["metadata"]["name"].as_str().unwrap().to_owned(),
            namespace: None,
            object,
        }
    }

    fn live_of(mut object: Value) -> Value {
        // What the server adds: defaults, status, metadata, Helm's own labels.
        object["metadata"]["uid"] = json!("0b5c");
        object["metadata"]["resourceVersion"] = json!("812");
        object["metadata"]["labels"]["app.kubernetes.io/managed-by"] = json!("Helm");
        object["metadata"]["annotations"] =
            json!({"meta.helm.sh/release-name": "cart", "deployment.kubernetes.io/revision": "3"});
        object["spec"]["strategy"] = json!({"type": "RollingUpdate"});
        object["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] =
            json!("IfNotPresent");
        object["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] =
            json!("500m");
        object["status"] = json!({"replicas": 3});
        object
    }

    fn drift(
        desired: &Value,
        live: Option<&Value>,
        autoscaled: &[(String, String)],
    ) -> Vec<String> {
        let mut secrets = Vec::new();
        match compare(
            &desired_of(desired.clone()),
            live,
            autoscaled,
            &[],
            &mut secrets,
        ) {
            None => Vec::new(),
            Some(Drifted {
                drift: ObjectDrift::Deleted,
                ..
            }) => vec!["deleted".to_owned()],
            Some(Drifted {
                drift: ObjectDrift::Changed(changes),
                ..
            }) => changes
                .iter()
                .map(|change| format!("{} {:?} -> {:?}", change.path, change.before, change.after))
                .collect(),
        }
    }

    #[test]
    fn what_the_server_adds_is_not_drift() {
        let chart = deployment(3, "shop/cart:1.4.2");
        assert_eq!(
            drift(&chart, Some(&live_of(chart.clone())), &[]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn hand_edits_are_named_field_by_field() {
        let chart = deployment(3, "shop/cart:1.4.2");
        let mut live = live_of(deployment(5, "shop/cart:1.4.3-hotfix"));
        live["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array_mut()
            .unwrap()
            .insert(0, json!({"name": "DEBUG", "value": "1"}));
        live["metadata"]["labels"]["owner"] = json!("bob");
        assert_eq!(
            drift(&chart, Some(&live), &[]),
            [
                "metadata.labels.owner None -> Some(\"\\\"bob\\\"\")",
                "spec.replicas Some(\"3\") -> Some(\"5\")",
                "spec.template.spec.containers[cart].env[DEBUG] None -> Some(\"{\\\"name\\\":\\\"DEBUG\\\",\\\"value\\\":\\\"1\\\"}\")",
                "spec.template.spec.containers[cart].image Some(\"\\\"shop/cart:1.4.2\\\"\") -> Some(\"\\\"shop/cart:1.4.3-hotfix\\\"\")",
            ]
        );
        // An HPA owns the replica count: the same edit is not drift.
        let owned = [("Deployment".to_owned(), "cart".to_owned())];
        let found = drift(&chart, Some(&live), &owned);
        assert!(
            !found.iter().any(|line| line.starts_with("spec.replicas")),
            "{found:?}"
        );
        assert_eq!(found.len(), 3);
    }

    #[test]
    fn a_deleted_object_and_secret_values_masked() {
        let chart = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": "hunter2-long"}});
        assert_eq!(drift(&chart, None, &[]), ["deleted"]);
        let live = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"password": base64(b"hunter2-long")}});
        assert_eq!(drift(&chart, Some(&live), &[]), Vec::<String>::new());
        let changed = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"password": base64(b"changed-by-hand")}});
        let found = drift(&chart, Some(&changed), &[]);
        assert_eq!(
            found,
            ["data.password Some(\"(sensitive)\") -> Some(\"(sensitive)\")"]
        );
    }

    #[test]
    fn a_manifest_is_its_objects_and_lists_are_their_items() {
        let manifest = "---\n# Source: cart/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: b, namespace: other}\n";
        let objects = desired("shop/cart", 3, manifest).unwrap();
        let names: Vec<String> = objects.iter().map(Desired::address).collect();
        assert_eq!(names, ["ConfigMap/a", "Service/b"]);
        assert_eq!(objects[1].namespace.as_deref(), Some("other"));
        let error = desired("shop/cart", 3, "kind: ConfigMap\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(
                "release shop/cart: its manifest (revision 3) holds a document without"
            ),
            "{error}"
        );
    }

    #[test]
    fn zero_values_the_server_drops_are_not_drift() {
        let mut chart = deployment(3, "shop/cart:1.4.2");
        chart["spec"]["template"]["spec"]["hostNetwork"] = json!(false);
        chart["spec"]["template"]["spec"]["containers"][0]["args"] = json!([]);
        let live = live_of(deployment(3, "shop/cart:1.4.2"));
        assert_eq!(drift(&chart, Some(&live), &[]), Vec::<String>::new());
        chart["spec"]["template"]["spec"]["hostNetwork"] = json!(true);
        assert_eq!(
            drift(&chart, Some(&live), &[]),
            ["spec.template.spec.hostNetwork Some(\"true\") -> None"]
        );
    }

    #[test]
    fn quantities_and_base64_are_read_as_kubernetes_writes_them() {
        assert_eq!(quantity("500m"), Some(0.5));
        assert_eq!(quantity("1Gi"), Some(1_073_741_824.0));
        assert_eq!(base64(b"hunter2"), "aHVudGVyMg==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }
}
