//! SARIF 2.1.0: one rule per check, one result per (check, secret), GitHub-compatible
//! (physical location at the input record, partialFingerprints).

use serde_json::{Value, json};
use sha2::Digest;

use super::ReportData;
use crate::audit::checks::{CHECKS, Severity, Status};
use crate::audit::time::fmt;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// Artifact URI: relative to the working directory when possible (code scanning resolves
/// it against the repository root), percent-encoding what a URI cannot hold.
fn uri(file: &str) -> String {
    let mut f = file.replace('\\', "/");
    if let Ok(cwd) = std::env::current_dir() {
        let cwd = cwd.to_string_lossy().replace('\\', "/");
        if let Some(rest) = f.strip_prefix(&format!("{cwd}/")) {
            f = rest.to_string();
        }
    }
    let f = f.strip_prefix("./").unwrap_or(&f);
    let mut out = String::with_capacity(f.len());
    for b in f.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'/'
            | b':'
            | b'@'
            | b'+'
            | b'='
            | b',' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn render(r: &ReportData) -> Value {
    let rules: Vec<Value> = CHECKS
        .iter()
        .map(|c| {
            let controls = c.controls.join("; ");
            json!({
                "id": c.id,
                "name": c.title.replace([' ', '(', ')', ','], ""),
                "shortDescription": {"text": c.title},
                "fullDescription": {"text": format!("{}. Maps to: {controls}.", c.title)},
                "help": {
                    "text": format!("{}\n\nControls: {controls}.", c.fix),
                    "markdown": format!("**How to fix:** {}\n\n**Controls:** {}", c.fix, c.controls.iter().map(|x| format!("- {x}")).collect::<Vec<_>>().join("\n")),
                },
                "defaultConfiguration": {"level": if c.review { "note" } else { level(c.severity) }},
                "properties": {
                    "security-severity": c.severity.security_severity(),
                    "tags": ["security", "secrets", "rotation"],
                    "controls": c.controls,
                },
            })
        })
        .collect();
    let results: Vec<Value> = r
        .audit
        .outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let rule_index = CHECKS.iter().position(|c| c.id == o.check).unwrap_or(0);
            let hash = hex::encode(&sha2::Sha256::digest(format!("{}|{}", o.check, o.secret_id).as_bytes())[..16]);
            let mut res = json!({
                "ruleId": o.check,
                "ruleIndex": rule_index,
                "message": {"text": format!("{}: {}", o.secret_id, o.message)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&o.loc.file)},
                        "region": {"startLine": o.loc.line.max(1)},
                    },
                    "logicalLocations": [{"fullyQualifiedName": o.secret_id, "name": o.name, "kind": "resource"}],
                }],
                "partialFingerprints": {"primaryLocationLineHash": hash, "keywardenAudit/v1": hash},
                "properties": {
                    "secret_id": o.secret_id,
                    "severity": o.severity.as_str(),
                    "class": o.class,
                    "class_source": o.class_source,
                    "kind": o.kind,
                    "evidence": o.evidence,
                    "due": o.due.map(fmt),
                },
            });
            // Against --previous: SARIF's own vocabulary for "new since the baseline".
            if let Some((st, since, days)) = r.state(i) {
                res["baselineState"] = json!(match st {
                    crate::audit::previous::State::New => "new",
                    crate::audit::previous::State::Open => "unchanged",
                });
                res["properties"]["first_seen"] = json!(fmt(since));
                res["properties"]["open_days"] = json!(days);
            }
            match o.status {
                Status::Fail => {
                    res["kind"] = json!("fail");
                    res["level"] = json!(level(o.severity));
                }
                Status::Review => {
                    res["kind"] = json!("review");
                    res["level"] = json!("none");
                }
                Status::Suppressed => {
                    res["kind"] = json!("fail");
                    res["level"] = json!(level(o.severity));
                    let (rf, until, why) = o.exemption.clone().unwrap_or_default();
                    res["suppressions"] = json!([{
                        "kind": "external",
                        "status": "accepted",
                        "justification": format!("{why} (exemption {rf}{})", until.map(|u| format!(", until {u}")).unwrap_or_default()),
                    }]);
                }
            }
            res
        })
        .collect();
    let coverage: serde_json::Map<String, Value> = r
        .coverage
        .iter()
        .map(|(p, c)| {
            (
                p.name().to_string(),
                json!({"from": fmt(c.from), "to": fmt(c.to), "events": c.events,
                       "unrelated_records": r.unrelated.get(p).copied().unwrap_or(0)}),
            )
        })
        .collect();
    let window = match (
        r.coverage.values().map(|c| c.from).min(),
        r.coverage.values().map(|c| c.to).max(),
    ) {
        (Some(f), Some(t)) => json!({"from": fmt(f), "to": fmt(t)}),
        _ => Value::Null,
    };
    let notify = |level: &str, b: &crate::audit::inventory::BadRecord| {
        json!({
            "level": level,
            "message": {"text": b.error},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(&b.loc.file)}, "region": {"startLine": b.loc.line.max(1)}}}],
        })
    };
    let notes: Vec<Value> = (r.bad.iter().take(1000).map(|b| notify("warning", b)))
        .chain(r.notes.iter().take(1000).map(|b| notify("note", b)))
        .collect();
    let now = fmt(r.audit.now);
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "keywarden",
                "informationUri": "https://github.com/keywarden/keywarden",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "automationDetails": {"id": format!("keywarden-audit/{}", &now[..10.min(now.len())])},
            "invocations": [{
                // A partial audit (an input not read to its end) did not run to completion.
                "executionSuccessful": r.partial_inputs() == 0,
                "startTimeUtc": now,
                "endTimeUtc": now,
                "toolExecutionNotifications": notes,
                "properties": {
                    "now": now,
                    "log_window": window,
                    "log_coverage": coverage,
                    "policy": {"source": r.policy_source, "sha256": r.policy_sha256},
                    "inputs": r.inputs.iter().map(|i| json!({"file": i.file, "role": i.role, "format": i.format, "records": i.records, "errors": i.errors, "status": i.status()})).collect::<Vec<_>>(),
                    "partial": r.partial_inputs() > 0,
                },
            }],
            "results": results,
            "properties": {"summary": {
                "partial": r.partial_inputs() > 0,
                "secrets": r.audit.items.len(),
                "fail": r.count(Status::Fail),
                "failing": r.exit_failing(),
                "fail_on": r.fail_on.map(|s| s.as_str()),
                "review": r.count(Status::Review),
                "suppressed": r.count(Status::Suppressed),
            }},
        }],
    })
}
