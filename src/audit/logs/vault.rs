//! Vault audit device: one JSON object per line, `type` request or response. A request and
//! its response are one event (the response carries the outcome); pairs match by `request.id`.
//! A request whose response never comes (filtered logs) still counts, when the file ends.
//! Every entry also says which token made the request (`auth`), and a login's response
//! which token it issued (`response.auth`), with its TTL: tokens that never expire, or live
//! longer than the policy allows, are kept per display name for MCH-002 and MCH-003.

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

use super::{MAX_SIGNS, MAX_TRACKED, Pos, State, TokenStats, str_at};
use crate::audit::model::{AccessOutcome, Action, Event, Provider};
use crate::audit::time::{self, Secs};

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

/// A token's lifetime as an audit entry states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ttl {
    /// Never expires (a root token, or one created without a TTL).
    None,
    Secs(i64),
}

/// The token an `auth` block describes: (display name, TTL). None when the block names no
/// token (an unauthenticated login request) or cannot tell its TTL: Vault leaves a zero
/// `token_ttl` out, so a missing one means "none" only where the entry is recent enough to
/// carry `token_issue_time`, or the token holds the `root` policy.
fn token(auth: &Value) -> Option<(&str, Ttl)> {
    let name = str_at(auth, &["display_name"]).or_else(|| str_at(auth, &["accessor"]))?;
    // Seconds; log shippers may have turned the number into a float or a string.
    let seconds = |v: &Value| match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f as i64),
        _ => None,
    };
    let ttl = match auth.get("token_ttl").filter(|v| !v.is_null()) {
        Some(v) => match seconds(v)? {
            t if t > 0 => Ttl::Secs(t),
            _ => Ttl::None,
        },
        None => {
            let root = auth
                .get("policies")
                .and_then(Value::as_array)
                .is_some_and(|p| p.iter().any(|x| x.as_str() == Some("root")));
            if root || str_at(auth, &["token_issue_time"]).is_some() {
                Ttl::None
            } else {
                return None;
            }
        }
    };
    Some((name, ttl))
}

/// Keeps the token of `auth` when it has no TTL or one above the policy's maximum.
fn judge_token(auth: &Value, st: &mut State, t: Secs, pos: Pos) {
    let Some((name, ttl)) = token(auth) else {
        return;
    };
    let max = st.machine.max_token_ttl_hours.map(|h| h as i64 * 3600);
    let too_long = match ttl {
        Ttl::None => false,
        Ttl::Secs(s) => max.is_some_and(|m| s > m),
    };
    if ttl != Ttl::None && !too_long {
        return;
    }
    if st.tokens.len() >= MAX_TRACKED && !st.tokens.contains_key(name) {
        return;
    }
    let e: &mut TokenStats = st.tokens.entry(name.to_string()).or_default();
    e.events += 1;
    e.last = e.last.max(t);
    match ttl {
        Ttl::None => {
            e.no_ttl += 1;
            if e.first_no_ttl.is_none_or(|f| t < f.0) {
                e.first_no_ttl = Some((t, pos));
            }
        }
        Ttl::Secs(s) => {
            e.longest = e.longest.max(Some(s));
            if e.first_long.is_none_or(|f| t < f.0) {
                e.first_long = Some((t, pos));
            }
        }
    }
    if let Some(a) = str_at(auth, &["accessor"])
        && e.accessors.len() < MAX_SIGNS
        && !e.accessors.iter().any(|x| x == a)
    {
        e.accessors.push(a.to_string());
    }
    if e.token_type.is_none() {
        e.token_type = str_at(auth, &["token_type"]).map(str::to_string);
    }
    if e.policies.is_empty()
        && let Some(p) = auth.get("policies").and_then(Value::as_array)
    {
        e.policies = p
            .iter()
            .filter_map(Value::as_str)
            .take(10)
            .map(str::to_string)
            .collect();
    }
}

/// The events of one audit entry at `pos`. An allowed request waits in `st.vault` for its
/// response, which carries the outcome (or for [`State::finish`]); an entry about no secret
/// counts in `st.vault.unrelated`; tokens with no TTL or a long one go to `st.tokens`.
pub fn event(v: &Value, st: &mut State, pos: Pos) -> Result<Vec<(Event, Pos)>, String> {
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
    // The caller's token is in both halves of a pair: judged once, on the request (or on
    // an entry of neither type); a response adds the token it issued.
    match v.get("type").and_then(Value::as_str) {
        Some("response") => {
            if let Some(issued) = v.pointer("/response/auth").filter(|a| a.is_object()) {
                judge_token(issued, st, t, pos);
            }
        }
        _ => {
            if let Some(caller) = v.get("auth").filter(|a| a.is_object()) {
                judge_token(caller, st, t, pos);
            }
        }
    }
    let pairing = &mut st.vault;
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
        workload: None,
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
