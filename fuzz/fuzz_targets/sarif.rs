//! SARIF as both actions read it: security-scan's report reader and quality-gate's lint reader.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = gantry_security_scan::sarif_input::read_sarif("scan.sarif", bytes);
    let _ = gantry_security_scan::input::read_report("scan.sarif", bytes);
    let _ = gantry_quality_gate::lint::read_lint("lint.sarif", bytes);
    let _ = gantry_core::sarif::parse_log(bytes);
});
