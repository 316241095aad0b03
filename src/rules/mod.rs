//! Rules as data: the TOML format, the built-in set embedded at build time, and the checks
//! behind `keywarden rules check`.

pub mod check;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));

/// How bad a leak of a rule's credential is, shared by scan findings and audit results.
/// Ordered from `Info` (lowest) to `Critical`, so `>=` compares against a threshold.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Nothing at risk on its own (test-mode keys, identifiers); SARIF `note`, score 1.0.
    Info,
    /// SARIF `note`, score 3.0.
    Low,
    /// The default for a rule that names none; SARIF `warning`, score 5.5.
    #[default]
    Medium,
    /// SARIF `error`, score 8.0.
    High,
    /// Live cloud root or payment credentials, private keys; SARIF `error`, score 9.5.
    Critical,
}

impl Severity {
    /// The lowercase name used in rule files, flags and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
    /// Parses a severity name, any case.
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }
    /// GitHub code scanning's `security-severity`: a CVSS-like score, as a string.
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Critical => "9.5",
            Severity::High => "8.0",
            Severity::Medium => "5.5",
            Severity::Low => "3.0",
            Severity::Info => "1.0",
        }
    }
    /// The SARIF `level` a result of this severity gets.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low | Severity::Info => "note",
        }
    }
    /// Every severity, highest first (the order summaries list them in).
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => bail!("unknown severity {s:?} (info, low, medium, high, critical)"),
        })
    }
}

/// How sure a match is a real secret rather than a stand-in, ordered `Low` < `Medium` < `High`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A plausible secret that may be a stand-in or a weak password (a failed validator with
    /// `on_invalid = "downgrade"` lands here).
    Low,
    /// The default for a rule that names none.
    #[default]
    Medium,
    /// A format specific enough (a prefix, a checksum) that a match is almost surely a secret.
    High,
}

impl Confidence {
    /// The lowercase name used in rule files, flags and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
    pub(crate) fn lower(self) -> Confidence {
        match self {
            Confidence::High => Confidence::Medium,
            _ => Confidence::Low,
        }
    }
    pub(crate) fn raise(self) -> Confidence {
        match self {
            Confidence::Low => Confidence::Medium,
            _ => Confidence::High,
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Confidence {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "low" => Confidence::Low,
            "medium" => Confidence::Medium,
            "high" => Confidence::High,
            _ => bail!("unknown confidence {s:?} (low, medium, high)"),
        })
    }
}

/// What a structural validator's failure does to a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnInvalid {
    /// Drop the match: the format guarantees validity (e.g. a checksum).
    #[default]
    Drop,
    /// Keep it at low confidence.
    Downgrade,
}

/// How a rule's secret is read from the text it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Normalize {
    /// Only the base64 characters of a key's body: the line breaks, indentation, quotes and
    /// `\n` escapes of the file it sits in are dropped, so that one key has one fingerprint in
    /// a `.pem` file, a YAML block and a JSON string alike.
    Base64Body,
}

impl Normalize {
    pub(crate) fn apply(self, raw: &[u8]) -> Vec<u8> {
        match self {
            Normalize::Base64Body => crate::pipeline::fingerprint::normalize::base64_body(raw),
        }
    }
}

/// One rule, as written in `rules/*.toml` under `[[rule]]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable kebab-case id: the SARIF `ruleId`, and what config overrides and allowlists name.
    pub id: String,
    /// Short human-readable name, shown in reports.
    pub name: String,
    /// What the credential is and what to do about it (empty when the file gives none).
    #[serde(default)]
    pub description: String,
    /// The pattern, in Rust `regex` syntax, matched over bytes with Unicode classes off.
    pub regex: String,
    /// Capture group holding the secret: a name or a number. Default: the group named
    /// `secret`, else group 1, else the whole match.
    #[serde(default)]
    pub secret_group: Option<String>,
    /// Literals for the prefilter, matched case-insensitively.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Why a rule has no keywords (such a rule runs on every blob).
    #[serde(default)]
    pub no_keywords_reason: Option<String>,
    /// Only files whose path (relative to the scanned root, `/`-separated) matches this
    /// regex are searched with the rule: for files that are secrets by their name (a
    /// `.pgpass`, a Rails `config/master.key`). A rule with a path needs no keywords; it is
    /// then confirmed over every file whose path matches. Blobs without a path (stdin) are
    /// not searched with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Files whose path matches `path` but also this regex are not searched with the rule:
    /// templates and documentation (`.env.example`, `*.sample`, `docs/`) where a rule keyed
    /// on configuration files would read stand-ins as weak passwords. Only with `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_exclude: Option<String>,
    /// Matches whose secret has a lower Shannon entropy (bits per byte) are dropped; `None`: no
    /// entropy floor.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    /// Longest match expected, in bytes; bounds the window searched around a keyword.
    #[serde(default = "default_max_len")]
    pub max_len: usize,
    /// How bad a leak of this credential is.
    #[serde(default)]
    pub severity: Severity,
    /// How sure a match of this rule is a real secret, before validators and filters adjust it.
    #[serde(default)]
    pub confidence: Confidence,
    /// Free-form labels; `generic` marks a rule that yields to a specific rule matching the same
    /// span.
    #[serde(default)]
    pub tags: Vec<String>,
    /// URLs of the provider's documentation of the token format.
    #[serde(default)]
    pub references: Vec<String>,
    /// Named structural validator (see `validate.rs`).
    #[serde(default)]
    pub validate: Option<String>,
    /// What a failed `validate` does to the match.
    #[serde(default)]
    pub on_invalid: OnInvalid,
    /// How the secret is read from its match (default: as it stands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize: Option<Normalize>,
    /// Drop a match whose whole text matches this regex (e.g. names that are not secrets:
    /// `password_length`, `token_url`).
    #[serde(default)]
    pub exclude_match: Option<String>,
    /// Skip the placeholder filter (for formats whose bodies may look like words).
    #[serde(default)]
    pub allow_placeholders: bool,
    /// Lines that must each produce a finding of this rule (`rules check` and the tests run them).
    #[serde(default)]
    pub examples: Vec<String>,
    /// Lines that must each produce no finding of this rule.
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// Set in a config file to turn a built-in rule off.
    #[serde(default)]
    pub disabled: bool,
}

fn default_max_len() -> usize {
    512
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default, rename = "rule")]
    rules: Vec<Rule>,
}

/// A rule file's text with the name it came from.
pub struct RuleSource<'a> {
    /// Where the text came from (a file path or an embedded file's name), for error messages.
    pub name: &'a str,
    /// The TOML text of the file.
    pub text: &'a str,
}

/// Parses one rule file's TOML text; `name` only labels errors.
pub fn parse_rule_file(name: &str, text: &str) -> Result<Vec<Rule>> {
    let file: RuleFile = toml::from_str(text).with_context(|| format!("rule file {name}"))?;
    Ok(file.rules)
}

/// The built-in rules, parsed from the embedded files (JSON converted from `rules/*.toml` at
/// build time).
pub fn builtin() -> Result<Vec<Rule>> {
    let mut all = Vec::new();
    for (name, json) in EMBEDDED_RULES {
        let file: RuleFile =
            serde_json::from_str(json).with_context(|| format!("rule file {name}"))?;
        all.extend(file.rules);
    }
    Ok(all)
}

/// Reads and parses one rule file from disk.
pub fn load_file(path: &Path) -> Result<Vec<Rule>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading rule file {}", path.display()))?;
    parse_rule_file(&path.display().to_string(), &text)
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Static problems with a rule set: ids, duplicates, missing keywords and documentation.
pub fn lint(rules: &[Rule]) -> (Vec<String>, Vec<String>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut seen = HashSet::new();
    for r in rules {
        if !is_kebab(&r.id) {
            errors.push(format!("{}: id is not kebab-case", r.id));
        }
        if !seen.insert(r.id.as_str()) {
            errors.push(format!("{}: duplicate id", r.id));
        }
        if let Some(p) = &r.path
            && let Err(e) = regex::Regex::new(p)
        {
            errors.push(format!("{}: invalid path regex: {e}", r.id));
        }
        if let Some(p) = &r.path_exclude {
            if let Err(e) = regex::Regex::new(p) {
                errors.push(format!("{}: invalid path_exclude regex: {e}", r.id));
            }
            if r.path.is_none() {
                errors.push(format!("{}: path_exclude without path", r.id));
            }
        }
        if r.keywords.is_empty() && r.path.is_none() {
            match &r.no_keywords_reason {
                Some(reason) => warnings.push(format!(
                    "{}: no keywords (runs on every blob): {reason}",
                    r.id
                )),
                None => errors.push(format!("{}: no keywords and no `no_keywords_reason`", r.id)),
            }
        }
        if r.keywords.iter().any(|k| k.trim().is_empty()) {
            errors.push(format!("{}: empty keyword", r.id));
        }
        if r.examples.is_empty() {
            errors.push(format!("{}: no examples", r.id));
        }
        if r.negative_examples.is_empty() {
            warnings.push(format!("{}: no negative examples", r.id));
        }
        if r.description.trim().is_empty() {
            warnings.push(format!("{}: no description", r.id));
        }
        if r.references.is_empty() {
            warnings.push(format!("{}: no references", r.id));
        }
        if let Some(v) = &r.validate
            && !crate::engine::filters::validate::is_known(v)
        {
            errors.push(format!("{}: unknown validator {v:?}", r.id));
        }
    }
    (errors, warnings)
}

/// Merge config rules into the built-in set: same id replaces, `disabled` removes.
pub fn merge(mut base: Vec<Rule>, extra: Vec<Rule>) -> Vec<Rule> {
    for r in extra {
        match base.iter().position(|b| b.id == r.id) {
            Some(i) => base[i] = r,
            None => base.push(r),
        }
    }
    base.retain(|r| !r.disabled);
    base
}

/// The rule with this id, or an error naming the id.
pub fn find<'a>(rules: &'a [Rule], id: &str) -> Result<&'a Rule> {
    rules
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| anyhow!("no rule with id {id:?}"))
}
