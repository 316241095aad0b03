//! SARIF 2.1.0: one rule per check, one result per (check, secret), GitHub-compatible
//! (physical location at the input record, partialFingerprints). Built with the same typed
//! SARIF model, severity levels and property bags as the scan's SARIF.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString,
    Notification, PhysicalLocation, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultKind, ResultLevel, Run, RunAutomationDetails, Sarif, Suppression,
    Tool, ToolComponent,
};
use sha2::Digest;

use super::ReportData;
use crate::audit::checks::{CHECKS, CheckDef, CheckResult, Status};
use crate::audit::inventory::BadRecord;
use crate::audit::previous::State;
use crate::audit::time::fmt;
use crate::report::sarif::{SCHEMA_URI, bag, result_level};

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

fn physical(file: &str, line: usize) -> PhysicalLocation {
    PhysicalLocation::builder()
        .artifact_location(ArtifactLocation::builder().uri(uri(file)).build())
        .region(Region::builder().start_line(line.max(1) as i64).build())
        .build()
}

fn props(entries: Vec<(&str, Value)>) -> BTreeMap<String, Value> {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

fn descriptor(c: &CheckDef) -> ReportingDescriptor {
    let controls = c.controls.join("; ");
    let level = if c.review {
        "note"
    } else {
        c.severity.sarif_level()
    };
    let tags = ["security", "secrets", "rotation"]
        .map(String::from)
        .to_vec();
    let properties = props(vec![
        ("security-severity", json!(c.severity.security_severity())),
        ("controls", json!(c.controls)),
    ]);
    let markdown = format!(
        "**How to fix:** {}\n\n**Controls:** {}",
        c.fix,
        c.controls
            .iter()
            .map(|x| format!("- {x}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    ReportingDescriptor::builder()
        .id(c.id.as_str())
        .name(c.title.replace([' ', '(', ')', ','], ""))
        .short_description(MultiformatMessageString::builder().text(c.title).build())
        .full_description(
            MultiformatMessageString::builder()
                .text(format!("{}. Maps to: {controls}.", c.title))
                .build(),
        )
        .help(
            MultiformatMessageString::builder()
                .text(format!("{}\n\nControls: {controls}.", c.fix))
                .markdown(markdown)
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level))
                .build(),
        )
        .properties(bag(Some(tags), properties))
        .build()
}

fn result(r: &ReportData, i: usize, o: &CheckResult) -> SarifResult {
    let rule_index = CHECKS.iter().position(|c| c.id == o.check).unwrap_or(0);
    let hash =
        hex::encode(&sha2::Sha256::digest(format!("{}|{}", o.check, o.secret_id).as_bytes())[..16]);
    let location = Location::builder()
        .physical_location(physical(&o.loc.file, o.loc.line))
        .logical_locations(vec![
            LogicalLocation::builder()
                .fully_qualified_name(o.secret_id.as_str())
                .name(o.name.as_str())
                .kind("resource")
                .build(),
        ])
        .build();
    let mut properties = props(vec![
        ("secret_id", json!(o.secret_id)),
        ("severity", json!(o.severity.as_str())),
        ("class", json!(o.class)),
        ("class_source", json!(o.class_source)),
        ("kind", json!(o.kind)),
        ("evidence", json!(o.evidence)),
        ("due", json!(o.due.map(fmt))),
    ]);
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert("primaryLocationLineHash".to_string(), hash.clone());
    fingerprints.insert("keywardenAudit/v1".to_string(), hash);
    // Against --previous: SARIF's own vocabulary for "new since the baseline".
    let baseline = r.state(i).map(|(st, since, days)| {
        properties.insert("first_seen".into(), json!(fmt(since)));
        properties.insert("open_days".into(), json!(days));
        json!(match st {
            State::New => "new",
            State::Open => "unchanged",
        })
    });
    let mut res = SarifResult::builder()
        .rule_id(o.check.as_str())
        .rule_index(rule_index as i64)
        .message(
            Message::builder()
                .text(format!("{}: {}", o.secret_id, o.message))
                .build(),
        )
        .locations(vec![location])
        .partial_fingerprints(fingerprints)
        .properties(bag(None, properties))
        .build();
    res.baseline_state = baseline;
    let (kind, level) = match o.status {
        Status::Fail | Status::Suppressed => (ResultKind::Fail, result_level(o.severity)),
        Status::Review => (ResultKind::Review, ResultLevel::None),
    };
    res.kind = Some(kind);
    res.level = Some(level);
    if o.status == Status::Suppressed {
        let (rf, until, why) = o.exemption.clone().unwrap_or_default();
        let mut sup = Suppression::builder()
            .kind(json!("external"))
            .status(json!("accepted"))
            .build();
        sup.justification = Some(format!(
            "{why} (exemption {rf}{})",
            until.map(|u| format!(", until {u}")).unwrap_or_default()
        ));
        res.suppressions = Some(vec![sup]);
    }
    res
}

fn notification(level: &str, b: &BadRecord) -> Notification {
    Notification::builder()
        .level(json!(level))
        .message(Message::builder().text(b.error.as_str()).build())
        .locations(vec![
            Location::builder()
                .physical_location(physical(&b.loc.file, b.loc.line))
                .build(),
        ])
        .build()
}

/// The `--format sarif` log, one run (serialised by the caller).
pub fn build(r: &ReportData) -> Sarif {
    let coverage: serde_json::Map<String, Value> = r
        .coverage
        .iter()
        .map(|(p, c)| {
            (
                p.name().to_string(),
                json!({"from": fmt(c.from), "to": fmt(c.to), "events": c.events,
                       "unrelated_records": r.unrelated.get(p).copied().unwrap_or(0),
                       "access_patterns": r.pattern_json(*p)}),
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
    let notes: Vec<Notification> = (r.bad.iter().take(1000))
        .map(|b| notification("warning", b))
        .chain(r.notes.iter().take(1000).map(|b| notification("note", b)))
        .collect();
    let now = fmt(r.audit.now);
    let partial = r.partial_inputs() > 0;
    let inputs: Vec<Value> = r
        .inputs
        .iter()
        .map(|i| json!({"file": i.file, "role": i.role, "format": i.format, "records": i.records, "errors": i.errors, "status": i.status()}))
        .collect();
    let mut invocation = Invocation::builder()
        // A partial audit (an input not read to its end) did not run to completion.
        .execution_successful(!partial)
        .start_time_utc(now.as_str())
        .end_time_utc(now.as_str())
        .properties(bag(
            None,
            props(vec![
                ("now", json!(now)),
                ("log_window", window),
                ("log_coverage", Value::Object(coverage)),
                (
                    "policy",
                    json!({"source": r.policy_source, "sha256": r.policy_sha256}),
                ),
                ("inputs", json!(inputs)),
                ("partial", json!(partial)),
            ]),
        ))
        .build();
    invocation.tool_execution_notifications = Some(notes);
    let driver = ToolComponent::builder()
        .name("keywarden")
        .information_uri("https://github.com/keywarden/keywarden")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(CHECKS.iter().map(descriptor).collect::<Vec<_>>())
        .build();
    let summary = json!({
        "partial": partial,
        "secrets": r.audit.items.len(),
        "fail": r.count(Status::Fail),
        "failing": r.exit_failing(),
        "fail_on": r.fail_on.map(|s| s.as_str()),
        "review": r.count(Status::Review),
        "suppressed": r.count(Status::Suppressed),
    });
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .automation_details(
            RunAutomationDetails::builder()
                .id(format!("keywarden-audit/{}", &now[..10.min(now.len())]))
                .build(),
        )
        .invocations(vec![invocation])
        .results(
            r.audit
                .outcomes
                .iter()
                .enumerate()
                .map(|(i, o)| result(r, i, o))
                .collect::<Vec<_>>(),
        )
        .properties(bag(None, props(vec![("summary", summary)])))
        .build();
    Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Severity;

    #[test]
    fn result_levels_come_from_the_shared_severity_table() {
        for s in Severity::ALL {
            assert_eq!(json!(result_level(s)), json!(s.sarif_level()), "{s}");
        }
    }
}
