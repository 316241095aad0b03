//! Project configuration (`.keywarden.toml`): extra and overridden rules, allowlists and scan
//! defaults. Found by walking up from the scanned path, or given with `--config`.

use crate::rules::{Confidence, Rule, Severity};
use anyhow::{Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const FILE_NAME: &str = ".keywarden.toml";

/// Written by `keywarden init`.
pub const STARTER: &str = include_str!("starter-config.toml");

/// A project config file as written: every key optional, unknown keys rejected.
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
    /// Paths and values that are never reported.
    #[serde(default)]
    pub allowlist: AllowlistConfig,
}

/// A change to one rule's severity or confidence (`[rule_overrides.ID]`); `None` keeps the
/// rule's own.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOverride {
    /// Replaces the rule's severity.
    pub severity: Option<Severity>,
    /// Replaces the rule's confidence.
    pub confidence: Option<Confidence>,
}

/// The `[allowlist]` table as written; [`Allowlist::new`] compiles it.
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

/// One `[[allowlist.rule]]` table: allowlists that apply only to findings of the rules it names.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RuleAllowlistConfig {
    /// The rule ids this table applies to (each must exist).
    pub ids: Vec<String>,
    /// Globs on the path, anchored like the global `paths`.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes matched against the secret value.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Substrings: a secret containing one (case-insensitive) is allowed.
    #[serde(default)]
    pub stopwords: Vec<String>,
}

impl Config {
    /// Reads and parses the config at `path`, and rejects it unless its `exit_code` is 1-255 and
    /// its rules and allowlists compile.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        let cfg: Config =
            toml::from_str(&text).with_context(|| format!("config {}", path.display()))?;
        if let Some(c) = cfg.exit_code
            && !(1..=255).contains(&c)
        {
            anyhow::bail!(
                "config {}: exit_code must be 1-255 (0 would pass a gate with findings), found {c}",
                path.display()
            );
        }
        for r in &cfg.rules {
            crate::engine::CompiledRule::compile(r.clone())
                .with_context(|| format!("config {}: [[rule]] {}", path.display(), r.id))?;
        }
        let _ = Allowlist::new(&cfg.allowlist)
            .with_context(|| format!("config {}: [allowlist]", path.display()))?;
        Ok(cfg)
    }

    /// Whether `text` is a project config rather than a plain rule file: it has a table or
    /// key that only a config has.
    pub fn looks_like_config(text: &str) -> bool {
        let Ok(v) = toml::from_str::<toml::Table>(text) else {
            return false;
        };
        v.keys().any(|k| k != "rule")
    }

    /// The nearest `.keywarden.toml` at or above `start`.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        find_upwards(start, FILE_NAME)
    }

    /// Built-in rules with this config's additions, replacements, removals and overrides.
    /// The rules in force: `base` with the config's rules added or replacing, disabled rules
    /// dropped and overrides applied. A rule id the config names that no rule has is an error
    /// naming the closest id: a typo would otherwise change nothing and say nothing.
    pub fn apply_rules(&self, base: Vec<Rule>) -> Result<Vec<Rule>> {
        let mut rules = crate::rules::merge(base, self.rules.clone());
        let known: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        let mentioned = (self.disable_rules.iter().map(|id| (id, "disable_rules")))
            .chain(self.rule_overrides.keys().map(|id| (id, "rule_overrides")))
            .chain(
                (self.allowlist.per_rule.iter())
                    .flat_map(|r| r.ids.iter().map(|id| (id, "allowlist.rule ids"))),
            );
        for (id, place) in mentioned {
            if !known.contains(&id.as_str()) {
                let hint = closest(id, &known)
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                anyhow::bail!(
                    "{place} names unknown rule `{id}`{hint}; `keywarden rules list` shows the ids"
                );
            }
        }
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
        Ok(rules)
    }
}

/// The id in `known` nearest to `id`: one it extends (`jwt` for `jwt-token`), else the nearest
/// by edit distance when that is near enough to be a typo.
pub fn closest<'a>(id: &str, known: &[&'a str]) -> Option<&'a str> {
    let dist = |a: &str, b: &str| {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                let sub = prev[j] + usize::from(ca != *cb);
                cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
            }
            prev = cur;
        }
        prev[b.len()]
    };
    let extended = format!("{id}-");
    if let Some(k) = known.iter().find(|k| k.starts_with(&extended)) {
        return Some(k);
    }
    known
        .iter()
        .map(|k| (dist(id, k), *k))
        .filter(|(d, _)| *d <= 3.max(id.len() / 3))
        .min()
        .map(|(_, k)| k)
}

/// The nearest file called `name` in `start` (or its directory) or a parent of it.
pub fn find_upwards(start: &Path, name: &str) -> Option<PathBuf> {
    nearest_dir(start, |d| d.join(name).is_file()).map(|d| d.join(name))
}

/// The nearest directory, from `start` (or its directory) upwards, for which `pred` holds;
/// canonical.
pub fn nearest_dir(start: &Path, pred: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(start).ok()?;
    let mut dir = if abs.is_dir() {
        Some(abs.as_path())
    } else {
        abs.parent()
    };
    while let Some(d) = dir {
        if pred(d) {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    None
}

/// Path globs in a config or ignore file are anchored at the directory holding that file,
/// while findings name paths relative to the scan's base (see [`crate::source::paths`]). An
/// anchor maps a finding's path to the path its globs are written against, the same way for
/// tree, staged, diff and history scans and wherever the scan was started.
#[derive(Debug, Clone, Default)]
pub enum Anchor {
    /// Globs are written against finding paths as they are (no file, or the file sits at the
    /// base).
    #[default]
    Base,
    /// The file sits in this directory below the base (`sub/`): paths outside it are not
    /// covered.
    Below(String),
    /// The base is below the file's directory by this prefix (`sub/`).
    Above(String),
    /// Unrelated directories: resolve each path.
    Elsewhere {
        /// The scan's base, which finding paths are relative to (canonical).
        base: PathBuf,
        /// The directory holding the file (canonical).
        dir: PathBuf,
    },
}

impl Anchor {
    /// The anchor for a file in `dir` when findings are relative to `base` (both canonical).
    pub fn new(base: &Path, dir: &Path) -> Anchor {
        let slash = |p: &Path| format!("{}/", p.to_string_lossy().replace('\\', "/"));
        if dir == base {
            Anchor::Base
        } else if let Ok(rel) = dir.strip_prefix(base) {
            Anchor::Below(slash(rel))
        } else if let Ok(rel) = base.strip_prefix(dir) {
            Anchor::Above(slash(rel))
        } else {
            Anchor::Elsewhere {
                base: base.to_path_buf(),
                dir: dir.to_path_buf(),
            }
        }
    }

    /// For the file at `file` (its directory is the anchor).
    pub fn for_file(base: &Path, file: &Path) -> Anchor {
        let abs = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
        match abs.parent() {
            Some(dir) => Anchor::new(base, dir),
            None => Anchor::Base,
        }
    }

    /// `path` (a finding's path) relative to the anchor, or `None` when it lies outside it.
    pub fn rel<'a>(&self, path: &'a str) -> Option<std::borrow::Cow<'a, str>> {
        use std::borrow::Cow;
        let resolve = |base: &Path, dir: &Path| {
            let abs = base.join(path);
            abs.strip_prefix(dir)
                .ok()
                .map(|r| Cow::Owned(r.to_string_lossy().replace('\\', "/")))
        };
        match self {
            Anchor::Base => Some(Cow::Borrowed(path)),
            Anchor::Below(prefix) => path.strip_prefix(prefix.as_str()).map(Cow::Borrowed),
            Anchor::Above(prefix) if !Path::new(path).is_absolute() => {
                Some(Cow::Owned(format!("{prefix}{path}")))
            }
            Anchor::Above(_) => None,
            Anchor::Elsewhere { base, dir } => resolve(base, dir),
        }
    }
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
    anchor: Anchor,
}

impl Allowlist {
    /// Compiles the globs, regexes and stopwords; the globs are anchored at the base until
    /// [`Allowlist::anchored`] says otherwise.
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
            anchor: Anchor::Base,
        })
    }

    /// Path globs anchored at the config file's directory.
    pub fn anchored(mut self, anchor: Anchor) -> Self {
        self.anchor = anchor;
        self
    }

    /// An allowlist that allows nothing.
    pub fn empty() -> Self {
        Self::new(&AllowlistConfig::default()).expect("empty allowlist compiles")
    }

    /// A whole path is allowed (nothing in it is reported).
    pub fn path_allowed(&self, path: &str) -> bool {
        self.anchor.rel(path).is_some_and(|p| self.global.path(&p))
    }

    /// A finding is allowed by a value or per-rule allowlist.
    pub fn finding_allowed(&self, rule_id: &str, path: &str, secret: &str) -> bool {
        if self.global.value(secret) {
            return true;
        }
        self.per_rule.iter().any(|(ids, m)| {
            ids.iter().any(|i| i == rule_id)
                && (self.anchor.rel(path).is_some_and(|p| m.path(&p)) || m.value(secret))
        })
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
