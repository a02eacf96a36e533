//! The `Report`: everything an action decided, and everything it wants done about it.
//!
//! An action is a pure function from inputs and files to a [`Report`]. The report holds values
//! (outputs, the step summary, annotations, files to write) and *effects*: intents such as
//! "upsert the PR comment marked K with this body". The edges carry effects out — against the
//! GitHub API, or as local files in `--dry-run` — so the same report can be published now, later
//! from a trusted `workflow_run` job (`gantry publish`), or never.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::runner::{AnnotationLevel, AnnotationPlace, Outputs, WorkflowCommand};

/// GitHub's limit for an issue or PR comment body. GitHub counts characters; we count bytes of
/// UTF-8, which is never fewer, so a body we accept GitHub accepts.
pub const COMMENT_LIMIT_BYTES: usize = 65_536;
/// What an action may use for a comment body: the limit less room for the hidden marker.
pub const COMMENT_BODY_BUDGET: usize = COMMENT_LIMIT_BYTES - 256;
/// GitHub's limit for a check run's `output.summary` and `output.text`.
pub const CHECK_RUN_TEXT_LIMIT: usize = 65_535;
/// GitHub accepts at most this many annotations in one check-run request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// GitHub rejects a SARIF upload larger than this, gzipped.
pub const SARIF_GZIP_LIMIT: usize = 10 * 1024 * 1024;
/// The runner shows at most this many annotations of each level per step.
pub const ANNOTATIONS_SHOWN_PER_LEVEL: usize = 10;

/// What the gate decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing the policy forbids: exit 0.
    Passed,
    /// The policy said no: exit 1.
    Failed,
}

impl Verdict {
    /// The process exit status for this verdict.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Passed => 0,
            Self::Failed => 1,
        }
    }

    /// The `result` output.
    pub fn word(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
        }
    }
}

/// An annotation at a place in the workspace, for workflow commands and check runs alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    /// Notice, warning or error (a check run calls the last `failure`).
    pub level: AnnotationLevel,
    /// File (workspace-relative), lines, columns, title.
    pub place: AnnotationPlace,
    /// The message (plain text; GitHub shows it verbatim).
    pub message: String,
}

/// A file the action wants written (merged SARIF, merged `JUnit`), relative to the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFile {
    /// Workspace-relative path.
    pub path: String,
    /// Contents.
    pub contents: Contents,
}

/// What a file holds: text, or a model the edge writes straight to the file (the merged
/// `JUnit` of 100,000 tests is 10 MB that need never be held as text). Saved and compared as
/// the text it writes.
#[derive(Debug, Clone)]
pub enum Contents {
    /// The text itself.
    Text(String),
    /// Suites, written by [`crate::junit::write_junit_to`] under a `<testsuites>` root of
    /// this name.
    Junit {
        /// The root's name.
        name: String,
        /// The suites.
        suites: Vec<crate::junit::TestSuite>,
    },
}

impl Contents {
    /// The text (rendered, for a model).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Self::Text(text) => std::borrow::Cow::Borrowed(text),
            Self::Junit { name, suites } => {
                std::borrow::Cow::Owned(crate::junit::write_junit(name, suites))
            }
        }
    }

    /// Writes the contents to `out`.
    ///
    /// # Errors
    /// What `out` returns.
    pub fn write_to(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        match self {
            Self::Text(text) => out.write_all(text.as_bytes()),
            Self::Junit { name, suites } => crate::junit::write_junit_to(name, suites, out),
        }
    }
}

impl From<String> for Contents {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl PartialEq for Contents {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

impl Eq for Contents {}

impl Serialize for Contents {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text())
    }
}

impl<'de> Deserialize<'de> for Contents {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::Text)
    }
}

/// The hidden marker that finds our own comment or issue again: `<!-- gantry:<action>:<key> -->`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Marker {
    action: String,
    key: String,
}

impl Marker {
    /// A marker for `action`, keyed by `key` (a user-chosen `comment-key`, a stack name).
    /// Both are reduced to `[A-Za-z0-9._/-]` and 100 characters, so no key can end the HTML
    /// comment or collide with another action's.
    pub fn new(action: &str, key: &str) -> Self {
        let clean = |value: &str| -> String {
            let cleaned: String = value
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/') {
                        c
                    } else {
                        '-'
                    }
                })
                .take(100)
                .collect();
            // `--` may not appear inside an HTML comment.
            let mut squeezed = String::with_capacity(cleaned.len());
            for c in cleaned.chars() {
                if !(c == '-' && squeezed.ends_with('-')) {
                    squeezed.push(c);
                }
            }
            squeezed
        };
        Self {
            action: clean(action),
            key: clean(key),
        }
    }

    /// The HTML comment placed at the end of the body.
    pub fn html(&self) -> String {
        format!("<!-- gantry:{}:{} -->", self.action, self.key)
    }

    /// The action part.
    pub fn action(&self) -> &str {
        &self.action
    }

    /// The key part.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether a comment or issue body carries this marker where Gantry puts it: last, with
    /// only white space after it. A marker anywhere else (a value, a test name, a scanner
    /// message quoted in the body, or text someone appended) does not count, so no content can
    /// make one of our bodies pass for another.
    pub fn is_in(&self, body: &str) -> bool {
        Self::trailing(body).is_some_and(|found| found == *self)
    }

    /// The marker a body ends with, if it ends with one.
    pub fn trailing(body: &str) -> Option<Self> {
        let tail = body.trim_end().strip_suffix(" -->")?;
        let start = tail.rfind("<!-- gantry:")?;
        let (action, key) = tail[start + "<!-- gantry:".len()..].split_once(':')?;
        let marker = Self::new(action, key);
        // Only a marker `new` would write (no characters it would have replaced).
        (marker.action == action && marker.key == key).then_some(marker)
    }
}

/// How a sticky comment is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentMode {
    /// Edit the marked comment in place, or create it.
    Update,
    /// Post a new comment and minimize the earlier marked ones as outdated.
    New,
}

/// Upsert the marked comment on the run's pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentEffect {
    /// Finds the comment again.
    pub marker: Marker,
    /// Markdown body, within [`COMMENT_BODY_BUDGET`].
    pub body: String,
    /// Edit in place or post anew.
    pub mode: CommentMode,
    /// The PR or issue number; `None` means "the pull request of this run".
    pub issue_number: Option<u64>,
    /// When set, `body` is one section of a comment several jobs share (matrix jobs with one
    /// `comment-key`): the edge replaces this section and keeps the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
}

/// Sections of a shared comment: `<!-- gantry:section:KEY -->` … `<!-- gantry:section-end:KEY -->`.
fn section_markers(key: &str) -> (String, String) {
    let key = Marker::new("section", key).key;
    (
        format!("<!-- gantry:section:{key} -->"),
        format!("<!-- gantry:section-end:{key} -->"),
    )
}

/// The sections of a comment body, by key, in order. A delimiter counts only on a line of its
/// own, as the merge writes it; one inside a line (quoted in a value) does not.
fn sections_of(body: &str) -> Vec<(String, String)> {
    const OPENER: &str = "<!-- gantry:section:";
    let mut sections = Vec::new();
    let mut from = 0;
    while let Some(found) = body[from..].find(OPENER) {
        let start = from + found;
        from = start + OPENER.len();
        if start > 0 && !body[..start].ends_with('\n') {
            continue;
        }
        let after = &body[from..];
        let Some(key_end) = after.find(" -->\n") else {
            break;
        };
        let key = after[..key_end].to_owned();
        let (_, end_marker) = section_markers(&key);
        // Only a key the merge would write (no line break, no `-->`).
        if Marker::new("section", &key).key != key {
            continue;
        }
        let content_start = key_end + " -->".len();
        let Some(end) = after[content_start..].find(&format!("\n{end_marker}")) else {
            break;
        };
        let content = after[content_start..content_start + end].trim().to_owned();
        sections.push((key, content));
        from += content_start + end + 1 + end_marker.len();
    }
    sections
}

impl CommentEffect {
    /// The one sticky comment of `action` for `key` (`workflow/job`, and whatever else tells
    /// runs apart), edited in place on every run, on the pull request of the run.
    pub fn sticky(action: &str, key: &str, body: String) -> Self {
        Self {
            marker: Marker::new(action, key),
            body,
            mode: CommentMode::Update,
            issue_number: None,
            section: None,
        }
    }

    /// The body with the marker appended.
    pub fn body_with_marker(&self) -> String {
        self.body_merged_into(&[])
    }

    /// The body to write when `existing` are the bodies of the marked comments found (oldest
    /// first): without a section, this body; with one, every section found with ours replaced
    /// or added, ordered by key. The marker comes last.
    pub fn body_merged_into(&self, existing: &[&str]) -> String {
        let Some(key) = &self.section else {
            return format!("{}\n\n{}\n", self.body.trim_end(), self.marker.html());
        };
        let ours_key = Marker::new("section", key).key;
        let mut sections: std::collections::BTreeMap<String, String> =
            existing.iter().flat_map(|body| sections_of(body)).collect();
        sections.insert(ours_key, self.body.trim().to_owned());
        let mut merged = String::new();
        for (index, (key, content)) in sections.iter().enumerate() {
            if index > 0 {
                merged.push_str("\n\n---\n\n");
            }
            let (start, end) = section_markers(key);
            let _ = write!(merged, "{start}\n{content}\n{end}");
        }
        format!("{merged}\n\n{}\n", self.marker.html())
    }

    /// Whether `body` holds this effect's section exactly as it would be written.
    pub fn section_is_in(&self, body: &str) -> bool {
        match &self.section {
            None => body == self.body_with_marker(),
            Some(key) => {
                let ours_key = Marker::new("section", key).key;
                sections_of(body)
                    .iter()
                    .any(|(found, content)| *found == ours_key && content == self.body.trim())
            }
        }
    }
}

/// A check run's conclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckConclusion {
    /// Passed.
    Success,
    /// The gate said no.
    Failure,
    /// Nothing to judge.
    Neutral,
    /// Passed, with something to look at.
    ActionRequired,
}

/// Create a check run on the head commit, with annotations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRunEffect {
    /// Check name (`check-name` input).
    pub name: String,
    /// Commit; `None` means the run's head commit (a PR's head, not its merge commit).
    pub head_sha: Option<String>,
    /// The gate's outcome.
    pub conclusion: CheckConclusion,
    /// One line.
    pub title: String,
    /// Markdown, within [`CHECK_RUN_TEXT_LIMIT`].
    pub summary: String,
    /// More markdown, within [`CHECK_RUN_TEXT_LIMIT`].
    pub text: Option<String>,
    /// All annotations; the edge sends them 50 at a time.
    pub annotations: Vec<Annotation>,
}

/// Upload a SARIF log to code scanning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SarifUploadEffect {
    /// The SARIF JSON, uncompressed.
    pub sarif: String,
    /// Commit; `None` means `GITHUB_SHA`.
    pub commit_sha: Option<String>,
    /// Ref; `None` means `GITHUB_REF`.
    pub git_ref: Option<String>,
    /// Wait until GitHub has processed it and report processing errors.
    pub wait_for_processing: bool,
}

/// Whether a marked issue should be open or closed after the effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssueState {
    /// Create, update or reopen it.
    Open,
    /// Close it if it exists (nothing is created).
    Closed,
}

/// Open, update, reopen or close the issue marked `marker`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueEffect {
    /// Finds the issue again.
    pub marker: Marker,
    /// Title.
    pub title: String,
    /// Markdown body, within [`COMMENT_BODY_BUDGET`].
    pub body: String,
    /// Labels to set when creating.
    pub labels: Vec<String>,
    /// Desired state.
    pub state: IssueState,
    /// A comment to post when this effect changes the issue's state — closes it or reopens it
    /// (never when it creates or edits one, so a rerun says nothing twice).
    #[serde(default)]
    pub comment: Option<String>,
}

impl IssueEffect {
    /// The body with the marker appended.
    pub fn body_with_marker(&self) -> String {
        format!("{}\n\n{}\n", self.body.trim_end(), self.marker.html())
    }
}

/// A deployment status state, as GitHub names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    /// Failed for a reason outside the deployment (infrastructure).
    Error,
    /// The deployment failed.
    Failure,
    /// Superseded.
    Inactive,
    /// Underway.
    InProgress,
    /// Waiting.
    Queued,
    /// Waiting to start.
    Pending,
    /// Deployed.
    Success,
}

/// Post a status on a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentStatusEffect {
    /// Deployment id.
    pub deployment_id: u64,
    /// New state.
    pub state: DeploymentState,
    /// Up to 140 characters.
    pub description: String,
    /// Where the deployed service is reachable.
    pub environment_url: Option<String>,
    /// Where the logs are.
    pub log_url: Option<String>,
}

/// An intent for an edge to carry out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// Upsert a sticky comment.
    Comment(CommentEffect),
    /// Create a check run.
    CheckRun(CheckRunEffect),
    /// Upload SARIF to code scanning.
    UploadSarif(SarifUploadEffect),
    /// Open, update or close a marked issue.
    Issue(IssueEffect),
    /// Post a deployment status.
    DeploymentStatus(DeploymentStatusEffect),
}

impl Effect {
    /// A short name for logs and the local sink's listing.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Comment(_) => "comment",
            Self::CheckRun(_) => "check-run",
            Self::UploadSarif(_) => "sarif-upload",
            Self::Issue(_) => "issue",
            Self::DeploymentStatus(_) => "deployment-status",
        }
    }
}

/// Everything one action run decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The action's name (`terraform-plan`).
    pub action: String,
    /// The gate's decision.
    pub verdict: Verdict,
    /// One line saying why, for logs and the check-run title.
    pub headline: String,
    /// Step outputs (the `result` output is added by the edge from the verdict).
    pub outputs: Outputs,
    /// Step summary markdown (the edge keeps it under the runner's 1 MiB cap).
    pub summary: String,
    /// Annotations, most important first.
    pub annotations: Vec<Annotation>,
    /// Files to write.
    pub files: Vec<OutputFile>,
    /// Intents for the GitHub edge.
    pub effects: Vec<Effect>,
    /// Where a saved report says it came from (`--save-report` records it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<crate::saved::Origin>,
}

impl Report {
    /// An empty report with a verdict.
    pub fn new(action: &str, verdict: Verdict, headline: impl Into<String>) -> Self {
        Self {
            action: action.to_owned(),
            verdict,
            headline: headline.into(),
            outputs: Outputs::default(),
            summary: String::new(),
            annotations: Vec::new(),
            files: Vec::new(),
            effects: Vec::new(),
            origin: None,
        }
    }

    /// The annotations as workflow commands. The runner shows only
    /// [`ANNOTATIONS_SHOWN_PER_LEVEL`] of each level per step, so this keeps the first that many
    /// of each level (the action lists the most important first) and adds one notice saying how
    /// many more there are and where they are.
    pub fn workflow_commands(&self, more_at: &str) -> Vec<WorkflowCommand> {
        let mut commands = Vec::new();
        let mut hidden = 0usize;
        for level in [
            AnnotationLevel::Error,
            AnnotationLevel::Warning,
            AnnotationLevel::Notice,
        ] {
            let of_level = self.annotations.iter().filter(|a| a.level == level);
            let mut shown = 0usize;
            for annotation in of_level {
                let room = if level == AnnotationLevel::Notice && hidden > 0 {
                    ANNOTATIONS_SHOWN_PER_LEVEL - 1
                } else {
                    ANNOTATIONS_SHOWN_PER_LEVEL
                };
                if shown < room {
                    commands.push(WorkflowCommand::Annotation {
                        level,
                        place: annotation.place.clone(),
                        message: annotation.message.clone(),
                    });
                    shown += 1;
                } else {
                    hidden += 1;
                }
            }
        }
        if hidden > 0 {
            commands.push(WorkflowCommand::Annotation {
                level: AnnotationLevel::Notice,
                place: AnnotationPlace {
                    title: Some("More annotations".to_owned()),
                    ..AnnotationPlace::default()
                },
                message: format!(
                    "{hidden} more annotation(s) are not shown here (the runner shows {ANNOTATIONS_SHOWN_PER_LEVEL} of each kind per step); see {more_at}"
                ),
            });
        }
        commands
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_cannot_end_the_html_comment() {
        let marker = Marker::new("terraform-plan", "prod --> <b>x</b> -- aws");
        assert_eq!(
            marker.html(),
            "<!-- gantry:terraform-plan:prod-b-x-/b-aws -->"
        );
        assert!(marker.is_in(&format!("body\n{}", marker.html())));
        assert!(!Marker::new("terraform-plan", "other").is_in(&marker.html()));
    }

    fn annotation(level: AnnotationLevel, n: u32) -> Annotation {
        Annotation {
            level,
            place: AnnotationPlace {
                file: Some("a.rs".into()),
                line: Some(n),
                ..AnnotationPlace::default()
            },
            message: format!("m{n}"),
        }
    }

    #[test]
    fn at_most_ten_annotations_per_level_and_a_note_for_the_rest() {
        let mut report = Report::new("quality-gate", Verdict::Failed, "2 failed");
        report.annotations = (1..=25)
            .map(|n| annotation(AnnotationLevel::Error, n))
            .chain((1..=3).map(|n| annotation(AnnotationLevel::Warning, n)))
            .collect();
        let commands = report.workflow_commands("the check run");
        let errors = commands
            .iter()
            .filter(|c| c.to_string().starts_with("::error"))
            .count();
        assert_eq!(errors, 10);
        let last = commands.last().unwrap().to_string();
        assert!(
            last.starts_with("::notice title=More annotations::15 more"),
            "{last}"
        );
        assert_eq!(commands.len(), 10 + 3 + 1);
    }

    #[test]
    fn sections_of_a_shared_comment_merge_by_key() {
        let effect = |key: &str, body: &str| CommentEffect {
            marker: Marker::new("terraform-plan", "shared"),
            body: body.to_owned(),
            mode: CommentMode::Update,
            issue_number: None,
            section: Some(key.to_owned()),
        };
        let gcp = effect("gcp", "gcp plan v1").body_merged_into(&[]);
        let both = effect("aws", "aws plan").body_merged_into(&[&gcp]);
        assert!(
            both.find("aws plan").unwrap() < both.find("gcp plan v1").unwrap(),
            "ordered by key"
        );
        let updated = effect("gcp", "gcp plan v2").body_merged_into(&[&both]);
        assert!(
            updated.contains("aws plan")
                && updated.contains("gcp plan v2")
                && !updated.contains("v1")
        );
        assert!(updated.ends_with("<!-- gantry:terraform-plan:shared -->\n"));
        assert!(effect("gcp", "gcp plan v2").section_is_in(&updated));
        assert!(!effect("gcp", "gcp plan v1").section_is_in(&updated));
        // A duplicate comment's sections are folded in too.
        let azure = effect("azure", "azure plan").body_merged_into(&[]);
        let merged = effect("aws", "aws plan").body_merged_into(&[&updated, &azure]);
        assert_eq!(sections_of(&merged).len(), 3);
    }

    #[test]
    fn a_marker_counts_only_at_the_end_of_a_body() {
        let marker = Marker::new("terraform-plan", "infra");
        assert!(marker.is_in("plan\n\n<!-- gantry:terraform-plan:infra -->\n"));
        // Quoted in a value of another comment, or with text appended after it.
        assert!(!marker.is_in(
            "test `<!-- gantry:terraform-plan:infra -->` failed\n\n<!-- gantry:quality-gate:ci -->\n"
        ));
        assert!(!marker.is_in("<!-- gantry:terraform-plan:infra -->\nApproved by @admins"));
        // A marker `new` would never write (characters it replaces) is none.
        assert_eq!(
            Marker::trailing("x <!-- gantry:terraform-plan:in fra -->"),
            None
        );
        assert_eq!(
            Marker::trailing("x\n<!-- gantry:drift-report:stack/prod -->\n"),
            Some(Marker::new("drift-report", "stack/prod"))
        );
    }

    #[test]
    fn a_section_delimiter_inside_a_line_is_content_not_a_section() {
        let effect = CommentEffect {
            marker: Marker::new("terraform-plan", "shared"),
            body: "value `<!-- gantry:section-end:aws -->` then\n<!-- gantry:section:evil -->x"
                .to_owned(),
            mode: CommentMode::Update,
            issue_number: None,
            section: Some("aws".to_owned()),
        };
        let body = effect.body_merged_into(&[]);
        let sections = sections_of(&body);
        assert_eq!(sections.len(), 1, "{sections:?}");
        assert_eq!(sections[0].0, "aws");
        assert!(effect.section_is_in(&body));
    }

    #[test]
    fn reports_round_trip_through_json() {
        let mut report = Report::new("security-scan", Verdict::Passed, "no new findings");
        report.effects.push(Effect::Comment(CommentEffect {
            marker: Marker::new("security-scan", "default"),
            body: "hello".into(),
            mode: CommentMode::Update,
            issue_number: None,
            section: None,
        }));
        let json = serde_json::to_string(&report).unwrap();
        assert!(json.contains(r#""type":"comment""#), "{json}");
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
    }
}
