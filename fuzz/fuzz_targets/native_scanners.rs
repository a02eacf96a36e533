//! Every native scanner reader on the same bytes (each reader, not only the detected one: a
//! reader must not panic on a report that merely looks like its format), then the whole
//! security-scan action.
#![no_main]

use gantry_core::workspace::NoWorkspace;
use gantry_security_scan::native::FORMATS;
use gantry_security_scan::{Source, run};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
        for native in &FORMATS {
            let _ = (native.detect)(&value);
            let _ = (native.read)(&value);
        }
    }
    let options = gantry_fuzz::scan_options(true);
    let source = Source {
        file: "report.json",
        bytes,
    };
    if let Ok(report) = run(&options, &[source], None, None, &NoWorkspace) {
        gantry_fuzz::check_report(&report);
    }
});
