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
use super::policy::{AccessPatterns, Machine, canonical_principal};
use super::time::{DAY, Secs};

/// Position of an event: index into [`Activity::files`] and line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pos {
    /// Index into [`Activity::files`].
    pub file: u32,
    /// 1-based line where the record starts.
    pub line: u32,
}

/// Denied attempts kept per secret; beyond this only the count grows (bounds memory).
const MAX_DENIED: usize = 200_000;
/// Distinct secrets, access keys and principals tracked; events beyond are counted as
/// untracked and reported (bounds memory on hostile logs).
pub const MAX_TRACKED: usize = 1_000_000;

/// What the audit logs show about one secret, as they name it.
#[derive(Debug, Clone, Default)]
pub struct SecretActivity {
    /// Whose logs name it; None when none does.
    pub provider: Option<Provider>,
    /// The latest successful read, and where it is logged.
    pub last_read_ok: Option<(Secs, Pos)>,
    /// Latest read, successful or not: (time, position, principal, outcome).
    pub last_access: Option<(Secs, Pos, String, AccessOutcome)>,
    /// Latest new value (writes, successful rotations).
    pub last_write: Option<(Secs, String)>,
    /// The latest successful rotation.
    pub last_rot_ok: Option<Secs>,
    /// The latest failed rotation: (time, where it is logged, the log's message, else the
    /// call's name).
    pub last_rot_fail: Option<(Secs, Pos, String)>,
    /// The latest successful deletion, and where it is logged.
    pub last_delete: Option<(Secs, Pos)>,
    /// Latest restore or re-creation.
    pub last_restore: Option<Secs>,
    /// Denied attempts: (time, principal index in [`Activity::principals`], where it is
    /// logged); at most `MAX_DENIED`, the first ones read.
    pub denied: Vec<(Secs, u32, Pos)>,
    /// Every denied attempt, including those beyond `denied`.
    pub denied_total: u64,
    /// Events about it, of any action and outcome.
    pub events: u64,
    /// Principals that read it successfully (at most [`MAX_READERS`]), to compare what
    /// access policies grant with what is used.
    pub readers: BTreeSet<String>,
    /// Successful reads per principal (by [`Activity::principals`] index, the principal in
    /// its lasting form: an assumed role, not its session), for the access-pattern and
    /// separation checks.
    pub pairs: HashMap<u32, PairStats>,
}

/// One principal's successful reads of one secret, split at the start of the recent period.
#[derive(Debug, Clone, Default)]
pub struct PairStats {
    /// Successful reads in all, history and recent.
    pub reads: u64,
    /// The first read (and where it is logged) and the last.
    pub first: (Secs, Pos),
    /// The last read.
    pub last: Secs,
    /// Reads before the recent period, and the first of them.
    pub hist_reads: u64,
    /// The first read before the recent period; None without any.
    pub hist_first: Option<Secs>,
    /// Reads in each day of the recent period (empty while there is none).
    pub recent: Vec<u32>,
    /// The first recent read, and where it is logged; None without any.
    pub recent_first: Option<(Secs, Pos)>,
    /// Networks of the recent reads: (network, first read, where, reads); at most
    /// [`MAX_PAIR_NETS`].
    pub recent_nets: Vec<(Net, Secs, Pos, u32)>,
}

impl PairStats {
    /// Adds another tally of the same principal and secret (the same secret under another
    /// name in the logs).
    pub fn merge(&mut self, o: &PairStats) {
        if self.reads == 0 || o.first.0 < self.first.0 {
            self.first = o.first;
        }
        self.reads += o.reads;
        self.last = self.last.max(o.last);
        self.hist_reads += o.hist_reads;
        self.hist_first = match (self.hist_first, o.hist_first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if self.recent.len() < o.recent.len() {
            self.recent.resize(o.recent.len(), 0);
        }
        for (a, b) in self.recent.iter_mut().zip(&o.recent) {
            *a = a.saturating_add(*b);
        }
        if let Some(f) = o.recent_first
            && self.recent_first.is_none_or(|s| f.0 < s.0)
        {
            self.recent_first = Some(f);
        }
        for n in &o.recent_nets {
            add_net(&mut self.recent_nets, *n);
        }
    }
}

/// Adds reads from one network to a pair's recent networks (kept: the earliest read).
fn add_net(nets: &mut Vec<(Net, Secs, Pos, u32)>, n: (Net, Secs, Pos, u32)) {
    if let Some(m) = nets.iter_mut().find(|m| m.0 == n.0) {
        if n.1 < m.1 {
            (m.1, m.2) = (n.1, n.2);
        }
        m.3 = m.3.saturating_add(n.3);
    } else if nets.len() < MAX_PAIR_NETS {
        nets.push(n);
    }
}

/// Recent networks kept per (principal, secret).
pub const MAX_PAIR_NETS: usize = 8;
/// Principals tracked per secret for access patterns; reads by more are counted only.
pub const MAX_PAIRS: usize = 100_000;
/// Uses of root credentials or break-glass principals kept per principal (all are counted).
pub const MAX_USES: usize = 20;

/// A source network: the /24 of an IPv4 address, the /48 of an IPv6 address, or a name
/// the log gives instead of an address (an AWS service, `private`), by index into
/// [`Activity::net_names`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Net {
    /// An IPv4 /24: the address with its last octet zeroed.
    V4(u32),
    /// An IPv6 /48: the address's first 48 bits.
    V6(u64),
    /// A name, by index into [`Activity::net_names`].
    Name(u32),
}

/// A source address as a network, or a name: `203.0.113.7` → /24, `2001:db8:1:2::5` → /48
/// (an IPv4-mapped IPv6 address is IPv4), `10.0.0.5:41234` and `[2001:db8::1]:443` lose
/// their port, anything else (`lambda.amazonaws.com`) is a name.
pub fn parse_net(s: &str) -> Option<Result<Net, String>> {
    use std::net::{IpAddr, SocketAddr};
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let ip = s
        .parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()));
    let v4 = |a: std::net::Ipv4Addr| Net::V4(u32::from(a) & 0xFFFF_FF00);
    Some(match ip {
        Some(IpAddr::V4(a)) => Ok(v4(a)),
        Some(IpAddr::V6(a)) => match a.to_ipv4_mapped() {
            Some(m) => Ok(v4(m)),
            None => Ok(Net::V6((u128::from(a) >> 80) as u64)),
        },
        None => Err(s.chars().take(253).collect::<String>().to_ascii_lowercase()),
    })
}

/// A root-credential or break-glass principal's uses.
#[derive(Debug, Clone, Default)]
pub struct Uses {
    /// Uses in all (`samples` keeps the earliest).
    pub count: u64,
    /// The earliest use.
    pub first: Secs,
    /// The latest use.
    pub last: Secs,
    /// The earliest uses (at most [`MAX_USES`]).
    pub samples: Vec<Use>,
}

/// One use of root credentials or of a break-glass principal.
#[derive(Debug, Clone)]
pub struct Use {
    /// When it happened.
    pub time: Secs,
    /// Where it is logged.
    pub pos: Pos,
    /// Whose log it is in.
    pub provider: Provider,
    /// The call (`GetSecretValue`, `update sys/policy/admin`) and the secret, when any.
    pub what: String,
    /// The secret it was about; None for a call about none.
    pub secret: Option<String>,
    /// Where the call came from ([`Event::source`]).
    pub source: Option<String>,
    /// The principal as logged (a session, where the use is grouped by its role).
    pub principal: String,
}

impl Uses {
    fn add(&mut self, u: Use) {
        if self.count == 0 {
            (self.first, self.last) = (u.time, u.time);
        }
        self.count += 1;
        self.first = self.first.min(u.time);
        self.last = self.last.max(u.time);
        if self.samples.len() < MAX_USES {
            self.samples.push(u);
        } else if let Some(latest) = self.samples.iter_mut().max_by_key(|x| x.time)
            && u.time < latest.time
        {
            *latest = u;
        }
    }
}

/// What the access-pattern checks need while the logs stream: where the recent period
/// starts, and which principals are break-glass.
#[derive(Debug, Clone)]
pub struct Window {
    /// The end of the recent period: the audit's `--now`.
    pub now: Secs,
    /// Length of the recent period, in days (`[access_patterns] recent_days`).
    pub recent_days: u32,
    /// The policy's access patterns (break-glass principals); None judges no one
    /// break-glass.
    pub patterns: Option<AccessPatterns>,
}

impl Default for Window {
    fn default() -> Window {
        Window {
            now: Secs::MAX / 4,
            recent_days: 7,
            patterns: None,
        }
    }
}

impl Window {
    /// The recent period of `patterns` up to `now`.
    pub fn new(now: Secs, patterns: &AccessPatterns) -> Window {
        Window {
            now,
            recent_days: patterns.recent_days,
            patterns: Some(patterns.clone()),
        }
    }

    /// The first second of the recent period.
    pub fn recent_start(&self) -> Secs {
        self.now - i64::from(self.recent_days) * DAY
    }
}

/// Whose use is reported whenever it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Watched {
    /// Root credentials (Vault root token, AWS root user).
    Root,
    /// A principal in `break_glass_principals`.
    BreakGlass,
}

/// Distinct readers kept per secret (bounds memory on logs with many principals).
pub const MAX_READERS: usize = 1_000;

/// One access key's calls (CloudTrail `userIdentity.accessKeyId`), whatever the service.
#[derive(Debug, Clone, Default)]
pub struct KeyActivity {
    /// Calls signed with it.
    pub count: u64,
    /// The earliest call.
    pub first: Secs,
    /// The latest call, and where it is logged.
    pub last: (Secs, Pos),
    /// Uses after the leak time of this key (when it is a leaked key).
    pub after_leak: u64,
    /// The first use after the leak: (time, where it is logged, the call's name).
    pub first_after_leak: Option<(Secs, Pos, String)>,
    /// Calls that came from a workload although signed with a long-term user key.
    pub workload: Option<Box<KeyWorkload>>,
}

/// Distinct workload signs (user agents, sources) kept per key.
pub const MAX_SIGNS: usize = 5;

/// A long-term IAM user key seen signing calls from workloads (MCH-001).
#[derive(Debug, Clone)]
pub struct KeyWorkload {
    /// Such calls in all.
    pub events: u64,
    /// The first of them, and where it is logged.
    pub first: (Secs, Pos),
    /// The latest of them.
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
    /// The tokens' `token_type` (`service`, `batch`), from the first entry that gives one.
    pub token_type: Option<String>,
    /// The tokens' policies, from the first entry that lists any (at most 10).
    pub policies: Vec<String>,
    /// First entry with a token without TTL, and first with a TTL above the maximum.
    pub first_no_ttl: Option<(Secs, Pos)>,
    /// The first entry with a TTL above the maximum, and where it is logged.
    pub first_long: Option<(Secs, Pos)>,
    /// The latest such entry.
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

/// The span of one provider's logs and what they hold.
#[derive(Debug, Clone, Copy)]
pub struct Coverage {
    /// The earliest event.
    pub from: Secs,
    /// The latest event.
    pub to: Secs,
    /// Events read from them.
    pub events: u64,
    /// Value reads seen: without any, the logs may simply not record reads (GCP Data
    /// Access logs off), so their silence says nothing about use.
    pub reads: u64,
}

/// Reads that selected secrets by filter, one entry per distinct filter set.
#[derive(Debug, Clone)]
pub struct FilterRead {
    /// The filter set.
    pub filters: Vec<SecretFilter>,
    /// Reads with it, whatever their outcome.
    pub count: u64,
    /// Successful reads, and the latest of them.
    pub ok: u64,
    /// The latest successful read; None without any.
    pub last_ok: Option<Secs>,
    /// The earliest read.
    pub first: Secs,
    /// The latest read.
    pub last: Secs,
    /// Where the first of them, in reading order, is logged.
    pub pos: Pos,
    /// Who made them (at most five).
    pub principals: BTreeSet<String>,
}

/// Distinct filter sets kept; more are counted in the last one's total only.
const MAX_FILTER_SETS: usize = 1_000;
/// Notes kept per run (lossy decoding of log lines); the rest are counted.
const MAX_NOTES: usize = 100;

/// Everything the checks need from the logs.
#[derive(Debug, Default)]
pub struct Activity {
    /// Reads that selected secrets by filter, one per filter set (at most
    /// `MAX_FILTER_SETS`; reads with further sets count in the last one).
    pub filter_reads: Vec<FilterRead>,
    filter_ids: HashMap<Vec<SecretFilter>, usize>,
    /// Records read but about nothing the audit looks at (other services' calls, Vault
    /// system paths), per provider.
    pub unrelated: BTreeMap<Provider, u64>,
    /// What the readers worked around (lines with bytes that are not UTF-8), for the report.
    pub notes: Vec<BadRecord>,
    /// Notes beyond `MAX_NOTES`, counted only.
    pub notes_dropped: u64,
    /// The log inputs read, as named; [`Pos::file`] indexes it.
    pub files: Vec<String>,
    /// Per secret reference as the logs name it (normalised per provider): its activity.
    pub secrets: HashMap<String, SecretActivity>,
    /// Per access key id: its calls.
    pub keys: HashMap<String, KeyActivity>,
    /// Per provider with logs: their span and what they hold.
    pub coverage: BTreeMap<Provider, Coverage>,
    /// Principals interned (denied-burst bookkeeping).
    pub principals: Vec<String>,
    principal_ids: HashMap<String, u32>,
    /// Leaked key ids and their leak time, known before the logs are read.
    pub leaked_keys: HashMap<String, Secs>,
    /// Events not tracked because a limit was reached.
    pub untracked: u64,
    /// Where the recent period starts, and who is break-glass.
    pub window: Window,
    /// Names given as source addresses ([`Net::Name`]).
    pub net_names: Vec<String>,
    net_name_ids: HashMap<String, u32>,
    /// Per (principal, network): the first successful event from it.
    pub net_first: HashMap<(u32, Net), Secs>,
    /// Per principal (index): the first successful event.
    pub principal_first: Vec<Secs>,
    /// Per principal (index): 0 not yet looked at, 1 break-glass, 2 not.
    break_glass: Vec<u8>,
    /// Uses of root credentials and of break-glass principals, per (what, principal index).
    pub watched: BTreeMap<(Watched, u32), Uses>,
    /// Successful reads not tracked for access patterns (limits reached).
    pub pattern_untracked: u64,
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
    /// Activity that splits reads at `window`'s recent period; `machine` judges the events
    /// to come.
    pub fn new(window: Window, machine: Machine) -> Activity {
        Activity {
            window,
            machine,
            ..Activity::default()
        }
    }

    fn add_file(&mut self, name: &str) -> u32 {
        self.files.push(name.to_string());
        (self.files.len() - 1) as u32
    }

    /// Where `p` is: the log input as named, and the line.
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

    fn net(&mut self, source: &str) -> Option<Net> {
        match parse_net(source)? {
            Ok(n) => Some(n),
            Err(name) => {
                if let Some(id) = self.net_name_ids.get(&name) {
                    return Some(Net::Name(*id));
                }
                if self.net_names.len() >= MAX_TRACKED {
                    return None;
                }
                let id = self.net_names.len() as u32;
                self.net_names.push(name.clone());
                self.net_name_ids.insert(name, id);
                Some(Net::Name(id))
            }
        }
    }

    /// A network as reports show it: `203.0.113.0/24`, `2001:db8:1::/48`, or the name.
    pub fn net_label(&self, n: Net) -> String {
        match n {
            Net::V4(a) => format!("{}/24", std::net::Ipv4Addr::from(a)),
            Net::V6(p) => format!("{}/48", std::net::Ipv6Addr::from(u128::from(p) << 80)),
            Net::Name(i) => self.net_names.get(i as usize).cloned().unwrap_or_default(),
        }
    }

    fn is_break_glass(&mut self, pid: u32, raw: &str, canonical: &str) -> bool {
        let Some(p) = &self.window.patterns else {
            return false;
        };
        if p.break_glass.is_empty() {
            return false;
        }
        let i = pid as usize;
        if self.break_glass.len() <= i {
            self.break_glass.resize(i + 1, 0);
        }
        if self.break_glass[i] == 0 {
            self.break_glass[i] = if p.break_glass(raw, canonical).is_some() {
                1
            } else {
                2
            };
        }
        self.break_glass[i] == 1
    }

    /// Per-principal bookkeeping of one event: root and break-glass uses, the principal's
    /// first successful event and networks. Returns the principal's index and the network
    /// of a successful event, for the per-secret reads.
    fn add_principal(&mut self, ev: &Event, pos: Pos) -> (Option<u32>, Option<Net>) {
        let Some(raw) = ev.principal.as_deref() else {
            return (None, None);
        };
        let canonical = canonical_principal(raw);
        if self.principals.len() >= MAX_TRACKED && !self.principal_ids.contains_key(&*canonical) {
            return (None, None);
        }
        let pid = self.principal_id(&canonical);
        let mut watched = [None, None];
        if ev.root {
            watched[0] = Some(Watched::Root);
        }
        if self.is_break_glass(pid, raw, &canonical) {
            watched[1] = Some(Watched::BreakGlass);
        }
        for w in watched.into_iter().flatten() {
            let what = match &ev.secret {
                Some(s) => format!("{} on {s}", ev.name),
                None => ev.name.clone(),
            };
            self.watched.entry((w, pid)).or_default().add(Use {
                time: ev.time,
                pos,
                provider: ev.provider,
                what,
                secret: ev.secret.clone(),
                source: ev.source.clone(),
                principal: raw.to_string(),
            });
        }
        if ev.outcome != AccessOutcome::Ok {
            return (Some(pid), None);
        }
        let i = pid as usize;
        if self.principal_first.len() <= i {
            self.principal_first.resize(i + 1, Secs::MAX);
        }
        self.principal_first[i] = self.principal_first[i].min(ev.time);
        let net = ev.source.as_deref().and_then(|s| self.net(s));
        if let Some(net) = net {
            if let Some(t) = self.net_first.get_mut(&(pid, net)) {
                *t = (*t).min(ev.time);
            } else if self.net_first.len() < MAX_TRACKED {
                self.net_first.insert((pid, net), ev.time);
            }
        }
        (Some(pid), net)
    }

    /// A note about a record that was read with a workaround.
    pub fn note(&mut self, loc: Loc, text: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(BadRecord { loc, error: text });
        } else {
            self.notes_dropped += 1;
        }
    }

    fn add(&mut self, ev: Event, pos: Pos) {
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
        let (pattern_pid, net) = self.add_principal(&ev, pos);
        let Some(secret) = ev.secret else { return };
        if self.secrets.len() >= MAX_TRACKED && !self.secrets.contains_key(&secret)
            || self.principals.len() >= MAX_TRACKED
        {
            self.untracked += 1;
            return;
        }
        let recent_start = self.window.recent_start();
        let recent_days = self.window.recent_days as usize;
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
                    if let Some(pid) = pattern_pid {
                        if a.pairs.len() < MAX_PAIRS || a.pairs.contains_key(&pid) {
                            let ps = a.pairs.entry(pid).or_default();
                            count_read(ps, t, pos, net, recent_start, recent_days);
                        } else {
                            self.pattern_untracked += 1;
                        }
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

/// One successful read by a principal of a secret: history or recent (per day, and from
/// which network).
fn count_read(
    ps: &mut PairStats,
    t: Secs,
    pos: Pos,
    net: Option<Net>,
    recent_start: Secs,
    recent_days: usize,
) {
    if ps.reads == 0 || t < ps.first.0 {
        ps.first = (t, pos);
    }
    ps.reads += 1;
    ps.last = ps.last.max(t);
    if t < recent_start {
        ps.hist_reads += 1;
        ps.hist_first = Some(ps.hist_first.map_or(t, |f| f.min(t)));
        return;
    }
    if ps.recent.is_empty() {
        ps.recent = vec![0; recent_days.max(1)];
    }
    // Reads logged after --now count in the last day.
    let day = (((t - recent_start) / DAY) as usize).min(ps.recent.len() - 1);
    ps.recent[day] = ps.recent[day].saturating_add(1);
    if ps.recent_first.is_none_or(|f| t < f.0) {
        ps.recent_first = Some((t, pos));
    }
    if let Some(n) = net {
        add_net(&mut ps.recent_nets, (n, t, pos, 1));
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
    if activity.pattern_untracked > 0 {
        let n = std::mem::take(&mut activity.pattern_untracked);
        activity.note(
            Loc {
                file: file.to_string(),
                line: 0,
            },
            format!(
                "{n} successful reads not tracked for access patterns: more than {MAX_PAIRS} principals read one secret"
            ),
        );
    }
    Ok(input::Count { records, partial })
}

pub(crate) fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_str().map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_addresses_become_networks() {
        let label = |s: &str| {
            let mut a = Activity::default();
            let n = a.net(s)?;
            Some(a.net_label(n))
        };
        assert_eq!(label("203.0.113.7").as_deref(), Some("203.0.113.0/24"));
        assert_eq!(label("10.0.0.5:41234").as_deref(), Some("10.0.0.0/24"));
        assert_eq!(
            label("::ffff:198.51.100.9").as_deref(),
            Some("198.51.100.0/24")
        );
        assert_eq!(
            label("2001:db8:10:2::9").as_deref(),
            Some("2001:db8:10::/48")
        );
        assert_eq!(
            label("[2001:db8:99::7]:443").as_deref(),
            Some("2001:db8:99::/48")
        );
        assert_eq!(
            label("Lambda.amazonaws.com").as_deref(),
            Some("lambda.amazonaws.com")
        );
        assert_eq!(label("  "), None);
        assert_eq!(parse_net("10.1.2.3"), parse_net("10.1.2.250"));
        assert_ne!(parse_net("10.1.2.3"), parse_net("10.1.3.3"));
    }

    #[test]
    fn recent_reads_are_counted_per_day_and_history_apart() {
        let start = 1_000 * DAY;
        let mut ps = PairStats::default();
        let pos = Pos::default();
        count_read(&mut ps, start - 10, pos, None, start, 7);
        count_read(&mut ps, start + 10, pos, Some(Net::V4(1)), start, 7);
        count_read(&mut ps, start + DAY + 10, pos, Some(Net::V4(1)), start, 7);
        // After --now: the last day.
        count_read(&mut ps, start + 30 * DAY, pos, None, start, 7);
        assert_eq!((ps.reads, ps.hist_reads), (4, 1));
        assert_eq!(ps.recent, vec![1, 1, 0, 0, 0, 0, 1]);
        assert_eq!(ps.recent_nets, vec![(Net::V4(1), start + 10, pos, 2)]);
        let mut merged = PairStats::default();
        merged.merge(&ps);
        merged.merge(&ps);
        assert_eq!(merged.recent, vec![2, 2, 0, 0, 0, 0, 2]);
        assert_eq!(merged.hist_first, Some(start - 10));
        assert_eq!(merged.recent_nets[0].3, 4);
    }
}
