//! Attribute-level differences of one change: before → after, path by path, with unknown values
//! shown as "(known after apply)" and sensitive ones as "(sensitive)", never their value.

use std::fmt::Write as _;

use crate::secrets::Secrets;
use crate::value::{Node, push_json_string};

/// The longest value shown before it is shortened.
const VALUE_CHARS: usize = 160;
/// The most lines one change shows.
pub const LINES_PER_CHANGE: usize = 300;

/// One changed attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// `+` added, `-` removed, `~` changed.
    pub marker: char,
    /// `tags.Name`, `ingress[0].from_port`.
    pub path: String,
    /// The value before (already masked and shortened).
    pub before: Option<String>,
    /// The value after (already masked and shortened).
    pub after: Option<String>,
    /// This attribute forces the replacement.
    pub forces_replacement: bool,
}

impl DiffLine {
    /// The line as shown in a `diff` code block.
    pub fn render(&self) -> String {
        let forces = if self.forces_replacement {
            "   # forces replacement"
        } else {
            ""
        };
        match (self.marker, &self.before, &self.after) {
            ('~', Some(before), Some(after)) => {
                format!("! {} = {before} → {after}{forces}", self.path)
            }
            ('+', _, Some(after)) => format!("+ {} = {after}{forces}", self.path),
            ('-', Some(before), _) => format!("- {} = {before}{forces}", self.path),
            _ => format!("  {}", self.path),
        }
    }
}

/// The inputs of one diff: values and their masks.
#[derive(Debug)]
pub struct Sides<'n, 'a> {
    /// Before.
    pub before: &'n Node<'a>,
    /// After (unknown parts absent).
    pub after: &'n Node<'a>,
    /// Sensitive mask before.
    pub before_sensitive: &'n Node<'a>,
    /// Sensitive mask after.
    pub after_sensitive: &'n Node<'a>,
    /// Unknown mask after.
    pub after_unknown: &'n Node<'a>,
}

/// A path step.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// The differences, at most [`LINES_PER_CHANGE`]; the count of all of them is returned too.
pub fn diff(
    sides: &Sides<'_, '_>,
    replace_paths: &[String],
    secrets: &Secrets,
) -> (Vec<DiffLine>, usize) {
    let mut walker = Walker {
        lines: Vec::new(),
        total: 0,
        replace_paths,
        secrets,
    };
    let mut path = Vec::new();
    walker.walk(
        Some(sides.before),
        Some(sides.after),
        Some(sides.before_sensitive),
        Some(sides.after_sensitive),
        Some(sides.after_unknown),
        &mut path,
    );
    (walker.lines, walker.total)
}

struct Walker<'r> {
    lines: Vec<DiffLine>,
    total: usize,
    replace_paths: &'r [String],
    secrets: &'r Secrets,
}

fn child<'n, 'a>(node: Option<&'n Node<'a>>, step: &Step) -> Option<&'n Node<'a>> {
    match (node?, step) {
        (Node::Object(_), Step::Key(key)) => node?.get(key),
        (Node::Array(items), Step::Index(index)) => items.get(*index),
        _ => None,
    }
}

/// A mask is inherited: `true` above means `true` below.
fn child_mask<'n, 'a>(mask: Option<&'n Node<'a>>, step: &Step) -> Option<&'n Node<'a>> {
    match mask {
        Some(Node::Bool(true)) => mask,
        other => child(other, step),
    }
}

fn is_container(node: Option<&Node<'_>>) -> bool {
    matches!(node, Some(Node::Object(_) | Node::Array(_)))
}

fn is_empty_container(node: Option<&Node<'_>>) -> bool {
    match node {
        Some(Node::Object(entries)) => entries.is_empty(),
        Some(Node::Array(items)) => items.is_empty(),
        _ => false,
    }
}

fn absent(node: Option<&Node<'_>>) -> bool {
    matches!(node, None | Some(Node::Null))
}

impl Walker<'_> {
    fn walk(
        &mut self,
        before: Option<&Node<'_>>,
        after: Option<&Node<'_>>,
        before_sensitive: Option<&Node<'_>>,
        after_sensitive: Option<&Node<'_>>,
        unknown: Option<&Node<'_>>,
        path: &mut Vec<Step>,
    ) {
        let unknown_here = matches!(unknown, Some(Node::Bool(true)));
        let sensitive_before = matches!(before_sensitive, Some(Node::Bool(true)));
        let sensitive_after = matches!(after_sensitive, Some(Node::Bool(true)));

        if unknown_here {
            let before_text = (!absent(before)).then(|| self.show(before, sensitive_before));
            self.push(path, before_text, Some("(known after apply)".to_owned()));
            return;
        }
        if sensitive_before || sensitive_after {
            if before == after && sensitive_before == sensitive_after {
                return;
            }
            let before_text = (!absent(before)).then(|| self.show(before, sensitive_before));
            let after_text = (!absent(after)).then(|| self.show(after, sensitive_after));
            if before_text.is_some() || after_text.is_some() {
                self.push(path, before_text, after_text);
            }
            return;
        }
        let recurse = (is_container(before) || absent(before))
            && (is_container(after) || absent(after))
            && (is_container(before) || is_container(after) || is_container(unknown))
            && !(matches!(before, Some(Node::Object(_))) && matches!(after, Some(Node::Array(_))))
            && !(matches!(before, Some(Node::Array(_))) && matches!(after, Some(Node::Object(_))));
        if recurse {
            // An empty container that appears or disappears says nothing a reviewer needs.
            if (absent(before) && is_empty_container(after))
                || (absent(after) && is_empty_container(before))
            {
                return;
            }
            let steps = union_steps(before, after, unknown);
            for step in steps {
                let (b, a) = (child(before, &step), child(after, &step));
                let (bs, as_, u) = (
                    child_mask(before_sensitive, &step),
                    child_mask(after_sensitive, &step),
                    child_mask(unknown, &step),
                );
                path.push(step);
                self.walk(b, a, bs, as_, u, path);
                path.pop();
            }
            return;
        }
        if before == after || (absent(before) && absent(after)) {
            return;
        }
        let before_text = (!absent(before)).then(|| self.show(before, false));
        let after_text = (!absent(after)).then(|| self.show(after, false));
        self.push(path, before_text, after_text);
    }

    fn show(&self, node: Option<&Node<'_>>, sensitive: bool) -> String {
        if sensitive {
            return "(sensitive)".to_owned();
        }
        let text = match node {
            None | Some(Node::Null) => "null".to_owned(),
            Some(Node::String(text)) => {
                let mut quoted = String::with_capacity(text.len() + 2);
                push_json_string(text, &mut quoted);
                quoted
            }
            Some(other) => other.to_compact(),
        };
        shorten(&self.secrets.scrub(&text))
    }

    fn push(&mut self, path: &[Step], before: Option<String>, after: Option<String>) {
        self.total += 1;
        if self.lines.len() >= LINES_PER_CHANGE {
            return;
        }
        let path_text = display_steps(path);
        let marker = match (&before, &after) {
            (None, Some(_)) => '+',
            (Some(_), None) => '-',
            _ => '~',
        };
        let forces_replacement = self.replace_paths.iter().any(|replace| {
            path_text
                .strip_prefix(replace.as_str())
                .is_some_and(|rest| {
                    rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')
                })
        });
        let path = match self.secrets.scrub(&path_text) {
            std::borrow::Cow::Borrowed(_) => path_text,
            std::borrow::Cow::Owned(scrubbed) => scrubbed,
        };
        self.lines.push(DiffLine {
            marker,
            path,
            before,
            after,
            forces_replacement,
        });
    }
}

fn union_steps(
    before: Option<&Node<'_>>,
    after: Option<&Node<'_>>,
    unknown: Option<&Node<'_>>,
) -> Vec<Step> {
    let mut keys: Vec<&str> = Vec::new();
    let mut length = 0usize;
    let mut any_object = false;
    for node in [after, before, unknown].into_iter().flatten() {
        match node {
            Node::Object(entries) => {
                any_object = true;
                for (key, _) in entries {
                    if !keys.contains(&key.as_ref()) {
                        keys.push(key.as_ref());
                    }
                }
            }
            Node::Array(items) => length = length.max(items.len()),
            _ => {}
        }
    }
    if any_object {
        keys.into_iter()
            .map(|key| Step::Key(key.to_owned()))
            .collect()
    } else {
        (0..length).map(Step::Index).collect()
    }
}

fn is_identifier(key: &str) -> bool {
    let mut characters = key.chars();
    characters
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && characters.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn display_steps(path: &[Step]) -> String {
    let mut text = String::new();
    for step in path {
        match step {
            Step::Key(key) if is_identifier(key) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(key);
            }
            Step::Key(key) => {
                text.push('[');
                push_json_string(key, &mut text);
                text.push(']');
            }
            Step::Index(index) => {
                let _ = write!(text, "[{index}]");
            }
        }
    }
    if text.is_empty() {
        text.push_str("(value)");
    }
    text
}

/// A `replace_paths` entry (`["tags", "Name"]`, `["ingress", 0]`) as a display path.
pub fn display_path(steps: &[Node<'_>]) -> String {
    let steps: Vec<Step> = steps
        .iter()
        .filter_map(|step| match step {
            Node::String(key) => Some(Step::Key(key.to_string())),
            Node::Number(number) => number.parse().ok().map(Step::Index),
            _ => None,
        })
        .collect();
    display_steps(&steps)
}

fn shorten(text: &str) -> String {
    if text.len() <= VALUE_CHARS {
        return text.to_owned();
    }
    let count = text.chars().count();
    if count <= VALUE_CHARS {
        return text.to_owned();
    }
    let kept: String = text.chars().take(VALUE_CHARS).collect();
    format!("{kept}… ({count} characters)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    fn node(text: &str) -> Node<'_> {
        let raw: &RawValue = serde_json::from_str(text).unwrap();
        Node::parse(raw).unwrap()
    }

    fn lines(
        before: &str,
        after: &str,
        before_sensitive: &str,
        after_sensitive: &str,
        unknown: &str,
    ) -> Vec<String> {
        let (b, a, bs, as_, u) = (
            node(before),
            node(after),
            node(before_sensitive),
            node(after_sensitive),
            node(unknown),
        );
        let sides = Sides {
            before: &b,
            after: &a,
            before_sensitive: &bs,
            after_sensitive: &as_,
            after_unknown: &u,
        };
        diff(&sides, &["ami".to_owned()], &Secrets::default())
            .0
            .iter()
            .map(DiffLine::render)
            .collect()
    }

    #[test]
    fn updates_show_only_what_changed() {
        let shown = lines(
            r#"{"ami":"ami-1","size":"t2","tags":{"Name":"web","Env":"dev"},"ports":[80,443]}"#,
            r#"{"ami":"ami-2","size":"t2","tags":{"Name":"web","Env":"prod"},"ports":[80,8443]}"#,
            "{}",
            "{}",
            "{}",
        );
        assert_eq!(
            shown,
            [
                "! ami = \"ami-1\" → \"ami-2\"   # forces replacement",
                "! tags.Env = \"dev\" → \"prod\"",
                "! ports[1] = 443 → 8443",
            ]
        );
    }

    #[test]
    fn creates_show_values_and_unknowns_but_not_nulls() {
        let shown = lines(
            "null",
            r#"{"name":"x","id":null,"tags":{},"list":[{"a":1}]}"#,
            "false",
            "{}",
            r#"{"id":true,"arn":true}"#,
        );
        assert_eq!(
            shown,
            [
                "+ name = \"x\"",
                "+ id = (known after apply)",
                "+ list[0].a = 1",
                "+ arn = (known after apply)"
            ]
        );
    }

    #[test]
    fn sensitive_values_are_never_shown() {
        let shown = lines(
            r#"{"password":"hunter2-old","config":{"token":"abc-secret","port":5432}}"#,
            r#"{"password":"hunter2-new","config":{"token":"abc-secret","port":5433}}"#,
            r#"{"password":true,"config":{"token":true}}"#,
            r#"{"password":true,"config":{"token":true}}"#,
            "{}",
        );
        assert_eq!(
            shown,
            [
                "! password = (sensitive) → (sensitive)",
                "! config.port = 5432 → 5433"
            ]
        );
        let whole = lines(
            r#"{"a":"s3cr3t"}"#,
            r#"{"a":"n3w-s3cr3t"}"#,
            "true",
            "true",
            "{}",
        );
        assert_eq!(whole, ["! (value) = (sensitive) → (sensitive)"]);
    }

    #[test]
    fn odd_keys_are_quoted_and_long_values_shortened() {
        let long = "x".repeat(500);
        let after = format!(r#"{{"tags":{{"kubernetes.io/cluster":"{long}"}}}}"#);
        let shown = lines("null", &after, "false", "{}", "{}");
        assert!(
            shown[0].starts_with("+ tags[\"kubernetes.io/cluster\"] = \"xxx"),
            "{}",
            shown[0]
        );
        assert!(shown[0].ends_with("… (502 characters)"), "{}", shown[0]);
    }
}
