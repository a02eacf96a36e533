//! Reading and writing the routing objects: an Istio `VirtualService`'s `spec.http[].route[]`
//! weights, a Gateway API `HTTPRoute`'s `spec.rules[].backendRefs[]` weights, a Service's
//! selector. Objects are JSON values (the CRDs have no types here); a write is the whole object
//! back with its `resourceVersion`, so a concurrent change is a 409 and is read again, never
//! overwritten.

use serde_json::Value;

use crate::baseline::TRACK_LABEL;
use crate::plan::{Routing, Track, Traffic, Weights};

/// The label that tells one release's pods from another's.
pub const INSTANCE: &str = "app.kubernetes.io/instance";

/// A routing object that does not keep the chart's contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {name:?}: {problem}")]
pub struct RouteError {
    /// The object's kind.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// What is wrong.
    pub problem: String,
}

/// The kind of object `traffic` steers with.
#[must_use]
pub const fn kind(traffic: Traffic) -> &'static str {
    match traffic {
        Traffic::Istio => "VirtualService",
        Traffic::GatewayApi => "HTTPRoute",
        Traffic::Service => "Service",
    }
}

/// Does `host` (short, `name.namespace`, or a cluster FQDN) name the Service `service`?
fn names_service(host: &str, service: &str, namespace: &str) -> bool {
    host == service
        || host
            .strip_prefix(service)
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|rest| rest.strip_prefix(namespace))
            .is_some_and(|rest| rest.is_empty() || rest == ".svc" || rest.starts_with(".svc."))
}

/// The backends of a route object: (pointer to the weight's parent, Service named).
fn backends(object: &Value, traffic: Traffic) -> Vec<(String, String)> {
    let mut found = Vec::new();
    match traffic {
        Traffic::Istio => {
            for (i, http) in object["spec"]["http"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                for (j, route) in http["route"].as_array().into_iter().flatten().enumerate() {
                    if let Some(host) = route["destination"]["host"].as_str() {
                        found.push((format!("/spec/http/{i}/route/{j}"), host.to_owned()));
                    }
                }
            }
        }
        Traffic::GatewayApi => {
            for (i, rule) in object["spec"]["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                for (j, backend) in rule["backendRefs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let service = backend["kind"]
                        .as_str()
                        .is_none_or(|kind| kind == "Service")
                        && backend["group"].as_str().is_none_or(str::is_empty);
                    if let (true, Some(name)) = (service, backend["name"].as_str()) {
                        found.push((format!("/spec/rules/{i}/backendRefs/{j}"), name.to_owned()));
                    }
                }
            }
        }
        Traffic::Service => {}
    }
    found
}

fn track_of(host: &str, service: &str, namespace: &str, tracks: &[Track]) -> Option<Track> {
    tracks
        .iter()
        .copied()
        .find(|track| names_service(host, &track.name(service), namespace))
}

fn error(traffic: Traffic, object: &Value, problem: String) -> RouteError {
    RouteError {
        kind: kind(traffic),
        name: object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        problem,
    }
}

/// What a deploy steers traffic with, and by which rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// How traffic is steered.
    pub traffic: Traffic,
    /// The routing object's name: the `VirtualService` or `HTTPRoute`, or the Service switched.
    pub object: String,
    /// The stable Service; each track's Service is [`Track::name`] of it (`cart-canary`).
    pub service: String,
    /// `false`: the chart keeps Gantry's contract (its route lists every track's Service; a
    /// Service is switched by its instance label). `true`: any chart — the tracks are copies,
    /// their backends are added beside the stable Service's in each rule that routes to it, and
    /// a Service is switched by its selector's values told apart as [`crate::copy::track`] tells
    /// them.
    pub copies: bool,
    /// A chart's own object as found before the deploy changed it (copies): routing all traffic
    /// home writes its `spec` back, so the route is again what Helm applied.
    pub original: Option<Value>,
}

impl Route {
    /// The contract's route: the object named after the release, the tracks' Services after it.
    #[must_use]
    pub fn contract(traffic: Traffic, release: &str) -> Self {
        Self {
            traffic,
            object: release.to_owned(),
            service: release.to_owned(),
            copies: false,
            original: None,
        }
    }

    /// The route object's kind and name, for messages.
    #[must_use]
    pub fn describe(&self) -> String {
        format!("{} {:?}", kind(self.traffic), self.object)
    }
}

/// The label Gantry puts on what it creates.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// Checks that the object routes to every track of the strategy — before a deploy changes
/// anything, so a chart that does not keep the contract fails with nothing changed. For copies:
/// that some rule routes to the stable Service and that no rule which does splits it with a
/// Service that is not a track's (its weights could not be given to the tracks).
pub fn check(
    object: &Value,
    route: &Route,
    namespace: &str,
    tracks: &[Track],
) -> Result<(), RouteError> {
    let traffic = route.traffic;
    if traffic == Traffic::Service {
        if route.copies {
            let selector = object["spec"]["selector"].as_object();
            if selector.is_none_or(serde_json::Map::is_empty) {
                return Err(error(
                    traffic,
                    object,
                    "it has no selector to switch".to_owned(),
                ));
            }
            return Ok(());
        }
        if object["spec"]["selector"][INSTANCE].as_str().is_none() {
            return Err(error(
                traffic,
                object,
                format!("its selector has no {INSTANCE} label to switch"),
            ));
        }
        return Ok(());
    }
    let found = backends(object, traffic);
    if route.copies {
        let stable = &route.service;
        let rules = rules_to(object, traffic, stable, namespace);
        if rules.is_empty() {
            return Err(error(
                traffic,
                object,
                format!("no rule routes to the Service {stable:?}"),
            ));
        }
        for (rule, _) in &rules {
            for (pointer, host) in &found {
                let in_rule = pointer.starts_with(&format!("{rule}/"));
                if in_rule && track_of(host, stable, namespace, tracks).is_none() {
                    return Err(error(
                        traffic,
                        object,
                        format!(
                            "a rule that routes to {stable:?} also routes to {host:?}: its share cannot be given to the tracks"
                        ),
                    ));
                }
            }
        }
        return Ok(());
    }
    for &track in tracks {
        let service = track.name(&route.service);
        if !found
            .iter()
            .any(|(_, host)| names_service(host, &service, namespace))
        {
            return Err(error(
                traffic,
                object,
                format!(
                    "no route to the Service {service:?} ({} track); the chart's route must list every track's Service (see the reference chart)",
                    track.word()
                ),
            ));
        }
    }
    Ok(())
}

/// The rules that route to `service`: (pointer to the rule, pointer to the list of its
/// backends).
fn rules_to(
    object: &Value,
    traffic: Traffic,
    service: &str,
    namespace: &str,
) -> Vec<(String, String)> {
    let (rules, list) = match traffic {
        Traffic::Istio => ("/spec/http", "route"),
        Traffic::GatewayApi => ("/spec/rules", "backendRefs"),
        Traffic::Service => return Vec::new(),
    };
    let count = object
        .pointer(rules)
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let found = backends(object, traffic);
    (0..count)
        .map(|i| format!("{rules}/{i}"))
        .filter(|rule| {
            found.iter().any(|(pointer, host)| {
                pointer.starts_with(&format!("{rule}/")) && names_service(host, service, namespace)
            })
        })
        .map(|rule| {
            let backends = format!("{rule}/{list}");
            (rule, backends)
        })
        .collect()
}

/// Which of `objects` (every `VirtualService` or `HTTPRoute` of the namespace) route to the
/// Service `service`: none (Gantry makes its own), one (the chart's own, patched then
/// restored), or more (refused: which one the mesh follows cannot be told).
pub fn find<'a>(
    objects: &'a [Value],
    traffic: Traffic,
    service: &str,
    namespace: &str,
) -> Result<Option<&'a Value>, RouteError> {
    let routing: Vec<&Value> = objects
        .iter()
        .filter(|object| {
            backends(object, traffic)
                .iter()
                .any(|(_, host)| names_service(host, service, namespace))
        })
        .collect();
    match routing.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        [first, rest @ ..] => Err(error(
            traffic,
            first,
            format!(
                "and {} more ({}) route to the Service {service:?}: which one steers its traffic cannot be told; leave one",
                rest.len(),
                rest.iter()
                    .map(|o| o["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// The route Gantry makes for a Service no route steers: an Istio `VirtualService` for its
/// host, or a Gateway API `HTTPRoute` attached to the Service itself (the mesh's east-west
/// routing, GAMMA), all traffic on it. Named `<service>-gantry`, labelled as Gantry's, removed
/// when the deploy ends.
#[must_use]
pub fn made(traffic: Traffic, service: &str, namespace: &str, port: Option<i32>) -> Value {
    let metadata = serde_json::json!({
        "name": made_name(service),
        "namespace": namespace,
        "labels": {MANAGED_BY: "gantry"},
    });
    match traffic {
        Traffic::GatewayApi => {
            let mut parent = serde_json::json!({"group": "", "kind": "Service", "name": service});
            let mut backend = serde_json::json!({"name": service, "weight": 100});
            if let Some(port) = port {
                parent["port"] = port.into();
                backend["port"] = port.into();
            }
            serde_json::json!({
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": metadata,
                "spec": {"parentRefs": [parent], "rules": [{"backendRefs": [backend]}]},
            })
        }
        Traffic::Istio | Traffic::Service => serde_json::json!({
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": metadata,
            "spec": {
                "hosts": [service],
                "http": [{"route": [{"destination": {"host": service}, "weight": 100}]}],
            },
        }),
    }
}

/// The name of the route Gantry makes for `service`.
#[must_use]
pub fn made_name(service: &str) -> String {
    format!("{service}-gantry")
}

/// The routing an object describes: per track, the weight of its backends (a track listed in
/// several rules must carry the same weight in each, or the routing is reported as mixed).
pub fn read(
    object: &Value,
    route: &Route,
    namespace: &str,
    tracks: &[Track],
) -> Result<Routing, RouteError> {
    let traffic = route.traffic;
    if traffic == Traffic::Service {
        if route.copies {
            return read_switch(object, route, tracks);
        }
        let instance = object["spec"]["selector"][INSTANCE]
            .as_str()
            .unwrap_or_default();
        return tracks
            .iter()
            .copied()
            .find(|track| track.name(&route.service) == instance)
            .map(Routing::Serve)
            .ok_or_else(|| {
                error(
                    traffic,
                    object,
                    format!("it selects {INSTANCE}={instance:?}, none of this deploy's tracks"),
                )
            });
    }
    let mut weights: Vec<(Track, u32)> = Vec::new();
    for (pointer, host) in backends(object, traffic) {
        let Some(track) = track_of(&host, &route.service, namespace, tracks) else {
            continue;
        };
        let parent = object.pointer(&pointer).unwrap_or(&Value::Null);
        // Istio: a missing weight on a lone destination means all; Gateway API: default 1.
        let weight = match parent.get("weight").and_then(Value::as_u64) {
            Some(weight) => u32::try_from(weight).unwrap_or(u32::MAX),
            None if traffic == Traffic::GatewayApi => 1,
            None => 100,
        };
        match weights.iter().find(|(t, _)| *t == track) {
            Some((_, seen)) if *seen != weight => {
                return Err(error(
                    traffic,
                    object,
                    format!(
                        "the {} track has weight {seen} in one rule and {weight} in another",
                        track.word()
                    ),
                ));
            }
            Some(_) => {}
            None => weights.push((track, weight)),
        }
    }
    Ok(Routing::Weights(normalise(&weights)))
}

/// A Service switched by its selector (copies): a track's pods carry every selector label told
/// apart and [`TRACK_LABEL`]; the stable's selector is the chart's own.
fn read_switch(object: &Value, route: &Route, tracks: &[Track]) -> Result<Routing, RouteError> {
    let selector = &object["spec"]["selector"];
    if let Some(word) = selector[TRACK_LABEL].as_str() {
        return tracks
            .iter()
            .copied()
            .find(|track| track.word() == word)
            .map(Routing::Serve)
            .ok_or_else(|| {
                error(
                    route.traffic,
                    object,
                    format!("it selects {TRACK_LABEL}={word:?}, none of this deploy's tracks"),
                )
            });
    }
    let original = route
        .original
        .as_ref()
        .map_or(&Value::Null, |spec| &spec["selector"]);
    if original.is_null() || selector == original {
        return Ok(Routing::Serve(Track::Stable));
    }
    Err(error(
        route.traffic,
        object,
        format!("its selector {selector} is neither the chart's ({original}) nor a track's"),
    ))
}

/// Weights as percentages (Gateway API weights are proportions of their sum).
fn normalise(weights: &[(Track, u32)]) -> Weights {
    let total: u64 = weights.iter().map(|(_, w)| u64::from(*w)).sum();
    if total == 0 || total == 100 {
        return Weights(weights.to_vec());
    }
    Weights(
        weights
            .iter()
            .map(|&(track, weight)| {
                let percent = (u64::from(weight) * 100 + total / 2) / total;
                (track, u32::try_from(percent).unwrap_or(100))
            })
            .collect(),
    )
}

/// The object with `routing` written into it (the tracks not named at 0).
pub fn write(
    object: &Value,
    route: &Route,
    namespace: &str,
    tracks: &[Track],
    routing: &Routing,
) -> Result<Value, RouteError> {
    let traffic = route.traffic;
    let mut object = object.clone();
    let home = match routing {
        Routing::Serve(track) => *track == Track::Stable,
        Routing::Weights(weights) => tracks
            .iter()
            .all(|track| *track == Track::Stable || weights.of(*track) == 0),
    };
    // Home, on a chart's own object: what Helm applied, exactly.
    if let (true, true, Some(original)) = (route.copies, home, &route.original) {
        match traffic {
            Traffic::Service => object["spec"]["selector"] = original["selector"].clone(),
            Traffic::Istio | Traffic::GatewayApi => object["spec"] = original.clone(),
        }
        return Ok(object);
    }
    match (traffic, routing) {
        (Traffic::Service, Routing::Serve(track)) => {
            let selector = object
                .pointer_mut("/spec/selector")
                .and_then(Value::as_object_mut)
                .ok_or_else(|| error(traffic, &Value::Null, "no selector".to_owned()))?;
            if route.copies {
                let original = route
                    .original
                    .as_ref()
                    .and_then(|spec| spec["selector"].as_object())
                    .ok_or_else(|| {
                        error(traffic, &Value::Null, "no selector as found".to_owned())
                    })?;
                // A track's pods: every selector label told apart, and the track's own label.
                *selector = original
                    .iter()
                    .map(|(key, value)| {
                        let value = value.as_str().unwrap_or_default();
                        (
                            key.clone(),
                            Value::String(format!("{value}-{}", track.word())),
                        )
                    })
                    .collect();
                selector.insert(
                    TRACK_LABEL.to_owned(),
                    Value::String(track.word().to_owned()),
                );
            } else {
                selector.insert(
                    INSTANCE.to_owned(),
                    Value::String(track.name(&route.service)),
                );
            }
        }
        (Traffic::Istio | Traffic::GatewayApi, Routing::Weights(weights)) => {
            check(&object, route, namespace, tracks)?;
            if route.copies {
                add_backends(&mut object, route, namespace, tracks);
            }
            for (pointer, host) in backends(&object, traffic) {
                let Some(track) = track_of(&host, &route.service, namespace, tracks) else {
                    continue;
                };
                if let Some(parent) = object.pointer_mut(&pointer).and_then(Value::as_object_mut) {
                    parent.insert("weight".to_owned(), Value::from(weights.of(track)));
                }
            }
        }
        (traffic, routing) => {
            return Err(error(
                traffic,
                &object,
                format!("cannot express {routing} with {}", kind(traffic)),
            ));
        }
    }
    Ok(object)
}

/// In each rule that routes to the stable Service, a backend for every track it lacks: the
/// stable's, naming the track's Service (same port; no Istio subset, which belongs to the stable
/// host's `DestinationRule`).
fn add_backends(object: &mut Value, route: &Route, namespace: &str, tracks: &[Track]) {
    let traffic = route.traffic;
    for (_, list) in rules_to(object, traffic, &route.service, namespace) {
        let Some(entries) = object.pointer(&list).and_then(Value::as_array).cloned() else {
            continue;
        };
        let host_of = |entry: &Value| match traffic {
            Traffic::Istio => entry["destination"]["host"].as_str().map(str::to_owned),
            _ => entry["name"].as_str().map(str::to_owned),
        };
        let Some(stable) = entries.iter().find(|entry| {
            host_of(entry).is_some_and(|host| names_service(&host, &route.service, namespace))
        }) else {
            continue;
        };
        let mut extended = entries.clone();
        for track in tracks {
            let name = track.name(&route.service);
            let present = entries.iter().any(|entry| {
                host_of(entry).is_some_and(|host| names_service(&host, &name, namespace))
            });
            if present {
                continue;
            }
            let mut entry = stable.clone();
            match traffic {
                Traffic::Istio => {
                    entry["destination"]["host"] = Value::String(name);
                    if let Some(destination) = entry["destination"].as_object_mut() {
                        destination.remove("subset");
                    }
                }
                _ => entry["name"] = Value::String(name),
            }
            entry["weight"] = Value::from(0);
            extended.push(entry);
        }
        if let Some(slot) = object.pointer_mut(&list) {
            *slot = Value::Array(extended);
        }
    }
}

/// Whether two routings send the same shares to the same tracks (weights of tracks not in
/// `tracks` do not count).
#[must_use]
pub fn equal(a: &Routing, b: &Routing, tracks: &[Track]) -> bool {
    match (a, b) {
        (Routing::Serve(x), Routing::Serve(y)) => x == y,
        (Routing::Weights(x), Routing::Weights(y)) => tracks.iter().all(|t| x.of(*t) == y.of(*t)),
        _ => false,
    }
}
