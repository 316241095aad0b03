//! MGR: the secrets manager itself. From exports of a store's own settings: Key Vault
//! recoverability (MGR-001, MGR-002) and exposure (MGR-003), Vault audit devices
//! (MGR-005). Per secret, where its class asks: a customer-managed encryption key
//! (MGR-004) and the tags it must carry (MGR-006).

use serde_json::json;

use super::{CheckId, Ctx, Input, Secret, Subject};
use crate::audit::inventory::vault_audit::keeps_records;
use crate::audit::model::{Item, Kind, KmsKey, Store, StoreSettings};

/// The MGR checks: each store's own settings, then what each inventory secret's class asks
/// of its encryption key and tags.
pub fn run(cx: &mut Ctx, input: &Input) {
    for st in input.stores {
        store(cx, st);
    }
    for v in &input.secrets {
        secret(cx, v);
    }
}

fn store(cx: &mut Ctx, st: &Store) {
    let subj = Subject {
        id: &st.id,
        name: &st.name,
        kind: st.kind,
        class: None,
        class_source: "store settings",
        loc: &st.loc,
    };
    match &st.settings {
        StoreSettings::KeyVault {
            soft_delete,
            purge_protection,
            retention_days,
            public,
            public_network_access,
            default_action,
            rbac,
        } => {
            let retention = retention_days
                .map(|d| format!("{d}-day"))
                .unwrap_or_else(|| "retention".into());
            if *soft_delete == Some(false) {
                cx.push(
                    &subj,
                    CheckId::Mgr001,
                    format!(
                        "Key Vault {} has soft delete disabled (enableSoftDelete false): a deleted secret, or the vault, cannot be recovered",
                        st.name
                    ),
                    vec![
                        ("enableSoftDelete", json!(false)),
                        ("enablePurgeProtection", json!(purge_protection)),
                    ],
                    None,
                    None,
                );
            }
            if *purge_protection == Some(false) {
                cx.push(
                    &subj,
                    CheckId::Mgr002,
                    format!(
                        "Key Vault {} has no purge protection: whoever may purge can destroy deleted secrets before the {retention} period ends",
                        st.name
                    ),
                    vec![
                        ("enablePurgeProtection", json!(false)),
                        ("enableSoftDelete", json!(soft_delete)),
                        ("softDeleteRetentionInDays", json!(retention_days)),
                    ],
                    None,
                    None,
                );
            }
            if *public == Some(true) {
                let access = public_network_access
                    .as_deref()
                    .unwrap_or("not set (Enabled)");
                let firewall = match default_action.as_deref() {
                    Some(a) => format!("network rules default to {a}"),
                    None => "no network rules".to_string(),
                };
                cx.push(
                    &subj,
                    CheckId::Mgr003,
                    format!(
                        "Key Vault {} is reachable from any network: publicNetworkAccess {access}, {firewall}",
                        st.name
                    ),
                    vec![
                        ("publicNetworkAccess", json!(public_network_access)),
                        ("networkAclsDefaultAction", json!(default_action)),
                        ("enableRbacAuthorization", json!(rbac)),
                    ],
                    None,
                    None,
                );
            }
        }
        StoreSettings::VaultAudit { devices } => {
            if devices.iter().any(keeps_records) {
                return;
            }
            let message = if devices.is_empty() {
                "no audit device is enabled (`vault audit list` lists none): requests to Vault, reads of secrets included, are recorded nowhere".to_string()
            } else {
                format!(
                    "every audit device discards what it receives ({}): requests to Vault are recorded nowhere",
                    devices
                        .iter()
                        .map(|d| format!(
                            "{} {} file_path={}",
                            d.path,
                            d.kind,
                            d.target.as_deref().unwrap_or("")
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            cx.push(
                &subj,
                CheckId::Mgr005,
                message,
                vec![(
                    "devices",
                    json!(
                        devices
                            .iter()
                            .map(|d| json!({"path": d.path, "type": d.kind, "target": d.target}))
                            .collect::<Vec<_>>()
                    ),
                )],
                None,
                None,
            );
        }
    }
}

fn carries(it: &Item, key: &str) -> bool {
    it.tags
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case(key) && !v.trim().is_empty())
        || (key.eq_ignore_ascii_case("owner")
            && it.owner.as_deref().is_some_and(|o| !o.trim().is_empty()))
}

fn secret(cx: &mut Ctx, v: &Secret) {
    let (s, it) = (&v.subject, v.item);
    let Some(c) = s.class else { return };
    if !v.live {
        return;
    }
    if c.require_customer_key && it.kms_key == Some(KmsKey::ProviderManaged) {
        let which = match it.kind {
            Kind::AwsSecret => "the AWS-managed key aws/secretsmanager",
            _ => "the provider's own key",
        };
        cx.push(
            s,
            CheckId::Mgr004,
            format!(
                "encrypted with {which}; class {} requires a customer-managed key",
                c.name
            ),
            vec![
                ("kms_key", json!(null)),
                ("require_customer_key", json!(true)),
            ],
            None,
            None,
        );
    }
    if !c.required_tags.is_empty() && it.tags_known {
        let missing: Vec<&str> = c
            .required_tags
            .iter()
            .filter(|t| !carries(it, t))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            cx.push(
                s,
                CheckId::Mgr006,
                format!(
                    "no {} tag; class {} requires {}",
                    missing.join(", "),
                    c.name,
                    c.required_tags.join(", ")
                ),
                vec![
                    ("missing_tags", json!(missing)),
                    ("required_tags", json!(c.required_tags)),
                ],
                None,
                None,
            );
        }
    }
}
