//! Resource keys, values, reasons and check messages are untrusted text (a `for_each` key can be
//! anything): none of it may open a tag, close a `<details>` early or break a fence.

use gantry_core::report::Effect;
use gantry_terraform_plan::{CommentSetting, Options, StackSource, run};

const HOSTILE: &str =
    "</details><img src=x onerror=alert(1)><script>x</script> @admin #12 ``` </summary>";

#[test]
fn hostile_plan_text_keeps_the_comment_structure() {
    let key = serde_json::to_string(&format!("terraform_data.x[\"{HOSTILE}\"]")).unwrap();
    let value = serde_json::to_string(&format!("```\n{HOSTILE}\n```")).unwrap();
    let plan = format!(
        r#"{{"format_version":"1.2","resource_changes":[
          {{"address":{key},"mode":"managed","type":"terraform_data","name":"x","change":{{"actions":["delete"],"before":{{"input":{value}}},"after":null,"after_unknown":{{}},"before_sensitive":{{}},"after_sensitive":false}},"action_reason":"<script>because</script>"}},
          {{"address":"terraform_data.y","mode":"managed","type":"terraform_data","name":"y","change":{{"actions":["create"],"before":null,"after":{{"input":{value}}},"after_unknown":{{}},"before_sensitive":false,"after_sensitive":{{}}}}}}],
          "checks":[{{"address":{{"to_display":{key},"kind":"check"}},"status":"fail","instances":[{{"address":{{"to_display":{key}}},"status":"fail","problems":[{{"message":{value}}}]}}]}}]}}"#
    );
    let options = Options {
        comment: CommentSetting::Update,
        comment_key: None,
        fail_on_destroy: true,
        destroy_allowlist: Vec::new(),
        expect_digest: None,
        workflow_and_job: "ci/plan".into(),
    };
    let report = run(
        &options,
        &[StackSource {
            name: HOSTILE.into(),
            file: "hostile.json".into(),
            bytes: plan.as_bytes(),
        }],
    )
    .unwrap();
    let Effect::Comment(comment) = &report.effects[0] else {
        panic!("no comment")
    };
    for text in [&comment.body, &report.summary] {
        let tags = html_tags(text);
        for tag in &tags {
            assert!(
                [
                    "details", "/details", "summary", "/summary", "sub", "/sub", "!--"
                ]
                .contains(&tag.as_str()),
                "the tag <{tag}> got through:\n{text}"
            );
        }
        let count = |name: &str| tags.iter().filter(|tag| *tag == name).count();
        assert_eq!(count("details"), count("/details"), "{text}");
        assert_eq!(count("summary"), count("/summary"), "{text}");
        assert!(count("details") >= 2, "the resource blocks are there");
    }
    assert!(
        comment.body.contains("**destroy**"),
        "the warning is still there"
    );
}

/// Tags of every raw HTML piece the markdown parser sees (code is not HTML).
fn html_tags(markdown: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Options, Parser};
    let mut tags = Vec::new();
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_GFM) {
        if let Event::Html(html) | Event::InlineHtml(html) = event {
            let mut rest: &str = &html;
            while let Some(start) = rest.find('<') {
                let after = &rest[start + 1..];
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '!' | '-'))
                    .collect();
                tags.push(name);
                rest = after;
            }
        }
    }
    tags
}
