//! Reading SARIF from any producer, leniently.
//!
//! Real SARIF is often not schema-valid (`startLine: 0`, a result without a message,
//! object-valued fingerprints, a null tool name): where the meaning is clear the reader takes it
//! and records a warning; where it is not (no `runs`, `results` that is not a list, a pre-2.1.0
//! draft) it refuses with the file and the JSON path. Typed SARIF models refuse too much of what
//! tools really write, so this reads `serde_json::Value`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::finding::{Finding, Level, Location, vulnerability_id};
use crate::severity::{Severity, SeveritySource};

/// Why a SARIF file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SarifInputError {
    /// Not JSON.
    #[error("{0}")]
    Json(#[from] JsonError),
    /// JSON, but not SARIF 2.1.0 in a way that matters.
    #[error("{file}: {path}: {problem}")]
    Shape {
        /// The file.
        file: String,
        /// JSON path of the problem (`$.runs[0].results`).
        path: String,
        /// What is wrong.
        problem: String,
    },
}

/// A report that is not valid JSON, or is cut short: the file and the place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: not valid JSON at line {line}, column {column}: {message}")]
pub struct JsonError {
    /// The file.
    pub file: String,
    /// Line.
    pub line: usize,
    /// Column.
    pub column: usize,
    /// What the reader said, without its own place.
    pub message: String,
}

impl JsonError {
    /// From the JSON reader's error.
    pub fn new(file: &str, error: &serde_json::Error) -> Self {
        Self {
            file: file.to_owned(),
            line: error.line(),
            column: error.column(),
            message: error
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

/// What one SARIF file held.
#[derive(Debug, Clone, Default)]
pub struct SarifInput {
    /// The findings.
    pub findings: Vec<Finding>,
    /// Tool names, one per run.
    pub tools: Vec<String>,
    /// Oddities read past, each naming its place.
    pub warnings: Vec<String>,
}

/// Reads a SARIF log (a leading UTF-8 byte-order mark is accepted), one result at a time: a
/// 200 MB report never exists as one JSON tree. A run whose `results` come before its `tool`
/// (legal JSON; our own output does it) has its results held until the rules are known.
pub fn read_sarif(file: &str, bytes: &[u8]) -> Result<SarifInput, SarifInputError> {
    let (reader, outcome) = stream(file, bytes);
    finish_sarif(file, reader, outcome)
}

/// [`read_sarif`], or `None` when the top level has no `runs` or no `version`/`$schema`: not
/// SARIF, whatever else it is (one pass: the format is recognised while reading).
pub fn read_sarif_if_sarif(
    file: &str,
    bytes: &[u8],
) -> Option<Result<SarifInput, SarifInputError>> {
    let (reader, outcome) = stream(file, bytes);
    if !(reader.has_runs && (reader.version.is_some() || reader.has_schema)) {
        return None;
    }
    Some(finish_sarif(file, reader, outcome))
}

fn stream<'f>(file: &'f str, bytes: &[u8]) -> (StreamReader<'f>, Result<(), serde_json::Error>) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = StreamReader {
        file,
        input: SarifInput::default(),
        shape: None,
        version: None,
        has_runs: false,
        has_schema: false,
        runs: 0,
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let outcome = serde::de::DeserializeSeed::deserialize(LogSeed(&mut reader), &mut deserializer)
        .and_then(|()| deserializer.end());
    (reader, outcome)
}

fn finish_sarif(
    file: &str,
    mut reader: StreamReader<'_>,
    outcome: Result<(), serde_json::Error>,
) -> Result<SarifInput, SarifInputError> {
    if let Some(shape) = reader.shape.take() {
        return Err(shape);
    }
    outcome.map_err(|error| JsonError::new(file, &error))?;
    let shape = |path: &str, problem: String| SarifInputError::Shape {
        file: file.to_owned(),
        path: path.to_owned(),
        problem,
    };
    let version = reader.version.unwrap_or_default();
    if version != "2.1.0" {
        return Err(shape(
            "$.version",
            format!("SARIF version `{version}` is not 2.1.0 (GitHub reads only 2.1.0)"),
        ));
    }
    if !reader.has_runs {
        return Err(shape(
            "$.runs",
            "a SARIF log needs a `runs` list".to_owned(),
        ));
    }
    Ok(reader.input)
}

struct StreamReader<'f> {
    file: &'f str,
    input: SarifInput,
    /// A shape problem found while streaming (returned instead of the parse error it causes).
    shape: Option<SarifInputError>,
    version: Option<String>,
    has_runs: bool,
    has_schema: bool,
    runs: usize,
}

impl StreamReader<'_> {
    fn fail<E: serde::de::Error>(&mut self, path: String, problem: &str) -> E {
        self.shape = Some(SarifInputError::Shape {
            file: self.file.to_owned(),
            path,
            problem: problem.to_owned(),
        });
        E::custom("the SARIF has the wrong shape")
    }

    /// A run's tool name (warning when missing).
    fn tool_name(&mut self, run: &Value, at: &str) -> String {
        match run["tool"]["driver"].get("name").and_then(Value::as_str) {
            Some(name) if !name.trim().is_empty() => name.trim().to_owned(),
            _ => {
                self.input.warnings.push(format!(
                    "{}: {at}.tool.driver.name is missing; the run is named `unknown tool`",
                    self.file
                ));
                "unknown tool".to_owned()
            }
        }
    }

    fn take_result(
        &mut self,
        tool: &str,
        result: &Value,
        rules: &Rules<'_>,
        run: &Value,
        at: &str,
        index: usize,
    ) {
        // A result the producer marked `absent` (fixed since its baseline) is not a finding.
        if result.get("baselineState").and_then(Value::as_str) == Some("absent") {
            return;
        }
        let place = Place {
            file: self.file,
            at,
            index,
        };
        if let Some(finding) =
            read_result(tool, result, rules, run, &place, &mut self.input.warnings)
        {
            self.input.findings.push(finding);
        }
    }
}

struct LogSeed<'r, 'f>(&'r mut StreamReader<'f>);

impl<'de> serde::de::DeserializeSeed<'de> for LogSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for LogSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a SARIF log object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "version" => {
                    self.0.version = map.next_value::<Value>()?.as_str().map(str::to_owned);
                }
                "$schema" => {
                    self.0.has_schema = true;
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                "runs" => {
                    self.0.has_runs = true;
                    map.next_value_seed(RunsSeed(&mut *self.0))?;
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct RunsSeed<'r, 'f>(&'r mut StreamReader<'f>);

impl<'de> serde::de::DeserializeSeed<'de> for RunsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RunsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a list of runs")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(RunSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self
            .0
            .fail("$.runs".to_owned(), "a SARIF log needs a `runs` list"))
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Err(self
            .0
            .fail("$.runs".to_owned(), "a SARIF log needs a `runs` list"))
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Err(self
            .0
            .fail("$.runs".to_owned(), "a SARIF log needs a `runs` list"))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Err(self
            .0
            .fail("$.runs".to_owned(), "a SARIF log needs a `runs` list"))
    }
}

struct RunSeed<'r, 'f>(&'r mut StreamReader<'f>);

impl<'de> serde::de::DeserializeSeed<'de> for RunSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RunSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a run object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let index = self.0.runs;
        self.0.runs += 1;
        let at = format!("$.runs[{index}]");
        // The parts of the run the results need: its tool (rules) and base URIs.
        let mut context = serde_json::Map::new();
        let mut held: Option<Vec<Value>> = None;
        let mut tool: Option<String> = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "tool" | "originalUriBaseIds" => {
                    let value = map.next_value::<Value>()?;
                    context.insert(key.into_owned(), value);
                }
                "results" if context.contains_key("tool") => {
                    let run = Value::Object(std::mem::take(&mut context));
                    let name = self.0.tool_name(&run, &at);
                    let rules = Rules::of(&run);
                    map.next_value_seed(ResultsSeed {
                        reader: &mut *self.0,
                        tool: &name,
                        rules: &rules,
                        run: &run,
                        at: &at,
                    })?;
                    drop(rules);
                    let Value::Object(back) = run else {
                        unreachable!("built as an object")
                    };
                    context = back;
                    tool = Some(name);
                }
                "results" => match map.next_value::<Value>()? {
                    Value::Array(results) => held = Some(results),
                    Value::Null => {}
                    _ => {
                        return Err(self
                            .0
                            .fail(format!("{at}.results"), "must be a list of results"));
                    }
                },
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        let run = Value::Object(context);
        let name = match tool {
            Some(name) => name,
            None => self.0.tool_name(&run, &at),
        };
        if let Some(results) = held {
            let rules = Rules::of(&run);
            for (result_index, result) in results.iter().enumerate() {
                self.0
                    .take_result(&name, result, &rules, &run, &at, result_index);
            }
        }
        self.0.input.tools.push(name);
        Ok(())
    }
}

struct ResultsSeed<'r, 'f, 'c> {
    reader: &'r mut StreamReader<'f>,
    tool: &'c str,
    rules: &'c Rules<'c>,
    run: &'c Value,
    at: &'c str,
}

impl<'de> serde::de::DeserializeSeed<'de> for ResultsSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ResultsSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a list of results")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while let Some(result) = seq.next_element::<Value>()? {
            self.reader
                .take_result(self.tool, &result, self.rules, self.run, self.at, index);
            index += 1;
        }
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self
            .reader
            .fail(format!("{}.results", self.at), "must be a list of results"))
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Err(self
            .reader
            .fail(format!("{}.results", self.at), "must be a list of results"))
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Err(self
            .reader
            .fail(format!("{}.results", self.at), "must be a list of results"))
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Err(self
            .reader
            .fail(format!("{}.results", self.at), "must be a list of results"))
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Err(self
            .reader
            .fail(format!("{}.results", self.at), "must be a list of results"))
    }
}

/// The rules of a run: the driver's and every extension's, by id and by the driver's index.
struct Rules<'v> {
    by_id: BTreeMap<&'v str, &'v Value>,
    by_index: Vec<&'v Value>,
}

impl<'v> Rules<'v> {
    fn of(run: &'v Value) -> Self {
        let mut by_id = BTreeMap::new();
        let mut by_index = Vec::new();
        let driver_rules = run["tool"]["driver"]["rules"].as_array();
        for rule in driver_rules.into_iter().flatten() {
            by_index.push(rule);
            if let Some(id) = rule.get("id").and_then(Value::as_str) {
                by_id.insert(id, rule);
            }
        }
        for extension in run["tool"]["extensions"].as_array().into_iter().flatten() {
            for rule in extension["rules"].as_array().into_iter().flatten() {
                if let Some(id) = rule.get("id").and_then(Value::as_str) {
                    by_id.entry(id).or_insert(rule);
                }
            }
        }
        Self { by_id, by_index }
    }
}

fn text_of(value: &Value) -> Option<&str> {
    value
        .get("text")
        .and_then(Value::as_str)
        .or_else(|| value.get("markdown").and_then(Value::as_str))
        .filter(|text| !text.trim().is_empty())
}

/// A number, or a string holding one (`"security-severity": "7.5"`).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// Where a result is, for warnings (formatted only when one is written).
struct Place<'a> {
    file: &'a str,
    at: &'a str,
    index: usize,
}

impl std::fmt::Display for Place<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{}: {}.results[{}]",
            self.file, self.at, self.index
        )
    }
}

fn read_result(
    tool: &str,
    result: &Value,
    rules: &Rules<'_>,
    run: &Value,
    place: &Place<'_>,
    warnings: &mut Vec<String>,
) -> Option<Finding> {
    if !result.is_object() {
        warnings.push(format!("{place}: not an object; skipped"));
        return None;
    }
    let by_index = result
        .get("ruleIndex")
        .and_then(Value::as_u64)
        .and_then(|index| rules.by_index.get(usize::try_from(index).ok()?).copied());
    let rule_id = result
        .get("ruleId")
        .and_then(Value::as_str)
        .or_else(|| result["rule"].get("id").and_then(Value::as_str))
        .or_else(|| by_index.and_then(|rule| rule.get("id").and_then(Value::as_str)))
        .unwrap_or("(no rule id)")
        .to_owned();
    // A hierarchical id (`A/B`) may name its rule by the first component.
    let rule = rules
        .by_id
        .get(rule_id.as_str())
        .copied()
        .or(by_index)
        .or_else(|| {
            rules
                .by_id
                .get(rule_id.split('/').next().unwrap_or_default())
                .copied()
        })
        .unwrap_or(&Value::Null);

    let message = text_of(&result["message"])
        .map(str::to_owned)
        .or_else(|| {
            let id = result["message"].get("id").and_then(Value::as_str)?;
            rule["messageStrings"][id]
                .get("text")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .or_else(|| text_of(&rule["shortDescription"]).map(str::to_owned))
        .unwrap_or_else(|| {
            warnings.push(format!("{place}: has no message; the rule id stands in"));
            rule_id.clone()
        });
    let title = text_of(&rule["shortDescription"]).map_or_else(
        || message.lines().next().unwrap_or_default().to_owned(),
        str::to_owned,
    );

    let (severity, severity_source, score) = severity_of(result, rule);
    let level = Level::from_sarif(level_word(result, rule));
    let vulnerability = vulnerability_id(&rule_id)
        .or_else(|| {
            rule.get("name")
                .and_then(Value::as_str)
                .and_then(vulnerability_id)
        })
        .or_else(|| {
            property_strings(rule, "tags")
                .into_iter()
                .find_map(|tag| vulnerability_id(&tag))
        });
    let (package, version) = package_of(result, rule, &message);
    let fixed_in = fixed_in_of(result, rule, &message);

    let location = location_of(result, run, place, warnings);
    let mut fingerprints = BTreeMap::new();
    if let Some(found) = result.get("partialFingerprints").and_then(Value::as_object) {
        for (name, value) in found {
            match value.as_str() {
                Some(text) => {
                    fingerprints.insert(name.clone(), text.to_owned());
                }
                None => warnings.push(format!(
                    "{place}.partialFingerprints.{name}: not a string; ignored"
                )),
            }
        }
    }
    let suppressed_in_source = result["suppressions"]
        .as_array()
        .is_some_and(|suppressions| {
            suppressions.iter().any(|s| {
                s.get("status")
                    .and_then(Value::as_str)
                    .is_none_or(|status| status == "accepted")
            })
        });
    Some(Finding {
        tool: tool.to_owned(),
        rule_id,
        vulnerability,
        package,
        version,
        severity,
        severity_source,
        level,
        score,
        title,
        message,
        location,
        fingerprints,
        help_uri: rule
            .get("helpUri")
            .and_then(Value::as_str)
            .map(str::to_owned),
        fixed_in,
        suppressed_in_source,
    })
}

/// The version that fixes a dependency finding: a property (Gantry's own SARIF, and the names
/// other tools use), or Trivy's `Fixed Version:` message line.
fn fixed_in_of(result: &Value, rule: &Value, message: &str) -> Option<String> {
    let property = [result, rule].into_iter().find_map(|holder| {
        ["gantry/fixedIn", "fixedVersion", "fixed_version", "fixedIn"]
            .iter()
            .find_map(|key| match &holder["properties"][*key] {
                Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
                Value::Array(items) => {
                    let versions: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                    (!versions.is_empty()).then(|| versions.join(", "))
                }
                _ => None,
            })
    });
    property.or_else(|| {
        message.lines().find_map(|line| {
            line.strip_prefix("Fixed Version: ")
                .map(str::trim)
                .filter(|fixed| !fixed.is_empty())
                .map(str::to_owned)
        })
    })
}

/// String values of a `properties` entry (a string or a list of strings).
fn property_strings(holder: &Value, key: &str) -> Vec<String> {
    match &holder["properties"][key] {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The result's level, else its rule's default, else SARIF's default `warning`.
fn level_word<'v>(result: &'v Value, rule: &'v Value) -> &'v str {
    result
        .get("level")
        .and_then(Value::as_str)
        .or_else(|| {
            rule["defaultConfiguration"]
                .get("level")
                .and_then(Value::as_str)
        })
        .unwrap_or("warning")
}

/// Score first, then the tool's word, then the level (see [`crate::severity`]).
fn severity_of(result: &Value, rule: &Value) -> (Severity, SeveritySource, Option<f64>) {
    let score_keys = [
        "security-severity",
        "cvssv3_baseScore",
        "cvss_score",
        "cvssScore",
        "cvss",
    ];
    for holder in [result, rule] {
        for key in score_keys {
            if let Some(score) = number(&holder["properties"][key]) {
                if let Some(severity) = Severity::from_score(score) {
                    return (severity, SeveritySource::Score, Some(score));
                }
            }
        }
    }
    for holder in [result, rule] {
        for key in ["severity", "problem.severity", "issue_severity", "Severity"] {
            if let Some(severity) = holder["properties"][key]
                .as_str()
                .and_then(Severity::from_word)
            {
                return (severity, SeveritySource::ToolWord, None);
            }
        }
        // Trivy and others put the word among the tags.
        for tag in property_strings(holder, "tags") {
            if tag.chars().all(|c| c.is_ascii_uppercase()) {
                if let Some(severity) = Severity::from_word(&tag) {
                    return (severity, SeveritySource::ToolWord, None);
                }
            }
        }
    }
    (
        Severity::from_sarif_level(level_word(result, rule)),
        SeveritySource::Level,
        None,
    )
}

/// The package and version of a dependency finding, from properties or Trivy's message lines.
fn package_of(result: &Value, rule: &Value, message: &str) -> (Option<String>, Option<String>) {
    let lookup = |keys: &[&str]| {
        [result, rule].into_iter().find_map(|holder| {
            keys.iter().find_map(|key| {
                holder["properties"][*key]
                    .as_str()
                    .filter(|value| !value.is_empty())
                    .map(str::to_owned)
            })
        })
    };
    let mut package = lookup(&[
        "packageName",
        "package",
        "pkgName",
        "package_name",
        "component",
    ]);
    let mut version = lookup(&[
        "packageVersion",
        "installedVersion",
        "version",
        "package_version",
    ]);
    for line in message
        .contains("Package: ")
        .then(|| message.lines())
        .into_iter()
        .flatten()
    {
        if let Some(name) = line.strip_prefix("Package: ") {
            package.get_or_insert_with(|| name.trim().to_owned());
        }
        if let Some(installed) = line.strip_prefix("Installed Version: ") {
            version.get_or_insert_with(|| installed.trim().to_owned());
        }
    }
    (package, version)
}

fn location_of(
    result: &Value,
    run: &Value,
    place: &Place<'_>,
    warnings: &mut Vec<String>,
) -> Location {
    let physical = result["locations"]
        .as_array()
        .and_then(|locations| {
            locations
                .iter()
                .find(|location| location.get("physicalLocation").is_some())
        })
        .map_or(&Value::Null, |location| &location["physicalLocation"]);
    let artifact = &physical["artifactLocation"];
    let mut path = artifact
        .get("uri")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let (Some(relative), Some(base)) = (&path, artifact.get("uriBaseId").and_then(Value::as_str))
    {
        // `originalUriBaseIds` says what a base means; a relative base (`src/`) is part of the path.
        if let Some(base_uri) = run["originalUriBaseIds"][base]
            .get("uri")
            .and_then(Value::as_str)
        {
            if !base_uri.contains("://") && !base_uri.starts_with('/') {
                path = Some(format!("{}/{}", base_uri.trim_end_matches('/'), relative));
            }
        }
    }
    let path = path.map(|uri| {
        let uri = uri.strip_prefix("file://").unwrap_or(&uri).to_owned();
        percent_decode(&uri)
    });
    let region = &physical["region"];
    let mut line = |key: &str| -> Option<u32> {
        let value = region.get(key)?.as_u64()?;
        if value == 0 {
            warnings.push(format!(
                "{place}: region.{key} is 0 (lines count from 1); ignored"
            ));
            return None;
        }
        u32::try_from(value).ok()
    };
    Location {
        path,
        start_line: line("startLine"),
        end_line: line("endLine"),
        start_column: line("startColumn"),
        end_column: line("endColumn"),
    }
}

/// `%20` → space and the like; invalid escapes are kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&text[index + 1..index + 3], 16) {
                decoded.push(byte);
                index += 3;
                continue;
            }
        }
        decoded.push(bytes[index]);
        index += 1;
    }
    String::from_utf8(decoded).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_scores_words_levels_and_trivy_packages() {
        let log = br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"Trivy","rules":[
            {"id":"CVE-2019-1549","shortDescription":{"text":"openssl: disclosure"},"properties":{"security-severity":"5.3","tags":["vulnerability","MEDIUM"]}},
            {"id":"R2","properties":{"tags":["HIGH"]}},
            {"id":"R3","defaultConfiguration":{"level":"error"}}]}},
          "results":[
            {"ruleId":"CVE-2019-1549","ruleIndex":0,"level":"warning","message":{"text":"Package: libcrypto1.1\nInstalled Version: 1.1.1c-r0"},
             "locations":[{"physicalLocation":{"artifactLocation":{"uri":"file:///src/dir%20a/x.py"},"region":{"startLine":0,"endLine":3}}}],
             "partialFingerprints":{"primaryLocationLineHash":"abc:1","bad":{"x":1}}},
            {"ruleId":"R2","message":{"text":"m"}},
            {"ruleIndex":2}]}]}"#;
        let input = read_sarif("t.sarif", log).unwrap();
        let [cve, word, level] = input.findings.as_slice() else {
            panic!("{:?}", input.findings)
        };
        assert_eq!(
            (cve.severity, cve.severity_source, cve.score),
            (Severity::Medium, SeveritySource::Score, Some(5.3))
        );
        assert_eq!(cve.vulnerability.as_deref(), Some("CVE-2019-1549"));
        assert_eq!(cve.package.as_deref(), Some("libcrypto1.1"));
        assert_eq!(cve.version.as_deref(), Some("1.1.1c-r0"));
        assert_eq!(cve.location.path.as_deref(), Some("/src/dir a/x.py"));
        assert_eq!(
            (cve.location.start_line, cve.location.end_line),
            (None, Some(3))
        );
        assert_eq!(cve.fingerprints.len(), 1);
        assert_eq!(
            (word.severity, word.severity_source),
            (Severity::High, SeveritySource::ToolWord)
        );
        assert_eq!(
            (level.severity, level.severity_source),
            (Severity::Medium, SeveritySource::Level)
        );
        assert_eq!(level.rule_id, "R3");
        assert_eq!(input.warnings.len(), 3, "{:?}", input.warnings);
    }

    #[test]
    fn refuses_what_has_no_meaning_naming_the_place() {
        let error = read_sarif(
            "a.sarif",
            br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":42}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "a.sarif: $.runs[0].results: must be a list of results"
        );
        let error = read_sarif("b.sarif", br#"{"version":"2.0.0","runs":[]}"#).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("b.sarif: $.version: SARIF version `2.0.0`"),
            "{error}"
        );
        let error = read_sarif("c.sarif", b"{\"version\":").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("c.sarif: not valid JSON at line 1"),
            "{error}"
        );
        assert!(
            read_sarif("d.sarif", br#"{"version":"2.1.0","runs":[]}"#)
                .unwrap()
                .findings
                .is_empty()
        );
    }
}
