//! GitLab Secret Detection report for an audit (`artifacts:reports:secret_detection`), the same
//! schema as `scan --format gitlab`: one vulnerability per failing (check, secret) result, so a
//! scheduled audit's overdue rotations and leaked live secrets show in GitLab's vulnerability
//! report. The location is the export line the secret was read from (GitLab requires a file,
//! line and commit; an export is no commit, so the commit is the no-git placeholder). Passing,
//! review and exempted results are left out and counted in a scan message.

use super::ReportData;
use crate::audit::checks::Status;
use crate::report::gitlab::{NO_COMMIT, envelope, severity, truncate, uuid_of};
use serde_json::{Value, json};

/// The `--format gitlab` document (serialised by the caller).
pub fn render(r: &ReportData) -> Value {
    let a = r.audit;
    let vulnerabilities: Vec<Value> = (a.outcomes.iter())
        .filter(|o| o.status == Status::Fail)
        .map(|o| {
            let def = o.check.def();
            let file = if o.loc.file.is_empty() {
                "keywarden-audit"
            } else {
                o.loc.file.as_str()
            };
            json!({
                "id": uuid_of(&["audit", o.check.as_str(), &o.secret_id]),
                "category": "secret_detection",
                "name": truncate(&format!("{}: {}", o.check, def.title), 255),
                "description": truncate(&format!("{}\n\nSecret: {}", o.message, o.secret_id), 1 << 20),
                "severity": severity(o.severity),
                "solution": def.fix,
                "location": {
                    "file": file,
                    "start_line": o.loc.line.max(1),
                    "commit": { "sha": NO_COMMIT },
                },
                "identifiers": [{
                    "type": "keywarden_check_id",
                    "name": truncate(&format!("keywarden check {}", o.check), 255),
                    "value": o.check.as_str(),
                }],
            })
        })
        .collect();
    let now = jiff::Timestamp::from_second(a.now).unwrap_or_else(|_| jiff::Timestamp::now());
    let mut messages: Vec<Value> = Vec::new();
    let not_listed = a.outcomes.len() - vulnerabilities.len();
    if not_listed > 0 {
        messages.push(json!({"level": "info", "value": format!(
            "{not_listed} review or exempted results are not listed (see the JSON or SARIF report)")}));
    }
    if !r.bad.is_empty() {
        messages.push(json!({"level": "warn", "value": format!(
            "{} input records could not be read", r.bad.len())}));
    }
    let partial = r.partial_inputs() > 0;
    if partial {
        messages.push(json!({"level": "warn", "value":
            "The audit is partial: some inputs could not be read to their end."}));
    }
    envelope((now, now), !partial, messages, vulnerabilities)
}
