//! Linter reports (checkstyle, JSON formats, one-line formats), read alone and through the action.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = gantry_quality_gate::lint::read_lint("lint.txt", bytes);
    let _ = gantry_quality_gate::lint::read_lint("lint.json", bytes);
    let inputs = [("INPUT_FAIL-ON-LINT", "warning")];
    gantry_fuzz::quality_gate(&inputs, gantry_fuzz::Role::Lint, "lint.txt", bytes);
});
