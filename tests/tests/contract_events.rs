//! Every real event payload in `shared/contracts/events/` parses.

use gantry_core::event::{Event, EventKind};

#[test]
fn every_contract_event_payload_parses() {
    let folder = gantry_testkit::shared_dir().join("contracts/events");
    let mut parsed = 0;
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let event_name = file.split('.').next().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let event =
            Event::parse(event_name, &bytes).unwrap_or_else(|error| panic!("{file}: {error}"));
        assert!(event.repository.is_some(), "{file}: repository");
        match (event_name, &event.kind) {
            ("pull_request", EventKind::PullRequest { .. }) => {
                assert!(event.pull_request_number().is_some(), "{file}");
                assert_eq!(event.head_sha().map(str::len), Some(40), "{file}");
            }
            ("push", EventKind::Push { .. })
            | ("workflow_dispatch", EventKind::WorkflowDispatch { .. })
            | ("deployment", EventKind::Deployment(_))
            | ("deployment_status", EventKind::DeploymentStatus { .. })
            | ("workflow_run", EventKind::WorkflowRun(_)) => {}
            (name, kind) => panic!("{file}: {name} parsed as {kind:?}"),
        }
        parsed += 1;
    }
    assert!(
        parsed >= 27,
        "only {parsed} payloads found in {}",
        folder.display()
    );
}
