//! Azure Key Vault: `az keyvault secret list` and `list-versions` (arrays of secret
//! properties; version entries carry the version in `id`). `az keyvault secret show`
//! output carries `value`: it is noted as a finding and never kept.

use serde_json::Value;

use super::{apply_tags, boolish, date, s, string_map, value_fingerprint};
use crate::audit::model::{Item, Kind, Loc, ValueSighting};

/// `https://V.vault.azure.net/secrets/NAME[/VERSION]` → (base URL, name, version).
pub fn split_id(id: &str) -> Option<(String, String, Option<String>)> {
    let rest = id
        .trim()
        .strip_prefix("https://")
        .or_else(|| id.trim().strip_prefix("http://"))?;
    let mut parts = rest.trim_end_matches('/').split('/');
    let host = parts.next()?.to_ascii_lowercase();
    let host = host.strip_suffix(":443").unwrap_or(&host).to_string();
    if parts.next()? != "secrets" {
        return None;
    }
    let name = parts.next().filter(|n| !n.is_empty())?.to_string();
    let version = parts.next().filter(|v| !v.is_empty()).map(str::to_string);
    Some((format!("https://{host}/secrets/{name}"), name, version))
}

/// Azure ids are case-insensitive: logs are matched on this form.
pub fn alias(base: &str) -> String {
    base.to_ascii_lowercase()
}

/// The `azure-secrets` parser. A version entry (an id with a version and no value) gives a
/// partial item carrying only that version, merged into its secret by the join.
pub fn secret_or_version(v: &Value, loc: Loc) -> Result<Item, String> {
    let id = s(v, "id").ok_or("Azure secret without \"id\"")?;
    let (base, name, version) =
        split_id(id).ok_or_else(|| format!("Azure id {id:?} is not https://VAULT/secrets/NAME"))?;
    let mut it = Item::new(base.clone(), Kind::AzureSecret, loc.clone());
    it.name = s(v, "name").unwrap_or(&name).to_string();
    it.aliases.push(alias(&base));
    it.expiry_supported = true;
    let attrs = v.get("attributes").cloned().unwrap_or(Value::Null);
    let created = date(&attrs, "created");
    let enabled = attrs.get("enabled").and_then(boolish).unwrap_or(true);
    if let Some(Value::String(val)) = v.get("value") {
        it.values_seen.push(ValueSighting {
            field: "value".into(),
            fingerprint: value_fingerprint(val.as_bytes()),
            note: None,
            loc,
        });
    }
    if version.is_some() && v.get("value").is_none() {
        it.partial = true;
        if let Some(t) = created {
            it.versions.push((t, enabled));
            it.created = Some(t);
        }
        return Ok(it);
    }
    it.created = created;
    it.enabled = enabled;
    it.expires = date(&attrs, "expires").or_else(|| date(&attrs, "exp"));
    it.not_before = date(&attrs, "notBefore").or_else(|| date(&attrs, "nbf"));
    it.deleted = date(v, "deletedDate");
    it.tags_known = true;
    apply_tags(&mut it, string_map(v.get("tags")));
    Ok(it)
}
