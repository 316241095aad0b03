//! Audit logs: one streaming parser per format, reduced on the fly into per-secret and
//! per-access-key activity (memory grows with secrets and keys, not with events).

pub mod azure;
pub mod cloudtrail;
pub mod gcp;
pub mod vault;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;

use serde_json::Value;

use super::input::{self, InputFormat, Parser, Record};
use super::inventory::BadRecord;
use super::model::{AccessOutcome, Action, Event, Loc, Provider, SecretFilter};
use super::policy::Machine;
use super::time::Secs;

/// Position of an event: index into [`Activity::files`] and line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pos {
    pub file: u32,
    pub line: u32,
}

/// Denied attempts kept per secret; beyond this only the count grows (bounds memory).
const MAX_DENIED: usize = 200_000;
/// Distinct secrets, access keys and principals tracked; events beyond are counted as
/// untracked and reported (bounds memory on hostile logs).
pub const MAX_TRACKED: usize = 1_000_000;

#[derive(Debug, Clone, Default)]
pub struct SecretActivity {
    pub provider: Option<Provider>,
    pub last_read_ok: Option<(Secs, Pos)>,
    /// Latest read, successful or not: (time, position, principal, outcome).
    pub last_access: Option<(Secs, Pos, String, AccessOutcome)>,
    /// Latest new value (writes, successful rotations).
    pub last_write: Option<(Secs, String)>,
    pub last_rot_ok: Option<Secs>,
    pub last_rot_fail: Option<(Secs, Pos, String)>,
    pub last_delete: Option<(Secs, Pos)>,
    /// Latest restore or re-creation.
    pub last_restore: Option<Secs>,
    pub denied: Vec<(Secs, u32, Pos)>,
    pub denied_total: u64,
    pub events: u64,
    /// Principals that read it successfully (at most [`MAX_READERS`]), to compare what
    /// access policies grant with what is used.
    pub readers: BTreeSet<String>,
}

/// Distinct readers kept per secret (bounds memory on logs with many principals).
pub const MAX_READERS: usize = 1_000;

#[derive(Debug, Clone, Default)]
pub struct KeyActivity {
    pub count: u64,
    pub first: Secs,
    pub last: (Secs, Pos),
    /// Uses after the leak time of this key (when it is a leaked key).
    pub after_leak: u64,
    pub first_after_leak: Option<(Secs, Pos, String)>,
    /// Calls that came from a workload although signed with a long-term user key.
    pub workload: Option<Box<KeyWorkload>>,
}

/// Distinct workload signs (user agents, sources) kept per key.
pub const MAX_SIGNS: usize = 5;

/// A long-term IAM user key seen signing calls from workloads (MCH-001).
#[derive(Debug, Clone)]
pub struct KeyWorkload {
    pub events: u64,
    pub first: (Secs, Pos),
    pub last: Secs,
    /// What showed the calls came from a workload, first seen first (at most [`MAX_SIGNS`]).
    pub signs: Vec<String>,
    /// The IAM user (or root) the key belongs to, as the first such event names it.
    pub principal: Option<String>,
}

/// Vault tokens of one display name that have no TTL or a TTL above `[machine]
/// max_token_ttl_hours` (MCH-002, MCH-003). Only such tokens are kept.
#[derive(Debug, Clone, Default)]
pub struct TokenStats {
    /// Audit entries that carry such a token.
    pub events: u64,
    /// Of those, entries whose token has no TTL (never expires).
    pub no_ttl: u64,
    /// Longest TTL above the maximum seen, in seconds.
    pub longest: Option<i64>,
    /// Token accessors (HMAC'd unless the device logs them raw), at most [`MAX_SIGNS`].
    pub accessors: Vec<String>,
    pub token_type: Option<String>,
    pub policies: Vec<String>,
    /// First entry with a token without TTL, and first with a TTL above the maximum.
    pub first_no_ttl: Option<(Secs, Pos)>,
    pub first_long: Option<(Secs, Pos)>,
    pub last: Secs,
}

impl TokenStats {
    fn merge(&mut self, o: TokenStats) {
        self.events += o.events;
        self.no_ttl += o.no_ttl;
        self.longest = self.longest.max(o.longest);
        for a in o.accessors {
            if self.accessors.len() < MAX_SIGNS && !self.accessors.contains(&a) {
                self.accessors.push(a);
            }
        }
        self.token_type = self.token_type.take().or(o.token_type);
        if self.policies.is_empty() {
            self.policies = o.policies;
        }
        let earlier = |a: &mut Option<(Secs, Pos)>, b: Option<(Secs, Pos)>| {
            if let Some(b) = b
                && a.is_none_or(|x| b.0 < x.0)
            {
                *a = Some(b);
            }
        };
        earlier(&mut self.first_no_ttl, o.first_no_ttl);
        earlier(&mut self.first_long, o.first_long);
        self.last = self.last.max(o.last);
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Coverage {
    pub from: Secs,
    pub to: Secs,
    pub events: u64,
    /// Value reads seen: without any, the logs may simply not record reads (GCP Data
    /// Access logs off), so their silence says nothing about use.
    pub reads: u64,
}

/// Reads that selected secrets by filter, one entry per distinct filter set.
#[derive(Debug, Clone)]
pub struct FilterRead {
    pub filters: Vec<SecretFilter>,
    pub count: u64,
    /// Successful reads, and the latest of them.
    pub ok: u64,
    pub last_ok: Option<Secs>,
    pub first: Secs,
    pub last: Secs,
    pub pos: Pos,
    pub principals: BTreeSet<String>,
}

/// Distinct filter sets kept; more are counted in the last one's total only.
const MAX_FILTER_SETS: usize = 1_000;
/// Notes kept per run (lossy decoding of log lines); the rest are counted.
const MAX_NOTES: usize = 100;

/// Everything the checks need from the logs.
#[derive(Debug, Default)]
pub struct Activity {
    pub filter_reads: Vec<FilterRead>,
    filter_ids: HashMap<Vec<SecretFilter>, usize>,
    /// Records read but about nothing the audit looks at (other services' calls, Vault
    /// system paths), per provider.
    pub unrelated: BTreeMap<Provider, u64>,
    /// What the readers worked around (lines with bytes that are not UTF-8), for the report.
    pub notes: Vec<BadRecord>,
    pub notes_dropped: u64,
    pub files: Vec<String>,
    pub secrets: HashMap<String, SecretActivity>,
    pub keys: HashMap<String, KeyActivity>,
    pub coverage: BTreeMap<Provider, Coverage>,
    /// Principals interned (denied-burst bookkeeping).
    pub principals: Vec<String>,
    principal_ids: HashMap<String, u32>,
    /// Leaked key ids and their leak time, known before the logs are read.
    pub leaked_keys: HashMap<String, Secs>,
    /// Events not tracked because a limit was reached.
    pub untracked: u64,
    /// `[machine]` settings the log parsers judge events by (set before logs are read).
    pub machine: Machine,
    /// Vault tokens without a TTL or with one above the maximum, by display name.
    pub tokens: HashMap<String, TokenStats>,
}

fn later<T>(slot: &mut Option<T>, t: Secs, get: impl Fn(&T) -> Secs, new: T) {
    if slot.as_ref().is_none_or(|old| get(old) <= t) {
        *slot = Some(new);
    }
}

impl Activity {
    /// No activity yet; `machine` judges the events to come.
    pub fn new(machine: Machine) -> Activity {
        Activity {
            machine,
            ..Activity::default()
        }
    }

    pub fn add_file(&mut self, name: &str) -> u32 {
        self.files.push(name.to_string());
        (self.files.len() - 1) as u32
    }

    pub fn loc(&self, p: Pos) -> Loc {
        Loc {
            file: self.files.get(p.file as usize).cloned().unwrap_or_default(),
            line: p.line as usize,
        }
    }

    fn principal_id(&mut self, p: &str) -> u32 {
        if let Some(id) = self.principal_ids.get(p) {
            return *id;
        }
        let id = self.principals.len() as u32;
        self.principals.push(p.to_string());
        self.principal_ids.insert(p.to_string(), id);
        id
    }

    fn add_filter_read(&mut self, ev: &Event, pos: Pos) {
        let idx = match self.filter_ids.get(&ev.filters) {
            Some(i) => *i,
            None if self.filter_reads.len() < MAX_FILTER_SETS => {
                self.filter_reads.push(FilterRead {
                    filters: ev.filters.clone(),
                    count: 0,
                    ok: 0,
                    last_ok: None,
                    first: ev.time,
                    last: ev.time,
                    pos,
                    principals: BTreeSet::new(),
                });
                self.filter_ids
                    .insert(ev.filters.clone(), self.filter_reads.len() - 1);
                self.filter_reads.len() - 1
            }
            None => self.filter_reads.len() - 1,
        };
        let f = &mut self.filter_reads[idx];
        f.count += 1;
        f.first = f.first.min(ev.time);
        f.last = f.last.max(ev.time);
        if ev.outcome == AccessOutcome::Ok {
            f.ok += 1;
            f.last_ok = f.last_ok.max(Some(ev.time));
        }
        if let Some(p) = &ev.principal
            && f.principals.len() < 5
        {
            f.principals.insert(p.clone());
        }
    }

    /// A note about a record that was read with a workaround.
    pub fn note(&mut self, loc: Loc, text: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(BadRecord { loc, error: text });
        } else {
            self.notes_dropped += 1;
        }
    }

    pub fn add(&mut self, ev: Event, pos: Pos) {
        let cov = self.coverage.entry(ev.provider).or_insert(Coverage {
            from: ev.time,
            to: ev.time,
            events: 0,
            reads: 0,
        });
        cov.from = cov.from.min(ev.time);
        cov.to = cov.to.max(ev.time);
        cov.events += 1;
        if ev.action == Action::Read {
            cov.reads += 1;
        }
        if let Some(k) = &ev.key_id
            && (self.keys.len() < MAX_TRACKED || self.keys.contains_key(k))
        {
            let leak = self.leaked_keys.get(k).copied();
            let ka = self.keys.entry(k.clone()).or_insert_with(|| KeyActivity {
                first: ev.time,
                last: (ev.time, pos),
                ..Default::default()
            });
            ka.count += 1;
            ka.first = ka.first.min(ev.time);
            if ev.time >= ka.last.0 {
                ka.last = (ev.time, pos);
            }
            if let Some(lt) = leak
                && ev.time > lt
            {
                ka.after_leak += 1;
                if ka.first_after_leak.as_ref().is_none_or(|f| ev.time < f.0) {
                    ka.first_after_leak = Some((ev.time, pos, ev.name.clone()));
                }
            }
            if let Some(sign) = &ev.workload {
                let w = ka.workload.get_or_insert_with(|| {
                    Box::new(KeyWorkload {
                        events: 0,
                        first: (ev.time, pos),
                        last: ev.time,
                        signs: Vec::new(),
                        principal: ev.principal.clone(),
                    })
                });
                w.events += 1;
                if ev.time < w.first.0 {
                    w.first = (ev.time, pos);
                }
                w.last = w.last.max(ev.time);
                if w.signs.len() < MAX_SIGNS && !w.signs.iter().any(|x| **x == **sign) {
                    w.signs.push(sign.to_string());
                }
            }
        }
        if !ev.filters.is_empty() {
            self.add_filter_read(&ev, pos);
        }
        let Some(secret) = ev.secret else { return };
        if self.secrets.len() >= MAX_TRACKED && !self.secrets.contains_key(&secret)
            || self.principals.len() >= MAX_TRACKED
        {
            self.untracked += 1;
            return;
        }
        let principal = ev.principal.unwrap_or_else(|| "unknown".into());
        let pid = if ev.outcome == AccessOutcome::Denied {
            Some(self.principal_id(&principal))
        } else {
            None
        };
        let a = self.secrets.entry(secret).or_default();
        a.provider = Some(ev.provider);
        a.events += 1;
        let t = ev.time;
        if let Some(pid) = pid {
            a.denied_total += 1;
            if a.denied.len() < MAX_DENIED {
                a.denied.push((t, pid, pos));
            }
        }
        match ev.action {
            Action::Read => {
                if ev.outcome == AccessOutcome::Ok {
                    later(&mut a.last_read_ok, t, |x| x.0, (t, pos));
                    if principal != "unknown" && a.readers.len() < MAX_READERS {
                        a.readers.insert(principal.clone());
                    }
                }
                later(
                    &mut a.last_access,
                    t,
                    |x| x.0,
                    (t, pos, principal, ev.outcome),
                );
            }
            Action::Write if ev.outcome == AccessOutcome::Ok => {
                later(&mut a.last_write, t, |x| x.0, (t, ev.name))
            }
            Action::Create if ev.outcome == AccessOutcome::Ok => {
                later(&mut a.last_restore, t, |x| *x, t)
            }
            Action::RotationSucceeded => {
                later(&mut a.last_rot_ok, t, |x| *x, t);
                later(&mut a.last_write, t, |x| x.0, (t, ev.name));
            }
            Action::RotationFailed => later(
                &mut a.last_rot_fail,
                t,
                |x| x.0,
                (t, pos, ev.message.unwrap_or(ev.name)),
            ),
            Action::Delete if ev.outcome == AccessOutcome::Ok => {
                later(&mut a.last_delete, t, |x| x.0, (t, pos))
            }
            Action::Restore if ev.outcome == AccessOutcome::Ok => {
                later(&mut a.last_restore, t, |x| *x, t)
            }
            _ => {}
        }
    }
}

/// What a log parser keeps from one record to the next of an input.
#[derive(Default)]
pub struct State {
    /// Records about nothing the audit looks at.
    pub unrelated: u64,
    /// Vault requests waiting for their response.
    pub vault: vault::Pairing,
    /// The `[machine]` settings events are judged by.
    pub machine: Machine,
    /// Vault tokens without a TTL or with one too long, by display name (merged into
    /// [`Activity::tokens`] when the input ends).
    pub tokens: HashMap<String, TokenStats>,
}

impl State {
    /// The events of one record, placed at `pos`; a record with none is unrelated.
    pub fn events(
        &mut self,
        events: Result<Vec<Event>, String>,
        pos: Pos,
    ) -> Result<Vec<(Event, Pos)>, String> {
        let events = events?;
        if events.is_empty() {
            self.unrelated += 1;
        }
        Ok(events.into_iter().map(|e| (e, pos)).collect())
    }

    /// Events held back until the input ends (requests whose response never came).
    pub fn finish(&mut self) -> Vec<(Event, Pos)> {
        self.unrelated += std::mem::take(&mut self.vault.unrelated);
        self.vault.flush()
    }
}

/// Parses one audit log input into `activity`; bad records are reported and skipped.
pub fn load<R: BufRead>(
    format: &'static InputFormat,
    reader: R,
    file: &str,
    activity: &mut Activity,
    bad: &mut Vec<BadRecord>,
) -> std::io::Result<input::Count> {
    let Parser::Log { provider, parse } = format.parser else {
        return Err(std::io::Error::other(format!(
            "{} is not an audit-log format",
            format.name
        )));
    };
    let fidx = activity.add_file(file);
    let mut records = 0usize;
    let mut partial = false;
    let mut state = State {
        machine: activity.machine.clone(),
        ..State::default()
    };
    input::json_records(reader, format.array_keys(), &mut |rec| {
        if matches!(rec, Record::Truncated { .. }) {
            partial = true;
        } else {
            records += 1;
        }
        match rec {
            Record::Ok { value, line, lossy } => {
                if lossy {
                    activity.note(
                        Loc {
                            file: file.to_string(),
                            line,
                        },
                        crate::audit::inventory::LOSSY_NOTE.to_string(),
                    );
                }
                let pos = Pos {
                    file: fidx,
                    line: line.min(u32::MAX as usize) as u32,
                };
                match parse(&value, &mut state, pos) {
                    Ok(evs) => {
                        for (ev, p) in evs {
                            activity.add(ev, p);
                        }
                    }
                    Err(error) => bad.push(BadRecord {
                        loc: Loc {
                            file: file.to_string(),
                            line,
                        },
                        error,
                    }),
                }
            }
            Record::Bad { line, error } | Record::Truncated { line, error } => {
                bad.push(BadRecord {
                    loc: Loc {
                        file: file.to_string(),
                        line,
                    },
                    error,
                })
            }
        }
    })?;
    for (ev, p) in state.finish() {
        activity.add(ev, p);
    }
    if state.unrelated > 0 {
        *activity.unrelated.entry(provider).or_insert(0) += state.unrelated;
    }
    for (name, t) in state.tokens.drain() {
        if activity.tokens.len() < MAX_TRACKED || activity.tokens.contains_key(&name) {
            activity.tokens.entry(name).or_default().merge(t);
        }
    }
    if activity.untracked > 0 {
        bad.push(BadRecord {
            loc: Loc {
                file: file.to_string(),
                line: 0,
            },
            error: format!(
                "{} events not tracked: more than {MAX_TRACKED} distinct secrets or principals",
                activity.untracked
            ),
        });
        activity.untracked = 0;
    }
    Ok(input::Count { records, partial })
}

pub fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str().map(str::trim).filter(|s| !s.is_empty())
}
