//! The `helm` command lines a deploy runs, built here so that what runs is what the tests read.
//!
//! No `--wait` and no `--atomic`: Helm 3 then returns once the objects are written and Helm 4
//! waits for hooks only (its default `hookOnly`), both under `--timeout`; the deploy then waits by
//! kubectl's rules and fails at the first failing pod, which Helm's waiter cannot.

use crate::plan::Track;

/// How to run `helm` for one deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helm {
    /// The release's namespace.
    pub namespace: String,
    /// The kubeconfig context, if not the current one.
    pub kube_context: Option<String>,
    /// Whether the chart keeps Gantry's chart contract: only then is `gantry.track` set. A
    /// chart as published gets the user's values alone (a strict `values.schema.json` refuses
    /// a key it does not know).
    pub contract: bool,
    /// Whether Helm's upgrades and rollbacks take back the fields Gantry wrote on the chart's
    /// own objects (`--force-conflicts`): Helm 4 applies server-side, and the API server
    /// refuses an apply that changes a field another manager set — the route weights or the
    /// Service selector Gantry wrote during a canary or blue-green. Helm 3 merges client-side
    /// and has no such flag.
    pub force_conflicts: bool,
}

/// Whether a `helm version --short` (`v4.0.1+g…`, `v3.17.2+g…`) is Helm 4 or later, which
/// applies server-side.
#[must_use]
pub fn applies_server_side(version: &str) -> bool {
    version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse::<u32>().ok())
        .is_some_and(|major| major >= 4)
}

/// The chart and the user's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// A path, `repo/name`, or an `oci://` reference.
    pub reference: String,
    /// The chart version, if pinned.
    pub version: Option<String>,
    /// Values files, in order.
    pub values: Vec<String>,
    /// `key=value` overrides, in order.
    pub set: Vec<String>,
}

/// `helm`'s `--timeout`: whole seconds, at least one.
fn timeout(seconds: u64) -> String {
    format!("{}s", seconds.max(1))
}

impl Helm {
    fn scope(&self, args: &mut Vec<String>) {
        args.push("--namespace".to_owned());
        args.push(self.namespace.clone());
        if let Some(context) = &self.kube_context {
            args.push("--kube-context".to_owned());
            args.push(context.clone());
        }
    }

    /// `helm upgrade --install` of a track's release: the user's values, then the track, then
    /// any values the deploy pins (last, so they win).
    #[must_use]
    pub fn upgrade(
        &self,
        release: &str,
        track: Track,
        chart: &Chart,
        pinned: &[String],
        seconds: u64,
    ) -> Vec<String> {
        let mut args = vec![
            "upgrade".to_owned(),
            track.name(release),
            chart.reference.clone(),
            "--install".to_owned(),
        ];
        self.scope(&mut args);
        chart_args(&mut args, chart);
        if self.contract {
            args.push("--set".to_owned());
            args.push(format!("gantry.track={}", track.word()));
        }
        for set in pinned {
            args.push("--set".to_owned());
            args.push(set.clone());
        }
        if self.force_conflicts {
            args.push("--force-conflicts".to_owned());
        }
        args.push("--timeout".to_owned());
        args.push(timeout(seconds));
        args
    }

    /// `helm template` of a track's release with the new chart and values, as the upgrade
    /// would render it (`--is-upgrade`), without its hooks: the stable release's is what Gantry
    /// copies as the canary or green when the chart keeps no contract; with the contract, every
    /// track's is rendered to find names two releases would both claim.
    #[must_use]
    pub fn template(&self, release: &str, track: Track, chart: &Chart) -> Vec<String> {
        let mut args = vec![
            "template".to_owned(),
            track.name(release),
            chart.reference.clone(),
        ];
        self.scope(&mut args);
        chart_args(&mut args, chart);
        if self.contract {
            args.push("--set".to_owned());
            args.push(format!("gantry.track={}", track.word()));
        }
        args.push("--is-upgrade".to_owned());
        args.push("--no-hooks".to_owned());
        args
    }

    /// `helm rollback` to a revision (Helm writes it as a new revision).
    #[must_use]
    pub fn rollback(&self, release: &str, revision: u32, seconds: u64) -> Vec<String> {
        let mut args = vec![
            "rollback".to_owned(),
            release.to_owned(),
            revision.to_string(),
        ];
        self.scope(&mut args);
        if self.force_conflicts {
            args.push("--force-conflicts".to_owned());
        }
        args.push("--timeout".to_owned());
        args.push(timeout(seconds));
        args
    }

    /// `helm test` of a release: its test hooks run, their logs shown.
    #[must_use]
    pub fn test(&self, release: &str, seconds: u64) -> Vec<String> {
        let mut args = vec!["test".to_owned(), release.to_owned()];
        self.scope(&mut args);
        args.push("--logs".to_owned());
        args.push("--timeout".to_owned());
        args.push(timeout(seconds));
        args
    }

    /// `helm uninstall` of a release.
    #[must_use]
    pub fn uninstall(&self, release: &str, seconds: u64) -> Vec<String> {
        let mut args = vec!["uninstall".to_owned(), release.to_owned()];
        self.scope(&mut args);
        args.push("--timeout".to_owned());
        args.push(timeout(seconds));
        args
    }
}

/// The chart's version, values files and `--set` lines, in the order the user gave them.
fn chart_args(args: &mut Vec<String>, chart: &Chart) {
    if let Some(version) = &chart.version {
        args.push("--version".to_owned());
        args.push(version.clone());
    }
    for file in &chart.values {
        args.push("--values".to_owned());
        args.push(file.clone());
    }
    for set in &chart.set {
        args.push("--set".to_owned());
        args.push(set.clone());
    }
}

/// `helm version --short`: the check that `helm` runs at all, before anything is changed.
#[must_use]
pub fn version() -> Vec<String> {
    vec!["version".to_owned(), "--short".to_owned()]
}

/// The line of helm's standard error that names the problem: its `Error:` line (the last line
/// is often only advice, `ensure CRDs are installed first`), else the last line that is not
/// blank. An `Error:` line that ends in a colon is only where (a chart's `fail`: `execution
/// error at (redis/templates/master/application.yaml:57:35):`): the next line that is not blank,
/// which says what, goes with it.
#[must_use]
pub fn problem_line(stderr: &str) -> String {
    let mut lines = stderr.lines().map(str::trim);
    let Some(line) = lines.find_map(|line| line.strip_prefix("Error:")) else {
        return last_line(stderr);
    };
    let line = line.trim();
    if line.ends_with(':') {
        if let Some(what) = lines.find(|next| !next.is_empty()) {
            return format!("{line} {what}");
        }
    }
    line.to_owned()
}

/// The last line of helm's output that is not blank.
#[must_use]
pub fn last_line(output: &str) -> String {
    output
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("(no output)")
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::problem_line;

    /// bitnami redis 23.1.1 upgraded without its password, as Helm v4 prints it: the `Error:`
    /// line says only where the chart's `fail` was; the reason is the next line.
    #[test]
    fn the_problem_is_the_error_line_and_what_a_charts_failure_says() {
        let bitnami = "Error: UPGRADE FAILED: execution error at (redis/templates/master/application.yaml:57:35): \nPASSWORDS ERROR: You must provide your current passwords when upgrading the release.\n                 Note that even after reinstallation, old credentials may be needed as they may be kept in persistent volume claims.\n\n    'global.redis.password' must not be empty, please add '--set global.redis.password=$REDIS_PASSWORD' to the command.\n";
        assert_eq!(
            problem_line(bitnami),
            "UPGRADE FAILED: execution error at (redis/templates/master/application.yaml:57:35): PASSWORDS ERROR: You must provide your current passwords when upgrading the release."
        );
        let missing_kind = "Error: UPGRADE FAILED: unable to build kubernetes objects from new release manifest: resource mapping not found for name: \"x\" namespace: \"\" from \"\": no matches for kind \"ServiceMonitor\" in version \"monitoring.coreos.com/v1\"\nensure CRDs are installed first\n";
        assert!(problem_line(missing_kind).ends_with("in version \"monitoring.coreos.com/v1\""));
        assert_eq!(
            problem_line("Error: a colon at the end:\n"),
            "a colon at the end:"
        );
        assert_eq!(problem_line("walked\nno error line\n\n"), "no error line");
    }
}
