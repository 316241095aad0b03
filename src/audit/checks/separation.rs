//! SEP: production kept apart from the other environments. A principal's environment is
//! told from its name the way a secret's is (see `Policy::principal_environment`); a
//! principal of another known environment that read a production secret (SEP-001, from the
//! audit logs, one result per secret) or can read one (SEP-002, from the access-policy
//! exports, one result per principal, like the PRV checks) is reported.

use std::collections::BTreeMap;

use serde_json::json;

use super::{CheckId, Ctx, Input, LIST_CAP, Subject, and_more};
use crate::audit::access;
use crate::audit::logs::SecretActivity;
use crate::audit::model::{Kind, Loc};
use crate::audit::policy::environment_in;
use crate::audit::time::fmt;

const PROD: &str = "prod";

/// The SEP checks: production secrets read by principals of other environments (SEP-001),
/// then grants that let them read one (SEP-002).
pub fn run(cx: &mut Ctx, input: &Input) {
    for v in &input.secrets {
        if cx.policy.environment(v.item).as_deref() == Some(PROD) {
            reads(cx, &v.subject, v.act);
        }
    }
    for (s, act) in &input.log_only {
        if environment_in(s.id).as_deref() == Some(PROD) {
            reads(cx, s, act);
        }
    }
    grants(cx, input);
}

/// SEP-001: successful reads of a production secret by non-production principals.
fn reads(cx: &mut Ctx, s: &Subject, act: &SecretActivity) {
    let activity = cx.activity;
    let mut hits: Vec<(String, String, &crate::audit::logs::PairStats)> = act
        .pairs
        .iter()
        .filter_map(|(pid, ps)| {
            let name = activity.principals.get(*pid as usize)?;
            let env = cx.policy.principal_environment(name)?;
            (env != PROD).then(|| (name.clone(), env, ps))
        })
        .collect();
    if hits.is_empty() {
        return;
    }
    hits.sort_by(|a, b| a.2.first.0.cmp(&b.2.first.0).then_with(|| a.0.cmp(&b.0)));
    let loc = activity.loc(hits[0].2.first.1);
    let listed: Vec<String> = hits
        .iter()
        .take(LIST_CAP)
        .map(|(name, env, ps)| {
            format!(
                "{name} ({env}) read it {} time(s), {} .. {}",
                ps.reads,
                fmt(ps.first.0),
                fmt(ps.last)
            )
        })
        .collect();
    let more = hits.len() - listed.len();
    cx.push(
        s,
        CheckId::Sep001,
        format!(
            "production secret read by non-production principal(s): {}{}",
            listed.join("; "),
            and_more(more as u64)
        ),
        vec![
            ("environment", json!(PROD)),
            (
                "principals",
                json!(
                    hits.iter()
                        .take(LIST_CAP)
                        .map(
                            |(name, env, ps)| json!({"principal": name, "environment": env,
                            "reads": ps.reads, "first": fmt(ps.first.0), "last": fmt(ps.last)})
                        )
                        .collect::<Vec<_>>()
                ),
            ),
        ],
        Some(loc),
        None,
    );
}

/// SEP-002: grants that let a non-production principal read production secrets.
fn grants(cx: &mut Ctx, input: &Input) {
    let Some(data) = input.access else { return };
    let items = &input.joined.items;
    let prod: Vec<bool> = items
        .iter()
        .map(|it| cx.policy.environment(it).as_deref() == Some(PROD))
        .collect();
    if !prod.contains(&true) {
        return;
    }
    let reach = access::readers(items, &data.grants);
    struct Hit {
        env: String,
        secrets: Vec<usize>,
        via: Vec<String>,
        loc: Loc,
        pointer: String,
    }
    let mut per: BTreeMap<&str, Hit> = BTreeMap::new();
    let mut env_of: BTreeMap<&str, Option<String>> = BTreeMap::new();
    for (i, gs) in reach.iter().enumerate() {
        if !prod[i] {
            continue;
        }
        for gi in gs {
            let g = &data.grants[*gi];
            let env = env_of
                .entry(g.principal.as_str())
                .or_insert_with(|| cx.policy.principal_environment(&g.principal));
            let Some(env) = env.as_ref().filter(|e| *e != PROD) else {
                continue;
            };
            let h = per.entry(g.principal.as_str()).or_insert_with(|| Hit {
                env: env.clone(),
                secrets: Vec::new(),
                via: Vec::new(),
                loc: g.loc.clone(),
                pointer: g.pointer.clone(),
            });
            if h.secrets.last() != Some(&i) {
                h.secrets.push(i);
            }
            let via = format!("{} ({}:{})", g.via, g.loc.file, g.loc.line);
            if !h.via.contains(&via) && h.via.len() < LIST_CAP {
                h.via.push(via);
            }
        }
    }
    for (principal, h) in per {
        let mut names: Vec<&str> = h.secrets.iter().map(|i| items[*i].id.as_str()).collect();
        names.sort_unstable();
        names.truncate(LIST_CAP);
        let subj = Subject {
            id: principal,
            name: principal,
            kind: Kind::AccessGrant,
            class: None,
            class_source: "access policy",
            loc: &h.loc,
        };
        cx.push(
            &subj,
            CheckId::Sep002,
            format!(
                "{} principal can read {} production secret(s) through {}: {}{}",
                h.env,
                h.secrets.len(),
                h.via.join(", "),
                names.join(", "),
                if h.secrets.len() > names.len() {
                    ", …"
                } else {
                    ""
                }
            ),
            vec![
                ("environment", json!(h.env)),
                ("secrets", json!(names)),
                ("secret_count", json!(h.secrets.len())),
                ("via", json!(h.via)),
                ("pointer", json!(h.pointer)),
            ],
            None,
            None,
        );
    }
}
