//! The security corpus. Every file on its own: read (a snapshot of what was understood:
//! format, counts by severity, the most severe findings) or refused (a snapshot of the message,
//! which names the file), and for every file read, the invariants — the outputs count what the
//! merged SARIF holds, the merged SARIF passes the 2.1.0 schema, no two runs share a category. Then all of it merged in one
//! run: valid SARIF that GitHub's upload rules accept, counts that add up.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use gantry_core::workspace::NoWorkspace;
use gantry_security_scan::input::read_report;
use gantry_security_scan::severity::Severity;
use gantry_security_scan::{Options, Source, run};
use serde_json::Value;

fn files() -> Vec<(String, Vec<u8>)> {
    let root = gantry_testkit::shared_dir().join("corpus/security");
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("schema") {
                    stack.push(path);
                }
            } else if path.extension().is_none_or(|ext| ext != "md") {
                let name = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// The step outputs (`critical`…`note`, `suppressed`, `total`) against the merged SARIF the same
/// run wrote: each severity's output is the number of its unsuppressed results there.
fn assert_outputs_count_the_sarif(name: &str, report: &gantry_core::report::Report, log: &Value) {
    let output = |key: &str| -> usize { report.outputs.value(key).unwrap().parse().unwrap() };
    let results: Vec<&Value> = log["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|run| run["results"].as_array().unwrap())
        .collect();
    let suppressed = |result: &&&Value| {
        result["suppressions"]
            .as_array()
            .is_some_and(|list| !list.is_empty())
    };
    assert_eq!(
        output("suppressed"),
        results.iter().filter(suppressed).count(),
        "{name}: suppressed"
    );
    for severity in Severity::ALL {
        let in_sarif = results
            .iter()
            .filter(|result| !suppressed(result))
            .filter(|result| result["properties"]["gantry/severity"] == severity.word())
            .count();
        assert_eq!(
            output(severity.word()),
            in_sarif,
            "{name}: {}",
            severity.word()
        );
    }
}

fn options() -> Options {
    Options {
        fail_on: Some(Severity::High),
        output: "merged.sarif".into(),
        upload: false,
        comment: true,
        today: "2026-11-26".into(),
        blob_base: None,
        workflow_and_job: "ci/scan".into(),
        change: None,
        baseline_notes: Vec::new(),
    }
}

#[test]
fn every_corpus_file_is_read_or_refused_with_snapshots_and_invariants() {
    let schema = gantry_testkit::contract::Contract::load_schema(
        &gantry_testkit::shared_dir().join("corpus/security/schema/sarif-schema-2.1.0.json"),
    )
    .unwrap();
    let options = options();
    let mut cases = gantry_testkit::EveryCase::default();
    for (name, bytes) in files() {
        cases.check(&name.clone(), || {
            let snapshot_name = name.replace(['/', '.'], "_");
            let shown = match read_report(&name, &bytes) {
                Err(error) => {
                    let message = error.to_string();
                    assert!(message.starts_with(&format!("{name}: ")), "{message}");
                    format!("refused: {message}\n")
                }
                Ok(input) => {
                    let report = run(
                        &options,
                        &[Source {
                            file: &name,
                            bytes: &bytes,
                        }],
                        None,
                        None,
                        &NoWorkspace,
                    )
                    .unwrap_or_else(|error| panic!("{name}: {error}"));
                    let output =
                        |key: &str| -> usize { report.outputs.value(key).unwrap().parse().unwrap() };
                    let log: Value = serde_json::from_str(&report.files[0].contents.text()).unwrap();
                    assert_outputs_count_the_sarif(&name, &report, &log);
                    let violations = schema.validate(&log);
                    assert!(violations.is_empty(), "{name}: {violations:#?}");
                    let mut categories = BTreeSet::new();
                    let mut results = 0;
                    for run in log["runs"].as_array().unwrap() {
                        let category = run["automationDetails"]["id"].as_str().unwrap();
                        assert!(
                            categories.insert(category.to_owned()),
                            "{name}: {category} twice"
                        );
                        results += run["results"].as_array().unwrap().len();
                    }
                    assert_eq!(results, output("total"), "{name}");
                    assert!(report.summary.len() <= 1024 * 1024, "{name}");

                    let mut shown = format!(
                        "format: {:?}\nread: {} finding(s), {} after deduplication\n",
                        input.format,
                        input.findings.len(),
                        output("total")
                    );
                    for severity in Severity::ALL {
                        let _ = write!(shown, "{}={} ", severity.word(), output(severity.word()));
                    }
                    let _ = writeln!(shown, "suppressed={}", output("suppressed"));
                    for warning in input.warnings.iter().take(5) {
                        let _ = writeln!(shown, "warning: {warning}");
                    }
                    let mut lines: Vec<(u8, String)> = Vec::new();
                    for run in log["runs"].as_array().unwrap() {
                        let tool = run["tool"]["driver"]["name"].as_str().unwrap();
                        for result in run["results"].as_array().unwrap() {
                            let severity = result["properties"]["gantry/severity"].as_str().unwrap();
                            let rank = match severity {
                                "critical" => 0,
                                "high" => 1,
                                "medium" => 2,
                                "low" => 3,
                                _ => 4,
                            };
                            let place = &result["locations"][0]["physicalLocation"];
                            lines.push((
                                rank,
                                format!(
                                    "{severity} {tool} {} {}:{} {}",
                                    result["ruleId"].as_str().unwrap(),
                                    place["artifactLocation"]["uri"].as_str().unwrap_or("-"),
                                    place["region"]["startLine"].as_u64().unwrap_or(0),
                                    result["properties"]["security-severity"]
                                        .as_str()
                                        .unwrap_or("-")
                                ),
                            ));
                        }
                    }
                    lines.sort();
                    for (_, line) in lines.iter().take(12) {
                        let _ = writeln!(shown, "  {line}");
                    }
                    if lines.len() > 12 {
                        let _ = writeln!(shown, "  … {} more", lines.len() - 12);
                    }
                    shown
                }
            };
            insta::with_settings!({snapshot_path => "snapshots/corpus", prepend_module_to_snapshot => false}, {
                insta::assert_snapshot!(snapshot_name, shown);
            });
        });
    }
    cases.finish();
}

#[test]
fn the_merged_corpus_is_valid_sarif_that_github_accepts() {
    let mut accepted = Vec::new();
    for (name, bytes) in files() {
        match read_report(&name, &bytes) {
            Ok(_) => accepted.push((name, bytes)),
            Err(error) => assert!(
                error.to_string().starts_with(&format!("{name}: ")),
                "{error}"
            ),
        }
    }
    assert!(accepted.len() > 100, "{} files read", accepted.len());
    let sources: Vec<Source<'_>> = accepted
        .iter()
        .map(|(file, bytes)| Source { file, bytes })
        .collect();
    let mut options = options();
    options.upload = true;
    options.blob_base = Some("https://github.com/o/r/blob/abc/".into());
    let report = run(&options, &sources, None, None, &NoWorkspace).unwrap();

    let log: Value = serde_json::from_str(&report.files[0].contents.text()).unwrap();
    let schema = gantry_testkit::contract::Contract::load_schema(
        &gantry_testkit::shared_dir().join("corpus/security/schema/sarif-schema-2.1.0.json"),
    )
    .unwrap();
    let violations = schema.validate(&log);
    assert!(
        violations.is_empty(),
        "{:#?}",
        &violations[..violations.len().min(20)]
    );

    // The validator does reject what the schema forbids.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    assert_eq!(
        schema.validate(&broken).len(),
        2,
        "{:?}",
        schema.validate(&broken)
    );

    let runs = log["runs"].as_array().unwrap();
    assert!(runs.len() <= 20, "{} runs", runs.len());
    let mut identities = BTreeSet::new();
    let mut results = 0;
    for run in runs {
        let tool = run["tool"]["driver"]["name"].as_str().unwrap();
        let category = run["automationDetails"]["id"].as_str().unwrap();
        assert!(
            identities.insert(category.to_owned()),
            "two runs share {category}"
        );
        assert!(run["results"].as_array().unwrap().len() <= 25_000);
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        for result in run["results"].as_array().unwrap() {
            results += 1;
            let rule = &rules[usize::try_from(result["ruleIndex"].as_u64().unwrap()).unwrap()];
            assert_eq!(rule["id"], result["ruleId"], "{tool}");
            if let Some(score) = rule["properties"]["security-severity"].as_str() {
                let score: f64 = score.parse().unwrap();
                assert!((0.1..=10.0).contains(&score), "{tool}: {score}");
            }
            let severity = result["properties"]["gantry/severity"].as_str().unwrap();
            let level = result["level"].as_str().unwrap();
            let expected = match severity {
                "critical" | "high" => "error",
                "medium" => "warning",
                _ => "note",
            };
            assert_eq!(level, expected, "{tool}: level follows severity");
            for location in result["locations"].as_array().into_iter().flatten() {
                let uri = location["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap();
                assert!(
                    !uri.starts_with('/') && !uri.contains("://") && !uri.contains(' '),
                    "{tool}: `{uri}` is not workspace-relative"
                );
            }
        }
    }
    let output = |name: &str| {
        report
            .outputs
            .value(name)
            .unwrap()
            .parse::<usize>()
            .unwrap()
    };
    assert_eq!(output("total"), results, "every finding is in the SARIF");
    assert_outputs_count_the_sarif("the merged corpus", &report, &log);
    assert!(report.summary.len() <= 1024 * 1024);
    let comment = report
        .effects
        .iter()
        .find_map(|effect| match effect {
            gantry_core::report::Effect::Comment(comment) => Some(comment),
            _ => None,
        })
        .unwrap();
    assert!(comment.body.len() <= 65_536);
    assert!(comment.body.starts_with("### "), "the verdict first");
}
