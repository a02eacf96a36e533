//! A saved report, published from a trusted job (`gantry publish` in a `workflow_run` job).
//!
//! The run that saved it may be a fork's: the workflow, the code and so the artifact are the
//! fork's, whatever the report says. [`confine`] keeps only what such a report may ask for —
//! the sticky comment on the pull request, one check run on its head commit named by the
//! trusted job, one SARIF upload for that commit and the pull request's head ref — with every
//! text made inert ([`crate::markdown::inert`]) and within GitHub's limits. A report that asks
//! for anything more is refused whole: it is not half-honoured.

use serde::{Deserialize, Serialize};

use crate::markdown::{fit, inert};
use crate::report::{
    Annotation, CHECK_RUN_TEXT_LIMIT, COMMENT_BODY_BUDGET, CheckRunEffect, CommentEffect,
    CommentMode, Effect, Marker, Report, SarifUploadEffect,
};
use crate::runner::Outputs;

/// Annotations a saved report may put on its check run (each request carries 50; a report
/// must not spend the trusted token's rate limit).
pub const MAX_ANNOTATIONS: usize = 1_000;
/// GitHub's limit on a check run's title and an annotation's title.
const TITLE_LIMIT: usize = 255;
/// GitHub's limit on an annotation's message.
const ANNOTATION_MESSAGE_LIMIT: usize = 64 * 1024;
/// The step summary of the trusted job: the runner takes 1 MiB.
const SUMMARY_LIMIT: usize = 1024 * 1024;

/// Where a saved report says it came from, as the run that saved it recorded it. Only a
/// suggestion: the trusted side checks the pull request against GitHub before it uses it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The gantry version that wrote the report.
    pub gantry_version: String,
    /// The run's pull request, when it had one.
    pub pull_request: Option<u64>,
    /// The commit the run tested (a pull request's head).
    pub head_sha: Option<String>,
}

/// What the trusted job knows: the pull request and commit to publish for, and the names it
/// gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The pull request whose head is `head_sha`, as GitHub says.
    pub pull_request: u64,
    /// The commit the run tested (`workflow_run.head_sha`).
    pub head_sha: String,
    /// The check run's name (`check-name` on `publish`).
    pub check_name: String,
    /// The action the report must come from (`--action`): the trusted job says, never the
    /// report.
    pub action: String,
    /// The key of the sticky comment (`--comment-key`): which comment the report may write is
    /// the trusted job's choice, never the report's.
    pub comment_key: String,
}

/// The prefix of every section a saved report writes in a shared comment: a fork's report can
/// only replace sections saved reports wrote, never one a trusted run wrote.
pub const SAVED_SECTION_PREFIX: &str = "saved/";

impl Scope {
    /// The ref code scanning pairs with the head commit of the pull request.
    pub fn head_ref(&self) -> String {
        format!("refs/pull/{}/head", self.pull_request)
    }
}

/// Why a saved report is not published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// From another action than the job publishes.
    #[error("the report is from `{found}`, and this job publishes `{expected}` reports")]
    OtherAction {
        /// The report's action.
        found: String,
        /// The action the job was told.
        expected: String,
    },
    /// An effect no saved report may ask for.
    #[error(
        "the report asks for {what}; a saved report may only ask for the pull request's comment, one check run on its head commit and one SARIF upload for it"
    )]
    NotAllowed {
        /// The effect, in words.
        what: &'static str,
    },
    /// More than one effect of a kind.
    #[error("the report asks for {count} {what}; a saved report may ask for one")]
    TooMany {
        /// The effect, in words.
        what: &'static str,
        /// How many.
        count: usize,
    },
    /// An effect on another commit.
    #[error(
        "the report asks for {what} on commit {found}, not on {expected}, the commit its run tested"
    )]
    OtherCommit {
        /// The effect, in words.
        what: &'static str,
        /// The commit it names.
        found: String,
        /// The run's head commit.
        expected: String,
    },
    /// Saved by a run of another commit.
    #[error(
        "the report was saved by a run of commit {found}, not of {expected}, the commit this workflow_run tested"
    )]
    OtherRun {
        /// The commit the report says it was saved for.
        found: String,
        /// The run's head commit.
        expected: String,
    },
    /// A SARIF upload for another ref.
    #[error("the report asks for a SARIF upload for `{found}`, not for `{expected}`")]
    OtherRef {
        /// The ref it names.
        found: String,
        /// The pull request's head ref.
        expected: String,
    },
    /// A SARIF log code scanning would refuse (found before anything is published).
    #[error("the report's SARIF would be refused by code scanning: {problems}")]
    SarifRules {
        /// What breaks the upload rules.
        problems: String,
    },
    /// A comment on another pull request or issue.
    #[error("the report asks for a comment on #{found}, not on pull request #{expected}")]
    OtherPullRequest {
        /// The number it names.
        found: u64,
        /// The pull request of the run.
        expected: u64,
    },
}

/// The report as it may be published for `scope`: see the module documentation. Besides its
/// effects, the report's own files, outputs and workflow annotations are dropped (they were
/// the untrusted run's: its files were written there, and an output or an annotation here
/// would land in the trusted job, on its commit); the step summary is kept, inert.
///
/// # Errors
/// [`Refusal`], naming what the report asked for that it may not.
pub fn confine(report: Report, scope: &Scope) -> Result<Report, Refusal> {
    if report.action != scope.action {
        return Err(Refusal::OtherAction {
            found: report.action,
            expected: scope.action.clone(),
        });
    }
    // A report saved by another run than the one that tested this commit (an artifact swapped,
    // or a report carried over) is not this run's.
    if let Some(found) = report
        .origin
        .as_ref()
        .and_then(|origin| origin.head_sha.clone())
    {
        if found != scope.head_sha {
            return Err(Refusal::OtherRun {
                found,
                expected: scope.head_sha.clone(),
            });
        }
    }
    let count = |wanted: &str| {
        report
            .effects
            .iter()
            .filter(|effect| effect.kind() == wanted)
            .count()
    };
    for (kind, what) in [
        ("comment", "comments"),
        ("check-run", "check runs"),
        ("sarif-upload", "SARIF uploads"),
    ] {
        let count = count(kind);
        if count > 1 {
            return Err(Refusal::TooMany { what, count });
        }
    }
    let mut effects = Vec::new();
    for effect in report.effects {
        effects.push(match effect {
            Effect::Comment(comment) => Effect::Comment(confine_comment(comment, scope)?),
            Effect::CheckRun(check) => Effect::CheckRun(confine_check(check, scope)?),
            Effect::UploadSarif(upload) => Effect::UploadSarif(confine_sarif(upload, scope)?),
            Effect::Issue(_) => return Err(Refusal::NotAllowed { what: "an issue" }),
            Effect::DeploymentStatus(_) => {
                return Err(Refusal::NotAllowed {
                    what: "a deployment status",
                });
            }
        });
    }
    Ok(Report {
        action: Marker::new(&report.action, "-").action().to_owned(),
        verdict: report.verdict,
        headline: one_line(&report.headline, TITLE_LIMIT),
        outputs: Outputs::default(),
        summary: inert_within(&report.summary, SUMMARY_LIMIT),
        annotations: Vec::new(),
        files: Vec::new(),
        effects,
        origin: report.origin,
    })
}

/// Untrusted markdown, inert and cut to `limit` bytes.
fn inert_within(text: &str, limit: usize) -> String {
    fit(&inert(text), limit).into_owned()
}

/// The first line of untrusted text, inert and cut to `limit` bytes.
fn one_line(text: &str, limit: usize) -> String {
    inert_within(text.lines().next().unwrap_or_default(), limit)
}

/// `found` (when the report names a commit) must be the run's head.
fn on_the_head(found: Option<String>, what: &'static str, scope: &Scope) -> Result<(), Refusal> {
    match found {
        Some(found) if found != scope.head_sha => Err(Refusal::OtherCommit {
            what,
            found,
            expected: scope.head_sha.clone(),
        }),
        _ => Ok(()),
    }
}

fn confine_comment(comment: CommentEffect, scope: &Scope) -> Result<CommentEffect, Refusal> {
    if let Some(found) = comment.issue_number {
        if found != scope.pull_request {
            return Err(Refusal::OtherPullRequest {
                found,
                expected: scope.pull_request,
            });
        }
    }
    Ok(CommentEffect {
        // The trusted job's action and key: the report's marker is never read.
        marker: Marker::new(&scope.action, &scope.comment_key),
        body: inert_within(&comment.body, COMMENT_BODY_BUDGET),
        // Edited in place: `new` would minimize comments the report did not write.
        mode: CommentMode::Update,
        issue_number: Some(scope.pull_request),
        section: comment.section.map(|section| {
            let key = Marker::new("section", &section).key().to_owned();
            format!("{SAVED_SECTION_PREFIX}{key}")
        }),
    })
}

fn confine_check(check: CheckRunEffect, scope: &Scope) -> Result<CheckRunEffect, Refusal> {
    on_the_head(check.head_sha, "a check run", scope)?;
    Ok(CheckRunEffect {
        name: scope.check_name.clone(),
        head_sha: Some(scope.head_sha.clone()),
        conclusion: check.conclusion,
        title: one_line(&check.title, TITLE_LIMIT),
        summary: inert_within(&check.summary, CHECK_RUN_TEXT_LIMIT),
        text: check
            .text
            .map(|text| inert_within(&text, CHECK_RUN_TEXT_LIMIT)),
        annotations: check
            .annotations
            .into_iter()
            .take(MAX_ANNOTATIONS)
            .map(|annotation| Annotation {
                message: inert_within(&annotation.message, ANNOTATION_MESSAGE_LIMIT),
                place: crate::runner::AnnotationPlace {
                    title: annotation
                        .place
                        .title
                        .map(|title| one_line(&title, TITLE_LIMIT)),
                    ..annotation.place
                },
                ..annotation
            })
            .collect(),
    })
}

fn confine_sarif(upload: SarifUploadEffect, scope: &Scope) -> Result<SarifUploadEffect, Refusal> {
    on_the_head(upload.commit_sha, "a SARIF upload", scope)?;
    let expected = scope.head_ref();
    if let Some(found) = upload.git_ref {
        if found != expected {
            return Err(Refusal::OtherRef { found, expected });
        }
    }
    let problems = crate::sarif::upload_problems(&upload.sarif);
    if !problems.is_empty() {
        return Err(Refusal::SarifRules {
            problems: problems.join("; "),
        });
    }
    Ok(SarifUploadEffect {
        sarif: upload.sarif,
        commit_sha: Some(scope.head_sha.clone()),
        git_ref: Some(expected),
        wait_for_processing: upload.wait_for_processing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{
        CheckConclusion, DeploymentState, DeploymentStatusEffect, IssueEffect, IssueState, Verdict,
    };

    const HEAD: &str = "0123456789abcdef0123456789abcdef01234567";

    fn scope() -> Scope {
        Scope {
            pull_request: 7,
            head_sha: HEAD.to_owned(),
            check_name: "security-scan".to_owned(),
            action: "security-scan".to_owned(),
            comment_key: "ci/scan".to_owned(),
        }
    }

    fn check(name: &str, head_sha: Option<&str>) -> Effect {
        Effect::CheckRun(CheckRunEffect {
            name: name.to_owned(),
            head_sha: head_sha.map(str::to_owned),
            conclusion: CheckConclusion::Success,
            title: "all good".to_owned(),
            summary: "summary".to_owned(),
            text: None,
            annotations: Vec::new(),
        })
    }

    fn sarif(commit: Option<&str>, git_ref: Option<&str>) -> Effect {
        Effect::UploadSarif(SarifUploadEffect {
            sarif: r#"{"version":"2.1.0","runs":[]}"#.to_owned(),
            commit_sha: commit.map(str::to_owned),
            git_ref: git_ref.map(str::to_owned),
            wait_for_processing: false,
        })
    }

    fn report(effects: Vec<Effect>) -> Report {
        let mut report = Report::new("security-scan", Verdict::Passed, "no findings");
        report.summary = "summary".to_owned();
        report.outputs.set("critical", "0");
        report.files.push(crate::report::OutputFile {
            path: "../../.github/workflows/x.yml".to_owned(),
            contents: String::from("on: push").into(),
        });
        report.effects = effects;
        report
    }

    #[test]
    fn an_honest_report_is_kept_to_the_pull_request_and_its_head() {
        let confined = confine(
            report(vec![
                Effect::Comment(CommentEffect::sticky(
                    "security-scan",
                    "ci/scan",
                    "body".into(),
                )),
                check("required-security-review", None),
                sarif(None, None),
            ]),
            &scope(),
        )
        .unwrap();
        let [
            Effect::Comment(comment),
            Effect::CheckRun(check),
            Effect::UploadSarif(upload),
        ] = confined.effects.as_slice()
        else {
            panic!("{:?}", confined.effects);
        };
        assert_eq!(comment.issue_number, Some(7));
        assert_eq!(comment.marker, Marker::new("security-scan", "ci/scan"));
        // Named by the trusted job, never by the report; on the run's head.
        assert_eq!(check.name, "security-scan");
        assert_eq!(check.head_sha.as_deref(), Some(HEAD));
        // The head commit pairs with the head ref.
        assert_eq!(upload.commit_sha.as_deref(), Some(HEAD));
        assert_eq!(upload.git_ref.as_deref(), Some("refs/pull/7/head"));
        // Nothing of the untrusted run lands in the trusted job.
        assert!(confined.files.is_empty());
        assert!(confined.outputs.iter().next().is_none());
        assert!(confined.annotations.is_empty());
    }

    #[test]
    fn a_report_asking_for_more_than_its_pull_request_is_refused_whole() {
        let issue = Effect::Issue(IssueEffect {
            marker: Marker::new("security-scan", "x"),
            title: "t".into(),
            body: "b".into(),
            labels: Vec::new(),
            state: IssueState::Open,
            comment: None,
        });
        let deployment = Effect::DeploymentStatus(DeploymentStatusEffect {
            deployment_id: 1,
            state: DeploymentState::Success,
            description: "d".into(),
            environment_url: None,
            log_url: None,
        });
        let mut other_pr = CommentEffect::sticky("security-scan", "k", "b".into());
        other_pr.issue_number = Some(8);
        let other = "ffffffffffffffffffffffffffffffffffffffff";
        let cases: Vec<(Vec<Effect>, &str)> = vec![
            (vec![check("c", Some(other))], "on commit ffff"),
            (vec![issue], "asks for an issue"),
            (vec![deployment], "a deployment status"),
            (
                vec![sarif(None, Some("refs/heads/main"))],
                "`refs/heads/main`",
            ),
            (vec![sarif(Some(other), None)], "a SARIF upload on commit"),
            (
                vec![Effect::Comment(other_pr)],
                "#8, not on pull request #7",
            ),
            (vec![check("a", None), check("b", None)], "2 check runs"),
        ];
        for (effects, says) in cases {
            let refusal = confine(report(effects.clone()), &scope()).unwrap_err();
            assert!(
                refusal.to_string().contains(says),
                "{refusal} for {effects:?}"
            );
        }
        let mut carried_over = report(Vec::new());
        carried_over.origin = Some(Origin {
            gantry_version: "0.1.0".into(),
            pull_request: Some(7),
            head_sha: Some(other.to_owned()),
        });
        let refusal = confine(carried_over, &scope()).unwrap_err();
        assert!(
            refusal
                .to_string()
                .starts_with("the report was saved by a run of commit ffff"),
            "{refusal}"
        );
        let mut other_action = report(Vec::new());
        other_action.action = "quality-gate".into();
        assert!(matches!(
            confine(other_action, &scope()),
            Err(Refusal::OtherAction { .. })
        ));
    }

    #[test]
    fn texts_are_inert_and_within_limits_whatever_the_report_says() {
        // A marker read from JSON was never cleaned: it could end the HTML comment.
        let comment: CommentEffect = serde_json::from_value(serde_json::json!({
            "marker": {"action": "security-scan", "key": "x --> <!-- gantry:terraform-plan:ci"},
            "body": format!(
                "cc @octo-org/admins, fixes #12\n<!-- gantry:terraform-plan:ci/plan -->\n{}",
                "x".repeat(200_000)
            ),
            "mode": "update",
            "issue_number": null
        }))
        .unwrap();
        let mut check = CheckRunEffect {
            name: "n".into(),
            head_sha: None,
            conclusion: CheckConclusion::Failure,
            title: "line one @team\nline two".into(),
            summary: "s".repeat(100_000),
            text: Some("@here".into()),
            annotations: Vec::new(),
        };
        check.annotations = (0..5_000)
            .map(|line| Annotation {
                level: crate::runner::AnnotationLevel::Error,
                place: crate::runner::AnnotationPlace {
                    file: Some("a.py".into()),
                    line: Some(line),
                    title: Some("@admins".into()),
                    ..Default::default()
                },
                message: "ping @admins about #3".into(),
            })
            .collect();
        let confined = confine(
            report(vec![Effect::Comment(comment), Effect::CheckRun(check)]),
            &scope(),
        )
        .unwrap();
        let [Effect::Comment(comment), Effect::CheckRun(check)] = confined.effects.as_slice()
        else {
            panic!()
        };
        let body = comment.body_with_marker();
        assert!(body.len() <= crate::report::COMMENT_LIMIT_BYTES);
        assert!(!body.contains("@octo") && !body.contains("#12"));
        assert!(!Marker::new("terraform-plan", "ci/plan").is_in(&body));
        assert_eq!(
            body.matches("<!-- gantry:").count(),
            1,
            "only our own marker"
        );
        assert!(
            comment.marker.html().ends_with(" -->")
                && comment.marker.html().matches("-->").count() == 1
        );
        assert_eq!(check.title, "line one @\u{200B}team");
        assert!(check.summary.len() <= CHECK_RUN_TEXT_LIMIT);
        assert_eq!(check.annotations.len(), MAX_ANNOTATIONS);
        assert!(
            check
                .annotations
                .iter()
                .all(|a| !a.message.contains("@admins")
                    && a.place.title.as_deref() == Some("@\u{200B}admins"))
        );
    }

    #[test]
    fn the_trusted_job_decides_what_a_saved_report_overwrites() {
        // A fork's report claims terraform-plan's comment, another key, mode `new` and the
        // trusted `prod` section.
        let claimed = CommentEffect {
            marker: Marker::new("terraform-plan", "infra"),
            body: "Plan: 0 to destroy".into(),
            mode: CommentMode::New,
            issue_number: None,
            section: Some("prod".into()),
        };
        let mut forged = report(vec![Effect::Comment(claimed)]);
        forged.action = "terraform-plan".into();
        let mut trusted = scope();
        trusted.action = "terraform-plan".into();
        trusted.comment_key = "fork-plans".into();
        let confined = confine(forged.clone(), &trusted).unwrap();
        let [Effect::Comment(comment)] = confined.effects.as_slice() else {
            panic!("{:?}", confined.effects)
        };
        assert_eq!(comment.marker, Marker::new("terraform-plan", "fork-plans"));
        assert_eq!(comment.mode, CommentMode::Update);
        assert_eq!(comment.section.as_deref(), Some("saved/prod"));
        // The section a trusted run wrote is not the saved report's to replace.
        let trusted_prod = CommentEffect {
            section: Some("prod".into()),
            ..CommentEffect::sticky("terraform-plan", "fork-plans", "Plan: 3 to destroy".into())
        }
        .body_merged_into(&[]);
        let merged = comment.body_merged_into(&[&trusted_prod]);
        assert!(merged.contains("Plan: 3 to destroy"), "{merged}");
        // Told another action, the job refuses the report whole.
        assert!(matches!(
            confine(forged, &scope()),
            Err(Refusal::OtherAction { .. })
        ));
    }

    #[test]
    fn a_sarif_code_scanning_would_refuse_is_refused_before_anything_is_published() {
        let runs: Vec<serde_json::Value> = (0..2)
            .map(|_| serde_json::json!({"tool": {"driver": {"name": "trivy"}}, "results": []}))
            .collect();
        let doubled = serde_json::json!({"version": "2.1.0", "runs": runs}).to_string();
        let comment = Effect::Comment(CommentEffect::sticky("security-scan", "k", "b".into()));
        let upload = Effect::UploadSarif(SarifUploadEffect {
            sarif: doubled,
            commit_sha: None,
            git_ref: None,
            wait_for_processing: false,
        });
        let refusal = confine(report(vec![comment, upload]), &scope()).unwrap_err();
        assert!(
            matches!(&refusal, Refusal::SarifRules { problems } if problems.contains("tool `trivy`")),
            "{refusal}"
        );
    }
}
