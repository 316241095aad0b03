//! Project configuration (`.keywarden.toml`): extra and overridden rules, allowlists and scan
//! defaults. Found by walking up from the scanned path, or given with `--config`.

use crate::rules::{Confidence, Rule, Severity};
use anyhow::{Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = ".keywarden.toml";

/// Written by `keywarden init`.
pub const STARTER: &str = include_str!("starter-config.toml");

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Drop findings below this confidence.
    pub min_confidence: Option<Confidence>,
    /// Skip files larger than this many bytes.
    pub max_file_size: Option<u64>,
    /// Exit code when findings remain.
    pub exit_code: Option<i32>,
    /// Built-in rule ids to turn off.
    #[serde(default)]
    pub disable_rules: Vec<String>,
    /// Per-rule severity or confidence changes.
    #[serde(default)]
    pub rule_overrides: HashMap<String, RuleOverride>,
    /// Extra rules, or replacements for built-in ones with the same id.
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub allowlist: AllowlistConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOverride {
    pub severity: Option<Severity>,
    pub confidence: Option<Confidence>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct AllowlistConfig {
    /// Globs on the path relative to the scan root (`tests/fixtures/**`).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes matched against the secret value.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Substrings: a secret containing one (case-insensitive) is allowed.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Allowlists that apply to some rules only.
    #[serde(default, rename = "rule")]
    pub per_rule: Vec<RuleAllowlistConfig>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RuleAllowlistConfig {
    pub ids: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub regexes: Vec<String>,
    #[serde(default)]
    pub stopwords: Vec<String>,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("config {}", path.display()))
    }

    /// The nearest `.keywarden.toml` at or above `start`.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        find_upwards(start, FILE_NAME)
    }

    /// Built-in rules with this config's additions, replacements, removals and overrides.
    pub fn apply_rules(&self, base: Vec<Rule>) -> Vec<Rule> {
        let mut rules = crate::rules::merge(base, self.rules.clone());
        rules.retain(|r| !self.disable_rules.contains(&r.id));
        for r in &mut rules {
            if let Some(o) = self.rule_overrides.get(&r.id) {
                if let Some(s) = o.severity {
                    r.severity = s;
                }
                if let Some(c) = o.confidence {
                    r.confidence = c;
                }
            }
        }
        rules
    }
}

/// The nearest file called `name` in `start` (or its directory) or a parent of it.
pub fn find_upwards(start: &Path, name: &str) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(start).ok()?;
    let mut dir = if abs.is_dir() {
        Some(abs.as_path())
    } else {
        abs.parent()
    };
    while let Some(d) = dir {
        let candidate = d.join(name);
        if candidate.is_file() {
            return Some(candidate);
        }
        dir = d.parent();
    }
    None
}

struct Matchers {
    paths: GlobSet,
    regexes: Vec<Regex>,
    stopwords: Vec<String>,
}

impl Matchers {
    fn new(paths: &[String], regexes: &[String], stopwords: &[String]) -> Result<Self> {
        let mut gs = GlobSetBuilder::new();
        for p in paths {
            gs.add(Glob::new(p).with_context(|| format!("allowlist path glob {p:?}"))?);
            // `dir/` or `dir` also covers everything under it.
            let trimmed = p.trim_end_matches('/');
            if !trimmed.contains('*') {
                gs.add(Glob::new(&format!("{trimmed}/**"))?);
            }
        }
        Ok(Matchers {
            paths: gs.build()?,
            regexes: regexes
                .iter()
                .map(|r| Regex::new(r).with_context(|| format!("allowlist regex {r:?}")))
                .collect::<Result<_>>()?,
            stopwords: stopwords.iter().map(|s| s.to_ascii_lowercase()).collect(),
        })
    }

    fn path(&self, path: &str) -> bool {
        self.paths.is_match(path)
    }

    fn value(&self, secret: &str) -> bool {
        if self.regexes.iter().any(|r| r.is_match(secret)) {
            return true;
        }
        if self.stopwords.is_empty() {
            return false;
        }
        let lower = secret.to_ascii_lowercase();
        self.stopwords.iter().any(|s| lower.contains(s))
    }
}

/// Compiled allowlists.
pub struct Allowlist {
    global: Matchers,
    per_rule: Vec<(Vec<String>, Matchers)>,
}

impl Allowlist {
    pub fn new(cfg: &AllowlistConfig) -> Result<Self> {
        Ok(Allowlist {
            global: Matchers::new(&cfg.paths, &cfg.regexes, &cfg.stopwords)?,
            per_rule: cfg
                .per_rule
                .iter()
                .map(|r| {
                    Ok((
                        r.ids.clone(),
                        Matchers::new(&r.paths, &r.regexes, &r.stopwords)?,
                    ))
                })
                .collect::<Result<_>>()?,
        })
    }

    pub fn empty() -> Self {
        Self::new(&AllowlistConfig::default()).expect("empty allowlist compiles")
    }

    /// A whole path is allowed (nothing in it is reported).
    pub fn path_allowed(&self, path: &str) -> bool {
        self.global.path(path)
    }

    /// A finding is allowed by a value or per-rule allowlist.
    pub fn finding_allowed(&self, rule_id: &str, path: &str, secret: &str) -> bool {
        if self.global.value(secret) {
            return true;
        }
        self.per_rule
            .iter()
            .any(|(ids, m)| ids.iter().any(|i| i == rule_id) && (m.path(path) || m.value(secret)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlists() {
        let cfg: Config = toml::from_str(
            r#"
            [allowlist]
            paths = ["tests/fixtures", "*.lock"]
            stopwords = ["sandbox"]
            [[allowlist.rule]]
            ids = ["generic-password"]
            regexes = ["^hunter"]
            "#,
        )
        .unwrap();
        let a = Allowlist::new(&cfg.allowlist).unwrap();
        assert!(a.path_allowed("tests/fixtures/a/b.env"));
        assert!(a.path_allowed("Cargo.lock"));
        assert!(!a.path_allowed("src/main.rs"));
        assert!(a.finding_allowed("x", "p", "my-SANDBOX-key"));
        assert!(a.finding_allowed("generic-password", "p", "hunter22"));
        assert!(!a.finding_allowed("other", "p", "hunter22"));
    }
}
