//! Which `prometheus-url`s name a Service inside the cluster, and the proxy path to each.

use gantry_prometheus::InCluster;

#[test]
fn a_services_cluster_dns_name_is_reached_through_the_api_servers_proxy() {
    let cases = [
        (
            "http://prometheus-server.monitoring.svc:9090",
            "/api/v1/namespaces/monitoring/services/http:prometheus-server:9090/proxy",
        ),
        (
            "http://prometheus.monitoring.svc.cluster.local/",
            "/api/v1/namespaces/monitoring/services/http:prometheus:80/proxy",
        ),
        (
            "https://thanos-query.obs.svc:10902/prometheus/",
            "/api/v1/namespaces/obs/services/https:thanos-query:10902/proxy/prometheus",
        ),
    ];
    for (url, path) in cases {
        let service = InCluster::of(url).unwrap_or_else(|| panic!("{url}"));
        assert_eq!(service.proxy_path(), path, "{url}");
    }
}

#[test]
fn any_other_url_is_fetched_as_given() {
    for url in [
        "http://127.0.0.1:9090",
        "https://prometheus.example.com",
        "http://prometheus.svc:9090",
        "http://a.b.c.svc:9090",
        "http://prometheus.monitoring.svc.example.com",
        "file:recording.json",
        "prometheus.monitoring.svc",
    ] {
        assert_eq!(InCluster::of(url), None, "{url}");
    }
}
