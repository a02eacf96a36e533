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
        assert_eq!(
            error.to_string(),
            format!("{structured}: the file is empty")
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
