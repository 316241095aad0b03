//! GitLab Secret Detection report (`artifacts:reports:secret_detection`), security report
//! schema 15.0.7: findings show in merge requests, pipelines and the vulnerability report.
//!
//! Secrets appear only as findings carry them (redacted unless `--show-secrets`). Suppressed
//! findings are left out: GitLab has no notion of an accepted finding and would show one as
//! open; a scan message counts them. Each vulnerability's `id` is derived from the secret's
//! fingerprint, the rule and the path, so GitLab tracks the same leak across pipelines.

use super::ScanReport;
use crate::pipeline::finding::Finding;
use crate::rules::{Rule, Severity};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The schema version the report declares (and is tested against, `tests/data/gitlab/`).
pub const VERSION: &str = "15.0.7";
const SCHEMA_URI: &str = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v15.0.7/dist/secret-detection-report-format.json";
/// The commit a finding outside git history is attributed to, when the scanned tree's revision
/// is unknown: the schema requires one, and GitLab's own analyzer writes this for no-git scans.
pub const NO_COMMIT: &str = "0000000";

const ADVICE: &str = "Revoke or rotate the credential at its provider first (removing it from the code does not make it safe: it stays in history), then remove it from the code and load it from a secrets manager or environment.";

pub(crate) fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

/// A UUID-shaped id from the value fingerprint, the rule and the path (never the value), with
/// the occurrence number appended when the same secret repeats in one file under one rule.
pub fn vulnerability_id(f: &Finding, occurrence: usize) -> String {
    let n = occurrence.to_string();
    let fp = crate::pipeline::fingerprint::tracking_key(&f.fingerprint);
    let mut parts = vec![fp.as_ref(), f.rule_id.as_str(), f.path.as_str()];
    if occurrence > 0 {
        parts.push(&n);
    }
    uuid_of(&parts)
}

/// A UUID-shaped id hashed from `parts` (GitLab tracks a vulnerability across pipelines by it).
pub fn uuid_of(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(b"keywarden-gitlab");
    for p in parts {
        h.update(b"\0");
        h.update(p.as_bytes());
    }
    let x = hex::encode(&h.finalize()[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// `yyyy-mm-ddThh:mm:ss` in UTC, the only form the schema accepts.
fn gitlab_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn vulnerability(f: &Finding, occurrence: usize, rule: Option<&Rule>, tree_commit: &str) -> Value {
    let desc = match rule {
        Some(r) if !r.description.is_empty() => r.description.clone(),
        _ => f.rule_name.clone(),
    };
    let mut where_ = format!("{}:{}", f.path, f.line);
    if let Some(c) = &f.commit {
        where_.push_str(&format!(" in commit {}", &c.id[..c.id.len().min(12)]));
    }
    let mut description = format!("{desc}\n\nFound at {where_}: `{}`.", f.secret);
    if let Some(d) = &f.decoded {
        description.push_str(&format!(" Decoded from {d}."));
    }
    if let Some(h) = &f.history {
        description.push_str(&format!(" {}.", super::leak_advice(h)));
    }
    let mut commit = json!({ "sha": tree_commit });
    if let Some(c) = &f.commit {
        commit = json!({
            "sha": c.id,
            "author": format!("{} <{}>", c.author_name, c.author_email),
            "date": c.author_date,
            "message": c.summary,
        });
    }
    let mut links: Vec<Value> = Vec::new();
    if let Some(r) = rule {
        for u in &r.references {
            if u.starts_with("https://") || u.starts_with("http://") {
                links.push(json!({ "url": u }));
            }
        }
    }
    let mut v = json!({
        "id": vulnerability_id(f, occurrence),
        "category": "secret_detection",
        "name": truncate(&f.rule_name, 255),
        "description": truncate(&description, 1 << 20),
        "severity": severity(f.severity),
        "solution": ADVICE,
        "location": {
            "file": f.path,
            "start_line": f.line,
            "end_line": f.end_line,
            "commit": commit,
        },
        "identifiers": [{
            "type": "keywarden_rule_id",
            "name": truncate(&format!("keywarden rule {}", f.rule_id), 255),
            "value": f.rule_id,
        }],
        "raw_source_code_extract": f.secret,
    });
    if !links.is_empty() {
        v["links"] = Value::Array(links);
    }
    v
}

fn build(r: &ScanReport) -> Value {
    let by_id: HashMap<&str, &Rule> = r.rules.iter().map(|x| (x.id.as_str(), x)).collect();
    let tree_commit = r
        .vcs
        .as_ref()
        .and_then(|v| v.revision_id.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| NO_COMMIT.to_string());
    let mut seen: HashMap<(&str, &str, &str), usize> = HashMap::new();
    let vulnerabilities: Vec<Value> = r
        .findings
        .iter()
        .map(|f| {
            let n = seen
                .entry((&f.fingerprint, &f.rule_id, &f.path))
                .or_insert(0);
            let occurrence = *n;
            *n += 1;
            vulnerability(
                f,
                occurrence,
                by_id.get(f.rule_id.as_str()).copied(),
                &tree_commit,
            )
        })
        .collect();

    let start = r
        .scan_time
        .parse::<jiff::Timestamp>()
        .unwrap_or_else(|_| jiff::Timestamp::now());
    let end = start
        .checked_add(jiff::SignedDuration::from_millis(
            r.summary.elapsed_ms.min(i64::MAX as u64) as i64,
        ))
        .unwrap_or(start);

    let mut messages: Vec<Value> = Vec::new();
    for m in &r.summary.error_messages {
        if !m.is_empty() {
            messages.push(json!({ "level": "warn", "value": m }));
        }
    }
    let listed = r.summary.error_messages.len() as u64;
    if r.summary.errors > listed {
        messages.push(json!({ "level": "warn", "value": format!(
            "{} more inputs could not be read", r.summary.errors - listed) }));
    }
    if !r.summary.complete {
        messages.push(json!({ "level": "warn", "value":
            "The scan is incomplete: some inputs could not be read, so no findings there is not a clean result." }));
    }
    if !r.suppressed.is_empty() {
        messages.push(json!({ "level": "info", "value": format!(
            "{} suppressed (baseline, ignore file or inline) and not listed here",
            super::Summary::count(r.suppressed.len() as u64, "finding was", "findings were")) }));
    }

    envelope((start, end), r.summary.complete, messages, vulnerabilities)
}

/// The report around its vulnerabilities: schema version, the tool, the run's times and
/// status (`failure` when the run could not read all its input) and its messages.
pub fn envelope(
    (start, end): (jiff::Timestamp, jiff::Timestamp),
    complete: bool,
    messages: Vec<Value>,
    vulnerabilities: Vec<Value>,
) -> Value {
    let tool = json!({
        "id": "keywarden",
        "name": "keywarden",
        "url": "https://github.com/keywarden/keywarden",
        "version": env!("CARGO_PKG_VERSION"),
        "vendor": { "name": "keywarden" },
    });
    let mut scan = json!({
        "analyzer": tool,
        "scanner": tool,
        "type": "secret_detection",
        "start_time": gitlab_time(start),
        "end_time": gitlab_time(end),
        "status": if complete { "success" } else { "failure" },
    });
    if !messages.is_empty() {
        scan["messages"] = Value::Array(messages);
    }
    json!({
        "version": VERSION,
        "schema": SCHEMA_URI,
        "scan": scan,
        "vulnerabilities": vulnerabilities,
    })
}

pub(crate) fn write(r: &ScanReport, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build(r))?;
    writeln!(out)?;
    Ok(())
}
