//! Gatekeeper's model: a template (its constraint kind and Rego), a constraint (its kind, name,
//! parameters and enforcement action), and the evaluation of one against an object.

use serde_json::{Value, json};

/// Why a template, a constraint or an evaluation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Not the document it should be.
    #[error("{file}: {why}")]
    Document {
        /// The file.
        file: String,
        /// What is wrong, and where.
        why: String,
    },
    /// The template's Rego does not compile (as v1, nor as v0).
    #[error("{file}: the Rego of template `{template}` does not compile: {error}")]
    Rego {
        /// The template's file.
        file: String,
        /// The template's name.
        template: String,
        /// regorus' error (with the line and column in the module).
        error: String,
    },
    /// The evaluation failed.
    #[error("{file}: evaluating `{template}` failed: {error}")]
    Evaluation {
        /// The template's file.
        file: String,
        /// The template's name.
        template: String,
        /// What failed.
        error: String,
    },
}

/// A `ConstraintTemplate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Where it was read from.
    pub file: String,
    /// `metadata.name`.
    pub name: String,
    /// The constraint kind it defines (`spec.crd.spec.names.kind`).
    pub kind: String,
    /// The Rego module, then the `libs`.
    pub modules: Vec<String>,
}

/// What a constraint's violations are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnforcementAction {
    /// `deny` (the default): a violation.
    Deny,
    /// `warn` or `dryrun`: a warning.
    Warn,
}

/// A constraint: an instance of a template's kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    /// Where it was read from.
    pub file: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.parameters` (`{}` when none).
    pub parameters: Value,
    /// `spec.enforcementAction`.
    pub action: EnforcementAction,
}

/// One violation a template found.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// `msg`.
    pub msg: String,
    /// `details` (`null` when none).
    pub details: Value,
}

fn text<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
}

impl Template {
    /// Reads a `ConstraintTemplate` document.
    ///
    /// # Errors
    /// When it is not one, has no constraint kind, or no Rego for the admission target.
    pub fn read(file: &str, document: &Value) -> Result<Self, PolicyError> {
        let refuse = |why: String| PolicyError::Document {
            file: file.to_owned(),
            why,
        };
        if text(document, "/kind") != Some("ConstraintTemplate") {
            return Err(refuse(format!(
                "not a ConstraintTemplate (kind is {})",
                document.get("kind").unwrap_or(&Value::Null)
            )));
        }
        let name = text(document, "/metadata/name")
            .ok_or_else(|| refuse("the template has no `metadata.name`".to_owned()))?
            .to_owned();
        let kind = text(document, "/spec/crd/spec/names/kind")
            .ok_or_else(|| {
                refuse(format!(
                    "template `{name}` has no `spec.crd.spec.names.kind`"
                ))
            })?
            .to_owned();
        let target = document
            .pointer("/spec/targets")
            .and_then(Value::as_array)
            .and_then(|targets| {
                targets
                    .iter()
                    .find(|target| text(target, "/target") == Some("admission.k8s.gatekeeper.sh"))
            })
            .ok_or_else(|| {
                refuse(format!(
                    "template `{name}` has no target `admission.k8s.gatekeeper.sh`"
                ))
            })?;
        // `rego` and `libs` on the target, or a `code` entry of engine `Rego` (a template that
        // also carries CEL has both).
        let from_code = target
            .get("code")
            .and_then(Value::as_array)
            .and_then(|code| {
                code.iter()
                    .find(|entry| text(entry, "/engine") == Some("Rego"))
            })
            .map(|entry| &entry["source"]);
        let holder = match (text(target, "/rego"), from_code) {
            (Some(_), _) => target,
            (None, Some(source)) => source,
            (None, None) => {
                return Err(refuse(format!(
                    "template `{name}` has no Rego (only a CEL engine is not judged here)"
                )));
            }
        };
        let mut modules = vec![
            text(holder, "/rego")
                .ok_or_else(|| refuse(format!("template `{name}`'s Rego engine has no `rego`")))?
                .to_owned(),
        ];
        for lib in holder
            .get("libs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            modules.push(
                lib.as_str()
                    .ok_or_else(|| {
                        refuse(format!("template `{name}`: a `libs` entry is not text"))
                    })?
                    .to_owned(),
            );
        }
        Ok(Self {
            file: file.to_owned(),
            name,
            kind,
            modules,
        })
    }

    /// An engine holding the template's modules, read as Rego v1 and, failing that, as v0 —
    /// Gatekeeper's order. The module's package is returned too.
    fn engine(&self) -> Result<(regorus::Engine, String), PolicyError> {
        let mut first_error = None;
        for v0 in [false, true] {
            let mut engine = regorus::Engine::new();
            engine.set_rego_v0(v0);
            let mut package = None;
            let mut failed = false;
            for (index, module) in self.modules.iter().enumerate() {
                let path = if index == 0 {
                    format!("{}:rego", self.file)
                } else {
                    format!("{}:libs[{}]", self.file, index - 1)
                };
                match engine.add_policy(path, module.clone()) {
                    Ok(name) => {
                        if index == 0 {
                            package = Some(name);
                        }
                    }
                    Err(error) => {
                        first_error.get_or_insert_with(|| error.to_string());
                        failed = true;
                        break;
                    }
                }
            }
            if let (false, Some(package)) = (failed, package) {
                return Ok((engine, package));
            }
        }
        Err(PolicyError::Rego {
            file: self.file.clone(),
            template: self.name.clone(),
            error: first_error.unwrap_or_else(|| "no module".to_owned()),
        })
    }
}

impl Constraint {
    /// Reads a constraint document.
    ///
    /// # Errors
    /// When it has no kind or name, or an enforcement action Gatekeeper does not know.
    pub fn read(file: &str, document: &Value) -> Result<Self, PolicyError> {
        let refuse = |why: String| PolicyError::Document {
            file: file.to_owned(),
            why,
        };
        let kind = text(document, "/kind")
            .ok_or_else(|| refuse("the constraint has no `kind`".to_owned()))?
            .to_owned();
        let name = text(document, "/metadata/name")
            .ok_or_else(|| {
                refuse(format!(
                    "constraint of kind `{kind}` has no `metadata.name`"
                ))
            })?
            .to_owned();
        let action = match text(document, "/spec/enforcementAction").unwrap_or("deny") {
            "deny" => EnforcementAction::Deny,
            "warn" | "dryrun" => EnforcementAction::Warn,
            other => {
                return Err(refuse(format!(
                    "constraint `{name}`: enforcementAction `{other}` is none of deny, warn, dryrun"
                )));
            }
        };
        Ok(Self {
            file: file.to_owned(),
            kind,
            name,
            parameters: document
                .pointer("/spec/parameters")
                .cloned()
                .unwrap_or_else(|| json!({})),
            action,
        })
    }
}

/// `group/version` of an `apiVersion` (`apps/v1` → `apps`, `v1`; `v1` → the core group, empty).
fn group_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

/// The violations `template`, as `constraint` configures it, finds in `object` (admitted as a
/// `CREATE`).
///
/// # Errors
/// When the template's Rego does not compile or evaluation fails; a constraint of another kind
/// than the template defines is refused too.
pub fn evaluate(
    template: &Template,
    constraint: &Constraint,
    object: &Value,
) -> Result<Vec<Violation>, PolicyError> {
    if constraint.kind != template.kind {
        return Err(PolicyError::Document {
            file: constraint.file.clone(),
            why: format!(
                "constraint `{}` is a `{}`, and template `{}` defines `{}`",
                constraint.name, constraint.kind, template.name, template.kind
            ),
        });
    }
    let (mut engine, package) = template.engine()?;
    let (group, version) = group_version(text(object, "/apiVersion").unwrap_or("v1"));
    let input = json!({
        "review": {
            "object": object,
            "kind": {"group": group, "version": version, "kind": text(object, "/kind").unwrap_or_default()},
            "name": text(object, "/metadata/name").unwrap_or_default(),
            "namespace": text(object, "/metadata/namespace").unwrap_or_default(),
            "operation": "CREATE",
        },
        "parameters": constraint.parameters,
    });
    let failed = |error: String| PolicyError::Evaluation {
        file: template.file.clone(),
        template: template.name.clone(),
        error,
    };
    let input =
        regorus::Value::from_json_str(&input.to_string()).map_err(|e| failed(e.to_string()))?;
    engine.set_input(input);
    let answer = engine
        .eval_rule(format!("{package}.violation"))
        .map_err(|error| {
            failed(format!(
                "`{package}.violation` cannot be evaluated ({error}): the template must define `violation[{{\"msg\": msg}}]`"
            ))
        })?;
    let answer: Value =
        serde_json::from_str(&answer.to_json_str().map_err(|e| failed(e.to_string()))?)
            .map_err(|error| failed(error.to_string()))?;
    let items = match answer {
        Value::Array(items) => items,
        // Anything else — undefined, because the template defines no `violation` — is no
        // pass: finding nothing to check is refused.
        other => {
            return Err(failed(format!(
                "`violation` is not a set of violations (the template must define `violation[{{\"msg\": msg}}]`): {other}"
            )));
        }
    };
    Ok(items
        .into_iter()
        .map(|item| Violation {
            msg: item
                .get("msg")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            details: item.get("details").cloned().unwrap_or(Value::Null),
        })
        .collect())
}
