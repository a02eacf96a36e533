//! GitHub's REST contract (`shared/contracts/github-rest-subset.json`) as a request validator.
//!
//! The fake server checks every request body it receives against the operation's
//! `requestBody` schema, so a body GitHub would reject fails our tests instead of production.
//! The schema dialect is `OpenAPI` 3.0 (`nullable`, `oneOf`, `pattern`, `maxItems`, …); no JSON
//! Schema crate speaks it exactly, and the subset used is small, so the validator is here.

use std::path::Path;

use serde_json::Value;

/// The loaded contract.
#[derive(Debug)]
pub struct Contract {
    document: Value,
    operations: Vec<Operation>,
}

#[derive(Debug)]
struct Operation {
    method: String,
    segments: Vec<String>,
    body_schema: Option<Value>,
}

impl Contract {
    /// Loads the contract file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        let document: Value =
            serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?;
        let mut operations = Vec::new();
        for (template, methods) in document["paths"].as_object().into_iter().flatten() {
            for (method, operation) in methods.as_object().into_iter().flatten() {
                if !operation.is_object() || method == "parameters" {
                    continue;
                }
                let body = operation
                    .get("requestBody")
                    .map(|body| resolve(&document, body));
                let body_schema = body
                    .and_then(|body| body.pointer("/content/application~1json/schema"))
                    .cloned();
                operations.push(Operation {
                    method: method.to_uppercase(),
                    segments: template.split('/').map(str::to_owned).collect(),
                    body_schema,
                });
            }
        }
        Ok(Self {
            document,
            operations,
        })
    }

    /// Whether the contract has an operation for this method and path.
    pub fn knows(&self, method: &str, path: &str) -> bool {
        self.operation(method, path).is_some()
    }

    fn operation(&self, method: &str, path: &str) -> Option<&Operation> {
        let segments: Vec<&str> = path.split('/').collect();
        self.operations.iter().find(|operation| {
            operation.method == method
                && operation.segments.len() == segments.len()
                && operation
                    .segments
                    .iter()
                    .zip(&segments)
                    .all(|(template, actual)| template.starts_with('{') || template == actual)
        })
    }

    /// Loads a plain JSON Schema document (draft-07, e.g. the SARIF 2.1.0 schema) to validate
    /// whole values against with [`Contract::validate`]; it has no operations.
    pub fn load_schema(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        let document: Value =
            serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))?;
        Ok(Self {
            document,
            operations: Vec::new(),
        })
    }

    /// Validates a value against the root schema of a document loaded with
    /// [`Contract::load_schema`]; returns every violation, each naming its JSON path.
    pub fn validate(&self, value: &Value) -> Vec<String> {
        let mut violations = Vec::new();
        self.check(&self.document, value, "$", &mut violations);
        violations
    }

    /// Validates a request body; returns every violation found, each naming its JSON path.
    pub fn validate_request(&self, method: &str, path: &str, body: Option<&Value>) -> Vec<String> {
        let Some(operation) = self.operation(method, path) else {
            return vec![format!(
                "{method} {path} is not an operation of the contract"
            )];
        };
        match (&operation.body_schema, body) {
            (None, _) => Vec::new(),
            (Some(_), None) => vec![format!("{method} {path} needs a JSON body")],
            (Some(schema), Some(body)) => {
                let mut violations = Vec::new();
                self.check(schema, body, "$", &mut violations);
                violations
            }
        }
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, violations: &mut Vec<String>) {
        let schema = resolve(&self.document, schema);
        if value.is_null() {
            if schema.get("nullable") == Some(&Value::Bool(true))
                || schema.get("type").is_none()
                    && schema.get("oneOf").is_none()
                    && schema.get("anyOf").is_none()
            {
                return;
            }
            if schema.get("type").and_then(Value::as_str) != Some("null") {
                violations.push(format!("{at}: null is not allowed"));
                return;
            }
        }
        for keyword in ["oneOf", "anyOf"] {
            if let Some(choices) = schema.get(keyword).and_then(Value::as_array) {
                let matching = choices
                    .iter()
                    .filter(|choice| {
                        let mut inner = Vec::new();
                        self.check(choice, value, at, &mut inner);
                        inner.is_empty()
                    })
                    .count();
                let ok = if keyword == "oneOf" {
                    matching == 1
                } else {
                    matching >= 1
                };
                if !ok {
                    violations.push(format!("{at}: matches {matching} of the {keyword} choices"));
                }
            }
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for part in all {
                self.check(part, value, at, violations);
            }
        }
        if let Some(expected) = schema.get("type").and_then(Value::as_str) {
            let fits = match expected {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                "null" => value.is_null(),
                _ => true,
            };
            if !fits {
                violations.push(format!("{at}: expected {expected}, got {}", kind(value)));
                return;
            }
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if !allowed.contains(value) {
                violations.push(format!(
                    "{at}: {value} is not one of {}",
                    Value::Array(allowed.clone())
                ));
            }
        }
        if let Some(text) = value.as_str() {
            let length = text.chars().count();
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
                if length as u64 > max {
                    violations.push(format!("{at}: {length} characters, more than {max}"));
                }
            }
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
                if (length as u64) < min {
                    violations.push(format!("{at}: {length} characters, fewer than {min}"));
                }
            }
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
                match regex_lite::Regex::new(pattern) {
                    Ok(regex) if !regex.is_match(text) => {
                        let shown: String = text.chars().take(60).collect();
                        violations.push(format!("{at}: `{shown}` does not match {pattern}"));
                    }
                    _ => {}
                }
            }
        }
        if let (Some(number), Some(minimum)) = (
            value.as_f64(),
            schema.get("minimum").and_then(Value::as_f64),
        ) {
            if number < minimum {
                violations.push(format!("{at}: {number} is less than the minimum {minimum}"));
            }
        }
        if let Some(items) = value.as_array() {
            if schema.get("uniqueItems") == Some(&Value::Bool(true)) {
                for (index, item) in items.iter().enumerate() {
                    if items[..index].contains(item) {
                        violations.push(format!("{at}[{index}]: repeats an earlier item"));
                    }
                }
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
                if items.len() as u64 > max {
                    violations.push(format!("{at}: {} items, more than {max}", items.len()));
                }
            }
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
                if (items.len() as u64) < min {
                    violations.push(format!("{at}: {} items, fewer than {min}", items.len()));
                }
            }
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    self.check(item_schema, item, &format!("{at}[{index}]"), violations);
                }
            }
        }
        if let Some(object) = value.as_object() {
            let properties = schema.get("properties").and_then(Value::as_object);
            for required in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(name) = required.as_str() {
                    if !object.contains_key(name) {
                        violations.push(format!("{at}: required property `{name}` is missing"));
                    }
                }
            }
            for (name, property) in object {
                let path = format!("{at}.{name}");
                match properties.and_then(|properties| properties.get(name)) {
                    Some(property_schema) => {
                        self.check(property_schema, property, &path, violations);
                    }
                    None => match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            violations.push(format!("{path}: property is not allowed"));
                        }
                        Some(extra @ Value::Object(_)) => {
                            self.check(extra, property, &path, violations);
                        }
                        _ => {}
                    },
                }
            }
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Follows `$ref`s (`#/components/...`) until a schema that is not a reference.
fn resolve<'a>(document: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..32 {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => match reference
                .strip_prefix('#')
                .and_then(|p| document.pointer(p))
            {
                Some(target) => schema = target,
                None => return schema,
            },
            None => return schema,
        }
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contract() -> Contract {
        Contract::load(&crate::shared_dir().join("contracts/github-rest-subset.json")).unwrap()
    }

    #[test]
    fn accepts_a_valid_check_run_and_names_what_is_wrong_with_a_bad_one() {
        let contract = contract();
        let path = "/repos/o/r/check-runs";
        let valid = json!({"name": "gate", "head_sha": "a".repeat(40), "status": "completed", "conclusion": "success",
            "output": {"title": "t", "summary": "s", "annotations": [{"path": "a.rs", "start_line": 1, "end_line": 1, "annotation_level": "failure", "message": "m"}]}});
        assert_eq!(
            contract.validate_request("POST", path, Some(&valid)),
            Vec::<String>::new()
        );

        let too_many: Vec<Value> = (0..51).map(|n| json!({"path": "a.rs", "start_line": n, "end_line": n, "annotation_level": "failure", "message": "m"})).collect();
        let invalid = json!({"name": "gate", "head_sha": "x", "conclusion": "passed", "output": {"title": "t", "summary": "s", "annotations": too_many}});
        let violations = contract.validate_request("POST", path, Some(&invalid));
        assert!(
            violations.iter().any(|v| v.contains("$.conclusion")),
            "{violations:?}"
        );
        assert!(
            violations
                .iter()
                .any(|v| v.contains("$.output.annotations: 51 items, more than 50")),
            "{violations:?}"
        );

        let missing = json!({"head_sha": "a"});
        let violations = contract.validate_request("POST", path, Some(&missing));
        assert_eq!(violations, ["$: required property `name` is missing"]);
    }

    #[test]
    fn sarif_uploads_need_a_full_ref_and_a_full_sha() {
        let contract = contract();
        let path = "/repos/o/r/code-scanning/sarifs";
        let body = json!({"commit_sha": "abc", "ref": "main", "sarif": "H4sI"});
        let violations = contract.validate_request("POST", path, Some(&body));
        assert!(
            violations.iter().any(|v| v.starts_with("$.commit_sha")),
            "{violations:?}"
        );
        assert!(
            violations.iter().any(|v| v.starts_with("$.ref")),
            "{violations:?}"
        );
        let body = json!({"commit_sha": "a".repeat(40), "ref": "refs/heads/main", "sarif": "H4sI"});
        assert!(
            contract
                .validate_request("POST", path, Some(&body))
                .is_empty()
        );
        assert!(!contract.knows("DELETE", "/repos/o/r/issues/1/comments"));
    }
}
