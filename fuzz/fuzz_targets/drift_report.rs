//! The whole drift-report action on one refresh-only plan file, and a Helm manifest (the YAML
//! reader and the Kubernetes comparison) against the same objects as live and with each half
//! of them gone.
#![no_main]

use std::collections::BTreeMap;

use gantry_core::runner::Inputs;
use gantry_drift_report::{Options, ReleaseSource, StackSource, kube, run};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let options = Options::from_inputs(
        &Inputs::from_environment([("INPUT_IGNORE", "aws_instance.tags_all")]),
        "2026-12-04T06:00:00Z".to_owned(),
        None,
    )
    .expect("options");
    let stack = StackSource {
        name: "app".to_owned(),
        file: "plan.json".to_owned(),
        bytes,
    };
    if let Ok(report) = run(&options, &[stack], &[], &BTreeMap::new()) {
        gantry_fuzz::check_report(&report);
    }
    let Ok(manifest) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(objects) = kube::desired("shop/cart", 1, manifest) else {
        return;
    };
    let live: Vec<(kube::Desired, Option<serde_json::Value>)> = objects
        .iter()
        .enumerate()
        .map(|(index, object)| (object.clone(), (index % 2 == 0).then(|| object.object.clone())))
        .collect();
    let release = ReleaseSource {
        namespace: "shop".to_owned(),
        name: "cart".to_owned(),
        revision: 1,
        note: None,
        autoscaled: kube::autoscaled(&objects.iter().map(|o| o.object.clone()).collect::<Vec<_>>()),
        objects: live,
    };
    if let Ok(report) = run(&options, &[], &[release], &BTreeMap::new()) {
        gantry_fuzz::check_report(&report);
    }
});
