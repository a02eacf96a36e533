//! The words: the headline, each stack's or release's section (the same text in the step
//! summary and in its issue), the issue itself and the comments on closing and reopening.

use std::fmt::Write as _;

use gantry_core::markdown::{self, Align, Table};
use gantry_core::report::{COMMENT_BODY_BUDGET, IssueEffect};
use gantry_terraform_plan::secrets::Secrets;

use crate::model::ObjectDrift;
use crate::{Options, SEEN_PREFIX, Seen, Subject};

/// Every secret the sources hold, scrubbed from anything rendered.
pub(crate) struct Scrub<'s> {
    terraform: &'s Secrets,
    kube: Vec<&'s str>,
}

impl<'s> Scrub<'s> {
    pub(crate) fn new(terraform: &'s Secrets, kube: &'s [String]) -> Self {
        let mut kube: Vec<&str> = kube
            .iter()
            .map(String::as_str)
            .filter(|s| s.chars().count() >= 4)
            .collect();
        kube.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        Self { terraform, kube }
    }

    /// Secrets replaced by `(sensitive)`, and every `<!--` broken with a zero-width space: a
    /// value from the plan or the cluster cannot pose as an issue's marker or its seen line.
    pub(crate) fn apply(&self, text: &str) -> String {
        let mut out = self.terraform.scrub(text).into_owned();
        for secret in &self.kube {
            if out.contains(secret) {
                out = out.replace(secret, "(sensitive)");
            }
        }
        if out.contains("<!--") {
            out = out.replace("<!--", "<!\u{200B}--");
        }
        out
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

pub(crate) fn headline(
    subjects: &[Subject],
    stacks: usize,
    releases: usize,
    objects: usize,
) -> String {
    let total_stacks = subjects.iter().filter(|s| s.what == "stack").count();
    let total_releases = subjects.iter().filter(|s| s.what == "release").count();
    let mut parts = Vec::new();
    if total_stacks > 0 {
        parts.push(format!(
            "{stacks} of {}",
            plural(total_stacks, "stack", "stacks")
        ));
    }
    if total_releases > 0 {
        parts.push(format!(
            "{releases} of {}",
            plural(total_releases, "release", "releases")
        ));
    }
    if objects == 0 {
        format!("No drift in {}.", parts.join(" and ").replace("0 of ", ""))
    } else {
        format!(
            "Drift in {}: {} changed outside Terraform or Helm.",
            parts.join(" and "),
            plural(objects, "object", "objects")
        )
    }
}

/// One line for an annotation.
pub(crate) fn one_line(subject: &Subject) -> String {
    let deleted = subject
        .drifted
        .iter()
        .filter(|d| d.drift == ObjectDrift::Deleted)
        .count();
    let mut line = format!(
        "{} {}: {} drifted",
        subject.what,
        subject.name,
        plural(subject.drifted.len(), "object", "objects")
    );
    if deleted > 0 {
        let _ = write!(line, " ({deleted} deleted)");
    }
    line.push_str(": ");
    let names: Vec<&str> = subject
        .drifted
        .iter()
        .take(5)
        .map(|d| d.address.as_str())
        .collect();
    line.push_str(&names.join(", "));
    if subject.drifted.len() > 5 {
        line.push_str(", …");
    }
    line
}

fn outside(subject: &Subject) -> &'static str {
    if subject.what == "stack" {
        "Terraform"
    } else {
        "Helm"
    }
}

/// A stack's or release's section, headed at `level`, in at most about `budget` bytes: objects
/// that do not fit are counted, not shown.
pub(crate) fn section(
    subject: &Subject,
    seen: &Seen,
    level: usize,
    budget: usize,
    scrub: &Scrub<'_>,
) -> String {
    let hashes = "#".repeat(level);
    let mut out = String::new();
    let title = format!(
        "{hashes} {} {} {}\n\n",
        if subject.drifted.is_empty() {
            "✅"
        } else {
            "⚠️"
        },
        if subject.what == "stack" {
            "Stack"
        } else {
            "Release"
        },
        markdown::code(&subject.name)
    );
    out.push_str(&title);
    let source = if subject.what == "stack" {
        format!("plan {}", markdown::code(&subject.source))
    } else {
        subject.source.clone()
    };
    if subject.drifted.is_empty() {
        let _ = writeln!(out, "No drift ({source}).\n");
    } else {
        let _ = writeln!(
            out,
            "**{} changed outside {}** ({source}). First seen {}, last seen {}.\n",
            plural(subject.drifted.len(), "object", "objects"),
            outside(subject),
            markdown::code(&seen.first),
            markdown::code(&seen.last),
        );
    }
    for note in &subject.notes {
        let _ = writeln!(out, "> {}\n", markdown::text(note));
    }
    // Security-relevant drift first: what opened access, made something public, widened IAM.
    let concerns: Vec<(&crate::model::Drifted, String)> = subject
        .drifted
        .iter()
        .filter_map(|drifted| crate::security::concern(drifted).map(|why| (drifted, why)))
        .collect();
    if !concerns.is_empty() {
        let _ = writeln!(
            out,
            "{hashes}# 🔓 Security-relevant drift
"
        );
        let mut table = Table::new(&[
            ("object", Align::Left),
            ("type", Align::Left),
            ("why it matters", Align::Left),
        ]);
        for (drifted, why) in concerns.iter().take(50) {
            table.row([
                markdown::code(&drifted.address),
                markdown::code(&drifted.kind),
                markdown::prose(why),
            ]);
        }
        out.push_str(&table.render());
        out.push('\n');
        if concerns.len() > 50 {
            let _ = writeln!(out, "… and {} more.\n", concerns.len() - 50);
        }
    }
    let is_concern =
        |drifted: &crate::model::Drifted| concerns.iter().any(|(d, _)| std::ptr::eq(*d, drifted));
    // Room kept for the end: the count of what did not fit, and the folded lists.
    let budget = budget.saturating_sub(4_096);
    let mut omitted = 0usize;
    let mut deleted: Vec<_> = subject
        .drifted
        .iter()
        .filter(|d| d.drift == ObjectDrift::Deleted)
        .collect();
    deleted.sort_by_key(|drifted| !is_concern(drifted));
    if !deleted.is_empty() {
        let _ = writeln!(out, "{hashes}# Deleted outside {}\n", outside(subject));
        let mut table = Table::new(&[
            (
                if subject.what == "stack" {
                    "resource"
                } else {
                    "object"
                },
                Align::Left,
            ),
            ("type", Align::Left),
        ]);
        let mut size = out.len();
        for drifted in deleted {
            let row = [
                markdown::code(&drifted.address),
                markdown::code(&drifted.kind),
            ];
            size += row.iter().map(String::len).sum::<usize>() + 8;
            if size > budget / 2 {
                omitted += 1;
                continue;
            }
            table.row(row);
        }
        out.push_str(&table.render());
        out.push('\n');
    }
    let mut changed: Vec<_> = subject
        .drifted
        .iter()
        .filter_map(|d| match &d.drift {
            ObjectDrift::Changed(changes) => Some((d, changes)),
            ObjectDrift::Deleted => None,
        })
        .collect();
    changed.sort_by_key(|(drifted, _)| !is_concern(drifted));
    if !changed.is_empty() {
        let _ = writeln!(out, "{hashes}# Changed outside {}\n", outside(subject));
        let (before, after) = if subject.what == "stack" {
            ("in state", "now")
        } else {
            ("chart", "live")
        };
        for (drifted, changes) in changed {
            let mut block = String::new();
            let _ = writeln!(
                block,
                "{} ({}), {}:\n",
                markdown::code(&drifted.address),
                markdown::code(&drifted.kind),
                plural(changes.len(), "attribute", "attributes")
            );
            let mut table = Table::new(&[
                ("", Align::Center),
                ("attribute", Align::Left),
                (before, Align::Left),
                (after, Align::Left),
            ]);
            for change in changes {
                let cell = |value: &Option<String>| {
                    value
                        .as_deref()
                        .map_or_else(|| "(absent)".to_owned(), markdown::code)
                };
                table.row([
                    change.marker().to_string(),
                    markdown::code(&change.path),
                    cell(&change.before),
                    cell(&change.after),
                ]);
            }
            block.push_str(&table.render());
            block.push('\n');
            if out.len() + block.len() > budget {
                omitted += 1;
                continue;
            }
            out.push_str(&block);
        }
    }
    if omitted > 0 {
        let _ = writeln!(
            out,
            "… and {} more, not shown here for GitHub's size limit: every one is in the run's step summary and annotations.\n",
            plural(omitted, "object", "objects")
        );
    }
    if !subject.drifted.is_empty() {
        let hint = if subject.what == "stack" {
            "**To resolve:** apply this stack's code (`terraform apply`) to put back what it says — what was changed outside is reverted — or, if the change was right, write it into the code (adopt it; `ignore` what something else owns). The next run then finds no drift and closes the issue."
        } else {
            "**To resolve:** deploy the release again (`helm upgrade` with its values, or rerun helm-deploy) to put back what the chart says, or, if the change was right, write it into the chart's values (adopt it; `ignore` what a controller owns). The next run then finds no drift and closes the issue."
        };
        let _ = writeln!(out, "{hint}\n");
    }
    if !subject.moved.is_empty() {
        let mut list = String::new();
        for (from, to) in &subject.moved {
            let _ = writeln!(list, "- {} → {}", markdown::code(from), markdown::code(to));
        }
        let folded = markdown::details(
            &format!("Moved, not drift ({})", subject.moved.len()),
            &list,
            false,
        );
        if out.len() + folded.len() <= budget + 2_048 {
            out.push_str(&folded);
            out.push('\n');
        }
    }
    if !subject.not_drift.is_empty() {
        let mut list = String::new();
        for (address, why) in subject.not_drift.iter().take(200) {
            let _ = writeln!(
                list,
                "- {}: {}",
                markdown::code(address),
                markdown::text(why)
            );
        }
        if subject.not_drift.len() > 200 {
            let _ = writeln!(list, "- … and {} more", subject.not_drift.len() - 200);
        }
        let folded = markdown::details(
            &format!(
                "Reported by Terraform, not drift ({})",
                subject.not_drift.len()
            ),
            &list,
            false,
        );
        if out.len() + folded.len() <= budget + 4_000 {
            out.push_str(&folded);
            out.push('\n');
        }
    }
    scrub.apply(&out)
}

/// The issue effect of a subject: open while it drifts, closed with a comment when clean.
pub(crate) fn issue(
    subject: &Subject,
    seen: &Seen,
    options: &Options,
    scrub: &Scrub<'_>,
) -> IssueEffect {
    let state = subject.issue_state();
    let title = scrub.apply(&format!(
        "Drift: {} {} changed outside {}",
        subject.what,
        subject.name,
        outside(subject)
    ));
    let mut body = section(subject, seen, 2, COMMENT_BODY_BUDGET - 1_024, scrub);
    let footer = options.run_url.as_deref().map_or_else(
        || "Written by Gantry drift-report".to_owned(),
        |url| markdown::link("Written by Gantry drift-report", url),
    );
    let _ = write!(
        body,
        "<sub>{footer} · updated by each run while the drift lasts, closed when it is gone.</sub>\n\n{SEEN_PREFIX} {} {} -->\n",
        seen.first, seen.last
    );
    // Posted by the edge only when the issue's state changes (it closes or reopens): a rerun,
    // an edit or a new issue says nothing.
    let comment = match state {
        gantry_core::report::IssueState::Closed => {
            let mut text = format!(
                "No drift in {} {} as of {}: closing.",
                subject.what,
                markdown::code(&subject.name),
                markdown::code(&options.now),
            );
            if !seen.first.is_empty() && !seen.last.is_empty() {
                let _ = write!(
                    text,
                    " The drift was first seen {} and last seen {}.",
                    markdown::code(&seen.first),
                    markdown::code(&seen.last)
                );
            }
            text
        }
        gantry_core::report::IssueState::Open => format!(
            "Drift is back in {} {} as of {}: reopening.",
            subject.what,
            markdown::code(&subject.name),
            markdown::code(&options.now),
        ),
    };
    IssueEffect {
        marker: subject.marker.clone(),
        title,
        body,
        labels: options.labels.clone(),
        state,
        comment: Some(scrub.apply(&comment)),
    }
}
