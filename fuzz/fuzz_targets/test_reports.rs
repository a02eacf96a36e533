//! Test reports (JUnit in its dialects, NUnit, xUnit, TRX), through the whole quality-gate action.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = gantry_quality_gate::junit::read_test_report("report.xml", bytes);
    let inputs = [("INPUT_MERGED-JUNIT", "merged.xml")];
    gantry_fuzz::quality_gate(&inputs, gantry_fuzz::Role::Tests, "report.xml", bytes);
});
