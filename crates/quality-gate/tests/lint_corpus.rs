//! Linter reports of the corpus against independent readings: reviewdog's errorformat parses
//! (`*.ok`) of the same text, and cs2pr's annotations (`*.expect`) of the same checkstyle XML.

use gantry_quality_gate::lint::{LintSeverity, read_lint};

fn corpus(path: &str) -> Vec<u8> {
    std::fs::read(
        gantry_testkit::shared_dir()
            .join("corpus/quality/lint")
            .join(path),
    )
    .unwrap()
}

/// errorformat's `file|line col n type| message` lines: (file, line, column, message).
fn errorformat(ok: &str) -> Vec<(String, Option<u32>, Option<u32>, String)> {
    ok.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let mut parts = line.splitn(3, '|');
            let file = parts.next().unwrap_or_default().to_owned();
            let place = parts.next().unwrap_or_default();
            let message = parts.next().unwrap_or_default().trim().to_owned();
            let mut words = place.split_whitespace();
            let line = words.next().and_then(|word| word.parse().ok());
            let column = match (words.next(), words.next()) {
                (Some("col"), Some(column)) => column.parse().ok(),
                _ => None,
            };
            (file, line, column, message)
        })
        .collect()
}

#[test]
fn text_output_reads_as_errorformat_does() {
    for tool in ["flake8", "pep8", "mypy", "isort"] {
        let report = read_lint(tool, &corpus(&format!("errorformat/{tool}.in"))).unwrap();
        let expected =
            errorformat(&String::from_utf8(corpus(&format!("errorformat/{tool}.ok"))).unwrap());
        let ours: Vec<(String, Option<u32>, Option<u32>)> = report
            .findings
            .iter()
            .map(|f| (f.file.clone(), f.line, f.column))
            .collect();
        // errorformat makes an entry of a mypy `note:` line; a note explains the error before
        // it and is no lint finding of its own (issue 27 §3).
        let expected: Vec<_> = expected
            .into_iter()
            .filter(|(_, _, _, message)| {
                !(tool == "mypy" && message.starts_with("A very long and elaborate"))
            })
            .collect();
        let theirs: Vec<(String, Option<u32>, Option<u32>)> = expected
            .iter()
            .map(|(file, line, column, _)| (file.clone(), *line, *column))
            .collect();
        assert_eq!(ours, theirs, "{tool}");
        for (finding, (_, _, _, message)) in report.findings.iter().zip(&expected) {
            assert!(
                message.ends_with(&finding.message) || finding.message.ends_with(message.as_str()),
                "{tool}: `{}` vs `{message}`",
                finding.message
            );
        }
    }
    let black = read_lint("black", &corpus("errorformat/black.in")).unwrap();
    let files: Vec<&str> = black.findings.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(
        black
            .findings
            .iter()
            .all(|f| f.severity == LintSeverity::Error)
    );
}

#[test]
fn checkstyle_reads_as_cs2pr_annotates() {
    let folder = gantry_testkit::shared_dir().join("corpus/quality/lint/checkstyle/cs2pr/errors");
    let mut compared = 0;
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "xml") {
            continue;
        }
        let expect = std::fs::read_to_string(path.with_extension("expect")).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let report = read_lint(&name, &std::fs::read(&path).unwrap()).unwrap();
        let annotations: Vec<&str> = expect
            .split("::")
            .filter(|part| {
                ["error file=", "warning file=", "notice file="]
                    .iter()
                    .any(|kind| part.starts_with(kind))
            })
            .collect();
        assert_eq!(report.findings.len(), annotations.len(), "{name}");
        for (finding, annotation) in report.findings.iter().zip(&annotations) {
            let severity = if annotation.starts_with("error") {
                LintSeverity::Error
            } else if annotation.starts_with("notice") {
                LintSeverity::Note
            } else {
                LintSeverity::Warning
            };
            assert_eq!(finding.severity, severity, "{name}: {annotation}");
            // A finding without a line (none, or `line="0"`) is on line 0 or 1 for cs2pr.
            let lines = match finding.line {
                Some(line) => vec![line],
                None => vec![0, 1],
            };
            assert!(
                lines
                    .iter()
                    .any(|line| annotation.contains(&format!("line={line}"))),
                "{name}: {annotation}"
            );
        }
        compared += 1;
    }
    assert!(compared >= 5);
    // The broken and empty ones are refused naming the file (cs2pr fails on both); a
    // header-only report is clean.
    for (broken, reason) in [
        ("fail/invalid.xml", "not a linter report gantry knows"),
        ("fail/empty.xml", "the file is empty"),
    ] {
        let error = read_lint(broken, &corpus(&format!("checkstyle/cs2pr/{broken}"))).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with(&format!("{broken}: {reason}")),
            "{error}"
        );
    }
    let clean = read_lint(
        "h.xml",
        &corpus("checkstyle/cs2pr/noerrors/only-header.xml"),
    )
    .unwrap();
    assert!(clean.findings.is_empty());
}

#[test]
fn json_formats_and_duplicates_across_targets() {
    let eslint = read_lint(
        "e.json",
        &corpus("eslint-json/eslint-annotate-action/eslintReport-3-errors.json"),
    )
    .unwrap();
    assert_eq!(
        eslint
            .findings
            .iter()
            .filter(|f| f.severity == LintSeverity::Error)
            .count(),
        3
    );
    let cargo = concat!(
        r#"{"reason":"compiler-message","message":{"level":"warning","message":"length comparison to zero","code":{"code":"clippy::len_zero"},"spans":[{"file_name":"src/lib.rs","line_start":3,"column_start":8,"is_primary":true}]}}"#,
        "\n",
        r#"{"reason":"compiler-message","message":{"level":"warning","message":"length comparison to zero","code":{"code":"clippy::len_zero"},"spans":[{"file_name":"src/lib.rs","line_start":3,"column_start":8,"is_primary":true}]}}"#,
        "\n",
        r#"{"reason":"build-finished","success":true}"#,
        "\n"
    );
    let clippy = read_lint("c.jsonl", cargo.as_bytes()).unwrap();
    assert_eq!(clippy.findings.len(), 1, "once per target is once");
    assert_eq!(clippy.findings[0].rule, "clippy::len_zero");
    let ruff = br#"[{"code":"F401","filename":"/w/a.py","location":{"row":1,"column":8},"message":"`os` imported but unused"}]"#;
    assert_eq!(
        read_lint("r.json", ruff).unwrap().findings[0].severity,
        LintSeverity::Error
    );
    let pylint = br#"[{"type":"convention","module":"a","path":"a.py","line":1,"column":0,"symbol":"missing-docstring","message-id":"C0114","message":"Missing module docstring"}]"#;
    let finding = &read_lint("p.json", pylint).unwrap().findings[0];
    assert_eq!(
        (finding.severity, finding.column),
        (LintSeverity::Note, Some(1))
    );
    // A text linter that found nothing writes nothing; an empty JSON or XML report is a linter
    // that did not finish.
    assert!(read_lint("clean.txt", b"").unwrap().findings.is_empty());
    assert!(read_lint("flake8.log", b"\n").unwrap().findings.is_empty());
    for structured in [
        "eslint.json",
        "checkstyle.XML",
        "clippy.jsonl",
        "lint.sarif",
    ] {
        let error = read_lint(structured, b" \n").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with(&format!("{structured}: the file is empty, and")),
            "{error}"
        );
    }
    let error = read_lint("x.txt", b"hello world\n").unwrap_err();
    assert!(
        error.to_string().starts_with(
            "x.txt: not a linter report gantry knows: text whose first line is `hello world`"
        ),
        "{error}"
    );
}

#[test]
fn every_linter_report_is_read_or_refused_naming_the_file() {
    let mut refused = Vec::new();
    let mut read = 0;
    for (name, path) in gantry_testkit::corpus_files("quality/lint") {
        // Expected outputs of the anchors, not reports.
        if path
            .extension()
            .is_some_and(|ext| ext == "ok" || ext == "expect" || ext == "md")
        {
            continue;
        }
        match read_lint(&name, &std::fs::read(&path).unwrap()) {
            Ok(_) => read += 1,
            Err(error) => {
                assert!(
                    error.to_string().starts_with(&format!("{name}: ")),
                    "{error}"
                );
                refused.push(name);
            }
        }
    }
    refused.sort();
    assert!(read >= 20, "{read} read");
    // Outputs of linters gantry does not read (yet), each refused with the file named.
    assert_eq!(
        refused,
        [
            "checkstyle/cs2pr/fail/empty.xml",
            "checkstyle/cs2pr/fail/invalid.xml",
            "errorformat/bandit.in",
            "errorformat/dotnet.in",
            "errorformat/eslint-compact.in",
            "errorformat/eslint.in",
            "errorformat/golangci-lint.in",
            "errorformat/msbuild.in",
            "errorformat/pydocstyle.in",
            "errorformat/standardjs.in",
            "errorformat/stylelint.in",
            "errorformat/tsc.in",
            "eslint-json/eslint-annotate-action/eslintReport-empty.json",
        ]
    );
}

/// A finding's file, line, column, rule and severity.
type Place<'a> = (String, Option<u32>, Option<u32>, &'a str, LintSeverity);

/// SARIF from a linter is read by security-scan's reader: a relative `uriBaseId` joins the path,
/// `%20` is decoded, a result without a level takes its rule's default, `none` is a note, and a
/// result the tool suppressed in the source is not a finding.
#[test]
fn sarif_lint_is_read_as_security_scan_reads_it() {
    let log = br#"{
      "version": "2.1.0",
      "runs": [{
        "tool": {"driver": {"name": "ESLint", "rules": [
          {"id": "no-eval", "defaultConfiguration": {"level": "error"}},
          {"id": "semi"}
        ]}},
        "originalUriBaseIds": {"SRC": {"uri": "web/"}},
        "results": [
          {"ruleId": "no-eval", "ruleIndex": 0, "message": {"text": "eval is evil"},
           "locations": [{"physicalLocation": {"artifactLocation": {"uri": "app%20main.js", "uriBaseId": "SRC"},
                          "region": {"startLine": 3, "startColumn": 5}}}]},
          {"ruleId": "semi", "ruleIndex": 1, "level": "none", "message": {"text": "missing semicolon"},
           "locations": [{"physicalLocation": {"artifactLocation": {"uri": "file:///abs/lib.js"},
                          "region": {"startLine": 9}}}]},
          {"ruleId": "semi", "ruleIndex": 1, "message": {"text": "suppressed"},
           "suppressions": [{"kind": "inSource"}],
           "locations": [{"physicalLocation": {"artifactLocation": {"uri": "lib.js"},
                          "region": {"startLine": 10}}}]}
        ]
      }]
    }"#;
    let report = read_lint("eslint.sarif", log).unwrap();
    let found: Vec<Place<'_>> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.file.clone(),
                f.line,
                f.column,
                f.rule.as_str(),
                f.severity,
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "web/app main.js".to_owned(),
                Some(3),
                Some(5),
                "no-eval",
                LintSeverity::Error
            ),
            (
                "/abs/lib.js".to_owned(),
                Some(9),
                None,
                "semi",
                LintSeverity::Note
            ),
        ]
    );
    // Not SARIF 2.1.0 in a way that matters: refused naming the file and the place.
    let error = read_lint("bad.sarif", br#"{"version": "2.1.0", "runs": {"no": 1}}"#).unwrap_err();
    assert!(
        error.to_string().starts_with("bad.sarif: $.runs"),
        "{error}"
    );
}

/// reviewdog's rdjson is read by the same reader as in security-scan; a diagnostic without a
/// severity is reported at reviewdog's default `-level`, error — checked against the raw JSON.
#[test]
fn rdjson_lint_is_read_with_reviewdogs_default_level() {
    let bytes = corpus("rdjson/reviewdog/custom_rdjson.json");
    let raw: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    // The case that matters is in the file: diagnostics without a severity.
    assert!(
        raw["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|diagnostic| diagnostic.get("severity").is_none())
    );
    let report = read_lint("custom_rdjson.json", &bytes).unwrap();
    let mut expected: Vec<(String, Option<u64>, LintSeverity)> = raw["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|diagnostic| {
            let severity = match diagnostic["severity"].as_str() {
                Some("WARNING") => LintSeverity::Warning,
                Some("INFO") => LintSeverity::Note,
                _ => LintSeverity::Error,
            };
            (
                diagnostic["location"]["path"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                diagnostic["location"]["range"]["start"]["line"].as_u64(),
                severity,
            )
        })
        .collect();
    let mut ours: Vec<(String, Option<u64>, LintSeverity)> = report
        .findings
        .iter()
        .map(|f| (f.file.clone(), f.line.map(u64::from), f.severity))
        .collect();
    // The same places and levels (identical diagnostics are one finding).
    for list in [&mut expected, &mut ours] {
        list.sort();
        list.dedup();
    }
    assert_eq!(ours, expected);
    assert!(
        expected
            .iter()
            .any(|(_, _, severity)| *severity == LintSeverity::Error)
    );
}

/// Issue 27 §3: mypy's `note:` lines were lint findings of their own. A note goes with the
/// error it follows (mypy 1.x's words for a missing stub), and one with nothing before it in
/// its file is none.
#[test]
fn mypy_notes_explain_the_error_before_them_and_are_no_findings() {
    let text = "app.py:3: error: Library stubs not installed for \"yaml\"  [import-untyped]\napp.py:3: note: Hint: \"python3 -m pip install types-PyYAML\"\napp.py:3: note: See https://mypy.readthedocs.io/en/stable/running_mypy.html#missing-imports\nother.py:1: note: Revealed type is \"builtins.int\"\nFound 1 error in 1 file (checked 2 source files)\n";
    let report = read_lint("mypy", text.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    let finding = &report.findings[0];
    assert_eq!(
        (finding.rule.as_str(), finding.line),
        ("import-untyped", Some(3))
    );
    assert!(
        finding.message.contains("types-PyYAML") && finding.message.contains("missing-imports"),
        "{}",
        finding.message
    );
}
