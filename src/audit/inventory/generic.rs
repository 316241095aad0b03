//! The generic inventory for everything else: CSV with a header, or a JSON array of
//! objects. Columns: id, name, class, environment, service, owner, created, last_rotated,
//! last_used, expires, rotation_enabled, fingerprint (all but id optional).

use serde_json::Value;

use super::{apply_tags, norm_fingerprint, parse_bool, string_map};
use crate::audit::model::{Item, Kind, Loc, Usage};
use crate::audit::time;

fn build(get: &dyn Fn(&str) -> Option<Option<String>>, loc: Loc) -> Result<Item, String> {
    let id = get("id")
        .flatten()
        .ok_or("generic inventory row without id")?;
    let mut it = Item::new(id.clone(), Kind::Generic, loc);
    let val = |k: &str| get(k).flatten();
    it.name = val("name").unwrap_or_else(|| id.clone());
    it.aliases.push(id);
    // Another source's kind lets a store exported through the generic format keep that
    // kind's checks and classification (`iam_access_key` rows get KEY-001).
    if let Some(kind) = val("kind") {
        match Kind::inventory(&kind) {
            Some(k) => it.kind = k,
            None => it.notes.push(format!(
                "column kind: {kind:?} is not a source kind ({}); read as generic",
                Kind::INVENTORY.map(Kind::as_str).join(", ")
            )),
        }
    }
    it.declared_class = val("class");
    it.environment = val("environment").or_else(|| val("env"));
    it.service = val("service");
    it.owner = val("owner");
    // JSON rows carry `tags` and `owner`; CSV rows only the `owner` column.
    it.tags_known = true;
    let date = |k: &str| -> Result<Option<i64>, String> {
        match val(k) {
            None => Ok(None),
            Some(s) => match time::parse_str(&s) {
                Some(t) => Ok(Some(t)),
                None if matches!(
                    s.to_ascii_lowercase().as_str(),
                    "n/a" | "never" | "none" | "null" | "-"
                ) =>
                {
                    Ok(None)
                }
                None => Err(format!("column {k}: cannot read {s:?} as a date")),
            },
        }
    };
    it.created = date("created")?;
    it.last_rotated = date("last_rotated")?;
    if it.last_rotated.is_some() {
        it.rotated_source = Some("last_rotated".into());
    }
    // A last_used column that is present but empty means "never used".
    it.usage = match get("last_used") {
        None => Usage::Untracked,
        Some(_) => date("last_used")?.map_or(Usage::Never, Usage::At),
    };
    it.expires = date("expires")?;
    it.deleted = date("deleted")?;
    it.next_rotation = date("next_rotation")?;
    it.expiry_supported = true;
    if let Some(r) = val("rotation_enabled") {
        it.rotation_supported = true;
        it.rotation_enabled = Some(
            parse_bool(&r)
                .ok_or_else(|| format!("column rotation_enabled: {r:?} is not true/false"))?,
        );
    }
    if let Some(e) = val("enabled").or_else(|| val("status")) {
        it.enabled = parse_bool(&e).unwrap_or(true);
    }
    it.key_id = val("key_id");
    it.principal = val("principal");
    if let Some(fps) = val("fingerprint") {
        for part in fps.split([',', ';', ' ']) {
            if part.trim().to_ascii_lowercase().starts_with("kw1")
                && !it.notes.iter().any(|n| n == super::LEGACY_TAG_NOTE)
            {
                it.notes.push(super::LEGACY_TAG_NOTE.to_string());
            }
            if let Some(fp) = norm_fingerprint(part) {
                it.fingerprints.push(fp);
            }
        }
    }
    Ok(it)
}

/// The `generic` parser for a CSV row as (header, value) pairs; an empty cell counts as absent.
pub fn from_row(cols: &[(String, String)], loc: Loc) -> Result<Vec<Item>, String> {
    let get = |k: &str| {
        cols.iter()
            .find(|(h, _)| h == k)
            .map(|(_, v)| Some(v.clone()).filter(|v| !v.is_empty()))
    };
    build(&get, loc).map(|i| vec![i])
}

/// The `generic` parser for a JSON object; lists are joined with commas and `tags` applied.
pub fn from_json(v: &Value, loc: Loc) -> Result<Item, String> {
    let get = |k: &str| {
        v.get(k).map(|x| match x {
            Value::Null => None,
            Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Value::Array(a) => Some(
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            other => Some(other.to_string()),
        })
    };
    let mut it = build(&get, loc)?;
    apply_tags(&mut it, string_map(v.get("tags")));
    Ok(it)
}
