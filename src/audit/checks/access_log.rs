//! ACC: what the audit logs show about access itself: reads after deletion (ACC-001) and
//! bursts of denied attempts (ACC-002).

use std::collections::BTreeMap;

use serde_json::json;

use super::{CheckId, Ctx, Input, Subject, effective_deletion};
use crate::audit::logs::{Pos, SecretActivity};
use crate::audit::model::AccessOutcome as EvOutcome;
use crate::audit::time::{DAY, Secs, fmt};

/// The ACC checks, over the inventory secrets and those only the logs know.
pub fn run(cx: &mut Ctx, input: &Input) {
    let now = cx.now;
    for v in &input.secrets {
        check_access(cx, &v.subject, v.act, v.item.deleted.filter(|d| *d <= now));
    }
    for (s, act) in &input.log_only {
        check_access(cx, s, act, None);
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
