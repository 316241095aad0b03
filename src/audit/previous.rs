//! Reports over time (`--previous OLD.json`): each result of this run is new or still open
//! (since when), and each result of the previous report that is gone is resolved.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::checks::{CheckResult, Severity};
use super::report::json::SCHEMA;
use super::time::{self, Secs};

/// One result of the previous report.
#[derive(Debug, Clone)]
pub struct PrevResult {
    /// Check id as written (`ROT-001`); with `secret_id`, what identifies a result across runs.
    pub check: String,
    /// The secret's id as written.
    pub secret_id: String,
    /// The secret's display name ("" when absent, as for the fields below).
    pub name: String,
    /// Severity as written (`high`); unknown values sort last.
    pub severity: String,
    /// Status as written (`fail`, `review`, `suppressed`).
    pub status: String,
    /// The result's explanation, as it was.
    pub message: String,
    /// When it was first reported (its own `first_seen`, else the previous report's time).
    pub first_seen: Secs,
}

/// A previous `audit --format json` report.
#[derive(Debug, Clone)]
pub struct Previous {
    file: String,
    now: Secs,
    partial: bool,
    results: HashMap<(String, String), PrevResult>,
    order: Vec<(String, String)>,
}

/// A result of this run against the previous report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not in the previous report.
    New,
    /// In the previous report too (same check and secret id).
    Open,
}

impl State {
    /// The JSON report's `state` value.
    pub fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Open => "open",
        }
    }
}

/// How this run compares with the previous report.
#[derive(Debug, Clone)]
pub struct Changes {
    /// The previous report's path, as given to `--previous`.
    pub file: String,
    /// The previous report's `now`: when it was made.
    pub previous_now: Secs,
    /// The previous report's `summary.partial`: some of its inputs were not fully read.
    pub previous_partial: bool,
    /// Per outcome of this run (same order): new or still open, and since when.
    pub states: Vec<(State, Secs)>,
    /// Results of the previous report not found in this one.
    pub resolved: Vec<PrevResult>,
}

impl Changes {
    /// How many of this run's results are in state `s`.
    pub fn count(&self, s: State) -> usize {
        self.states.iter().filter(|x| x.0 == s).count()
    }
}

impl Previous {
    /// Reads a previous JSON report; anything else is an error naming the file (and line,
    /// for invalid JSON).
    pub fn load(path: &str) -> Result<Previous> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read --previous {path}"))?;
        let text = String::from_utf8_lossy(&bytes);
        let v: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
            anyhow::anyhow!(
                "--previous {path}:{}: not a JSON report ({e}); give an earlier `keywarden audit --format json` output",
                e.line()
            )
        })?;
        if v.get("schema").and_then(Value::as_str) != Some(SCHEMA) {
            bail!(
                "--previous {path}: not a keywarden audit JSON report (schema {SCHEMA} expected); give an earlier `keywarden audit --format json` output"
            );
        }
        let now = v
            .get("now")
            .and_then(time::parse_value)
            .with_context(|| format!("--previous {path}: the report has no valid \"now\""))?;
        let Some(list) = v.get("results").and_then(Value::as_array) else {
            bail!("--previous {path}: the report has no \"results\" list");
        };
        let mut results = HashMap::new();
        let mut order = Vec::new();
        for (i, r) in list.iter().enumerate() {
            let get = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let (check, secret_id) = (get("check"), get("secret_id"));
            if check.is_empty() || secret_id.is_empty() {
                bail!("--previous {path}: results[{i}] has no check or secret_id");
            }
            let first_seen = r
                .get("first_seen")
                .and_then(time::parse_value)
                .filter(|t| *t <= now)
                .unwrap_or(now);
            let key = (check.clone(), secret_id.clone());
            if !results.contains_key(&key) {
                order.push(key.clone());
            }
            results.insert(
                key,
                PrevResult {
                    check,
                    secret_id,
                    name: get("name"),
                    severity: get("severity"),
                    status: get("status"),
                    message: get("message"),
                    first_seen,
                },
            );
        }
        Ok(Previous {
            file: path.to_string(),
            now,
            partial: v
                .pointer("/summary/partial")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            results,
            order,
        })
    }

    /// Compares this run's outcomes with the previous results.
    pub fn compare(&self, outcomes: &[CheckResult], now: Secs) -> Changes {
        let mut seen = std::collections::HashSet::new();
        let states = outcomes
            .iter()
            .map(|o| {
                let key = (o.check.to_string(), o.secret_id.clone());
                let st = match self.results.get(&key) {
                    Some(p) => (State::Open, p.first_seen.min(now)),
                    None => (State::New, now),
                };
                seen.insert(key);
                st
            })
            .collect();
        let mut resolved: Vec<PrevResult> = self
            .order
            .iter()
            .filter(|k| !seen.contains(*k))
            .filter_map(|k| self.results.get(k).cloned())
            .collect();
        resolved.sort_by(|a, b| {
            sev_rank(&b.severity)
                .cmp(&sev_rank(&a.severity))
                .then_with(|| a.check.cmp(&b.check))
                .then_with(|| a.secret_id.cmp(&b.secret_id))
        });
        Changes {
            file: self.file.clone(),
            previous_now: self.now,
            previous_partial: self.partial,
            states,
            resolved,
        }
    }
}

fn sev_rank(s: &str) -> Option<Severity> {
    Severity::parse(s)
}
