//! The inputs, read as a workflow gives them.

use gantry_core::runner::{InputError, Inputs};
use gantry_helm_deploy::options::{self, Options};
use gantry_helm_deploy::plan::{Strategy, Traffic};

fn inputs(pairs: &[(&str, &str)]) -> Inputs {
    let mut inputs = Inputs::from_environment(Vec::<(String, String)>::new());
    for spec in options::SPEC.inputs {
        if let Some(default) = spec.default.filter(|d| !d.contains("${{")) {
            inputs.set(spec.name, default);
        }
    }
    for (name, value) in [
        ("release", "web"),
        ("chart", "./chart"),
        ("namespace", "shop"),
    ] {
        inputs.set(name, value);
    }
    for (name, value) in pairs {
        inputs.set(name, *value);
    }
    inputs
}

fn error(pairs: &[(&str, &str)]) -> String {
    Options::from_inputs(&inputs(pairs))
        .unwrap_err()
        .to_string()
}

#[test]
fn defaults_are_a_rolling_deploy() {
    let options = Options::from_inputs(&inputs(&[
        ("values", "a.yaml\n\nb.yaml\n"),
        ("set", "image.tag=v2"),
    ]))
    .unwrap();
    assert_eq!(options.strategy, Strategy::Rolling);
    assert_eq!(options.chart.values, ["a.yaml", "b.yaml"]);
    assert_eq!(options.chart.set, ["image.tag=v2"]);
    assert_eq!((options.timeout, options.rollback_timeout), (600, 300));
    assert_eq!(options.helm_command, "helm");
    assert!(options.analysis.is_none() && !options.recover_pending);
}

#[test]
fn a_canary_names_its_judges_workloads_after_the_release() {
    let options = Options::from_inputs(&inputs(&[
        ("strategy", "canary"),
        ("traffic", "gateway-api"),
        ("prometheus-url", "http://prometheus:9090"),
        ("timeout", "30m"),
    ]))
    .unwrap();
    assert_eq!(options.traffic, Traffic::GatewayApi);
    let analysis = options.analysis.unwrap();
    assert_eq!(
        (
            analysis.config.canary.as_str(),
            analysis.config.baseline.as_str()
        ),
        ("web-canary", "web-baseline")
    );
    // Three analysed steps: one look each, and three more for the last.
    assert_eq!(analysis.config.looks, 6);
    assert_eq!(
        options::looks(&[10, 25, 50, 100], 60, 240),
        4,
        "no more than fit"
    );
    assert_eq!(
        options::looks(&[10, 25, 50, 100], 60, 60),
        3,
        "at least one a step"
    );
    assert_eq!(analysis.config.window, 1800);
}

#[test]
fn what_cannot_work_is_refused_before_anything_runs() {
    assert!(error(&[("strategy", "canary")]).contains("`traffic` is required"));
    assert!(
        error(&[
            ("strategy", "canary"),
            ("traffic", "service"),
            ("prometheus-url", "x")
        ])
        .contains("cannot split")
    );
    assert!(error(&[("strategy", "canary"), ("traffic", "istio")]).contains("prometheus-url"));
    // The default 10m cannot hold 8 one-minute intervals of data and three more steps.
    let short = error(&[
        ("strategy", "canary"),
        ("traffic", "istio"),
        ("prometheus-url", "x"),
    ]);
    assert!(short.contains("at least 11m"), "{short}");
    assert!(error(&[("traffic", "linkerd")]).contains("`istio`, `gateway-api`, `service`"));
    assert!(error(&[("canary-steps", "10,50")]).contains("canary-steps"));
    assert!(error(&[("release", "Web_1")]).contains("Helm release name"));
    assert!(error(&[("release", &"a".repeat(45))]).contains("at most 44"));
    assert!(error(&[("timeout", "soon")]).contains("duration"));
    assert!(error(&[("health-checks", "https://x/healthz 200")]).contains("health-checks"));
    assert!(matches!(
        Options::from_inputs(&inputs(&[("release", "")])),
        Err(InputError::Missing { .. })
    ));
}

#[test]
fn health_checks_read_url_status_and_budget() {
    let check = options::health_check("https://app.example.com/healthz 204 500ms").unwrap();
    assert_eq!(
        (check.url.as_str(), check.status, check.budget_ms),
        ("https://app.example.com/healthz", 204, 500)
    );
    assert_eq!(
        options::health_check("http://x/ 200 2s").unwrap().budget_ms,
        2000
    );
    for bad in [
        "ftp://x 200 1s",
        "http://x 999 1s",
        "http://x 200 0ms",
        "http://x 200 fast",
        "http://x",
    ] {
        assert!(options::health_check(bad).is_err(), "{bad}");
    }
}
