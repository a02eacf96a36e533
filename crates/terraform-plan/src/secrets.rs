//! One pass over every plan's values: the secrets to scrub from anything rendered, and the plan
//! digest (sensitive values replaced by a marker, so the digest cannot be used to guess them).

use std::collections::BTreeSet;

use sha2::{Digest as _, Sha256};

use crate::plan::{Action, Change, Plan, PlanError, ResourceChange};
use crate::value::Node;

/// Strings that must never be shown: every string under a sensitive mark in resource values,
/// sensitive outputs and sensitive variables. Used to scrub anything rendered.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    values: BTreeSet<String>,
}

/// Shorter sensitive strings are masked where they are marked but not scrubbed from other
/// text: scrubbing "true" or "80" everywhere would destroy the review.
const SCRUB_MIN_CHARS: usize = 4;

impl Secrets {
    fn collect(&mut self, value: &Node<'_>, mask: &Node<'_>) {
        match (value, mask) {
            (_, Node::Bool(true)) => self.collect_all(value),
            (Node::Object(entries), Node::Object(_)) => {
                for (key, child) in entries {
                    if let Some(child_mask) = mask.get(key) {
                        self.collect(child, child_mask);
                    }
                }
            }
            (Node::Array(items), Node::Array(masks)) => {
                for (item, child_mask) in items.iter().zip(masks) {
                    self.collect(item, child_mask);
                }
            }
            _ => {}
        }
    }

    /// `secret` as every rendering could show it: as it is, JSON-escaped (a value shown as JSON,
    /// where `"` is `\"` and `\` is `\\`), and escaped for markdown text and HTML, and each of
    /// those inside a longer string (scrubbing replaces substrings).
    fn insert(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json = json
            .strip_prefix('"')
            .and_then(|inner| inner.strip_suffix('"'))
            .unwrap_or_default()
            .to_owned();
        for rendering in [
            gantry_core::markdown::text(secret),
            gantry_core::markdown::html_text(secret),
            gantry_core::markdown::text(&json),
            json,
        ] {
            if !rendering.is_empty() {
                self.values.insert(rendering);
            }
        }
        self.values.insert(secret.to_owned());
    }

    fn collect_all(&mut self, value: &Node<'_>) {
        match value {
            Node::String(text) => {
                self.insert(text);
                // A multi-line secret (a key) may be shown line by line elsewhere.
                for line in text.lines().filter(|line| line.trim().chars().count() >= 8) {
                    self.insert(line.trim());
                }
            }
            Node::Number(text) => {
                self.values.insert((*text).to_owned());
            }
            Node::Array(items) => items.iter().for_each(|item| self.collect_all(item)),
            // A sensitive map's keys are as secret as its values (Terraform hides both).
            Node::Object(entries) => entries.iter().for_each(|(key, child)| {
                self.insert(key);
                self.collect_all(child);
            }),
            Node::Null | Node::Bool(_) => {}
        }
    }

    /// Adds another stack's secrets.
    pub fn extend(&mut self, other: Secrets) {
        self.values.extend(other.values);
    }

    /// Whether `text` contains a secret long enough to scrub.
    pub fn leaks_into(&self, text: &str) -> bool {
        self.scrubbable().any(|secret| text.contains(secret))
    }

    fn scrubbable(&self) -> impl Iterator<Item = &String> {
        self.values
            .iter()
            .filter(|secret| secret.chars().count() >= SCRUB_MIN_CHARS)
    }

    /// Replaces every secret (longest first) in `text` with `(sensitive)`.
    pub fn scrub<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        let mut secrets: Vec<&String> = self
            .scrubbable()
            .filter(|secret| text.contains(secret.as_str()))
            .collect();
        if secrets.is_empty() {
            return std::borrow::Cow::Borrowed(text);
        }
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        let mut scrubbed = text.to_owned();
        for secret in secrets {
            scrubbed = scrubbed.replace(secret.as_str(), "(sensitive)");
        }
        std::borrow::Cow::Owned(scrubbed)
    }

    /// Every secret, for tests that check nothing leaked.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(String::as_str)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// The values of one change, read once for secrets and the digest.
struct ChangeValues<'a> {
    before: Node<'a>,
    after: Node<'a>,
    before_sensitive: Node<'a>,
    after_sensitive: Node<'a>,
    after_unknown: Node<'a>,
}

impl<'a> ChangeValues<'a> {
    fn read(change: &Change<'a>) -> Result<Self, serde_json::Error> {
        Ok(Self {
            before: Node::parse_optional(change.before)?,
            after: Node::parse_optional(change.after)?,
            before_sensitive: Node::parse_optional(change.before_sensitive)?,
            after_sensitive: Node::parse_optional(change.after_sensitive)?,
            after_unknown: Node::parse_optional(change.after_unknown)?,
        })
    }

    fn collect_secrets(&self, secrets: &mut Secrets) {
        secrets.collect(&self.before, &self.before_sensitive);
        secrets.collect(&self.after, &self.after_sensitive);
    }

    /// Canonical before, after and unknown mask, sensitive parts replaced by a marker.
    fn write_masked(&self, buffer: &mut String) {
        write_masked_canonical(&self.before, &self.before_sensitive, buffer);
        buffer.push('\0');
        write_masked_canonical(&self.after, &self.after_sensitive, buffer);
        buffer.push('\0');
        self.after_unknown.write_canonical(buffer);
    }
}

/// Writes before, after and the unknown mask like [`ChangeValues::write_masked`], streaming the
/// values, and collects the secrets under the sensitive marks.
fn stream_masked_change(
    change: &Change<'_>,
    buffer: &mut String,
    secrets: &mut Secrets,
) -> Result<(), crate::value::NotStreamable> {
    let not_streamable = |_| crate::value::NotStreamable;
    let before_sensitive = Node::parse_optional(change.before_sensitive).map_err(not_streamable)?;
    let after_sensitive = Node::parse_optional(change.after_sensitive).map_err(not_streamable)?;
    let mut collect = |node: &Node<'_>| secrets.collect_all(node);
    for (raw, mask) in [
        (change.before, &before_sensitive),
        (change.after, &after_sensitive),
    ] {
        match raw {
            Some(raw) => crate::value::write_masked_raw(raw.get(), mask, buffer, &mut collect)?,
            None => buffer.push_str("null"),
        }
        buffer.push('\0');
    }
    Node::parse_optional(change.after_unknown)
        .map_err(not_streamable)?
        .write_canonical(buffer);
    Ok(())
}

fn marks_something(change: &Change<'_>) -> bool {
    let has_true = |raw: Option<&serde_json::value::RawValue>| {
        raw.is_some_and(|raw| raw.get().contains("true"))
    };
    has_true(change.before_sensitive) || has_true(change.after_sensitive)
}

/// Reads every plan's values once and returns the secrets to scrub and the plan digest.
///
/// Secrets are every string under a sensitive mark in resource values, sensitive outputs and
/// sensitive variables. The digest is sha256 over a canonical list of the planned changes of
/// every stack: for each change that does something (not a no-op, or an import or move), its
/// address, deposed key, actions, previous address, import id and its before/after values and
/// unknown mask in canonical JSON, with sensitive values replaced by a marker (so the digest
/// cannot be used to guess them); then each changing output likewise. The plan's timestamp,
/// Terraform's version and the configuration are left out: the same plan gives the same digest
/// on any machine, and a different change gives a different one.
pub fn scan(stacks: &[(&str, &str, &Plan<'_>)]) -> Result<(Secrets, String), PlanError> {
    let mut secrets = Secrets::default();
    let mut hasher = Sha256::new();
    let mut buffer = String::new();
    let mut sorted: Vec<&(&str, &str, &Plan<'_>)> = stacks.iter().collect();
    sorted.sort_by_key(|(name, _, _)| *name);
    for (name, file, plan) in sorted {
        let failed = |error: serde_json::Error| internal(file, &error);
        buffer.clear();
        buffer.push_str("stack\0");
        buffer.push_str(name);
        buffer.push('\n');
        hasher.update(buffer.as_bytes());
        let mut changes: Vec<&ResourceChange<'_>> = plan.resource_changes.iter().collect();
        changes.sort_by(|left, right| {
            (&left.address, &left.deposed).cmp(&(&right.address, &right.deposed))
        });
        for change in changes {
            let in_digest = change.action() != Action::NoOp
                || change.change.importing.is_some()
                || change.moved_from().is_some();
            let marked = marks_something(&change.change);
            if !in_digest && !marked {
                continue;
            }
            buffer.clear();
            buffer.push_str("resource\0");
            buffer.push_str(&change.address);
            buffer.push('\0');
            buffer.push_str(change.deposed.as_deref().unwrap_or(""));
            buffer.push('\0');
            push_actions(&change.change.actions, &mut buffer);
            buffer.push('\0');
            buffer.push_str(change.previous_address.as_deref().unwrap_or(""));
            buffer.push('\0');
            if let Some(importing) = &change.change.importing {
                buffer.push_str(importing.id.as_deref().unwrap_or("(unknown)"));
            }
            buffer.push('\0');
            let header = buffer.len();
            // Stream the values without building trees; fall back to trees when a value is not
            // in Terraform's sorted form.
            if stream_masked_change(&change.change, &mut buffer, &mut secrets).is_err() {
                buffer.truncate(header);
                let values = ChangeValues::read(&change.change).map_err(failed)?;
                values.collect_secrets(&mut secrets);
                values.write_masked(&mut buffer);
            }
            if !in_digest {
                continue;
            }
            buffer.push('\n');
            hasher.update(buffer.as_bytes());
        }
        let others = plan.resource_drift.iter().chain(
            plan.deferred_changes
                .iter()
                .map(|deferred| &deferred.resource_change),
        );
        for change in others.filter(|change| marks_something(&change.change)) {
            ChangeValues::read(&change.change)
                .map_err(failed)?
                .collect_secrets(&mut secrets);
        }
        let (sensitive_variables, sensitive_outputs) = plan.sensitive_declarations();
        for (output, change) in &plan.output_changes {
            let mut values = ChangeValues::read(change).map_err(failed)?;
            if sensitive_outputs.contains(output) {
                values.before_sensitive = Node::Bool(true);
                values.after_sensitive = Node::Bool(true);
            }
            values.collect_secrets(&mut secrets);
            if Action::from_actions(&change.actions) == Action::NoOp {
                continue;
            }
            buffer.clear();
            buffer.push_str("output\0");
            buffer.push_str(output);
            buffer.push('\0');
            push_actions(&change.actions, &mut buffer);
            buffer.push('\0');
            values.write_masked(&mut buffer);
            buffer.push('\n');
            hasher.update(buffer.as_bytes());
        }
        for (variable, value) in &plan.variables {
            if sensitive_variables.contains(variable) {
                secrets.collect(
                    &Node::parse_optional(value.value).map_err(failed)?,
                    &Node::Bool(true),
                );
            }
        }
    }
    let hash = hasher.finalize();
    let digest = hash
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{byte:02x}");
            hex
        });
    Ok((secrets, digest))
}

fn push_actions(actions: &[std::borrow::Cow<'_, str>], buffer: &mut String) {
    for (index, action) in actions.iter().enumerate() {
        if index > 0 {
            buffer.push(',');
        }
        buffer.push_str(action);
    }
}

fn internal(stack: &str, error: &serde_json::Error) -> PlanError {
    PlanError::InvalidPlan {
        file: stack.to_owned(),
        line: error.line(),
        column: error.column(),
        message: error.to_string(),
    }
}

/// Writes `value` in canonical form with every part under a `true` in `sensitive` replaced by a
/// marker, without copying the value.
fn write_masked_canonical(value: &Node<'_>, sensitive: &Node<'_>, out: &mut String) {
    match (value, sensitive) {
        (_, Node::Bool(true)) => out.push_str("\"(sensitive)\""),
        (Node::Object(entries), Node::Object(_)) => {
            let mut sorted: Vec<&(std::borrow::Cow<'_, str>, Node<'_>)> = entries.iter().collect();
            if !entries.windows(2).all(|pair| pair[0].0 <= pair[1].0) {
                sorted.sort_by(|left, right| left.0.cmp(&right.0));
            }
            out.push('{');
            for (index, (key, child)) in sorted.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                crate::value::push_json_string(key, out);
                out.push(':');
                match sensitive.get(key) {
                    Some(child_mask) => write_masked_canonical(child, child_mask, out),
                    None => child.write_canonical(out),
                }
            }
            out.push('}');
        }
        (Node::Array(items), Node::Array(masks)) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                match masks.get(index) {
                    Some(child_mask) => write_masked_canonical(item, child_mask, out),
                    None => item.write_canonical(out),
                }
            }
            out.push(']');
        }
        _ => value.write_canonical(out),
    }
}
