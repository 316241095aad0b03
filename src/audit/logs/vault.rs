//! Vault audit device: one JSON object per line, `type` request or response. A request and
//! its response are one event (the response carries the outcome); pairs match by `request.id`.
//! A request whose response never comes (filtered logs) still counts, when the file ends.

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

use super::{Pos, str_at};
use crate::audit::model::{AccessOutcome, Action, Event, Provider};
use crate::audit::time;

enum Slot {
    /// Allowed request waiting for its response.
    Waiting(Box<Event>, Pos),
    /// Already counted from the request (it failed); the response is skipped.
    Counted,
}

/// Requests waiting for their response (bounded: pairs sit close together in the log).
#[derive(Default)]
pub struct Pairing {
    slots: HashMap<String, Slot>,
    order: VecDeque<String>,
    /// Entries about no secret (system, auth and identity paths, listings of a mount).
    pub unrelated: u64,
}

const PAIRING_CAP: usize = 100_000;

impl Pairing {
    fn put(&mut self, id: &str, slot: Slot, out: &mut Vec<(Event, Pos)>) {
        while self.slots.len() >= PAIRING_CAP {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(Slot::Waiting(e, p)) = self.slots.remove(&old) {
                out.push((*e, p));
            }
        }
        self.order.push_back(id.to_string());
        self.slots.insert(id.to_string(), slot);
    }

    /// Requests that never got a response, counted as logged.
    pub fn flush(&mut self) -> Vec<(Event, Pos)> {
        let mut out = Vec::new();
        for id in self.order.drain(..) {
            if let Some(Slot::Waiting(e, p)) = self.slots.remove(&id) {
                out.push((*e, p));
            }
        }
        out
    }
}

/// A root token: its policies (`auth.policies`, `auth.token_policies`) hold `root`, or its
/// type or display name is `root` (what `vault operator init` and `generate-root` issue).
fn is_root(v: &Value) -> bool {
    let Some(auth) = v.get("auth").filter(|a| a.is_object()) else {
        return false;
    };
    let has_root = |key: &str| {
        auth.get(key)
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|p| p.as_str() == Some("root")))
    };
    has_root("policies")
        || has_root("token_policies")
        || str_at(auth, &["token_type"]) == Some("root")
        || str_at(auth, &["display_name"]) == Some("root")
}

pub fn event(v: &Value, pairing: &mut Pairing, pos: Pos) -> Result<Vec<(Event, Pos)>, String> {
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
    let root = is_root(v);
    let Some(path) = str_at(req, &["path"]) else {
        pairing.unrelated += 1;
        return Ok(Vec::new());
    };
    let op = str_at(req, &["operation"]).unwrap_or("");
    let mount = str_at(req, &["mount_point"]).map(|m| m.trim_matches('/').to_string());
    let path = path.trim_matches('/');
    // System, auth and identity paths hold no secret: unrelated, unless a root token made
    // the call (every use of one is reported, and most of them are on `sys/`).
    let system = path.starts_with("sys/")
        || path.starts_with("auth/")
        || path.starts_with("identity/")
        || path.starts_with("cubbyhole/");
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
    let secret = (!system && !key.is_empty()).then(|| format!("vault:{mount}/{key}"));
    if secret.is_none() && !root {
        pairing.unrelated += 1;
        return Ok(Vec::new());
    }
    let action = match (sub, op) {
        _ if secret.is_none() => Action::Other,
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
        AccessOutcome::Denied
    } else if !error.is_empty() {
        AccessOutcome::Failed
    } else {
        AccessOutcome::Ok
    };
    let principal = str_at(v, &["auth", "display_name"])
        .or_else(|| str_at(v, &["auth", "entity_id"]))
        .or_else(|| str_at(v, &["auth", "accessor"]))
        .or_else(|| str_at(req, &["remote_address"]))
        .map(str::to_string);
    let ev = Event {
        time: t,
        provider: Provider::Vault,
        secret,
        action,
        outcome,
        principal,
        key_id: None,
        name: format!("{op} {path}"),
        message: (!error.is_empty()).then(|| error.to_string()),
        filters: Vec::new(),
        source: str_at(req, &["remote_address"]).map(str::to_string),
        root,
    };
    let mut out = Vec::new();
    let typ = v.get("type").and_then(Value::as_str).unwrap_or("");
    match (str_at(req, &["id"]), typ) {
        (Some(id), "request") if ev.outcome == AccessOutcome::Ok => {
            pairing.put(id, Slot::Waiting(Box::new(ev), pos), &mut out)
        }
        (Some(id), "request") => {
            out.push((ev, pos));
            pairing.put(id, Slot::Counted, &mut out);
        }
        (Some(id), "response") => match pairing.slots.remove(id) {
            Some(Slot::Counted) => {}
            _ => out.push((ev, pos)),
        },
        _ => out.push((ev, pos)),
    }
    Ok(out)
}
