//! The join: inventory records merged into one item per secret, and the audit logs, scan
//! findings and reads by filter tied to those items. Every check family works on its result.

use crate::pipeline::fingerprint::canonical;
use std::collections::{BTreeMap, HashMap};

use super::checks::{FilterSummary, LIST_CAP};
use super::inventory::aws::{arn_name, join_credential_slots, partial_arn};
use super::inventory::gcp;
use super::logs::{Activity, SecretActivity, cloudtrail};
use super::model::{Item, Leak, Loc};
use super::time::Secs;

/// The inventory with everything tied to it; the per-item vectors are in `items` order.
pub struct Joined {
    /// One item per canonical id.
    pub items: Vec<Item>,
    /// The audit-log activity of each item (empty when the logs never name it).
    pub activity: Vec<SecretActivity>,
    /// The scan findings joined to each item (by key id, then by fingerprint).
    pub leaks: Vec<Option<LeakInfo>>,
    /// Per item, the latest successful read by filter that may have returned it: its
    /// usage cannot be told from the logs after that.
    pub filter_cover: Vec<Option<Secs>>,
    /// Secrets only the logs know, by a form of their name that survives name/ARN
    /// differences: (the id to report, their activity).
    pub orphans: BTreeMap<String, (String, SecretActivity)>,
    /// Leaks that match no inventory entry, by the id they are reported under.
    pub unmatched: BTreeMap<String, LeakInfo>,
    /// Reads that selected secrets by filter, with the secrets they may have read.
    pub filter_reads: Vec<FilterSummary>,
}

/// Merges records of the same secret, then ties log activity, leaks and reads by filter to
/// the merged items.
pub fn join(mut raw_items: Vec<Item>, activity: &Activity, leaks: &[Leak]) -> Joined {
    // 1. One item per canonical id.
    join_credential_slots(&mut raw_items);
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut items: Vec<Item> = Vec::new();
    for it in raw_items {
        match by_id.get(&it.id) {
            Some(&i) => items[i].merge(it),
            None => {
                by_id.insert(it.id.clone(), items.len());
                items.push(it);
            }
        }
    }
    for it in &mut items {
        it.apply_versions();
        it.apply_version_created();
        if !it.versions.is_empty() && it.versions.iter().all(|v| !v.1) {
            it.enabled = false;
        }
    }
    join_credential_slots(&mut items);

    // 2. Aliases that logs use.
    let mut alias: HashMap<String, Option<usize>> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        for a in it.aliases.iter().chain(std::iter::once(&it.id)) {
            alias
                .entry(a.clone())
                .and_modify(|e| {
                    if *e != Some(i) {
                        *e = None
                    }
                })
                .or_insert(Some(i));
        }
    }
    let resolve = |raw: &str| -> Option<usize> {
        let try_key = |k: &str| alias.get(k).copied().flatten();
        try_key(raw)
            .or_else(|| partial_arn(raw).and_then(try_key))
            .or_else(|| arn_name(raw).and_then(try_key))
            .or_else(|| {
                gcp::split_name(raw).and_then(|(_, short, _)| try_key(&gcp::short_alias(&short)))
            })
    };
    let mut item_act: Vec<SecretActivity> = vec![SecretActivity::default(); items.len()];
    // Secrets seen only in logs, grouped by a form that survives name/ARN differences.
    let mut orphan: BTreeMap<String, (String, SecretActivity)> = BTreeMap::new();
    let mut refs: Vec<(&String, &SecretActivity)> = activity.secrets.iter().collect();
    refs.sort_by(|a, b| a.0.cmp(b.0));
    for (raw, act) in refs {
        match resolve(raw) {
            Some(i) => merge_activity(&mut item_act[i], act),
            None => {
                let key = if raw.starts_with("arn:") {
                    arn_name(raw).unwrap_or(raw).to_string()
                } else {
                    raw.clone()
                };
                let e = orphan
                    .entry(key)
                    .or_insert_with(|| (raw.clone(), SecretActivity::default()));
                if raw.starts_with("arn:") && !e.0.starts_with("arn:") {
                    e.0 = raw.clone();
                }
                merge_activity(&mut e.1, act);
            }
        }
    }

    // 3. Leaks to items: provider key id first, then value fingerprint.
    let mut item_leak: Vec<Option<LeakInfo>> = vec![None; items.len()];
    let mut unmatched: BTreeMap<String, LeakInfo> = BTreeMap::new();
    let mut by_key: HashMap<&str, Vec<usize>> = HashMap::new();
    // Fingerprints compared in their canonical spelling: a `kw1:` tag or finding of a stretched
    // value is the same value's `kw2:`.
    let mut by_fp: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        if let Some(k) = &it.key_id {
            by_key.entry(k.as_str()).or_default().push(i);
        }
        for fp in it
            .fingerprints
            .iter()
            .chain(it.values_seen.iter().filter_map(|v| v.fingerprint.as_ref()))
        {
            let e = by_fp.entry(canonical(fp).into_owned()).or_default();
            // Items are visited in order: a repeat can only be the last entry.
            if e.last() != Some(&i) {
                e.push(i);
            }
        }
    }
    for l in leaks {
        let mut hit: Vec<usize> = Vec::new();
        if let Some(k) = &l.key_id {
            hit.extend(by_key.get(k.as_str()).into_iter().flatten());
        }
        if let Some(fp) = &l.fingerprint {
            hit.extend(by_fp.get(canonical(fp).as_ref()).into_iter().flatten());
            // A findings file written before `kw2:` names a keyed value by its `kw1:`.
            if let Some(now) = crate::audit::inventory::legacy_alias(fp) {
                hit.extend(by_fp.get(now.as_str()).into_iter().flatten());
            }
            hit.sort_unstable();
            hit.dedup();
        }
        if hit.is_empty() {
            let key = match (&l.key_id, &l.fingerprint) {
                (Some(k), _) if is_aws_key(k) => format!("aws-iam-key:{k}"),
                (_, Some(fp)) => fp.clone(),
                (Some(k), None) => format!("key:{k}"),
                (None, None) => continue,
            };
            unmatched.entry(key).or_default().add(l);
        }
        for i in hit {
            item_leak[i].get_or_insert_with(Default::default).add(l);
        }
    }

    // Reads by filter: which secrets each may have read, and per secret the latest
    // successful one (its usage cannot be told from the logs after that).
    let mut filter_cover: Vec<Option<Secs>> = vec![None; items.len()];
    let mut filter_reads = Vec::new();
    for fr in &activity.filter_reads {
        let mut hits = Vec::new();
        for (i, it) in items.iter().enumerate() {
            if cloudtrail::filters_match(&fr.filters, it) {
                hits.push(i);
                if let Some(t) = fr.last_ok {
                    filter_cover[i] = filter_cover[i].max(Some(t));
                }
            }
        }
        filter_reads.push(FilterSummary {
            filters: fr
                .filters
                .iter()
                .map(|f| format!("{}={}", f.key, f.values.join(",")))
                .collect::<Vec<_>>()
                .join("; "),
            count: fr.count,
            ok: fr.ok,
            first: fr.first,
            last: fr.last,
            principals: fr.principals.iter().cloned().collect(),
            could_cover: hits
                .iter()
                .take(LIST_CAP)
                .map(|i| items[*i].id.clone())
                .collect(),
            could_cover_total: hits.len(),
            loc: activity.loc(fr.pos),
        });
    }
    Joined {
        items,
        activity: item_act,
        leaks: item_leak,
        filter_cover,
        orphans: orphan,
        unmatched,
        filter_reads,
    }
}

fn merge_activity(into: &mut SecretActivity, o: &SecretActivity) {
    fn mx<T: Clone>(a: &mut Option<T>, b: &Option<T>, t: impl Fn(&T) -> Secs) {
        if let Some(bv) = b
            && a.as_ref().is_none_or(|av| t(av) < t(bv))
        {
            *a = Some(bv.clone());
        }
    }
    into.provider = into.provider.or(o.provider);
    mx(&mut into.last_read_ok, &o.last_read_ok, |x| x.0);
    mx(&mut into.last_access, &o.last_access, |x| x.0);
    mx(&mut into.last_write, &o.last_write, |x| x.0);
    mx(&mut into.last_rot_ok, &o.last_rot_ok, |x| *x);
    mx(&mut into.last_rot_fail, &o.last_rot_fail, |x| x.0);
    mx(&mut into.last_delete, &o.last_delete, |x| x.0);
    mx(&mut into.last_restore, &o.last_restore, |x| *x);
    into.denied.extend(o.denied.iter().copied());
    into.denied_total += o.denied_total;
    into.events += o.events;
    for r in &o.readers {
        if into.readers.len() < super::logs::MAX_READERS {
            into.readers.insert(r.clone());
        }
    }
    for (pid, ps) in &o.pairs {
        into.pairs.entry(*pid).or_default().merge(ps);
    }
}

/// Leak evidence joined to one secret.
#[derive(Debug, Default, Clone)]
pub struct LeakInfo {
    /// The earliest leak's time (its introducing commit's date, else the scan's); None if no
    /// leak has one.
    pub time: Option<Secs>,
    /// Leaks joined, including those not listed in `where_`.
    pub count: usize,
    /// The first five leaks as `path:line`, followed by ` (commit <12 hex>)` for history leaks.
    pub where_: Vec<String>,
    /// Where in the findings input the first leak was read.
    pub loc: Option<Loc>,
    /// The AWS access key id the first leak carrying one names.
    pub key_id: Option<String>,
    /// The value fingerprint of the first leak carrying one.
    pub fingerprint: Option<String>,
    /// What leaked: `rule name (rule id)` of each distinct rule.
    pub kinds: Vec<String>,
}

impl LeakInfo {
    fn add(&mut self, l: &Leak) {
        self.count += 1;
        let kind = match (l.rule_name.as_str(), l.rule_id.as_str()) {
            ("", "") => "unknown rule".to_string(),
            ("", id) => format!("rule {id}"),
            (name, "") => name.to_string(),
            (name, id) if name == id => format!("rule {id}"),
            (name, id) => format!("{name} (rule {id})"),
        };
        if !self.kinds.contains(&kind) && self.kinds.len() < 5 {
            self.kinds.push(kind);
        }
        if let Some(t) = l.time
            && self.time.is_none_or(|old| t < old)
        {
            self.time = Some(t);
        }
        if self.where_.len() < 5 {
            let mut w = format!("{}:{}", l.path, l.line);
            if let Some(c) = &l.commit {
                w.push_str(&format!(
                    " (commit {})",
                    c.chars().take(12).collect::<String>()
                ));
            }
            self.where_.push(w);
        }
        if self.loc.is_none() {
            self.loc = Some(l.loc.clone());
        }
        self.key_id = self.key_id.take().or(l.key_id.clone());
        self.fingerprint = self.fingerprint.take().or(l.fingerprint.clone());
    }
}

/// Whether an id has the shape of an AWS access key id (`AKIA…` long-term, `ASIA…` temporary).
pub fn is_aws_key(id: &str) -> bool {
    (id.starts_with("AKIA") || id.starts_with("ASIA")) && id.len() >= 16
}
