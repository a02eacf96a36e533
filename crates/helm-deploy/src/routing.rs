//! Reading and writing the routing objects: an Istio `VirtualService`'s `spec.http[].route[]`
//! weights, a Gateway API `HTTPRoute`'s `spec.rules[].backendRefs[]` weights, a Service's
//! selector. Objects are JSON values (the CRDs have no types here); a write is the whole object
//! back with its `resourceVersion`, so a concurrent change is a 409 and is read again, never
//! overwritten.

use serde_json::Value;

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

fn track_of(host: &str, release: &str, namespace: &str, tracks: &[Track]) -> Option<Track> {
    tracks
        .iter()
        .copied()
        .find(|track| names_service(host, &track.name(release), namespace))
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

/// Checks that the object routes to every track of the strategy — before a deploy changes
/// anything, so a chart that does not keep the contract fails with nothing changed.
pub fn check(
    object: &Value,
    traffic: Traffic,
    release: &str,
    namespace: &str,
    tracks: &[Track],
) -> Result<(), RouteError> {
    if traffic == Traffic::Service {
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
    for &track in tracks {
        let service = track.name(release);
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

/// The routing an object describes: per track, the weight of its backends (a track listed in
/// several rules must carry the same weight in each, or the routing is reported as mixed).
pub fn read(
    object: &Value,
    traffic: Traffic,
    release: &str,
    namespace: &str,
    tracks: &[Track],
) -> Result<Routing, RouteError> {
    if traffic == Traffic::Service {
        let instance = object["spec"]["selector"][INSTANCE]
            .as_str()
            .unwrap_or_default();
        return tracks
            .iter()
            .copied()
            .find(|track| track.name(release) == instance)
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
        let Some(track) = track_of(&host, release, namespace, tracks) else {
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
    traffic: Traffic,
    release: &str,
    namespace: &str,
    tracks: &[Track],
    routing: &Routing,
) -> Result<Value, RouteError> {
    let mut object = object.clone();
    match (traffic, routing) {
        (Traffic::Service, Routing::Serve(track)) => {
            let selector = object
                .pointer_mut("/spec/selector")
                .and_then(Value::as_object_mut)
                .ok_or_else(|| error(traffic, &Value::Null, "no selector".to_owned()))?;
            selector.insert(INSTANCE.to_owned(), Value::String(track.name(release)));
        }
        (Traffic::Istio | Traffic::GatewayApi, Routing::Weights(weights)) => {
            check(&object, traffic, release, namespace, tracks)?;
            for (pointer, host) in backends(&object, traffic) {
                let Some(track) = track_of(&host, release, namespace, tracks) else {
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
