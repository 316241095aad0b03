//! Kubernetes: `kubectl get secrets -A -o json` (a List) or single Secret objects.
//! `data`, `stringData` and the last-applied-configuration annotation hold values: they are
//! noted (with fingerprints) and never kept.

use base64::Engine;
use serde_json::Value;

use super::{apply_tags, date, s, string_map, value_fingerprint};
use crate::audit::model::{Item, Kind, Loc, ValueSighting};

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The `k8s-secrets` parser: a List's items or one Secret, one item each.
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
    let mut it = Item::new(format!("k8s:{ns}/{name}"), Kind::K8sSecret, loc.clone());
    it.name = name.to_string();
    it.aliases.push(it.id.clone());
    it.created = date(meta, "creationTimestamp");
    it.deleted = date(meta, "deletionTimestamp");
    if let Some(t) = s(v, "type") {
        it.tags.insert("k8s-type".into(), t.to_string());
    }
    for (field, decode) in [("data", true), ("stringData", false)] {
        if let Some(Value::Object(m)) = v.get(field) {
            for (k, val) in m {
                let raw = val.as_str().unwrap_or_default();
                let (bytes, mut note) = if decode {
                    match decode_data(raw) {
                        Ok((b, lenient)) => (b, lenient),
                        Err(why) => (Vec::new(), Some(why)),
                    }
                } else {
                    (raw.as_bytes().to_vec(), None)
                };
                let fingerprint = value_fingerprint(&bytes);
                if fingerprint.is_none() && note.is_none() {
                    note = Some(if bytes.is_empty() {
                        "empty value, not fingerprinted".to_string()
                    } else {
                        "not fingerprinted: the per-run fingerprint budget is spent".to_string()
                    });
                }
                it.values_seen.push(ValueSighting {
                    field: format!("{field}.{k}"),
                    fingerprint,
                    note,
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
            note: Some("a whole manifest, not fingerprinted".into()),
            loc,
        });
    }
    it.tags_known = true;
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

/// Decodes a Secret's `data` value. The API server only stores strict base64, but exports
/// that went through other tools carry line breaks, missing padding or the URL-safe
/// alphabet; those are read too and said so. Returns the bytes and a note when the value
/// was not strict base64, or why it could not be decoded at all.
fn decode_data(raw: &str) -> Result<(Vec<u8>, Option<String>), String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    if let Ok(b) = STANDARD.decode(raw) {
        return Ok((b, None));
    }
    let compact: String = raw.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let unpadded = compact.trim_end_matches('=');
    for (engine, how) in [
        (&STANDARD, "with whitespace removed"),
        (&STANDARD_NO_PAD, "without padding"),
        (&URL_SAFE, "as URL-safe base64"),
        (&URL_SAFE_NO_PAD, "as URL-safe base64 without padding"),
    ] {
        let input = if how.contains("without padding") {
            unpadded
        } else {
            compact.as_str()
        };
        if let Ok(b) = engine.decode(input) {
            return Ok((b, Some(format!("not strict base64; decoded {how}"))));
        }
    }
    Err("not valid base64: could not be decoded, not fingerprinted".into())
}

#[cfg(test)]
mod tests {
    use super::decode_data;

    #[test]
    fn lenient_base64() {
        assert_eq!(decode_data("aGVsbG8="), Ok((b"hello".to_vec(), None)));
        let (b, note) = decode_data("aGVsbG8").expect("no padding");
        assert_eq!(b, b"hello");
        assert!(note.is_some_and(|n| n.contains("without padding")));
        let (b, _) = decode_data("aGVs\nbG8=").expect("line break");
        assert_eq!(b, b"hello");
        let (b, note) = decode_data("_-8=").expect("url-safe");
        assert_eq!(b, vec![0xff, 0xef]);
        assert!(note.is_some_and(|n| n.contains("URL-safe")));
        assert!(decode_data("not base64 at all!").is_err());
    }
}
