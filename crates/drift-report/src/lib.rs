//! gantry-drift-report: what changed outside Terraform and Helm, as issues that keep themselves.
//!
//! What it is: a sans-IO function from refresh-only Terraform plans (one per stack), Helm
//! releases' manifests beside their live objects, what the last run's issues said (first seen,
//! open or closed) and the time, to a [`Report`]: real drift only, named attribute by attribute
//! (before → after), deleted objects first, sensitive values masked as terraform-plan masks
//! them; one issue effect per stack or release — open or update while it drifts, close with a
//! comment when it is clean — and the outputs.
//!
//! What it is not: a runner of `terraform`, a Kubernetes client or a publisher. The exit code
//! of `terraform plan -detailed-exitcode` is never asked: it says 2 right after an apply
//! (`tags: null → {}`) and 0 for a plan with `moved` blocks that carries drift.

pub mod kube;
pub mod model;
mod render;
pub mod security;
pub mod terraform;

use std::collections::BTreeMap;

use gantry_core::action::{
    ActionSpec, COMMENT_AUTHOR_INPUT, GITHUB_TOKEN_INPUT, InputKind, InputSpec, OutputSpec,
    RESULT_OUTPUT,
};
use gantry_core::report::{Effect, IssueState, Marker, Report, Verdict};
use gantry_core::runner::{InputError, Inputs};
use gantry_terraform_plan::secrets::Secrets;

pub use crate::model::{AttributeChange, Drifted, IgnoreRule, ObjectDrift};

/// The action's name.
pub const NAME: &str = "drift-report";

/// The action's declaration.
pub const SPEC: ActionSpec = ActionSpec {
    name: NAME,
    title: "Gantry: drift report",
    description: "Finds what changed outside Terraform (refresh-only plans) and outside Helm (live objects against each release's manifest), real drift only, attribute by attribute, and keeps one issue per stack or release that opens, updates and closes itself.",
    inputs: &[
        InputSpec {
            name: "plans",
            description: "Refresh-only plans (`terraform plan -refresh-only -out=…` then `terraform show -json`, or the binary plan file): `path` or `name=path`, a path may be a glob. An ordinary plan works too (its `resource_drift` is read). Without a name a stack is named after its folder.",
            required: false,
            default: None,
            kind: InputKind::List,
        },
        InputSpec {
            name: "terraform-command",
            description: "The command that shows binary plan files given in `plans` (`tofu` works too).",
            required: false,
            default: Some("terraform"),
            kind: InputKind::Text,
        },
        InputSpec {
            name: "releases",
            description: "Helm releases to compare with the cluster, as `namespace/name`. Each release's deployed manifest (from Helm's release Secret) is compared with the live objects.",
            required: false,
            default: None,
            kind: InputKind::List,
        },
        InputSpec {
            name: "kube-context",
            description: "The kubeconfig context for `releases` (default: the current one; in a pod, the service account).",
            required: false,
            default: None,
            kind: InputKind::Text,
        },
        InputSpec {
            name: "ignore",
            description: "Attribute paths that are not drift, as `type.path` for a resource type or a Kubernetes kind (`aws_instance.tags_all`, `Deployment.spec.template.metadata.annotations`, `*.tags`). A path covers everything under it; list positions do not count.",
            required: false,
            default: None,
            kind: InputKind::List,
        },
        InputSpec {
            name: "issue",
            description: "`update`: one issue per stack or release, found again by a hidden marker, opened on first drift, edited while it lasts, closed with a comment when clean, reopened if it returns. `off`: only the step summary and outputs.",
            required: false,
            default: Some("update"),
            kind: InputKind::Choice(&["update", "off"]),
        },
        InputSpec {
            name: "labels",
            description: "Labels for the issues (created in the repository when missing).",
            required: false,
            default: Some("drift"),
            kind: InputKind::List,
        },
        InputSpec {
            name: "fail-on-drift",
            description: "Exit 1 when anything drifted (after the issues are written).",
            required: false,
            default: Some("false"),
            kind: InputKind::Boolean,
        },
        GITHUB_TOKEN_INPUT,
        COMMENT_AUTHOR_INPUT,
    ],
    outputs: &[
        OutputSpec {
            name: "drifted",
            description: "`true` when any stack or release drifted.",
        },
        OutputSpec {
            name: "stacks-drifted",
            description: "How many Terraform stacks drifted.",
        },
        OutputSpec {
            name: "releases-drifted",
            description: "How many Helm releases drifted.",
        },
        OutputSpec {
            name: "resources-drifted",
            description: "How many resources and Kubernetes objects drifted, over all stacks and releases.",
        },
        OutputSpec {
            name: "issue-urls",
            description: "The issues written (opened, updated, closed or reopened), one a line.",
        },
        RESULT_OUTPUT,
    ],
};

/// The action's options, from its inputs and the edge.
#[derive(Debug, Clone)]
pub struct Options {
    /// What is not drift.
    pub ignore: Vec<IgnoreRule>,
    /// Keep issues (`issue: update`).
    pub issues: bool,
    /// Their labels.
    pub labels: Vec<String>,
    /// Exit 1 on drift.
    pub fail_on_drift: bool,
    /// The time of this run, RFC 3339 (`2026-12-04T06:00:00Z`), from the edge's clock.
    pub now: String,
    /// The run's page, for the issue's footer.
    pub run_url: Option<String>,
}

impl Options {
    /// Reads the inputs; `now` and `run_url` come from the edge.
    pub fn from_inputs(
        inputs: &Inputs,
        now: String,
        run_url: Option<String>,
    ) -> Result<Self, InputError> {
        let ignore = inputs
            .list("ignore")
            .iter()
            .map(|line| IgnoreRule::parse(line))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|message| InputError::NotANumber {
                name: "ignore".to_owned(),
                value: message,
                expected: "one `type.attribute` path a line".to_owned(),
            })?;
        Ok(Self {
            ignore,
            issues: inputs.chosen(SPEC.declared("issue"))? == "update",
            labels: inputs.list("labels"),
            fail_on_drift: inputs.flag(SPEC.declared("fail-on-drift"))?,
            now,
            run_url,
        })
    }
}

/// One stack's plan, as bytes (the terraform-plan action's own type).
pub use gantry_terraform_plan::StackSource;

/// One release: its manifest's objects beside what is live.
#[derive(Debug, Clone)]
pub struct ReleaseSource {
    /// Namespace.
    pub namespace: String,
    /// Release name.
    pub name: String,
    /// The deployed revision compared.
    pub revision: u32,
    /// Its status word when it is not `deployed` (a later revision failed or is pending).
    pub note: Option<String>,
    /// Each object of the manifest and the live one (`None`: gone).
    pub objects: Vec<(kube::Desired, Option<serde_json::Value>)>,
    /// Workloads an HPA scales.
    pub autoscaled: Vec<(String, String)>,
}

impl ReleaseSource {
    /// `namespace/name`.
    pub fn label(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// What the issue of a stack or release said last time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Previous {
    /// When its drift was first seen (while it stayed open).
    pub first_seen: Option<String>,
    /// When drift was last seen.
    pub last_seen: Option<String>,
    /// Whether it is open.
    pub open: bool,
}

/// The hidden line that carries first and last seen from run to run.
const SEEN_PREFIX: &str = "<!-- gantry drift-report seen:";

/// What an issue body written by this action says of first and last seen.
pub fn previous_from(body: &str, open: bool) -> Previous {
    let mut previous = Previous {
        open,
        ..Previous::default()
    };
    if let Some(start) = body.rfind(SEEN_PREFIX) {
        let rest = &body[start + SEEN_PREFIX.len()..];
        let line = rest.split("-->").next().unwrap_or("");
        let valid = |text: &str| {
            let text = text.trim();
            (!text.is_empty()
                && text.len() <= 40
                && text
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | 'T' | 'Z' | '.' | '+')))
            .then(|| text.to_owned())
        };
        let mut parts = line.split_whitespace();
        previous.first_seen = parts.next().and_then(valid);
        previous.last_seen = parts.next().and_then(valid);
    }
    previous
}

/// Why the action could not run: bad input, reported with the file or release.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// A plan that is not one.
    #[error(transparent)]
    Plan(#[from] gantry_terraform_plan::plan::PlanError),
    /// Anything else the user must fix.
    #[error("{0}")]
    Input(String),
}

/// A stack or a release, analysed.
#[derive(Debug)]
struct Subject {
    /// `stack` or `release`.
    what: &'static str,
    /// Stack name or `namespace/name`.
    name: String,
    /// The plan file, or `revision 4`.
    source: String,
    drifted: Vec<Drifted>,
    not_drift: Vec<(String, String)>,
    moved: Vec<(String, String)>,
    notes: Vec<String>,
    marker: Marker,
}

/// Runs the action.
pub fn run(
    options: &Options,
    stacks: &[StackSource<'_>],
    releases: &[ReleaseSource],
    previous: &BTreeMap<String, Previous>,
) -> Result<Report, RunError> {
    if stacks.is_empty() && releases.is_empty() {
        return Err(RunError::Input(
            "nothing to check: give `plans` (refresh-only plan files) or `releases` (`namespace/name`), or both".to_owned(),
        ));
    }
    let mut secrets = Secrets::default();
    let mut subjects = Vec::new();
    for stack in stacks {
        let drift = terraform::analyse(&stack.name, &stack.file, stack.bytes, &options.ignore)?;
        secrets.extend(drift.secrets.clone());
        let mut notes = drift.notes.clone();
        if !drift.refresh_only {
            notes.push("an ordinary plan (it also plans changes): only its drift is read; `terraform plan -refresh-only` is the plan for drift".to_owned());
        }
        subjects.push(Subject {
            what: "stack",
            name: stack.name.clone(),
            source: stack.file.clone(),
            drifted: drift.drifted,
            not_drift: drift.not_drift,
            moved: drift.moved,
            notes,
            marker: Marker::new(NAME, &format!("stack/{}", stack.name)),
        });
    }
    let mut kube_secrets = Vec::new();
    for release in releases {
        let mut deleted = Vec::new();
        let mut changed = Vec::new();
        for (desired, live) in &release.objects {
            match kube::compare(
                desired,
                live.as_ref(),
                &release.autoscaled,
                &options.ignore,
                &mut kube_secrets,
            ) {
                Some(
                    drifted @ Drifted {
                        drift: ObjectDrift::Deleted,
                        ..
                    },
                ) => deleted.push(drifted),
                Some(drifted) => changed.push(drifted),
                None => {}
            }
        }
        deleted.extend(changed);
        subjects.push(Subject {
            what: "release",
            name: release.label(),
            source: format!("revision {}", release.revision),
            drifted: deleted,
            not_drift: Vec::new(),
            moved: Vec::new(),
            notes: release.note.iter().cloned().collect(),
            marker: Marker::new(NAME, &format!("release/{}", release.label())),
        });
    }
    let scrub = render::Scrub::new(&secrets, &kube_secrets);
    for (index, subject) in subjects.iter().enumerate() {
        if let Some(other) = subjects[..index]
            .iter()
            .find(|other| other.marker == subject.marker)
        {
            return Err(RunError::Input(format!(
                "{} `{}` and {} `{}` would share one issue (their names differ only in characters an issue marker cannot hold); rename one",
                other.what, other.name, subject.what, subject.name
            )));
        }
    }

    let drifted_stacks = subjects
        .iter()
        .filter(|s| s.what == "stack" && !s.drifted.is_empty())
        .count();
    let drifted_releases = subjects
        .iter()
        .filter(|s| s.what == "release" && !s.drifted.is_empty())
        .count();
    let objects: usize = subjects.iter().map(|s| s.drifted.len()).sum();
    let any = objects > 0;

    let headline = render::headline(&subjects, drifted_stacks, drifted_releases, objects);
    let verdict = if any && options.fail_on_drift {
        Verdict::Failed
    } else {
        Verdict::Passed
    };
    let mut report = Report::new(NAME, verdict, scrub.apply(&headline));
    report.outputs.set("drifted", any.to_string());
    report
        .outputs
        .set("stacks-drifted", drifted_stacks.to_string());
    report
        .outputs
        .set("releases-drifted", drifted_releases.to_string());
    report.outputs.set("resources-drifted", objects.to_string());
    // Filled in by the edge once the issues are written.
    report.outputs.set("issue-urls", "");

    let mut summary = format!(
        "## Drift report\n\n{}\n\n",
        gantry_core::markdown::text(&headline)
    );
    for subject in &subjects {
        let seen = seen_for(subject, previous, options);
        let budget = (gantry_core::runner::STEP_SUMMARY_LIMIT - 8_192) / subjects.len();
        summary.push_str(&render::section(subject, &seen, 3, budget, &scrub));
        summary.push('\n');
    }
    if options.fail_on_drift && any {
        summary.push_str("`fail-on-drift` is set: this step fails because something drifted.\n");
    }
    report.summary = gantry_core::runner::fit_step_summary(&summary).into_owned();

    if options.issues {
        for subject in &subjects {
            let seen = seen_for(subject, previous, options);
            report.effects.push(Effect::Issue(render::issue(
                subject, &seen, options, &scrub,
            )));
        }
    }
    for subject in subjects.iter().filter(|s| !s.drifted.is_empty()) {
        report.annotations.push(gantry_core::report::Annotation {
            level: if options.fail_on_drift {
                gantry_core::runner::AnnotationLevel::Error
            } else {
                gantry_core::runner::AnnotationLevel::Warning
            },
            place: gantry_core::runner::AnnotationPlace {
                title: Some(format!("drift · {} {}", subject.what, subject.name)),
                ..gantry_core::runner::AnnotationPlace::default()
            },
            message: scrub.apply(&render::one_line(subject)),
        });
    }
    Ok(report)
}

/// First and last seen for this run's issue of `subject`.
#[derive(Debug, Clone)]
struct Seen {
    first: String,
    last: String,
}

fn seen_for(subject: &Subject, previous: &BTreeMap<String, Previous>, options: &Options) -> Seen {
    let known = previous
        .get(subject.marker.key())
        .cloned()
        .unwrap_or_default();
    if subject.drifted.is_empty() {
        return Seen {
            first: known.first_seen.clone().unwrap_or_default(),
            last: known.last_seen.clone().unwrap_or_default(),
        };
    }
    let first = match (&known.first_seen, known.open) {
        (Some(first), true) => first.clone(),
        _ => options.now.clone(),
    };
    Seen {
        first,
        last: options.now.clone(),
    }
}

impl Subject {
    fn issue_state(&self) -> IssueState {
        if self.drifted.is_empty() {
            IssueState::Closed
        } else {
            IssueState::Open
        }
    }
}
