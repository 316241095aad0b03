//! The checks: every (check, secret) that fails becomes one [`CheckResult`].

pub mod catalog;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};

use super::inventory::aws::{arn_name, join_credential_slots, partial_arn};
use super::inventory::gcp;
use super::logs::{Activity, KeyActivity, Pos, SecretActivity};
use super::model::{AccessOutcome as EvOutcome, Item, Kind, Leak, Loc, Provider, Usage};
use super::policy::{Class, Policy};
use super::time::{DAY, Secs, days_between, fmt, fmt_date};

pub use catalog::{CHECKS, CheckDef, CheckId, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Fail,
    Review,
    Suppressed,
}

/// One result: a (check, secret) that failed, needs review, or is exempted.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub check: CheckId,
    pub secret_id: String,
    pub name: String,
    pub kind: Kind,
    pub class: Option<String>,
    pub class_source: String,
    pub status: Status,
    pub severity: Severity,
    pub message: String,
    pub evidence: BTreeMap<String, Value>,
    pub loc: Loc,
    pub due: Option<Secs>,
    pub exemption: Option<(String, Option<String>, String)>,
    pub expired_exemption: Option<(String, Option<String>)>,
}

/// Everything the report needs.
pub struct Audit {
    pub now: Secs,
    pub items: Vec<Item>,
    pub outcomes: Vec<CheckResult>,
    pub leaks_total: usize,
    /// Each secret's class and why (in `items` order).
    pub classes: Vec<(Option<String>, String)>,
    /// Reads that selected secrets by filter, with the secrets they may have read.
    pub filter_reads: Vec<FilterSummary>,
    /// Per provider, live secrets without usage metadata whose logs start too late to cover
    /// either their life or the unused window: their usage was not evaluated.
    pub usage_not_covered: BTreeMap<Provider, usize>,
    /// Per item (in `items` order), the principals the audit logs show reading it.
    pub readers: Vec<BTreeSet<String>>,
    /// Who can read which secret, from `--policy-doc` inputs (None without any).
    pub access: Option<AccessTable>,
}

/// The effective-access table: for each inventory secret, who can read it and whether the
/// logs show them doing so.
#[derive(Debug, Clone, Default)]
pub struct AccessTable {
    pub grants: usize,
    pub principals: usize,
    /// Inventory secrets that no grant reaches.
    pub unreached: usize,
    pub rows: Vec<AccessRow>,
}

#[derive(Debug, Clone)]
pub struct AccessRow {
    pub secret_id: String,
    pub name: String,
    pub readers: Vec<AccessReader>,
}

#[derive(Debug, Clone)]
pub struct AccessReader {
    pub principal: String,
    pub via: String,
    pub loc: Loc,
    /// Whether the audit logs show it reading this secret; None when they cannot tell
    /// (no logs of that provider with reads, or a principal the logs do not name).
    pub used: Option<bool>,
}

/// A BatchGetSecretValue filter set seen in the logs.
#[derive(Debug, Clone)]
pub struct FilterSummary {
    /// `name=prod/,!prod/legacy; tag-key=team`.
    pub filters: String,
    pub count: u64,
    pub ok: u64,
    pub first: Secs,
    pub last: Secs,
    pub principals: Vec<String>,
    /// Inventory secrets the filters select (at most [`LIST_CAP`]), and how many in all.
    pub could_cover: Vec<String>,
    pub could_cover_total: usize,
    pub loc: Loc,
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
}

struct Ctx<'a> {
    now: Secs,
    policy: &'a Policy,
    activity: &'a Activity,
    out: Vec<CheckResult>,
    short_logs: BTreeMap<Provider, usize>,
}

struct Subject<'a> {
    id: &'a str,
    name: &'a str,
    kind: Kind,
    class: Option<&'a Class>,
    class_source: &'a str,
    loc: &'a Loc,
}

impl Ctx<'_> {
    fn push(
        &mut self,
        s: &Subject,
        check: CheckId,
        message: String,
        evidence: Vec<(&str, Value)>,
        loc: Option<Loc>,
        due: Option<Secs>,
    ) {
        let d = check.def();
        let mut status = if d.review {
            Status::Review
        } else {
            Status::Fail
        };
        let (ex, expired) = self.policy.exemption(check, s.id, self.now);
        let exemption = ex.map(|e| (e.reference.clone(), e.until_text.clone(), e.reason.clone()));
        if exemption.is_some() {
            status = Status::Suppressed;
        }
        self.out.push(CheckResult {
            check,
            secret_id: s.id.to_string(),
            name: s.name.to_string(),
            kind: s.kind,
            class: s.class.map(|c| c.name.clone()),
            class_source: s.class_source.to_string(),
            status,
            severity: d.severity,
            message,
            evidence: evidence
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            loc: loc.unwrap_or_else(|| s.loc.clone()),
            due,
            exemption,
            expired_exemption: expired.map(|e| (e.reference.clone(), e.until_text.clone())),
        });
    }
}

/// Longest list of other secrets named in one result (keeps huge groups linear).
const LIST_CAP: usize = 20;

fn days(from: Secs, to: Secs) -> i64 {
    days_between(from, to)
}

/// Leak evidence joined to one secret.
#[derive(Default, Clone)]
struct LeakInfo {
    time: Option<Secs>,
    count: usize,
    where_: Vec<String>,
    loc: Option<Loc>,
    key_id: Option<String>,
    fingerprint: Option<String>,
    /// What leaked: `rule name (rule id)` of each distinct rule.
    kinds: Vec<String>,
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

fn is_aws_key(id: &str) -> bool {
    (id.starts_with("AKIA") || id.starts_with("ASIA")) && id.len() >= 16
}

/// Merges records of the same secret, joins logs and leaks to them, and runs every check.
pub fn run(
    mut raw_items: Vec<Item>,
    activity: &Activity,
    leaks: &[Leak],
    policy: &Policy,
    now: Secs,
) -> Audit {
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
    let mut item_act: Vec<Option<SecretActivity>> = vec![None; items.len()];
    // Secrets seen only in logs, grouped by a form that survives name/ARN differences.
    let mut orphan: BTreeMap<String, (String, SecretActivity)> = BTreeMap::new();
    let mut refs: Vec<(&String, &SecretActivity)> = activity.secrets.iter().collect();
    refs.sort_by(|a, b| a.0.cmp(b.0));
    for (raw, act) in refs {
        match resolve(raw) {
            Some(i) => merge_activity(item_act[i].get_or_insert_with(Default::default), act),
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
    let mut by_fp: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        if let Some(k) = &it.key_id {
            by_key.entry(k.as_str()).or_default().push(i);
        }
        for fp in it
            .fingerprints
            .iter()
            .chain(it.values_seen.iter().filter_map(|v| v.fingerprint.as_ref()))
        {
            let e = by_fp.entry(fp.as_str()).or_default();
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
            hit.extend(by_fp.get(fp.as_str()).into_iter().flatten());
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
            if super::logs::cloudtrail::filters_match(&fr.filters, it) {
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

    let mut cx = Ctx {
        now,
        policy,
        activity,
        out: Vec::new(),
        short_logs: BTreeMap::new(),
    };
    let mut classes = Vec::with_capacity(items.len());

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

    // SHR-001: value fingerprint → environments.
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

    for (i, it) in items.iter().enumerate() {
        let (class, class_source) = policy.classify(it);
        classes.push((class.map(|c| c.name.clone()), class_source.clone()));
        let subj = Subject {
            id: &it.id,
            name: &it.name,
            kind: it.kind,
            class,
            class_source: &class_source,
            loc: &it.loc,
        };
        let act = item_act[i].clone().unwrap_or_default();
        // The item's own key id, or the key id of a leak joined to it by fingerprint (a
        // stored key pair): calls signed with it are uses of this secret.
        let key_act = it
            .key_id
            .as_ref()
            .or(item_leak[i].as_ref().and_then(|l| l.key_id.as_ref()))
            .and_then(|k| activity.keys.get(k));
        check_item(
            &mut cx,
            &subj,
            it,
            &act,
            key_act,
            item_leak[i].as_ref(),
            filter_cover[i],
        );
        check_access(&mut cx, &subj, &act, it.deleted.filter(|d| *d <= now));

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
                    &subj,
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
                cx.push(&subj, CheckId::Shr001, format!("the value with fingerprint {fp} is used in {} environments ({}); also in {}", envs.len(), env_names.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "), others.join(", ")),
                        vec![("fingerprint", json!(fp)), ("environment", json!(me)), ("environments", json!(env_names)), ("shared_with", json!(others))], None, None);
                break;
            }
        }

        if !it.values_seen.is_empty() {
            // Each field with its own fingerprint, or why it has none, so a reader can tell
            // which value a fingerprint belongs to.
            let fields: Vec<String> = it
                .values_seen
                .iter()
                .map(|v| {
                    let mut d = v.field.clone();
                    match (&v.fingerprint, &v.note) {
                        (Some(fp), Some(n)) => d.push_str(&format!(" (fingerprint {fp}; {n})")),
                        (Some(fp), None) => d.push_str(&format!(" (fingerprint {fp})")),
                        (None, Some(n)) => d.push_str(&format!(" ({n})")),
                        (None, None) => {}
                    }
                    d
                })
                .collect();
            let loc = it.values_seen.first().map(|v| v.loc.clone());
            cx.push(
                &subj,
                CheckId::Inv001,
                format!(
                    "the input holds the secret's value in {}; the value was not kept",
                    fields.join(", ")
                ),
                vec![
                    (
                        "fields",
                        json!(
                            it.values_seen
                                .iter()
                                .map(|v| v.field.clone())
                                .collect::<Vec<_>>()
                        ),
                    ),
                    (
                        "fingerprints",
                        json!(
                            it.values_seen
                                .iter()
                                .filter_map(|v| v.fingerprint.clone())
                                .collect::<Vec<_>>()
                        ),
                    ),
                    (
                        "values",
                        json!(
                            it.values_seen
                                .iter()
                                .map(|v| json!({"field": v.field, "fingerprint": v.fingerprint, "note": v.note}))
                                .collect::<Vec<_>>()
                        ),
                    ),
                ],
                loc,
                None,
            );
        }
    }

    // Secrets only the logs know.
    for (display, act) in orphan.values() {
        let loc = act
            .last_access
            .as_ref()
            .map(|a| a.1)
            .or_else(|| act.denied.first().map(|d| d.2))
            .map(|p| activity.loc(p))
            .unwrap_or_default();
        let subj = Subject {
            id: display,
            name: display,
            kind: Kind::LogOnly,
            class: Some(&policy.defaults),
            class_source: "defaults (not in inventory)",
            loc: &loc,
        };
        check_access(&mut cx, &subj, act, None);
        // A failed rotation in the logs shows a schedule even without an inventory entry.
        if let Some((ft, pos, msg)) = act
            .last_rot_fail
            .as_ref()
            .filter(|f| act.last_rot_ok.is_none_or(|ok| f.0 > ok))
        {
            let loc = activity.loc(*pos);
            cx.push(
                &subj,
                CheckId::Rot004,
                format!(
                    "rotation failed at {} ({msg}) with no success since{}",
                    fmt(*ft),
                    act.last_rot_ok
                        .map(|t| format!("; last success {}", fmt(t)))
                        .unwrap_or_default()
                ),
                vec![
                    ("rotation_failed", json!(fmt(*ft))),
                    ("error", json!(msg)),
                    ("last_success", json!(act.last_rot_ok.map(fmt))),
                ],
                Some(loc),
                None,
            );
        }
    }

    // Leaks that match nothing in the inventory.
    for (id, info) in &unmatched {
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
            && let Some(ka) = activity.keys.get(k)
        {
            leak_used(&mut cx, &subj, ka, info);
        }
    }

    cx.out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.check.cmp(&b.check))
            .then_with(|| a.secret_id.cmp(&b.secret_id))
    });
    let readers = item_act
        .iter()
        .map(|a| a.as_ref().map(|a| a.readers.clone()).unwrap_or_default())
        .collect();
    Audit {
        now,
        items,
        outcomes: cx.out,
        leaks_total: leaks.len(),
        classes,
        filter_reads,
        usage_not_covered: cx.short_logs,
        readers,
        access: None,
    }
}

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
pub fn add_access(
    audit: &mut Audit,
    access: &super::access::AccessData,
    activity: &Activity,
    policy: &Policy,
) {
    use super::access;
    let mut cx = Ctx {
        now: audit.now,
        policy,
        activity,
        out: Vec::new(),
        short_logs: BTreeMap::new(),
    };
    for is in &access.issues {
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
    let reach = access::readers(&audit.items, &access.grants);
    // Log readers of each item, keyed the way grants are compared with them.
    let log_keys: Vec<BTreeSet<(String, String)>> = audit
        .readers
        .iter()
        .enumerate()
        .map(|(i, rs)| {
            let prov = audit.items[i]
                .kind
                .provider()
                .map(|p| p.name())
                .unwrap_or("");
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
        grants: access.grants.len(),
        principals: access
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
        let it = &audit.items[i];
        let mut readers: Vec<AccessReader> = Vec::new();
        for gi in gs {
            let g = &access.grants[*gi];
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
            .map(|i| audit.items[*i].id.as_str())
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
    audit.outcomes.append(&mut cx.out);
    audit.outcomes.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.check.cmp(&b.check))
            .then_with(|| a.secret_id.cmp(&b.secret_id))
    });
    audit.access = Some(table);
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

#[allow(clippy::too_many_arguments)]
fn check_item(
    cx: &mut Ctx,
    s: &Subject,
    it: &Item,
    act: &SecretActivity,
    key_act: Option<&KeyActivity>,
    leak: Option<&LeakInfo>,
    filter_read: Option<Secs>,
) {
    let now = cx.now;
    let deleted = effective_deletion(it.deleted.filter(|d| *d <= now), act);
    let live = it.enabled && deleted.is_none();
    // Best rotation evidence: metadata / versions, then rotation and write events.
    let mut rotated = it
        .last_rotated
        .map(|t| (t, it.rotated_source.clone().unwrap_or_default()));
    if let Some((t, name)) = &act.last_write
        && rotated.as_ref().is_none_or(|r| *t > r.0)
    {
        rotated = Some((*t, format!("{name} event")));
    }
    let reference = rotated.as_ref().map(|r| r.0).or(it.created);
    let ref_label = if rotated.is_some() {
        "last rotated"
    } else {
        "created"
    };

    let provider = it.kind.provider();
    let log_read = act
        .last_read_ok
        .map(|r| r.0)
        .into_iter()
        .chain(key_act.map(|k| k.last.0))
        .max();
    let meta_used = match it.usage {
        Usage::At(a) => Some(a),
        _ => None,
    };
    let last_used = match (it.usage, log_read) {
        (Usage::At(a), Some(b)) => Some(a.max(b)),
        (Usage::At(a), None) => Some(a),
        (_, b) => b,
    };

    if live && reference.is_none() {
        // Without any date nothing age-based can be judged; say so rather than pass silently.
        cx.push(
            s,
            CheckId::Inv002,
            "age unknown, not evaluated: the inputs give no creation, rotation or version date for this secret, so rotation age (ROT-003, ROT-005) and never-used (USE-002) were not checked".to_string(),
            vec![("created", Value::Null), ("last_rotated", Value::Null)],
            None,
            None,
        );
    }
    if let Some(c) = s.class {
        // ROT-001
        if c.require_auto_rotation
            && it.rotation_supported
            && live
            && it.rotation_enabled != Some(true)
        {
            cx.push(
                s,
                CheckId::Rot001,
                format!(
                    "automatic rotation is not enabled; class {} requires it",
                    c.name
                ),
                vec![
                    ("rotation_enabled", json!(it.rotation_enabled)),
                    ("class", json!(c.name)),
                ],
                None,
                None,
            );
        }
        // ROT-002
        if let (Some(true), Some(iv), Some(max)) = (
            it.rotation_enabled,
            it.rotation_interval_days,
            c.max_age_days,
        ) && live
            && iv > max as f64
        {
            cx.push(
                s,
                CheckId::Rot002,
                format!(
                    "rotation runs every {} days; class {} allows at most {max}",
                    fmt_num(iv),
                    c.name
                ),
                vec![
                    ("rotation_interval_days", json!(iv)),
                    ("max_age_days", json!(max)),
                ],
                None,
                None,
            );
        }
        // ROT-003 / ROT-005
        if let (Some(max), Some(r)) = (c.max_age_days, reference) {
            let age = days(r, now);
            let due = r + max as i64 * DAY;
            if live && age > max as i64 {
                cx.push(
                    s,
                    CheckId::Rot003,
                    format!(
                        "{ref_label} {} ({age} days ago){}; class {} allows {max} days (due {})",
                        fmt_date(r),
                        if rotated.is_none() && it.has_previous_version {
                            ", rotated since at some date the inputs do not give (an AWSPREVIOUS version exists; add get-secret-value or LastRotatedDate)"
                        } else {
                            ""
                        },
                        c.name,
                        fmt_date(due)
                    ),
                    vec![
                        (
                            if rotated.is_some() {
                                "last_rotated"
                            } else {
                                "created"
                            },
                            json!(fmt(r)),
                        ),
                        (
                            "rotation_evidence",
                            json!(
                                rotated
                                    .as_ref()
                                    .map(|x| x.1.clone())
                                    .unwrap_or_else(|| {
                                        if it.has_previous_version {
                                            "creation date (rotated at an unknown date: an AWSPREVIOUS version exists)".into()
                                        } else {
                                            "creation date (never rotated)".into()
                                        }
                                    })
                            ),
                        ),
                        ("age_days", json!(age)),
                        ("max_age_days", json!(max)),
                        ("due", json!(fmt(due))),
                    ],
                    None,
                    Some(due),
                );
            } else if live {
                let auto_first =
                    it.rotation_enabled == Some(true) && it.next_rotation.is_some_and(|n| n <= due);
                if !auto_first && due >= now && due <= now + c.due_soon_days as i64 * DAY {
                    cx.push(s, CheckId::Rot005, format!("rotation due {} ({} days from now; {ref_label} {}, class {} allows {max} days)", fmt_date(due), days(now, due), fmt_date(r), c.name),
                        vec![("due", json!(fmt(due))), ("days_left", json!(days(now, due))), ("max_age_days", json!(max))], None, Some(due));
                }
            }
        }
        // EXP-001
        if live && it.expiry_supported && (c.require_expiry || c.max_validity_days.is_some()) {
            match it.expires {
                // Without an expiry only `require_expiry` fails; max_validity_days alone
                // bounds the expiries that exist (the policy resolved the implication).
                None if !c.require_expiry => {}
                None => cx.push(
                    s,
                    CheckId::Exp001,
                    format!(
                        "no expiry set; class {} requires one{}",
                        c.name,
                        c.max_validity_days
                            .map(|m| format!(" within {m} days"))
                            .unwrap_or_default()
                    ),
                    vec![
                        ("expires", Value::Null),
                        ("max_validity_days", json!(c.max_validity_days)),
                    ],
                    None,
                    None,
                ),
                Some(exp) => {
                    if let Some(maxv) = c.max_validity_days {
                        let start = it.not_before.or(it.created).unwrap_or(now).min(exp);
                        let validity = days(start, exp);
                        if validity > maxv as i64 {
                            cx.push(s, CheckId::Exp001, format!("valid for {validity} days (from {} to {}); class {} allows {maxv}", fmt_date(start), fmt_date(exp), c.name),
                                vec![("expires", json!(fmt(exp))), ("validity_days", json!(validity)), ("max_validity_days", json!(maxv))], None, None);
                        }
                    }
                }
            }
        }
        // USE-001 / USE-002, or USE-003 when the logs cannot tell.
        if let Some(u) = c.unused_days
            && live
        {
            check_usage(cx, s, it, c, u, provider, last_used, meta_used, filter_read);
        }
    }

    // ROT-004: rotation on, but failing or late.
    if live && it.rotation_enabled == Some(true) {
        let last_ok = [act.last_rot_ok, it.last_rotated]
            .into_iter()
            .flatten()
            .max();
        if let Some((ft, pos, msg)) = act
            .last_rot_fail
            .as_ref()
            .filter(|f| last_ok.is_none_or(|ok| f.0 > ok))
        {
            let loc = cx.activity.loc(*pos);
            cx.push(
                s,
                CheckId::Rot004,
                format!(
                    "rotation failed at {} ({msg}) with no success since{}",
                    fmt(*ft),
                    last_ok
                        .map(|t| format!("; last success {}", fmt(t)))
                        .unwrap_or_default()
                ),
                vec![
                    ("rotation_failed", json!(fmt(*ft))),
                    ("error", json!(msg)),
                    ("last_success", json!(last_ok.map(fmt))),
                ],
                Some(loc),
                None,
            );
        } else if let Some(next) = it.next_rotation.filter(|n| *n < now) {
            cx.push(
                s,
                CheckId::Rot004,
                format!(
                    "scheduled rotation missed: next rotation was due {} ({} days ago)",
                    fmt(next),
                    days(next, now)
                ),
                vec![
                    ("next_rotation", json!(fmt(next))),
                    ("days_late", json!(days(next, now))),
                ],
                None,
                None,
            );
        } else if let (None, Some(iv), Some(r)) =
            (it.next_rotation, it.rotation_interval_days, reference)
        {
            let expected = r + (iv * DAY as f64) as i64;
            if expected + DAY < now {
                cx.push(
                    s,
                    CheckId::Rot004,
                    format!(
                        "scheduled rotation missed: every {} days, {ref_label} {}, so due {}",
                        fmt_num(iv),
                        fmt_date(r),
                        fmt_date(expected)
                    ),
                    vec![
                        ("rotation_interval_days", json!(iv)),
                        (
                            if rotated.is_some() {
                                "last_rotated"
                            } else {
                                "created"
                            },
                            json!(fmt(r)),
                        ),
                        ("expected_rotation", json!(fmt(expected))),
                    ],
                    None,
                    None,
                );
            }
        }
    }

    // EXP-002
    if let Some(exp) = it.expires
        && exp < now
        && live
    {
        cx.push(
            s,
            CheckId::Exp002,
            format!(
                "expired {} ({} days ago) but still enabled",
                fmt(exp),
                days(exp, now)
            ),
            vec![("expires", json!(fmt(exp))), ("enabled", json!(true))],
            None,
            None,
        );
    }

    // LEAK-001 / LEAK-002
    if let Some(info) = leak {
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

/// USE-001 / USE-002 from metadata or logs. A claim that rests on the logs' silence needs
/// logs that reach `--now` (within `[logs] max_lag_days`) and cover the unused window or the
/// secret's life, and no read by filter that may have read the secret; otherwise the result
/// is USE-003 (not evaluated), saying why, instead of a claim the data cannot support.
#[allow(clippy::too_many_arguments)]
fn check_usage(
    cx: &mut Ctx,
    s: &Subject,
    it: &Item,
    c: &Class,
    u: u32,
    provider: Option<Provider>,
    last_used: Option<Secs>,
    meta_used: Option<Secs>,
    filter_read: Option<Secs>,
) {
    let now = cx.now;
    let limit = u as i64;
    // Access keys are used by any signed call; secrets only by reads.
    let cov = provider
        .and_then(|p| cx.activity.coverage.get(&p))
        .filter(|cv| cv.reads > 0 || it.kind == Kind::IamAccessKey)
        .copied();
    let lag = cx.policy.log_max_lag_days as i64;
    let logs_current = cov.is_some_and(|cv| cv.to >= now - lag * DAY);
    let old = it.created.is_some_and(|cr| days(cr, now) > limit);
    let logs_end_note = |cv: &crate::audit::logs::Coverage| {
        format!(
            "the audit logs end {} ({} days before now; at most {lag} allowed by [logs] max_lag_days), so a later use cannot be ruled out",
            fmt_date(cv.to),
            days(cv.to, now)
        )
    };
    let filter_note = |ft: Secs| {
        format!(
            "a BatchGetSecretValue read by filter at {} may have read it (the log does not name the secrets such a read returns)",
            fmt(ft)
        )
    };
    let not_evaluated = |cx: &mut Ctx, why: String, cv: Option<crate::audit::logs::Coverage>| {
        cx.push(
            s,
            CheckId::Use003,
            format!(
                "usage not evaluated: {why}; class {} allows {u} days unused",
                c.name
            ),
            vec![
                ("reason", json!(why)),
                ("logs_from", json!(cv.map(|x| fmt(x.from)))),
                ("logs_to", json!(cv.map(|x| fmt(x.to)))),
                ("last_used", json!(last_used.map(fmt))),
                ("limit_days", json!(u)),
            ],
            None,
            None,
        );
    };
    match last_used {
        Some(t) if days(t, now) > limit => {
            // A last use from metadata is the store's own record; one from the logs only
            // holds if the logs reach today and no filter read came after it.
            let from_logs = meta_used.is_none_or(|m| m < t);
            if from_logs && let Some(ft) = filter_read.filter(|ft| *ft > t) {
                return not_evaluated(cx, filter_note(ft), cov);
            }
            if from_logs && !logs_current {
                if let Some(cv) = cov {
                    return not_evaluated(
                        cx,
                        format!(
                            "last read in the logs {}, but {}",
                            fmt_date(t),
                            logs_end_note(&cv)
                        ),
                        cov,
                    );
                }
                return;
            }
            cx.push(
                s,
                CheckId::Use001,
                format!(
                    "last used {} ({} days ago); class {} allows {u} days unused",
                    fmt_date(t),
                    days(t, now),
                    c.name
                ),
                vec![
                    ("last_used", json!(fmt(t))),
                    ("unused_days", json!(days(t, now))),
                    ("limit_days", json!(u)),
                ],
                None,
                None,
            );
        }
        Some(_) => {}
        None => {
            if !old {
                return;
            }
            if it.usage == Usage::Never {
                let why = "the provider records no use";
                cx.push(
                    s,
                    CheckId::Use002,
                    format!(
                        "active since {} ({} days) and never used: {why}; class {} allows {u} days",
                        it.created.map(fmt_date).unwrap_or_default(),
                        it.created.map(|cr| days(cr, now)).unwrap_or(0),
                        c.name
                    ),
                    vec![
                        ("created", json!(it.created.map(fmt))),
                        ("last_used", Value::Null),
                        ("limit_days", json!(u)),
                        ("evidence", json!(why)),
                    ],
                    None,
                    None,
                );
                return;
            }
            let Some(cv) = cov else { return };
            if it.usage != Usage::Untracked {
                return;
            }
            let since_creation = it.created.is_some_and(|cr| cv.from <= cr);
            let covers_window = cv.from <= now - limit * DAY;
            if !since_creation && !covers_window {
                // Logs shorter than the window: nothing was claimed before either. Counted
                // per provider (one line in the report, not a row per secret).
                if let Some(p) = provider {
                    *cx.short_logs.entry(p).or_insert(0) += 1;
                }
                return;
            }
            if let Some(ft) = filter_read {
                return not_evaluated(cx, filter_note(ft), cov);
            }
            if !logs_current {
                return not_evaluated(cx, logs_end_note(&cv), cov);
            }
            if since_creation {
                let why = "no use in audit logs covering its whole life";
                cx.push(
                    s,
                    CheckId::Use002,
                    format!(
                        "active since {} ({} days) and never used: {why}; class {} allows {u} days",
                        it.created.map(fmt_date).unwrap_or_default(),
                        it.created.map(|cr| days(cr, now)).unwrap_or(0),
                        c.name
                    ),
                    vec![
                        ("created", json!(it.created.map(fmt))),
                        ("last_used", Value::Null),
                        ("limit_days", json!(u)),
                        ("evidence", json!(why)),
                        ("logs_to", json!(fmt(cv.to))),
                    ],
                    None,
                    None,
                );
            } else {
                cx.push(s, CheckId::Use001, format!("no access in the audit logs from {} to {} (covering more than {u} days); class {} allows {u} days unused", fmt_date(cv.from), fmt_date(cv.to), c.name),
                    vec![("last_used", Value::Null), ("logs_from", json!(fmt(cv.from))), ("logs_to", json!(fmt(cv.to))), ("limit_days", json!(u))], None, None);
            }
        }
    }
}

fn fmt_window(secs: i64) -> String {
    match secs {
        s if s % DAY == 0 => format!("{}d", s / DAY),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn fmt_num(f: f64) -> String {
    if f.fract() == 0.0 {
        format!("{}", f as i64)
    } else {
        format!("{f:.1}")
    }
}

/// When the secret is deleted now: the latest deletion not undone by a restore.
fn effective_deletion(meta: Option<Secs>, act: &SecretActivity) -> Option<Secs> {
    let del = [meta, act.last_delete.map(|d| d.0)]
        .into_iter()
        .flatten()
        .max()?;
    // A restore, a re-creation or a new value (a Vault write after a soft delete) undoes it.
    let undone = [act.last_restore, act.last_write.as_ref().map(|w| w.0)]
        .into_iter()
        .flatten()
        .max();
    match undone {
        Some(r) if r > del => None,
        _ => Some(del),
    }
}

fn check_access(cx: &mut Ctx, s: &Subject, act: &SecretActivity, meta_deleted: Option<Secs>) {
    // ACC-001
    if let Some(del) = effective_deletion(meta_deleted, act)
        && let Some((t, pos, who, outcome)) = &act.last_access
        && *t > del
    {
        let loc = cx.activity.loc(*pos);
        let result = match outcome {
            EvOutcome::Ok => "succeeded",
            EvOutcome::Denied => "was denied",
            EvOutcome::Failed => "failed",
        };
        cx.push(
            s,
            CheckId::Acc001,
            format!(
                "deleted {} but read at {} by {who} (the read {result})",
                fmt(del),
                fmt(*t)
            ),
            vec![
                ("deleted", json!(fmt(del))),
                ("accessed", json!(fmt(*t))),
                ("principal", json!(who)),
                ("outcome", json!(result)),
            ],
            Some(loc),
            None,
        );
    }
    // ACC-002
    let class = s.class.unwrap_or(&cx.policy.defaults);
    if act.denied.len() >= class.burst_count as usize {
        let mut by_p: BTreeMap<u32, Vec<(Secs, Pos)>> = BTreeMap::new();
        for (t, p, pos) in &act.denied {
            by_p.entry(*p).or_default().push((*t, *pos));
        }
        let mut hits: Vec<(String, usize, Secs, Pos)> = Vec::new();
        for (p, mut v) in by_p {
            v.sort_by_key(|x| x.0);
            let (mut best, mut best_start, mut best_pos) = (0usize, 0, Pos::default());
            let mut lo = 0;
            for hi in 0..v.len() {
                while v[hi].0 - v[lo].0 >= class.burst_window {
                    lo += 1;
                }
                if hi + 1 - lo > best {
                    best = hi + 1 - lo;
                    best_start = v[lo].0;
                    best_pos = v[lo].1;
                }
            }
            if best >= class.burst_count as usize {
                hits.push((
                    cx.activity
                        .principals
                        .get(p as usize)
                        .cloned()
                        .unwrap_or_default(),
                    best,
                    best_start,
                    best_pos,
                ));
            }
        }
        if let Some(first) = hits.first() {
            let loc = cx.activity.loc(first.3);
            let desc: Vec<String> = hits
                .iter()
                .map(|h| format!("{} denied {} times from {}", h.0, h.1, fmt(h.2)))
                .collect();
            cx.push(
                s,
                CheckId::Acc002,
                format!(
                    "{} (threshold {} within {})",
                    desc.join("; "),
                    class.burst_count,
                    fmt_window(class.burst_window)
                ),
                vec![
                    (
                        "principals",
                        json!(
                            hits.iter()
                                .map(|h| json!({"principal": h.0, "denied": h.1, "from": fmt(h.2)}))
                                .collect::<Vec<_>>()
                        ),
                    ),
                    ("threshold", json!(class.burst_count)),
                    ("window_seconds", json!(class.burst_window)),
                ],
                Some(loc),
                None,
            );
        }
    }
}
