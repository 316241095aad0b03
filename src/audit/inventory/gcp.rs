//! GCP Secret Manager: `gcloud secrets list --format=json` and `gcloud secrets versions
//! list SECRET --format=json` (both arrays; a file may hold either or both).

use serde_json::Value;

use super::{apply_tags, date, s, string_map};
use crate::audit::model::{Item, Kind, KmsKey, Loc};
use crate::audit::time;

/// `projects/P/secrets/S[/versions/N]` → (`projects/P/secrets/S`, S, version).
pub fn split_name(name: &str) -> Option<(String, String, Option<String>)> {
    let parts: Vec<&str> = name.trim_matches('/').split('/').collect();
    if parts.len() < 4
        || parts[0] != "projects"
        || parts[2] != "secrets"
        || parts[1].is_empty()
        || parts[3].is_empty()
    {
        return None;
    }
    let base = format!("projects/{}/secrets/{}", parts[1], parts[3]);
    let version = (parts.len() >= 6 && parts[4] == "versions").then(|| parts[5].to_string());
    Some((base, parts[3].to_string(), version))
}

/// Alias that ignores project number vs id (logs may use either).
pub fn short_alias(secret: &str) -> String {
    format!("gcp-secret:{secret}")
}

/// The `gcp-secrets` parser. A version entry (`…/versions/N`) gives a partial item carrying
/// only that version, merged into its secret by the join.
pub fn secret_or_version(v: &Value, loc: Loc) -> Result<Item, String> {
    let name = s(v, "name").ok_or("GCP record without \"name\"")?;
    let (base, short, version) =
        split_name(name).ok_or_else(|| format!("GCP name {name:?} is not projects/P/secrets/S"))?;
    let mut it = Item::new(base.clone(), Kind::GcpSecret, loc);
    it.name = short.clone();
    it.aliases.push(base);
    it.aliases.push(short_alias(&short));
    it.expiry_supported = true;
    if version.is_some() {
        it.partial = true;
        let state = s(v, "state").unwrap_or("ENABLED");
        if let Some(t) = date(v, "createTime") {
            it.versions.push((t, state.eq_ignore_ascii_case("ENABLED")));
            it.created = Some(t);
        }
        return Ok(it);
    }
    it.created = date(v, "createTime");
    it.expires = date(v, "expireTime");
    it.rotation_supported = true;
    match v.get("rotation") {
        Some(r) if r.is_object() => {
            let period = s(r, "rotationPeriod").and_then(time::parse_duration);
            let next = date(r, "nextRotationTime");
            it.rotation_enabled = Some(period.is_some() || next.is_some());
            it.rotation_interval_days = period.map(|p| p as f64 / 86_400.0);
            it.next_rotation = next;
        }
        _ => it.rotation_enabled = Some(false),
    }
    // Replication (or, for regional secrets, the secret itself) names a customer-managed
    // key where one is used; without one Google's own key encrypts the secret.
    if v.get("replication").is_some_and(Value::is_object)
        || v.get("customerManagedEncryption").is_some()
    {
        let replicas = v
            .pointer("/replication/userManaged/replicas")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        let cmek = [
            v.pointer("/customerManagedEncryption/kmsKeyName"),
            v.pointer("/replication/automatic/customerManagedEncryption/kmsKeyName"),
        ]
        .into_iter()
        .flatten()
        .chain(replicas.filter_map(|r| r.pointer("/customerManagedEncryption/kmsKeyName")))
        .find_map(Value::as_str)
        .filter(|k| !k.trim().is_empty());
        it.kms_key = Some(match cmek {
            Some(k) => KmsKey::Customer(k.to_string()),
            None => KmsKey::ProviderManaged,
        });
    }
    it.tags_known = true;
    let mut tags = string_map(v.get("labels"));
    for (k, val) in string_map(v.get("annotations")) {
        tags.entry(k).or_insert(val);
    }
    apply_tags(&mut it, tags);
    Ok(it)
}
