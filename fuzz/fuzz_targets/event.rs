//! Event payloads (`GITHUB_EVENT_PATH`) under each event name the actions read.
#![no_main]

use gantry_core::event::Event;
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 6] = [
    "pull_request",
    "pull_request_target",
    "push",
    "workflow_run",
    "merge_group",
    "schedule",
];

fuzz_target!(|bytes: &[u8]| {
    for name in NAMES {
        if let Ok(event) = Event::parse(name, bytes) {
            let _ = (event.pull_request_number(), event.head_sha());
            let _ = event.is_fork_pull_request();
        }
    }
});
