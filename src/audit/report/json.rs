//! The JSON report, schema `keywarden/audit/v1` (documented in docs/audit.md).

use serde_json::{Value, json};

use super::ReportData;
use crate::audit::checks::Status;
use crate::audit::previous::State;
use crate::audit::time::fmt;

/// The report's `schema` value; `--previous` reads only reports that carry it.
pub const SCHEMA: &str = "keywarden/audit/v1";

/// The `--format json` document (serialised by the caller).
pub fn render(r: &ReportData) -> Value {
    let a = r.audit;
    let results: Vec<Value> = a
        .outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let d = o.check.def();
            let state = r.state(i);
            json!({
                "check": o.check,
                "title": d.title,
                "secret_id": o.secret_id,
                "name": o.name,
                "kind": o.kind,
                "class": o.class,
                "class_source": o.class_source,
                "status": o.status,
                "severity": o.severity,
                "failing": r.failing(o),
                "message": o.message,
                "fix": d.fix,
                "evidence": o.evidence,
                "due": o.due.map(fmt),
                "location": {"file": o.loc.file, "line": o.loc.line},
                "controls": d.controls,
                "exemption": o.exemption.as_ref().map(|(r, u, why)| json!({"ref": r, "until": u, "reason": why})),
                "expired_exemption": o.expired_exemption.as_ref().map(|(r, u)| json!({"ref": r, "until": u})),
                "state": state.map(|s| s.0.as_str()),
                "first_seen": fmt(state.map_or(a.now, |s| s.1)),
                "open_days": state.map_or(0, |s| s.2),
            })
        })
        .collect();
    let by_check: serde_json::Map<String, Value> = r
        .by_check()
        .into_iter()
        .map(|(k, (f, rv, s))| {
            (
                k.to_string(),
                json!({"fail": f, "review": rv, "suppressed": s}),
            )
        })
        .collect();
    let by_sev: serde_json::Map<String, Value> = r
        .by_severity()
        .into_iter()
        .map(|(k, v)| (k.as_str().to_string(), json!(v)))
        .collect();
    json!({
        "schema": SCHEMA,
        "now": fmt(a.now),
        "policy": {"source": r.policy_source, "sha256": r.policy_sha256},
        "fail_on": r.fail_on.map(|s| s.as_str()),
        "inputs": r.inputs.iter().map(|i| json!({"file": i.file, "role": i.role, "format": i.format, "records": i.records, "errors": i.errors, "status": i.status()})).collect::<Vec<_>>(),
        "coverage": r.log_providers().into_iter().map(|p| {
            let c = r.coverage.get(&p);
            (p.name().to_string(), json!({
                "from": c.map(|c| fmt(c.from)),
                "to": c.map(|c| fmt(c.to)),
                "events": c.map_or(0, |c| c.events),
                "unrelated_records": r.unrelated.get(&p).copied().unwrap_or(0),
                "usage_not_evaluated": a.usage_not_covered.get(&p).copied().unwrap_or(0),
                "access_patterns": r.pattern_json(p),
            }))
        }).collect::<serde_json::Map<_, _>>(),
        "filter_reads": a.filter_reads.iter().map(|f| json!({
            "event": "BatchGetSecretValue",
            "filters": f.filters,
            "count": f.count,
            "succeeded": f.ok,
            "first": fmt(f.first),
            "last": fmt(f.last),
            "principals": f.principals,
            "could_cover": f.could_cover,
            "could_cover_total": f.could_cover_total,
            "location": {"file": f.loc.file, "line": f.loc.line},
        })).collect::<Vec<_>>(),
        "input_errors": r.bad.iter().map(|b| json!({"file": b.loc.file, "line": b.loc.line, "error": b.error})).collect::<Vec<_>>(),
        "input_notes": r.notes.iter().map(|b| json!({"file": b.loc.file, "line": b.loc.line, "note": b.error})).collect::<Vec<_>>(),
        "summary": {
            "partial": r.partial_inputs() > 0,
            "partial_inputs": r.partial_inputs(),
            "empty_inputs": r.inputs_with("empty"),
            "skipped_inputs": r.inputs_with("skipped"),
            "secrets": a.items.len(),
            "stores": a.stores,
            "leak_findings": a.leaks_total,
            "results": a.outcomes.len(),
            "fail": r.count(Status::Fail),
            "review": r.count(Status::Review),
            "suppressed": r.count(Status::Suppressed),
            "failing": r.exit_failing(),
            "input_errors": r.bad.len(),
            "input_notes": r.notes.len() as u64 + r.notes_dropped,
            "by_severity": by_sev,
            "by_check": by_check,
        },
        "secrets": a.items.iter().zip(&a.classes).map(|(it, (class, why))| json!({"id": it.id, "name": it.name, "kind": it.kind, "class": class, "class_source": why, "location": {"file": it.loc.file, "line": it.loc.line}})).collect::<Vec<_>>(),
        "changes": r.changes.as_ref().map(|c| json!({
            "previous": {"file": c.file, "now": fmt(c.previous_now), "partial": c.previous_partial},
            "new": c.count(State::New),
            "open": c.count(State::Open),
            "resolved": c.resolved.len(),
            "resolved_results": c.resolved.iter().map(|p| json!({
                "check": p.check,
                "secret_id": p.secret_id,
                "name": p.name,
                "severity": p.severity,
                "status": p.status,
                "message": p.message,
                "first_seen": fmt(p.first_seen),
                "last_seen": fmt(c.previous_now),
            })).collect::<Vec<_>>(),
        })),
        "access": a.access.as_ref().map(|t| json!({
            "grants": t.grants,
            "principals": t.principals,
            "secrets_without_readers": t.unreached,
            "secrets": t.rows.iter().map(|row| json!({
                "secret_id": row.secret_id,
                "name": row.name,
                "readers": row.readers.iter().map(|x| json!({
                    "principal": x.principal,
                    "via": x.via,
                    "location": {"file": x.loc.file, "line": x.loc.line},
                    "read_in_logs": x.used,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })),
        "rotate_first": r.rotate_first().iter().enumerate().map(|(i, p)| json!({"rank": i + 1, "secret_id": p.secret_id, "name": p.name, "score": p.score, "checks": p.checks, "reason": p.reason, "due": p.due.map(fmt)})).collect::<Vec<_>>(),
        "results": results,
    })
}
