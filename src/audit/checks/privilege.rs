//! PRV: least privilege from access-policy exports: the issues the policy parsers found,
//! the effective-access table, and grants wider than the logs show in use (PRV-008).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::{AccessReader, AccessRow, AccessTable, CheckId, Ctx, Input, LIST_CAP, Subject};
use crate::audit::access;
use crate::audit::model::{Kind, Loc, Provider};
use crate::audit::time::fmt_date;

fn log_provider(p: &str) -> Option<Provider> {
    match p {
        "aws" => Some(Provider::Aws),
        "gcp" => Some(Provider::Gcp),
        "azure" => Some(Provider::Azure),
        _ => None,
    }
}

/// Least privilege: the PRV results from the policy exports, the effective-access table,
/// and (PRV-008) grants beyond what the audit logs show each principal using.
pub fn run(cx: &mut Ctx, input: &Input) {
    let Some(data) = input.access else { return };
    let items = &input.joined.items;
    let activity = cx.activity;
    for is in &data.issues {
        let subj = Subject {
            id: &is.subject,
            name: &is.name,
            kind: Kind::AccessGrant,
            class: None,
            class_source: "access policy",
            loc: &is.loc,
        };
        let mut evidence = is.evidence.clone();
        evidence.push(("pointer", json!(is.pointer)));
        cx.push(&subj, is.check, is.message.clone(), evidence, None, None);
    }
    let reach = access::readers(items, &data.grants);
    // Log readers of each item, keyed the way grants are compared with them.
    let log_keys: Vec<BTreeSet<(String, String)>> = input
        .joined
        .activity
        .iter()
        .map(|a| &a.readers)
        .enumerate()
        .map(|(i, rs)| {
            let prov = items[i].kind.provider().map(|p| p.name()).unwrap_or("");
            rs.iter()
                .filter_map(|r| access::log_key(prov, r).map(|k| (prov.to_string(), k)))
                .collect()
        })
        .collect();
    let reads_logged = |prov: &str| {
        log_provider(prov)
            .and_then(|p| activity.coverage.get(&p))
            .is_some_and(|c| c.reads > 0)
    };
    let mut table = AccessTable {
        grants: data.grants.len(),
        principals: data
            .grants
            .iter()
            .map(|g| g.principal.as_str())
            .collect::<BTreeSet<_>>()
            .len(),
        ..AccessTable::default()
    };
    /// Per principal: the secrets it can read, those the logs show it reading, its grant.
    struct Use {
        can: Vec<usize>,
        did: Vec<usize>,
        loc: Loc,
    }
    let mut per: BTreeMap<(String, &'static str), Use> = BTreeMap::new();
    for (i, gs) in reach.iter().enumerate() {
        if gs.is_empty() {
            table.unreached += 1;
            continue;
        }
        let it = &items[i];
        let mut readers: Vec<AccessReader> = Vec::new();
        for gi in gs {
            let g = &data.grants[*gi];
            if readers.iter().any(|r| r.principal == g.principal) {
                continue;
            }
            let key = access::log_key(g.provider, &g.principal);
            let used = match (&key, reads_logged(g.provider)) {
                (Some(k), true) => Some(log_keys[i].contains(&(g.provider.to_string(), k.clone()))),
                _ => None,
            };
            if let Some(u) = used
                && g.principal != "*"
            {
                let e = per
                    .entry((g.principal.clone(), g.provider))
                    .or_insert_with(|| Use {
                        can: Vec::new(),
                        did: Vec::new(),
                        loc: g.loc.clone(),
                    });
                e.can.push(i);
                if u {
                    e.did.push(i);
                }
            }
            readers.push(AccessReader {
                principal: g.principal.clone(),
                via: g.via.clone(),
                loc: g.loc.clone(),
                used,
            });
        }
        table.rows.push(AccessRow {
            secret_id: it.id.clone(),
            name: it.name.clone(),
            readers,
        });
    }
    for ((principal, prov), Use { can, did, loc }) in &per {
        if did.len() >= can.len() {
            continue;
        }
        let unused: Vec<&str> = can
            .iter()
            .filter(|i| !did.contains(i))
            .take(LIST_CAP)
            .map(|i| items[*i].id.as_str())
            .collect();
        let window = log_provider(prov)
            .and_then(|p| activity.coverage.get(&p))
            .map(|c| format!("{} .. {}", fmt_date(c.from), fmt_date(c.to)))
            .unwrap_or_default();
        let subj = Subject {
            id: principal,
            name: principal,
            kind: Kind::AccessGrant,
            class: None,
            class_source: "access policy",
            loc,
        };
        cx.push(
            &subj,
            CheckId::Prv008,
            format!(
                "can read {} inventory secret(s) but the {prov} audit logs ({window}) show it reading {}; not read: {}{}",
                can.len(),
                did.len(),
                unused.join(", "),
                if can.len() - did.len() > unused.len() { ", …" } else { "" }
            ),
            vec![
                ("can_read", json!(can.len())),
                ("read_in_logs", json!(did.len())),
                ("not_read", json!(unused)),
                ("log_window", json!(window)),
            ],
            None,
            None,
        );
    }
    cx.access_table = Some(table);
}
