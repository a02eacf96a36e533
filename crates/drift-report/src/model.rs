//! What drifted, in words both sources share: an object (a Terraform resource, a Kubernetes
//! object) deleted or changed attribute by attribute, and the rules for which attribute paths
//! the user asked to ignore.

/// One attribute that differs. Values are display text (compact JSON), already masked where
/// they are sensitive; `None` means the attribute is absent on that side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeChange {
    /// `tags.team`, `ingress[]`, `spec.template.spec.containers[web].image`.
    pub path: String,
    /// What Terraform's state (or the chart) says.
    pub before: Option<String>,
    /// What is there now.
    pub after: Option<String>,
}

impl AttributeChange {
    /// `+` added, `-` removed, `~` changed.
    pub fn marker(&self) -> char {
        match (&self.before, &self.after) {
            (None, Some(_)) => '+',
            (Some(_), None) => '-',
            _ => '~',
        }
    }
}

/// How an object drifted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectDrift {
    /// Gone: deleted outside Terraform or Helm.
    Deleted,
    /// There, with these attributes changed.
    Changed(Vec<AttributeChange>),
}

/// One drifted object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drifted {
    /// `aws_instance.web`, `Deployment/cart`.
    pub address: String,
    /// The resource type or kind (`aws_instance`, `Deployment`).
    pub kind: String,
    /// What happened to it.
    pub drift: ObjectDrift,
}

/// One attribute path the user asked to ignore: `aws_instance.tags_all`, `*.tags`,
/// `Deployment.spec.replicas`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreRule {
    /// Resource type or kind; `*` is any.
    pub kind: String,
    /// Path segments (names only: list indices do not count).
    pub path: Vec<String>,
}

impl IgnoreRule {
    /// Reads one line of the `ignore` input.
    pub fn parse(line: &str) -> Result<Self, String> {
        let line = line.trim();
        let (kind, path) = line.split_once('.').ok_or_else(|| {
            format!("ignore: `{line}` is not `type.attribute` (e.g. `aws_instance.tags_all` or `Deployment.spec.replicas`)")
        })?;
        let path: Vec<String> = path
            .split('.')
            .map(|segment| strip_indices(segment).to_owned())
            .collect();
        if kind.is_empty() || path.iter().any(String::is_empty) {
            return Err(format!(
                "ignore: `{line}` has an empty part; write `type.attribute.nested`"
            ));
        }
        Ok(Self {
            kind: kind.to_owned(),
            path,
        })
    }

    /// Whether this rule covers `path` (segments, indices already stripped) of a `kind`.
    pub fn covers(&self, kind: &str, path: &[String]) -> bool {
        (self.kind == "*" || self.kind == kind)
            && path.len() >= self.path.len()
            && self
                .path
                .iter()
                .zip(path)
                .all(|(rule, segment)| rule == segment)
    }
}

/// `containers[0]` → `containers`.
fn strip_indices(segment: &str) -> &str {
    segment.split('[').next().unwrap_or(segment)
}

/// Whether any rule covers the path.
pub fn ignored(rules: &[IgnoreRule], kind: &str, path: &[String]) -> bool {
    rules.iter().any(|rule| rule.covers(kind, path))
}

/// One step of an attribute path, as it is displayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// An object key.
    Key(String),
    /// A list position.
    Index(usize),
    /// A list-map entry by its key (`containers[web]`).
    Named(String),
    /// An element of a set-like list, added or removed.
    Element,
}

/// Renders a path: `tags.team`, `ingress[]`, `containers[web].image`, `tags["kubernetes.io/x"]`.
pub(crate) fn display(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Key(key) => {
                let plain = !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if plain {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                } else {
                    out.push('[');
                    out.push_str(&serde_json::Value::String(key.clone()).to_string());
                    out.push(']');
                }
            }
            Step::Index(index) => {
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
            Step::Named(name) => {
                out.push('[');
                out.push_str(name);
                out.push(']');
            }
            Step::Element => out.push_str("[]"),
        }
    }
    out
}

/// The names of a path, for ignore rules.
pub(crate) fn names(steps: &[Step]) -> Vec<String> {
    steps
        .iter()
        .filter_map(|step| match step {
            Step::Key(key) => Some(key.clone()),
            _ => None,
        })
        .collect()
}

/// At most this many characters of a value are shown.
pub(crate) const VALUE_CHARS: usize = 160;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_rules_match_whole_segments_of_their_kind() {
        let rule = IgnoreRule::parse("aws_instance.tags_all").unwrap();
        let path = |text: &str| text.split('.').map(str::to_owned).collect::<Vec<_>>();
        assert!(rule.covers("aws_instance", &path("tags_all.team")));
        assert!(!rule.covers("aws_instance", &path("tags")));
        assert!(!rule.covers("aws_instance", &path("tags_allx")));
        assert!(!rule.covers("aws_s3_bucket", &path("tags_all")));
        let any = IgnoreRule::parse("*.tags").unwrap();
        assert!(any.covers("aws_s3_bucket", &path("tags.a")));
        let nested =
            IgnoreRule::parse("Deployment.spec.template.spec.containers[0].image").unwrap();
        assert!(nested.covers("Deployment", &path("spec.template.spec.containers.image")));
        assert!(IgnoreRule::parse("tags").is_err());
        assert!(IgnoreRule::parse("aws_instance.").is_err());
    }

    #[test]
    fn paths_quote_keys_that_are_not_names() {
        let steps = [
            Step::Key("tags".into()),
            Step::Key("kubernetes.io/role".into()),
        ];
        assert_eq!(display(&steps), "tags[\"kubernetes.io/role\"]");
        let steps = [
            Step::Key("spec".into()),
            Step::Key("containers".into()),
            Step::Named("web".into()),
            Step::Key("image".into()),
        ];
        assert_eq!(display(&steps), "spec.containers[web].image");
        assert_eq!(names(&steps), ["spec", "containers", "image"]);
    }
}
