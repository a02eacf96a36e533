//! GitHub's upload limits and untrusted scanner text, with synthetic reports large or hostile
//! enough to need them.

use gantry_core::report::Effect;
use gantry_core::workspace::NoWorkspace;
use gantry_security_scan::severity::Severity;
use gantry_security_scan::{Options, Source, run};
use serde_json::{Value, json};

fn options() -> Options {
    Options {
        fail_on: Some(Severity::High),
        output: "out.sarif".into(),
        upload: true,
        comment: true,
        today: "2026-11-26".into(),
        blob_base: Some("https://github.com/o/r/blob/abc/".into()),
        workflow_and_job: "ci/scan".into(),
        change: None,
        baseline_notes: Vec::new(),
    }
}

/// A SARIF log of one tool with `count` results; `level` cycles so severities vary.
fn sarif(tool: &str, count: usize, message: &dyn Fn(usize) -> String) -> Vec<u8> {
    let levels = ["error", "warning", "note"];
    let results: Vec<Value> = (0..count)
        .map(|index| {
            json!({
                "ruleId": format!("R{}", index % 7),
                "level": levels[index % 3],
                "message": { "text": message(index) },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": format!("src/file{}.py", index / 100) },
                    "region": { "startLine": index % 100 + 1 }
                }}]
            })
        })
        .collect();
    serde_json::to_vec(&json!({
        "version": "2.1.0",
        "runs": [{ "tool": { "driver": { "name": tool } }, "results": results }]
    }))
    .unwrap()
}

fn log_of(report: &gantry_core::report::Report, index: usize) -> Value {
    serde_json::from_str(&report.files[index].contents.text()).unwrap()
}

#[test]
fn more_than_twenty_tools_share_the_twentieth_run() {
    let reports: Vec<(String, Vec<u8>)> = (0..23)
        .map(|tool| {
            (
                format!("tool{tool}.sarif"),
                sarif(&format!("Tool {tool}"), tool + 1, &|i| {
                    format!("finding {i}")
                }),
            )
        })
        .collect();
    let sources: Vec<Source<'_>> = reports
        .iter()
        .map(|(file, bytes)| Source { file, bytes })
        .collect();
    let report = run(&options(), &sources, None, None, &NoWorkspace).unwrap();
    let log = log_of(&report, 0);
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 20);
    let shared = runs
        .iter()
        .find(|run| run["tool"]["driver"]["name"] == "Gantry (other tools)")
        .unwrap();
    // The four smallest tools (1 + 2 + 3 + 4 results) share it, rule ids prefixed.
    assert_eq!(shared["results"].as_array().unwrap().len(), 10);
    assert!(
        shared["results"][0]["ruleId"]
            .as_str()
            .unwrap()
            .starts_with("Tool ")
    );
    let total: usize = runs
        .iter()
        .map(|run| run["results"].as_array().unwrap().len())
        .sum();
    assert_eq!(total, (1..=23).sum::<usize>(), "nothing dropped");
    assert!(
        report.summary.contains("share the run"),
        "the report says so"
    );
}

#[test]
fn more_than_25000_results_keep_the_most_severe_and_say_so() {
    let bytes = sarif("Big", 25_010, &|i| format!("finding {i}"));
    let report = run(
        &options(),
        &[Source {
            file: "big.sarif",
            bytes: &bytes,
        }],
        None,
        None,
        &NoWorkspace,
    )
    .unwrap();
    let log = log_of(&report, 0);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 25_000);
    // What was left out is the least severe: every `note` result kept is at the end, and fewer
    // notes are kept than were given.
    let notes = results
        .iter()
        .filter(|r| r["properties"]["gantry/severity"] == "note")
        .count();
    assert_eq!(notes, 25_010 / 3 - 10);
    assert!(
        report.summary.contains("10 least severe result"),
        "{}",
        &report.summary[..2000]
    );
}

#[test]
fn a_sarif_over_10_mb_gzipped_is_split_by_tool() {
    // Messages that do not compress: 2 tools × 9,000 results × ~1 KB of pseudo-random text.
    let noise = |seed: usize| -> String {
        let mut state = (seed as u64).wrapping_mul(6_364_136_223_846_793_005) | 1;
        (0..1_000)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                char::from(b'!' + u8::try_from((state >> 33) % 90).unwrap())
            })
            .collect()
    };
    let first = sarif("Alpha", 9_000, &|i| noise(i));
    let second = sarif("Beta", 9_000, &|i| noise(i + 100_000));
    let report = run(
        &options(),
        &[
            Source {
                file: "a.sarif",
                bytes: &first,
            },
            Source {
                file: "b.sarif",
                bytes: &second,
            },
        ],
        None,
        None,
        &NoWorkspace,
    )
    .unwrap();
    let paths: Vec<&str> = report.files.iter().map(|file| file.path.as_str()).collect();
    assert_eq!(paths, ["out-alpha.sarif", "out-beta.sarif"]);
    assert_eq!(
        report.outputs.value("sarif-file"),
        Some("out-alpha.sarif\nout-beta.sarif")
    );
    let uploads = report
        .effects
        .iter()
        .filter(|effect| matches!(effect, Effect::UploadSarif(_)))
        .count();
    assert_eq!(uploads, 2, "one upload per file");
    assert!(report.summary.contains("written as 2 files"));
}

#[test]
fn scanner_text_cannot_break_the_comment() {
    let hostile = |i: usize| {
        format!(
            "</details><img src=x onerror=alert(1)> @octocat #{i} ```\n| a | b |\n<!-- gantry:security-scan:ci/scan --> \u{202e}evil"
        )
    };
    let mut bytes = sarif("Evil <b>tool</b>", 5, &hostile);
    // A hostile rule id and path too.
    let mut log: Value = serde_json::from_slice(&bytes).unwrap();
    log["runs"][0]["results"][0]["ruleId"] = json!("`x` | <script>");
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        json!("src/a)b](javascript:alert(1)).py");
    bytes = serde_json::to_vec(&log).unwrap();
    let mut options = options();
    options.fail_on = Some(Severity::Low);
    let report = run(
        &options,
        &[Source {
            file: "evil.sarif",
            bytes: &bytes,
        }],
        None,
        None,
        &NoWorkspace,
    )
    .unwrap();
    let body = report
        .effects
        .iter()
        .find_map(|effect| match effect {
            Effect::Comment(comment) => Some(comment.body.clone()),
            _ => None,
        })
        .unwrap();
    for text in [&body, &report.summary] {
        assert_markdown_is_ours(text);
        assert!(!text.contains('\u{202e}'));
        assert_eq!(
            text.matches("<!-- gantry:security-scan:").count(),
            0,
            "only the publisher adds the marker"
        );
    }
}

/// The only HTML is ours (`details`, `summary`, `sub`), no link or image leads anywhere but
/// GitHub, and no mention survives in the prose.
fn assert_markdown_is_ours(markdown: &str) {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let mut in_code = false;
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_GFM) {
        match event {
            Event::Html(html) | Event::InlineHtml(html) => {
                let tag = html.trim();
                assert!(
                    [
                        "<details>",
                        "</details>",
                        "<summary>",
                        "</summary>",
                        "<sub>",
                        "</sub>"
                    ]
                    .iter()
                    .any(|allowed| tag.starts_with(allowed)),
                    "foreign HTML: {tag}"
                );
            }
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                assert!(
                    dest_url.starts_with("https://github.com/"),
                    "link to {dest_url}"
                );
            }
            Event::Start(Tag::CodeBlock(_)) => in_code = true,
            Event::End(pulldown_cmark::TagEnd::CodeBlock) => in_code = false,
            Event::Text(text) if !in_code => {
                assert!(!text.contains("@octocat"), "a mention: {text}");
            }
            _ => {}
        }
    }
}
