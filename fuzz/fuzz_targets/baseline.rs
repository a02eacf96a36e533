//! Baselines: security-scan's (a SARIF or native report of the base branch, with its line
//! contexts) against a fixed PR report, and quality-gate's summary file.
#![no_main]

use gantry_core::runner::Inputs;
use gantry_security_scan::baseline::{FileLines, Neighbourhood};
use gantry_core::workspace::NoWorkspace;
use libfuzzer_sys::fuzz_target;

const REPORT: &[u8] = include_bytes!("../seeds/report.sarif");

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = Neighbourhood::decode(text);
        let _ = FileLines::new(text);
    }
    let options = gantry_fuzz::scan_options(false);
    let report = gantry_security_scan::Source {
        file: "pr.sarif",
        bytes: REPORT,
    };
    let baseline = gantry_security_scan::Source {
        file: "base.sarif",
        bytes,
    };
    if let Ok(report) =
        gantry_security_scan::run(&options, &[report], Some(baseline), None, &NoWorkspace)
    {
        gantry_fuzz::check_report(&report);
    }

    let inputs = Inputs::from_environment([("INPUT_MAX-COVERAGE-DROP", "1")]);
    let options = gantry_quality_gate::Options::from_inputs(&inputs).expect("options");
    let sources = gantry_quality_gate::Sources {
        baseline: Some(gantry_quality_gate::Source {
            file: "baseline.json".to_owned(),
            reader: Box::new(bytes),
        }),
        tests: vec![gantry_quality_gate::Source {
            file: "junit.xml".to_owned(),
            reader: Box::new(
                &b"<testsuite name=\"s\" tests=\"1\"><testcase name=\"t\"/></testsuite>"[..],
            ),
        }],
        ..gantry_quality_gate::Sources::default()
    };
    if let Ok(report) = gantry_quality_gate::run(&options, sources, &gantry_core::workspace::NoWorkspace) {
        gantry_fuzz::check_report(&report);
    }
});
