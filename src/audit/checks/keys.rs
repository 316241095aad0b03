//! KEY: more active access keys per user than the class allows.

use std::collections::BTreeMap;

use serde_json::json;

use super::{CheckId, Ctx, Input, LIST_CAP};
use crate::audit::model::Kind;

/// KEY-001: each IAM user's active access keys against the limit of their class.
pub fn run(cx: &mut Ctx, input: &Input) {
    let items = &input.joined.items;
    let now = cx.now;
    // KEY-001 needs all keys of a user at once.
    let mut per_user: BTreeMap<String, (Vec<usize>, usize, usize)> = BTreeMap::new();
    for (i, it) in items.iter().enumerate() {
        let live = it.enabled && it.deleted.is_none_or(|d| d > now);
        if it.kind == Kind::IamAccessKey
            && live
            && let Some(u) = &it.principal
        {
            let e = per_user.entry(u.clone()).or_default();
            e.0.push(i);
            if it.cred_slot.is_some() {
                e.2 += 1
            } else {
                e.1 += 1
            }
        }
    }
    for (i, v) in input.secrets.iter().enumerate() {
        let (it, class, subj) = (v.item, v.subject.class, &v.subject);
        if it.kind == Kind::IamAccessKey
            && it.enabled
            && it.deleted.is_none_or(|d| d > now)
            && let (Some(u), Some(c)) = (&it.principal, class)
            && let Some((keys, listed, slots)) = per_user.get(u)
        {
            let active = (*listed).max(*slots);
            if active > c.max_active_keys as usize {
                let others: Vec<&str> = keys
                    .iter()
                    .filter(|k| **k != i)
                    .take(LIST_CAP)
                    .map(|k| items[*k].id.as_str())
                    .collect();
                cx.push(
                    subj,
                    CheckId::Key001,
                    format!(
                        "user {u} has {active} active access keys (class {} allows {}); others: {}",
                        c.name,
                        c.max_active_keys,
                        others.join(", ")
                    ),
                    vec![
                        ("user", json!(u)),
                        ("active_keys", json!(active)),
                        ("max_active_keys", json!(c.max_active_keys)),
                        ("other_keys", json!(others)),
                    ],
                    None,
                    None,
                );
            }
        }
    }
}
