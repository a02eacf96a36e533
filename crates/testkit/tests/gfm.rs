//! The rendering check itself: each mistake it is there to catch is caught, and what renders
//! as meant passes (a check that passes everything would make every e2e test vacuous here).

use gantry_testkit::gfm::problems;

fn one(markdown: &str) -> Vec<String> {
    // A unique suffix: the check renders each distinct document once per process.
    problems(&[(
        "doc".to_owned(),
        format!("{markdown}\n\n<!-- {} -->", markdown.len()),
    )])
}

#[test]
fn each_mistake_is_caught() {
    let cases = [
        (
            "<details><summary>run `helm rollback`</summary>\n\nbody\n</details>",
            "backticks",
        ),
        (
            "<details><summary>a \\* b</summary>\n\nbody\n</details>",
            "backslash",
        ),
        (
            "- why: tainted \\(a failed create, or \\`terraform taint\\`\\)",
            "backticks",
        ),
        (
            "| step |\n| --- |\n| \\*\\*promotion\\*\\* — upgrade |",
            "asterisks",
        ),
        ("<details><summary>x</summary>\n\nnever closed", "<details>"),
        ("| a | b |\n| --- | --- |\n| 1 | 2 | 3 |", "cells"),
        ("| a |\n| --- |\n| `a|b` |", "cells"),
        ("Release &amp;#32; shown", "entity"),
    ];
    for (markdown, expected) in cases {
        let found = one(markdown);
        assert!(
            found.iter().any(|problem| problem.contains(expected)),
            "{markdown:?} should be caught ({expected}): {found:?}"
        );
    }
}

#[test]
fn what_renders_as_meant_passes() {
    let cases = [
        "### ✅ Security scan\n\n| tool | new |\n| --- | ---: |\n| `Bandit` | 1 |\n| **all** | 1 |",
        "<details><summary>failed: <code>x</code> › a &amp; b</summary>\n\n```\ntrace with `ticks` and **stars**\n```\n</details>",
        "- `baseline: auto` found no baseline on `main`: every finding is judged\n- a \\* b is escaped",
        "| a |\n| --- |\n| `a\\|b` |",
    ];
    for markdown in cases {
        assert_eq!(one(markdown), Vec::<String>::new(), "{markdown:?}");
    }
}
