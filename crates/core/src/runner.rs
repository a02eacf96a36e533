//! The GitHub Actions runner contract, as values.
//!
//! The runner hands an action its inputs as `INPUT_<NAME>` environment variables, reads
//! outputs back from the file named by `GITHUB_OUTPUT`, shows the file named by
//! `GITHUB_STEP_SUMMARY` on the run page, and scans the step's log for workflow commands
//! (`::error file=…::message`). This module models each of those without touching the
//! environment or a file: the caller passes the environment as a map and writes the rendered text.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

/// The most the runner accepts in one step summary; over it the runner drops the whole summary.
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;

/// A step summary the runner will accept: over [`STEP_SUMMARY_LIMIT`] the runner drops the whole
/// summary, so a longer one is cut at a line boundary with a note. (Actions render their summary
/// with [`crate::markdown::Document::render_within`] and stay within the limit; this is the last
/// guard.)
pub fn fit_step_summary(summary: &str) -> std::borrow::Cow<'_, str> {
    const NOTE: &str = "\n\n> [!NOTE]\n> The summary was cut to the runner's 1 MiB limit.\n";
    if summary.len() <= STEP_SUMMARY_LIMIT {
        return std::borrow::Cow::Borrowed(summary);
    }
    let mut end = STEP_SUMMARY_LIMIT - NOTE.len();
    while !summary.is_char_boundary(end) {
        end -= 1;
    }
    let end = summary[..end].rfind('\n').unwrap_or(end);
    std::borrow::Cow::Owned(format!("{}{NOTE}", &summary[..end]))
}

/// A problem with one input, named as the workflow author wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A required input was absent or blank.
    #[error(
        "input `{name}` is required (set `with: {name}: …`, or `--{name}` when running locally)"
    )]
    Missing {
        /// The input's declared name.
        name: String,
    },
    /// A boolean input held something other than the six YAML 1.2 core-schema spellings.
    #[error(
        "input `{name}` must be a boolean (true, True, TRUE, false, False or FALSE), got `{value}`"
    )]
    NotBoolean {
        /// The input's declared name.
        name: String,
        /// What the workflow passed.
        value: String,
    },
    /// A choice input held a value outside its allowed set.
    #[error("input `{name}` must be one of {allowed}, got `{value}`")]
    NotOneOf {
        /// The input's declared name.
        name: String,
        /// What the workflow passed.
        value: String,
        /// The allowed values, already joined for the message.
        allowed: String,
    },
    /// A numeric input did not parse, or fell outside its range.
    #[error("input `{name}` must be {expected}, got `{value}`")]
    NotANumber {
        /// The input's declared name.
        name: String,
        /// What the workflow passed.
        value: String,
        /// What a valid value looks like.
        expected: String,
    },
}

/// The environment variable the runner uses for an input: `INPUT_` + the name upper-cased, with
/// spaces replaced by `_` and hyphens kept (`fail-on` → `INPUT_FAIL-ON`).
pub fn input_variable_name(name: &str) -> String {
    let mut variable = String::with_capacity(name.len() + 6);
    variable.push_str("INPUT_");
    for character in name.chars() {
        if character == ' ' {
            variable.push('_');
        } else {
            variable.extend(character.to_uppercase());
        }
    }
    variable
}

/// The inputs of one step, read the way `@actions/core` reads them.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    variables: BTreeMap<String, String>,
}

/// A finite number as inputs write it (`80`, `80%`, ` 0.5 `).
fn parse_number(value: &str) -> Option<f64> {
    value
        .trim_end_matches('%')
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|number| number.is_finite())
}

impl Inputs {
    /// Keeps the `INPUT_*` variables of an environment (everything else is ignored).
    pub fn from_environment<I, K, V>(environment: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let variables = environment
            .into_iter()
            .map(|(key, value)| (key.into(), value.into()))
            .filter(|(key, _)| key.starts_with("INPUT_"))
            .collect();
        Self { variables }
    }

    /// Sets an input by its declared name, as a local `--<name>` flag does.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.variables
            .insert(input_variable_name(name), value.into());
    }

    /// The trimmed value, or `None` when the input is absent or blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        self.variables
            .get(&input_variable_name(name))
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    }

    /// The trimmed value of an input that must be present.
    pub fn required(&self, name: &str) -> Result<String, InputError> {
        self.optional(name).ok_or_else(|| InputError::Missing {
            name: name.to_owned(),
        })
    }

    /// A strict YAML 1.2 core-schema boolean; absent or blank gives `default`.
    pub fn boolean(&self, name: &str, default: bool) -> Result<bool, InputError> {
        match self.optional(name).as_deref() {
            None => Ok(default),
            Some("true" | "True" | "TRUE") => Ok(true),
            Some("false" | "False" | "FALSE") => Ok(false),
            Some(other) => Err(InputError::NotBoolean {
                name: name.to_owned(),
                value: other.to_owned(),
            }),
        }
    }

    /// Checks every input the way its spec declares it, once, before an action reads them: a
    /// required input is present, a choice is one of its words, a boolean is one of the six
    /// spellings, a number parses. The first problem, in the order the inputs are documented.
    pub fn check(&self, specs: &[crate::action::InputSpec]) -> Result<(), InputError> {
        use crate::action::InputKind;
        for spec in specs {
            if spec.required && self.optional(spec.name).is_none() {
                return Err(InputError::Missing {
                    name: spec.name.to_owned(),
                });
            }
            match spec.kind {
                InputKind::Choice(_) => {
                    self.chosen(spec)?;
                }
                InputKind::Boolean => {
                    self.flag(spec)?;
                }
                InputKind::Number => {
                    // The range is the action's to say; here only that it is a number.
                    if let Some(value) = self.optional(spec.name) {
                        if parse_number(&value).is_none() {
                            return Err(InputError::NotANumber {
                                name: spec.name.to_owned(),
                                value,
                                expected: "a number".to_owned(),
                            });
                        }
                    }
                }
                InputKind::Text | InputKind::List | InputKind::Secret => {}
            }
        }
        Ok(())
    }

    /// A choice input's word, read by its spec: its words and its default are the ones the
    /// `action.yml` documents.
    ///
    /// # Panics
    /// When the spec is not a choice (a programming error).
    pub fn chosen(&self, spec: &crate::action::InputSpec) -> Result<String, InputError> {
        let crate::action::InputKind::Choice(words) = spec.kind else {
            panic!("input `{}` is not a choice", spec.name);
        };
        self.choice(spec.name, words, spec.default.unwrap_or_default())
    }

    /// A boolean input, read by its spec (its documented default when absent).
    pub fn flag(&self, spec: &crate::action::InputSpec) -> Result<bool, InputError> {
        self.boolean(spec.name, spec.default == Some("true"))
    }

    /// One of a fixed set of words; absent or blank gives `default`.
    pub fn choice(
        &self,
        name: &str,
        allowed: &[&str],
        default: &str,
    ) -> Result<String, InputError> {
        let value = self.optional(name).unwrap_or_else(|| default.to_owned());
        if allowed.contains(&value.as_str()) {
            Ok(value)
        } else {
            Err(InputError::NotOneOf {
                name: name.to_owned(),
                value,
                allowed: allowed
                    .iter()
                    .map(|word| format!("`{word}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        }
    }

    /// A finite number within `range`; absent or blank gives `None`.
    pub fn number(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<f64>,
    ) -> Result<Option<f64>, InputError> {
        let Some(value) = self.optional(name) else {
            return Ok(None);
        };
        match parse_number(&value) {
            Some(number) if range.contains(&number) => Ok(Some(number)),
            _ => Err(InputError::NotANumber {
                name: name.to_owned(),
                value,
                expected: format!("a number from {} to {}", range.start(), range.end()),
            }),
        }
    }

    /// A multi-line list: one item a line, each trimmed, blank lines dropped (as
    /// `core.getMultilineInput` does). Absent gives an empty list.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.optional(name)
            .map(|value| {
                value
                    .lines()
                    .map(str::trim)
                    .filter(|line| !line.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Why outputs could not be rendered for `GITHUB_OUTPUT`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputError {
    /// A name or value contains the heredoc delimiter, which would let it forge other outputs.
    #[error("output `{name}` contains the output delimiter; refusing to write it")]
    ContainsDelimiter {
        /// The output's name.
        name: String,
    },
    /// An output name is empty or has characters the runner does not accept in names.
    #[error("output name `{name}` is not a valid name (letters, digits, `-` and `_` only)")]
    InvalidName {
        /// The offending name.
        name: String,
    },
    /// The delimiter is too short or has a line break, so it cannot protect anything.
    #[error("the output delimiter must be at least 16 characters with no line break")]
    WeakDelimiter,
}

/// Step outputs in the order the action set them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Outputs(Vec<(String, String)>);

impl Outputs {
    /// Sets an output, replacing an earlier value of the same name.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        if let Some(slot) = self.0.iter_mut().find(|(existing, _)| existing == name) {
            slot.1 = value;
        } else {
            self.0.push((name.to_owned(), value));
        }
    }

    /// The value of an output, if set.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(existing, _)| existing == name)
            .map(|(_, value)| value.as_str())
    }

    /// All outputs, in the order they were first set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// Renders `name<<DELIMITER\nvalue\nDELIMITER\n` blocks for `GITHUB_OUTPUT`.
    ///
    /// The caller supplies a fresh random `delimiter` (this crate has no randomness); a name or
    /// value containing it is refused rather than written, because it could end the block early
    /// and set outputs the action never meant to set.
    pub fn render_github_output(&self, delimiter: &str) -> Result<String, OutputError> {
        if delimiter.len() < 16 || delimiter.contains(['\n', '\r']) {
            return Err(OutputError::WeakDelimiter);
        }
        let mut rendered = String::new();
        for (name, value) in &self.0 {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(OutputError::InvalidName { name: name.clone() });
            }
            if value.contains(delimiter) {
                return Err(OutputError::ContainsDelimiter { name: name.clone() });
            }
            let _ = write!(rendered, "{name}<<{delimiter}\n{value}\n{delimiter}\n");
        }
        Ok(rendered)
    }

    /// Reads back what [`Outputs::render_github_output`] (or the runner's own toolkit) wrote:
    /// heredoc blocks and plain `name=value` lines.
    pub fn parse_github_output(text: &str) -> Self {
        let mut outputs = Self::default();
        let mut lines = text.split('\n');
        while let Some(line) = lines.next() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if let Some((name, delimiter)) = line.split_once("<<") {
                let mut value = Vec::new();
                for body_line in lines.by_ref() {
                    let body_line = body_line.strip_suffix('\r').unwrap_or(body_line);
                    if body_line == delimiter {
                        break;
                    }
                    value.push(body_line);
                }
                outputs.set(name, value.join("\n"));
            } else if let Some((name, value)) = line.split_once('=') {
                outputs.set(name, value);
            }
        }
        outputs
    }
}

/// How loud an annotation is; the runner's three workflow-command levels.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum AnnotationLevel {
    /// `::notice`
    Notice,
    /// `::warning`
    Warning,
    /// `::error`
    Error,
}

impl AnnotationLevel {
    /// The workflow-command name.
    pub fn command(self) -> &'static str {
        match self {
            Self::Notice => "notice",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// Where an annotation points. Paths are workspace-relative.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AnnotationPlace {
    /// Workspace-relative file path.
    pub file: Option<String>,
    /// First line, 1-based.
    pub line: Option<u32>,
    /// Last line, 1-based.
    pub end_line: Option<u32>,
    /// First column, 1-based.
    pub column: Option<u32>,
    /// Last column, 1-based.
    pub end_column: Option<u32>,
    /// Short title shown above the message.
    pub title: Option<String>,
}

/// A workflow command, as the runner reads it from a step's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkflowCommand {
    /// `::error|warning|notice key=value,…::message`
    Annotation {
        /// Which of the three.
        level: AnnotationLevel,
        /// File, lines, columns and title.
        place: AnnotationPlace,
        /// The text shown.
        message: String,
    },
    /// `::group::title` — folds the following log lines.
    Group(String),
    /// `::endgroup::`
    EndGroup,
    /// `::add-mask::value` — the runner replaces the value with `***` in every later log line.
    AddMask(String),
    /// `::debug::message`
    Debug(String),
    /// `::stop-commands::token` — the runner ignores commands until `::token::`; use it around
    /// untrusted text that must be logged verbatim.
    StopCommands(String),
    /// `::token::` — resumes command processing after [`WorkflowCommand::StopCommands`].
    ResumeCommands(String),
}

/// Escapes a command's message the way `@actions/core` does (`%`, CR, LF).
fn escape_command_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property value: the data escapes plus `:` and `,`.
fn escape_command_property(text: &str) -> String {
    escape_command_data(text)
        .replace(':', "%3A")
        .replace(',', "%2C")
}

impl fmt::Display for WorkflowCommand {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Annotation {
                level,
                place,
                message,
            } => {
                let mut properties = Vec::new();
                let mut add = |key: &str, value: Option<String>| {
                    if let Some(value) = value {
                        properties.push(format!("{key}={}", escape_command_property(&value)));
                    }
                };
                add("file", place.file.clone());
                add("line", place.line.map(|n| n.to_string()));
                add("endLine", place.end_line.map(|n| n.to_string()));
                add("col", place.column.map(|n| n.to_string()));
                add("endColumn", place.end_column.map(|n| n.to_string()));
                add("title", place.title.clone());
                let separator = if properties.is_empty() { "" } else { " " };
                write!(
                    formatter,
                    "::{}{separator}{}::{}",
                    level.command(),
                    properties.join(","),
                    escape_command_data(message)
                )
            }
            Self::Group(title) => write!(formatter, "::group::{}", escape_command_data(title)),
            Self::EndGroup => formatter.write_str("::endgroup::"),
            Self::AddMask(value) => write!(formatter, "::add-mask::{}", escape_command_data(value)),
            Self::Debug(message) => write!(formatter, "::debug::{}", escape_command_data(message)),
            Self::StopCommands(token) => write!(formatter, "::stop-commands::{token}"),
            Self::ResumeCommands(token) => write!(formatter, "::{token}::"),
        }
    }
}

/// The job's context as the runner sets it in the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunnerContext {
    /// `GITHUB_ACTIONS=true`: running inside a workflow.
    pub in_actions: bool,
    /// `GITHUB_REPOSITORY` (`owner/name`).
    pub repository: Option<String>,
    /// `GITHUB_SHA`.
    pub sha: Option<String>,
    /// `GITHUB_REF`.
    pub git_ref: Option<String>,
    /// `GITHUB_EVENT_NAME`.
    pub event_name: Option<String>,
    /// `GITHUB_EVENT_PATH`.
    pub event_path: Option<String>,
    /// `GITHUB_WORKFLOW`.
    pub workflow: Option<String>,
    /// `GITHUB_JOB`.
    pub job: Option<String>,
    /// `GITHUB_RUN_ID`.
    pub run_id: Option<String>,
    /// `GITHUB_RUN_ATTEMPT`.
    pub run_attempt: Option<String>,
    /// `GITHUB_SERVER_URL`, default `https://github.com`.
    pub server_url: String,
    /// `GITHUB_API_URL`, default `https://api.github.com`.
    pub api_url: String,
    /// `GITHUB_GRAPHQL_URL`, default `https://api.github.com/graphql`.
    pub graphql_url: String,
    /// `GITHUB_WORKSPACE`.
    pub workspace: Option<String>,
    /// `GITHUB_OUTPUT`.
    pub output_path: Option<String>,
    /// `GITHUB_STEP_SUMMARY`.
    pub step_summary_path: Option<String>,
    /// `RUNNER_DEBUG=1`.
    pub debug: bool,
}

impl RunnerContext {
    /// Reads the context out of an environment map. Blank variables count as absent.
    pub fn from_environment(environment: &BTreeMap<String, String>) -> Self {
        let get = |key: &str| {
            environment
                .get(key)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let api_url = get("GITHUB_API_URL")
            .unwrap_or_else(|| "https://api.github.com".to_owned())
            .trim_end_matches('/')
            .to_owned();
        let graphql_url = get("GITHUB_GRAPHQL_URL").unwrap_or_else(|| {
            // GHES serves REST at /api/v3 and GraphQL at /api/graphql.
            api_url.strip_suffix("/v3").map_or_else(
                || format!("{api_url}/graphql"),
                |base| format!("{base}/graphql"),
            )
        });
        Self {
            in_actions: get("GITHUB_ACTIONS").as_deref() == Some("true"),
            repository: get("GITHUB_REPOSITORY"),
            sha: get("GITHUB_SHA"),
            git_ref: get("GITHUB_REF"),
            event_name: get("GITHUB_EVENT_NAME"),
            event_path: get("GITHUB_EVENT_PATH"),
            workflow: get("GITHUB_WORKFLOW"),
            job: get("GITHUB_JOB"),
            run_id: get("GITHUB_RUN_ID"),
            run_attempt: get("GITHUB_RUN_ATTEMPT"),
            server_url: get("GITHUB_SERVER_URL")
                .unwrap_or_else(|| "https://github.com".to_owned())
                .trim_end_matches('/')
                .to_owned(),
            api_url,
            graphql_url,
            workspace: get("GITHUB_WORKSPACE"),
            output_path: get("GITHUB_OUTPUT"),
            step_summary_path: get("GITHUB_STEP_SUMMARY"),
            debug: get("RUNNER_DEBUG").as_deref() == Some("1"),
        }
    }

    /// `GITHUB_WORKFLOW/GITHUB_JOB` (`local` for either outside Actions): what tells one job's
    /// sticky comment from another's, so two jobs running the same action keep one each.
    pub fn workflow_and_job(&self) -> String {
        format!(
            "{}/{}",
            self.workflow.as_deref().unwrap_or("local"),
            self.job.as_deref().unwrap_or("local")
        )
    }

    /// `owner` and `name` of `GITHUB_REPOSITORY`, when it has that shape.
    pub fn owner_and_name(&self) -> Option<(&str, &str)> {
        let (owner, name) = self.repository.as_deref()?.split_once('/')?;
        (!owner.is_empty() && !name.is_empty() && !name.contains('/')).then_some((owner, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_names_are_mangled_like_the_runner() {
        assert_eq!(input_variable_name("fail-on"), "INPUT_FAIL-ON");
        assert_eq!(input_variable_name("my input"), "INPUT_MY_INPUT");
        assert_eq!(input_variable_name("github-token"), "INPUT_GITHUB-TOKEN");
    }

    #[test]
    fn inputs_are_trimmed_and_blank_means_absent() {
        let inputs = Inputs::from_environment([
            ("INPUT_PLAN", "  plan.json \n"),
            ("INPUT_COMMENT", "   "),
            ("PATH", "/bin"),
        ]);
        assert_eq!(inputs.optional("plan").as_deref(), Some("plan.json"));
        assert_eq!(inputs.optional("comment"), None);
        assert_eq!(
            inputs.required("comment"),
            Err(InputError::Missing {
                name: "comment".into()
            })
        );
        assert_eq!(
            inputs.optional("path"),
            None,
            "only INPUT_ variables are inputs"
        );
    }

    #[test]
    fn booleans_accept_exactly_the_yaml_core_spellings() {
        for (value, expected) in [
            ("true", true),
            ("True", true),
            ("TRUE", true),
            ("false", false),
            ("False", false),
            ("FALSE", false),
        ] {
            let inputs = Inputs::from_environment([("INPUT_FAIL-ON-DESTROY", value)]);
            assert_eq!(inputs.boolean("fail-on-destroy", !expected), Ok(expected));
        }
        for value in ["yes", "on", "1", "tRue", "y"] {
            let inputs = Inputs::from_environment([("INPUT_FAIL-ON-DESTROY", value)]);
            let error = inputs.boolean("fail-on-destroy", false).unwrap_err();
            assert!(error.to_string().contains("`fail-on-destroy`"), "{error}");
            assert!(error.to_string().contains(value), "{error}");
        }
        assert_eq!(Inputs::default().boolean("x", true), Ok(true));
    }

    #[test]
    fn lists_split_lines_and_drop_blanks() {
        let inputs =
            Inputs::from_environment([("INPUT_REPORTS", "a.sarif\n\n  b/*.json  \r\nc\n")]);
        assert_eq!(inputs.list("reports"), ["a.sarif", "b/*.json", "c"]);
        assert!(inputs.list("missing").is_empty());
    }

    #[test]
    fn choices_and_numbers_name_the_input() {
        let inputs = Inputs::from_environment([("INPUT_FAIL-ON", "severe"), ("INPUT_MIN", "80%")]);
        let error = inputs
            .choice("fail-on", &["high", "low"], "high")
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "input `fail-on` must be one of `high`, `low`, got `severe`"
        );
        assert_eq!(inputs.number("min", 0.0..=100.0), Ok(Some(80.0)));
        assert!(inputs.number("fail-on", 0.0..=100.0).is_err());
    }

    #[test]
    fn outputs_render_as_heredocs_and_refuse_the_delimiter() {
        let delimiter = "ghadelimiter_0123456789abcdef";
        let mut outputs = Outputs::default();
        outputs.set("result", "passed");
        outputs.set("multi", "line one\nline two");
        outputs.set("result", "failed");
        let rendered = outputs.render_github_output(delimiter).unwrap();
        assert_eq!(
            rendered,
            format!(
                "result<<{delimiter}\nfailed\n{delimiter}\nmulti<<{delimiter}\nline one\nline two\n{delimiter}\n"
            )
        );
        assert_eq!(Outputs::parse_github_output(&rendered), outputs);

        outputs.set("evil", format!("x\n{delimiter}\nresult=passed"));
        assert_eq!(
            outputs.render_github_output(delimiter),
            Err(OutputError::ContainsDelimiter {
                name: "evil".into()
            })
        );
        assert_eq!(
            Outputs::default().render_github_output("short"),
            Err(OutputError::WeakDelimiter)
        );
    }

    #[test]
    fn workflow_commands_escape_like_the_toolkit() {
        let command = WorkflowCommand::Annotation {
            level: AnnotationLevel::Error,
            place: AnnotationPlace {
                file: Some("src/a,b:c.rs".into()),
                line: Some(3),
                end_line: Some(4),
                column: Some(1),
                end_column: Some(9),
                title: Some("50% done, really".into()),
            },
            message: "first\nsecond\r\n::warning::forged 100%".into(),
        };
        assert_eq!(
            command.to_string(),
            "::error file=src/a%2Cb%3Ac.rs,line=3,endLine=4,col=1,endColumn=9,title=50%25 done%2C really::first%0Asecond%0D%0A::warning::forged 100%25"
        );
        assert_eq!(
            WorkflowCommand::AddMask("s3cr%t\nx".into()).to_string(),
            "::add-mask::s3cr%25t%0Ax"
        );
        assert_eq!(
            WorkflowCommand::Annotation {
                level: AnnotationLevel::Notice,
                place: AnnotationPlace::default(),
                message: "plain".into()
            }
            .to_string(),
            "::notice::plain"
        );
        assert_eq!(WorkflowCommand::Group("g".into()).to_string(), "::group::g");
        assert_eq!(WorkflowCommand::EndGroup.to_string(), "::endgroup::");
    }

    #[test]
    fn step_summaries_stay_under_the_runner_cap() {
        assert_eq!(fit_step_summary("short"), "short");
        let long = "ünïcode line\n".repeat(100_000);
        let fitted = fit_step_summary(&long);
        assert!(fitted.len() <= STEP_SUMMARY_LIMIT, "{}", fitted.len());
        assert!(fitted.ends_with("cut to the runner's 1 MiB limit.\n"));
        assert!(fitted.starts_with("ünïcode line\nünïcode line\n"));
    }

    #[test]
    fn context_defaults_and_ghes_graphql_url() {
        let mut environment = BTreeMap::new();
        environment.insert("GITHUB_REPOSITORY".to_owned(), "octo/repo".to_owned());
        let context = RunnerContext::from_environment(&environment);
        assert_eq!(context.api_url, "https://api.github.com");
        assert_eq!(context.graphql_url, "https://api.github.com/graphql");
        assert_eq!(context.owner_and_name(), Some(("octo", "repo")));
        assert!(!context.in_actions);

        environment.insert(
            "GITHUB_API_URL".to_owned(),
            "https://ghe.example.com/api/v3/".to_owned(),
        );
        let context = RunnerContext::from_environment(&environment);
        assert_eq!(context.api_url, "https://ghe.example.com/api/v3");
        assert_eq!(context.graphql_url, "https://ghe.example.com/api/graphql");
    }

    #[test]
    fn inputs_are_checked_by_their_specs_once() {
        use crate::action::{InputKind, InputSpec};
        const SPECS: [InputSpec; 4] = [
            InputSpec {
                name: "plan",
                description: "",
                required: true,
                default: None,
                kind: InputKind::List,
            },
            InputSpec {
                name: "comment",
                description: "",
                required: false,
                default: Some("update"),
                kind: InputKind::Choice(&["update", "off"]),
            },
            InputSpec {
                name: "upload",
                description: "",
                required: false,
                default: Some("true"),
                kind: InputKind::Boolean,
            },
            InputSpec {
                name: "min",
                description: "",
                required: false,
                default: None,
                kind: InputKind::Number,
            },
        ];
        let check = |pairs: &[(&str, &str)]| {
            Inputs::from_environment(pairs.iter().copied())
                .check(&SPECS)
                .map_err(|error| error.to_string())
        };
        assert_eq!(
            check(&[]),
            Err(
                "input `plan` is required (set `with: plan: …`, or `--plan` when running locally)"
                    .to_owned()
            )
        );
        assert_eq!(
            check(&[("INPUT_PLAN", "  \n ")]).unwrap_err(),
            check(&[]).unwrap_err()
        );
        assert_eq!(check(&[("INPUT_PLAN", "a.json")]), Ok(()));
        assert_eq!(
            check(&[("INPUT_PLAN", "a.json"), ("INPUT_COMMENT", "sometimes")]),
            Err("input `comment` must be one of `update`, `off`, got `sometimes`".to_owned())
        );
        assert!(
            check(&[("INPUT_PLAN", "a"), ("INPUT_UPLOAD", "yes")])
                .unwrap_err()
                .contains("must be a boolean")
        );
        assert!(
            check(&[("INPUT_PLAN", "a"), ("INPUT_MIN", "NaN")])
                .unwrap_err()
                .contains("must be a number")
        );
        assert_eq!(check(&[("INPUT_PLAN", "a"), ("INPUT_MIN", "80%")]), Ok(()));
        let inputs = Inputs::default();
        assert_eq!(
            inputs.chosen(&SPECS[1]),
            Ok("update".to_owned()),
            "the documented default"
        );
        assert_eq!(inputs.flag(&SPECS[2]), Ok(true), "the documented default");
    }
}
