//! Helm's rendered manifests as JSON: a multi-document YAML stream read the way Helm's own
//! reader (sigs.k8s.io/yaml over go-yaml) reads it, so that `replicas: 3` is the number 3,
//! `enabled: yes` the boolean true and `tag: "1.10"` the string "1.10".

use saphyr_parser::{Event, Parser, ScalarStyle, StrInput};
use serde_json::{Map, Number, Value};

struct Reader<'input> {
    parser: Parser<'input, StrInput<'input>>,
    place: String,
    anchors: Vec<(usize, Value)>,
}

fn place_of(marker: saphyr_parser::Marker) -> String {
    format!("line {} column {}", marker.line(), marker.col() + 1)
}

impl<'input> Reader<'input> {
    fn next(&mut self) -> Result<Event<'input>, String> {
        match self.parser.next_event() {
            Some(Ok((event, span))) => {
                self.place = place_of(span.start);
                Ok(event)
            }
            Some(Err(error)) => Err(format!(
                "not valid YAML at {}: {}",
                place_of(*error.marker()),
                error.info()
            )),
            None => Err("the YAML ends early".to_owned()),
        }
    }

    fn remember(&mut self, anchor: usize, value: &Value) {
        if anchor > 0 {
            self.anchors.push((anchor, value.clone()));
        }
    }

    fn node(&mut self, event: Event<'input>) -> Result<Value, String> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let tagged_string = tag
                    .as_ref()
                    .is_some_and(|tag| tag.suffix == "str" || tag.suffix.ends_with(":str"));
                let value = if style == ScalarStyle::Plain && !tagged_string {
                    plain(&text)
                } else {
                    Value::String(text.into_owned())
                };
                self.remember(anchor, &value);
                Ok(value)
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    match self.next()? {
                        Event::SequenceEnd => break,
                        event => items.push(self.node(event)?),
                    }
                }
                let value = Value::Array(items);
                self.remember(anchor, &value);
                Ok(value)
            }
            Event::MappingStart(anchor, _) => {
                let mut entries = Map::new();
                loop {
                    let key = match self.next()? {
                        Event::MappingEnd => break,
                        event => match self.node(event)? {
                            Value::String(key) => key,
                            Value::Null => "null".to_owned(),
                            other => other.to_string(),
                        },
                    };
                    let event = self.next()?;
                    let value = self.node(event)?;
                    if key == "<<" {
                        // A merge key: the aliased map's entries, where this map has none.
                        if let Value::Object(merged) = value {
                            for (merged_key, merged_value) in merged {
                                entries.entry(merged_key).or_insert(merged_value);
                            }
                        }
                        continue;
                    }
                    // go-yaml refuses a key given twice; so does Helm.
                    if entries.insert(key.clone(), value).is_some() {
                        return Err(format!("`{key}` is given twice, at {}", self.place));
                    }
                }
                let value = Value::Object(entries);
                self.remember(anchor, &value);
                Ok(value)
            }
            Event::Alias(anchor) => self
                .anchors
                .iter()
                .rev()
                .find(|(id, _)| *id == anchor)
                .map(|(_, value)| value.clone())
                .ok_or_else(|| format!("an alias to an unknown anchor at {}", self.place)),
            other => Err(format!("unexpected {other:?} at {}", self.place)),
        }
    }
}

/// A plain scalar as YAML 1.1 (go-yaml v2) types it.
fn plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
            return Value::Bool(true);
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let decimal_digits =
        !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if decimal_digits && !unsigned.starts_with('_') {
        let cleaned = text.replace('_', "");
        if let Ok(number) = cleaned.parse::<i64>() {
            return Value::Number(number.into());
        }
        if let Ok(number) = cleaned.parse::<u64>() {
            return Value::Number(number.into());
        }
    }
    if let Some(hex) = unsigned.strip_prefix("0x") {
        if let Ok(number) = i64::from_str_radix(hex, 16) {
            let signed = if text.starts_with('-') {
                -number
            } else {
                number
            };
            return Value::Number(signed.into());
        }
    }
    let looks_float = unsigned
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && unsigned.bytes().any(|b| b.is_ascii_digit())
        && unsigned.contains(['.', 'e', 'E']);
    if looks_float {
        if let Some(number) = text.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(number);
        }
    }
    Value::String(text.to_owned())
}

/// Every non-empty document of a manifest stream, in order. Errors name the place.
pub fn documents(text: &str) -> Result<Vec<Value>, String> {
    let mut reader = Reader {
        parser: Parser::new_from_str(text),
        place: String::new(),
        anchors: Vec::new(),
    };
    let mut documents = Vec::new();
    loop {
        match reader.next()? {
            Event::StreamStart | Event::DocumentStart(_) | Event::DocumentEnd => {}
            Event::StreamEnd => return Ok(documents),
            event => {
                let value = reader.node(event)?;
                if !value.is_null() {
                    documents.push(value);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_are_typed_as_helm_reads_them() {
        let text = "---\n# Source: chart/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  tag: \"1.10\"\n  on: yes\n  count: 3\n  ratio: 0.5\n  empty:\n  hex: 0x1F\n---\n---\nkind: Service\nspec:\n  ports:\n  - port: 80\n    targetPort: http\n";
        let documents = documents(text).unwrap();
        assert_eq!(documents.len(), 2);
        // go-yaml reads an unquoted `on` key as the boolean true, which becomes "true" in JSON.
        assert_eq!(
            documents[0]["data"],
            json!({"tag": "1.10", "true": true, "count": 3, "ratio": 0.5, "empty": null, "hex": 31})
        );
        assert_eq!(
            documents[1]["spec"]["ports"][0]["targetPort"],
            json!("http")
        );
    }

    #[test]
    fn a_broken_manifest_says_where() {
        let error = documents("kind: A\n  bad: [\n").unwrap_err();
        assert!(error.contains("line"), "{error}");
        let error = documents("a: 1\na: 2\n").unwrap_err();
        assert!(error.contains("`a` is given twice"), "{error}");
    }
}
