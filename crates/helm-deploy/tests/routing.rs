//! Routing objects read and written as the chart renders them.

use gantry_helm_deploy::plan::{self, Routing, Strategy, Track, Traffic, Weights};
use gantry_helm_deploy::routing::{self, INSTANCE, Route};
use serde_json::json;

fn virtual_service() -> serde_json::Value {
    json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "7"},
        "spec": {"hosts": ["web"], "http": [
            {"match": [{"headers": {"x-canary": {"exact": "1"}}}],
             "route": [{"destination": {"host": "web-canary.shop.svc.cluster.local"}}]},
            {"route": [
                {"destination": {"host": "web", "port": {"number": 80}}, "weight": 100},
                {"destination": {"host": "web-canary.shop.svc.cluster.local"}, "weight": 0},
                {"destination": {"host": "web-baseline.shop"}, "weight": 0},
                {"destination": {"host": "other"}, "weight": 0}
            ]}
        ]}
    })
}

fn http_route() -> serde_json::Value {
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "web"},
        "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [
            {"name": "web", "port": 80, "weight": 1},
            {"name": "web-canary", "port": 80, "weight": 0},
            {"name": "web-baseline", "port": 80, "weight": 0},
            {"group": "example.com", "kind": "Bucket", "name": "web-canary"}
        ]}]}
    })
}

#[test]
fn weights_written_are_read_back_in_both_route_kinds() {
    let tracks = plan::tracks(Strategy::Canary);
    for (traffic, object) in [
        (Traffic::Istio, virtual_service()),
        (Traffic::GatewayApi, http_route()),
    ] {
        routing::check(&object, &Route::contract(traffic, "web"), "shop", tracks).unwrap();
        for percent in [10, 25, 50, 100] {
            let wanted = Routing::Weights(Weights::canary_step(percent));
            let written = routing::write(
                &object,
                &Route::contract(traffic, "web"),
                "shop",
                tracks,
                &wanted,
            )
            .unwrap();
            let read =
                routing::read(&written, &Route::contract(traffic, "web"), "shop", tracks).unwrap();
            let Routing::Weights(read) = read else {
                panic!()
            };
            for track in tracks {
                assert_eq!(
                    read.of(*track),
                    Weights::canary_step(percent).of(*track),
                    "{traffic:?} {percent} {track:?}"
                );
            }
            // The resourceVersion goes back with the object: a concurrent change is a 409.
            assert_eq!(written["metadata"], object["metadata"]);
        }
    }
    // The other backends are left as they were.
    let written = routing::write(
        &virtual_service(),
        &Route::contract(Traffic::Istio, "web"),
        "shop",
        tracks,
        &Routing::Weights(Weights::canary_step(10)),
    )
    .unwrap();
    assert_eq!(
        written["spec"]["http"][1]["route"][3],
        virtual_service()["spec"]["http"][1]["route"][3]
    );
    assert_eq!(written["spec"]["http"][0]["route"][0]["weight"], 10);
}

#[test]
fn gateway_weights_are_proportions_and_a_mixed_route_is_not_read_as_either() {
    let tracks = plan::tracks(Strategy::Canary);
    // The chart's default: stable 1, others 0 — all traffic to stable.
    let Routing::Weights(read) = routing::read(
        &http_route(),
        &Route::contract(Traffic::GatewayApi, "web"),
        "shop",
        tracks,
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(read.of(Track::Stable), 100);
    let mut mixed = virtual_service();
    mixed["spec"]["http"][0]["route"][0]["weight"] = json!(30);
    mixed["spec"]["http"][1]["route"][1]["weight"] = json!(10);
    assert!(
        routing::read(
            &mixed,
            &Route::contract(Traffic::Istio, "web"),
            "shop",
            tracks
        )
        .is_err()
    );
}

#[test]
fn a_route_without_every_tracks_service_is_refused_before_anything_changes() {
    let mut object = http_route();
    object["spec"]["rules"][0]["backendRefs"]
        .as_array_mut()
        .unwrap()
        .remove(2);
    let error = routing::check(
        &object,
        &Route::contract(Traffic::GatewayApi, "web"),
        "shop",
        plan::tracks(Strategy::Canary),
    )
    .unwrap_err();
    assert!(error.to_string().contains("\"web-baseline\""), "{error}");
    // A host in another namespace is not this release's Service.
    let mut object = virtual_service();
    object["spec"]["http"][1]["route"][2]["destination"]["host"] =
        json!("web-baseline.other.svc.cluster.local");
    assert!(
        routing::check(
            &object,
            &Route::contract(Traffic::Istio, "web"),
            "shop",
            plan::tracks(Strategy::Canary)
        )
        .is_err()
    );
}

#[test]
fn a_service_selector_switches_between_blue_and_green() {
    let tracks = plan::tracks(Strategy::BlueGreen);
    let service = json!({"metadata": {"name": "web"}, "spec": {"selector": {INSTANCE: "web", "app.kubernetes.io/name": "web"}}});
    assert_eq!(
        routing::read(
            &service,
            &Route::contract(Traffic::Service, "web"),
            "shop",
            tracks
        ),
        Ok(Routing::Serve(Track::Stable))
    );
    let green = routing::write(
        &service,
        &Route::contract(Traffic::Service, "web"),
        "shop",
        tracks,
        &Routing::Serve(Track::Green),
    )
    .unwrap();
    assert_eq!(green["spec"]["selector"][INSTANCE], "web-green");
    assert_eq!(green["spec"]["selector"]["app.kubernetes.io/name"], "web");
    assert_eq!(
        routing::read(
            &green,
            &Route::contract(Traffic::Service, "web"),
            "shop",
            tracks
        ),
        Ok(Routing::Serve(Track::Green))
    );
    let foreign = json!({"metadata": {"name": "web"}, "spec": {"selector": {INSTANCE: "db"}}});
    assert!(
        routing::read(
            &foreign,
            &Route::contract(Traffic::Service, "web"),
            "shop",
            tracks
        )
        .is_err()
    );
}
