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

use crate::pipeline::fingerprint;
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
    /// The input and line; line 0 when the fault is the input's as a whole.
    pub loc: Loc,
    /// What is wrong with it, for people.
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

/// A JSON value's type as error messages name it ("a string", "null").
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

/// Timestamp field in any form [`time::parse_value`] accepts; None if absent or unreadable.
pub fn date(v: &Value, key: &str) -> Option<Secs> {
    v.get(key).and_then(time::parse_value)
}

/// A flag written as a boolean, a word ([`parse_bool`]) or a number (non-zero is true).
pub fn boolish(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => parse_bool(s),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        _ => None,
    }
}

/// `true`/`yes`/`1`/`enabled`/`active`/`on` and their opposites, in any case; None otherwise.
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

/// Normalises a fingerprint written in a tag, a column or a findings file: `kw2:<hex>` or
/// `kw1:<hex>`, either with `-` or `_` for `:` (GCP labels cannot hold `:`), or bare 32-digit
/// hex (read as `kw2:`). The prefix is kept: the join compares fingerprints in their
/// [`fingerprint::canonical`] form, where a `kw1:` of a value that is still stretched equals
/// the same value's `kw2:`.
pub fn norm_fingerprint(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let (prefix, hex) = [
        ("kw2:", fingerprint::PREFIX),
        ("kw2-", fingerprint::PREFIX),
        ("kw2_", fingerprint::PREFIX),
        ("kw1:", fingerprint::LEGACY_PREFIX),
        ("kw1-", fingerprint::LEGACY_PREFIX),
        ("kw1_", fingerprint::LEGACY_PREFIX),
    ]
    .iter()
    .find_map(|(p, canon)| lower.strip_prefix(p).map(|h| (*canon, h)))
    .unwrap_or((fingerprint::PREFIX, &lower));
    if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(format!("{prefix}{hex}"));
    }
    Some(s.to_string())
}

/// What an item's notes say of a `kw1:` fingerprint tag: it joins leaks of weak and short
/// values as before, but a machine-made value of 32 bytes or more has a different `kw2:`.
pub const LEGACY_TAG_NOTE: &str = "its fingerprint tag is a kw1: fingerprint: for a machine-made value of 32 bytes or more, scans now report a kw2: fingerprint that this tag does not match; re-tag it with the output of `keywarden fingerprint`";

/// Fingerprints from a tag map, plus common metadata.
pub fn apply_tags(item: &mut Item, tags: BTreeMap<String, String>) {
    for (k, v) in &tags {
        let key = k.to_ascii_lowercase();
        if key == FINGERPRINT_TAG || key == "keywarden_fingerprint" {
            for part in v.split([',', ';', ' ']) {
                if part.trim().to_ascii_lowercase().starts_with("kw1")
                    && !item.notes.iter().any(|n| n == LEGACY_TAG_NOTE)
                {
                    item.notes.push(LEGACY_TAG_NOTE.to_string());
                }
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
    if let Ok(mut a) = LEGACY_ALIASES.lock() {
        a.clear();
    }
}

/// The `kw1:` fingerprints of the keyed values
/// fingerprinted in this run, each with the value's `kw2:`: a findings file written before
/// `kw2:` names those values by their `kw1:`, and the join looks them up here.
static LEGACY_ALIASES: std::sync::Mutex<BTreeMap<String, String>> =
    std::sync::Mutex::new(BTreeMap::new());

/// The current fingerprint of a value this run fingerprinted under its `kw1:` one, if any.
pub fn legacy_alias(fp: &str) -> Option<String> {
    LEGACY_ALIASES.lock().ok()?.get(fp).cloned()
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
    let key = std::env::var(fingerprint::KEY_ENV).ok();
    let value = fingerprint::normalize::value(bytes);
    let fp = fingerprint::fingerprint_with_key(&value, key.as_deref());
    if fingerprint::keyed(&value) {
        let old = fingerprint::legacy_with_key(&value, key.as_deref());
        if let Ok(mut a) = LEGACY_ALIASES.lock() {
            a.insert(old, fp.clone());
        }
    }
    Some(fp)
}
