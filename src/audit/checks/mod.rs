//! The checks: every (check, secret) that fails becomes one [`CheckResult`]. Each family
//! of checks (ROT, EXP, USE, KEY, LEAK, ACC, PAT, SHR, SEP, INV, PRV, MCH, MGR) is one file here and
//! one row of [`FAMILIES`]; their ids and descriptions are in [`catalog`].

pub mod access_log;
pub mod catalog;
pub mod expiry;
pub mod inventory;
pub mod keys;
pub mod leaks;
pub mod machine;
pub mod manager;
pub mod patterns;
pub mod privilege;
pub mod rotation;
pub mod separation;
pub mod sharing;
pub mod usage;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::access::AccessData;
use super::join::{Joined, LeakInfo, join};
use super::logs::{Activity, KeyActivity, SecretActivity};
use super::model::{Item, Kind, Leak, Loc, Provider, Store};
use super::policy::{Class, Policy};
use super::time::{Secs, days_between};

pub use catalog::{CHECKS, CheckDef, CheckId, Severity};
pub use patterns::PatternCoverage;

/// Every check family, in the order they run (the report sorts the results).
pub const FAMILIES: [fn(&mut Ctx, &Input); 13] = [
    rotation::run,
    expiry::run,
    usage::run,
    keys::run,
    leaks::run,
    access_log::run,
    patterns::run,
    sharing::run,
    separation::run,
    inventory::run,
    privilege::run,
    machine::run,
    manager::run,
];

/// What the families judge: the joined inventory, a view of each secret, the secrets only
/// the logs know, and the access-policy exports.
pub struct Input<'a> {
    /// The inventory merged per secret, and what the join tied to each.
    pub joined: &'a Joined,
    /// One per inventory item, in `joined.items` order.
    pub secrets: Vec<Secret<'a>>,
    /// Secrets only the logs know (reported under the log's id, with the default class).
    pub log_only: Vec<(Subject<'a>, &'a SecretActivity)>,
    /// `--policy-doc` data, when any was given.
    pub access: Option<&'a AccessData>,
    /// The secrets managers' own settings, one per store.
    pub stores: &'a [Store],
}

/// One inventory secret with what the join tied to it and the facts several families use.
pub struct Secret<'a> {
    /// How its results name it.
    pub subject: Subject<'a>,
    /// The merged inventory item.
    pub item: &'a Item,
    /// Its audit-log activity (empty when the logs never name it).
    pub act: &'a SecretActivity,
    /// Calls signed with the item's own key id, or with the key id of a leak joined to it by
    /// fingerprint (a stored key pair): uses of this secret.
    pub key_act: Option<&'a KeyActivity>,
    /// The scan findings joined to it; None when no leak matches it.
    pub leak: Option<&'a LeakInfo>,
    /// The latest successful read by filter that may have returned it: the logs cannot tell
    /// its use after that.
    pub filter_read: Option<Secs>,
    /// Enabled and not deleted (by metadata, or by a log event not undone since).
    pub live: bool,
    /// Best rotation evidence: metadata / versions, then rotation and write events.
    pub rotated: Option<(Secs, String)>,
    /// What the age is measured from: the last rotation, else the creation.
    pub reference: Option<Secs>,
    /// `last rotated` or `created`, as messages say it.
    pub ref_label: &'static str,
}

impl<'a> Secret<'a> {
    fn new(
        subject: Subject<'a>,
        item: &'a Item,
        act: &'a SecretActivity,
        leak: Option<&'a LeakInfo>,
        filter_read: Option<Secs>,
        activity: &'a Activity,
        now: Secs,
    ) -> Secret<'a> {
        let key_act = item
            .key_id
            .as_ref()
            .or(leak.and_then(|l| l.key_id.as_ref()))
            .and_then(|k| activity.keys.get(k));
        let deleted = effective_deletion(item.deleted.filter(|d| *d <= now), act);
        // A provider that refuses an expired credential has revoked it.
        let expired = item.expiry_enforced && item.expires.is_some_and(|e| e <= now);
        let mut rotated = item
            .last_rotated
            .map(|t| (t, item.rotated_source.clone().unwrap_or_default()));
        if let Some((t, name)) = &act.last_write
            && rotated.as_ref().is_none_or(|r| *t > r.0)
        {
            rotated = Some((*t, format!("{name} event")));
        }
        let reference = rotated.as_ref().map(|r| r.0).or(item.created);
        let ref_label = if rotated.is_some() {
            "last rotated"
        } else {
            "created"
        };
        Secret {
            subject,
            item,
            act,
            key_act,
            leak,
            filter_read,
            live: item.enabled && deleted.is_none() && !expired,
            rotated,
            reference,
            ref_label,
        }
    }
}

/// How a result counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The subject fails the check: sets the exit code when its severity reaches `--fail-on`.
    Fail,
    /// For a person to judge (a check defined as review); never sets the exit code.
    Review,
    /// An exemption in the policy covers it; reported, but never sets the exit code.
    Suppressed,
}

/// One result: a (check, secret) that failed, needs review, or is exempted.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// The check that produced it.
    pub check: CheckId,
    /// The subject's id: an inventory id, a secret as the logs name it, or the id of a leak,
    /// store, grant, principal or Vault token.
    pub secret_id: String,
    /// The subject's name, as reports show it beside the id.
    pub name: String,
    /// What the subject is.
    pub kind: Kind,
    /// The subject's policy class; None for subjects that have none (unmatched leaks, stores,
    /// grants, principals).
    pub class: Option<String>,
    /// Why it has that class (the rule, tag or default that gave it), or where the subject
    /// comes from when it has none (`access policy`, `store settings`).
    pub class_source: String,
    /// Whether it fails, is for review, or is exempted.
    pub status: Status,
    /// The check's severity, from the catalog.
    pub severity: Severity,
    /// What is wrong, in one sentence for people.
    pub message: String,
    /// The facts behind the message by name (dates, counts, ids), for the machine-readable
    /// reports.
    pub evidence: BTreeMap<String, Value>,
    /// Where the evidence is in the inputs: the subject's record, or the log line that shows
    /// it.
    pub loc: Loc,
    /// When rotation is or was due (ROT-003, ROT-005); None for other results.
    pub due: Option<Secs>,
    /// The exemption that suppresses it: (its `ref`, its `until` as written, its reason).
    pub exemption: Option<(String, Option<String>, String)>,
    /// An exemption that covered it and has expired: (its `ref`, its `until` as written).
    pub expired_exemption: Option<(String, Option<String>)>,
}

/// Everything the report needs.
pub struct Audit {
    /// The instant the audit judges at: `--now`, else the clock.
    pub now: Secs,
    /// The inventory merged per secret (one item per canonical id).
    pub items: Vec<Item>,
    /// Every result, most severe first, then by check and secret id.
    pub outcomes: Vec<CheckResult>,
    /// Leaks read from the findings inputs, matched or not.
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
    /// Per provider with logs, whether the access-pattern checks could judge them.
    pub pattern_coverage: BTreeMap<Provider, PatternCoverage>,
    /// Who can read which secret, from `--policy-doc` inputs (None without any).
    pub access: Option<AccessTable>,
    /// Stores whose own settings were audited (Key Vaults, Vault servers).
    pub stores: usize,
}

/// The effective-access table: for each inventory secret, who can read it and whether the
/// logs show them doing so.
#[derive(Debug, Clone, Default)]
pub struct AccessTable {
    /// Grants read from the access-policy exports.
    pub grants: usize,
    /// Distinct principals those grants name.
    pub principals: usize,
    /// Inventory secrets that no grant reaches.
    pub unreached: usize,
    /// One row per inventory secret some grant reaches, in inventory order.
    pub rows: Vec<AccessRow>,
}

/// One secret of the effective-access table and who can read it.
#[derive(Debug, Clone)]
pub struct AccessRow {
    /// The secret's inventory id.
    pub secret_id: String,
    /// Its name.
    pub name: String,
    /// Who can read it, one per principal (by the first grant found for each).
    pub readers: Vec<AccessReader>,
}

/// A principal that can read a secret, and the grant that lets it.
#[derive(Debug, Clone)]
pub struct AccessReader {
    /// Canonical principal (see `access::Grant::principal`); `*` for anyone.
    pub principal: String,
    /// The policy, role or binding that grants it.
    pub via: String,
    /// Where that grant is in the policy exports.
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
    /// Reads with this filter set, whatever their outcome.
    pub count: u64,
    /// Of those, the successful ones.
    pub ok: u64,
    /// The earliest such read.
    pub first: Secs,
    /// The latest such read.
    pub last: Secs,
    /// Who made them (at most five).
    pub principals: Vec<String>,
    /// Inventory secrets the filters select (at most [`LIST_CAP`]), and how many in all.
    pub could_cover: Vec<String>,
    /// How many inventory secrets the filters select in all.
    pub could_cover_total: usize,
    /// Where the first of them, in reading order, is logged.
    pub loc: Loc,
}

/// What the families share while they run: the clock, the policy, the logs, and what they
/// produce.
pub struct Ctx<'a> {
    /// The instant the audit judges at.
    pub now: Secs,
    /// The policy results are judged against.
    pub policy: &'a Policy,
    /// Everything the audit logs showed.
    pub activity: &'a Activity,
    /// The results so far; [`Ctx::push`] adds to them.
    pub out: Vec<CheckResult>,
    /// See [`Audit::usage_not_covered`].
    pub short_logs: BTreeMap<Provider, usize>,
    /// See [`Audit::access`].
    pub access_table: Option<AccessTable>,
    /// See [`Audit::pattern_coverage`].
    pub pattern_coverage: BTreeMap<Provider, PatternCoverage>,
}

/// What a result is about, as reports name it.
pub struct Subject<'a> {
    /// The id its results carry ([`CheckResult::secret_id`]).
    pub id: &'a str,
    /// The name its results carry.
    pub name: &'a str,
    /// What it is.
    pub kind: Kind,
    /// Its policy class; None when it has none.
    pub class: Option<&'a Class>,
    /// Why it has that class, or where it comes from when it has none.
    pub class_source: &'a str,
    /// Where it is in the inputs; its results point there unless they name another place.
    pub loc: &'a Loc,
}

impl Ctx<'_> {
    /// Records a result of `check` about `s`: failing or review as the check is defined,
    /// suppressed when an exemption covers it. `loc` overrides the subject's location.
    pub fn push(
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

/// Joins the inputs and runs every check family over them.
pub fn run(
    raw_items: Vec<Item>,
    stores: &[Store],
    activity: &Activity,
    leaks: &[Leak],
    access: Option<&AccessData>,
    policy: &Policy,
    now: Secs,
) -> Audit {
    let joined = join(raw_items, activity, leaks);
    let classes: Vec<(Option<&Class>, String)> =
        joined.items.iter().map(|it| policy.classify(it)).collect();
    let secrets = joined
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let subject = Subject {
                id: &it.id,
                name: &it.name,
                kind: it.kind,
                class: classes[i].0,
                class_source: &classes[i].1,
                loc: &it.loc,
            };
            Secret::new(
                subject,
                it,
                &joined.activity[i],
                joined.leaks[i].as_ref(),
                joined.filter_cover[i],
                activity,
                now,
            )
        })
        .collect();
    // A secret only the logs know is placed at its latest access or first denial.
    let log_only_locs: Vec<Loc> = joined
        .orphans
        .values()
        .map(|(_, act)| {
            act.last_access
                .as_ref()
                .map(|a| a.1)
                .or_else(|| act.denied.first().map(|d| d.2))
                .map(|p| activity.loc(p))
                .unwrap_or_default()
        })
        .collect();
    let log_only = joined
        .orphans
        .values()
        .zip(&log_only_locs)
        .map(|((display, act), loc)| {
            let subject = Subject {
                id: display,
                name: display,
                kind: Kind::LogOnly,
                class: Some(&policy.defaults),
                class_source: "defaults (not in inventory)",
                loc,
            };
            (subject, act)
        })
        .collect();
    let stores = dedup_stores(stores);
    let input = Input {
        joined: &joined,
        secrets,
        log_only,
        access: access.filter(|a| a.inputs > 0),
        stores: &stores,
    };
    let mut cx = Ctx {
        now,
        policy,
        activity,
        out: Vec::new(),
        short_logs: BTreeMap::new(),
        access_table: None,
        pattern_coverage: BTreeMap::new(),
    };
    for family in FAMILIES {
        family(&mut cx, &input);
    }
    cx.out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.check.cmp(&b.check))
            .then_with(|| a.secret_id.cmp(&b.secret_id))
    });
    let readers = joined.activity.iter().map(|a| a.readers.clone()).collect();
    Audit {
        now,
        classes: classes
            .into_iter()
            .map(|(c, why)| (c.map(|c| c.name.clone()), why))
            .collect(),
        items: joined.items,
        outcomes: cx.out,
        leaks_total: leaks.len(),
        filter_reads: joined.filter_reads,
        usage_not_covered: cx.short_logs,
        readers,
        access: cx.access_table,
        pattern_coverage: cx.pattern_coverage,
        stores: stores.len(),
    }
}

/// One settings record per store: the first export of a store decides (the same
/// `az keyvault show` given twice, or in two loops, is one vault).
fn dedup_stores(stores: &[Store]) -> Vec<Store> {
    let mut seen = BTreeSet::new();
    stores
        .iter()
        .filter(|s| seen.insert(s.id.to_ascii_lowercase()))
        .cloned()
        .collect()
}

/// Longest list of other secrets named in one result (keeps huge groups linear).
pub const LIST_CAP: usize = 20;

/// What a message adds after a list cut at [`LIST_CAP`]: `; and N more`, or nothing.
pub(crate) fn and_more(more: u64) -> String {
    if more > 0 {
        format!("; and {more} more")
    } else {
        String::new()
    }
}

pub(crate) fn days(from: Secs, to: Secs) -> i64 {
    days_between(from, to)
}

pub(crate) fn fmt_num(f: f64) -> String {
    if f.fract() == 0.0 {
        format!("{}", f as i64)
    } else {
        format!("{f:.1}")
    }
}

/// When the secret is deleted now: the latest deletion not undone by a restore.
pub fn effective_deletion(meta: Option<Secs>, act: &SecretActivity) -> Option<Secs> {
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
