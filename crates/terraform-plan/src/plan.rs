//! Reading `terraform show -json` output — and recognising everything that is not one.
//!
//! The plan is read into typed records that borrow attribute values as raw JSON, so a 100 MB
//! plan costs little more than its own bytes; values are parsed one resource at a time when
//! rendered. Besides plans (format 0.1–1.2, and HCP Terraform's redacted plans), the reader
//! recognises what people pass by mistake and says what it is: a state, a raw `.tfstate`, the
//! `plan -json` log stream, plan text, a binary plan, UTF-16 from a PowerShell redirect (read),
//! and JSON wrapped in hashicorp/setup-terraform's wrapper output (read, with a warning).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

/// Why a file could not be read as a plan. Every message starts with the file's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Nothing in the file.
    #[error("{file}: the file is empty; expected the output of `terraform show -json <planfile>`")]
    Empty {
        /// The file.
        file: String,
    },
    /// Something that is not a plan (a state, a log stream, text).
    #[error("{file}: {what}, not a plan; {hint}")]
    NotAPlan {
        /// The file.
        file: String,
        /// What it is.
        what: String,
        /// What to do instead.
        hint: String,
    },
    /// Not JSON where JSON was expected.
    #[error("{file}: invalid JSON at line {line}, column {column}: {message}")]
    InvalidJson {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON reader said.
        message: String,
    },
    /// The JSON stops in the middle.
    #[error(
        "{file}: the JSON ends early at line {line}, column {column}; the file looks truncated"
    )]
    Truncated {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// More after the plan than wrapper noise.
    #[error("{file}: unexpected data after the plan at line {line}, column {column}")]
    TrailingData {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// JSON, but a field has the wrong shape.
    #[error("{file}: not a valid plan at line {line}, column {column}: {message}")]
    InvalidPlan {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Bytes that are not text in any encoding Terraform output comes in.
    #[error("{file}: not UTF-8 or UTF-16 text (invalid byte at offset {offset})")]
    Encoding {
        /// The file.
        file: String,
        /// Where.
        offset: usize,
    },
}

/// The file's text, decoded, and what was done to get it.
#[derive(Debug)]
pub struct PlanText<'a> {
    /// The JSON text of the plan.
    pub json: Cow<'a, str>,
    /// Things worth telling the user (wrapper output ignored, UTF-16 decoded).
    pub warnings: Vec<String>,
}

/// Whether the bytes are a binary plan file (a zip archive), which only `terraform show` reads.
pub fn is_binary_plan(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Decodes a file into plan JSON text, or says what the file is instead.
pub fn decode<'a>(file: &str, bytes: &'a [u8]) -> Result<PlanText<'a>, PlanError> {
    let mut warnings = Vec::new();
    let text: Cow<'a, str> = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Cow::Borrowed(utf8(file, rest, 3)?)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        warnings.push("decoded from UTF-16 (a PowerShell `>` redirect writes UTF-16; use `| Out-File -Encoding utf8`)".to_owned());
        Cow::Owned(utf16(file, rest, u16::from_le_bytes)?)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        warnings.push("decoded from UTF-16".to_owned());
        Cow::Owned(utf16(file, rest, u16::from_be_bytes)?)
    } else if is_binary_plan(bytes) {
        return Err(PlanError::NotAPlan {
            file: file.to_owned(),
            what: "a binary plan file".to_owned(),
            hint: "it is shown with `terraform show -json` first (set `terraform-command` if terraform is not on PATH)".to_owned(),
        });
    } else {
        Cow::Borrowed(utf8(file, bytes, 0)?)
    };
    if text.trim().is_empty() {
        return Err(PlanError::Empty {
            file: file.to_owned(),
        });
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with("[command]") {
        return unwrap_setup_terraform(file, &text, warnings);
    }
    if !trimmed.starts_with('{') {
        return Err(not_json(file, trimmed));
    }
    Ok(PlanText {
        json: text,
        warnings,
    })
}

fn utf8<'a>(file: &str, bytes: &'a [u8], offset: usize) -> Result<&'a str, PlanError> {
    std::str::from_utf8(bytes).map_err(|error| PlanError::Encoding {
        file: file.to_owned(),
        offset: offset + error.valid_up_to(),
    })
}

fn utf16(file: &str, bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, PlanError> {
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units)
        .enumerate()
        .map(|(index, decoded)| {
            decoded.map_err(|_| PlanError::Encoding {
                file: file.to_owned(),
                offset: 2 + index * 2,
            })
        })
        .collect()
}

/// What a non-JSON file most likely is.
fn not_json(file: &str, text: &str) -> PlanError {
    let hint = "save the plan with `terraform plan -out=tfplan` and pass `terraform show -json tfplan` output, or the tfplan file itself".to_owned();
    let what = if text.contains("Terraform will perform")
        || text.contains("Plan:")
        || text.contains("No changes.")
        || text.starts_with("Terraform v")
        || text.contains("An execution plan has been generated")
    {
        "human-readable plan text"
    } else {
        "not JSON"
    };
    PlanError::NotAPlan {
        file: file.to_owned(),
        what: what.to_owned(),
        hint,
    }
}

/// hashicorp/setup-terraform's wrapper prints `[command]…` before the output and `::debug::` /
/// `::set-output` lines after it. The JSON in between is the plan.
fn unwrap_setup_terraform<'a>(
    file: &str,
    text: &str,
    mut warnings: Vec<String>,
) -> Result<PlanText<'a>, PlanError> {
    let start = text
        .find("\n{")
        .map(|index| index + 1)
        .ok_or_else(|| not_json(file, text))?;
    let body = &text[start..];
    let mut stream = serde_json::Deserializer::from_str(body).into_iter::<IgnoredAny>();
    match stream.next() {
        Some(Ok(_)) => {}
        Some(Err(error)) => return Err(json_error(file, &error, line_offset(text, start))),
        None => return Err(not_json(file, text)),
    }
    let end = stream.byte_offset();
    let rest = &body[end..];
    let only_wrapper = rest.lines().all(|line| {
        line.trim().is_empty() || line.trim_start().starts_with("::") || line.trim() == "%0A"
    });
    if !only_wrapper {
        let (line, column) = position(text, start + end);
        return Err(PlanError::TrailingData {
            file: file.to_owned(),
            line,
            column,
        });
    }
    warnings.push("the file holds hashicorp/setup-terraform wrapper output around the JSON, which was ignored (set `terraform_wrapper: false` on setup-terraform)".to_owned());
    Ok(PlanText {
        json: Cow::Owned(body[..end].to_owned()),
        warnings,
    })
}

fn line_offset(text: &str, byte: usize) -> usize {
    text[..byte].matches('\n').count()
}

fn position(text: &str, byte: usize) -> (usize, usize) {
    let before = &text[..byte.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.chars().count(), |newline| {
            before[newline + 1..].chars().count()
        })
        + 1;
    (line, column)
}

fn json_error(file: &str, error: &serde_json::Error, extra_lines: usize) -> PlanError {
    let line = error.line() + extra_lines;
    let column = error.column();
    match error.classify() {
        serde_json::error::Category::Eof => PlanError::Truncated {
            file: file.to_owned(),
            line,
            column,
        },
        serde_json::error::Category::Data => PlanError::InvalidPlan {
            file: file.to_owned(),
            line,
            column,
            message: strip_position(&error.to_string()),
        },
        _ if error.to_string().starts_with("trailing characters") => PlanError::TrailingData {
            file: file.to_owned(),
            line,
            column,
        },
        _ => PlanError::InvalidJson {
            file: file.to_owned(),
            line,
            column,
            message: strip_position(&error.to_string()),
        },
    }
}

/// `serde_json` appends " at line L column C"; the error variants carry those separately.
fn strip_position(message: &str) -> String {
    message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned()
}

/// What a resource change does, from Terraform's `actions` list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// `["no-op"]`.
    NoOp,
    /// `["read"]`: a data source read during apply.
    Read,
    /// `["create"]`.
    Create,
    /// `["update"]`.
    Update,
    /// `["delete","create"]` or `["create","delete"]`.
    Replace {
        /// `create_before_destroy`.
        create_first: bool,
    },
    /// `["delete"]`.
    Delete,
    /// `["forget"]`: removed from state, left running (a `removed` block with `destroy = false`).
    Forget,
    /// `["create","forget"]`: a new object is created and the old one forgotten.
    CreateThenForget,
    /// An action list this version of Gantry does not know (shown, never dropped).
    Unknown(Vec<String>),
}

impl Action {
    /// Reads Terraform's `actions` list.
    pub fn from_actions<S: AsRef<str>>(actions: &[S]) -> Self {
        let word = |index: usize| actions.get(index).map(AsRef::as_ref);
        match (actions.len(), word(0), word(1)) {
            (0, _, _) | (1, Some("no-op"), _) => Self::NoOp,
            (1, Some("read"), _) => Self::Read,
            (1, Some("create"), _) => Self::Create,
            (1, Some("update"), _) => Self::Update,
            (1, Some("delete"), _) => Self::Delete,
            (1, Some("forget"), _) => Self::Forget,
            (2, Some("delete"), Some("create")) => Self::Replace {
                create_first: false,
            },
            (2, Some("create"), Some("delete")) => Self::Replace { create_first: true },
            (2, Some("create"), Some("forget")) => Self::CreateThenForget,
            _ => Self::Unknown(
                actions
                    .iter()
                    .map(|action| action.as_ref().to_owned())
                    .collect(),
            ),
        }
    }

    /// A short word for tables.
    pub fn word(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Self::NoOp => "no-op",
            Self::Read => "read",
            Self::Create => "create",
            Self::Update => "update",
            Self::Replace {
                create_first: false,
            } => "replace",
            Self::Replace { create_first: true } => "replace (create first)",
            Self::Delete => "destroy",
            Self::Forget => "forget",
            Self::CreateThenForget => "create, forget old",
            Self::Unknown(words) => return Cow::Owned(words.join("+")),
        })
    }

    /// The one-character marker Terraform's own diff uses.
    pub fn symbol(&self) -> &'static str {
        match self {
            Self::NoOp => " ",
            Self::Read => "<=",
            Self::Create => "+",
            Self::Update => "~",
            Self::Replace {
                create_first: false,
            } => "-/+",
            Self::Replace { create_first: true } => "+/-",
            Self::Delete => "-",
            Self::Forget | Self::CreateThenForget => ".",
            Self::Unknown(_) => "?",
        }
    }
}

/// `importing` on a change (Terraform 1.5+).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Importing {
    /// The import id.
    #[serde(default)]
    pub id: Option<String>,
    /// The id is not known until apply.
    #[serde(default)]
    pub unknown: Option<bool>,
}

/// `change` of a resource or output.
#[derive(Debug, Clone, Deserialize)]
pub struct Change<'a> {
    /// Terraform's action words.
    #[serde(default, borrow)]
    pub actions: Box<[Cow<'a, str>]>,
    /// Value before.
    #[serde(default, borrow)]
    pub before: Option<&'a RawValue>,
    /// Value after (unknown parts omitted).
    #[serde(default, borrow)]
    pub after: Option<&'a RawValue>,
    /// Mask of values known only after apply.
    #[serde(default, borrow)]
    pub after_unknown: Option<&'a RawValue>,
    /// Mask of sensitive values before.
    #[serde(default, borrow)]
    pub before_sensitive: Option<&'a RawValue>,
    /// Mask of sensitive values after.
    #[serde(default, borrow)]
    pub after_sensitive: Option<&'a RawValue>,
    /// Attribute paths that force replacement.
    #[serde(default, borrow)]
    pub replace_paths: Option<&'a RawValue>,
    /// Set when the object is being imported.
    #[serde(default)]
    pub importing: Option<Importing>,
    /// HCL Terraform generated for an imported resource (`-generate-config-out`).
    #[serde(default)]
    pub generated_config: Option<String>,
}

/// One entry of `resource_changes` or `resource_drift`. Strings borrow from the plan's text
/// where they can: a 30,000-resource plan should cost little more than its own bytes.
#[derive(Debug, Clone, Deserialize)]
pub struct ResourceChange<'a> {
    /// Full address, `module.x.aws_instance.web[0]`.
    #[serde(borrow)]
    pub address: Cow<'a, str>,
    /// Where it was before a `moved` block.
    #[serde(default, borrow)]
    pub previous_address: Option<Cow<'a, str>>,
    /// `managed` or `data`.
    #[serde(default, borrow)]
    pub mode: Option<Cow<'a, str>>,
    /// Set for a deposed object (a leftover of create-before-destroy).
    #[serde(default, borrow)]
    pub deposed: Option<Cow<'a, str>>,
    /// The change.
    #[serde(borrow)]
    pub change: Change<'a>,
    /// Why Terraform chose this action.
    #[serde(default, borrow)]
    pub action_reason: Option<Cow<'a, str>>,
}

impl ResourceChange<'_> {
    /// The action.
    pub fn action(&self) -> Action {
        Action::from_actions(&self.change.actions)
    }

    /// A data source rather than a managed resource.
    pub fn is_data(&self) -> bool {
        self.mode.as_deref() == Some("data")
    }

    /// The address, with the deposed key when there is one.
    pub fn display_address(&self) -> String {
        match &self.deposed {
            Some(key) => format!("{} (deposed object {key})", self.address),
            None => self.address.to_string(),
        }
    }

    /// Moved by a `moved` block (or a `count`/`for_each` key change).
    pub fn moved_from(&self) -> Option<&str> {
        self.previous_address
            .as_deref()
            .filter(|previous| *previous != self.address)
    }
}

/// An address in `checks`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CheckAddress {
    /// How Terraform displays it.
    #[serde(default)]
    pub to_display: String,
    /// `resource`, `output_value`, `check`, `var`.
    #[serde(default)]
    pub kind: Option<String>,
}

/// A problem a check reported.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CheckProblem {
    /// The condition's error message.
    #[serde(default)]
    pub message: String,
}

/// One instance of a checkable object.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CheckInstance {
    /// Its address.
    #[serde(default)]
    pub address: CheckAddress,
    /// `pass`, `fail`, `error`, `unknown`.
    #[serde(default)]
    pub status: String,
    /// Failure messages.
    #[serde(default)]
    pub problems: Vec<CheckProblem>,
}

/// An entry of `checks` (Terraform 1.5+).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Check {
    /// The checkable object.
    #[serde(default)]
    pub address: CheckAddress,
    /// Aggregate status.
    #[serde(default)]
    pub status: String,
    /// Per instance.
    #[serde(default)]
    pub instances: Vec<CheckInstance>,
}

/// A variable's value in `variables`.
#[derive(Debug, Clone, Deserialize)]
pub struct VariableValue<'a> {
    /// The value.
    #[serde(default, borrow)]
    pub value: Option<&'a RawValue>,
}

/// A Terraform 1.14 action invocation.
#[derive(Debug, Clone, Deserialize)]
pub struct ActionInvocation {
    /// `action.type.name`.
    #[serde(default)]
    pub address: String,
}

/// A change Terraform deferred to a later plan (1.8+).
#[derive(Debug, Clone, Deserialize)]
pub struct DeferredChange<'a> {
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
    /// The change.
    #[serde(borrow)]
    pub resource_change: ResourceChange<'a>,
}

/// A `terraform show -json` plan (or HCP Terraform's redacted plan).
#[derive(Debug, Clone, Deserialize)]
pub struct Plan<'a> {
    /// Plan format (`0.1` … `1.2`).
    #[serde(default)]
    pub format_version: Option<String>,
    /// HCP Terraform's redacted plan format.
    #[serde(default)]
    pub plan_format_version: Option<String>,
    /// Terraform version.
    #[serde(default)]
    pub terraform_version: Option<String>,
    /// Root module variable values.
    #[serde(default, borrow)]
    pub variables: BTreeMap<String, VariableValue<'a>>,
    /// Planned changes.
    #[serde(default, borrow)]
    pub resource_changes: Vec<ResourceChange<'a>>,
    /// Changes made outside Terraform that the plan saw.
    #[serde(default, borrow)]
    pub resource_drift: Vec<ResourceChange<'a>>,
    /// Root output changes.
    #[serde(default, borrow)]
    pub output_changes: BTreeMap<String, Change<'a>>,
    /// The configuration (read for `sensitive` flags only).
    #[serde(default, borrow)]
    pub configuration: Option<&'a RawValue>,
    /// Check results.
    #[serde(default)]
    pub checks: Vec<Check>,
    /// Deferred changes.
    #[serde(default, borrow)]
    pub deferred_changes: Vec<DeferredChange<'a>>,
    /// Action invocations.
    #[serde(default)]
    pub action_invocations: Vec<ActionInvocation>,
    /// Whether the plan can be applied.
    #[serde(default)]
    pub applyable: Option<bool>,
    /// Whether the plan is complete (false with deferred changes or `-target`).
    #[serde(default)]
    pub complete: Option<bool>,
    /// Whether planning failed.
    #[serde(default)]
    pub errored: Option<bool>,
    #[serde(default, borrow)]
    planned_values: Option<&'a RawValue>,
    #[serde(default)]
    prior_state: Option<IgnoredAny>,
    #[serde(default)]
    values: Option<IgnoredAny>,
    #[serde(default)]
    lineage: Option<IgnoredAny>,
    #[serde(default, rename = "@message")]
    log_message: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct ConfigVariable {
    #[serde(default)]
    sensitive: Option<bool>,
}

#[derive(Deserialize)]
struct ConfigOutput {
    #[serde(default)]
    sensitive: Option<bool>,
}

#[derive(Deserialize)]
struct ConfigModule {
    #[serde(default)]
    variables: BTreeMap<String, ConfigVariable>,
    #[serde(default)]
    outputs: BTreeMap<String, ConfigOutput>,
}

#[derive(Deserialize)]
struct Configuration {
    #[serde(default)]
    root_module: Option<ConfigModule>,
}

impl<'a> Plan<'a> {
    /// Parses decoded plan text; `file` names it in errors.
    pub fn parse(file: &str, json: &'a str) -> Result<Self, PlanError> {
        let mut plan: Plan<'a> = match serde_json::from_str(json) {
            Ok(plan) => plan,
            Err(error) => {
                // The log stream is one JSON object a line: the first line parses, then "trailing".
                if let Some(first) = json.lines().next() {
                    if first.contains("\"@message\"") && first.contains("\"@level\"") {
                        return Err(PlanError::NotAPlan {
                            file: file.to_owned(),
                            what: "the `terraform plan -json` log stream".to_owned(),
                            hint: "save the plan with `terraform plan -out=tfplan` and pass `terraform show -json tfplan` output, or the tfplan file itself".to_owned(),
                        });
                    }
                }
                return Err(json_error(file, &error, 0));
            }
        };
        // The lists grew by doubling; give back the unused tail before rendering needs memory.
        plan.resource_changes.shrink_to_fit();
        plan.resource_drift.shrink_to_fit();
        let not_a_plan = |what: &str| PlanError::NotAPlan {
            file: file.to_owned(),
            what: what.to_owned(),
            hint: "pass `terraform show -json <planfile>` output, or the plan file itself"
                .to_owned(),
        };
        if plan.log_message.is_some() {
            return Err(not_a_plan(
                "a line of the `terraform plan -json` log stream",
            ));
        }
        if plan.lineage.is_some() {
            return Err(not_a_plan("a raw Terraform state file (.tfstate)"));
        }
        let looks_like_plan = plan.plan_format_version.is_some()
            || plan.planned_values.is_some()
            || !plan.resource_changes.is_empty()
            || !plan.output_changes.is_empty()
            || plan.prior_state.is_some()
            || plan.configuration.is_some();
        if !looks_like_plan {
            return Err(not_a_plan(
                if plan.values.is_some() || plan.format_version.is_some() {
                    "a Terraform state (`terraform show -json` of a state)"
                } else {
                    "JSON without any plan content"
                },
            ));
        }
        Ok(plan)
    }

    /// Names of root variables and outputs declared `sensitive = true`.
    pub fn sensitive_declarations(&self) -> (Vec<String>, Vec<String>) {
        let Some(configuration) = self.configuration else {
            return (Vec::new(), Vec::new());
        };
        let Ok(Configuration {
            root_module: Some(module),
        }) = serde_json::from_str::<Configuration>(configuration.get())
        else {
            return (Vec::new(), Vec::new());
        };
        let variables = module
            .variables
            .into_iter()
            .filter(|(_, variable)| variable.sensitive == Some(true))
            .map(|(name, _)| name)
            .collect();
        let outputs = module
            .outputs
            .into_iter()
            .filter(|(_, output)| output.sensitive == Some(true))
            .map(|(name, _)| name)
            .collect();
        (variables, outputs)
    }

    /// Whether this is HCP Terraform's redacted plan format.
    pub fn is_redacted_format(&self) -> bool {
        self.plan_format_version.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<usize, PlanError> {
        let text = decode("plan.json", bytes)?;
        let plan = Plan::parse("plan.json", &text.json)?;
        Ok(plan.resource_changes.len())
    }

    #[test]
    fn actions_cover_every_terraform_action() {
        let actions = |words: &[&str]| {
            Action::from_actions(&words.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>())
        };
        assert_eq!(
            actions(&["delete", "create"]),
            Action::Replace {
                create_first: false
            }
        );
        assert_eq!(
            actions(&["create", "delete"]),
            Action::Replace { create_first: true }
        );
        assert_eq!(actions(&["forget"]), Action::Forget);
        assert_eq!(actions(&["create", "forget"]), Action::CreateThenForget);
        assert_eq!(
            actions(&["teleport"]),
            Action::Unknown(vec!["teleport".into()])
        );
    }

    #[test]
    fn bad_inputs_name_the_file_and_the_place() {
        assert_eq!(
            read(b"  \n"),
            Err(PlanError::Empty {
                file: "plan.json".into()
            })
        );
        let truncated =
            read(b"{\"format_version\":\"1.2\",\"resource_changes\":[{\"address\":").unwrap_err();
        assert!(
            matches!(truncated, PlanError::Truncated { line: 1, .. }),
            "{truncated}"
        );
        let trailing = read(b"{\"format_version\":\"1.2\",\"planned_values\":{}}\n{}").unwrap_err();
        assert!(
            matches!(
                trailing,
                PlanError::TrailingData {
                    line: 2,
                    column: 1,
                    ..
                }
            ),
            "{trailing}"
        );
        let shape = read(b"{\"format_version\":\"1.2\",\"resource_changes\":[{\"address\":1}]}")
            .unwrap_err();
        assert!(
            shape
                .to_string()
                .starts_with("plan.json: not a valid plan at line 1"),
            "{shape}"
        );
        let state = read(b"{\"format_version\":\"1.0\",\"values\":{}}").unwrap_err();
        assert!(state.to_string().contains("a Terraform state"), "{state}");
        let text = read(b"Terraform will perform the following actions:\n").unwrap_err();
        assert!(
            text.to_string().contains("human-readable plan text"),
            "{text}"
        );
        let binary = read(b"PK\x03\x04rest").unwrap_err();
        assert!(binary.to_string().contains("binary plan"), "{binary}");
    }

    #[test]
    fn utf16_and_wrapper_output_are_read() {
        let json = "{\"format_version\":\"1.2\",\"resource_changes\":[]}";
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(json.encode_utf16().flat_map(u16::to_le_bytes));
        let text = decode("p.json", &utf16).unwrap();
        assert_eq!(text.json, json);
        assert_eq!(text.warnings.len(), 1);

        let wrapped = format!(
            "[command]/tmp/terraform-bin show -json tfplan\n{json}%0A\n::debug::exitcode: 0\n::set-output name=exitcode::0\n"
        );
        let text = decode("p.json", wrapped.as_bytes()).unwrap();
        assert_eq!(text.json, json);
        assert!(text.warnings[0].contains("setup-terraform"));
    }
}
