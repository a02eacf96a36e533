//! The registry of implemented actions: each action's declaration, how the binary runs it, and
//! the inputs `gantry demo` gives it. `action.yml` files, CLI flags and README tables are all
//! generated from this list (`cargo xtask codegen`); an action is listed only once it works.

use gantry_core::action::ActionSpec;
use gantry_core::report::Report;

use crate::invocation::{ActionFailure, Invocation};

/// One runnable action.
#[derive(Debug, Clone, Copy)]
pub struct Command {
    /// Its declaration.
    pub spec: &'static ActionSpec,
    /// Reads what the inputs name, runs the sans-IO action, returns its report.
    pub run: fn(&Invocation) -> Result<Report, ActionFailure>,
    /// Inputs for `gantry demo`, paths relative to the repository's `examples/` folder.
    pub demo: &'static [(&'static str, &'static str)],
    /// Where every annotation can be read when the runner shows only ten of each kind.
    pub annotations_elsewhere: &'static str,
    /// What exit 1 means for this action, for `--help`.
    pub fails_when: &'static str,
    /// One local run, for `--help`.
    pub example: &'static str,
}

/// Every implemented action, in pipeline order.
pub fn commands() -> &'static [Command] {
    &[
        Command {
            spec: &gantry_security_scan::SPEC,
            fails_when: "a new, unsuppressed finding is at or above `fail-on`",
            example: "gantry security-scan --reports trivy.json --reports 'reports/*.sarif' --baseline base.sarif --fail-on high",
            run: crate::actions::security_scan::run_action,
            annotations_elsewhere: "the step summary and the merged SARIF",
            demo: &[
                ("reports", "security/reports/*"),
                ("baseline", "security/baseline.sarif"),
                ("suppressions", "security/suppressions.yml"),
                ("output", "security/gantry-security.sarif"),
            ],
        },
        Command {
            spec: &gantry_quality_gate::SPEC,
            fails_when: "tests fail (per `fail-on-tests`), coverage is under `min-coverage` or drops more than `max-coverage-drop`, or lint at `fail-on-lint` is new",
            example: "gantry quality-gate --junit 'reports/*.xml' --coverage coverage.xml --lint flake8.txt --min-coverage 80",
            run: crate::actions::quality_gate::run_action,
            annotations_elsewhere: "the check run and the step summary",
            demo: &[
                ("junit", "quality/reports/*.xml"),
                ("coverage", "quality/coverage.xml"),
                ("lint", "quality/flake8.txt"),
                ("baseline", "quality/baseline.json"),
                ("min-coverage", "70"),
                ("summary-file", "quality/gantry-quality-summary.json"),
            ],
        },
        Command {
            spec: &gantry_terraform_plan::SPEC,
            fails_when: "`fail-on-destroy` finds a destroy not in `destroy-allowlist`, or the plan is not `expect-digest`",
            example: "gantry terraform-plan --plan infra=infra/plan.json --plan dns=dns/tfplan --fail-on-destroy",
            run: crate::actions::terraform_plan::run_action,
            annotations_elsewhere: "the step summary",
            demo: &[
                (
                    "plan",
                    "network=terraform/network/plan.json\napp=terraform/app/plan.json",
                ),
                ("fail-on-destroy", "true"),
                ("destroy-allowlist", "terraform_data.cache*"),
            ],
        },
        Command {
            spec: &gantry_drift_report::SPEC,
            fails_when: "`fail-on-drift` is true and something drifted",
            example: "gantry drift-report --plans prod=infra/drift.json --fail-on-drift",
            run: crate::actions::drift_report::run_action,
            annotations_elsewhere: "the step summary",
            demo: &[
                (
                    "plans",
                    "shop-aws=drift/shop-aws/plan.json\nclean=drift/clean/plan.json",
                ),
                ("ignore", "aws_instance.tags_all"),
            ],
        },
        Command {
            spec: &gantry_canary_verify::options::SPEC,
            fails_when: "the canary is to be rolled back (or inconclusive, unless `on-inconclusive: pass`)",
            example: "gantry canary-verify --prometheus-url http://127.0.0.1:9090 --namespace shop --canary cart-canary --baseline cart-baseline",
            run: crate::actions::canary_verify::run_action,
            annotations_elsewhere: "the step summary",
            demo: &[
                ("prometheus-url", "file:canary/recorded.json"),
                ("namespace", "shop"),
                ("canary", "cart-canary"),
                ("baseline", "cart-baseline"),
                ("at", "2026-01-01T01:00:00Z"),
                ("evidence-file", "canary/gantry-canary-evidence.json"),
            ],
        },
        Command {
            spec: &gantry_helm_deploy::options::SPEC,
            fails_when: "the deploy failed (its pods crashed, did not become ready, or the canary was worse) and was rolled back",
            example: "gantry helm-deploy --release cart --chart ./chart --namespace shop --strategy canary --plan-only",
            run: crate::actions::helm_deploy::run_action,
            annotations_elsewhere: "the step summary",
            demo: &[
                ("plan-only", "true"),
                ("release", "cart"),
                ("chart", "helm/chart"),
                ("namespace", "shop"),
                ("strategy", "canary"),
                ("traffic", "istio"),
                ("prometheus-url", "file:canary/recorded.json"),
                ("timeout", "30m"),
                (
                    "health-checks",
                    "https://cart.shop.example/healthz 200 500ms",
                ),
            ],
        },
    ]
}

/// The action called `name`.
pub fn command(name: &str) -> Option<&'static Command> {
    commands().iter().find(|command| command.spec.name == name)
}

#[cfg(test)]
mod tests {
    use gantry_core::action::InputKind;

    #[test]
    fn every_spec_can_be_read_by_itself() {
        for command in super::commands() {
            let spec = command.spec;
            for input in spec.inputs {
                let name = format!("{}: `{}`", spec.name, input.name);
                assert!(
                    !(input.required && input.default.is_some()),
                    "{name}: a required input with a default is never missing"
                );
                match input.kind {
                    InputKind::Choice(words) => assert!(
                        input
                            .default
                            .is_some_and(|default| words.contains(&default)),
                        "{name}: its default is one of its words"
                    ),
                    InputKind::Boolean => assert!(
                        matches!(input.default, Some("true" | "false")),
                        "{name}: a boolean documents its default"
                    ),
                    _ => {}
                }
            }
            // The defaults pass the checks the registry applies to every run.
            let mut inputs = gantry_core::runner::Inputs::default();
            for input in spec.inputs {
                let value = input.default.filter(|d| !d.contains("${{")).unwrap_or("x");
                inputs.set(
                    input.name,
                    if input.kind == InputKind::Number {
                        "1"
                    } else {
                        value
                    },
                );
            }
            assert_eq!(inputs.check(spec.inputs), Ok(()), "{}", spec.name);
        }
    }
}
