//! Shared helpers for the audit integration tests.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use keywarden::audit::{AuditArgs, run};
use std::io::Write;
use std::path::Path;

use serde_json::Value;

pub const NOW: &str = "2026-11-01T00:00:00Z";
pub const ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";

pub fn fx(rel: &str) -> String {
    let p: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        "audit",
        rel,
    ]
    .iter()
    .collect();
    p.to_string_lossy().into_owned()
}

pub struct Report {
    pub code: i32,
    /// The JSON report, or `Null` when the run wrote none (what `json.is_null()` asserts).
    pub json: Value,
}

impl Report {
    /// The report's results; a run that wrote no report fails the test here, so that a
    /// "must not fire" assertion cannot pass on a missing report.
    fn results(&self) -> &Vec<Value> {
        match self.json["results"].as_array() {
            Some(r) => r,
            None => panic!("the audit wrote no report (exit code {})", self.code),
        }
    }
    fn set(&self, status: &str) -> BTreeSet<(String, String)> {
        self.results()
            .iter()
            .filter(|r| r["status"] == status)
            .map(|r| {
                (
                    r["check"].as_str().unwrap_or("").to_string(),
                    r["secret_id"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }
    pub fn fails(&self) -> BTreeSet<(String, String)> {
        self.set("fail")
    }
    pub fn reviews(&self) -> BTreeSet<(String, String)> {
        self.set("review")
    }
    pub fn suppressed(&self) -> BTreeSet<(String, String)> {
        self.set("suppressed")
    }
    pub fn errors(&self) -> Vec<(String, u64)> {
        self.results();
        self.json["input_errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["file"]
                        .as_str()
                        .unwrap_or("")
                        .rsplit('/')
                        .next()
                        .unwrap_or("")
                        .to_string(),
                    e["line"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    }
    pub fn result(&self, check: &str, id: &str) -> Value {
        self.results()
            .iter()
            .find(|r| r["check"] == check && r["secret_id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    }
}

pub fn expect(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(c, i)| (c.to_string(), i.to_string()))
        .collect()
}

pub fn args(
    inv: &[String],
    logs: &[String],
    findings: &[String],
    policy: Option<String>,
) -> AuditArgs {
    AuditArgs {
        inventory: inv.to_vec(),
        log: logs.to_vec(),
        findings: findings.to_vec(),
        policy_doc: Vec::new(),
        previous: None,
        policy,
        now: Some(NOW.to_string()),
        format: "json".into(),
        output: None,
        fail_on: "high".into(),
        allow_partial: false,
    }
}

/// Runs the library entry point with JSON output to a temporary file.
pub fn audit_with(mut a: AuditArgs) -> Report {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report.json");
    a.output = Some(out.to_string_lossy().into_owned());
    a.format = "json".into();
    let code = run(&a).expect("run");
    let json = std::fs::read_to_string(&out)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    Report { code, json }
}

pub fn audit(inv: &[String], logs: &[String], findings: &[String]) -> Report {
    audit_with(args(inv, logs, findings, None))
}

pub fn policy_file(dir: &tempfile::TempDir, text: &str) -> String {
    let p = dir.path().join("policy.toml");
    std::fs::write(&p, text).expect("write policy");
    p.to_string_lossy().into_owned()
}

pub fn write(dir: &Path, name: &str, data: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, data).expect("write fixture");
    p.to_string_lossy().into_owned()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("gz");
    gz.finish().expect("gz")
}

/// Runs with another report format; returns the exit code and the report text.
pub fn audit_as(mut a: keywarden::audit::AuditArgs, format: &str) -> (i32, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report");
    a.output = Some(out.to_string_lossy().into_owned());
    a.format = format.into();
    let code = keywarden::audit::run(&a).expect("run");
    (code, std::fs::read_to_string(&out).unwrap_or_default())
}

pub fn input<'a>(r: &'a Report, file_suffix: &str) -> &'a Value {
    r.json["inputs"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|i| i["file"].as_str().is_some_and(|f| f.ends_with(file_suffix)))
        })
        .unwrap_or(&Value::Null)
}
