//! USE: unused and never-used secrets, from the store's own usage record or from audit
//! logs that cover the time in question; USE-003 when the logs cannot tell.

use serde_json::{Value, json};

use super::{CheckId, Ctx, Input, Secret, Subject, days};
use crate::audit::model::{Item, Kind, Provider, Usage};
use crate::audit::policy::Class;
use crate::audit::time::{DAY, Secs, fmt, fmt_date};

/// The USE checks, per inventory secret.
pub fn run(cx: &mut Ctx, input: &Input) {
    for v in &input.secrets {
        secret(cx, v);
    }
}

fn secret(cx: &mut Ctx, v: &Secret) {
    let (s, it, act, key_act, live) = (&v.subject, v.item, v.act, v.key_act, v.live);
    let Some(c) = s.class else { return };
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
    // USE-001 / USE-002, or USE-003 when the logs cannot tell.
    if let Some(u) = c.unused_days
        && live
    {
        check_usage(
            cx,
            s,
            it,
            c,
            u,
            provider,
            last_used,
            meta_used,
            v.filter_read,
        );
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
            // USE-002, on the provider's word or on logs covering the secret's whole life.
            let never_used = |cx: &mut Ctx, why: &str, extra: Option<(&'static str, Value)>| {
                let mut evidence = vec![
                    ("created", json!(it.created.map(fmt))),
                    ("last_used", Value::Null),
                    ("limit_days", json!(u)),
                    ("evidence", json!(why)),
                ];
                evidence.extend(extra);
                cx.push(
                    s,
                    CheckId::Use002,
                    format!(
                        "active since {} ({} days) and never used: {why}; class {} allows {u} days",
                        it.created.map(fmt_date).unwrap_or_default(),
                        it.created.map(|cr| days(cr, now)).unwrap_or(0),
                        c.name
                    ),
                    evidence,
                    None,
                    None,
                );
            };
            if it.usage == Usage::Never {
                never_used(cx, "the provider records no use", None);
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
                never_used(
                    cx,
                    "no use in audit logs covering its whole life",
                    Some(("logs_to", json!(fmt(cv.to)))),
                );
            } else {
                cx.push(s, CheckId::Use001, format!("no access in the audit logs from {} to {} (covering more than {u} days); class {} allows {u} days unused", fmt_date(cv.from), fmt_date(cv.to), c.name),
                    vec![("last_used", Value::Null), ("logs_from", json!(fmt(cv.from))), ("logs_to", json!(fmt(cv.to))), ("limit_days", json!(u))], None, None);
            }
        }
    }
}
