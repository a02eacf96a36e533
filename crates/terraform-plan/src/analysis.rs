//! What a plan means: Terraform's own counts and the warnings a reviewer must see (the secrets
//! that must never be shown and the plan digest are [`crate::secrets`]).

use crate::plan::{Action, Change, Plan, ResourceChange};
use crate::value::Node;

/// Counts as Terraform's `Plan:` line has them, plus what it says in other lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// "to add": creates and replaces.
    pub add: u64,
    /// "to change": updates.
    pub change: u64,
    /// "to destroy": deletes and replaces (deposed objects included).
    pub destroy: u64,
    /// Replaces (counted in both add and destroy).
    pub replace: u64,
    /// "to import".
    pub import: u64,
    /// Moved objects.
    pub moved: u64,
    /// "to forget".
    pub forget: u64,
    /// Data sources read during apply.
    pub read: u64,
    /// Objects changed outside Terraform that the plan saw.
    pub drift: u64,
    /// Changes with actions this version does not know.
    pub unknown: u64,
    /// Root outputs that change.
    pub outputs: u64,
}

impl Counts {
    /// Adds another stack's counts.
    pub fn add_assign(&mut self, other: &Counts) {
        self.add += other.add;
        self.change += other.change;
        self.destroy += other.destroy;
        self.replace += other.replace;
        self.import += other.import;
        self.moved += other.moved;
        self.forget += other.forget;
        self.read += other.read;
        self.drift += other.drift;
        self.unknown += other.unknown;
        self.outputs += other.outputs;
    }

    /// Whether applying would change anything (state included: imports, moves, forgets, outputs).
    pub fn has_changes(&self) -> bool {
        self.add
            + self.change
            + self.destroy
            + self.import
            + self.moved
            + self.forget
            + self.unknown
            + self.outputs
            > 0
    }

    /// Terraform's own summary line, word for word as Terraform 1.11 prints it (forgotten
    /// objects are listed in a warning, not in this line).
    pub fn plan_line(&self) -> String {
        let import = if self.import > 0 {
            format!("{} to import, ", self.import)
        } else {
            String::new()
        };
        format!(
            "Plan: {import}{} to add, {} to change, {} to destroy.",
            self.add, self.change, self.destroy
        )
    }

    /// Whether Terraform prints a `Plan:` line: any resource change it shows, moves, imports,
    /// forgets and data reads included (output-only changes get no `Plan:` line).
    pub fn has_resource_changes(&self) -> bool {
        self.add
            + self.change
            + self.destroy
            + self.forget
            + self.unknown
            + self.read
            + self.import
            + self.moved
            > 0
    }
}

/// Counts one stack the way Terraform's renderer does: deleted data sources are not shown,
/// no-ops count only as imports or moves, a replace is one add and one destroy.
pub fn count(plan: &Plan<'_>) -> Counts {
    let mut counts = Counts::default();
    for change in &plan.resource_changes {
        let action = change.action();
        if action == Action::Delete && change.is_data() {
            continue;
        }
        if change.change.importing.is_some() {
            counts.import += 1;
        }
        if change.moved_from().is_some() {
            counts.moved += 1;
        }
        match action {
            Action::NoOp => {}
            Action::Read => counts.read += 1,
            Action::Create => counts.add += 1,
            Action::Update => counts.change += 1,
            Action::Replace { .. } => {
                counts.add += 1;
                counts.destroy += 1;
                counts.replace += 1;
            }
            Action::Delete => counts.destroy += 1,
            Action::Forget => counts.forget += 1,
            Action::CreateThenForget => {
                counts.add += 1;
                counts.forget += 1;
            }
            Action::Unknown(_) => counts.unknown += 1,
        }
    }
    counts.drift = plan
        .resource_drift
        .iter()
        .filter(|drift| drift.action() != Action::NoOp)
        .count() as u64;
    counts.outputs = plan
        .output_changes
        .values()
        .filter(|change| Action::from_actions(&change.actions) != Action::NoOp)
        .count() as u64;
    counts
}

/// Terraform's `action_reason`, in words.
pub fn reason_in_words(change: &ResourceChange<'_>) -> Option<String> {
    if change.deposed.is_some() {
        return Some("a deposed object left over from create-before-destroy".to_owned());
    }
    if matches!(change.action(), Action::Forget | Action::CreateThenForget) {
        return Some("a `removed` block with `destroy = false`: Terraform stops managing it, the real object keeps running".to_owned());
    }
    let reason = change.action_reason.as_deref()?;
    Some(
        match reason {
            "replace_because_tainted" => {
                "tainted: marked for replacement (a failed create, or `terraform taint`)"
            }
            "replace_because_cannot_update" => "the provider cannot update it in place",
            "replace_by_request" => "replacement requested with `-replace`",
            "replace_by_triggers" => "`replace_triggered_by` fired",
            "delete_because_no_resource_config" => "no longer in the configuration",
            "delete_because_no_module" => "its module is no longer in the configuration",
            "delete_because_wrong_repetition" => "`count`/`for_each` was added or removed",
            "delete_because_count_index" => "its `count` index is out of range",
            "delete_because_each_key" => "its `for_each` key no longer exists",
            "delete_because_no_move_target" => "moved to an address that does not exist",
            "read_because_config_unknown" => {
                "its configuration depends on values known only after apply"
            }
            "read_because_dependency_pending" => "it depends on changes not yet applied",
            "read_because_check_nested" => "it is inside a `check` block",
            other => return Some(other.replace('_', " ")),
        }
        .to_owned(),
    )
}

/// How serious a warning is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WarningKind {
    /// The object is destroyed.
    Destroy,
    /// The object is destroyed and created again.
    Replace,
    /// Removed from state, left running.
    Forget,
    /// An action Gantry does not know.
    Unknown,
}

impl WarningKind {
    /// The word.
    pub fn word(self) -> &'static str {
        match self {
            Self::Destroy => "destroy",
            Self::Replace => "replace",
            Self::Forget => "forget",
            Self::Unknown => "unknown action",
        }
    }
}

/// A change a reviewer must not miss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// What happens.
    pub kind: WarningKind,
    /// The resource.
    pub address: String,
    /// Why, in words.
    pub reason: Option<String>,
    /// Attributes that force replacement.
    pub forced_by: Vec<String>,
    /// Whether `destroy-allowlist` covers it.
    pub allowed: bool,
}

/// Every destroy, replace, forget and unknown action of a plan.
pub fn warnings(plan: &Plan<'_>, allowlist: &[String]) -> Vec<Warning> {
    let mut warnings = Vec::new();
    for change in &plan.resource_changes {
        let kind = match change.action() {
            Action::Delete if !change.is_data() => WarningKind::Destroy,
            Action::Replace { .. } => WarningKind::Replace,
            Action::Forget | Action::CreateThenForget => WarningKind::Forget,
            Action::Unknown(_) => WarningKind::Unknown,
            _ => continue,
        };
        let reason = reason_in_words(change);
        warnings.push(Warning {
            kind,
            address: change.display_address(),
            reason,
            forced_by: replace_paths(&change.change),
            allowed: allowlist
                .iter()
                .any(|pattern| address_matches(pattern, &change.address)),
        });
    }
    warnings
}

/// `replace_paths` as display paths (`tags.Name`, `ingress[0]`).
pub fn replace_paths(change: &Change<'_>) -> Vec<String> {
    let Ok(Node::Array(paths)) = Node::parse_optional(change.replace_paths) else {
        return Vec::new();
    };
    paths
        .iter()
        .filter_map(|path| match path {
            Node::Array(steps) => Some(crate::diff::display_path(steps)),
            _ => None,
        })
        .collect()
}

/// A `destroy-allowlist` glob against an address: `*` any run of characters, `?` one; every
/// other character (brackets and quotes included) is literal, since addresses use them.
pub fn address_matches(pattern: &str, address: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = address.chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_globs_treat_brackets_literally() {
        assert!(address_matches(
            "aws_instance.temp*",
            "aws_instance.temp[\"a\"]"
        ));
        assert!(address_matches(
            "module.legacy.*",
            "module.legacy.aws_s3_bucket.logs"
        ));
        assert!(address_matches("*.cache", "module.x.null_resource.cache"));
        assert!(address_matches(
            "aws_instance.web[?]",
            "aws_instance.web[0]"
        ));
        assert!(!address_matches(
            "aws_instance.web[0]",
            "aws_instance.web[1]"
        ));
        assert!(!address_matches(
            "module.legacy.*",
            "module.current.aws_s3_bucket.logs"
        ));
    }

    #[test]
    fn plan_lines_match_terraform() {
        let counts = Counts {
            add: 1,
            change: 2,
            destroy: 3,
            ..Counts::default()
        };
        assert_eq!(
            counts.plan_line(),
            "Plan: 1 to add, 2 to change, 3 to destroy."
        );
        let counts = Counts {
            import: 1,
            forget: 2,
            ..Counts::default()
        };
        assert_eq!(
            counts.plan_line(),
            "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy."
        );
        assert!(
            Counts {
                moved: 1,
                ..Counts::default()
            }
            .has_resource_changes()
        );
        assert!(
            !Counts {
                outputs: 1,
                ..Counts::default()
            }
            .has_resource_changes()
        );
    }
}
