//! EXP: an expiry where the class requires one, and secrets still enabled past it.

use serde_json::{Value, json};

use super::{CheckId, Ctx, Input, Secret, days};
use crate::audit::time::{fmt, fmt_date};

/// The EXP checks, per inventory secret.
pub fn run(cx: &mut Ctx, input: &Input) {
    for v in &input.secrets {
        secret(cx, v);
    }
}

fn secret(cx: &mut Ctx, v: &Secret) {
    let (s, it, live) = (&v.subject, v.item, v.live);
    let now = cx.now;
    if let Some(c) = s.class {
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
}
