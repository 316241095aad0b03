//! LEAK: leaked secrets not rotated since, leaked keys used after the leak, and leaks that
//! match no inventory entry.

use serde_json::json;

use super::{CheckId, Ctx, Input, Secret, Subject};
use crate::audit::join::{LeakInfo, is_aws_key};
use crate::audit::logs::KeyActivity;
use crate::audit::model::Kind;
use crate::audit::time::fmt;

/// The LEAK checks: per inventory secret, then the leaks that match no inventory entry.
pub fn run(cx: &mut Ctx, input: &Input) {
    for v in &input.secrets {
        secret(cx, v);
    }
    // Leaks that match nothing in the inventory.
    for (id, info) in &input.joined.unmatched {
        let loc = info.loc.clone().unwrap_or_default();
        let what = leak_description(info);
        // The name is what people see next to the id (Rotate first): what it is and where.
        let label = match info.where_.first() {
            Some(w) if info.where_.len() > 1 => format!("{what}, at {w} and elsewhere"),
            Some(w) => format!("{what}, at {w}"),
            None => what.clone(),
        };
        let subj = Subject {
            id,
            name: &label,
            kind: Kind::Leak,
            class: None,
            class_source: "not in inventory",
            loc: &loc,
        };
        let when = info.time.map(fmt).unwrap_or_else(|| "unknown".into());
        cx.push(
            &subj,
            CheckId::Leak003,
            format!(
                "leaked {what} ({} finding(s), first {when}, at {}) matches no inventory entry",
                info.count,
                info.where_.join(", ")
            ),
            vec![
                ("leaked", json!(what)),
                ("rules", json!(info.kinds)),
                ("leak_time", json!(info.time.map(fmt))),
                ("findings", json!(info.count)),
                ("locations", json!(info.where_)),
                ("key_id", json!(info.key_id)),
                ("fingerprint", json!(info.fingerprint)),
            ],
            None,
            None,
        );
        if let Some(k) = &info.key_id
            && let Some(ka) = cx.activity.keys.get(k)
        {
            leak_used(cx, &subj, ka, info);
        }
    }
}

fn secret(cx: &mut Ctx, v: &Secret) {
    let (s, it, live, rotated, key_act) = (&v.subject, v.item, v.live, &v.rotated, v.key_act);
    let now = cx.now;
    // LEAK-001 / LEAK-002
    if let Some(info) = v.leak {
        let lt = info.time.unwrap_or(now);
        let by_key = info.key_id.is_some() && info.key_id == it.key_id;
        let rotated_after = rotated.as_ref().filter(|r| r.0 > lt && !by_key);
        if live && rotated_after.is_none() {
            let what = if by_key {
                "the leaked key is still active".to_string()
            } else {
                match &rotated {
                    Some(r) => format!("last rotated {} (before the leak)", fmt(r.0)),
                    None => "never rotated".to_string(),
                }
            };
            cx.push(
                s,
                CheckId::Leak001,
                format!("leaked at {} ({}); {what}", fmt(lt), info.where_.join(", ")),
                vec![
                    ("leak_time", json!(fmt(lt))),
                    ("last_rotated", json!(rotated.as_ref().map(|r| fmt(r.0)))),
                    ("locations", json!(info.where_)),
                    (
                        "joined_by",
                        json!(if by_key { "key_id" } else { "fingerprint" }),
                    ),
                ],
                None,
                None,
            );
        }
        if let Some(ka) = key_act {
            leak_used(cx, s, ka, info);
        }
    }
}

/// What a leaked credential is, for people: the rules that found it and, for an AWS key,
/// whether both halves of the key pair were found.
fn leak_description(info: &LeakInfo) -> String {
    let kinds = if info.kinds.is_empty() {
        "credential".to_string()
    } else {
        info.kinds.join(" + ")
    };
    match &info.key_id {
        Some(k) if info.kinds.len() > 1 && is_aws_key(k) => format!("{kinds}: key pair {k}"),
        Some(k) => format!("{kinds}: {k}"),
        None => kinds,
    }
}

fn leak_used(cx: &mut Ctx, s: &Subject, ka: &KeyActivity, info: &LeakInfo) {
    let Some((t, pos, name)) = &ka.first_after_leak else {
        return;
    };
    let loc = cx.activity.loc(*pos);
    let last = ka.last.0;
    cx.push(
        s,
        CheckId::Leak002,
        format!(
            "leaked at {} and used {} time(s) after: first {} ({name}), last {}",
            info.time.map(fmt).unwrap_or_else(|| "unknown".into()),
            ka.after_leak,
            fmt(*t),
            fmt(last)
        ),
        vec![
            ("leak_time", json!(info.time.map(fmt))),
            ("uses_after_leak", json!(ka.after_leak)),
            ("first_use_after_leak", json!(fmt(*t))),
            ("last_use", json!(fmt(last))),
            ("event", json!(name)),
        ],
        Some(loc),
        None,
    );
}
