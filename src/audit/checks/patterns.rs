//! PAT: access patterns in the audit logs. The logs are split at `--now` minus
//! `[access_patterns] recent_days`: what came before is each principal's history, and the
//! recent period is judged against it: a principal's first read of a secret (PAT-001), a read
//! from a network the principal never used (PAT-002), a day's reads far above the principal's
//! own daily mean (PAT-003). Those three need `min_history_days` of history in the provider's
//! logs; with less, the coverage says "not evaluated" and why. Every use of root credentials
//! (PAT-004) and of a break-glass principal (PAT-005) is reported, whatever the history.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{CheckId, Ctx, Input, LIST_CAP, Subject, and_more, fmt_num};
use crate::audit::logs::{PairStats, SecretActivity, Watched};
use crate::audit::model::{Kind, Loc, Provider};
use crate::audit::time::{DAY, Secs, fmt, fmt_date};

/// Whether a provider's logs can carry access-pattern claims, and why not.
#[derive(Debug, Clone)]
pub struct PatternCoverage {
    /// The first logged event: the history runs from here to the recent period.
    pub history_from: Secs,
    /// The first second of the recent period.
    pub recent_from: Secs,
    /// Whole days of logs before the recent period.
    pub history_days: i64,
    /// None: evaluated; else why not.
    pub not_evaluated: Option<String>,
}

/// The PAT checks: first whether each provider's logs can carry them (kept in
/// `cx.pattern_coverage`), then each secret's readers (PAT-001 to PAT-003), then the uses of
/// root credentials and break-glass principals (PAT-004, PAT-005).
pub fn run(cx: &mut Ctx, input: &Input) {
    let p = &cx.policy.patterns;
    let recent_from = cx.now - i64::from(p.recent_days) * DAY;
    for (prov, cov) in &cx.activity.coverage {
        let history_days = ((recent_from - cov.from) / DAY).max(0);
        let not_evaluated = if cov.reads == 0 {
            Some("the logs record no reads".to_string())
        } else if history_days < i64::from(p.min_history_days) {
            Some(format!(
                "the logs start {}: {history_days} day(s) of history before the recent period ({} on), fewer than [access_patterns] min_history_days = {}",
                fmt_date(cov.from),
                fmt_date(recent_from),
                p.min_history_days
            ))
        } else {
            None
        };
        cx.pattern_coverage.insert(
            *prov,
            PatternCoverage {
                history_from: cov.from,
                recent_from,
                history_days,
                not_evaluated,
            },
        );
    }
    for v in &input.secrets {
        // A secret's history starts at its creation (inventory, or a creation event).
        let created = [v.item.created, v.act.last_restore]
            .into_iter()
            .flatten()
            .min();
        secret_patterns(cx, &v.subject, v.act, created);
    }
    for (s, act) in &input.log_only {
        secret_patterns(cx, s, act, act.last_restore);
    }
    watched(cx);
}

fn principal(cx: &Ctx, pid: u32) -> String {
    cx.activity
        .principals
        .get(pid as usize)
        .cloned()
        .unwrap_or_default()
}

/// PAT-001..003 for one secret.
fn secret_patterns(cx: &mut Ctx, s: &Subject, act: &SecretActivity, created: Option<Secs>) {
    let Some(prov) = act.provider else { return };
    let Some(cov) = cx.pattern_coverage.get(&prov).cloned() else {
        return;
    };
    if cov.not_evaluated.is_some() || act.pairs.is_empty() {
        return;
    }
    let p = &cx.policy.patterns;
    let recent_from = cov.recent_from;
    let mut pairs: Vec<(String, u32, &PairStats)> = act
        .pairs
        .iter()
        .filter(|(_, ps)| ps.recent_first.is_some())
        .map(|(pid, ps)| (principal(cx, *pid), *pid, ps))
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let history = |days: i64| {
        format!(
            "{days} day(s) of {} logs before {}",
            prov.name(),
            fmt_date(recent_from)
        )
    };

    // PAT-001: read in the recent period, never before, by a principal that could have
    // read it for min_history_days: a secret created since has had no time to be read.
    let secret_history =
        (recent_from - created.map_or(cov.history_from, |c| c.max(cov.history_from))) / DAY;
    if secret_history >= i64::from(p.min_history_days) {
        let mut first: Vec<(&str, &PairStats)> = pairs
            .iter()
            .filter(|(_, _, ps)| ps.hist_reads == 0)
            .map(|(name, _, ps)| (name.as_str(), *ps))
            .collect();
        first.sort_by_key(|(name, ps)| (ps.recent_first.map(|f| f.0), *name));
        if let Some((_, ps0)) = first.first() {
            let loc = ps0.recent_first.map(|f| cx.activity.loc(f.1));
            let listed: Vec<String> = first
                .iter()
                .take(LIST_CAP)
                .map(|(name, ps)| {
                    format!(
                        "{name} read it {} time(s) from {}",
                        ps.reads,
                        ps.recent_first.map(|f| fmt(f.0)).unwrap_or_default()
                    )
                })
                .collect();
            let more = first.len().saturating_sub(listed.len());
            cx.push(
                s,
                CheckId::Pat001,
                format!(
                    "first read by {} principal(s) not seen reading it in {}: {}{}",
                    first.len(),
                    history(secret_history),
                    listed.join("; "),
                    and_more(more as u64)
                ),
                vec![
                    (
                        "principals",
                        json!(
                            first
                                .iter()
                                .take(LIST_CAP)
                                .map(|(name, ps)| json!({
                                    "principal": name,
                                    "first_read": ps.recent_first.map(|f| fmt(f.0)),
                                    "reads": ps.reads,
                                }))
                                .collect::<Vec<_>>()
                        ),
                    ),
                    ("principal_count", json!(first.len())),
                    ("recent_from", json!(fmt(recent_from))),
                    ("history_days", json!(secret_history)),
                ],
                loc,
                None,
            );
        }
    }

    // PAT-002: a recent read from a network the principal never used before the recent
    // period, by a principal that has a history.
    let mut new_nets: Vec<Value> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut first_loc: Option<(Secs, Loc)> = None;
    for (name, pid, ps) in &pairs {
        let had_history = cx
            .activity
            .principal_first
            .get(*pid as usize)
            .is_some_and(|f| *f < recent_from);
        if !had_history {
            continue;
        }
        let mut nets = ps.recent_nets.clone();
        nets.sort_by_key(|n| n.1);
        for (net, t, pos, n) in nets {
            let seen = cx.activity.net_first.get(&(*pid, net)).copied();
            if seen.is_some_and(|f| f < recent_from) {
                continue;
            }
            let label = cx.activity.net_label(net);
            if first_loc.as_ref().is_none_or(|f| t < f.0) {
                first_loc = Some((t, cx.activity.loc(pos)));
            }
            if texts.len() < LIST_CAP {
                texts.push(format!(
                    "{name} read it from {label} ({n} read(s), first at {})",
                    fmt(t)
                ));
            }
            new_nets.push(
                json!({"principal": name, "network": label, "first_read": fmt(t), "reads": n}),
            );
        }
    }
    if !new_nets.is_empty() {
        let more = new_nets.len() - texts.len();
        new_nets.truncate(LIST_CAP);
        cx.push(
            s,
            CheckId::Pat002,
            format!(
                "read from a network the principal never used in {}: {}{}",
                history(cov.history_days),
                texts.join("; "),
                and_more(more as u64)
            ),
            vec![
                ("reads", json!(new_nets)),
                ("recent_from", json!(fmt(recent_from))),
                ("history_days", json!(cov.history_days)),
            ],
            first_loc.map(|f| f.1),
            None,
        );
    }

    // PAT-003: a recent day far above the principal's own daily mean.
    let mut spikes: Vec<(String, Value, Option<Loc>)> = Vec::new();
    for (name, _, ps) in &pairs {
        let Some(hist_first) = ps.hist_first else {
            continue;
        };
        let Some((day, max)) = ps
            .recent
            .iter()
            .enumerate()
            .max_by_key(|(i, n)| (**n, std::cmp::Reverse(*i)))
            .map(|(i, n)| (i, *n))
        else {
            continue;
        };
        let days = ((recent_from - hist_first) as f64 / DAY as f64).max(1.0);
        let mean = ps.hist_reads as f64 / days;
        if f64::from(max) <= p.spike_factor * mean || max < p.spike_min_reads {
            continue;
        }
        let from = recent_from + day as i64 * DAY;
        spikes.push((
            format!(
                "{name} read it {max} times in the 24 hours from {}, against a mean of {} a day over {} day(s) before",
                fmt(from),
                fmt_num((mean * 10.0).round() / 10.0),
                fmt_num(days.floor())
            ),
            json!({"principal": name, "reads": max, "day_from": fmt(from),
                   "historical_reads": ps.hist_reads, "historical_days": days.floor() as i64,
                   "historical_daily_mean": (mean * 100.0).round() / 100.0}),
            ps.recent_first.map(|f| cx.activity.loc(f.1)),
        ));
    }
    if !spikes.is_empty() {
        let loc = spikes.iter().find_map(|s| s.2.clone());
        let texts: Vec<&str> = spikes.iter().take(LIST_CAP).map(|s| s.0.as_str()).collect();
        cx.push(
            s,
            CheckId::Pat003,
            format!(
                "{} (limits: more than spike_factor {} times the mean, and at least spike_min_reads {})",
                texts.join("; "),
                fmt_num(p.spike_factor),
                p.spike_min_reads
            ),
            vec![
                (
                    "spikes",
                    json!(
                        spikes
                            .iter()
                            .take(LIST_CAP)
                            .map(|s| s.1.clone())
                            .collect::<Vec<_>>()
                    ),
                ),
                ("spike_factor", json!(p.spike_factor)),
                ("spike_min_reads", json!(p.spike_min_reads)),
                ("recent_from", json!(fmt(recent_from))),
            ],
            loc,
            None,
        );
    }
}

/// PAT-004 and PAT-005: every use of root credentials and of break-glass principals, one
/// result per principal (a role for AWS sessions) listing its uses.
fn watched(cx: &mut Ctx) {
    let activity = cx.activity;
    let mut per: BTreeMap<(Watched, String), Vec<&crate::audit::logs::Uses>> = BTreeMap::new();
    for ((w, pid), uses) in &activity.watched {
        per.entry((*w, principal(cx, *pid))).or_default().push(uses);
    }
    for ((w, name), all) in per {
        let count: u64 = all.iter().map(|u| u.count).sum();
        let first = all.iter().map(|u| u.first).min().unwrap_or_default();
        let last = all.iter().map(|u| u.last).max().unwrap_or_default();
        let mut samples: Vec<&crate::audit::logs::Use> =
            all.iter().flat_map(|u| u.samples.iter()).collect();
        samples.sort_by_key(|u| (u.time, u.pos.file, u.pos.line));
        samples.truncate(crate::audit::logs::MAX_USES);
        let providers: Vec<&str> = {
            let mut v: Vec<&str> = samples.iter().map(|u| u.provider.name()).collect();
            v.dedup();
            v
        };
        let what = match w {
            Watched::Root => {
                if samples.iter().all(|u| u.provider == Provider::Vault) {
                    "Vault root token".to_string()
                } else if samples.iter().all(|u| u.provider == Provider::Aws) {
                    "AWS root user".to_string()
                } else {
                    "root credentials".to_string()
                }
            }
            Watched::BreakGlass => {
                let entry = activity
                    .window
                    .patterns
                    .as_ref()
                    .and_then(|p| {
                        p.break_glass(
                            samples
                                .first()
                                .map_or(name.as_str(), |u| u.principal.as_str()),
                            &name,
                        )
                    })
                    .map(|b| b.pattern.clone())
                    .unwrap_or_default();
                format!("break-glass principal (break_glass_principals entry {entry:?})")
            }
        };
        let listed: Vec<String> = samples
            .iter()
            .map(|u| {
                let mut t = format!("{} {}", fmt(u.time), u.what);
                if let Some(src) = &u.source {
                    t.push_str(&format!(" from {src}"));
                }
                if u.principal != name {
                    t.push_str(&format!(" as {}", u.principal));
                }
                t
            })
            .collect();
        let loc = samples.first().map(|u| activity.loc(u.pos));
        let check = match w {
            Watched::Root => CheckId::Pat004,
            Watched::BreakGlass => CheckId::Pat005,
        };
        let subj_loc = loc.clone().unwrap_or_default();
        let subj = Subject {
            id: &name,
            name: &name,
            kind: Kind::Principal,
            class: None,
            class_source: "principal (audit logs)",
            loc: &subj_loc,
        };
        let uses: Vec<Value> = samples
            .iter()
            .map(|u| {
                let l = activity.loc(u.pos);
                json!({"time": fmt(u.time), "call": u.what, "secret": u.secret, "source": u.source,
                       "principal": u.principal, "location": {"file": l.file, "line": l.line}})
            })
            .collect();
        cx.push(
            &subj,
            check,
            format!(
                "{what} used {count} time(s) in the {} logs, {} .. {}: {}{}",
                providers.join(", "),
                fmt(first),
                fmt(last),
                listed.join("; "),
                and_more(count.saturating_sub(listed.len() as u64))
            ),
            vec![
                ("uses", json!(count)),
                ("first", json!(fmt(first))),
                ("last", json!(fmt(last))),
                ("listed", json!(uses)),
            ],
            loc,
            None,
        );
    }
}
