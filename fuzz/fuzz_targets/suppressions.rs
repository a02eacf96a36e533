//! The suppressions file, parsed and then applied by the whole security-scan action.
#![no_main]

use gantry_core::workspace::NoWorkspace;
use gantry_security_scan::{Source, run};
use libfuzzer_sys::fuzz_target;

const REPORT: &[u8] = include_bytes!("../seeds/report.sarif");

fuzz_target!(|bytes: &[u8]| {
    let _ = gantry_security_scan::suppress::parse(".gantry/suppressions.yml", bytes);
    let options = gantry_fuzz::scan_options(false);
    let report = Source {
        file: "report.sarif",
        bytes: REPORT,
    };
    let suppressions = Source {
        file: ".gantry/suppressions.yml",
        bytes,
    };
    if let Ok(report) = run(&options, &[report], None, Some(suppressions), &NoWorkspace) {
        gantry_fuzz::check_report(&report);
    }
});
