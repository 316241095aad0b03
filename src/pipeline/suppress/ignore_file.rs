//! `.keywardenignore`: precise, reviewed suppressions keyed on value fingerprints.
//!
//! Each line: `FINGERPRINT [PATH-GLOB]  # reason` — the reason is required. A fingerprint
//! names one secret value, so a different secret later written on the same line (or anywhere)
//! is still reported.

use crate::pipeline::finding::Finding;
use anyhow::{Context, Result, bail};
use globset::{Glob, GlobMatcher};
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = ".keywardenignore";

pub struct IgnoreEntry {
    pub fingerprint: String,
    pub path: Option<GlobMatcher>,
    pub reason: String,
    pub line: usize,
}

#[derive(Default)]
pub struct IgnoreFile {
    pub entries: Vec<IgnoreEntry>,
    /// Path globs are relative to the ignore file's directory.
    pub anchor: crate::config::Anchor,
}

impl IgnoreFile {
    pub fn parse(text: &str) -> Result<IgnoreFile> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (body, reason) = match line.split_once('#') {
                Some((b, r)) => (b.trim(), r.trim()),
                None => (line, ""),
            };
            if reason.is_empty() {
                bail!(
                    "line {}: every entry needs a reason: `FINGERPRINT [PATH]  # why`",
                    i + 1
                );
            }
            let mut parts = body.split_whitespace();
            let fp = parts.next().unwrap_or("");
            if !fp.starts_with("kw1:") {
                bail!(
                    "line {}: expected a fingerprint (kw1:...), found {fp:?}",
                    i + 1
                );
            }
            let path = match parts.next() {
                Some(p) => Some(
                    Glob::new(p)
                        .with_context(|| format!("line {}: bad path glob {p:?}", i + 1))?
                        .compile_matcher(),
                ),
                None => None,
            };
            entries.push(IgnoreEntry {
                fingerprint: fp.to_string(),
                path,
                reason: reason.to_string(),
                line: i + 1,
            });
        }
        Ok(IgnoreFile {
            entries,
            anchor: Default::default(),
        })
    }

    pub fn load(path: &Path) -> Result<IgnoreFile> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("{}", path.display()))
    }

    /// The nearest `.keywardenignore` at or above `start`.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        crate::config::find_upwards(start, FILE_NAME)
    }

    /// The reason a finding is ignored, if it is.
    pub fn matches(&self, f: &Finding) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| {
                e.fingerprint == f.fingerprint
                    && e.path.as_ref().is_none_or(|g| {
                        self.anchor
                            .rel(&f.path)
                            .is_some_and(|p| g.is_match(p.as_ref()))
                    })
            })
            .map(|e| e.reason.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_required_and_paths_scope() {
        assert!(IgnoreFile::parse("kw1:aa\n").is_err());
        assert!(IgnoreFile::parse("AKIA1234 # x\n").is_err());
        let i = IgnoreFile::parse(
            "# header\nkw1:aa tests/** # test fixture\nkw1:bb # rotated 2026-01\n",
        )
        .unwrap();
        assert_eq!(i.entries.len(), 2);
        assert!(
            i.entries[0]
                .path
                .as_ref()
                .unwrap()
                .is_match("tests/a/b.txt")
        );
        assert!(!i.entries[0].path.as_ref().unwrap().is_match("src/a.txt"));
    }
}
