//! SHR: one value (the same fingerprint) used in two environments (SHR-001), or by two
//! services within one environment (SHR-002).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::json;

use super::{CheckId, Ctx, Input, LIST_CAP};
use crate::audit::model::Item;

/// The SHR checks: inventory secrets whose value fingerprint another secret shares.
pub fn run(cx: &mut Ctx, input: &Input) {
    let items = &input.joined.items;
    let policy = cx.policy;
    // Value fingerprint → environment → the items holding it.
    // Fingerprints compared in their canonical spelling (a `kw1:` tag of a stretched value is
    // its `kw2:`).
    let mut fp_envs: HashMap<String, BTreeMap<String, Vec<usize>>> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        if let Some(env) = policy.environment(it) {
            for fp in fingerprints(it) {
                fp_envs
                    .entry(fp)
                    .or_default()
                    .entry(env.clone())
                    .or_default()
                    .push(i);
            }
        }
    }
    for v in &input.secrets {
        let (it, subj) = (v.item, &v.subject);
        let my_env = policy.environment(it);
        for fp in fingerprints(it) {
            if let (Some(envs), Some(me)) = (fp_envs.get(&fp), &my_env)
                && envs.len() >= 2
            {
                let others: Vec<String> = envs
                    .iter()
                    .filter(|(e, _)| *e != me)
                    .flat_map(|(e, ids)| {
                        let items = &items;
                        ids.iter().map(move |x| format!("{} ({e})", items[*x].id))
                    })
                    .take(LIST_CAP)
                    .collect();
                let env_names: Vec<&String> = envs.keys().collect();
                cx.push(subj, CheckId::Shr001, format!("the value with fingerprint {fp} is used in {} environments ({}); also in {}", envs.len(), env_names.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "), others.join(", ")),
                        vec![("fingerprint", json!(fp)), ("environment", json!(me)), ("environments", json!(env_names)), ("shared_with", json!(others))], None, None);
                break;
            }
        }
    }
    services(cx, input);
}

/// SHR-002: one value held by secrets of two services. Secrets in two different known
/// environments are SHR-001's; an unknown environment is taken as the same one.
fn services(cx: &mut Ctx, input: &Input) {
    let items = &input.joined.items;
    let policy = cx.policy;
    let envs: Vec<Option<String>> = items.iter().map(|it| policy.environment(it)).collect();
    let svcs: Vec<Option<String>> = items.iter().map(|it| policy.service(it)).collect();
    // Value fingerprint → the items with a known service holding it.
    let mut by_fp: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        if svcs[i].is_none() {
            continue;
        }
        for fp in fingerprints(it) {
            by_fp.entry(fp).or_default().push(i);
        }
    }
    for (i, v) in input.secrets.iter().enumerate() {
        let Some(me) = &svcs[i] else { continue };
        for fp in fingerprints(v.item) {
            let Some(holders) = by_fp.get(&fp) else {
                continue;
            };
            let others: Vec<usize> = holders
                .iter()
                .copied()
                .filter(|j| {
                    *j != i
                        && svcs[*j].as_ref() != Some(me)
                        && match (&envs[i], &envs[*j]) {
                            (Some(a), Some(b)) => a == b,
                            _ => true,
                        }
                })
                .collect();
            if others.is_empty() {
                continue;
            }
            let mut services: BTreeSet<&str> =
                others.iter().filter_map(|j| svcs[*j].as_deref()).collect();
            services.insert(me.as_str());
            let shared: Vec<String> = others
                .iter()
                .take(LIST_CAP)
                .map(|j| {
                    format!(
                        "{} (service {})",
                        items[*j].id,
                        svcs[*j].as_deref().unwrap_or("")
                    )
                })
                .collect();
            let env = envs[i]
                .as_deref()
                .or_else(|| others.iter().find_map(|j| envs[*j].as_deref()));
            cx.push(
                &v.subject,
                CheckId::Shr002,
                format!(
                    "the value with fingerprint {fp} is used by {} services ({}){}; also in {}",
                    services.len(),
                    services.iter().copied().collect::<Vec<_>>().join(", "),
                    env.map(|e| format!(" in {e}")).unwrap_or_default(),
                    shared.join(", ")
                ),
                vec![
                    ("fingerprint", json!(fp)),
                    ("service", json!(me)),
                    ("services", json!(services)),
                    ("environment", json!(env)),
                    ("shared_with", json!(shared)),
                ],
                None,
                None,
            );
            break;
        }
    }
}

/// The value fingerprints an item holds, exported ones and those of values seen in inputs,
/// each once, in canonical spelling (a `kw1:` tag of a stretched value is its `kw2:`).
fn fingerprints(it: &Item) -> BTreeSet<String> {
    (it.fingerprints.iter())
        .chain(it.values_seen.iter().filter_map(|v| v.fingerprint.as_ref()))
        .map(|fp| crate::pipeline::fingerprint::canonical(fp).into_owned())
        .collect()
}
