//! Which drift a reviewer must see first: access opened to the internet, a public bucket, IAM
//! widened, a network policy or RBAC binding changed, a container given privileges. Read from
//! the object's type and the changed attributes' paths and values, for Terraform's AWS, Google
//! and Azure resources and for Kubernetes objects; anything else is ordinary drift.

use crate::model::{Drifted, ObjectDrift};

/// Why this drift matters for security, in words, or `None`.
pub fn concern(drifted: &Drifted) -> Option<String> {
    let kind = drifted.kind.as_str();
    let lower_kind = kind.to_ascii_lowercase();
    match &drifted.drift {
        ObjectDrift::Deleted => {
            let guard = [
                (
                    "public_access_block",
                    "its public access block deleted: the bucket may be public",
                ),
                (
                    "networkpolicy",
                    "a network policy deleted: the pods it isolated take any traffic",
                ),
                ("network_acl", "a network ACL deleted"),
                ("kms_key", "an encryption key deleted"),
                ("firewall", "a firewall rule deleted"),
                ("waf", "a web application firewall rule deleted"),
            ];
            guard
                .iter()
                .find(|(part, _)| lower_kind.contains(part))
                .map(|(_, why)| (*why).to_owned())
        }
        ObjectDrift::Changed(changes) => {
            for change in changes {
                let path = change.path.to_ascii_lowercase();
                let after = change.after.as_deref().unwrap_or_default();
                let before = change.before.as_deref().unwrap_or_default();
                let newly = |needle: &str| after.contains(needle) && !before.contains(needle);
                if (newly("0.0.0.0/0") || newly("::/0"))
                    && (path.contains("cidr")
                        || path.contains("ingress")
                        || path.contains("source")
                        || path.contains("address_prefix"))
                {
                    return Some(format!(
                        "`{}` opened to the whole internet (`{}`)",
                        change.path,
                        if newly("0.0.0.0/0") {
                            "0.0.0.0/0"
                        } else {
                            "::/0"
                        }
                    ));
                }
                if (path.starts_with("block_public")
                    || path.starts_with("ignore_public_acls")
                    || path.starts_with("restrict_public_buckets"))
                    && after == "false"
                {
                    return Some(format!(
                        "`{}` turned off: the bucket may be public",
                        change.path
                    ));
                }
                if path.rsplit('.').next() == Some("acl")
                    && (after.contains("public-read") || after.contains("authenticated-read"))
                {
                    return Some(format!("made readable by anyone (`{after}`)"));
                }
                if path.contains("policy") || lower_kind.starts_with("aws_iam") {
                    let wildcard = |text: &str| {
                        text.contains("\"Action\":\"*\"")
                            || text.contains("\"Action\": \"*\"")
                            || text.contains("\"Principal\":\"*\"")
                            || text.contains("\"Principal\": \"*\"")
                            || text.contains("\"AWS\":\"*\"")
                            || text.contains("\"Resource\":\"*\"")
                            || text.contains("\"Resource\": \"*\"")
                            || text.contains(":*\"")
                    };
                    if wildcard(after) && !wildcard(before) {
                        return Some(format!("`{}` widened to a wildcard", change.path));
                    }
                    if lower_kind.starts_with("aws_iam") || path.ends_with("policy") {
                        return Some(format!("an access policy changed (`{}`)", change.path));
                    }
                }
                if lower_kind.contains("role_binding")
                    || lower_kind.contains("rolebinding")
                    || kind == "ClusterRole"
                    || kind == "Role"
                    || lower_kind.contains("iam_member")
                    || lower_kind.contains("iam_binding")
                    || lower_kind.contains("role_assignment")
                {
                    return Some(format!("who may do what changed (`{}`)", change.path));
                }
                if kind == "NetworkPolicy" {
                    return Some(format!("a network policy changed (`{}`)", change.path));
                }
                let privileged = [
                    ("privileged", "true"),
                    ("allowprivilegeescalation", "true"),
                    ("hostnetwork", "true"),
                    ("hostpid", "true"),
                    ("runasnonroot", "false"),
                ];
                if let Some((field, _)) = privileged
                    .iter()
                    .find(|(field, value)| path.ends_with(field) && after == *value)
                {
                    return Some(format!("the container given `{field}`"));
                }
                if path.ends_with("publicly_accessible") && after == "true" {
                    return Some("made publicly accessible".to_owned());
                }
                if (path.ends_with("encrypted") || path.ends_with("storage_encrypted"))
                    && after == "false"
                {
                    return Some(format!("`{}` turned off", change.path));
                }
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AttributeChange;

    fn changed(kind: &str, path: &str, before: &str, after: &str) -> Drifted {
        Drifted {
            address: format!("{kind}.x"),
            kind: kind.to_owned(),
            drift: ObjectDrift::Changed(vec![AttributeChange {
                path: path.to_owned(),
                before: Some(before.to_owned()),
                after: Some(after.to_owned()),
            }]),
        }
    }

    #[test]
    fn what_opens_access_is_a_concern_and_a_tag_is_not() {
        let open = changed(
            "aws_security_group",
            "ingress[0].cidr_blocks[0]",
            "10.0.0.0/8",
            "0.0.0.0/0",
        );
        assert!(concern(&open).unwrap().contains("whole internet"));
        let block = changed(
            "aws_s3_bucket_public_access_block",
            "block_public_acls",
            "true",
            "false",
        );
        assert!(concern(&block).unwrap().contains("may be public"));
        let policy = changed(
            "aws_iam_policy",
            "policy",
            r#"{"Statement":[{"Action":"s3:GetObject"}]}"#,
            r#"{"Statement":[{"Action":"*"}]}"#,
        );
        assert!(concern(&policy).unwrap().contains("wildcard"));
        let privileged = changed(
            "Deployment",
            "spec.template.spec.containers[web].securityContext.privileged",
            "false",
            "true",
        );
        assert!(concern(&privileged).unwrap().contains("privileged"));
        assert_eq!(
            concern(&changed("aws_instance", "tags.team", "a", "b")),
            None
        );
        // Narrowing is no concern.
        assert_eq!(
            concern(&changed(
                "aws_security_group",
                "ingress[0].cidr_blocks[0]",
                "0.0.0.0/0",
                "10.0.0.0/8"
            )),
            None
        );
    }
}
