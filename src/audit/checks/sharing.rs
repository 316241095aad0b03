//! SHR: one value (the same fingerprint) used in two environments.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::json;

use super::{CheckId, Ctx, Input, LIST_CAP};

pub fn run(cx: &mut Ctx, input: &Input) {
    let items = &input.joined.items;
    let policy = cx.policy;
    // Value fingerprint → environment → the items holding it.
    let mut fp_envs: HashMap<&str, BTreeMap<String, Vec<usize>>> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        if let Some(env) = policy.environment(it) {
            let mut fps: BTreeSet<&str> = it.fingerprints.iter().map(String::as_str).collect();
            fps.extend(
                it.values_seen
                    .iter()
                    .filter_map(|v| v.fingerprint.as_deref()),
            );
            for fp in fps {
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
        let mut fps: BTreeSet<&str> = it.fingerprints.iter().map(String::as_str).collect();
        fps.extend(
            it.values_seen
                .iter()
                .filter_map(|v| v.fingerprint.as_deref()),
        );
        let my_env = policy.environment(it);
        for fp in fps {
            if let (Some(envs), Some(me)) = (fp_envs.get(fp), &my_env)
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
