//! gantry-wasm-probe: links every sans-IO crate into one WASI program.
//!
//! Not a product: `cargo xtask wasm-check` builds it with `--target wasm32-wasip1` and reads the
//! module's import section; anything imported from outside `wasi_snapshot_preview1` means a
//! sans-IO crate reached for the host (a clock, a socket, a process) and the check fails. It
//! reads an event payload on stdin and renders it, so the crates' code is really linked in.

use std::io::{Read as _, Write as _};

use gantry_core::event::Event;
use gantry_core::markdown::{Align, Document, Table, text};
use gantry_core::report::{COMMENT_BODY_BUDGET, Report, Verdict};
use gantry_core::runner::{Inputs, Outputs};

fn main() {
    let mut payload = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut payload);
    let inputs = Inputs::from_environment(std::env::vars());
    if inputs.optional("action").as_deref() == Some("security-scan") {
        let text = match gantry_security_scan::sarif_input::read_sarif("stdin", &payload) {
            Ok(input) => format!("{} finding(s)", input.findings.len()),
            Err(error) => error.to_string(),
        };
        let _ = writeln!(std::io::stdout(), "{text}");
        return;
    }
    if inputs.optional("action").as_deref() == Some("quality-gate") {
        let text = match gantry_quality_gate::junit::read_test_report("stdin", &payload[..]) {
            Ok(report) => format!("{:?}", gantry_core::junit::Totals::of(&report.suites)),
            Err(error) => error.to_string(),
        };
        let _ = writeln!(std::io::stdout(), "{text}");
        return;
    }
    if inputs.optional("action").as_deref() == Some("terraform-plan") {
        terraform_plan(&inputs, &payload);
        return;
    }
    let event_name = inputs
        .optional("event")
        .unwrap_or_else(|| "push".to_owned());
    let mut report = Report::new("wasm-probe", Verdict::Passed, "probe");
    let mut table = Table::new(&[("event", Align::Left), ("head", Align::Left)]);
    match Event::parse(&event_name, &payload) {
        Ok(event) => {
            table.row([text(&event.name), text(event.head_sha().unwrap_or("-"))]);
        }
        Err(error) => {
            report.verdict = Verdict::Failed;
            report.headline = error.to_string();
        }
    }
    let mut document = Document::new();
    document.essential(text(&report.headline));
    document.detail("event", table.render(), None);
    let (body, _) = document.render_within(COMMENT_BODY_BUDGET, "the log");
    let mut outputs = Outputs::default();
    outputs.set("result", report.verdict.word());
    let rendered = outputs
        .render_github_output("ghadelimiter_wasm_probe_0000")
        .unwrap_or_default();
    let json = serde_json::to_string(&report).unwrap_or_default();
    let _ = write!(std::io::stdout(), "{body}\n{rendered}\n{json}\n");
}

/// Runs the terraform-plan action on a plan read from stdin.
fn terraform_plan(inputs: &Inputs, plan: &[u8]) {
    let context = gantry_core::runner::RunnerContext::default();
    let outcome = gantry_terraform_plan::Options::from_inputs(inputs, &context)
        .map_err(|error| error.to_string())
        .and_then(|options| {
            let source = gantry_terraform_plan::StackSource {
                name: "stdin".to_owned(),
                file: "stdin".to_owned(),
                bytes: plan,
            };
            gantry_terraform_plan::run(&options, &[source]).map_err(|error| error.to_string())
        });
    let text = match outcome {
        Ok(report) => report.summary,
        Err(message) => message,
    };
    let _ = writeln!(std::io::stdout(), "{text}");
}
