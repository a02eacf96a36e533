//! Every file of `shared/corpus/terraform/` through the action: read correctly or rejected with
//! a message naming the file, a snapshot of what is written, and invariants — Terraform's counts
//! as the corpus's independent reading has them, budgets kept, and no sensitive value anywhere.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use gantry_core::report::{COMMENT_LIMIT_BYTES, Effect, Report};
use gantry_core::runner::STEP_SUMMARY_LIMIT;
use gantry_terraform_plan::{CommentSetting, Options, StackSource, run};
use serde_json::Value;

fn corpus() -> PathBuf {
    gantry_testkit::shared_dir().join("corpus/terraform")
}

fn files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for folder in std::fs::read_dir(corpus()).unwrap() {
        let folder = folder.unwrap().path();
        if folder.is_dir() {
            files.extend(
                std::fs::read_dir(&folder)
                    .unwrap()
                    .map(|entry| entry.unwrap().path()),
            );
        }
    }
    files.sort();
    files
}

fn options() -> Options {
    Options {
        comment: CommentSetting::Update,
        comment_key: None,
        fail_on_destroy: false,
        destroy_allowlist: Vec::new(),
        expect_digest: None,
        workflow_and_job: "ci/plan".into(),
    }
}

fn relative(path: &Path) -> String {
    path.strip_prefix(corpus()).unwrap().display().to_string()
}

fn run_file(path: &Path) -> Result<Report, String> {
    let bytes = std::fs::read(path).unwrap();
    let file = relative(path);
    run(
        &options(),
        &[StackSource {
            name: "stack".into(),
            file,
            bytes: &bytes,
        }],
    )
    .map_err(|error| error.to_string())
}

/// The `actions` column of PROVENANCE.md: `create: 1, delete+create: 1` per file.
fn expected_actions() -> BTreeMap<String, BTreeMap<String, u64>> {
    let provenance = std::fs::read_to_string(corpus().join("PROVENANCE.md")).unwrap();
    let mut expected = BTreeMap::new();
    for line in provenance.lines().filter(|line| line.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let file = cells[1].trim_matches('`').to_owned();
        // Counts exist only where the corpus could read the file as JSON (the `fv` column).
        if cells[6].is_empty() || cells[6].starts_with("INVALID") {
            continue;
        }
        let mut actions = BTreeMap::new();
        for part in cells[8]
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            let (action, count) = part.split_once(':').unwrap();
            actions.insert(action.trim().to_owned(), count.trim().parse().unwrap());
        }
        expected.insert(file, actions);
    }
    expected
}

/// Sensitive strings, found independently of the crate: every string under a `true` in
/// `before_sensitive`/`after_sensitive`, sensitive outputs, and sensitive variables.
fn sensitive_strings(plan: &Value) -> Vec<String> {
    fn under_mask(value: &Value, mask: &Value, out: &mut Vec<String>) {
        match (value, mask) {
            (_, Value::Bool(true)) => all_strings(value, out),
            (Value::Object(map), Value::Object(masks)) => {
                for (key, child) in map {
                    if let Some(child_mask) = masks.get(key) {
                        under_mask(child, child_mask, out);
                    }
                }
            }
            (Value::Array(items), Value::Array(masks)) => {
                for (item, child_mask) in items.iter().zip(masks) {
                    under_mask(item, child_mask, out);
                }
            }
            _ => {}
        }
    }
    fn all_strings(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(text) => out.push(text.clone()),
            Value::Array(items) => items.iter().for_each(|item| all_strings(item, out)),
            Value::Object(map) => map.values().for_each(|item| all_strings(item, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    let changes = ["resource_changes", "resource_drift"]
        .iter()
        .filter_map(|key| plan.get(*key).and_then(Value::as_array))
        .flatten()
        .map(|change| &change["change"]);
    let outputs = plan
        .get("output_changes")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(_, change)| change);
    for change in changes.chain(outputs) {
        under_mask(&change["before"], &change["before_sensitive"], &mut out);
        under_mask(&change["after"], &change["after_sensitive"], &mut out);
    }
    let root = &plan["configuration"]["root_module"];
    for (name, output) in root["outputs"].as_object().into_iter().flatten() {
        if output["sensitive"] == Value::Bool(true) {
            all_strings(&plan["output_changes"][name]["after"], &mut out);
            all_strings(&plan["output_changes"][name]["before"], &mut out);
            all_strings(&plan["planned_values"]["outputs"][name]["value"], &mut out);
        }
    }
    for (name, variable) in root["variables"].as_object().into_iter().flatten() {
        if variable["sensitive"] == Value::Bool(true) {
            all_strings(&plan["variables"][name]["value"], &mut out);
        }
    }
    // Strings of three characters or fewer ("", "foo", "yes") also occur as ordinary words;
    // they are masked where marked (the snapshots show it) but cannot be searched for.
    out.retain(|secret| secret.chars().count() >= 4);
    out.sort();
    out.dedup();
    out
}

/// The plan JSON of a corpus file as people hand it to the action, decoded here without the
/// action's reader: plain, after a UTF-8 byte-order mark, UTF-16 (PowerShell's `>`), or the one
/// JSON line inside setup-terraform's wrapper output.
fn plan_json(bytes: &[u8]) -> Option<Value> {
    let utf16 = |bytes: &[u8], big_endian: bool| {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|pair| {
                if big_endian {
                    u16::from_be_bytes([pair[0], pair[1]])
                } else {
                    u16::from_le_bytes([pair[0], pair[1]])
                }
            })
            .collect();
        String::from_utf16(&units).ok()
    };
    let text = match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, false)?,
        [0xFE, 0xFF, rest @ ..] => utf16(rest, true)?,
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).ok()?,
        _ => String::from_utf8(bytes.to_vec()).ok()?,
    };
    serde_json::from_str(&text).ok().or_else(|| {
        text.lines()
            .filter(|line| line.starts_with('{'))
            .find_map(|line| serde_json::from_str(line).ok())
    })
}

fn everything_written(report: &Report) -> String {
    let mut all = report.summary.clone();
    for (name, value) in report.outputs.iter() {
        let _ = write!(all, "\n{name}={value}");
    }
    for annotation in &report.annotations {
        let _ = write!(all, "\n{:?} {}", annotation.place, annotation.message);
    }
    for effect in &report.effects {
        if let Effect::Comment(comment) = effect {
            all.push_str(&comment.body_with_marker());
        }
    }
    all
}

#[test]
fn every_corpus_file_is_read_or_rejected_clearly() {
    let expected = expected_actions();
    let mut read = 0;
    let mut rejected = 0;
    let mut leak_checked = 0;
    let mut cases = gantry_testkit::EveryCase::default();
    for path in files() {
        let file = relative(&path);
        if file == "PROVENANCE.md" || path.extension().is_some_and(|ext| ext == "md") {
            continue;
        }
        cases.check(&file.clone(), || {
            let snapshot_name = file.replace(['/', '.'], "_");
            match run_file(&path) {
                Ok(report) => {
                    read += 1;
                    let comment = report
                        .effects
                        .iter()
                        .find_map(|effect| match effect {
                            Effect::Comment(comment) => Some(comment.body_with_marker()),
                            _ => None,
                        })
                        .unwrap();
                    assert!(
                        comment.len() <= COMMENT_LIMIT_BYTES,
                        "{file}: comment {} bytes",
                        comment.len()
                    );
                    assert!(
                        report.summary.len() <= STEP_SUMMARY_LIMIT,
                        "{file}: summary too long"
                    );

                    let output =
                        |name: &str| report.outputs.value(name).unwrap().parse::<u64>().unwrap();
                    if let Some(actions) = expected.get(&file) {
                        let count = |key: &str| actions.get(key).copied().unwrap_or(0);
                        let replaces = count("delete+create") + count("create+delete");
                        assert_eq!(
                            output("add"),
                            count("create") + replaces,
                            "{file}: add vs PROVENANCE {actions:?}"
                        );
                        assert_eq!(
                            output("change"),
                            count("update"),
                            "{file}: change vs PROVENANCE {actions:?}"
                        );
                        assert_eq!(
                            output("destroy"),
                            count("delete") + replaces,
                            "{file}: destroy vs PROVENANCE {actions:?}"
                        );
                        assert_eq!(output("replace"), replaces, "{file}: replace");
                    }

                    // Every plan read is checked, however it was encoded.
                    let plan = plan_json(&std::fs::read(&path).unwrap())
                        .unwrap_or_else(|| panic!("{file}: read by the action, not by the test"));
                    let written = everything_written(&report);
                    for secret in sensitive_strings(&plan) {
                        assert!(
                            !written.contains(&secret),
                            "{file}: the sensitive value {secret:?} was written"
                        );
                    }
                    leak_checked += 1;
                    let again = run_file(&path).unwrap();
                    assert_eq!(
                        again.outputs.value("plan-digest"),
                        report.outputs.value("plan-digest"),
                        "{file}: digest is stable"
                    );

                    let mut shown = String::new();
                    for (name, value) in report.outputs.iter() {
                        let _ = writeln!(shown, "{name}={value}");
                    }
                    shown.push_str("---\n");
                    shown.push_str(&comment);
                    insta::with_settings!({snapshot_path => "snapshots/corpus", prepend_module_to_snapshot => false}, {
                        insta::assert_snapshot!(snapshot_name, shown);
                    });
                }
                Err(message) => {
                    rejected += 1;
                    assert!(
                        message.starts_with(&format!("{file}: ")),
                        "the error names the file: {message}"
                    );
                    insta::with_settings!({snapshot_path => "snapshots/corpus", prepend_module_to_snapshot => false}, {
                        insta::assert_snapshot!(snapshot_name, message);
                    });
                }
            }
        });
    }
    cases.finish();
    assert!(read >= 60, "only {read} plans read");
    assert_eq!(leak_checked, read, "every plan read was checked for leaks");
    assert!(rejected >= 25, "only {rejected} files rejected");
}

#[test]
fn the_corpus_has_sensitive_values_to_protect() {
    let with_secrets = files()
        .iter()
        .filter_map(|path| plan_json(&std::fs::read(path).ok()?))
        .filter(|plan| !sensitive_strings(plan).is_empty())
        .count();
    assert!(
        with_secrets >= 3,
        "the leak check would check nothing: {with_secrets}"
    );
}

#[test]
fn expected_errors_for_the_deliberately_broken_files() {
    let error = |name: &str| run_file(&corpus().join(name)).unwrap_err();
    assert!(
        error("invalid/tfjson__invalid__plan.json")
            .contains("unexpected data after the plan at line")
    );
    assert!(error("invalid/checkov__corrupted-tfplan.json").contains("a Terraform state"));
    assert!(
        error("state-raw/tf-summarize__example_terraform.tfstate")
            .contains("raw Terraform state file")
    );
    assert!(
        error("ui-stream/tf-cloud__plan-json-full.jsonl")
            .contains("`terraform plan -json` log stream")
    );
    assert!(error("plan-text/tf-remote-backend__plan.txt").contains("human-readable plan text"));
    let utf16 = run_file(&corpus().join("invalid/checkov__tfplan_win_utf16.json")).unwrap();
    assert!(utf16.summary.contains("PowerShell"));
    let wrapped =
        run_file(&corpus().join("invalid/infracost__plan_with_terraform_wrapper.txt")).unwrap();
    assert!(wrapped.summary.contains("wrapper output"));
}

#[test]
fn no_sensitive_value_leaks_from_a_plan_in_utf16_with_a_bom_or_in_the_wrapper() {
    // The corpus's encoded plans hold no secrets: re-encode each plan that does, every way.
    let plans: Vec<(PathBuf, Vec<u8>)> = files()
        .into_iter()
        .filter_map(|path| {
            let bytes = std::fs::read(&path).ok()?;
            let plan = serde_json::from_slice::<Value>(&bytes).ok()?;
            (!sensitive_strings(&plan).is_empty()).then_some((path, bytes))
        })
        .collect();
    assert!(plans.len() >= 3);
    for (path, bytes) in plans {
        let text = String::from_utf8(bytes).unwrap();
        let secrets = sensitive_strings(&serde_json::from_str(&text).unwrap());
        let one_line =
            serde_json::to_string(&serde_json::from_str::<Value>(&text).unwrap()).unwrap();
        let plain = run_file(&path).unwrap();
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let encodings = [
            ("bom", [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()),
            ("utf-16", utf16),
            (
                "wrapper",
                format!(
                    "[command]/tmp/x/terraform-bin show -json plan.tfplan\n{one_line}\n::debug::Terraform exited with code 0.\n"
                )
                .into_bytes(),
            ),
        ];
        for (how, bytes) in encodings {
            let report = run(
                &options(),
                &[StackSource {
                    name: "stack".into(),
                    file: format!("{}.{how}", relative(&path)),
                    bytes: &bytes,
                }],
            )
            .unwrap_or_else(|error| panic!("{how} {}: {error}", path.display()));
            let written = everything_written(&report);
            for secret in &secrets {
                assert!(!written.contains(secret), "{how}: {secret:?} written");
            }
            for count in ["add", "change", "destroy", "replace"] {
                assert_eq!(
                    report.outputs.value(count),
                    plain.outputs.value(count),
                    "{how}: {count}: the plan was really read"
                );
            }
        }
    }
}
