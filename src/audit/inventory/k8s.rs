//! Kubernetes: `kubectl get secrets -A -o json` (a List) or single Secret objects.
//! `data`, `stringData` and the last-applied-configuration annotation hold values: they are
//! noted (with fingerprints) and never kept.

use base64::Engine;
use serde_json::Value;

use super::{apply_tags, date, s, string_map, value_fingerprint};
use crate::audit::model::{Item, Loc, ValueSighting};

pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

pub fn secret(v: &Value, loc: Loc) -> Result<Vec<Item>, String> {
    if let Some(Value::Array(items)) = v.get("items") {
        return items.iter().map(|i| one(i, loc.clone())).collect();
    }
    one(v, loc).map(|i| vec![i])
}

fn one(v: &Value, loc: Loc) -> Result<Item, String> {
    if let Some(kind) = s(v, "kind")
        && kind != "Secret"
    {
        return Err(format!(
            "Kubernetes object of kind {kind:?}, expected Secret"
        ));
    }
    let meta = v
        .get("metadata")
        .filter(|m| m.is_object())
        .ok_or("Kubernetes Secret without metadata")?;
    let name = s(meta, "name").ok_or("Kubernetes Secret without metadata.name")?;
    let ns = s(meta, "namespace").unwrap_or("default");
    let mut it = Item::new(format!("k8s:{ns}/{name}"), "k8s_secret", loc.clone());
    it.name = name.to_string();
    it.aliases.push(it.id.clone());
    it.created = date(meta, "creationTimestamp");
    it.deleted = date(meta, "deletionTimestamp");
    if let Some(t) = s(v, "type") {
        it.tags.insert("k8s-type".into(), t.to_string());
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    for (field, decode) in [("data", true), ("stringData", false)] {
        if let Some(Value::Object(m)) = v.get(field) {
            for (k, val) in m {
                let raw = val.as_str().unwrap_or_default();
                let bytes = if decode {
                    b64.decode(raw.trim()).unwrap_or_default()
                } else {
                    raw.as_bytes().to_vec()
                };
                it.values_seen.push(ValueSighting {
                    field: format!("{field}.{k}"),
                    fingerprint: value_fingerprint(&bytes),
                    loc: loc.clone(),
                });
            }
        }
    }
    let mut annotations = string_map(meta.get("annotations"));
    if annotations.remove(LAST_APPLIED).is_some() {
        it.values_seen.push(ValueSighting {
            field: format!("metadata.annotations[{LAST_APPLIED}]"),
            fingerprint: None,
            loc,
        });
    }
    let mut tags = string_map(meta.get("labels"));
    // Annotations may carry the fingerprint or owner; the rest is not classification input.
    for (k, val) in annotations {
        if k == super::FINGERPRINT_TAG || k == "owner" {
            tags.entry(k).or_insert(val);
        }
    }
    apply_tags(&mut it, tags);
    Ok(it)
}
