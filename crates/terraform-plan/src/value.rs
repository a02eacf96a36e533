//! Plan values as written: a tree over the plan's own text.
//!
//! Terraform writes numbers of any size (`tfjson__numerics`), and a review must show
//! `12345678901234567890123`, not `1.2345678901234568e22`; `serde_json::Value` would round them
//! (its `arbitrary_precision` feature would change number handling for the whole workspace).
//! So values are read into [`Node`]s whose numbers keep their text, borrowing from the plan's
//! bytes, one resource at a time.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::value::RawValue;

/// A JSON value whose numbers keep their original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as written.
    Number(&'a str),
    /// A string.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Node<'a>>),
    /// An object, keys in the plan's order.
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'a> Node<'a> {
    /// Reads a raw JSON value in one pass over its text (strings without escapes are borrowed,
    /// numbers keep their text).
    pub fn parse(raw: &'a RawValue) -> Result<Self, serde_json::Error> {
        let text = raw.get();
        let mut reader = Reader {
            text,
            bytes: text.as_bytes(),
            at: 0,
        };
        match reader.value(0) {
            Some(node) => Ok(node),
            // The plan parser validated this text; reaching here means a bug, reported as the
            // JSON reader would.
            None => serde_json::from_str::<serde::de::IgnoredAny>(text).map(|_| Node::Null),
        }
    }

    /// Reads an optional raw value; absent is `null`.
    pub fn parse_optional(raw: Option<&'a RawValue>) -> Result<Self, serde_json::Error> {
        raw.map_or(Ok(Node::Null), Node::parse)
    }

    /// The child at `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Object(entries) => entries
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value),
            _ => None,
        }
    }

    /// Whether this is JSON `true`.
    pub fn is_true(&self) -> bool {
        matches!(self, Node::Bool(true))
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    /// Compact JSON with keys sorted: the canonical form the plan digest hashes.
    pub fn write_canonical(&self, out: &mut String) {
        match self {
            Node::Null => out.push_str("null"),
            Node::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Node::Number(text) => out.push_str(text),
            Node::String(text) => push_json_string(text, out),
            Node::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    item.write_canonical(out);
                }
                out.push(']');
            }
            Node::Object(entries) => {
                // Terraform writes keys sorted already; sort (and allocate) only when they are not.
                let sorted: Vec<&(Cow<'a, str>, Node<'a>)>;
                let ordered: &mut dyn Iterator<Item = &(Cow<'a, str>, Node<'a>)> =
                    if entries.windows(2).all(|pair| pair[0].0 <= pair[1].0) {
                        &mut entries.iter()
                    } else {
                        let mut keys: Vec<&(Cow<'a, str>, Node<'a>)> = entries.iter().collect();
                        keys.sort_by(|left, right| left.0.cmp(&right.0));
                        sorted = keys;
                        &mut sorted.iter().copied()
                    };
                out.push('{');
                for (index, (key, value)) in ordered.enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    push_json_string(key, out);
                    out.push(':');
                    value.write_canonical(out);
                }
                out.push('}');
            }
        }
    }

    /// Compact JSON in the plan's key order, for display.
    pub fn to_compact(&self) -> String {
        let mut out = String::new();
        self.write_compact(&mut out);
        out
    }

    fn write_compact(&self, out: &mut String) {
        match self {
            Node::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    item.write_compact(out);
                }
                out.push(']');
            }
            Node::Object(entries) => {
                out.push('{');
                for (index, (key, value)) in entries.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    push_json_string(key, out);
                    out.push_str(": ");
                    value.write_compact(out);
                }
                out.push('}');
            }
            other => other.write_canonical(out),
        }
    }
}

/// A JSON string literal (control characters escaped).
pub fn push_json_string(text: &str, out: &mut String) {
    out.push('"');
    let bytes = text.as_bytes();
    // Most strings need no escape: one branch-free pass (it vectorises) to say so.
    #[expect(
        clippy::needless_bitwise_bool,
        reason = "`|` keeps the loop free of branches"
    )]
    let plain = !bytes.iter().fold(false, |escape, &byte| {
        escape | (byte < 0x20) | (byte == b'"') | (byte == b'\\') | (byte == 0x7f) | (byte == 0xC2)
    });
    if plain {
        out.push_str(text);
        out.push('"');
        return;
    }
    // Copy runs that need no escape whole; escape the rest character by character. Control
    // characters are C0, DEL and C1 (U+0080–U+009F, encoded as 0xC2 0x80–0x9F).
    let mut start = 0;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let c1 = byte == 0xC2
            && bytes
                .get(index + 1)
                .is_some_and(|next| (0x80..=0x9F).contains(next));
        if !(byte < 0x20 || byte == b'"' || byte == b'\\' || byte == 0x7f || c1) {
            index += 1;
            continue;
        }
        out.push_str(&text[start..index]);
        let character = text[index..].chars().next().unwrap_or_default();
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
        }
        index += character.len_utf8();
        start = index;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// A single-pass reader over text that is already known to be valid JSON.
struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

/// Deeper than this is not a plan value (and would risk the stack).
const MAX_DEPTH: usize = 256;

impl<'a> Reader<'a> {
    fn skip_space(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Option<Node<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_space();
        match *self.bytes.get(self.at)? {
            b'{' => {
                self.at += 1;
                let mut entries = Vec::new();
                loop {
                    self.skip_space();
                    match *self.bytes.get(self.at)? {
                        b'}' => {
                            self.at += 1;
                            return Some(Node::Object(entries));
                        }
                        b',' => self.at += 1,
                        _ => {
                            let key = self.string()?;
                            self.skip_space();
                            if *self.bytes.get(self.at)? != b':' {
                                return None;
                            }
                            self.at += 1;
                            let value = self.value(depth + 1)?;
                            entries.push((key, value));
                        }
                    }
                }
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    match *self.bytes.get(self.at)? {
                        b']' => {
                            self.at += 1;
                            return Some(Node::Array(items));
                        }
                        b',' => self.at += 1,
                        _ => items.push(self.value(depth + 1)?),
                    }
                }
            }
            b'"' => self.string().map(Node::String),
            b't' => {
                self.at += 4;
                Some(Node::Bool(true))
            }
            b'f' => {
                self.at += 5;
                Some(Node::Bool(false))
            }
            b'n' => {
                self.at += 4;
                Some(Node::Null)
            }
            _ => {
                let start = self.at;
                while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') =
                    self.bytes.get(self.at)
                {
                    self.at += 1;
                }
                (self.at > start).then(|| Node::Number(&self.text[start..self.at]))
            }
        }
    }

    fn string(&mut self) -> Option<Cow<'a, str>> {
        if *self.bytes.get(self.at)? != b'"' {
            return None;
        }
        self.at += 1;
        let start = self.at;
        self.at += memchr::memchr2(b'"', b'\\', self.bytes.get(start..)?)?;
        if self.bytes[self.at] == b'"' {
            let text = &self.text[start..self.at];
            self.at += 1;
            return Some(Cow::Borrowed(text));
        }
        // Escapes: find the closing quote, then let serde_json decode the literal.
        let mut end = self.at;
        loop {
            match *self.bytes.get(end)? {
                b'\\' => end += 2,
                b'"' => break,
                _ => end += 1,
            }
        }
        let literal = &self.text[start - 1..=end];
        self.at = end + 1;
        serde_json::from_str::<String>(literal).ok().map(Cow::Owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(text: &str) -> Node<'_> {
        let raw: &RawValue = serde_json::from_str(text).unwrap();
        Node::parse(raw).unwrap()
    }

    #[test]
    fn numbers_keep_their_text() {
        let value = node(r#"{"big": 12345678901234567890123, "small": 1.50, "neg": -0}"#);
        assert_eq!(
            value.get("big"),
            Some(&Node::Number("12345678901234567890123"))
        );
        assert_eq!(value.get("small"), Some(&Node::Number("1.50")));
        assert_eq!(
            value.to_compact(),
            r#"{"big": 12345678901234567890123, "small": 1.50, "neg": -0}"#
        );
    }

    #[test]
    fn strings_with_escapes_and_nesting_read_back() {
        let value = node(r#" { "a" : [ "x\\\"y", "\u00e9\n" , {"k":[]} ] , "b":{} } "#);
        assert_eq!(
            value.to_compact(),
            r#"{"a": ["x\\\"y", "é\n", {"k": []}], "b": {}}"#
        );
        assert!(
            matches!(value.get("a"), Some(Node::Array(items)) if matches!(&items[0], Node::String(Cow::Owned(text)) if text == "x\\\"y"))
        );
    }

    #[test]
    fn canonical_form_sorts_keys_and_escapes() {
        let value = node(r#"{ "b": [1, {"z": null, "a": true}], "a": "x\ny\u0001" }"#);
        let mut out = String::new();
        value.write_canonical(&mut out);
        assert_eq!(out, r#"{"a":"x\ny\u0001","b":[1,{"a":true,"z":null}]}"#);
    }

    #[test]
    fn strings_escape_only_what_json_needs_and_every_control_character() {
        let mut out = String::new();
        push_json_string(
            "plain é ✓ \"q\" back\\slash\ttab\u{7f}\u{85}\u{9f}\u{a0}end",
            &mut out,
        );
        assert_eq!(
            out,
            "\"plain é ✓ \\\"q\\\" back\\\\slash\\ttab\\u007f\\u0085\\u009f\u{a0}end\""
        );
        out.clear();
        push_json_string("", &mut out);
        assert_eq!(out, "\"\"");
    }
}

/// Why [`write_masked_raw`] could not stream a value: the caller falls back to building a tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotStreamable;

/// Writes raw JSON `text` in the canonical form of [`Node::write_canonical`] without building a
/// tree, replacing every part under a `true` in `mask` by `"(sensitive)"` and handing that part
/// (as a [`Node`]) to `on_sensitive`. Objects whose keys are not already sorted — Terraform sorts
/// them — are [`NotStreamable`]; so is anything malformed.
pub fn write_masked_raw(
    text: &str,
    mask: &Node<'_>,
    out: &mut String,
    on_sensitive: &mut dyn FnMut(&Node<'_>),
) -> Result<(), NotStreamable> {
    let mut streamer = Streamer {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    streamer.value(Some(mask), out, on_sensitive, 0)?;
    Ok(())
}

struct Streamer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Streamer<'a> {
    fn skip_space(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&self) -> Result<u8, NotStreamable> {
        self.bytes.get(self.at).copied().ok_or(NotStreamable)
    }

    /// The extent of the next value, skipped.
    fn skip_value(&mut self) -> Result<&'a str, NotStreamable> {
        self.skip_space();
        let start = self.at;
        let mut reader = Reader {
            text: self.text,
            bytes: self.bytes,
            at: self.at,
        };
        reader.value(0).ok_or(NotStreamable)?;
        self.at = reader.at;
        Ok(&self.text[start..self.at])
    }

    /// A string literal, decoded (borrowed when it has no escapes).
    fn string(&mut self) -> Result<Cow<'a, str>, NotStreamable> {
        let mut reader = Reader {
            text: self.text,
            bytes: self.bytes,
            at: self.at,
        };
        let decoded = reader.string().ok_or(NotStreamable)?;
        self.at = reader.at;
        Ok(decoded)
    }

    fn value(
        &mut self,
        mask: Option<&Node<'_>>,
        out: &mut String,
        on_sensitive: &mut dyn FnMut(&Node<'_>),
        depth: usize,
    ) -> Result<(), NotStreamable> {
        if depth > MAX_DEPTH {
            return Err(NotStreamable);
        }
        self.skip_space();
        if matches!(mask, Some(Node::Bool(true))) {
            let raw = self.skip_value()?;
            let mut reader = Reader {
                text: raw,
                bytes: raw.as_bytes(),
                at: 0,
            };
            let node = reader.value(0).ok_or(NotStreamable)?;
            on_sensitive(&node);
            out.push_str("\"(sensitive)\"");
            return Ok(());
        }
        match self.peek()? {
            b'{' => {
                self.at += 1;
                out.push('{');
                let mut previous: Option<Cow<'a, str>> = None;
                let mut first = true;
                loop {
                    self.skip_space();
                    match self.peek()? {
                        b'}' => {
                            self.at += 1;
                            out.push('}');
                            return Ok(());
                        }
                        b',' => self.at += 1,
                        b'"' => {
                            let key = self.string()?;
                            if previous.as_ref().is_some_and(|previous| *previous > key) {
                                return Err(NotStreamable);
                            }
                            self.skip_space();
                            if self.peek()? != b':' {
                                return Err(NotStreamable);
                            }
                            self.at += 1;
                            if !first {
                                out.push(',');
                            }
                            first = false;
                            push_json_string(&key, out);
                            out.push(':');
                            let child_mask = match mask {
                                Some(node @ Node::Object(_)) => node.get(&key),
                                _ => None,
                            };
                            self.value(child_mask, out, on_sensitive, depth + 1)?;
                            previous = Some(key);
                        }
                        _ => return Err(NotStreamable),
                    }
                }
            }
            b'[' => {
                self.at += 1;
                out.push('[');
                let mut index = 0usize;
                loop {
                    self.skip_space();
                    match self.peek()? {
                        b']' => {
                            self.at += 1;
                            out.push(']');
                            return Ok(());
                        }
                        b',' => self.at += 1,
                        _ => {
                            if index > 0 {
                                out.push(',');
                            }
                            let child_mask = match mask {
                                Some(Node::Array(masks)) => masks.get(index),
                                _ => None,
                            };
                            self.value(child_mask, out, on_sensitive, depth + 1)?;
                            index += 1;
                        }
                    }
                }
            }
            b'"' => {
                let text = self.string()?;
                push_json_string(&text, out);
                Ok(())
            }
            _ => {
                let raw = self.skip_value()?;
                out.push_str(raw);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod streaming_tests {
    use super::*;

    fn node(text: &str) -> Node<'_> {
        let mut reader = Reader {
            text,
            bytes: text.as_bytes(),
            at: 0,
        };
        reader.value(0).unwrap()
    }

    #[test]
    fn streaming_matches_the_tree_writer() {
        let value = r#" { "a" : [1, {"k": "v\n\u00e9", "p": "secret-1"}], "b": true, "c": {"d": null, "e": 1.50} } "#;
        let mask = node(r#"{"a": [false, {"p": true}], "c": true}"#);
        let mut streamed = String::new();
        let mut seen = Vec::new();
        write_masked_raw(value, &mask, &mut streamed, &mut |sensitive| {
            seen.push(sensitive.to_compact());
        })
        .unwrap();
        assert_eq!(
            streamed,
            r#"{"a":[1,{"k":"v\né","p":"(sensitive)"}],"b":true,"c":"(sensitive)"}"#
        );
        assert_eq!(seen, [r#""secret-1""#, r#"{"d": null, "e": 1.50}"#]);
        let mut unsorted = String::new();
        assert_eq!(
            write_masked_raw(r#"{"b":1,"a":2}"#, &Node::Null, &mut unsorted, &mut |_| {}),
            Err(NotStreamable)
        );
    }
}
