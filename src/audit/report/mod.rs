//! Reports: JSON (canonical, versioned), text, Markdown, HTML, SARIF 2.1.0, JUnit XML and
//! GitLab.

pub mod gitlab;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod text;

use std::collections::BTreeMap;

use super::checks::{Audit, CheckId, CheckResult, Severity, Status};
use super::inventory::BadRecord;
use super::logs::Coverage;
use super::model::Provider;
use super::time::Secs;

/// One input as read.
#[derive(Debug, Clone)]
pub struct InputInfo {
    /// The path as given (`stdin` for `-`).
    pub file: String,
    /// The option it was given to: `findings`, `inventory`, `log` or `policy-doc`.
    pub role: &'static str,
    /// The format it was read as; `empty`, `unknown` (not opened) or `cloudtrail-digest` when
    /// it was not parsed.
    pub format: &'static str,
    /// Records read, unusable ones included (a truncated last record is not counted).
    pub records: usize,
    /// Input errors (bad records, read failures) attributed to it.
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

/// Everything a report format renders: the audit's results and how its inputs were read.
pub struct ReportData<'a> {
    /// The items, results and coverage of the run.
    pub audit: &'a Audit,
    /// How this run compares with `--previous` (None without it).
    pub changes: Option<super::previous::Changes>,
    /// Every input in the order given, role by role.
    pub inputs: Vec<InputInfo>,
    /// Input errors: records and inputs that could not be used, with where they are.
    pub bad: Vec<BadRecord>,
    /// The time window and event counts of each provider's audit logs.
    pub coverage: BTreeMap<Provider, Coverage>,
    /// The `--policy` file's path as given, or `built-in`.
    pub policy_source: String,
    /// Hex SHA-256 of the built-in policy text followed by the user's, if any.
    pub policy_sha256: String,
    /// The `--fail-on` threshold; None for `--fail-on none` (no result sets the exit code).
    pub fail_on: Option<Severity>,
    /// Records read with a workaround and kept (lossy UTF-8), with where they are.
    pub notes: Vec<BadRecord>,
    /// Notes not kept (over the per-run cap), only counted.
    pub notes_dropped: u64,
    /// Log records about nothing the audit looks at, per provider.
    pub unrelated: BTreeMap<Provider, u64>,
}

/// A secret to rotate first, with why.
#[derive(Debug, Clone)]
pub struct Priority {
    /// The secret's id, as in its results.
    pub secret_id: String,
    /// What the secret is when its id does not say (a leaked credential's rule and place).
    pub name: String,
    /// Sum of its failing checks' weights plus a tenth of its days overdue; higher ranks first.
    pub score: i64,
    /// The weighted checks it fails, in result order.
    pub checks: Vec<CheckId>,
    /// The message of its heaviest check.
    pub reason: String,
    /// The first due date among its results (in result order); None if none has one.
    pub due: Option<Secs>,
    /// Weight of the check whose message is the reason.
    top: i64,
}

impl ReportData<'_> {
    /// `--fail-on high` / `--fail-on none`: the threshold as the user wrote it.
    pub fn fail_on_label(&self) -> String {
        format!(
            "--fail-on {}",
            self.fail_on.map(|s| s.as_str()).unwrap_or("none")
        )
    }

    /// The counts every format states the same way: results that *fail the policy*
    /// (JSON `summary.fail`) and, of those, the ones *failing at --fail-on* (JSON
    /// `summary.failing`), which alone decide the exit code.
    pub fn totals(&self, strong: &str) -> String {
        format!(
            "{}{} audited: {} results fail the policy, {strong}{} failing at {}{strong} (these set the exit code); {} to review, {} suppressed; {} input errors, {} input notes.",
            self.audit.items.len(),
            match self.audit.stores {
                0 => " secrets".to_string(),
                n => format!(" secrets and the settings of {n} store(s)"),
            },
            self.count(Status::Fail),
            self.exit_failing(),
            self.fail_on_label(),
            self.count(Status::Review),
            self.count(Status::Suppressed),
            self.bad.len(),
            self.notes.len() as u64 + self.notes_dropped,
        )
    }

    /// One provider's log window with what was skipped, shaped `N events; M records skipped
    /// as unrelated`.
    pub fn coverage_counts(&self, p: Provider) -> String {
        let events = self.coverage.get(&p).map_or(0, |c| c.events);
        let unrelated = self.unrelated.get(&p).copied().unwrap_or(0);
        let mut s = format!("{events} events; {unrelated} records skipped as unrelated");
        if let Some(n) = self.audit.usage_not_covered.get(&p) {
            s.push_str(&format!(
                "; too short to judge the usage of {n} secret(s) without usage metadata"
            ));
        }
        if let Some(why) = self
            .audit
            .pattern_coverage
            .get(&p)
            .and_then(|c| c.not_evaluated.as_ref())
        {
            s.push_str(&format!(
                "; access patterns (PAT-001..003) not evaluated: {why}"
            ));
        }
        s
    }

    /// A provider's access-pattern coverage as JSON (`coverage.<provider>.access_patterns`).
    pub fn pattern_json(&self, p: Provider) -> serde_json::Value {
        match self.audit.pattern_coverage.get(&p) {
            None => serde_json::Value::Null,
            Some(c) => serde_json::json!({
                "evaluated": c.not_evaluated.is_none(),
                "recent_from": super::time::fmt(c.recent_from),
                "history_days": c.history_days,
                "not_evaluated": c.not_evaluated,
            }),
        }
    }

    /// Providers whose logs were given: with events, or only with unrelated records.
    pub fn log_providers(&self) -> Vec<Provider> {
        let mut v: Vec<Provider> = self.coverage.keys().copied().collect();
        for p in self.unrelated.keys() {
            if !v.contains(p) {
                v.push(*p);
            }
        }
        v.sort();
        v
    }

    /// Each check that has results, with how to fix it.
    pub fn fixes(&self) -> Vec<(CheckId, &'static str)> {
        self.by_check()
            .into_keys()
            .map(|k| (k, k.def().fix))
            .collect()
    }

    /// This result's state against `--previous`: (new/open, since, days open).
    pub fn state(&self, index: usize) -> Option<(super::previous::State, Secs, i64)> {
        let c = self.changes.as_ref()?;
        let (st, since) = *c.states.get(index)?;
        Some((st, since, super::time::days_between(since, self.audit.now)))
    }

    /// Inputs that could not be read to their end: the audit does not cover all the data.
    pub fn partial_inputs(&self) -> usize {
        self.inputs.iter().filter(|i| i.partial).count()
    }

    /// Inputs whose [`InputInfo::status`] is `status`.
    pub fn inputs_with(&self, status: &str) -> usize {
        self.inputs.iter().filter(|i| i.status() == status).count()
    }

    /// Results that are not suppressed (failing or to review).
    pub fn active(&self) -> impl Iterator<Item = &CheckResult> {
        self.audit
            .outcomes
            .iter()
            .filter(|o| o.status != Status::Suppressed)
    }

    /// Whether a result fails the policy at or above `--fail-on` (these set the exit code).
    pub fn failing(&self, o: &CheckResult) -> bool {
        o.status == Status::Fail && self.fail_on.is_some_and(|f| o.severity >= f)
    }

    /// Results [`failing`](Self::failing) at `--fail-on`: the exit code is 1 when there are any.
    pub fn exit_failing(&self) -> usize {
        self.audit
            .outcomes
            .iter()
            .filter(|o| self.failing(o))
            .count()
    }

    /// Results with status `st`.
    pub fn count(&self, st: Status) -> usize {
        self.audit
            .outcomes
            .iter()
            .filter(|o| o.status == st)
            .count()
    }

    /// Results that fail the policy, per severity (suppressed and review ones not counted).
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

    /// Results per check: (fail, review, suppressed).
    pub fn by_check(&self) -> BTreeMap<CheckId, (usize, usize, usize)> {
        let mut m: BTreeMap<CheckId, (usize, usize, usize)> = BTreeMap::new();
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
                CheckId::Leak002 => 1000,
                CheckId::Leak001 => 800,
                CheckId::Leak003 => 600,
                // A production value that a non-production principal has held is exposed
                // to a less protected environment; a value shared between services is
                // rotated to give each its own.
                CheckId::Sep001 => 140,
                CheckId::Shr001 => 120,
                CheckId::Shr002 => 100,
                CheckId::Exp002 => 300,
                CheckId::Rot004 => 250,
                CheckId::Rot003 => 200,
                CheckId::Inv001 => 150,
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
                name: o.name.clone(),
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
