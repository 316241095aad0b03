//! MCH: machine credentials that should be short-lived. Long-term IAM user keys that
//! workloads use where a role would do (CloudTrail), and Vault tokens that never expire or
//! outlive `[machine] max_token_ttl_hours` (the Vault audit log). GCP service-account keys
//! and Entra client secrets are inventory items: their age and validity are judged by
//! ROT and EXP under their classes.

use std::collections::HashMap;

use serde_json::json;

use super::{CheckId, Ctx, Input, Secret, Subject};
use crate::audit::model::{Kind, Loc};
use crate::audit::time::fmt;

/// The MCH checks: user keys that sign calls from workloads (MCH-001), then Vault tokens
/// without a TTL or with one too long (MCH-002, MCH-003).
pub fn run(cx: &mut Ctx, input: &Input) {
    workload_keys(cx, input);
    vault_tokens(cx);
}

/// MCH-001: one result per key, on the inventory entry when there is one.
fn workload_keys(cx: &mut Ctx, input: &Input) {
    let activity = cx.activity;
    let inventory: HashMap<&str, &Secret> = input
        .secrets
        .iter()
        .filter(|v| v.item.kind == Kind::IamAccessKey)
        .filter_map(|v| v.item.key_id.as_deref().map(|k| (k, v)))
        .collect();
    let mut keys: Vec<_> = activity
        .keys
        .iter()
        .filter_map(|(k, a)| a.workload.as_deref().map(|w| (k, w)))
        .collect();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    for (key, w) in keys {
        let inv = inventory.get(key.as_str());
        // A key the inventory shows deactivated or deleted no longer serves the workload.
        if inv.is_some_and(|v| !v.live) {
            continue;
        }
        let id = format!("aws-iam-key:{key}");
        let loc = activity.loc(w.first.1);
        let user = w
            .principal
            .clone()
            .or_else(|| inv.and_then(|v| v.item.principal.clone()))
            .unwrap_or_else(|| "an IAM user".into());
        let message = format!(
            "long-term access key of {user} signed {} call(s) from a workload ({}), first {}, last {}; a role would give it short-lived credentials",
            w.events,
            w.signs.join("; "),
            fmt(w.first.0),
            fmt(w.last)
        );
        let evidence = vec![
            ("key_id", json!(key)),
            ("user", json!(user)),
            ("workload_calls", json!(w.events)),
            ("signs", json!(w.signs)),
            ("first", json!(fmt(w.first.0))),
            ("last", json!(fmt(w.last))),
        ];
        match inv {
            Some(v) => cx.push(
                &v.subject,
                CheckId::Mch001,
                message,
                evidence,
                Some(loc),
                None,
            ),
            None => {
                let subj = Subject {
                    id: &id,
                    name: &user,
                    kind: Kind::IamAccessKey,
                    class: None,
                    class_source: "not in inventory",
                    loc: &loc,
                };
                cx.push(&subj, CheckId::Mch001, message, evidence, None, None);
            }
        }
    }
}

/// MCH-002 and MCH-003: per display name, tokens that never expire and tokens that live
/// longer than the policy allows.
fn vault_tokens(cx: &mut Ctx) {
    let activity = cx.activity;
    let max = cx.policy.machine.max_token_ttl_hours;
    let mut names: Vec<_> = activity.tokens.iter().collect();
    names.sort_by(|a, b| a.0.cmp(b.0));
    for (name, t) in names {
        let id = format!("vault-token:{name}");
        let common = |extra: Vec<(&'static str, serde_json::Value)>| {
            let mut e = vec![
                ("display_name", json!(name)),
                // How many tokens, not their accessors: a raw accessor can look up, renew
                // and revoke its token, and reports travel further than audit logs.
                ("tokens", json!(t.accessors.len())),
                ("token_type", json!(t.token_type)),
                ("policies", json!(t.policies)),
                ("last_seen", json!(fmt(t.last))),
            ];
            e.extend(extra);
            e
        };
        let policies = if t.policies.is_empty() {
            String::new()
        } else {
            format!(" (policies {})", t.policies.join(", "))
        };
        if let Some((first, pos)) = t.first_no_ttl {
            let loc = activity.loc(pos);
            let subj = token_subject(&id, name, &loc);
            cx.push(
                &subj,
                CheckId::Mch002,
                format!(
                    "token(s) of {name}{policies} never expire: no TTL in {} audit entr{}, first {}, last {}",
                    t.no_ttl,
                    if t.no_ttl == 1 { "y" } else { "ies" },
                    fmt(first),
                    fmt(t.last)
                ),
                common(vec![
                    ("entries_without_ttl", json!(t.no_ttl)),
                    ("first_seen", json!(fmt(first))),
                ]),
                None,
                None,
            );
        }
        if let (Some((first, pos)), Some(longest), Some(max)) = (t.first_long, t.longest, max) {
            let loc = activity.loc(pos);
            let subj = token_subject(&id, name, &loc);
            cx.push(
                &subj,
                CheckId::Mch003,
                format!(
                    "token(s) of {name}{policies} have a TTL of {}; the policy allows {max} hours (first {}, last {})",
                    hours(longest),
                    fmt(first),
                    fmt(t.last)
                ),
                common(vec![
                    ("ttl_seconds", json!(longest)),
                    ("ttl_hours", json!(longest / 3600)),
                    ("max_token_ttl_hours", json!(max)),
                    ("first_seen", json!(fmt(first))),
                ]),
                None,
                None,
            );
        }
    }
}

/// `2764800` → `768 hours (32 days)`.
fn hours(secs: i64) -> String {
    let h = secs / 3600;
    if h >= 48 {
        format!("{h} hours ({} days)", h / 24)
    } else {
        format!("{h} hours")
    }
}

/// The subject of a Vault token's results: the tokens of one display name, placed at `loc`.
fn token_subject<'a>(id: &'a str, name: &'a str, loc: &'a Loc) -> Subject<'a> {
    Subject {
        id,
        name,
        kind: Kind::VaultToken,
        class: None,
        class_source: "audit log",
        loc,
    }
}
