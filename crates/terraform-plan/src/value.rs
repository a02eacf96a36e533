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
    /// Reads a raw JSON value (already validated by the plan parser).
    pub fn parse(raw: &'a RawValue) -> Result<Self, serde_json::Error> {
        let text = raw.get().trim_start();
        match text.as_bytes().first() {
            Some(b'{') => {
                let entries: Vec<(Cow<'a, str>, &'a RawValue)> =
                    serde_json::from_str::<ObjectEntries<'a>>(raw.get())?.0;
                entries
                    .into_iter()
                    .map(|(key, value)| Ok((key, Node::parse(value)?)))
                    .collect::<Result<_, _>>()
                    .map(Node::Object)
            }
            Some(b'[') => {
                let items: Vec<&'a RawValue> = serde_json::from_str(raw.get())?;
                items
                    .into_iter()
                    .map(Node::parse)
                    .collect::<Result<_, _>>()
                    .map(Node::Array)
            }
            Some(b'"') => Ok(Node::String(serde_json::from_str::<Cow<'a, str>>(
                raw.get(),
            )?)),
            Some(b't') => Ok(Node::Bool(true)),
            Some(b'f') => Ok(Node::Bool(false)),
            Some(b'n') => Ok(Node::Null),
            _ => Ok(Node::Number(text.trim_end())),
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
                let mut sorted: Vec<&(Cow<'a, str>, Node<'a>)> = entries.iter().collect();
                sorted.sort_by(|left, right| left.0.cmp(&right.0));
                out.push('{');
                for (index, (key, value)) in sorted.into_iter().enumerate() {
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
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// An object's entries, in order, with raw values.
struct ObjectEntries<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for ObjectEntries<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Entries<'a> {
            type Value = ObjectEntries<'a>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Self::Value, M::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let value: &'de RawValue = map.next_value()?;
                    entries.push((key, value));
                }
                Ok(ObjectEntries(entries))
            }
        }
        deserializer.deserialize_map(Entries(std::marker::PhantomData))
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
    fn canonical_form_sorts_keys_and_escapes() {
        let value = node(r#"{ "b": [1, {"z": null, "a": true}], "a": "x\ny\u0001" }"#);
        let mut out = String::new();
        value.write_canonical(&mut out);
        assert_eq!(out, r#"{"a":"x\ny\u0001","b":[1,{"a":true,"z":null}]}"#);
    }
}
