//! Reports: JSON (canonical, versioned), text, Markdown, SARIF 2.1.0 and JUnit XML.

pub mod gitlab;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod text;

use std::collections::BTreeMap;

use super::checks::{Audit, CheckResult, Severity, Status};
use super::inventory::BadRecord;
use super::logs::Coverage;
use super::model::Provider;
use super::time::Secs;

/// One input as read.
#[derive(Debug, Clone)]
pub struct InputInfo {
    pub file: String,
    pub role: &'static str,
    pub format: &'static str,
    pub records: usize,
    pub errors: usize,
    /// Not read to its end (truncated JSON, a truncated or corrupt `.gz`, a read error).
    pub partial: bool,
    /// Deliberately not audited (CloudTrail digest files).
    pub skipped: bool,
}

impl InputInfo {
    /// `partial`, `skipped`, `empty` (read completely, nothing in it) or `ok`.
    pub fn status(&self) -> &'static str {
        if self.partial {
            "partial"
        } else if self.skipped {
            "skipped"
        } else if self.records == 0 && self.errors == 0 {
            "empty"
        } else {
            "ok"
        }
    }
}

pub struct ReportData<'a> {
    pub audit: &'a Audit,
    pub inputs: Vec<InputInfo>,
    pub bad: Vec<BadRecord>,
    pub coverage: BTreeMap<Provider, Coverage>,
    pub policy_source: String,
    pub policy_sha256: String,
    pub fail_on: Option<Severity>,
}

/// A secret to rotate first, with why.
#[derive(Debug, Clone)]
pub struct Priority {
    pub secret_id: String,
    pub score: i64,
    pub checks: Vec<&'static str>,
    pub reason: String,
    pub due: Option<Secs>,
    /// Weight of the check whose message is the reason.
    top: i64,
}

impl ReportData<'_> {
    /// Inputs that could not be read to their end: the audit does not cover all the data.
    pub fn partial_inputs(&self) -> usize {
        self.inputs.iter().filter(|i| i.partial).count()
    }

    pub fn inputs_with(&self, status: &str) -> usize {
        self.inputs.iter().filter(|i| i.status() == status).count()
    }

    pub fn active(&self) -> impl Iterator<Item = &CheckResult> {
        self.audit
            .outcomes
            .iter()
            .filter(|o| o.status != Status::Suppressed)
    }

    pub fn failing(&self, o: &CheckResult) -> bool {
        o.status == Status::Fail && self.fail_on.is_some_and(|f| o.severity >= f)
    }

    pub fn exit_failing(&self) -> usize {
        self.audit
            .outcomes
            .iter()
            .filter(|o| self.failing(o))
            .count()
    }

    pub fn count(&self, st: Status) -> usize {
        self.audit
            .outcomes
            .iter()
            .filter(|o| o.status == st)
            .count()
    }

    pub fn by_severity(&self) -> BTreeMap<Severity, usize> {
        let mut m = BTreeMap::new();
        for o in self
            .audit
            .outcomes
            .iter()
            .filter(|o| o.status == Status::Fail)
        {
            *m.entry(o.severity).or_insert(0) += 1;
        }
        m
    }

    pub fn by_check(&self) -> BTreeMap<&'static str, (usize, usize, usize)> {
        let mut m: BTreeMap<&'static str, (usize, usize, usize)> = BTreeMap::new();
        for o in &self.audit.outcomes {
            let e = m.entry(o.check).or_default();
            match o.status {
                Status::Fail => e.0 += 1,
                Status::Review => e.1 += 1,
                Status::Suppressed => e.2 += 1,
            }
        }
        m
    }

    /// Leaked-and-live first, then overdue, ranked by risk.
    pub fn rotate_first(&self) -> Vec<Priority> {
        let mut per: BTreeMap<&str, Priority> = BTreeMap::new();
        for o in self
            .audit
            .outcomes
            .iter()
            .filter(|o| o.status == Status::Fail)
        {
            let w = match o.check {
                "LEAK-002" => 1000,
                "LEAK-001" => 800,
                "LEAK-003" => 600,
                "SHR-001" => 120,
                "EXP-002" => 300,
                "ROT-004" => 250,
                "ROT-003" => 200,
                "INV-001" => 150,
                _ => continue,
            };
            let overdue_days = o
                .evidence
                .get("age_days")
                .and_then(|v| v.as_i64())
                .zip(o.evidence.get("max_age_days").and_then(|v| v.as_i64()))
                .map_or(0, |(a, m)| (a - m).clamp(0, 3650));
            let p = per.entry(o.secret_id.as_str()).or_insert_with(|| Priority {
                secret_id: o.secret_id.clone(),
                score: 0,
                checks: Vec::new(),
                reason: String::new(),
                due: None,
                top: 0,
            });
            p.score += w + overdue_days / 10;
            if !p.checks.contains(&o.check) {
                p.checks.push(o.check);
            }
            if w > p.top {
                p.top = w;
                p.reason = o.message.clone();
            }
            p.due = p.due.or(o.due);
        }
        let mut v: Vec<Priority> = per.into_values().collect();
        v.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then_with(|| a.secret_id.cmp(&b.secret_id))
        });
        v
    }
}
