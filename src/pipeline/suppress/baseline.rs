//! Baselines: accepted findings recorded once, so that CI fails only on new leaks.
//!
//! One entry per line, `fingerprint<TAB>rule<TAB>path`, sorted by fingerprint: no secret values,
//! no line numbers (edits and rebases do not churn it), and two branches that each add an entry
//! land on different lines, so they merge without conflict. A finding matches an entry with the
//! same fingerprint, rule and path; a finding left over matches an unused entry with the same
//! fingerprint and rule (the file moved).

use crate::pipeline::finding::Finding;
use anyhow::{Context, Result, bail};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

pub const HEADER: &str = "# keywarden baseline v1: accepted findings, one per line: fingerprint, rule, path (tab-separated).\n# Holds value fingerprints, never secrets. Regenerate with `keywarden scan --write-baseline FILE`.\n";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entry {
    pub fingerprint: String,
    pub rule_id: String,
    pub path: String,
}

impl Entry {
    pub fn of(f: &Finding) -> Entry {
        Entry {
            fingerprint: f.fingerprint.clone(),
            rule_id: f.rule_id.clone(),
            path: f.path.clone(),
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct Baseline {
    pub entries: BTreeSet<Entry>,
}

impl Baseline {
    pub fn parse(text: &str) -> Result<Baseline> {
        let mut entries = BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.splitn(3, '\t');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(fp), Some(rule), Some(path)) if fp.starts_with("kw") => {
                    entries.insert(Entry {
                        fingerprint: fp.to_string(),
                        rule_id: rule.to_string(),
                        path: path.to_string(),
                    });
                }
                _ => bail!(
                    "baseline line {}: expected fingerprint<TAB>rule<TAB>path",
                    i + 1
                ),
            }
        }
        Ok(Baseline { entries })
    }

    pub fn load(path: &Path) -> Result<Baseline> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading baseline {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("baseline {}", path.display()))
    }

    pub fn from_findings<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Baseline {
        Baseline {
            entries: findings.into_iter().map(Entry::of).collect(),
        }
    }

    pub fn render(&self) -> String {
        let mut sorted: Vec<&Entry> = self.entries.iter().collect();
        sorted.sort_by(|a, b| {
            (&a.fingerprint, &a.rule_id, &a.path).cmp(&(&b.fingerprint, &b.rule_id, &b.path))
        });
        let mut out = String::from(HEADER);
        for e in sorted {
            out.push_str(&format!("{}\t{}\t{}\n", e.fingerprint, e.rule_id, e.path));
        }
        out
    }

    /// Writes the baseline atomically: a temporary file in the same directory, renamed over
    /// `path`, so that an interrupted or failed write never leaves a truncated baseline (which
    /// would accept nothing, or fail every CI run until restored).
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, self.render().as_bytes())
            .with_context(|| format!("writing baseline {}", path.display()))
    }

    /// Marks the baseline at `path` `merge=union` in its repository's `.gitattributes` (once),
    /// and returns the attributes file when it was changed. Sorted one-line entries conflict
    /// whenever two branches each accept a finding whose lines are neighbours; with the union
    /// driver git keeps both sides' lines, and since entries are a set read in any order, the
    /// merged file is the union of both baselines. Outside a git work tree nothing is done.
    pub fn ensure_union_merge(path: &Path) -> Result<Option<std::path::PathBuf>> {
        let abs = crate::source::paths::absolute(path);
        let Some(dir) = abs.parent() else {
            return Ok(None);
        };
        let Some(root) = crate::source::paths::repo_root(dir) else {
            return Ok(None);
        };
        if !root.join(".git").exists() {
            return Ok(None);
        }
        let rel = crate::source::paths::relative_to(&root, &abs);
        let attrs = root.join(".gitattributes");
        let text = std::fs::read_to_string(&attrs).unwrap_or_default();
        let pattern = format!("/{rel}");
        let present = text.lines().any(|l| {
            let mut w = l.split_whitespace();
            matches!(w.next(), Some(p) if p == pattern || p == rel) && w.any(|a| a == "merge=union")
        });
        if present {
            return Ok(None);
        }
        let mut out = text;
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!(
            "# keywarden baseline: each line is one accepted finding, so branches merge by union\n{pattern} merge=union\n"
        ));
        std::fs::write(&attrs, out).with_context(|| format!("writing {}", attrs.display()))?;
        Ok(Some(attrs))
    }

    /// Adds `other`'s entries; returns how many were new (the rest were already present).
    pub fn merge(&mut self, other: Baseline) -> usize {
        let before = self.entries.len();
        self.entries.extend(other.entries);
        self.entries.len() - before
    }

    /// Splits findings into (new, baselined) and returns the entries that matched nothing.
    pub fn partition(&self, findings: Vec<Finding>) -> (Vec<Finding>, Vec<Finding>, Vec<Entry>) {
        let mut unused: BTreeSet<&Entry> = self.entries.iter().collect();
        let mut new = Vec::new();
        let mut known = Vec::new();
        let mut leftovers = Vec::new();
        for f in findings {
            let e = Entry::of(&f);
            if self.entries.contains(&e) {
                unused.remove(&e);
                known.push(f);
            } else {
                leftovers.push(f);
            }
        }
        // Moved files: the same value and rule under a path whose entry went unused.
        let mut by_value: HashMap<(String, String), Vec<&Entry>> = HashMap::new();
        for e in &unused {
            by_value
                .entry((e.fingerprint.clone(), e.rule_id.clone()))
                .or_default()
                .push(e);
        }
        let mut consumed: Vec<Entry> = Vec::new();
        for f in leftovers {
            let hit = by_value
                .get_mut(&(f.fingerprint.clone(), f.rule_id.clone()))
                .and_then(|v| v.pop());
            match hit {
                Some(e) => {
                    consumed.push(e.clone());
                    known.push(f);
                }
                None => new.push(f),
            }
        }
        for e in &consumed {
            unused.remove(e);
        }
        let stale = unused.into_iter().cloned().collect();
        (new, known, stale)
    }
}

/// Writes `bytes` to `path` by renaming a sibling temporary file over it (a rename within one
/// directory is atomic on POSIX and replaces the target on Windows too).
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "baseline".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        // Keep the mode of the file being replaced (a new file gets the umask's).
        if let Ok(meta) = std::fs::metadata(path) {
            f.set_permissions(meta.permissions())?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Confidence, Severity};

    fn f(fp: &str, path: &str) -> Finding {
        Finding {
            rule_id: "r".into(),
            rule_name: "R".into(),
            severity: Severity::High,
            confidence: Confidence::High,
            path: path.into(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
            start_byte: 0,
            end_byte: 1,
            secret: "x***".into(),
            snippet: String::new(),
            entropy: 0.0,
            fingerprint: fp.into(),
            pending: None,
            key_id: None,
            decoded: None,
            blob_id: None,
            commit: None,
            history: None,
            field: None,
            repository: None,
            tags: vec![],
        }
    }

    #[test]
    fn round_trip_moves_and_new_copies() {
        let b = Baseline::from_findings(&[f("kw1:aa", "a.txt"), f("kw1:bb", "b.txt")]);
        let b = Baseline::parse(&b.render()).unwrap();
        // a.txt moved to c.txt; a new copy of bb appears in d.txt; kw1:cc is new.
        let (new, known, stale) = b.partition(vec![
            f("kw1:aa", "c.txt"),
            f("kw1:bb", "b.txt"),
            f("kw1:bb", "d.txt"),
            f("kw1:cc", "a.txt"),
        ]);
        let new_paths: Vec<_> = new
            .iter()
            .map(|x| (x.fingerprint.as_str(), x.path.as_str()))
            .collect();
        assert_eq!(new_paths, vec![("kw1:bb", "d.txt"), ("kw1:cc", "a.txt")]);
        assert_eq!(known.len(), 2);
        assert!(stale.is_empty());
        let (_, _, stale) = b.partition(vec![]);
        assert_eq!(stale.len(), 2);
    }

    #[test]
    fn merge_counts_new_entries_and_save_replaces_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kw.bl");
        let mut b = Baseline::from_findings(&[f("kw1:aa", "a.txt"), f("kw1:bb", "b.txt")]);
        b.save(&p).unwrap();
        let added = b.merge(Baseline::from_findings(&[
            f("kw1:bb", "b.txt"),
            f("kw1:cc", "c.txt"),
        ]));
        assert_eq!(added, 1);
        b.save(&p).unwrap();
        assert_eq!(Baseline::load(&p).unwrap().entries.len(), 3);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("kw.bl")],
            "no temp file left"
        );
    }

    #[test]
    fn rejects_malformed_lines() {
        assert!(Baseline::parse("kw1:aa only-two\n").is_err());
        assert!(Baseline::parse("# comment\n\n").unwrap().entries.is_empty());
    }
}
