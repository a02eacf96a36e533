//! The whole terraform-plan action on one plan file (JSON, BOM, UTF-16, setup-terraform's wrapper).
#![no_main]

use gantry_core::runner::{Inputs, RunnerContext};
use gantry_terraform_plan::{Options, StackSource, run};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let inputs = Inputs::from_environment([("INPUT_FAIL-ON-DESTROY", "true")]);
    let options = Options::from_inputs(&inputs, &RunnerContext::default()).expect("options");
    let source = StackSource {
        name: "app".to_owned(),
        file: "plan.json".to_owned(),
        bytes,
    };
    if let Ok(report) = run(&options, &[source]) {
        gantry_fuzz::check_report(&report);
    }
});
