//! Vault KV v2 metadata: JSON Lines of `{"path": "<mount>/<path>", "metadata": <vault kv
//! metadata get -format=json>}`.

use serde_json::Value;

use super::{apply_tags, date, s, string_map};
use crate::audit::model::{Item, Kind, Loc};
use crate::audit::time;

fn canonical_path(p: &str) -> String {
    p.trim().trim_matches('/').to_string()
}

/// The `vault-kv` parser: one record, `vault:<mount>/<path>`, with its versions.
pub fn kv_metadata(v: &Value, loc: Loc) -> Result<Item, String> {
    let path = s(v, "path").ok_or("Vault KV record without \"path\"")?;
    let meta = v
        .get("metadata")
        .ok_or("Vault KV record without \"metadata\"")?;
    // Accept the whole CLI output ({"data": {...}}) or its data object.
    let data = match meta.get("data") {
        Some(d) if d.is_object() => d,
        _ => meta,
    };
    if !data.is_object() {
        return Err("Vault KV \"metadata\" is not an object".into());
    }
    let path = canonical_path(path);
    if path.is_empty() {
        return Err("Vault KV record with an empty path".into());
    }
    let mut it = Item::new(format!("vault:{path}"), Kind::VaultKv, loc);
    it.name = path.clone();
    it.aliases.push(it.id.clone());
    it.created = date(data, "created_time");
    let current = data
        .get("current_version")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if let Some(Value::Object(versions)) = data.get("versions") {
        for (n, ver) in versions {
            let Some(created) = date(ver, "created_time") else {
                continue;
            };
            let destroyed = ver
                .get("destroyed")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let deletion = date(ver, "deletion_time");
            it.versions
                .push((created, !destroyed && deletion.is_none()));
            if n.parse::<u64>().ok() == Some(current) {
                if current > 1 {
                    it.last_rotated = Some(created);
                    it.rotated_source = Some(format!("version {current} created_time"));
                }
                // The current version deleted or destroyed: the secret no longer serves a value.
                if destroyed {
                    it.deleted = deletion
                        .or_else(|| date(data, "updated_time"))
                        .or(Some(created));
                } else if deletion.is_some() {
                    it.deleted = deletion;
                }
            }
        }
    }
    it.tags_known = true;
    let tags = string_map(data.get("custom_metadata"));
    apply_tags(&mut it, tags);
    if let Some(exp) = it
        .tags
        .get("expires")
        .or_else(|| it.tags.get("expiry"))
        .and_then(|e| time::parse_str(e))
    {
        it.expires = Some(exp);
    }
    Ok(it)
}
