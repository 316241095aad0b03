//! The JSON report, schema `keywarden/audit/v1` (documented in docs/audit.md).

use serde_json::{Value, json};

use super::ReportData;
use crate::audit::checks::{self, Status};
use crate::audit::time::fmt;

pub const SCHEMA: &str = "keywarden/audit/v1";

pub fn render(r: &ReportData) -> Value {
    let a = r.audit;
    let results: Vec<Value> = a
        .outcomes
        .iter()
        .map(|o| {
            let d = checks::def(o.check);
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
                "evidence": o.evidence,
                "due": o.due.map(fmt),
                "location": {"file": o.loc.file, "line": o.loc.line},
                "controls": d.controls,
                "exemption": o.exemption.as_ref().map(|(r, u, why)| json!({"ref": r, "until": u, "reason": why})),
                "expired_exemption": o.expired_exemption.as_ref().map(|(r, u)| json!({"ref": r, "until": u})),
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
        "coverage": r.coverage.iter().map(|(p, c)| (p.name().to_string(), json!({"from": fmt(c.from), "to": fmt(c.to), "events": c.events}))).collect::<serde_json::Map<_, _>>(),
        "input_errors": r.bad.iter().map(|b| json!({"file": b.loc.file, "line": b.loc.line, "error": b.error})).collect::<Vec<_>>(),
        "summary": {
            "partial": r.partial_inputs() > 0,
            "partial_inputs": r.partial_inputs(),
            "empty_inputs": r.inputs_with("empty"),
            "skipped_inputs": r.inputs_with("skipped"),
            "secrets": a.items.len(),
            "leak_findings": a.leaks_total,
            "results": a.outcomes.len(),
            "fail": r.count(Status::Fail),
            "review": r.count(Status::Review),
            "suppressed": r.count(Status::Suppressed),
            "failing": r.exit_failing(),
            "input_errors": r.bad.len(),
            "by_severity": by_sev,
            "by_check": by_check,
        },
        "rotate_first": r.rotate_first().iter().enumerate().map(|(i, p)| json!({"rank": i + 1, "secret_id": p.secret_id, "score": p.score, "checks": p.checks, "reason": p.reason, "due": p.due.map(fmt)})).collect::<Vec<_>>(),
        "results": results,
    })
}
