//! SHR: one value (the same fingerprint) used in two environments.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::json;

use super::{CheckId, Ctx, Input, LIST_CAP};

pub fn run(cx: &mut Ctx, input: &Input) {
    let items = &input.joined.items;
    let policy = cx.policy;
    // Value fingerprint → environment → the items holding it.
    // Fingerprints compared in their canonical spelling (a `kw1:` tag of a stretched value is
    // its `kw2:`).
    let mut fp_envs: HashMap<String, BTreeMap<String, Vec<usize>>> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        if let Some(env) = policy.environment(it) {
            for fp in canonical_fingerprints(it) {
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
        for fp in canonical_fingerprints(it) {
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
}

/// An item's value fingerprints (tags and values seen), each once, in canonical spelling.
fn canonical_fingerprints(it: &crate::audit::model::Item) -> BTreeSet<String> {
    (it.fingerprints.iter())
        .chain(it.values_seen.iter().filter_map(|v| v.fingerprint.as_ref()))
        .map(|fp| crate::pipeline::fingerprint::canonical(fp).into_owned())
        .collect()
}
