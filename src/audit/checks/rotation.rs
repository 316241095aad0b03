//! ROT: rotation required, its interval, its age, its failures and what is due soon.

use serde_json::json;

use super::{CheckId, Ctx, Input, Secret, Subject, days, fmt_num};
use crate::audit::logs::SecretActivity;
use crate::audit::time::{DAY, fmt, fmt_date};

/// The ROT checks, over the inventory secrets and those only the logs know.
pub fn run(cx: &mut Ctx, input: &Input) {
    for v in &input.secrets {
        secret(cx, v);
    }
    for (s, act) in &input.log_only {
        log_only(cx, s, act);
    }
}

fn secret(cx: &mut Ctx, v: &Secret) {
    let (s, it, act, live) = (&v.subject, v.item, v.act, v.live);
    let (rotated, reference, ref_label) = (&v.rotated, v.reference, v.ref_label);
    let now = cx.now;
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
}

/// A secret only the logs know: a failed rotation shows a schedule even without an
/// inventory entry.
fn log_only(cx: &mut Ctx, s: &Subject, act: &SecretActivity) {
    // A failed rotation in the logs shows a schedule even without an inventory entry.
    if let Some((ft, pos, msg)) = act
        .last_rot_fail
        .as_ref()
        .filter(|f| act.last_rot_ok.is_none_or(|ok| f.0 > ok))
    {
        let loc = cx.activity.loc(*pos);
        cx.push(
            s,
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
