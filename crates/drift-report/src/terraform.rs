//! Drift in a Terraform plan: the `resource_drift` of a refresh-only (or ordinary) plan, with
//! what is not drift taken out.
//!
//! Terraform reports as drift anything whose refreshed value differs from the state by its
//! own comparison, which is textual: right after an apply the AWS provider reads `tags` back as
//! `{}` where the state had `null`, and an `aws_s3_bucket`'s `versioning` changes because its
//! sibling `aws_s3_bucket_versioning` resource changed it. Neither is a change made outside
//! Terraform. So values are compared in a canonical form — zero values (`null`, `{}`, `[]`,
//! `""`, `false`, `0`) are all "unset", set-like lists are compared as multisets, JSON held in
//! strings (IAM policies) is compared as JSON — and an attribute that a companion resource in
//! the same configuration manages is dropped when the resource's own configuration does not set
//! it. What remains is named attribute by attribute.

use std::collections::{BTreeMap, BTreeSet};

use gantry_terraform_plan::plan::{Action, Plan, PlanError, ResourceChange};
use gantry_terraform_plan::secrets::{self, Secrets};
use gantry_terraform_plan::value::Node;
use serde::Deserialize;

use crate::model::{self, AttributeChange, Drifted, IgnoreRule, ObjectDrift, Step};

/// Attributes of a resource type that a separate resource type can manage, and those types:
/// when the configuration has such a companion referring to the resource, the attribute's
/// drift is the companion's doing (and the companion's own drift is reported).
const SPLIT_ATTRIBUTES: &[(&str, &str, &[&str])] = &[
    ("aws_s3_bucket", "versioning", &["aws_s3_bucket_versioning"]),
    (
        "aws_s3_bucket",
        "server_side_encryption_configuration",
        &["aws_s3_bucket_server_side_encryption_configuration"],
    ),
    (
        "aws_s3_bucket",
        "lifecycle_rule",
        &["aws_s3_bucket_lifecycle_configuration"],
    ),
    ("aws_s3_bucket", "logging", &["aws_s3_bucket_logging"]),
    (
        "aws_s3_bucket",
        "website",
        &["aws_s3_bucket_website_configuration"],
    ),
    (
        "aws_s3_bucket",
        "cors_rule",
        &["aws_s3_bucket_cors_configuration"],
    ),
    (
        "aws_s3_bucket",
        "replication_configuration",
        &["aws_s3_bucket_replication_configuration"],
    ),
    (
        "aws_s3_bucket",
        "object_lock_configuration",
        &["aws_s3_bucket_object_lock_configuration"],
    ),
    ("aws_s3_bucket", "acl", &["aws_s3_bucket_acl"]),
    ("aws_s3_bucket", "grant", &["aws_s3_bucket_acl"]),
    ("aws_s3_bucket", "policy", &["aws_s3_bucket_policy"]),
    (
        "aws_s3_bucket",
        "request_payer",
        &["aws_s3_bucket_request_payment_configuration"],
    ),
    (
        "aws_s3_bucket",
        "acceleration_status",
        &["aws_s3_bucket_accelerate_configuration"],
    ),
    (
        "aws_security_group",
        "ingress",
        &[
            "aws_security_group_rule",
            "aws_vpc_security_group_ingress_rule",
        ],
    ),
    (
        "aws_security_group",
        "egress",
        &[
            "aws_security_group_rule",
            "aws_vpc_security_group_egress_rule",
        ],
    ),
    ("aws_iam_role", "inline_policy", &["aws_iam_role_policy"]),
    (
        "aws_iam_role",
        "managed_policy_arns",
        &[
            "aws_iam_role_policy_attachment",
            "aws_iam_role_policy_attachments_exclusive",
        ],
    ),
    ("aws_route_table", "route", &["aws_route"]),
    ("aws_network_acl", "ingress", &["aws_network_acl_rule"]),
    ("aws_network_acl", "egress", &["aws_network_acl_rule"]),
];

/// One stack's drift.
#[derive(Debug, Clone, Default)]
pub struct StackDrift {
    /// What drifted, deleted objects first.
    pub drifted: Vec<Drifted>,
    /// Entries Terraform reported that are not drift, with why.
    pub not_drift: Vec<(String, String)>,
    /// Moves seen (not drift).
    pub moved: Vec<(String, String)>,
    /// Values to scrub from anything rendered.
    pub secrets: Secrets,
    /// Whether the plan is a refresh-only one (`false`: an ordinary plan's drift was read).
    pub refresh_only: bool,
    /// Warnings from reading the file.
    pub notes: Vec<String>,
}

#[derive(Deserialize, Default)]
struct ConfigModule {
    #[serde(default)]
    resources: Vec<ConfigResource>,
    #[serde(default)]
    module_calls: BTreeMap<String, ModuleCall>,
}

#[derive(Deserialize)]
struct ModuleCall {
    #[serde(default)]
    module: ConfigModule,
}

#[derive(Deserialize)]
struct ConfigResource {
    address: String,
    #[serde(default)]
    mode: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    expressions: serde_json::Value,
}

#[derive(Deserialize, Default)]
struct Configuration {
    #[serde(default)]
    root_module: ConfigModule,
}

/// What the configuration says about each resource: the attributes its own block sets, and
/// the types of the resources that refer to it.
#[derive(Debug, Default)]
struct Config {
    sets: BTreeMap<String, BTreeSet<String>>,
    referred_by: BTreeMap<String, BTreeSet<String>>,
}

fn references(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                if key == "references" {
                    if let Some(items) = child.as_array() {
                        out.extend(
                            items
                                .iter()
                                .filter_map(|item| item.as_str().map(str::to_owned)),
                        );
                    }
                } else {
                    references(child, out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| references(item, out)),
        _ => {}
    }
}

impl Config {
    fn read(plan: &Plan<'_>) -> Self {
        let mut config = Config::default();
        let parsed = plan
            .configuration
            .and_then(|raw| serde_json::from_str::<Configuration>(raw.get()).ok())
            .unwrap_or_default();
        config.module(&parsed.root_module, "");
        config
    }

    fn module(&mut self, module: &ConfigModule, prefix: &str) {
        for resource in &module.resources {
            if resource.mode == "data" {
                continue;
            }
            let address = format!("{prefix}{}", resource.address);
            if let Some(map) = resource.expressions.as_object() {
                self.sets
                    .entry(address.clone())
                    .or_default()
                    .extend(map.keys().cloned());
            }
            let mut found = Vec::new();
            references(&resource.expressions, &mut found);
            for reference in found {
                let mut parts = reference.split('.');
                let (Some(kind), Some(name)) = (parts.next(), parts.next()) else {
                    continue;
                };
                if matches!(
                    kind,
                    "var"
                        | "local"
                        | "data"
                        | "module"
                        | "each"
                        | "count"
                        | "path"
                        | "terraform"
                        | "self"
                ) {
                    continue;
                }
                let target = format!("{prefix}{kind}.{}", strip_key(name));
                self.referred_by
                    .entry(target)
                    .or_default()
                    .insert(resource.kind.clone());
            }
        }
        for (name, call) in &module.module_calls {
            self.module(&call.module, &format!("{prefix}module.{name}."));
        }
    }

    /// The companion type that manages `attribute`, when one does.
    fn companion_of(&self, kind: &str, config_address: &str, attribute: &str) -> Option<String> {
        let (_, _, companions) =
            SPLIT_ATTRIBUTES
                .iter()
                .find(|(split_kind, split_attribute, _)| {
                    *split_kind == kind && *split_attribute == attribute
                })?;
        let types = self.referred_by.get(config_address)?;
        companions
            .iter()
            .find(|companion| types.contains(**companion))
            .map(|companion| (*companion).to_owned())
    }

    /// Whether `attribute` of the resource at `config_address` is managed by a companion.
    fn managed_elsewhere(&self, kind: &str, config_address: &str, attribute: &str) -> bool {
        let Some((_, _, companions)) =
            SPLIT_ATTRIBUTES
                .iter()
                .find(|(split_kind, split_attribute, _)| {
                    *split_kind == kind && *split_attribute == attribute
                })
        else {
            return false;
        };
        let own = self
            .sets
            .get(config_address)
            .is_some_and(|sets| sets.contains(attribute));
        !own && self.referred_by.get(config_address).is_some_and(|types| {
            companions
                .iter()
                .any(|companion| types.contains(*companion))
        })
    }
}

fn strip_key(name: &str) -> &str {
    name.split('[').next().unwrap_or(name)
}

/// `module.a["x"].aws_s3_bucket.b[0]` → `module.a.aws_s3_bucket.b`: the configuration's address.
fn config_address(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0usize;
    let mut quoted = false;
    for character in address.chars() {
        match character {
            '"' if depth > 0 => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(character),
            _ => {}
        }
    }
    out
}

/// The canonical text of a value, `None` for a zero value ("unset"): `null`, `false`, `0`,
/// `""`, and lists and objects of nothing but zero values.
pub(crate) fn canonical(node: &Node<'_>) -> Option<String> {
    match node {
        Node::Null | Node::Bool(false) => None,
        Node::Bool(true) => Some("true".to_owned()),
        Node::Number(text) => number(text),
        Node::String(text) => string(text),
        Node::Array(items) => {
            let mut parts: Vec<String> = items.iter().filter_map(canonical).collect();
            (!parts.is_empty()).then(|| {
                parts.sort();
                format!("[{}]", parts.join(","))
            })
        }
        Node::Object(entries) => {
            let mut parts: Vec<String> = entries
                .iter()
                .filter_map(|(key, value)| {
                    canonical(value).map(|value| {
                        format!("{}:{value}", serde_json::Value::String(key.to_string()))
                    })
                })
                .collect();
            (!parts.is_empty()).then(|| {
                parts.sort();
                format!("{{{}}}", parts.join(","))
            })
        }
    }
}

fn number(text: &str) -> Option<String> {
    match text.parse::<f64>() {
        Ok(0.0) => None,
        #[expect(clippy::cast_possible_truncation, reason = "integral and in range")]
        Ok(value) if value.fract() == 0.0 && value.abs() < 1e15 => {
            Some(format!("{}", value as i64))
        }
        Ok(value) => Some(format!("{value}")),
        Err(_) => Some(text.to_owned()),
    }
}

fn string(text: &str) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with(['{', '[']) {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
            return Some(format!(
                "json:{}",
                json_canonical(&value).unwrap_or_default()
            ));
        }
    }
    Some(serde_json::Value::String(text.to_owned()).to_string())
}

/// JSON held in a string (an IAM policy document): keys sorted, lists as multisets, a list of
/// one the same as its element (IAM's `"Action": "s3:GetObject"` ≡ `["s3:GetObject"]`).
fn json_canonical(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::Null | Value::Bool(false) => None,
        Value::Bool(true) => Some("true".to_owned()),
        Value::Number(number) => self::number(&number.to_string()),
        Value::String(text) => (!text.is_empty()).then(|| Value::String(text.clone()).to_string()),
        Value::Array(items) if items.len() == 1 => json_canonical(&items[0]),
        Value::Array(items) => {
            let mut parts: Vec<String> = items.iter().filter_map(json_canonical).collect();
            (!parts.is_empty()).then(|| {
                parts.sort();
                format!("[{}]", parts.join(","))
            })
        }
        Value::Object(map) => {
            let mut parts: Vec<String> = map
                .iter()
                .filter_map(|(key, value)| {
                    json_canonical(value)
                        .map(|value| format!("{}:{value}", Value::String(key.clone())))
                })
                .collect();
            (!parts.is_empty()).then(|| {
                parts.sort();
                format!("{{{}}}", parts.join(","))
            })
        }
    }
}

/// A value as shown, with sensitive parts masked and long values cut.
fn show(node: &Node<'_>, mask: &Node<'_>) -> Option<String> {
    if node.is_null() {
        return None;
    }
    let mut out = String::new();
    write_masked(node, mask, &mut out);
    Some(gantry_core::markdown::shorten(&out, model::VALUE_CHARS).into_owned())
}

fn write_masked(node: &Node<'_>, mask: &Node<'_>, out: &mut String) {
    if mask.is_true() {
        out.push_str("(sensitive)");
        return;
    }
    match node {
        Node::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_masked(item, &child_at(mask, index), out);
            }
            out.push(']');
        }
        Node::Object(entries) => {
            out.push('{');
            // Unset fields (null, "", [], false) are left out: an added rule reads as the rule.
            let set = entries
                .iter()
                .filter(|(_, value)| canonical(value).is_some());
            for (index, (key, value)) in set.enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                gantry_terraform_plan::value::push_json_string(key, out);
                out.push_str(": ");
                write_masked(value, mask.get(key).unwrap_or(&Node::Null), out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_compact()),
    }
}

/// Whether a sensitivity mask marks anything.
fn marks(mask: &Node<'_>) -> bool {
    match mask {
        Node::Bool(marked) => *marked,
        Node::Array(items) => items.iter().any(marks),
        Node::Object(entries) => entries.iter().any(|(_, child)| marks(child)),
        _ => false,
    }
}

fn child_at<'a>(mask: &Node<'a>, index: usize) -> Node<'a> {
    match mask {
        Node::Array(items) => items.get(index).cloned().unwrap_or(Node::Null),
        Node::Bool(true) => Node::Bool(true),
        _ => Node::Null,
    }
}

#[derive(Default)]
struct Differ {
    changes: Vec<(Vec<Step>, Option<String>, Option<String>)>,
    steps: Vec<Step>,
}

static NULL: Node<'static> = Node::Null;

impl Differ {
    fn push(&mut self, before: Option<String>, after: Option<String>) {
        self.changes.push((self.steps.clone(), before, after));
    }

    fn diff(
        &mut self,
        before: &Node<'_>,
        after: &Node<'_>,
        before_mask: &Node<'_>,
        after_mask: &Node<'_>,
    ) {
        if canonical(before) == canonical(after) {
            return;
        }
        if before_mask.is_true() || after_mask.is_true() {
            let shown = |node: &Node<'_>| (!node.is_null()).then(|| "(sensitive)".to_owned());
            self.push(shown(before), shown(after));
            return;
        }
        match (before, after) {
            (Node::Object(_), Node::Object(_) | Node::Null) | (Node::Null, Node::Object(_)) => {
                let mut keys: Vec<&str> = Vec::new();
                for node in [before, after] {
                    if let Node::Object(entries) = node {
                        for (key, _) in entries {
                            if !keys.contains(&key.as_ref()) {
                                keys.push(key);
                            }
                        }
                    }
                }
                for key in keys {
                    self.steps.push(Step::Key(key.to_owned()));
                    self.diff(
                        before.get(key).unwrap_or(&NULL),
                        after.get(key).unwrap_or(&NULL),
                        before_mask.get(key).unwrap_or(&NULL),
                        after_mask.get(key).unwrap_or(&NULL),
                    );
                    self.steps.pop();
                }
            }
            (Node::Array(_) | Node::Null, Node::Array(_)) | (Node::Array(_), Node::Null) => {
                self.lists(before, after, before_mask, after_mask);
            }
            _ => self.push(show(before, before_mask), show(after, after_mask)),
        }
    }

    /// Lists as multisets: the elements on one side only are the change. When as many went as
    /// came and they are objects (a block edited in place), they are paired and diffed.
    fn lists(
        &mut self,
        before: &Node<'_>,
        after: &Node<'_>,
        before_mask: &Node<'_>,
        after_mask: &Node<'_>,
    ) {
        fn items<'n, 'a>(node: &'n Node<'a>) -> &'n [Node<'a>] {
            match node {
                Node::Array(items) => items,
                _ => &[],
            }
        }
        let (before_items, after_items) = (items(before), items(after));
        let before_keys: Vec<Option<String>> = before_items.iter().map(canonical).collect();
        let after_keys: Vec<Option<String>> = after_items.iter().map(canonical).collect();
        let mut taken = vec![false; after_items.len()];
        let mut gone = Vec::new();
        for (index, key) in before_keys.iter().enumerate() {
            match after_keys
                .iter()
                .enumerate()
                .position(|(at, other)| !taken[at] && other == key)
            {
                Some(at) => taken[at] = true,
                None => gone.push(index),
            }
        }
        let came: Vec<usize> = (0..after_items.len()).filter(|at| !taken[*at]).collect();
        let objects = |list: &[Node<'_>], indices: &[usize]| {
            indices
                .iter()
                .all(|index| matches!(list[*index], Node::Object(_)))
        };
        if gone.len() == came.len() && objects(before_items, &gone) && objects(after_items, &came) {
            for (from, to) in gone.iter().zip(&came) {
                self.steps.push(Step::Index(*from));
                self.diff(
                    &before_items[*from],
                    &after_items[*to],
                    &child_at(before_mask, *from),
                    &child_at(after_mask, *to),
                );
                self.steps.pop();
            }
            return;
        }
        self.steps.push(Step::Element);
        for index in gone {
            let shown = show(&before_items[index], &child_at(before_mask, index));
            self.push(shown, None);
        }
        for index in came {
            let shown = show(&after_items[index], &child_at(after_mask, index));
            self.push(None, shown);
        }
        self.steps.pop();
    }
}

/// Reads a plan's drift. `file` names the plan in errors.
pub fn analyse(
    name: &str,
    file: &str,
    bytes: &[u8],
    ignore: &[IgnoreRule],
) -> Result<StackDrift, PlanError> {
    let text = gantry_terraform_plan::plan::decode(file, bytes)?;
    let plan = Plan::parse(file, &text.json)?;
    if plan.errored == Some(true) {
        return Err(PlanError::NotAPlan {
            file: file.to_owned(),
            what: "a plan that errored".to_owned(),
            hint: "its refresh did not finish, so what it says of drift is incomplete; fix the error `terraform plan -refresh-only` printed and plan again".to_owned(),
        });
    }
    let (secrets, _digest) = secrets::scan(&[(name, file, &plan)])?;
    let config = Config::read(&plan);
    let mut drift = StackDrift {
        secrets,
        refresh_only: plan
            .resource_changes
            .iter()
            .all(|change| change.action() == Action::NoOp),
        notes: text.warnings.clone(),
        ..StackDrift::default()
    };
    for change in &plan.resource_changes {
        if let Some(from) = change.moved_from() {
            drift
                .moved
                .push((from.to_owned(), change.address.to_string()));
        }
    }
    let internal = |error: serde_json::Error| PlanError::InvalidPlan {
        file: file.to_owned(),
        line: error.line(),
        column: error.column(),
        message: error.to_string(),
    };
    let mut deleted = Vec::new();
    let mut changed = Vec::new();
    for entry in &plan.resource_drift {
        if entry.is_data() {
            continue;
        }
        let kind = resource_type(entry);
        let address = entry.display_address();
        match entry.action() {
            Action::Delete => deleted.push(Drifted {
                address,
                kind,
                drift: ObjectDrift::Deleted,
            }),
            Action::NoOp | Action::Read => {}
            _ => {
                let (attributes, why) = changes(entry, &kind, &config, ignore).map_err(internal)?;
                if attributes.is_empty() {
                    drift.not_drift.push((address, why));
                } else {
                    changed.push(Drifted {
                        address,
                        kind,
                        drift: ObjectDrift::Changed(attributes),
                    });
                }
            }
        }
    }
    drift.drifted = deleted;
    drift.drifted.extend(changed);
    Ok(drift)
}

/// The resource type: `type` is not in every plan format's drift entries, the address is.
fn resource_type(entry: &ResourceChange<'_>) -> String {
    let address = config_address(&entry.address);
    let parts: Vec<&str> = address.split('.').collect();
    // module.a.module.b.aws_s3_bucket.x → aws_s3_bucket
    parts
        .len()
        .checked_sub(2)
        .and_then(|at| parts.get(at))
        .map_or_else(String::new, |kind| (*kind).to_owned())
}

/// The attributes that drifted, and — when none did — why Terraform's entry is not drift.
fn changes(
    entry: &ResourceChange<'_>,
    kind: &str,
    config: &Config,
    ignore: &[IgnoreRule],
) -> Result<(Vec<AttributeChange>, String), serde_json::Error> {
    let before = Node::parse_optional(entry.change.before)?;
    let after = Node::parse_optional(entry.change.after)?;
    let before_mask = Node::parse_optional(entry.change.before_sensitive)?;
    let after_mask = Node::parse_optional(entry.change.after_sensitive)?;
    let mut differ = Differ::default();
    differ.diff(&before, &after, &before_mask, &after_mask);
    let address = config_address(&entry.address);
    let found = differ.changes;
    let duplicates_tags = |steps: &[Step], before: &Option<String>, after: &Option<String>| {
        let [Step::Key(first), rest @ ..] = steps else {
            return false;
        };
        first == "tags_all"
            && found.iter().any(|(other, other_before, other_after)| {
                matches!(other.first(), Some(Step::Key(key)) if key == "tags")
                    && other[1..] == *rest
                    && other_before == before
                    && other_after == after
            })
    };
    let mut reasons: Vec<String> = Vec::new();
    let mut note = |reason: String| {
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    };
    let mut kept: Vec<AttributeChange> = Vec::new();
    for (steps, before, after) in &found {
        let names = model::names(steps);
        let attribute = names.first().map_or("", String::as_str);
        if config.managed_elsewhere(kind, &address, attribute) {
            let companion = config
                .companion_of(kind, &address, attribute)
                .unwrap_or_default();
            note(format!(
                "{attribute} is set by {companion}, whose own drift is reported"
            ));
        } else if duplicates_tags(steps, before, after) {
            note("tags_all repeats tags".to_owned());
        } else if model::ignored(ignore, kind, &names) {
            note(format!("{} is ignored", names.join(".")));
        } else {
            kept.push(AttributeChange {
                path: model::display(steps),
                before: before.clone(),
                after: after.clone(),
            });
        }
    }
    // What Terraform saw differ that reads the same: named by attribute.
    if let (Node::Object(old), Node::Object(_)) = (&before, &after) {
        for (key, value) in old {
            let new = after.get(key).unwrap_or(&NULL);
            if value.to_compact() != new.to_compact() && canonical(value) == canonical(new) {
                let masked = before_mask.get(key).is_some_and(marks)
                    || after_mask.get(key).is_some_and(marks);
                if masked {
                    note(format!(
                        "{key}: the same (sensitive) value, written differently"
                    ));
                } else {
                    note(format!(
                        "{key}: {} and {} read alike",
                        gantry_core::markdown::shorten(&value.to_compact(), 40),
                        gantry_core::markdown::shorten(&new.to_compact(), 40)
                    ));
                }
            }
        }
    }
    kept.sort_by(|left, right| left.path.cmp(&right.path));
    Ok((kept, reasons.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(text: &str) -> Node<'static> {
        let raw: Box<serde_json::value::RawValue> = serde_json::from_str(text).unwrap();
        let leaked: &'static serde_json::value::RawValue = Box::leak(raw);
        Node::parse(leaked).unwrap()
    }

    #[test]
    fn zero_values_are_one_and_the_same() {
        for (left, right) in [
            ("null", "{}"),
            ("null", "[]"),
            ("\"\"", "null"),
            ("false", "null"),
            ("[{\"enabled\": false, \"mfa_delete\": false}]", "[]"),
            ("{\"a\": null}", "{}"),
        ] {
            assert_eq!(
                canonical(&node(left)),
                canonical(&node(right)),
                "{left} vs {right}"
            );
        }
        for (left, right) in [("true", "null"), ("{\"a\": \"x\"}", "{}"), ("[1]", "[2]")] {
            assert_ne!(
                canonical(&node(left)),
                canonical(&node(right)),
                "{left} vs {right}"
            );
        }
    }

    #[test]
    fn json_in_strings_and_set_order_are_not_drift() {
        let before = node(
            r#"{"policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Action\":[\"s3:GetObject\"],\"Effect\":\"Allow\"}]}", "cidrs": ["10.0.0.0/8", "0.0.0.0/0"]}"#,
        );
        let after = node(
            r#"{"policy": "{\n  \"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\"},\n  \"Version\": \"2012-10-17\"\n}", "cidrs": ["0.0.0.0/0", "10.0.0.0/8"]}"#,
        );
        assert_eq!(canonical(&before), canonical(&after));
        let widened = node(
            r#"{"policy": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Action\":\"s3:*\",\"Effect\":\"Allow\"}]}"}"#,
        );
        assert_ne!(
            canonical(&before.get("policy").unwrap().clone()),
            canonical(widened.get("policy").unwrap())
        );
    }

    #[test]
    fn instance_keys_are_not_part_of_the_configuration_address() {
        assert_eq!(
            config_address("module.a[\"x.y\"].aws_s3_bucket.b[0]"),
            "module.a.aws_s3_bucket.b"
        );
        assert_eq!(config_address("aws_instance.web"), "aws_instance.web");
    }

    #[test]
    fn sensitive_values_never_show() {
        let mut differ = Differ::default();
        differ.diff(
            &node(r#"{"password": "hunter22", "tags": {"a": "1"}}"#),
            &node(r#"{"password": "letmein1", "tags": {"a": "2"}}"#),
            &node(r#"{"password": true}"#),
            &node(r#"{"password": true}"#),
        );
        let shown = format!("{:?}", differ.changes);
        assert!(
            !shown.contains("hunter22") && !shown.contains("letmein1"),
            "{shown}"
        );
        assert!(shown.contains("(sensitive)"), "{shown}");
        assert_eq!(differ.changes.len(), 2);
    }
}
