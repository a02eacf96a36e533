//! `gantry drift-report`: reads the plans, reads each release's deployed manifest and the live
//! objects from the cluster, reads what the action's issues said last time, and hands it all to
//! `gantry-drift-report`. Nothing is written before everything is read: a bad plan or an
//! unknown release stops the run with nothing posted.

use std::collections::BTreeMap;

use gantry_core::report::Report;
use gantry_drift_report::kube::{self, Desired};
use gantry_drift_report::{NAME, Options, Previous, ReleaseSource, previous_from, run};
use gantry_github::{GitHubError, GitHubSink, Target};
use gantry_helm_deploy::release::Status;
use gantry_kube::{Cluster, Error as KubeError};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;

use crate::actions::terraform_plan::{read_plans, sources};
use crate::invocation::{ActionFailure, Invocation};

/// Runs the action.
pub fn run_action(invocation: &Invocation) -> Result<Report, ActionFailure> {
    let context = &invocation.context;
    let run_url = match (&context.repository, &context.run_id) {
        (Some(repository), Some(run)) => Some(format!(
            "{}/{repository}/actions/runs/{run}",
            context.server_url.trim_end_matches('/')
        )),
        _ => None,
    };
    let options = Options::from_inputs(&invocation.inputs, rfc3339_now(), run_url)?;
    let command = invocation
        .inputs
        .optional("terraform-command")
        .unwrap_or_else(|| "terraform".to_owned());
    let plans = read_plans(invocation, "plans", &command)?;
    let stacks = sources(&plans);
    // Bad plans are bad input before the cluster or GitHub is asked anything.
    for stack in &stacks {
        gantry_drift_report::terraform::analyse(
            &stack.name,
            &stack.file,
            stack.bytes,
            &options.ignore,
        )
        .map_err(|error| ActionFailure::InvalidInput(error.to_string()))?;
    }
    let names = release_names(&invocation.inputs.list("releases"))?;
    let releases = if names.is_empty() {
        Vec::new()
    } else {
        let context_name = invocation.inputs.optional("kube-context");
        block_on(read_releases(context_name.as_deref(), &names))??
    };
    let previous = if options.issues {
        previous_issues(invocation)?
    } else {
        BTreeMap::new()
    };
    run(&options, &stacks, &releases, &previous)
        .map_err(|error| ActionFailure::InvalidInput(error.to_string()))
}

fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, ActionFailure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            ActionFailure::Service(format!("cannot start the async runtime: {error}"))
        })?;
    Ok(runtime.block_on(future))
}

/// `namespace/name` lines.
fn release_names(lines: &[String]) -> Result<Vec<(String, String)>, ActionFailure> {
    let mut names = Vec::new();
    for line in lines {
        let valid = |part: &str| {
            !part.is_empty()
                && part.len() <= 63
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
        };
        match line.trim().split_once('/') {
            Some((namespace, name)) if valid(namespace) && valid(name) => {
                let pair = (namespace.to_owned(), name.to_owned());
                if !names.contains(&pair) {
                    names.push(pair);
                }
            }
            _ => {
                return Err(ActionFailure::InvalidInput(format!(
                    "releases: `{line}` is not `namespace/name` (lowercase letters, digits, `-` and `.`)"
                )));
            }
        }
    }
    Ok(names)
}

fn kube_failure(release: &str, error: &KubeError) -> ActionFailure {
    if error.unreachable() {
        ActionFailure::Service(format!("release {release}: {error}"))
    } else {
        ActionFailure::InvalidInput(format!("release {release}: {error}"))
    }
}

/// Each release's last deployed manifest and its objects as they are live.
async fn read_releases(
    context: Option<&str>,
    names: &[(String, String)],
) -> Result<Vec<ReleaseSource>, ActionFailure> {
    let first = &names[0].0;
    let cluster = Cluster::connect(context, first)
        .await
        .map_err(|error| ActionFailure::InvalidInput(error.to_string()))?;
    let mut releases = Vec::new();
    let mut autoscalers: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for (namespace, name) in names {
        let label = format!("{namespace}/{name}");
        let cluster = cluster.in_namespace(namespace);
        let history = cluster
            .history(name)
            .await
            .map_err(|error| kube_failure(&label, &error))?;
        let Some(deployed) = history
            .iter()
            .find(|revision| revision.status == Status::Deployed)
        else {
            let found = history.first().map_or_else(
                || {
                    "no release records (Secrets `sh.helm.release.v1.…`) in that namespace"
                        .to_owned()
                },
                |head| {
                    format!(
                        "no deployed revision (the newest, {}, is {:?})",
                        head.revision, head.status
                    )
                },
            );
            return Err(ActionFailure::InvalidInput(format!(
                "releases: {label}: {found}; is the name right, and was it installed with Helm 3 or later?"
            )));
        };
        let note = history
            .first()
            .filter(|head| head.revision != deployed.revision)
            .map(|head| {
                format!(
                    "the newest revision, {}, is {:?}: compared with revision {}, the last deployed",
                    head.revision, head.status, deployed.revision
                )
            });
        let desired = kube::desired(&label, deployed.revision, &deployed.manifest)
            .map_err(|error| ActionFailure::InvalidInput(error.to_string()))?;
        let mut objects = Vec::with_capacity(desired.len());
        for object in desired {
            let live = cluster
                .get_object(
                    &object.api_version,
                    &object.kind,
                    object.namespace.as_deref(),
                    &object.name,
                )
                .await
                .map_err(|error| kube_failure(&label, &error))?;
            objects.push((object, live));
        }
        if !autoscalers.contains_key(namespace) {
            let live: Vec<HorizontalPodAutoscaler> = cluster
                .list("")
                .await
                .map_err(|error| kube_failure(&label, &error))?;
            let values = live
                .iter()
                .filter_map(|hpa| serde_json::to_value(hpa).ok())
                .map(|mut value| {
                    value["kind"] = serde_json::Value::from("HorizontalPodAutoscaler");
                    value
                })
                .collect();
            autoscalers.insert(namespace.clone(), values);
        }
        let mut hpas: Vec<serde_json::Value> = autoscalers[namespace].clone();
        hpas.extend(
            objects
                .iter()
                .map(|(desired, _): &(Desired, _)| desired.object.clone()),
        );
        releases.push(ReleaseSource {
            namespace: namespace.clone(),
            name: name.clone(),
            revision: deployed.revision,
            note,
            autoscaled: kube::autoscaled(&hpas),
            objects,
        });
    }
    Ok(releases)
}

/// What this action's issues say, by marker key: read only when the effects will go to GitHub.
fn previous_issues(invocation: &Invocation) -> Result<BTreeMap<String, Previous>, ActionFailure> {
    let context = &invocation.context;
    let (Some(token), false, Some((owner, repository))) = (
        invocation.inputs.optional("github-token"),
        invocation.dry_run,
        context.owner_and_name(),
    ) else {
        return Ok(BTreeMap::new());
    };
    let target = Target {
        owner: owner.to_owned(),
        repository: repository.to_owned(),
        pull_request: None,
        head_sha: None,
        sha: context.sha.clone(),
        git_ref: context.git_ref.clone(),
        run_key: String::new(),
    };
    // All issues, once a run: an issue someone took the label off still carries its history
    // (publishing then looks among the labelled ones first, one page per stack).
    let author = invocation.inputs.optional("comment-author");
    let found = crate::publishing::with_github(context, token, async |client| {
        GitHubSink::new(client, target)
            .with_author(author.as_deref())
            .marked_issues(NAME, None)
            .await
    });
    match found {
        Ok(issues) => Ok(issues
            .into_iter()
            .map(|issue| (issue.key, previous_from(&issue.body, issue.open)))
            .collect()),
        // A token that may not read issues cannot write them either: publishing will say so.
        Err(GitHubError::NotPermitted { .. }) => Ok(BTreeMap::new()),
        Err(error) => Err(ActionFailure::Service(format!("GitHub: {error}"))),
    }
}

/// The time now, `2026-12-04T06:00:00Z`.
fn rfc3339_now() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    rfc3339(seconds)
}

/// Seconds since the epoch as RFC 3339 UTC.
fn rfc3339(seconds: u64) -> String {
    let day =
        crate::actions::security_scan::civil_day(i64::try_from(seconds / 86_400).unwrap_or(0));
    let rest = seconds % 86_400;
    format!(
        "{day}T{:02}:{:02}:{:02}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_796_400_000), "2026-12-04T16:00:00Z");
    }

    #[test]
    fn releases_are_namespace_slash_name() {
        assert_eq!(
            release_names(&["shop/cart".to_owned(), "shop/cart".to_owned()]).unwrap(),
            [("shop".to_owned(), "cart".to_owned())]
        );
        for bad in ["cart", "shop/", "Shop/cart", "shop/cart/x"] {
            assert!(release_names(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }
}
