//! Synthetic Terraform plans of any size, shaped like `terraform show -json` output of a real
//! AWS stack: modules, `for_each` keys, nested blocks, tags, unknown and sensitive values, and a
//! mix of creates, updates, replaces and deletes. For budget tests and benchmarks.

use std::fmt::Write as _;

/// What a generated plan holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyntheticCounts {
    /// Creates.
    pub create: u64,
    /// Updates.
    pub update: u64,
    /// Replaces.
    pub replace: u64,
    /// Deletes.
    pub delete: u64,
}

/// The sensitive value every generated database password has (so tests can look for leaks).
pub const SYNTHETIC_SECRET: &str = "synthetic-db-password-never-shown";

/// A plan of `resources` resource changes. Deterministic: the same size gives the same bytes.
pub fn synthetic_plan(resources: usize) -> (String, SyntheticCounts) {
    let mut counts = SyntheticCounts::default();
    let mut changes = String::with_capacity(resources * 1_500);
    for index in 0..resources {
        if index > 0 {
            changes.push(',');
        }
        let module = index % 17;
        let (actions, reason) = match index % 10 {
            0..=4 => {
                counts.create += 1;
                ("[\"create\"]", "")
            }
            5..=7 => {
                counts.update += 1;
                ("[\"update\"]", "")
            }
            8 => {
                counts.replace += 1;
                (
                    "[\"delete\",\"create\"]",
                    ",\"action_reason\":\"replace_because_cannot_update\"",
                )
            }
            _ => {
                counts.delete += 1;
                (
                    "[\"delete\"]",
                    ",\"action_reason\":\"delete_because_no_resource_config\"",
                )
            }
        };
        let creating = actions == "[\"create\"]";
        let deleting = actions == "[\"delete\"]";
        let before = if creating {
            "null".to_owned()
        } else {
            instance(index, "t3.micro", "ami-0123456789abcdef0")
        };
        let after = if deleting {
            "null".to_owned()
        } else {
            instance(
                index,
                if index % 3 == 0 {
                    "t3.large"
                } else {
                    "t3.micro"
                },
                if index % 10 == 8 {
                    "ami-0fedcba9876543210"
                } else {
                    "ami-0123456789abcdef0"
                },
            )
        };
        let sensitive = "{\"db\":{\"password\":true},\"ebs_block_device\":[{},{}],\"tags\":{}}";
        let unknown = if deleting {
            "{}"
        } else {
            "{\"arn\":true,\"ebs_block_device\":[{\"volume_id\":true},{\"volume_id\":true}],\"private_ip\":true}"
        };
        let replace_paths = if index % 10 == 8 {
            ",\"replace_paths\":[[\"ami\"]]"
        } else {
            ""
        };
        let _ = write!(
            changes,
            "{{\"address\":\"module.service_{module}.aws_instance.worker[\\\"w-{index:06}\\\"]\",\"module_address\":\"module.service_{module}\",\"mode\":\"managed\",\"type\":\"aws_instance\",\"name\":\"worker\",\"index\":\"w-{index:06}\",\"provider_name\":\"registry.terraform.io/hashicorp/aws\",\"change\":{{\"actions\":{actions},\"before\":{before},\"after\":{after},\"after_unknown\":{unknown},\"before_sensitive\":{},\"after_sensitive\":{}{replace_paths}}}{reason}}}",
            if creating { "false" } else { sensitive },
            if deleting { "false" } else { sensitive },
        );
    }
    let plan = format!(
        "{{\"format_version\":\"1.2\",\"terraform_version\":\"1.11.4\",\"planned_values\":{{\"root_module\":{{}}}},\"resource_changes\":[{changes}],\"configuration\":{{\"root_module\":{{}}}},\"timestamp\":\"2026-11-26T10:00:00Z\",\"applyable\":true,\"complete\":true,\"errored\":false}}"
    );
    (plan, counts)
}

/// A refresh-only plan of `resources` instances right after an apply, as the AWS provider makes
/// it: every resource in the prior state and in `resource_drift` with its `tags_all` read back
/// as `{}` where the state had `null` (not drift), and `drifted` of them really changed — one in
/// ten of those deleted, the rest with `instance_type` and a tag changed by hand. Deterministic.
pub fn synthetic_drift_plan(resources: usize, drifted: usize) -> String {
    let every = resources / drifted.max(1);
    let mut drift = String::with_capacity(resources * 2_400);
    let mut state = String::with_capacity(resources * 1_200);
    for index in 0..resources {
        if index > 0 {
            drift.push(',');
            state.push(',');
        }
        let module = index % 17;
        let address = format!("module.service_{module}.aws_instance.worker[\\\"w-{index:06}\\\"]");
        let old = instance(index, "t3.micro", "ami-0123456789abcdef0").replacen(
            '{',
            "{\"tags_all\":null,",
            1,
        );
        let real = drifted > 0 && index % every == 0 && index / every < drifted;
        let (actions, new) = if real && (index / every) % 10 == 9 {
            ("[\"delete\"]", "null".to_owned())
        } else if real {
            (
                "[\"update\"]",
                instance(index, "t3.xlarge", "ami-0123456789abcdef0")
                    .replace("\"Team\":\"platform\"", "\"Team\":\"on-call\"")
                    .replacen('{', "{\"tags_all\":{},", 1),
            )
        } else {
            (
                "[\"update\"]",
                instance(index, "t3.micro", "ami-0123456789abcdef0").replacen(
                    '{',
                    "{\"tags_all\":{},",
                    1,
                ),
            )
        };
        let sensitive = "{\"db\":{\"password\":true},\"ebs_block_device\":[{},{}],\"tags\":{}}";
        let _ = write!(
            drift,
            "{{\"address\":\"{address}\",\"module_address\":\"module.service_{module}\",\"mode\":\"managed\",\"type\":\"aws_instance\",\"name\":\"worker\",\"index\":\"w-{index:06}\",\"provider_name\":\"registry.terraform.io/hashicorp/aws\",\"change\":{{\"actions\":{actions},\"before\":{old},\"after\":{new},\"after_unknown\":{{}},\"before_sensitive\":{sensitive},\"after_sensitive\":{}}}}}",
            if new == "null" { "false" } else { sensitive },
        );
        let _ = write!(
            state,
            "{{\"address\":\"{address}\",\"mode\":\"managed\",\"type\":\"aws_instance\",\"name\":\"worker\",\"index\":\"w-{index:06}\",\"provider_name\":\"registry.terraform.io/hashicorp/aws\",\"schema_version\":1,\"values\":{old},\"sensitive_values\":{sensitive}}}"
        );
    }
    format!(
        "{{\"format_version\":\"1.2\",\"terraform_version\":\"1.11.4\",\"planned_values\":{{\"root_module\":{{}}}},\"resource_drift\":[{drift}],\"prior_state\":{{\"format_version\":\"1.0\",\"terraform_version\":\"1.11.4\",\"values\":{{\"root_module\":{{\"resources\":[{state}]}}}}}},\"configuration\":{{\"root_module\":{{}}}},\"timestamp\":\"2026-11-26T10:00:00Z\",\"applyable\":true,\"complete\":true,\"errored\":false}}"
    )
}

/// An `aws_instance` value with its keys sorted, as Terraform writes them.
fn instance(index: usize, size: &str, ami: &str) -> String {
    format!(
        "{{\"ami\":\"{ami}\",\"availability_zone\":\"eu-west-1{zone}\",\"db\":{{\"host\":\"db-{index}.internal\",\"password\":\"{SYNTHETIC_SECRET}\"}},\"ebs_block_device\":[{{\"device_name\":\"/dev/sdb\",\"encrypted\":true,\"volume_size\":100,\"volume_type\":\"gp3\"}},{{\"device_name\":\"/dev/sdc\",\"encrypted\":true,\"iops\":3000,\"volume_size\":{large},\"volume_type\":\"io2\"}}],\"instance_type\":\"{size}\",\"monitoring\":true,\"tags\":{{\"CostCenter\":\"cc-{cost}\",\"Environment\":\"production\",\"ManagedBy\":\"terraform\",\"Name\":\"worker-{index}\",\"Team\":\"platform\"}},\"user_data\":\"#!/bin/bash\\necho worker {index} > /etc/worker-id\\nsystemctl enable --now worker.service\\n\"}}",
        zone = ["a", "b", "c"][index % 3],
        large = 500 + index % 7,
        cost = 1000 + index % 13,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_drift_plans_hold_what_they_claim() {
        let plan: serde_json::Value = serde_json::from_str(&synthetic_drift_plan(200, 20)).unwrap();
        let drift = plan["resource_drift"].as_array().unwrap();
        assert_eq!(drift.len(), 200);
        let deleted = drift
            .iter()
            .filter(|d| d["change"]["actions"] == serde_json::json!(["delete"]))
            .count();
        let resized = drift
            .iter()
            .filter(|d| d["change"]["after"]["instance_type"] == "t3.xlarge")
            .count();
        assert_eq!((deleted, resized), (2, 18));
    }

    #[test]
    fn synthetic_plans_are_valid_json_with_the_counts_they_claim() {
        let (plan, counts) = synthetic_plan(40);
        let value: serde_json::Value = serde_json::from_str(&plan).unwrap();
        let changes = value["resource_changes"].as_array().unwrap();
        assert_eq!(changes.len(), 40);
        assert_eq!(
            counts,
            SyntheticCounts {
                create: 20,
                update: 12,
                replace: 4,
                delete: 4
            }
        );
        assert_eq!(changes[9]["change"]["actions"][0], "delete");
        assert_eq!(synthetic_plan(40).0, plan, "deterministic");
    }
}
