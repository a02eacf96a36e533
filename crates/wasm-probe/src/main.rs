//! gantry-wasm-probe: links every sans-IO crate into one WASI program and runs each action's
//! whole `run` in it.
//!
//! Not a product: `cargo xtask wasm-check` builds it with `--target wasm32-wasip1`, reads the
//! module's import section (anything beyond the few WASI calls a pure computation needs means a
//! sans-IO crate reached for the host: a clock, randomness, a file, a socket), then runs it
//! under Node's WASI on the bundled examples and compares what it prints with the same program
//! built natively.
//!
//! Everything comes on stdin, so the probe itself imports nothing more than the actions do (no
//! environment, no arguments):
//!
//! ```text
//! security-scan                 the action: terraform-plan, drift-report, security-scan, quality-gate, helm-deploy, event
//! INPUT_FAIL-ON=high            inputs, one a line, up to the first `<<< ` line
//! <<< report reports/trivy.sarif  then files: `<<< <role> <name>` and the file's text
//! …
//! ```

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};

use gantry_core::event::Event;
use gantry_core::report::Report;
use gantry_core::runner::{Inputs, RunnerContext};

/// One file on stdin: its role (`plan`, `report`, `baseline`, `suppressions`, `tests`,
/// `coverage`, `lint`), its name and its bytes.
struct File<'a> {
    role: &'a str,
    name: &'a str,
    bytes: &'a [u8],
}

fn main() {
    let mut stdin = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut stdin);
    let (action, inputs, files) = parse(&stdin);
    let shown = match action {
        "terraform-plan" => terraform_plan(&inputs, &files),
        "drift-report" => drift_report(&inputs, &files),
        "security-scan" => security_scan(&inputs, &files),
        "quality-gate" => quality_gate(&inputs, &files),
        "helm-deploy" => helm_deploy(&inputs, &files),
        "event" => event(&inputs, &files),
        other => Err(format!("unknown action `{other}`")),
    };
    let text = match shown {
        Ok(report) => shown_report(&report),
        Err(message) => format!("error: {message}\n"),
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
}

fn text_of(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default().trim_end()
}

fn parse(stdin: &[u8]) -> (&str, Inputs, Vec<File<'_>>) {
    let mut parts = split_on_headers(stdin);
    let head = parts.next().unwrap_or_default();
    let mut lines = head.split(|byte| *byte == b'\n').map(text_of);
    let action = lines.next().unwrap_or_default();
    let inputs = Inputs::from_environment(lines.filter_map(|line| line.split_once('=')));
    let files = parts
        .map(|part| {
            let (header, bytes) = part
                .iter()
                .position(|byte| *byte == b'\n')
                .map_or((part, &[][..]), |end| (&part[..end], &part[end + 1..]));
            let (role, name) = text_of(header).split_once(' ').unwrap_or(("", ""));
            File { role, name, bytes }
        })
        .collect();
    (action, inputs, files)
}

/// The head, then each `<<< …` section without its `<<< `.
fn split_on_headers(stdin: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut starts = vec![0];
    let mut at = 0;
    while let Some(found) = find(&stdin[at..], b"\n<<< ") {
        starts.push(at + found + 5);
        at += found + 5;
    }
    let ends: Vec<usize> = starts
        .iter()
        .skip(1)
        .map(|start| start - 5)
        .chain([stdin.len()])
        .collect();
    starts
        .into_iter()
        .zip(ends)
        .map(move |(start, end)| &stdin[start..end])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn of_role<'a>(files: &'a [File<'a>], role: &str) -> impl Iterator<Item = &'a File<'a>> {
    let role = role.to_owned();
    files.iter().filter(move |file| file.role == role)
}

fn drift_report(inputs: &Inputs, files: &[File<'_>]) -> Result<Report, String> {
    // The time is an input of the sans-IO run: the edge reads the clock, the probe fixes it.
    let options =
        gantry_drift_report::Options::from_inputs(inputs, "2026-01-01T00:00:00Z".to_owned(), None)
            .map_err(|error| error.to_string())?;
    let sources: Vec<gantry_drift_report::StackSource<'_>> = of_role(files, "plan")
        .map(|file| gantry_drift_report::StackSource {
            name: gantry_terraform_plan::stack_name_for(file.name),
            file: file.name.to_owned(),
            bytes: file.bytes,
        })
        .collect();
    gantry_drift_report::run(&options, &sources, &[], &std::collections::BTreeMap::new())
        .map_err(|error| error.to_string())
}

fn terraform_plan(inputs: &Inputs, files: &[File<'_>]) -> Result<Report, String> {
    let options = gantry_terraform_plan::Options::from_inputs(inputs, &RunnerContext::default())
        .map_err(|error| error.to_string())?;
    let sources: Vec<gantry_terraform_plan::StackSource<'_>> = of_role(files, "plan")
        .map(|file| gantry_terraform_plan::StackSource {
            name: gantry_terraform_plan::stack_name_for(file.name),
            file: file.name.to_owned(),
            bytes: file.bytes,
        })
        .collect();
    gantry_terraform_plan::run(&options, &sources).map_err(|error| error.to_string())
}

fn source<'a>(file: &File<'a>) -> gantry_security_scan::Source<'a> {
    gantry_security_scan::Source {
        file: file.name,
        bytes: file.bytes,
    }
}

fn security_scan(inputs: &Inputs, files: &[File<'_>]) -> Result<Report, String> {
    let options = gantry_security_scan::Options::from_inputs(
        inputs,
        "2026-12-03".to_owned(),
        None,
        "ci/scan".to_owned(),
    )
    .map_err(|error| error.to_string())?;
    let reports: Vec<gantry_security_scan::Source<'_>> =
        of_role(files, "report").map(source).collect();
    gantry_security_scan::run(
        &options,
        &reports,
        of_role(files, "baseline").next().map(source),
        of_role(files, "suppressions").next().map(source),
        &gantry_core::workspace::NoWorkspace,
    )
    .map_err(|error| error.to_string())
}

fn quality_gate(inputs: &Inputs, files: &[File<'_>]) -> Result<Report, String> {
    let options =
        gantry_quality_gate::Options::from_inputs(inputs).map_err(|error| error.to_string())?;
    let sources = |role: &str| -> Vec<gantry_quality_gate::Source<'_>> {
        of_role(files, role)
            .map(|file| gantry_quality_gate::Source {
                file: file.name.to_owned(),
                reader: Box::new(file.bytes),
            })
            .collect()
    };
    let sources = gantry_quality_gate::Sources {
        tests: sources("tests"),
        coverage: sources("coverage"),
        lint: sources("lint"),
        baseline: sources("baseline").into_iter().next(),
    };
    gantry_quality_gate::run(&options, sources, &gantry_core::workspace::NoWorkspace)
        .map_err(|error| error.to_string())
}

/// helm-deploy's plan (the deploy's steps, weights and what undoes each, as `plan-only`
/// reports it), and the workloads each `manifest` file applies — the deployer's decisions
/// that need no cluster.
fn helm_deploy(inputs: &Inputs, files: &[File<'_>]) -> Result<Report, String> {
    // The declared defaults, as the CLI completes the inputs with them.
    let mut inputs = inputs.clone();
    for spec in gantry_helm_deploy::options::SPEC.inputs {
        if let Some(default) = spec.default.filter(|default| !default.contains("${{")) {
            if inputs.optional(spec.name).is_none() {
                inputs.set(spec.name, default);
            }
        }
    }
    let options =
        gantry_helm_deploy::options::Options::from_inputs(&inputs).map_err(|e| e.to_string())?;
    let plan = options.plan(false).map_err(|error| error.to_string())?;
    let mut report = gantry_helm_deploy::report::plan(
        &options.release,
        &options.namespace,
        &plan,
        &options.health_checks,
    );
    drive_deployer(&options, &mut report.summary);
    for file in of_role(files, "manifest") {
        let workloads =
            gantry_helm_deploy::applied::workloads(text_of(file.bytes), &options.namespace)
                .map_err(|error| format!("{}: {error}", file.name))?;
        for workload in workloads {
            let _ = writeln!(
                report.summary,
                "{}: {} {} selects {}",
                file.name,
                workload.kind.word(),
                workload.name,
                workload.selector
            );
        }
    }
    Ok(report)
}

/// The deployer itself, pumped to its end against a cluster with no release and a helm that
/// fails: the first install stops, is uninstalled, and the outcome says why — the state
/// machine's whole path (intents, answers, a manual clock) under WASI.
fn drive_deployer(options: &gantry_helm_deploy::options::Options, summary: &mut String) {
    use gantry_helm_deploy::deployer::{Config, Deployer, Finished, HelmExit, Intent};
    let config = Config {
        options: options.clone(),
        judge: None,
        secrets: Vec::new(),
        deployment: false,
        helm_version: "v4.2.3".to_owned(),
    };
    let mut now = 1_800_000_000_000;
    let mut deployer = Deployer::new(config, now);
    let mut helm: Option<HelmExit> = None;
    for _ in 0..1_000 {
        match deployer.poll_intent() {
            Intent::Finish => break,
            Intent::History(_) => deployer.handle_history(now, Ok(Vec::new())),
            Intent::Helm(args) => {
                helm = Some(if args[0] == "uninstall" {
                    HelmExit::Success
                } else {
                    HelmExit::Failed(
                        "Error: INSTALLATION FAILED: no cluster under WASI\n".to_owned(),
                    )
                });
            }
            Intent::Wait(until) => {
                now = until.max(now + 1);
                match helm.take() {
                    Some(exit) => deployer.handle_helm(now, exit),
                    None => deployer.handle_timer(now),
                }
            }
            Intent::ReadRoute { .. } => deployer.handle_route(now, Ok(serde_json::Value::Null)),
            _ => deployer.handle_done(now, Ok(())),
        }
    }
    let _ = match deployer.finished() {
        Some(Finished::Ran { outcome, .. }) => writeln!(
            summary,
            "deployer: {} — {}; steps: {}",
            outcome.decision.map_or("none", |d| d.word()),
            outcome.failure.unwrap_or_default(),
            outcome
                .timeline
                .iter()
                .map(|(_, note)| note.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => writeln!(summary, "deployer: {other:?}"),
    };
}

fn event(inputs: &Inputs, files: &[File<'_>]) -> Result<Report, String> {
    let name = inputs
        .optional("event")
        .unwrap_or_else(|| "push".to_owned());
    let payload = of_role(files, "payload")
        .next()
        .map_or(&[][..], |file| file.bytes);
    let event = Event::parse(&name, payload).map_err(|error| error.to_string())?;
    let mut report = Report::new(
        "event",
        gantry_core::report::Verdict::Passed,
        format!(
            "{} pr={:?} head={}",
            event.name,
            event.pull_request_number(),
            event.head_sha().unwrap_or("-")
        ),
    );
    report.summary = format!("fork: {}\n", event.is_fork_pull_request());
    Ok(report)
}

/// Everything the report says, as the CLI would publish it, plus its JSON.
fn shown_report(report: &Report) -> String {
    let mut outputs = report.outputs.clone();
    outputs.set("result", report.verdict.word());
    let rendered = outputs
        .render_github_output("ghadelimiter_wasm_probe_0000")
        .unwrap_or_default();
    let json = serde_json::to_string(report).unwrap_or_default();
    format!(
        "{}: {}\n{}\n{rendered}\n{json}\n",
        report.verdict.word(),
        report.headline,
        report.summary
    )
}
