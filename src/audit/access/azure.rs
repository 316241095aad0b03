//! Azure: Key Vault access policies (`az keyvault show -o json`: `properties.accessPolicies`)
//! and RBAC role assignments (`az role assignment list --all -o json`).

use serde_json::{Value, json};

use super::{AccessData, DocCtx, DocErrors, Grant, Issue, Target, ptr, strings};
use crate::audit::checks::CheckId;
use crate::audit::inventory::{BadRecord, kind_of, s};

/// Every secret permission an access policy can hold.
const ALL_SECRET_PERMISSIONS: [&str; 8] = [
    "get", "list", "set", "delete", "backup", "restore", "recover", "purge",
];

/// Built-in roles whose data actions read secret values.
fn role_reads(role: &str) -> bool {
    matches!(
        role.to_ascii_lowercase().as_str(),
        "key vault secrets user" | "key vault secrets officer" | "key vault administrator"
    )
}

/// The vault name of a secret URL (`https://NAME.vault.azure.net/secrets/…`).
pub fn vault_of(id: &str) -> Option<String> {
    let (base, _, _) = crate::audit::inventory::azure::split_id(id)?;
    let host = base.strip_prefix("https://")?.split('/').next()?;
    host.split('.').next().map(str::to_string)
}

/// The `azure-access` parser: a vault (or a list of them) with its access policies, or role
/// assignments.
pub fn doc(v: &Value, cx: &DocCtx, data: &mut AccessData) -> Result<(), DocErrors> {
    super::each_object(v, None, |x, p, errs| one(x, p, cx, data, errs))
}

fn one(v: &Value, p: &str, cx: &DocCtx, data: &mut AccessData, errs: &mut DocErrors) {
    if !v.is_object() {
        errs.push((
            p.to_string(),
            format!("expected an object, found {}", kind_of(v)),
        ));
        return;
    }
    if v.get("principalId").is_some() {
        assignment(v, p, cx, data, errs);
        return;
    }
    let props = v.get("properties").unwrap_or(v);
    let Some(vault) = s(v, "name") else {
        errs.push((p.to_string(), "Key Vault without name".into()));
        return;
    };
    let pp = if v.get("properties").is_some() {
        ptr(p, "properties")
    } else {
        p.to_string()
    };
    if props
        .get("enableRbacAuthorization")
        .and_then(Value::as_bool)
        == Some(true)
    {
        // Azure ignores access policies on a vault that uses RBAC.
        if props
            .get("accessPolicies")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            data.notes.push(BadRecord {
                loc: cx.loc(&pp),
                error: format!("Key Vault {vault} uses RBAC: its access policies are ignored by Azure and were not evaluated"),
            });
        }
        return;
    }
    let policies = match props.get("accessPolicies") {
        None | Some(Value::Null) => return,
        Some(Value::Array(a)) => a,
        Some(other) => {
            errs.push((
                ptr(&pp, "accessPolicies"),
                format!("accessPolicies is {}, expected a list", kind_of(other)),
            ));
            return;
        }
    };
    for (i, ap) in policies.iter().enumerate() {
        let app = ptr(&ptr(&pp, "accessPolicies"), i);
        let Some(oid) = s(ap, "objectId") else {
            errs.push((app, "access policy without objectId".into()));
            continue;
        };
        let perms = match strings(ap.get("permissions").and_then(|x| x.get("secrets"))) {
            Ok(p) => p.iter().map(|x| x.to_ascii_lowercase()).collect::<Vec<_>>(),
            Err(e) => {
                errs.push((app, format!("permissions.secrets: {e}")));
                continue;
            }
        };
        let all = perms.iter().any(|x| x == "all")
            || ALL_SECRET_PERMISSIONS
                .iter()
                .all(|x| perms.iter().any(|y| y == x));
        let loc = cx.loc(&app);
        if all {
            data.issues.push(Issue {
                check: CheckId::Prv001,
                subject: oid.to_string(),
                name: format!("access policy of Key Vault {vault}"),
                message: format!("{oid} holds every secret permission ({}) on Key Vault {vault}: read, change and purge every secret in it", perms.join(", ")),
                evidence: vec![("vault", json!(vault)), ("permissions", json!(perms))],
                loc: loc.clone(),
                pointer: app.clone(),
            });
        }
        if all || perms.iter().any(|x| x == "get") {
            data.grants.push(Grant {
                provider: "azure",
                principal: oid.to_string(),
                via: format!("access policy of Key Vault {vault}"),
                actions: perms.clone(),
                resources: vec![vault.to_string()],
                conditions: Vec::new(),
                target: Target::Azure {
                    vault: Some(vault.to_string()),
                },
                loc,
                pointer: app,
            });
        }
    }
}

fn assignment(v: &Value, p: &str, cx: &DocCtx, data: &mut AccessData, errs: &mut DocErrors) {
    let Some(pid) = s(v, "principalId") else {
        errs.push((p.to_string(), "role assignment without principalId".into()));
        return;
    };
    let Some(scope) = s(v, "scope") else {
        errs.push((p.to_string(), "role assignment without scope".into()));
        return;
    };
    let role = s(v, "roleDefinitionName").unwrap_or("");
    if !role_reads(role) {
        return;
    }
    let principal = s(v, "principalName").map_or(pid.to_string(), |n| format!("{pid} ({n})"));
    let lower = scope.to_ascii_lowercase();
    let segs: Vec<&str> = lower.trim_matches('/').split('/').collect();
    let vault = segs
        .iter()
        .position(|x| *x == "vaults")
        .and_then(|i| scope.trim_matches('/').split('/').nth(i + 1))
        .map(str::to_string);
    // Wider than one vault: the root, a management group, a subscription, a resource group.
    let subscription_or_wider = lower == "/"
        || lower.contains("/managementgroups/")
        || (segs.len() == 2 && segs[0] == "subscriptions");
    let resource_group =
        segs.len() == 4 && segs[0] == "subscriptions" && segs[2] == "resourcegroups";
    let loc = cx.loc(p);
    let evidence = vec![
        ("role", json!(role)),
        ("scope", json!(scope)),
        ("principal", json!(principal)),
    ];
    let mut push = |check: CheckId, message: String| {
        data.issues.push(Issue {
            check,
            subject: pid.to_string(),
            name: format!("{role} at {scope}"),
            message,
            evidence: evidence.clone(),
            loc: loc.clone(),
            pointer: p.to_string(),
        })
    };
    if subscription_or_wider {
        push(
            CheckId::Prv001,
            format!(
                "{principal} is given {role} at {scope}: every secret in every Key Vault below it"
            ),
        );
        if role.eq_ignore_ascii_case("key vault administrator") {
            push(
                CheckId::Prv006,
                format!(
                    "{principal} is given Key Vault Administrator at {scope}: full data-plane control of every Key Vault below it"
                ),
            );
        }
    } else if resource_group {
        push(
            CheckId::Prv002,
            format!(
                "{principal} is given {role} at resource group scope {scope}: every secret in every Key Vault of the group"
            ),
        );
    }
    data.grants.push(Grant {
        provider: "azure",
        principal: pid.to_string(),
        via: format!("{role} at {scope}"),
        actions: vec![role.to_string()],
        resources: vec![scope.to_string()],
        conditions: s(v, "condition")
            .map(|c| vec![c.to_string()])
            .unwrap_or_default(),
        target: Target::Azure {
            // A role at a resource group or wider reaches vaults the inventory cannot place.
            vault: vault.filter(|_| !subscription_or_wider && !resource_group),
        },
        loc,
        pointer: p.to_string(),
    });
}
