//! Vault audit device: one JSON object per line, `type` request or response. A request and
//! its response are one event (the response carries the outcome); pairs match by `request.id`.

use std::collections::HashSet;

use serde_json::Value;

use super::str_at;
use crate::audit::model::{Action, Event, Outcome, Provider};
use crate::audit::time;

/// Request ids already counted (bounded: pairs sit close together in the log).
#[derive(Default)]
pub struct Dedup {
    seen: HashSet<String>,
}

const DEDUP_CAP: usize = 100_000;

pub fn event(v: &Value, dedup: &mut Dedup) -> Result<Option<Event>, String> {
    if !v.is_object() {
        return Err("Vault audit entry is not an object".into());
    }
    let t = v
        .get("time")
        .and_then(time::parse_value)
        .ok_or("Vault audit entry without a valid time")?;
    let req = v
        .get("request")
        .filter(|r| r.is_object())
        .ok_or("Vault audit entry without request")?;
    let Some(path) = str_at(req, &["path"]) else {
        return Ok(None);
    };
    let op = str_at(req, &["operation"]).unwrap_or("");
    let mount = str_at(req, &["mount_point"]).map(|m| m.trim_matches('/').to_string());
    let path = path.trim_matches('/');
    if path.starts_with("sys/")
        || path.starts_with("auth/")
        || path.starts_with("identity/")
        || path.starts_with("cubbyhole/")
    {
        return Ok(None);
    }
    let (mount, rest) = match &mount {
        Some(m) if !m.is_empty() && path.starts_with(m.as_str()) => (
            m.clone(),
            path[m.len()..].trim_start_matches('/').to_string(),
        ),
        _ => match path.split_once('/') {
            Some((m, r)) => (m.to_string(), r.to_string()),
            None => (path.to_string(), String::new()),
        },
    };
    // KV v1 and v2 both log mount_type "kv"; v2 paths carry one of these prefixes.
    let v2_prefix = ["data/", "metadata/", "delete/", "undelete/", "destroy/"]
        .iter()
        .any(|p| rest.starts_with(p));
    let kv1 = str_at(req, &["mount_type"]).is_some_and(|t| t == "kv") && !v2_prefix;
    let (sub, key) = match rest.split_once('/') {
        Some((s, k))
            if !kv1 && matches!(s, "data" | "metadata" | "delete" | "undelete" | "destroy") =>
        {
            (s, k.to_string())
        }
        _ => ("", rest.clone()),
    };
    if key.is_empty() {
        return Ok(None);
    }
    let action = match (sub, op) {
        ("data" | "", "read") => Action::Read,
        ("data" | "", "create" | "update") => Action::Write,
        ("data" | "" | "metadata", "delete") | ("destroy", _) => Action::Delete,
        ("undelete", _) => Action::Restore,
        _ => Action::Other,
    };
    let error = v.get("error").and_then(Value::as_str).unwrap_or("");
    let denied_policy = v
        .pointer("/auth/policy_results/allowed")
        .and_then(Value::as_bool)
        == Some(false);
    let outcome = if error.contains("permission denied") || denied_policy {
        Outcome::Denied
    } else if !error.is_empty() {
        Outcome::Failed
    } else {
        Outcome::Ok
    };
    // A request entry without an error is only counted through its response (which
    // carries the outcome); a request that already failed is counted once, here.
    let typ = v.get("type").and_then(Value::as_str).unwrap_or("");
    if let Some(id) = str_at(req, &["id"]) {
        if dedup.seen.len() >= DEDUP_CAP {
            dedup.seen.clear();
        }
        match typ {
            "request" if outcome == Outcome::Ok => return Ok(None),
            "request" => {
                dedup.seen.insert(id.to_string());
            }
            "response" if dedup.seen.remove(id) => return Ok(None),
            _ => {}
        }
    }
    let principal = str_at(v, &["auth", "display_name"])
        .or_else(|| str_at(v, &["auth", "entity_id"]))
        .or_else(|| str_at(v, &["auth", "accessor"]))
        .or_else(|| str_at(req, &["remote_address"]))
        .map(str::to_string);
    Ok(Some(Event {
        time: t,
        provider: Provider::Vault,
        secret: Some(format!("vault:{mount}/{key}")),
        action,
        outcome,
        principal,
        key_id: None,
        name: format!("{op} {path}"),
        message: (!error.is_empty()).then(|| error.to_string()),
    }))
}
