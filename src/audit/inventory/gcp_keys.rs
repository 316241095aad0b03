//! GCP service-account keys: `gcloud iam service-accounts keys list --iam-account=SA
//! --format=json` (the REST `ServiceAccountKey`: `name`, `keyType`, `validAfterTime`,
//! `validBeforeTime`, `keyAlgorithm`, `disabled`). Only user-managed keys are credentials
//! someone holds; Google-managed ones (`SYSTEM_MANAGED`) are rotated by Google and never
//! leave it, so they are read and not audited.

use serde_json::Value;

use super::{boolish, date, s, value_fingerprint};
use crate::audit::model::{Item, Kind, Loc, ValueSighting};
use crate::audit::time::Secs;

/// `projects/P/serviceAccounts/SA/keys/KEY` → (SA, KEY).
pub fn split_name(name: &str) -> Option<(&str, &str)> {
    let rest = name.trim().strip_prefix("projects/")?;
    let (_, rest) = rest.split_once("/serviceAccounts/")?;
    let (sa, key) = rest.split_once("/keys/")?;
    let key = key.trim_end_matches('/');
    (!sa.is_empty() && !key.is_empty() && !key.contains('/')).then_some((sa, key))
}

/// Google writes "no expiry" as `9999-12-31T23:59:59Z`.
fn real_expiry(t: Option<Secs>) -> Option<Secs> {
    // 9999-01-01T00:00:00Z
    t.filter(|t| *t < 253_370_764_800)
}

/// The `gcp-sa-keys` parser: one key, as an item; none for a Google-managed key.
pub fn key(v: &Value, loc: Loc) -> Result<Vec<Item>, String> {
    let name = s(v, "name").ok_or("service-account key without \"name\"")?;
    let (sa, key_id) = split_name(name).ok_or_else(|| {
        format!("service-account key name {name:?} is not projects/P/serviceAccounts/SA/keys/KEY")
    })?;
    // The API always says; an export without `keyType` is judged as a key someone holds.
    let key_type = s(v, "keyType").unwrap_or("USER_MANAGED");
    if key_type.eq_ignore_ascii_case("SYSTEM_MANAGED") {
        return Ok(Vec::new());
    }
    let mut it = Item::new(name.to_string(), Kind::GcpServiceAccountKey, loc.clone());
    let short: String = key_id.chars().take(12).collect();
    it.name = format!("{sa} key {short}");
    it.principal = Some(sa.to_string());
    // The key file's `private_key_id`: what a leaked key file is joined by.
    it.key_id = Some(key_id.to_ascii_lowercase());
    it.created = date(v, "validAfterTime");
    it.not_before = it.created;
    it.expires = real_expiry(date(v, "validBeforeTime"));
    it.expiry_supported = true;
    it.expiry_enforced = true;
    it.enabled = !v.get("disabled").and_then(boolish).unwrap_or(false);
    if let Some(alg) = s(v, "keyAlgorithm") {
        it.tags.insert("keyAlgorithm".into(), alg.to_string());
    }
    if !key_type.eq_ignore_ascii_case("USER_MANAGED") {
        it.notes.push(format!(
            "keyType {key_type:?} is neither USER_MANAGED nor SYSTEM_MANAGED; audited as user-managed"
        ));
    }
    // `keys create --format=json` prints the private key file (base64) once.
    if let Some(Value::String(data)) = v.get("privateKeyData") {
        it.values_seen.push(ValueSighting {
            field: "privateKeyData".into(),
            fingerprint: value_fingerprint(data.as_bytes()),
            note: None,
            loc,
        });
    }
    Ok(vec![it])
}
