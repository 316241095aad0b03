//! The rotation policy (TOML): classes, classification, exemptions. The built-in default
//! lives in `default-policy.toml`; a user policy is layered on top of it.

use std::collections::BTreeMap;

use anyhow::{Context, Result, anyhow, bail};
use regex::Regex;
use serde::Deserialize;

use super::checks::CheckId;
use super::checks::catalog::nearest;
use super::model::{Item, Kind};
use super::time::{self, Secs};

const DEFAULT_POLICY: &str = include_str!("default-policy.toml");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    pub version: Option<u32>,
    #[serde(default)]
    pub defaults: ClassSettings,
    #[serde(default)]
    pub classes: BTreeMap<String, ClassSettings>,
    #[serde(default)]
    pub classification: Classification,
    #[serde(default)]
    pub exemptions: Exemptions,
    #[serde(default)]
    pub environments: Environments,
    #[serde(default)]
    pub logs: LogSettings,
    #[serde(default)]
    pub access_patterns: AccessPatternSettings,
    #[serde(default)]
    pub services: Services,
    #[serde(default)]
    pub machine: MachineSettings,
}

/// `[access_patterns]`: how the audit logs are split into a history and a recent period,
/// and what in the recent period is out of pattern (PAT checks).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessPatternSettings {
    /// Events within this many days before `--now` are recent; earlier ones are history.
    pub recent_days: Option<u32>,
    /// Days of history a provider's logs must hold before a first access, a new network or
    /// a volume spike is claimed.
    pub min_history_days: Option<u32>,
    /// A day's reads must be above this multiple of the historical daily mean...
    pub spike_factor: Option<f64>,
    /// ...and at least this many, to be a spike.
    pub spike_min_reads: Option<u32>,
    /// Principals whose every use is reported (globs on the principal as the logs name it,
    /// or on an assumed role's role ARN).
    pub break_glass_principals: Option<Vec<String>>,
}

/// `[services]`: how a secret's service is told, for SHR-002.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Services {
    pub tag_keys: Option<Vec<String>>,
    /// Regexes tried on the id and the name; the service is the group named `service`, else
    /// the first group.
    pub patterns: Option<Vec<String>>,
}

/// `[machine]`: what makes a credential a workload's, and how long a Vault token may live.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MachineSettings {
    /// Addresses (CIDR or single IPs) where workloads run: a call signed with an IAM user's
    /// long-term key from one of them is a workload using a user key (MCH-001).
    pub workload_cidrs: Option<Vec<String>>,
    /// Longest TTL a Vault token may have (MCH-003); 0 judges only tokens without any TTL.
    pub max_token_ttl_hours: Option<u32>,
}

/// `[logs]`: how far audit logs must reach before their silence counts as non-use.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogSettings {
    /// The logs must reach at least this close to `--now` (days) before USE-001 / USE-002
    /// rely on them; otherwise usage is reported as not evaluated (USE-003). Default 7.
    pub max_lag_days: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassSettings {
    pub description: Option<String>,
    pub max_age_days: Option<u32>,
    pub require_auto_rotation: Option<bool>,
    pub require_expiry: Option<bool>,
    pub max_validity_days: Option<u32>,
    pub unused_days: Option<u32>,
    pub due_soon_days: Option<u32>,
    pub rotate_on: Option<Vec<String>>,
    pub max_active_keys: Option<u32>,
    pub denied_burst: Option<Burst>,
    /// The secret must be encrypted with a customer-managed key where the store says which
    /// key it uses (AWS `KmsKeyId`) (MGR-004).
    pub require_customer_key: Option<bool>,
    /// Tag keys every secret of the class must carry (MGR-006), e.g. `["owner"]`.
    pub required_tags: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Burst {
    pub count: u32,
    pub window: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Classification {
    pub tag_keys: Option<Vec<String>>,
    /// `true`: the policy's `[[classification.rule]]` entries replace the built-in rules and
    /// the built-in database signals; otherwise they are tried first and the built-ins after.
    pub replace_builtin: Option<bool>,
    #[serde(default)]
    pub rule: Vec<RuleSpec>,
    #[serde(default)]
    pub by_kind: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    #[serde(rename = "match")]
    pub pattern: String,
    pub class: String,
    /// `regex` or `glob`; guessed from the pattern when absent.
    pub syntax: Option<String>,
    #[serde(skip)]
    pub builtin: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Exemptions {
    #[serde(default)]
    pub item: Vec<ExemptionSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExemptionSpec {
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(default)]
    pub checks: Vec<String>,
    pub until: Option<String>,
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Environments {
    pub tag_keys: Option<Vec<String>>,
}

/// Effective settings of one class (defaults applied).
#[derive(Debug, Clone)]
pub struct Class {
    /// The `NAME` of `[classes.NAME]`; `defaults` for [`Policy::defaults`].
    pub name: String,
    /// Longest time between rotations, in days (ROT-002, ROT-003, ROT-005); None (or 0 in
    /// the file): no calendar rotation.
    pub max_age_days: Option<u32>,
    /// The provider's automatic rotation must be on where the provider has one (ROT-001).
    pub require_auto_rotation: bool,
    /// An expiry must be set where the provider has one (EXP-001). Set nowhere in the
    /// policy, it follows from `max_validity_days`.
    pub require_expiry: bool,
    /// Longest validity, in days from `notBefore` (else creation) to the expiry (EXP-001);
    /// None (or 0 in the file): not limited.
    pub max_validity_days: Option<u32>,
    /// Days without use after which USE-001 fails, and the age at which a secret never used
    /// fails USE-002; None (or 0 in the file): usage is not judged.
    pub unused_days: Option<u32>,
    /// How many days before a rotation falls due ROT-005 reports it.
    pub due_soon_days: u32,
    /// Events after which the class must be rotated (`compromise`, `personnel_change`,
    /// `leak`, `schedule`): validated when the policy loads; no check reads them.
    pub rotate_on: Vec<String>,
    /// Active access keys one user may hold (KEY-001); at least 1.
    pub max_active_keys: u32,
    /// Denied attempts by one principal on one secret within `burst_window` that fail
    /// ACC-002; at least 1.
    pub burst_count: u32,
    /// The window of `burst_count`, in seconds; never 0.
    pub burst_window: i64,
    /// The secret must be encrypted with a customer-managed key where the store says which
    /// key it uses (MGR-004).
    pub require_customer_key: bool,
    /// Tag keys every secret of the class must carry (MGR-006), trimmed, blank ones dropped.
    pub required_tags: Vec<String>,
}

/// An address block of `[machine] workload_cidrs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: std::net::IpAddr,
    bits: u8,
}

impl Cidr {
    /// `10.0.0.0/8`, `2001:db8::/32`, or a single address.
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, bits) = match s.trim().split_once('/') {
            Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
            None => (s.trim(), None),
        };
        let net: std::net::IpAddr = addr.parse().ok()?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = bits.unwrap_or(max);
        (bits <= max).then_some(Cidr { net, bits })
    }

    /// Whether `ip` lies in the block; an IPv4 address written in IPv6 (`::ffff:10.0.0.1`)
    /// is judged as IPv4.
    pub fn contains(&self, ip: &std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        // The first `bits` bits of both addresses, compared by shifting the rest away.
        let same = |a: u128, b: u128, len: u32| {
            let shift = len - self.bits as u32;
            self.bits == 0 || a >> shift == b >> shift
        };
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => same(u32::from(n).into(), u32::from(*a).into(), 32),
            (IpAddr::V6(n), IpAddr::V6(a)) => same(n.into(), (*a).into(), 128),
            // An IPv4 address written in IPv6 (`::ffff:10.0.0.1`) is the IPv4 address.
            (IpAddr::V4(_), IpAddr::V6(a)) => a
                .to_ipv4_mapped()
                .is_some_and(|v4| self.contains(&IpAddr::V4(v4))),
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.net, self.bits)
    }
}

/// Effective `[machine]` settings.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    /// Where workloads run: a call signed with an IAM user's long-term key from one of these
    /// is a workload using a user key (MCH-001). Empty: only the user agent and AWS service
    /// sources tell.
    pub workload_cidrs: Vec<Cidr>,
    /// None: only tokens without a TTL are judged.
    pub max_token_ttl_hours: Option<u32>,
}

enum IdPattern {
    Regex(Regex),
    Glob(globset::GlobMatcher),
}

impl IdPattern {
    fn is_match(&self, s: &str) -> bool {
        match self {
            IdPattern::Regex(r) => r.is_match(s),
            IdPattern::Glob(g) => g.is_match(s),
        }
    }
}

struct ClassRule {
    matcher: IdPattern,
    class: String,
    pattern: String,
    /// Where the rule comes from: the user's policy or the built-in one.
    builtin: bool,
}

/// One `[[exemptions.item]]`, compiled: which results it suppresses, until when and why.
pub struct Exemption {
    matcher: globset::GlobMatcher,
    /// The `ref` as written: a canonical id or a glob over canonical ids.
    pub reference: String,
    /// The checks it covers; empty covers every check (`checks = []` or `["*"]`).
    pub checks: Vec<CheckId>,
    /// End of validity (exclusive); None = no end.
    pub until: Option<Secs>,
    /// `until` as written, for reports.
    pub until_text: Option<String>,
    /// Why the results are accepted, shown with every result it suppresses.
    pub reason: String,
}

/// A compiled policy ready for the checks.
pub struct Policy {
    /// Where the policy comes from, as reports name it: `built-in`, or the `--policy` path.
    pub source: String,
    /// SHA-256 (hex) of the built-in policy's text followed by the user policy's, so a report
    /// says which policy judged it.
    pub sha256: String,
    classes: BTreeMap<String, Class>,
    rules: Vec<ClassRule>,
    tag_keys: Vec<String>,
    /// `[classification.by_kind]`: the class of each source kind, and `default`'s.
    by_kind: BTreeMap<Kind, String>,
    default_class: Option<String>,
    exemptions: Vec<Exemption>,
    env_tag_keys: Vec<String>,
    /// `[defaults]` as a class of its own: it judges the secrets the logs name that no
    /// inventory lists, and denied bursts (ACC-002) on secrets without a class.
    pub defaults: Class,
    /// Classify by database signals (AWS-managed RDS secrets, `OwningService`, names and
    /// descriptions saying database) before the source-kind fallback.
    database_signals: bool,
    /// How close to `--now` (days) the logs must reach before USE-001 / USE-002 rely on
    /// them (`[logs] max_lag_days`).
    pub log_max_lag_days: u32,
    /// How the logs are split into history and a recent period, and what in the recent
    /// period is out of pattern (PAT checks).
    pub patterns: AccessPatterns,
    service_tag_keys: Vec<String>,
    service_patterns: Vec<Regex>,
    /// What makes a credential a workload's, and how long a Vault token may live.
    pub machine: Machine,
}

/// Effective `[access_patterns]` settings.
#[derive(Debug, Clone)]
pub struct AccessPatterns {
    /// Events within this many days before `--now` are recent, earlier ones history; 1 to
    /// 366.
    pub recent_days: u32,
    /// Days of history a provider's logs must hold before PAT-001..003 are evaluated.
    pub min_history_days: u32,
    /// A day's reads above this multiple of the principal's historical daily mean are a
    /// spike (PAT-003); finite and at least 1.
    pub spike_factor: f64,
    /// Fewest reads in one day that can be a spike (PAT-003); at least 1.
    pub spike_min_reads: u32,
    /// Principals whose every use is reported (PAT-005), in policy order.
    pub break_glass: Vec<BreakGlass>,
}

/// One `break_glass_principals` entry.
#[derive(Debug, Clone)]
pub struct BreakGlass {
    /// The entry as written: an exact principal or a case-insensitive glob.
    pub pattern: String,
    matcher: globset::GlobMatcher,
}

impl BreakGlass {
    fn is_match(&self, principal: &str) -> bool {
        self.pattern == principal || self.matcher.is_match(principal)
    }
}

impl AccessPatterns {
    /// The break-glass entry that names this principal (as logged, or its canonical form).
    pub fn break_glass(&self, principal: &str, canonical: &str) -> Option<&BreakGlass> {
        self.break_glass
            .iter()
            .find(|b| b.is_match(principal) || b.is_match(canonical))
    }
}

fn overlay(base: &mut ClassSettings, top: &ClassSettings) {
    macro_rules! take {
        ($($f:ident),*) => { $( if top.$f.is_some() { base.$f = top.$f.clone(); } )* };
    }
    take!(
        description,
        max_age_days,
        require_auto_rotation,
        require_expiry,
        max_validity_days,
        unused_days,
        due_soon_days,
        rotate_on,
        max_active_keys,
        denied_burst,
        require_customer_key,
        required_tags
    );
}

/// Parses a policy file's text and checks its version (no layering, no compilation).
fn parse_file(text: &str) -> Result<PolicyFile> {
    let pf: PolicyFile = toml::from_str(text).map_err(|e| anyhow!("{e}"))?;
    if let Some(v) = pf.version
        && v != 1
    {
        bail!("unsupported policy version {v} (this keywarden reads version 1)");
    }
    Ok(pf)
}

impl Policy {
    /// The built-in policy, optionally with a user policy layered on top.
    pub fn load(user: Option<(&str, &str)>) -> Result<Policy> {
        let mut pf = parse_file(DEFAULT_POLICY).context("built-in policy")?;
        for r in &mut pf.classification.rule {
            r.builtin = true;
        }
        let mut source = "built-in".to_string();
        let mut digest_input = DEFAULT_POLICY.to_string();
        if let Some((name, text)) = user {
            let up = parse_file(text).with_context(|| format!("policy {name}"))?;
            source = name.to_string();
            digest_input.push_str(text);
            overlay(&mut pf.defaults, &up.defaults);
            for (name, c) in up.classes {
                overlay(pf.classes.entry(name).or_default(), &c);
            }
            if let Some(k) = up.classification.tag_keys {
                pf.classification.tag_keys = Some(k);
            }
            // A user's rules come first; the built-in ones stay behind them (a policy that
            // names one secret's class must not drop the database and key heuristics for
            // all others) unless the policy says to replace them.
            if up.classification.replace_builtin == Some(true) {
                pf.classification.rule = up.classification.rule;
                pf.classification.replace_builtin = Some(true);
            } else {
                let builtin = std::mem::take(&mut pf.classification.rule);
                pf.classification.rule = up.classification.rule;
                pf.classification.rule.extend(builtin);
            }
            if up.logs.max_lag_days.is_some() {
                pf.logs.max_lag_days = up.logs.max_lag_days;
            }
            let (ap, up_ap) = (&mut pf.access_patterns, up.access_patterns);
            macro_rules! take {
                ($($f:ident),*) => { $( if up_ap.$f.is_some() { ap.$f = up_ap.$f; } )* };
            }
            take!(
                recent_days,
                min_history_days,
                spike_factor,
                spike_min_reads,
                break_glass_principals
            );
            if up.services.tag_keys.is_some() {
                pf.services.tag_keys = up.services.tag_keys;
            }
            if up.services.patterns.is_some() {
                pf.services.patterns = up.services.patterns;
            }
            if up.machine.workload_cidrs.is_some() {
                pf.machine.workload_cidrs = up.machine.workload_cidrs;
            }
            if up.machine.max_token_ttl_hours.is_some() {
                pf.machine.max_token_ttl_hours = up.machine.max_token_ttl_hours;
            }
            pf.classification.by_kind.extend(up.classification.by_kind);
            pf.exemptions = up.exemptions;
            if up.environments.tag_keys.is_some() {
                pf.environments = up.environments;
            }
        }
        let sha256 = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(digest_input.as_bytes()))
        };
        Policy::compile(pf, source, sha256)
    }

    fn compile(pf: PolicyFile, source: String, sha256: String) -> Result<Policy> {
        let resolve = |name: &str, c: &ClassSettings| -> Result<Class> {
            let mut s = pf.defaults.clone();
            overlay(&mut s, c);
            let burst = s.denied_burst.clone().unwrap_or(Burst {
                count: 10,
                window: "15m".into(),
            });
            let window = time::parse_duration(&burst.window).ok_or_else(|| {
                anyhow!(
                    "class {name}: denied_burst.window {:?} is not a duration like \"15m\"",
                    burst.window
                )
            })?;
            if burst.count == 0 || window == 0 {
                bail!("class {name}: denied_burst needs count >= 1 and a non-zero window");
            }
            for ev in s.rotate_on.iter().flatten() {
                if !matches!(
                    ev.as_str(),
                    "compromise" | "personnel_change" | "leak" | "schedule"
                ) {
                    bail!(
                        "class {name}: unknown rotate_on event {ev:?} (known: compromise, personnel_change)"
                    );
                }
            }
            Ok(Class {
                name: name.to_string(),
                max_age_days: s.max_age_days.filter(|d| *d > 0),
                require_auto_rotation: s.require_auto_rotation.unwrap_or(false),
                // An explicit `require_expiry` (class, else [defaults]) decides; only when
                // it is set nowhere does a maximum validity imply it. A class may cap the
                // validity of the expiries it has without demanding one on every secret.
                require_expiry: s
                    .require_expiry
                    .unwrap_or(s.max_validity_days.is_some_and(|d| d > 0)),
                max_validity_days: s.max_validity_days.filter(|d| *d > 0),
                unused_days: s.unused_days.filter(|d| *d > 0),
                due_soon_days: s.due_soon_days.unwrap_or(14),
                rotate_on: s.rotate_on.unwrap_or_default(),
                max_active_keys: s.max_active_keys.unwrap_or(1).max(1),
                burst_count: burst.count,
                burst_window: window,
                require_customer_key: s.require_customer_key.unwrap_or(false),
                required_tags: s
                    .required_tags
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect(),
            })
        };
        let mut classes = BTreeMap::new();
        for (name, c) in &pf.classes {
            classes.insert(name.clone(), resolve(name, c)?);
        }
        let defaults = resolve("defaults", &ClassSettings::default())?;
        let mut rules = Vec::new();
        for (i, r) in pf.classification.rule.iter().enumerate() {
            if !classes.contains_key(&r.class) {
                bail!(
                    "classification rule {} names unknown class {:?}",
                    i + 1,
                    r.class
                );
            }

            let syntax = r.syntax.clone().unwrap_or_else(|| {
                if r.pattern.contains(['^', '$', '(', '|', '\\', '+']) || r.pattern.contains(".*") {
                    "regex".into()
                } else {
                    "glob".into()
                }
            });
            let matcher = match syntax.as_str() {
                "regex" => IdPattern::Regex(
                    regex::RegexBuilder::new(&r.pattern)
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|e| {
                            anyhow!(
                                "classification rule {}: bad regex {:?}: {e}",
                                i + 1,
                                r.pattern
                            )
                        })?,
                ),
                "glob" => IdPattern::Glob(
                    globset::GlobBuilder::new(&r.pattern)
                        .literal_separator(false)
                        .build()
                        .map_err(|e| {
                            anyhow!(
                                "classification rule {}: bad glob {:?}: {e}",
                                i + 1,
                                r.pattern
                            )
                        })?
                        .compile_matcher(),
                ),
                other => bail!(
                    "classification rule {}: syntax must be regex or glob, not {other:?}",
                    i + 1
                ),
            };
            rules.push(ClassRule {
                matcher,
                class: r.class.clone(),
                pattern: r.pattern.clone(),
                builtin: r.builtin,
            });
        }
        let mut by_kind = BTreeMap::new();
        let mut default_class = None;
        for (kind, class) in &pf.classification.by_kind {
            if !classes.contains_key(class) {
                bail!("classification.by_kind.{kind} names unknown class {class:?}");
            }
            // A misspelt kind would silently classify nothing.
            match Kind::inventory(kind) {
                Some(k) => {
                    by_kind.insert(k, class.clone());
                }
                None if kind == "default" => default_class = Some(class.clone()),
                None => {
                    let names = Kind::INVENTORY.map(Kind::as_str);
                    let hint = match nearest(kind, names.iter().copied().chain(["default"])) {
                        Some(n) => format!("did you mean {n}?"),
                        None => format!("kinds: {}, default", names.join(", ")),
                    };
                    bail!("classification.by_kind.{kind}: unknown kind ({hint})");
                }
            }
        }
        let mut exemptions = Vec::new();
        for (i, e) in pf.exemptions.item.iter().enumerate() {
            let matcher = globset::GlobBuilder::new(&e.reference)
                .literal_separator(false)
                .build()
                .map_err(|err| {
                    anyhow!(
                        "exemption {}: bad ref pattern {:?}: {err}",
                        i + 1,
                        e.reference
                    )
                })?
                .compile_matcher();
            let until = match &e.until {
                None => None,
                Some(u) => {
                    let t = time::parse_str(u)
                        .ok_or_else(|| anyhow!("exemption {}: until {u:?} is not a date", i + 1))?;
                    // A plain date covers that whole day.
                    Some(if u.trim().len() <= 10 {
                        t + time::DAY
                    } else {
                        t
                    })
                }
            };
            let mut checks = Vec::new();
            for c in &e.checks {
                if c == "*" {
                    checks.clear();
                    break;
                }
                checks.push(
                    c.parse::<CheckId>()
                        .map_err(|err| anyhow!("exemption {} ({}): {err}", i + 1, e.reference))?,
                );
            }
            exemptions.push(Exemption {
                matcher,
                reference: e.reference.clone(),
                checks,
                until,
                until_text: e.until.clone(),
                reason: e.reason.clone(),
            });
        }
        let patterns = compile_patterns(&pf.access_patterns)?;
        let mut service_patterns = Vec::new();
        for (i, p) in pf.services.patterns.iter().flatten().enumerate() {
            let re = regex::RegexBuilder::new(p)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| anyhow!("services.patterns[{i}]: bad regex {p:?}: {e}"))?;
            if re.captures_len() < 2 {
                bail!(
                    "services.patterns[{i}] {p:?} has no group: write the service part as (?P<service>...)"
                );
            }
            service_patterns.push(re);
        }
        let mut workload_cidrs = Vec::new();
        for c in pf.machine.workload_cidrs.iter().flatten() {
            workload_cidrs.push(Cidr::parse(c).ok_or_else(|| {
                anyhow!("machine.workload_cidrs: {c:?} is not an address or CIDR block like \"10.0.0.0/8\"")
            })?);
        }
        let machine = Machine {
            workload_cidrs,
            max_token_ttl_hours: pf.machine.max_token_ttl_hours.filter(|h| *h > 0),
        };
        Ok(Policy {
            source,
            sha256,
            classes,
            rules,
            tag_keys: pf
                .classification
                .tag_keys
                .unwrap_or_else(|| vec!["rotation-class".into()]),
            by_kind,
            default_class,
            exemptions,
            env_tag_keys: pf
                .environments
                .tag_keys
                .unwrap_or_else(|| vec!["environment".into(), "env".into()]),
            defaults,
            database_signals: pf.classification.replace_builtin != Some(true),
            log_max_lag_days: pf.logs.max_lag_days.unwrap_or(7),
            patterns,
            service_tag_keys: pf.services.tag_keys.unwrap_or_else(|| {
                ["service", "app", "application", "app.kubernetes.io/name"]
                    .map(String::from)
                    .to_vec()
            }),
            service_patterns,
            machine,
        })
    }

    /// Class of an item and where it came from: rule, tag, source kind, default.
    pub fn classify(&self, item: &Item) -> (Option<&Class>, String) {
        for r in &self.rules {
            if r.matcher.is_match(&item.id)
                || (!item.name.is_empty() && r.matcher.is_match(&item.name))
            {
                let origin = if r.builtin { "built-in rule" } else { "rule" };
                return (
                    self.classes.get(&r.class),
                    format!("{origin} {}", r.pattern),
                );
            }
        }
        for key in &self.tag_keys {
            if let Some((k, v)) = item.tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))
                && let Some(c) = self.classes.get(v.trim())
            {
                return (Some(c), format!("tag {k}"));
            }
        }
        if let Some(c) = item
            .declared_class
            .as_deref()
            .and_then(|c| self.classes.get(c.trim()))
        {
            return (Some(c), "inventory class".into());
        }
        if self.database_signals
            && let Some(c) = self.classes.get("db_password")
            && let Some(why) = database_signal(item)
        {
            return (Some(c), format!("database signal: {why}"));
        }
        if let Some(c) = self
            .by_kind
            .get(&item.kind)
            .and_then(|c| self.classes.get(c))
        {
            return (Some(c), format!("kind {}", item.kind));
        }
        match self
            .default_class
            .as_ref()
            .and_then(|c| self.classes.get(c))
        {
            Some(c) => (Some(c), "default".into()),
            None => (None, "unclassified".into()),
        }
    }

    /// The exemption that covers (check, secret) at `now`, and expired ones for reporting.
    pub fn exemption(
        &self,
        check: CheckId,
        id: &str,
        now: Secs,
    ) -> (Option<&Exemption>, Option<&Exemption>) {
        let mut expired = None;
        for e in &self.exemptions {
            let check_ok = e.checks.is_empty() || e.checks.contains(&check);
            if !check_ok || !(e.matcher.is_match(id) || e.reference == id) {
                continue;
            }
            match e.until {
                Some(u) if u <= now => expired = Some(e),
                _ => return (Some(e), None),
            }
        }
        (None, expired)
    }

    /// Environment of an item: inventory column, then tags, then a name segment.
    pub fn environment(&self, item: &Item) -> Option<String> {
        if let Some(e) = &item.environment {
            return Some(e.to_ascii_lowercase());
        }
        for key in &self.env_tag_keys {
            if let Some((_, v)) = item.tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                return Some(v.to_ascii_lowercase());
            }
        }
        environment_in(&format!("{} {}", item.id, item.name))
    }

    /// Environment of a principal, from its name as the logs or a policy export give it: the
    /// same segment words as for secrets (`arn:aws:iam::1:role/staging-deployer`,
    /// `ci-dev@p.iam.gserviceaccount.com`, `k8s:serviceaccount:staging/app`). An AWS
    /// assumed-role session is judged by its role, not by its session name.
    pub fn principal_environment(&self, principal: &str) -> Option<String> {
        environment_in(&canonical_principal(principal))
    }

    /// Service of an item: the generic `service` column, a tag in `[services] tag_keys`,
    /// a `[services] patterns` match on the id or name, else the path segment that follows
    /// the environment segment when another segment comes after it (`prod/payments/db`).
    pub fn service(&self, item: &Item) -> Option<String> {
        if let Some(s) = item
            .service
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            return Some(s.to_ascii_lowercase());
        }
        for key in &self.service_tag_keys {
            if let Some((_, v)) = item.tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))
                && !v.trim().is_empty()
            {
                return Some(v.trim().to_ascii_lowercase());
            }
        }
        for re in &self.service_patterns {
            for text in [item.id.as_str(), item.name.as_str()] {
                if let Some(c) = re.captures(text) {
                    let m = c.name("service").or_else(|| c.get(1));
                    if let Some(m) = m.filter(|m| !m.as_str().is_empty()) {
                        return Some(m.as_str().to_ascii_lowercase());
                    }
                }
            }
        }
        let name = if item.name.is_empty() {
            item.id.as_str()
        } else {
            item.name.as_str()
        };
        service_after_environment(name)
    }
}

/// The environment a name says, by its first segment (between non-alphanumerics) that is
/// an environment word: `prod`/`production`/`prd`, `staging`/`stage`/`stg`,
/// `dev`/`development`, `test`/`testing`/`qa`.
pub fn environment_in(text: &str) -> Option<String> {
    let hay = text.to_ascii_lowercase();
    for seg in hay.split(|c: char| !c.is_ascii_alphanumeric()) {
        let env = match seg {
            "prod" | "production" | "prd" => "prod",
            "staging" | "stage" | "stg" => "staging",
            "dev" | "development" => "dev",
            "test" | "testing" | "qa" => "test",
            _ => continue,
        };
        return Some(env.to_string());
    }
    None
}

/// `prod/payments/db-password` → `payments`: the `/`-segment after the first segment that
/// is exactly an environment word, when it is not the last segment (the secret's own name).
fn service_after_environment(name: &str) -> Option<String> {
    let segs: Vec<&str> = name.split('/').filter(|s| !s.is_empty()).collect();
    let at = segs.iter().position(|s| {
        environment_in(s).is_some() && s.bytes().all(|b| b.is_ascii_alphanumeric())
    })?;
    (at + 2 < segs.len()).then(|| segs[at + 1].to_ascii_lowercase())
}

/// A principal in the form that outlives a session: an AWS assumed-role session
/// (`arn:aws:sts::1:assumed-role/NAME/SESSION`) becomes its role
/// (`arn:aws:iam::1:role/NAME`); anything else is itself.
pub fn canonical_principal(p: &str) -> std::borrow::Cow<'_, str> {
    if let Some((head, rest)) = p.split_once(":assumed-role/")
        && let Some(acct) = head.strip_prefix("arn:")
        && let Some((partition, acct)) = acct.split_once(":sts::")
    {
        let role = rest.split('/').next().unwrap_or(rest);
        return std::borrow::Cow::Owned(format!("arn:{partition}:iam::{acct}:role/{role}"));
    }
    std::borrow::Cow::Borrowed(p)
}

fn compile_patterns(s: &AccessPatternSettings) -> Result<AccessPatterns> {
    let recent_days = s.recent_days.unwrap_or(7);
    if !(1..=366).contains(&recent_days) {
        bail!("access_patterns.recent_days must be 1 to 366, not {recent_days}");
    }
    let spike_factor = s.spike_factor.unwrap_or(5.0);
    if !spike_factor.is_finite() || spike_factor < 1.0 {
        bail!("access_patterns.spike_factor must be at least 1, not {spike_factor}");
    }
    let mut break_glass = Vec::new();
    for p in s.break_glass_principals.iter().flatten() {
        let matcher = globset::GlobBuilder::new(p)
            .literal_separator(false)
            .case_insensitive(true)
            .build()
            .map_err(|e| anyhow!("access_patterns.break_glass_principals: bad pattern {p:?}: {e}"))?
            .compile_matcher();
        break_glass.push(BreakGlass {
            pattern: p.clone(),
            matcher,
        });
    }
    Ok(AccessPatterns {
        recent_days,
        min_history_days: s.min_history_days.unwrap_or(30),
        spike_factor,
        spike_min_reads: s.spike_min_reads.unwrap_or(20).max(1),
        break_glass,
    })
}

/// Why an item is evidently a database credential, if it is: the store says a database
/// service manages it, or its name or description says so.
pub fn database_signal(item: &Item) -> Option<String> {
    use std::sync::LazyLock;
    static DATABASE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)(^|[^a-z])databases?([^a-z]|$)").expect("regex"));
    static DB_WORD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)(^|[^a-z0-9])(db|rds|aurora|postgres(ql)?|pg|mysql|mariadb|mongo(db)?|redshift|mssql|sql ?server|oracle|documentdb|docdb)([^a-z0-9]|$)")
            .expect("regex")
    });
    static PASSWORD_WORD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)(pass(word)?|passwd|pwd|cred(ential)?s?|login|master[ _-]?user)")
            .expect("regex")
    });
    if let Some(svc) = &item.owning_service {
        let svc = svc.to_ascii_lowercase();
        if ["rds", "redshift", "docdb", "documentdb"].contains(&svc.as_str()) {
            return Some(format!("OwningService {svc}"));
        }
    }
    let name = if item.name.is_empty() {
        item.id.as_str()
    } else {
        item.name.as_str()
    };
    // RDS names the master-user secrets it manages `rds!db-<uuid>` / `rds!cluster-<uuid>`.
    if name.starts_with("rds!") || item.id.contains(":secret:rds!") {
        return Some("AWS-managed RDS secret (name rds!…)".into());
    }
    for (what, text) in [
        ("name", Some(name)),
        ("description", item.description.as_deref()),
    ] {
        let Some(text) = text else { continue };
        if DATABASE.is_match(text) || (DB_WORD.is_match(text) && PASSWORD_WORD.is_match(text)) {
            return Some(format!("{what} says database"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::model::{Item, Loc};

    #[test]
    fn default_policy_classifies() {
        let p = Policy::load(None).expect("built-in policy");
        let mut it = Item::new(
            "arn:aws:secretsmanager:us-east-1:1:secret:prod/db/password-AbCdEf",
            Kind::AwsSecret,
            Loc::default(),
        );
        it.name = "prod/db/password".into();
        assert_eq!(
            p.classify(&it).0.map(|c| c.name.as_str()),
            Some("db_password")
        );
        let k = Item::new("aws-iam-key:AKIA", Kind::IamAccessKey, Loc::default());
        assert_eq!(
            p.classify(&k).0.map(|c| c.name.as_str()),
            Some("cloud_access_key")
        );
        let mut t = Item::new("vault:secret/app/config", Kind::VaultKv, Loc::default());
        t.tags
            .insert("rotation-class".into(), "encryption_key".into());
        assert_eq!(p.classify(&t).1, "tag rotation-class");
        assert_eq!(p.environment(&it).as_deref(), Some("prod"));
    }

    #[test]
    fn principals_environments_and_services() {
        let p = Policy::load(None).expect("built-in policy");
        assert_eq!(
            canonical_principal("arn:aws:sts::123456789012:assumed-role/staging-app/prod-session"),
            "arn:aws:iam::123456789012:role/staging-app"
        );
        assert_eq!(
            canonical_principal("arn:aws-us-gov:sts::1:assumed-role/r/s"),
            "arn:aws-us-gov:iam::1:role/r"
        );
        assert_eq!(canonical_principal("approle-web"), "approle-web");
        for (who, env) in [
            (
                "arn:aws:sts::1:assumed-role/staging-app/prod-session",
                Some("staging"),
            ),
            ("ci-dev@my-project.iam.gserviceaccount.com", Some("dev")),
            ("k8s:serviceaccount:qa/runner", Some("test")),
            ("developer@example.com", None),
            ("payments-app", None),
        ] {
            assert_eq!(p.principal_environment(who).as_deref(), env, "{who}");
        }
        let item = |name: &str| {
            let mut it = Item::new(format!("x:{name}"), Kind::Generic, Loc::default());
            it.name = name.into();
            it
        };
        assert_eq!(
            p.service(&item("prod/payments/db")).as_deref(),
            Some("payments")
        );
        assert_eq!(
            p.service(&item("team/prod/Orders/api/key")).as_deref(),
            Some("orders")
        );
        assert_eq!(p.service(&item("prod/db")), None);
        assert_eq!(p.service(&item("production-payments/db")), None);
        let mut tagged = item("prod/payments/db");
        tagged.tags.insert("App".into(), "Checkout".into());
        assert_eq!(p.service(&tagged).as_deref(), Some("checkout"));
    }

    #[test]
    fn workload_cidrs_match_by_prefix() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().expect("ip");
        let c = Cidr::parse("10.20.0.0/16").expect("cidr");
        assert!(c.contains(&ip("10.20.255.1")));
        assert!(!c.contains(&ip("10.21.0.1")));
        assert!(c.contains(&ip("::ffff:10.20.3.4")), "IPv4 written in IPv6");
        let one = Cidr::parse("192.0.2.7").expect("address");
        assert!(one.contains(&ip("192.0.2.7")) && !one.contains(&ip("192.0.2.8")));
        let v6 = Cidr::parse("2001:db8::/32").expect("v6");
        assert!(v6.contains(&ip("2001:db8:1::5")) && !v6.contains(&ip("2001:db9::1")));
        assert!(!v6.contains(&ip("10.20.0.1")));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .expect("all")
                .contains(&ip("203.0.113.9"))
        );
        for bad in ["10.20.0.0/33", "10.20.0/16", "::/129", "host.example", ""] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn bad_policies_are_errors() {
        assert!(Policy::load(Some(("p", "[classes.x]\nmax_age = 3\n"))).is_err());
        assert!(
            Policy::load(Some((
                "p",
                "[[classification.rule]]\nmatch = \"(\"\nclass = \"api_key\"\n"
            )))
            .is_err()
        );
        assert!(
            Policy::load(Some((
                "p",
                "[[classification.rule]]\nmatch = \"x*\"\nclass = \"nope\"\n"
            )))
            .is_err()
        );
        assert!(
            Policy::load(Some((
                "p",
                "[defaults]\ndenied_burst = { count = 3, window = \"soon\" }\n"
            )))
            .is_err()
        );
    }

    #[test]
    fn unknown_checks_and_kinds_are_named_with_the_nearest() {
        let err = |text: &str| match Policy::load(Some(("p", text))) {
            Ok(_) => panic!("accepted {text:?}"),
            Err(e) => format!("{e:#}"),
        };
        let e = err("[[exemptions.item]]\nref = \"x\"\nchecks = [\"ROT-03\"]\n");
        assert!(
            e.contains("\"ROT-03\"") && e.contains("did you mean ROT-003?"),
            "{e}"
        );
        let e = err("[classification.by_kind]\naws_secrets = \"api_key\"\n");
        assert!(
            e.contains("aws_secrets") && e.contains("did you mean aws_secret?"),
            "{e}"
        );
        let e = err("[classification.by_kind]\nsomething = \"api_key\"\n");
        assert!(e.contains("kinds: iam_access_key"), "{e}");
        let p = Policy::load(Some((
            "p",
            "[[exemptions.item]]\nref = \"x\"\nchecks = [\"*\"]\n",
        )))
        .expect("policy");
        assert!(p.exemptions[0].checks.is_empty());
        assert!(p.exemption(CheckId::Prv008, "x", 0).0.is_some());
    }
}
