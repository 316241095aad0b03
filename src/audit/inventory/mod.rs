//! Inventory exports: one parser per provider format, all producing [`Item`]s.

pub mod aws;
pub mod azure;
pub mod azure_apps;
pub mod gcp;
pub mod gcp_keys;
pub mod generic;
pub mod k8s;
pub mod keyvault;
pub mod vault;
pub mod vault_audit;

use std::collections::BTreeMap;
use std::io::BufRead;

use serde_json::Value;

use super::input::{self, InputFormat, Parser, Record};
use super::model::{Item, Loc, Store};
use super::time::{self, Secs};

/// Tag / label / custom_metadata key that carries a value fingerprint.
pub const FINGERPRINT_TAG: &str = "keywarden-fingerprint";

/// What a record read with bytes that are not UTF-8 says about itself.
pub const LOSSY_NOTE: &str = "the record holds bytes that are not UTF-8 (replaced by U+FFFD to read it); the record was kept";

/// A record that could not be used, with where it is.
#[derive(Debug, Clone)]
pub struct BadRecord {
    pub loc: Loc,
    pub error: String,
}

/// Parses one inventory input into items (or, for exports of a store's own settings, into
/// stores); bad records are reported and skipped.
pub fn load<R: BufRead>(
    format: &'static InputFormat,
    reader: R,
    file: &str,
    items: &mut Vec<Item>,
    stores: &mut Vec<Store>,
    bad: &mut Vec<BadRecord>,
) -> std::io::Result<input::Count> {
    let mut records = 0usize;
    let loc = |line| Loc {
        file: file.to_string(),
        line,
    };
    if let Parser::Inventory {
        csv: Some(from_row),
        ..
    } = format.parser
    {
        let mut reader = reader;
        let head = reader.fill_buf()?;
        let t = String::from_utf8_lossy(&head[..head.len().min(64)])
            .trim_start_matches('\u{feff}')
            .trim_start()
            .to_string();
        if !t.starts_with('{') && !t.starts_with('[') {
            let complete = input::csv_records(reader, &mut |row| {
                records += 1;
                match row {
                    Ok((line, cols)) => match from_row(&cols, loc(line)) {
                        Ok(mut v) => items.append(&mut v),
                        Err(error) => bad.push(BadRecord {
                            loc: loc(line),
                            error,
                        }),
                    },
                    Err((line, error)) => bad.push(BadRecord {
                        loc: loc(line),
                        error,
                    }),
                }
            });
            return Ok(input::Count {
                records,
                partial: !complete,
            });
        }
        return load_json(format, reader, file, items, stores, bad);
    }
    load_json(format, reader, file, items, stores, bad)
}

fn load_json<R: BufRead>(
    format: &'static InputFormat,
    reader: R,
    file: &str,
    items: &mut Vec<Item>,
    stores: &mut Vec<Store>,
    bad: &mut Vec<BadRecord>,
) -> std::io::Result<input::Count> {
    let mut records = 0usize;
    let mut partial = false;
    input::json_records(reader, format.array_keys(), &mut |rec| {
        if matches!(rec, Record::Truncated { .. }) {
            partial = true;
        } else {
            records += 1;
        }
        match rec {
            Record::Ok { value, line, lossy } => {
                let loc = Loc {
                    file: file.to_string(),
                    line,
                };
                if let Parser::Store(parse) = format.parser {
                    match parse(&value, loc.clone()) {
                        Ok(mut v) => stores.append(&mut v),
                        Err(error) => bad.push(BadRecord { loc, error }),
                    }
                    return;
                }
                match parse_value(format, &value, loc.clone()) {
                    Ok(mut v) => {
                        if lossy {
                            for it in &mut v {
                                it.notes.push(LOSSY_NOTE.to_string());
                            }
                        }
                        items.append(&mut v)
                    }
                    Err(error) => bad.push(BadRecord { loc, error }),
                }
            }
            Record::Bad { line, error } | Record::Truncated { line, error } => {
                bad.push(BadRecord {
                    loc: Loc {
                        file: file.to_string(),
                        line,
                    },
                    error,
                })
            }
        }
    })?;
    Ok(input::Count { records, partial })
}

/// Parses one JSON record of an inventory format.
pub fn parse_value(format: &'static InputFormat, v: &Value, loc: Loc) -> Result<Vec<Item>, String> {
    if !v.is_object() {
        return Err(format!("expected a JSON object, found {}", kind_of(v)));
    }
    match format.parser {
        Parser::Inventory { json, .. } => json(v, loc),
        _ => Err(format!("{} is not an inventory format", format.name)),
    }
}

pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// String field (trimmed, non-empty).
pub fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

pub fn date(v: &Value, key: &str) -> Option<Secs> {
    v.get(key).and_then(time::parse_value)
}

pub fn boolish(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => parse_bool(s),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        _ => None,
    }
}

pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "enabled" | "active" | "on" => Some(true),
        "false" | "no" | "n" | "0" | "disabled" | "inactive" | "off" => Some(false),
        _ => None,
    }
}

/// `{"k": "v"}` maps (GCP labels, Azure tags, Vault custom_metadata, k8s labels).
pub fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(Value::Object(m)) = v {
        for (k, val) in m {
            let s = match val {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            out.insert(k.clone(), s);
        }
    }
    out
}

/// Normalises a fingerprint written in a tag or column: `kw1:<hex>`, `kw1-<hex>` (GCP labels
/// cannot hold `:`), or bare 32-digit hex.
pub fn norm_fingerprint(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let hex = lower
        .strip_prefix("kw1:")
        .or_else(|| lower.strip_prefix("kw1-"))
        .or_else(|| lower.strip_prefix("kw1_"))
        .unwrap_or(&lower);
    if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(format!("kw1:{hex}"));
    }
    Some(s.to_string())
}

/// Fingerprints from a tag map, plus common metadata.
pub fn apply_tags(item: &mut Item, tags: BTreeMap<String, String>) {
    for (k, v) in &tags {
        let key = k.to_ascii_lowercase();
        if key == FINGERPRINT_TAG || key == "keywarden_fingerprint" {
            for part in v.split([',', ';', ' ']) {
                if let Some(fp) = norm_fingerprint(part)
                    && !item.fingerprints.contains(&fp)
                {
                    item.fingerprints.push(fp);
                }
            }
        } else if key == "owner" && item.owner.is_none() {
            item.owner = Some(v.clone());
        }
    }
    item.tags.extend(tags);
}

/// Values fingerprinted per run: each costs a deliberately slow PBKDF2 (about 0.2 ms), so an
/// export full of values (a cluster's `kubectl get secrets` with data) cannot stall the audit.
pub const FINGERPRINT_BUDGET: usize = 2_000;

static FINGERPRINTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Starts a new budget (one per audit run).
pub fn reset_fingerprint_budget() {
    FINGERPRINTED.store(0, std::sync::atomic::Ordering::Relaxed);
}

/// Fingerprint of a value found in an input; only the fingerprint leaves this function, and
/// the value is not cached. None once the budget is spent (the sighting is still reported).
pub fn value_fingerprint(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    if FINGERPRINTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= FINGERPRINT_BUDGET {
        return None;
    }
    let key = std::env::var(crate::pipeline::fingerprint::KEY_ENV).ok();
    Some(crate::pipeline::fingerprint::fingerprint_with_key(
        &crate::pipeline::fingerprint::normalize::value(bytes),
        key.as_deref(),
    ))
}
