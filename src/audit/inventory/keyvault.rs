//! Azure Key Vault settings: `az keyvault show --name V -o json` (`properties`:
//! `enableSoftDelete`, `enablePurgeProtection`, `softDeleteRetentionInDays`,
//! `publicNetworkAccess`, `networkAcls.defaultAction`, `enableRbacAuthorization`). The same
//! document, given as an access policy, also yields the vault's access policies.

use serde_json::Value;

use super::{boolish, kind_of, s};
use crate::audit::model::{Kind, Loc, Store, StoreSettings};

/// The `azure-keyvault` parser: one vault's settings as a store. A vault without
/// `properties` (`az keyvault list` output) is an error, not a vault with unknown settings.
pub fn vault(v: &Value, loc: Loc) -> Result<Vec<Store>, String> {
    if !v.is_object() {
        return Err(format!("expected a JSON object, found {}", kind_of(v)));
    }
    let name = s(v, "name");
    let id = match (s(v, "id"), name) {
        (Some(id), _) => id.to_string(),
        (None, Some(n)) => format!("azure-keyvault:{n}"),
        (None, None) => return Err("Key Vault without id or name".into()),
    };
    let name = name
        .map(str::to_string)
        .unwrap_or_else(|| id.rsplit('/').next().unwrap_or(&id).to_string());
    let props = match v.get("properties") {
        Some(p) if p.is_object() => p,
        Some(p) => {
            return Err(format!(
                "Key Vault {name}: properties is {}, expected an object",
                kind_of(p)
            ));
        }
        // `az keyvault list` prints id, name and tags only.
        None => {
            return Err(format!(
                "Key Vault {name} has no properties (`az keyvault list` leaves them out; export each vault with `az keyvault show`)"
            ));
        }
    };
    let flag = |k: &str| props.get(k).and_then(boolish);
    let pna = s(props, "publicNetworkAccess").map(str::to_string);
    let acls = props.get("networkAcls").filter(|n| !n.is_null());
    let default_action = acls.and_then(|n| s(n, "defaultAction")).map(str::to_string);
    let public = (props.get("publicNetworkAccess").is_some() || props.get("networkAcls").is_some())
        .then(|| {
            let enabled = pna
                .as_deref()
                .is_none_or(|p| !p.eq_ignore_ascii_case("Disabled"));
            // Without rules (or without a default action) nothing is denied.
            let open = default_action
                .as_deref()
                .is_none_or(|a| !a.eq_ignore_ascii_case("Deny"));
            enabled && open
        });
    Ok(vec![Store {
        id,
        name,
        kind: Kind::KeyVault,
        loc,
        settings: StoreSettings::KeyVault {
            soft_delete: flag("enableSoftDelete"),
            purge_protection: props
                .get("enablePurgeProtection")
                .map(|p| boolish(p).unwrap_or(false)),
            retention_days: props
                .get("softDeleteRetentionInDays")
                .and_then(Value::as_i64),
            public,
            public_network_access: pna,
            default_action,
            rbac: flag("enableRbacAuthorization"),
        },
    }])
}
