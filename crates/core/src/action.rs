//! The action registry: each action's inputs and outputs, declared once.
//!
//! `actions/<action>/action.yml`, the `gantry <action> --<input>` flags and the README tables are
//! all generated from these declarations (`cargo xtask codegen`), and CI fails when the checked-in
//! files drift from them.

use std::fmt::Write as _;

/// What kind of value an input takes; decides how it is parsed and documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Free text.
    Text,
    /// `true`/`false` in the six YAML 1.2 spellings.
    Boolean,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// One item a line.
    List,
    /// A number.
    Number,
    /// A secret: masked, never printed.
    Secret,
}

/// One input of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputSpec {
    /// The name in `with:` (kebab-case).
    pub name: &'static str,
    /// One or two sentences for the workflow author.
    pub description: &'static str,
    /// Whether the step fails without it.
    pub required: bool,
    /// The default the runner fills in (may be an expression such as `${{ github.token }}`).
    pub default: Option<&'static str>,
    /// How it is parsed.
    pub kind: InputKind,
}

impl InputSpec {
    /// An input, in the order the fields are documented (for long `const` tables of them).
    #[must_use]
    pub const fn new(
        name: &'static str,
        description: &'static str,
        required: bool,
        default: Option<&'static str>,
        kind: InputKind,
    ) -> Self {
        Self {
            name,
            description,
            required,
            default,
            kind,
        }
    }
}

/// One output of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputSpec {
    /// The name in `steps.<id>.outputs.<name>`.
    pub name: &'static str,
    /// What it holds.
    pub description: &'static str,
}

/// An action's declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionSpec {
    /// Subcommand and folder name (`terraform-plan`).
    pub name: &'static str,
    /// The `name:` shown in the marketplace.
    pub title: &'static str,
    /// One sentence.
    pub description: &'static str,
    /// Inputs, in the order they are documented.
    pub inputs: &'static [InputSpec],
    /// Outputs, in the order they are documented.
    pub outputs: &'static [OutputSpec],
}

/// The `result` output every action has.
pub const RESULT_OUTPUT: OutputSpec = OutputSpec {
    name: "result",
    description: "`passed`, `failed` (the gate said no), `invalid-input` or `service-error`.",
};

/// The `github-token` input every publishing action has.
pub const GITHUB_TOKEN_INPUT: InputSpec = InputSpec {
    name: "github-token",
    description: "Token used for what the action writes to GitHub (comments, check runs, SARIF uploads, issues, deployment statuses). Needs only the permissions the chosen effects use.",
    required: false,
    default: Some("${{ github.token }}"),
    kind: InputKind::Secret,
};

/// The `comment-author` input of every action that keeps a sticky comment or an issue.
pub const COMMENT_AUTHOR_INPUT: InputSpec = InputSpec {
    name: "comment-author",
    description: "The login Gantry's comments and issues are written as, where Gantry cannot learn it from the token (GraphQL `viewer`, then `GET /user`): e.g. `my-app[bot]`. Only a marked comment or issue by this account is edited, merged or minimized; one by anyone else is left alone with a warning. Empty: ask GitHub (`github-actions[bot]` for the Actions token).",
    required: false,
    default: None,
    kind: InputKind::Text,
};

/// The launcher's own input, on every action: where to download the release archive from
/// instead of the action's GitHub release. The launcher reads it; gantry never sees a use for it.
pub const BINARY_URL_INPUT: InputSpec = InputSpec {
    name: "binary-url",
    description: "Where to download gantry's release archive (`gantry-<version>-<target>.tar.gz`) from instead of this action's GitHub release: a mirror, an artifact store or a GHES without GitHub Connect. The archive is checked against the SHA-256 committed with the action all the same.",
    required: false,
    default: None,
    kind: InputKind::Text,
};

/// The entry file of every `actions/<name>/`: runs the one launcher with the action's subcommand.
pub const ENTRY_FILE: &str = "main.mjs";

/// A YAML double-quoted scalar. YAML 1.2 is a superset of JSON, so a JSON string is one.
fn yaml_string(value: &str) -> String {
    serde_json::Value::String(value.to_owned()).to_string()
}

impl ActionSpec {
    /// The input named `name`.
    pub fn input(&self, name: &str) -> Option<&InputSpec> {
        self.inputs.iter().find(|input| input.name == name)
    }

    /// The declared input of that name, for reading it by its spec.
    ///
    /// # Panics
    /// When the action declares no such input: a programming error, caught by every test that
    /// reads the action's options.
    pub fn declared(&self, name: &str) -> &InputSpec {
        self.input(name)
            .unwrap_or_else(|| panic!("{} declares no input `{name}`", self.name))
    }

    /// The inputs `action.yml` declares: the action's own, then the launcher's.
    fn declared_inputs(&self) -> impl Iterator<Item = &InputSpec> {
        self.inputs.iter().chain([&BINARY_URL_INPUT])
    }

    /// `action.yml` for `actions/<name>/`: a node24 action whose entry ([`Self::entry_mjs`])
    /// runs the release binary on the runner itself.
    pub fn action_yml(&self) -> String {
        let mut yml = String::new();
        let _ = writeln!(
            yml,
            "# Generated by `cargo xtask codegen` from crates/cli/src/registry.rs: do not edit."
        );
        let _ = writeln!(yml, "name: {}", yaml_string(self.title));
        let _ = writeln!(yml, "description: {}", yaml_string(self.description));
        let _ = writeln!(yml, "author: Gantry");
        let _ = writeln!(yml, "branding:\n  icon: shield\n  color: blue");
        let _ = writeln!(yml, "inputs:");
        for input in self.declared_inputs() {
            let _ = writeln!(yml, "  {}:", input.name);
            let _ = writeln!(
                yml,
                "    description: {}",
                yaml_string(&input_description(input))
            );
            let _ = writeln!(yml, "    required: {}", input.required);
            if let Some(default) = input.default {
                let _ = writeln!(yml, "    default: {}", yaml_string(default));
            }
        }
        let _ = writeln!(yml, "outputs:");
        for output in self.outputs {
            let _ = writeln!(yml, "  {}:", output.name);
            let _ = writeln!(yml, "    description: {}", yaml_string(output.description));
        }
        let _ = writeln!(
            yml,
            "runs:\n  using: node24\n  main: {}",
            yaml_string(ENTRY_FILE)
        );
        yml
    }

    /// `actions/<name>/main.mjs`: the launcher, told which subcommand to run.
    pub fn entry_mjs(&self) -> String {
        format!(
            "// Generated by `cargo xtask codegen` from crates/cli/src/registry.rs: do not edit.\n\
             import {{ main }} from \"../../launcher/gantry.mjs\";\n\
             await main({});\n",
            yaml_string(self.name)
        )
    }

    /// The README's input and output tables for this action.
    pub fn markdown_tables(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "| input | required | default | description |");
        let _ = writeln!(md, "| --- | --- | --- | --- |");
        for input in self.declared_inputs() {
            let default = input
                .default
                .map_or_else(String::new, |default| format!("`{default}`"));
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {} |",
                input.name,
                if input.required { "yes" } else { "no" },
                default,
                input_description(input).replace('|', "\\|")
            );
        }
        let _ = writeln!(md);
        let _ = writeln!(md, "| output | description |");
        let _ = writeln!(md, "| --- | --- |");
        for output in self.outputs {
            let _ = writeln!(
                md,
                "| `{}` | {} |",
                output.name,
                output.description.replace('|', "\\|")
            );
        }
        md
    }
}

/// The description, with the allowed words of a choice appended.
fn input_description(input: &InputSpec) -> String {
    match input.kind {
        InputKind::Choice(words) => format!(
            "{} One of: {}.",
            input.description,
            words
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        InputKind::Boolean => format!("{} `true` or `false`.", input.description),
        InputKind::List => format!("{} One per line.", input.description),
        _ => input.description.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: ActionSpec = ActionSpec {
        name: "example",
        title: "Gantry: example",
        description: "Says \"hi\": twice.",
        inputs: &[
            InputSpec {
                name: "mode",
                description: "How.",
                required: false,
                default: Some("update"),
                kind: InputKind::Choice(&["update", "off"]),
            },
            GITHUB_TOKEN_INPUT,
        ],
        outputs: &[RESULT_OUTPUT],
    };

    #[test]
    fn action_yml_is_a_node24_action_with_quoted_scalars() {
        let yml = SPEC.action_yml();
        assert!(
            yml.contains("description: \"Says \\\"hi\\\": twice.\"\n"),
            "{yml}"
        );
        assert!(yml.contains("  mode:\n    description: \"How. One of: `update`, `off`.\"\n    required: false\n    default: \"update\"\n"), "{yml}");
        assert!(yml.contains("default: \"${{ github.token }}\""), "{yml}");
        assert!(
            yml.contains("  binary-url:\n    description: \"Where"),
            "{yml}"
        );
        assert!(
            yml.ends_with("runs:\n  using: node24\n  main: \"main.mjs\"\n"),
            "{yml}"
        );
    }

    #[test]
    fn the_entry_runs_the_launcher_with_the_subcommand() {
        assert_eq!(
            SPEC.entry_mjs().lines().skip(1).collect::<Vec<_>>(),
            [
                "import { main } from \"../../launcher/gantry.mjs\";",
                "await main(\"example\");"
            ]
        );
    }

    #[test]
    fn tables_list_every_input_and_output() {
        let tables = SPEC.markdown_tables();
        assert!(tables.contains("| `mode` | no | `update` |"));
        assert!(tables.contains("| `github-token` | no | `${{ github.token }}` |"));
        assert!(tables.contains("| `result` |"));
        assert!(tables.contains("| `binary-url` | no |  |"), "{tables}");
    }
}
