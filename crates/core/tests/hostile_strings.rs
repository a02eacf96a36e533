//! Hostile strings through every markdown helper: the document's structure must not change.
//!
//! Each hostile string is rendered through `text`, `code`, `code_block`, `link`, `details`,
//! `Table` and `Document::render_within`; the result is parsed with a `CommonMark` + GFM parser and
//! its skeleton (block and inline elements, HTML tags) compared with the same document rendered
//! from a harmless word. The text a reader sees must also carry no live `@mention` or `#123`.

use gantry_core::markdown::{self, Align, Document, Table};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

fn hostile_strings() -> Vec<String> {
    let mut strings: Vec<String> = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "</details><details open><summary>pwned</summary>",
        "</summary></details></details>",
        "</td></tr></table>",
        "```",
        "````\n```\nfenced\n```",
        "`",
        "``code``",
        "~~~\nx\n~~~",
        "@octo-org/security-team please approve",
        "@user",
        "ping @admin and #1 and owner/repo#12 and GH-3",
        "#1",
        "&#64;user &amp; &lt;b&gt;",
        "\u{0}\u{7}\u{1b}[31mred\u{1b}[0m\u{7f}\u{85}",
        "\u{202E}gnp.exe\u{202C} \u{2066}isolate\u{2069} \u{200F}rlm",
        "| a | b |\n| --- | --- |\n| c | d |",
        "a | b",
        "# heading",
        "- list item",
        "1. numbered",
        "> quote",
        "***",
        "---",
        "[link](javascript:alert(1))",
        "![image](https://evil.example/x.png)",
        "<!-- hidden -->",
        "-->",
        "\n\n\nnew paragraph\n\n",
        "\r\nwindows\r\n",
        "*emphasis* _under_ **bold** ~~strike~~",
        "$x^2$ and $$math$$",
        "    indented code",
        "\\",
        "\\|",
        "trailing backslash\\",
        "<https://evil.example>",
        "[^1]: footnote",
        "- [ ] task",
        ":shipit:",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    strings.push("a".repeat(100_000));
    strings.push(format!(
        "{}<details>{}",
        "`".repeat(50_000),
        "@x ".repeat(10_000)
    ));
    strings.push("\u{202E}".repeat(1000));
    strings
}

fn render_everything(s: &str) -> String {
    let mut table = Table::new(&[
        ("name", Align::Left),
        ("code", Align::Left),
        ("link", Align::Left),
    ]);
    table.row([
        markdown::text(s),
        markdown::code(s),
        markdown::link(
            s,
            &format!(
                "https://github.com/o/r/blob/abc/{}#L1",
                markdown::url_path(s)
            ),
        ),
    ]);
    let mut body = String::new();
    body.push_str(&markdown::text(s));
    body.push_str("\n\n");
    body.push_str(&markdown::code_block("text", s));
    let mut document = Document::new();
    document.essential(format!("## Verdict: {}", markdown::text(s)));
    document.essential(format!(
        "Paragraph with {} and {} and {}.",
        markdown::text(s),
        markdown::code(s),
        markdown::link(s, "https://example.com/x")
    ));
    document.detail("table", table.render(), None);
    document.detail(
        s,
        markdown::details(s, &body, false),
        Some(markdown::details(
            &markdown::shorten(s, 20),
            "folded",
            false,
        )),
    );
    document.essential(markdown::code_block("", s));
    document.essential("Totals: 1 to add.");
    document.render()
}

/// The skeleton of a parsed document: element kinds and the HTML tags present.
fn skeleton(markdown: &str) -> (Vec<String>, String) {
    let mut shape = Vec::new();
    let mut visible = String::new();
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_GFM;
    // GitHub links no mention or reference inside code, so only prose counts as visible.
    let mut in_code_block = false;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(tag) => {
                in_code_block |= matches!(tag, Tag::CodeBlock(_));
                shape.push(format!("start {}", tag_name(&tag)));
            }
            Event::End(tag) => {
                in_code_block &= !matches!(tag, TagEnd::CodeBlock);
                shape.push(format!("end {}", end_name(tag)));
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                for tag in html_tags(&html) {
                    shape.push(format!("html {tag}"));
                }
                visible.push_str(&strip_tags(&html));
            }
            Event::Text(text) if !in_code_block => visible.push_str(&text),
            Event::Text(_) | Event::Code(_) => visible.push(' '),
            Event::FootnoteReference(_) => shape.push("footnote".to_owned()),
            Event::TaskListMarker(_) => shape.push("task".to_owned()),
            Event::Rule => shape.push("rule".to_owned()),
            Event::InlineMath(_) | Event::DisplayMath(_) => shape.push("math".to_owned()),
            Event::SoftBreak | Event::HardBreak => shape.push("break".to_owned()),
        }
    }
    (shape, visible)
}

fn tag_name(tag: &Tag<'_>) -> String {
    match tag {
        Tag::Heading { level, .. } => format!("heading {level}"),
        Tag::CodeBlock(_) => "codeblock".to_owned(),
        Tag::Link { .. } => "link".to_owned(),
        Tag::Image { .. } => "image".to_owned(),
        other => format!("{other:?}")
            .split(['(', ' ', '{'])
            .next()
            .unwrap_or("")
            .to_owned(),
    }
}

fn end_name(tag: TagEnd) -> String {
    format!("{tag:?}")
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or("")
        .to_owned()
}

fn html_tags(html: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/' || *c == '!' || *c == '-')
            .collect();
        tags.push(name);
        rest = after;
    }
    tags
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&#8203;", "\u{200B}")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
}

fn has_live_ping(visible: &str) -> Option<String> {
    let chars: Vec<char> = visible.chars().collect();
    for (index, pair) in chars.windows(2).enumerate() {
        let live = (pair[0] == '@' && (pair[1].is_ascii_alphanumeric() || pair[1] == '-'))
            || (pair[0] == '#' && pair[1].is_ascii_digit());
        if live {
            let from = index.saturating_sub(10);
            return Some(chars[from..(index + 10).min(chars.len())].iter().collect());
        }
    }
    None
}

#[test]
fn hostile_strings_do_not_change_the_document_structure() {
    let (benign_shape, _) = skeleton(&render_everything("harmless"));
    assert!(
        benign_shape.iter().any(|s| s == "start Table"),
        "{benign_shape:?}"
    );
    assert!(
        benign_shape.iter().any(|s| s == "html details"),
        "{benign_shape:?}"
    );
    for hostile in hostile_strings() {
        let rendered = render_everything(&hostile);
        let (shape, visible) = skeleton(&rendered);
        let shown: String = hostile.chars().take(60).collect();
        let excerpt: String = rendered.chars().take(400).collect();
        assert_eq!(
            shape, benign_shape,
            "structure changed for {shown:?}:\n{excerpt}"
        );
        assert!(
            has_live_ping(&visible).is_none(),
            "live ping for {shown:?}: {:?}",
            has_live_ping(&visible)
        );
        assert!(
            !visible.contains('\u{202E}'),
            "bidi control survived for {shown:?}"
        );
    }
}

#[test]
fn cutting_to_a_budget_keeps_every_details_block_closed() {
    for hostile in hostile_strings() {
        let (rendered, _) = {
            let mut document = Document::new();
            document.essential(format!(
                "Verdict: {}",
                markdown::text(&markdown::shorten(&hostile, 200))
            ));
            for n in 0..30 {
                document.detail(
                    &hostile,
                    markdown::details(
                        &hostile,
                        &markdown::code_block("", &format!("{n}{hostile}")),
                        false,
                    ),
                    None,
                );
            }
            document.render_within(20_000, &hostile)
        };
        assert!(rendered.len() <= 20_000, "{}", rendered.len());
        let (shape, _) = skeleton(&rendered);
        let opened = shape.iter().filter(|s| *s == "html details").count();
        let closed = shape.iter().filter(|s| *s == "html /details").count();
        assert_eq!(
            opened,
            closed,
            "unbalanced details for {:?}",
            hostile.chars().take(60).collect::<String>()
        );
        assert!(rendered.starts_with("Verdict: "));
        assert!(rendered.contains("[!NOTE]") || rendered.len() < 20_000);
    }
}

#[test]
fn escaped_text_reads_the_same_as_the_input() {
    for hostile in ["<b>bold</b> & @team #1", "a|b `c` *d*", "1. x"] {
        let (_, visible) = skeleton(&markdown::text(hostile));
        assert_eq!(visible.replace('\u{200B}', ""), hostile);
    }
}
