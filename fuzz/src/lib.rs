//! What every fuzz target checks of a report an action produced from untrusted bytes, beyond
//! "no panic": the limits GitHub enforces hold, and the report survives a round trip through
//! JSON (`--save-report` / `gantry publish`).

use gantry_core::report::{CHECK_RUN_TEXT_LIMIT, COMMENT_LIMIT_BYTES, Effect, Report};

/// Panics (a finding for libFuzzer) when the report breaks a limit GitHub would refuse.
pub fn check_report(report: &Report) {
    for effect in &report.effects {
        match effect {
            Effect::Comment(comment) => {
                let body = comment.body_with_marker();
                assert!(
                    body.len() <= COMMENT_LIMIT_BYTES,
                    "comment of {} bytes",
                    body.len()
                );
            }
            Effect::CheckRun(check) => {
                assert!(check.summary.len() <= CHECK_RUN_TEXT_LIMIT);
                assert!(
                    check
                        .text
                        .as_ref()
                        .is_none_or(|t| t.len() <= CHECK_RUN_TEXT_LIMIT)
                );
                assert!(check.title.chars().count() <= 1024 && !check.title.contains('\n'));
            }
            Effect::UploadSarif(upload) => {
                let log: serde_json::Value =
                    serde_json::from_str(&upload.sarif).expect("uploaded SARIF is JSON");
                assert_eq!(log["version"], "2.1.0");
            }
            Effect::Issue(_) | Effect::DeploymentStatus(_) => {}
        }
    }
    assert!(
        !report.headline.contains('\n'),
        "headline {:?}",
        report.headline
    );
    let json = serde_json::to_string(report).expect("report serialises");
    let back: Report = serde_json::from_str(&json).expect("report reads back");
    assert_eq!(&back, report);
}

/// security-scan's options as a PR job sets them: the gate at `high`, comment on.
pub fn scan_options(upload: bool) -> gantry_security_scan::Options {
    gantry_security_scan::Options {
        fail_on: gantry_security_scan::severity::Severity::threshold("high").flatten(),
        output: "gantry-security.sarif".to_owned(),
        upload,
        comment: true,
        today: "2026-12-03".to_owned(),
        blob_base: None,
        workflow_and_job: "ci/scan".to_owned(),
        change: None,
        baseline_notes: Vec::new(),
    }
}

/// Where a quality-gate input goes.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    /// `test-results`.
    Tests,
    /// `coverage`.
    Coverage,
    /// `lint`.
    Lint,
}

/// The whole quality-gate action with one input file (and the given inputs), checked.
pub fn quality_gate(inputs: &[(&str, &str)], role: Role, file: &str, bytes: &[u8]) {
    let inputs = gantry_core::runner::Inputs::from_environment(inputs.iter().copied());
    let options = gantry_quality_gate::Options::from_inputs(&inputs).expect("options");
    let source = vec![gantry_quality_gate::Source {
        file: file.to_owned(),
        reader: Box::new(bytes),
    }];
    let mut sources = gantry_quality_gate::Sources::default();
    match role {
        Role::Tests => sources.tests = source,
        Role::Coverage => sources.coverage = source,
        Role::Lint => sources.lint = source,
    }
    if let Ok(report) = gantry_quality_gate::run(&options, sources, &gantry_core::workspace::NoWorkspace) {
        check_report(&report);
    }
}
