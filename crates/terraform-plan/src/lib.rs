//! gantry-terraform-plan: the Terraform plan a reviewer understands in seconds.
//!
//! What it is: a sans-IO function from `terraform show -json` plans (one per stack) and the
//! action's inputs to a [`Report`]: Terraform's own counts, the warnings a reviewer must not miss
//! (every destroy, replace and forget, with Terraform's reason in words), per-resource attribute
//! differences with unknown and sensitive values masked, drift, moves, imports, checks, output
//! changes, a plan digest that ties the apply to the reviewed plan, and the destroy policy.
//!
//! What it is not: a reader of plan *text* (that is what breaks when Terraform adds an action), a
//! runner of `terraform` (the binary shows binary plans and hands the JSON in), or a publisher.
//! No value marked sensitive — by the provider, a sensitive output or a sensitive variable —
//! reaches anything this crate returns.

pub mod analysis;
pub mod diff;
pub mod plan;
mod render;
pub mod secrets;
pub mod value;

use gantry_core::action::{
    ActionSpec, COMMENT_AUTHOR_INPUT, GITHUB_TOKEN_INPUT, InputKind, InputSpec, OutputSpec,
    RESULT_OUTPUT,
};
use gantry_core::report::{
    Annotation, COMMENT_BODY_BUDGET, CommentEffect, CommentMode, Effect, Report, Verdict,
};
use gantry_core::runner::{
    AnnotationLevel, AnnotationPlace, InputError, Inputs, RunnerContext, STEP_SUMMARY_LIMIT,
};

use crate::analysis::{Counts, WarningKind};
use crate::plan::{Plan, PlanError};
use crate::render::{Decision, RenderRequest, StackView};

/// The action's name.
pub const NAME: &str = "terraform-plan";

/// The action's declaration.
pub const SPEC: ActionSpec = ActionSpec {
    name: NAME,
    title: "Gantry: Terraform plan",
    description: "Turns `terraform show -json` plans into one PR comment a reviewer understands in seconds, with Terraform's own counts, every destroy and replace called out, sensitive values masked, and a digest that ties the apply to the reviewed plan.",
    inputs: &[
        InputSpec {
            name: "plan",
            description: "Plans to show: `path` or `name=path`, a path may be a glob. Each file is `terraform show -json` output or a binary plan file (shown with `terraform-command`, run in the file's folder with the terraform and credentials of the runner, e.g. from `hashicorp/setup-terraform`). Without a name a stack is named after its folder.",
            required: true,
            default: None,
            kind: InputKind::List,
        },
        InputSpec {
            name: "terraform-command",
            description: "The command that shows binary plan files (`tofu` works too).",
            required: false,
            default: Some("terraform"),
            kind: InputKind::Text,
        },
        InputSpec {
            name: "comment",
            description: "`update` keeps one sticky comment per `comment-key` and edits it; `new` posts a new comment and minimizes the previous one; `off` posts none (the step summary is still written).",
            required: false,
            default: Some("update"),
            kind: InputKind::Choice(&["update", "new", "off"]),
        },
        InputSpec {
            name: "comment-key",
            description: "Which sticky comment to write. Default: one per workflow, job and stacks. Jobs given the same key (a matrix over stacks) share one comment, each stack its own section.",
            required: false,
            default: None,
            kind: InputKind::Text,
        },
        InputSpec {
            name: "fail-on-destroy",
            description: "Exit 1 when any resource would be destroyed or replaced, unless its address matches `destroy-allowlist`.",
            required: false,
            default: Some("false"),
            kind: InputKind::Boolean,
        },
        InputSpec {
            name: "destroy-allowlist",
            description: "Resource address globs that may be destroyed or replaced (`*` matches anything, `?` one character; brackets are literal).",
            required: false,
            default: None,
            kind: InputKind::List,
        },
        InputSpec {
            name: "expect-digest",
            description: "Exit 1 unless the plan's `plan-digest` equals this: the apply job runs only the plan that was reviewed.",
            required: false,
            default: None,
            kind: InputKind::Text,
        },
        GITHUB_TOKEN_INPUT,
        COMMENT_AUTHOR_INPUT,
    ],
    outputs: &[
        OutputSpec {
            name: "add",
            description: "Resources to add, summed over all plans (Terraform's own count: a replace counts in add and destroy).",
        },
        OutputSpec {
            name: "change",
            description: "Resources to change in place.",
        },
        OutputSpec {
            name: "destroy",
            description: "Resources to destroy (replaces included).",
        },
        OutputSpec {
            name: "replace",
            description: "Resources to replace.",
        },
        OutputSpec {
            name: "import",
            description: "Resources to import.",
        },
        OutputSpec {
            name: "move",
            description: "Resources moved to a new address.",
        },
        OutputSpec {
            name: "forget",
            description: "Resources removed from state without being destroyed.",
        },
        OutputSpec {
            name: "drift",
            description: "Objects changed outside Terraform that the plan saw.",
        },
        OutputSpec {
            name: "has-changes",
            description: "`true` when applying would change anything (resources, imports, moves, forgets or outputs).",
        },
        OutputSpec {
            name: "has-destroy",
            description: "`true` when any resource would be destroyed or replaced.",
        },
        OutputSpec {
            name: "plan-digest",
            description: "sha256 over a canonical list of the planned changes: the same plan gives the same digest on any machine.",
        },
        OutputSpec {
            name: "plan-digests",
            description: "Each stack's own digest as a JSON object (`{\"aws\": \"…\", \"gcp\": \"…\"}`), and each also as the output `plan-digest-<stack>` (characters other than letters, digits, `-` and `_` become `-`): the apply job of one stack passes its digest as `expect-digest`, and a run of that stack alone has it as `plan-digest`.",
        },
        OutputSpec {
            name: "comment-url",
            description: "The PR comment's address, when one was posted.",
        },
        RESULT_OUTPUT,
    ],
};

/// How the comment is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentSetting {
    /// Sticky, edited in place.
    Update,
    /// New each run, the old one minimized.
    New,
    /// No comment.
    Off,
}

/// A stack's name as part of an output's name: letters, digits, `-` and `_`.
fn output_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The action's options, from its inputs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Comment handling.
    pub comment: CommentSetting,
    /// Marker key; `None` derives it from the workflow, job and stacks.
    pub comment_key: Option<String>,
    /// Destroy policy.
    pub fail_on_destroy: bool,
    /// Addresses allowed to be destroyed.
    pub destroy_allowlist: Vec<String>,
    /// The digest the plan must have.
    pub expect_digest: Option<String>,
    /// `GITHUB_WORKFLOW`/`GITHUB_JOB`, for the default comment key.
    pub workflow_and_job: String,
}

impl Options {
    /// Reads the options from the step's inputs.
    pub fn from_inputs(inputs: &Inputs, context: &RunnerContext) -> Result<Self, InputError> {
        let comment = match inputs.chosen(SPEC.declared("comment"))?.as_str() {
            "new" => CommentSetting::New,
            "off" => CommentSetting::Off,
            _ => CommentSetting::Update,
        };
        let expect_digest = inputs.optional("expect-digest").map(|digest| {
            digest
                .trim()
                .trim_start_matches("sha256:")
                .to_ascii_lowercase()
        });
        if let Some(digest) = &expect_digest {
            if digest.len() != 64 || !digest.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(InputError::NotANumber {
                    name: "expect-digest".to_owned(),
                    value: digest.clone(),
                    expected: "a sha256 digest (64 hexadecimal characters, as the `plan-digest` output gives it)".to_owned(),
                });
            }
        }
        Ok(Self {
            comment,
            comment_key: inputs.optional("comment-key"),
            fail_on_destroy: inputs.flag(SPEC.declared("fail-on-destroy"))?,
            destroy_allowlist: inputs.list("destroy-allowlist"),
            expect_digest,
            workflow_and_job: context.workflow_and_job(),
        })
    }
}

/// One line of the `plan` input: an optional stack name and a path or glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanEntry {
    /// `name=` when given.
    pub name: Option<String>,
    /// Path or glob.
    pub pattern: String,
}

/// Reads the `plan` input's lines. `name=path` names a stack; a `=` inside a path (after a `/`)
/// is part of the path.
pub fn plan_entries(lines: &[String]) -> Vec<PlanEntry> {
    lines
        .iter()
        .map(|line| match line.split_once('=') {
            Some((name, path))
                if !name.trim().is_empty()
                    && !name.contains(['/', '\\', '*', '?'])
                    && !path.trim().is_empty() =>
            {
                PlanEntry {
                    name: Some(name.trim().to_owned()),
                    pattern: path.trim().to_owned(),
                }
            }
            _ => PlanEntry {
                name: None,
                pattern: line.trim().to_owned(),
            },
        })
        .collect()
}

/// The default stack name of a plan file: its folder (workspace-relative), or the file's stem
/// when it sits at the top.
pub fn stack_name_for(relative_path: &str) -> String {
    let normalized = relative_path.replace('\\', "/");
    let trimmed = normalized.trim_start_matches("./");
    match trimmed.rsplit_once('/') {
        Some((folder, _)) if !folder.is_empty() && folder != "." => folder.to_owned(),
        _ => {
            let file = trimmed.rsplit('/').next().unwrap_or(trimmed);
            file.split('.')
                .next()
                .filter(|stem| !stem.is_empty())
                .unwrap_or(file)
                .to_owned()
        }
    }
}

/// One stack's plan, as bytes.
#[derive(Debug, Clone)]
pub struct StackSource<'b> {
    /// Stack name.
    pub name: String,
    /// The file as the user named it (for messages).
    pub file: String,
    /// `terraform show -json` output.
    pub bytes: &'b [u8],
}

/// Runs the action over the stacks' plans.
pub fn run(options: &Options, sources: &[StackSource<'_>]) -> Result<Report, PlanError> {
    let texts = sources
        .iter()
        .map(|source| plan::decode(&source.file, source.bytes))
        .collect::<Result<Vec<_>, _>>()?;
    let plans = sources
        .iter()
        .zip(&texts)
        .map(|(source, text)| Plan::parse(&source.file, &text.json))
        .collect::<Result<Vec<_>, _>>()?;

    let mut stacks = Vec::with_capacity(plans.len());
    let mut totals = Counts::default();
    for ((source, text), plan) in sources.iter().zip(&texts).zip(&plans) {
        let counts = analysis::count(plan);
        totals.add_assign(&counts);
        stacks.push(StackView {
            name: source.name.clone(),
            file: source.file.clone(),
            plan,
            counts,
            warnings: analysis::warnings(plan, &options.destroy_allowlist),
            notes: text.warnings.clone(),
        });
    }
    let named: Vec<(&str, &str, &Plan<'_>)> = stacks
        .iter()
        .map(|stack| (stack.name.as_str(), stack.file.as_str(), stack.plan))
        .collect();
    let (secrets, digest) = secrets::scan(&named)?;

    let mut decision = Decision::default();
    let blocked: Vec<&analysis::Warning> = stacks
        .iter()
        .flat_map(|stack| &stack.warnings)
        .filter(|warning| {
            matches!(warning.kind, WarningKind::Destroy | WarningKind::Replace) && !warning.allowed
        })
        .collect();
    if options.fail_on_destroy && !blocked.is_empty() {
        decision.failed = true;
        decision.reasons.push(format!(
            "fail-on-destroy: {} resource(s) would be destroyed or replaced and are not in destroy-allowlist",
            blocked.len()
        ));
    }
    if let Some(expected) = &options.expect_digest {
        if *expected != digest {
            decision.failed = true;
            decision.reasons.push(format!(
                "expect-digest: this plan's digest is {digest}, not the reviewed {expected}; re-plan and review again"
            ));
        }
    }

    let request = |budget, full_text_at, warnings_listed| RenderRequest {
        stacks: &stacks,
        totals,
        decision: &decision,
        digest: &digest,
        secrets: &secrets,
        budget,
        full_text_at,
        warnings_listed,
    };
    // The summary's first blocks, then every section rendered once after them: the buffer is the
    // step summary, and the comment is cut from the same text.
    let summary_request = request(
        STEP_SUMMARY_LIMIT,
        "the plan files (the step summary is capped at 1 MiB)",
        1_000,
    );
    let mut buffer = secrets
        .scrub(&render::essentials(&summary_request).render())
        .into_owned();
    let blocks = render::stack_sections(&stacks, &secrets, &mut buffer);
    let buffer = std::sync::Arc::new(buffer);
    let sections = render::sections_document(&buffer, blocks);
    let verdict = if decision.failed {
        Verdict::Failed
    } else {
        Verdict::Passed
    };
    let headline = decision.reasons.first().cloned().unwrap_or_else(|| {
        if totals.has_resource_changes() {
            totals.plan_line()
        } else {
            "No changes.".to_owned()
        }
    });
    let mut report = Report::new(NAME, verdict, headline);
    let set =
        |report: &mut Report, name: &str, value: u64| report.outputs.set(name, value.to_string());
    set(&mut report, "add", totals.add);
    set(&mut report, "change", totals.change);
    set(&mut report, "destroy", totals.destroy);
    set(&mut report, "replace", totals.replace);
    set(&mut report, "import", totals.import);
    set(&mut report, "move", totals.moved);
    set(&mut report, "forget", totals.forget);
    set(&mut report, "drift", totals.drift);
    report
        .outputs
        .set("has-changes", totals.has_changes().to_string());
    report
        .outputs
        .set("has-destroy", (totals.destroy > 0).to_string());
    report.outputs.set("plan-digest", digest.clone());
    // Per stack: a matrix applies each stack's reviewed plan on its own. A run of one stack has
    // the same digest as that stack here (the digest names its stack).
    let mut per_stack = serde_json::Map::new();
    for (name, file, plan) in &named {
        let own = if named.len() == 1 {
            digest.clone()
        } else {
            secrets::scan(&[(*name, *file, *plan)])?.1
        };
        report
            .outputs
            .set(&format!("plan-digest-{}", output_safe(name)), own.clone());
        per_stack.insert((*name).to_owned(), serde_json::Value::String(own));
    }
    report.outputs.set(
        "plan-digests",
        serde_json::Value::Object(per_stack).to_string(),
    );
    // Filled in by the edge once the comment is posted; empty with `comment: off` or no PR.
    report.outputs.set("comment-url", "");

    for stack in &stacks {
        for warning in &stack.warnings {
            let failing = options.fail_on_destroy
                && !warning.allowed
                && matches!(warning.kind, WarningKind::Destroy | WarningKind::Replace);
            let mut message = format!(
                "{} will be {}",
                warning.address,
                match warning.kind {
                    WarningKind::Destroy => "destroyed",
                    WarningKind::Replace => "replaced",
                    WarningKind::Forget => "forgotten (removed from state, left running)",
                    WarningKind::Unknown => "changed by an action Gantry does not know",
                }
            );
            if let Some(reason) = &warning.reason {
                message.push_str(": ");
                message.push_str(reason);
            }
            report.annotations.push(Annotation {
                level: if failing {
                    AnnotationLevel::Error
                } else {
                    AnnotationLevel::Warning
                },
                place: AnnotationPlace {
                    title: Some(format!("terraform plan · {}", stack.name)),
                    ..AnnotationPlace::default()
                },
                message: secrets.scrub(&message).into_owned(),
            });
        }
    }
    report
        .annotations
        .sort_by_key(|annotation| std::cmp::Reverse(annotation.level));

    if options.comment != CommentSetting::Off {
        let stack_names: Vec<&str> = stacks.iter().map(|stack| stack.name.as_str()).collect();
        let joined = stack_names.join("+");
        // A key the user chose may be shared by several jobs: each writes its own section, in a
        // third of the budget so that three stacks fit whole.
        let (key, section, budget) = match &options.comment_key {
            Some(key) => (key.clone(), Some(joined), COMMENT_BODY_BUDGET / 3),
            None => (
                format!("{}/{joined}", options.workflow_and_job),
                None,
                COMMENT_BODY_BUDGET,
            ),
        };
        let body = render::render(&request(budget, "the job's step summary", 50), &sections);
        let mut comment = CommentEffect::sticky(NAME, &key, body);
        if options.comment == CommentSetting::New {
            comment.mode = CommentMode::New;
        }
        comment.section = section;
        report.effects.push(Effect::Comment(comment));
    }
    // The buffer is the summary when it fits (it does unless the first blocks alone are huge).
    report.summary = if buffer.len() <= STEP_SUMMARY_LIMIT {
        drop(sections);
        std::sync::Arc::try_unwrap(buffer).unwrap_or_else(|shared| (*shared).clone())
    } else {
        render::render(&summary_request, &sections)
    };
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_lines_take_names_and_globs() {
        let lines = [
            "aws=infra/aws/plan.json".to_owned(),
            "infra/gcp/*.json".to_owned(),
            "dir/a=b.json".to_owned(),
        ];
        assert_eq!(
            plan_entries(&lines),
            [
                PlanEntry {
                    name: Some("aws".into()),
                    pattern: "infra/aws/plan.json".into()
                },
                PlanEntry {
                    name: None,
                    pattern: "infra/gcp/*.json".into()
                },
                PlanEntry {
                    name: None,
                    pattern: "dir/a=b.json".into()
                },
            ]
        );
    }

    #[test]
    fn stacks_are_named_after_their_folder() {
        assert_eq!(stack_name_for("infra/aws/plan.json"), "infra/aws");
        assert_eq!(stack_name_for("./prod/tfplan.json"), "prod");
        assert_eq!(stack_name_for("plan.json"), "plan");
    }
}
