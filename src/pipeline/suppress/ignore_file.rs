//! `.keywardenignore`: precise, reviewed suppressions keyed on value fingerprints.
//!
//! Each line: `FINGERPRINT [PATH-GLOB]  # reason` — the reason is required. A fingerprint
//! names one secret value, so a different secret later written on the same line (or anywhere)
//! is still reported.

use crate::pipeline::finding::Finding;
use crate::pipeline::fingerprint;
use anyhow::{Context, Result, bail};
use globset::{Glob, GlobMatcher};
use std::path::{Path, PathBuf};

/// The name [`IgnoreFile::discover`] looks for.
const FILE_NAME: &str = ".keywardenignore";

/// One line of the ignore file: a value, optionally only in some paths, and why it is accepted.
pub struct IgnoreEntry {
    /// The fingerprint as written, `kw2:` or (written before `kw2:`) `kw1:`.
    pub fingerprint: String,
    /// Only findings whose path, relative to the ignore file's directory, matches; None
    /// accepts the value anywhere.
    pub path: Option<GlobMatcher>,
    /// Why the value is accepted (the text after `#`, never empty); it becomes the
    /// suppression's justification in reports.
    pub reason: String,
    /// Where the entry is in the file, counting from 1.
    pub line: usize,
}

/// A parsed `.keywardenignore`: the entries each finding is checked against.
#[derive(Default)]
pub struct IgnoreFile {
    /// In file order; the first entry that matches a finding gives its reason.
    pub entries: Vec<IgnoreEntry>,
    /// Path globs are relative to the ignore file's directory.
    pub anchor: crate::config::Anchor,
}

impl IgnoreFile {
    /// Reads ignore-file text: blank and `#` lines are skipped; an entry without a reason, with
    /// something other than a fingerprint first, or with a bad glob is an error naming its line.
    fn parse(text: &str) -> Result<IgnoreFile> {
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
            if !fingerprint::is_fingerprint(fp) {
                bail!(
                    "line {}: expected a fingerprint (kw2: and 32 hex digits), found {fp:?}",
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

    /// Reads the file at `path`. `anchor` is left at the scan's base: the caller, which knows
    /// the base, sets it with `Anchor::for_file`.
    pub fn load(path: &Path) -> Result<IgnoreFile> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("{}", path.display()))
    }

    /// The nearest `.keywardenignore` at or above `start`.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        crate::config::find_upwards(start, FILE_NAME)
    }

    /// Whether an entry was written before `kw2:` fingerprints: matching it needs the keyed
    /// findings' `kw1:` fingerprints (`Scanner::fingerprint_pending` with `legacy`).
    pub fn has_legacy(&self) -> bool {
        (self.entries.iter()).any(|e| e.fingerprint.starts_with(fingerprint::LEGACY_PREFIX))
    }

    /// The reason a finding is ignored, if it is. A `kw1:` entry matches a finding by its `kw1:`
    /// fingerprint.
    pub fn matches(&self, f: &Finding) -> Option<&str> {
        let legacy = (f.legacy_fingerprint.as_deref()).map(fingerprint::canonical);
        self.entries
            .iter()
            .find(|e| {
                let fp = fingerprint::canonical(&e.fingerprint);
                (fp == f.fingerprint.as_str() || legacy.as_ref() == Some(&fp))
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
        let (a, b) = ("a".repeat(32), "b".repeat(32));
        assert!(IgnoreFile::parse(&format!("kw2:{a}\n")).is_err());
        assert!(IgnoreFile::parse("AKIA1234 # x\n").is_err());
        assert!(IgnoreFile::parse("kw2:aa # too short\n").is_err());
        let i = IgnoreFile::parse(&format!(
            "# header\nkw2:{a} tests/** # test fixture\nkw1:{b} # rotated 2026-01\n"
        ))
        .unwrap();
        assert!(i.has_legacy());
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
