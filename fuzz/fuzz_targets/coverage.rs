//! Coverage reports (Cobertura, LCOV, JaCoCo, …), read alone and through the whole action.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = gantry_quality_gate::coverage::read_coverage("coverage.xml", bytes);
    let inputs = [("INPUT_MIN-COVERAGE", "80")];
    gantry_fuzz::quality_gate(&inputs, gantry_fuzz::Role::Coverage, "coverage.xml", bytes);
});
