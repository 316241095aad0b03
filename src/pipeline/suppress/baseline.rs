//! Baselines: accepted findings recorded once, so that CI fails only on new leaks.
//!
//! One entry per line, `fingerprint<TAB>rule<TAB>path`, sorted by fingerprint: no secret values,
//! no line numbers (edits and rebases do not churn it), and two branches that each add an entry
//! land on different lines, so they merge without conflict. A finding matches an entry with the
//! same fingerprint, rule and path; a finding left over matches an unused entry with the same
//! fingerprint and rule (the file moved).

use crate::pipeline::finding::Finding;
use crate::pipeline::fingerprint;
use anyhow::{Context, Result, bail};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// The comment lines every written baseline starts with (the parser skips `#` lines).
const HEADER: &str = "# keywarden baseline v1: accepted findings, one per line: fingerprint, rule, path (tab-separated).\n# Holds value fingerprints, never secrets. Regenerate with `keywarden scan --write-baseline FILE`.\n";

/// One accepted finding, one line of the file. No line number: edits above the secret do not
/// stale it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entry {
    /// The value's fingerprint: `kw2:`, or `kw1:` in entries written before `kw2:`.
    pub fingerprint: String,
    /// The id of the rule that found the value.
    pub rule_id: String,
    /// The finding's path: relative to the scan's base, `/`-separated.
    pub path: String,
}

impl Entry {
    /// The entry that accepts `f`, with `f`'s current fingerprint.
    pub fn of(f: &Finding) -> Entry {
        Entry {
            fingerprint: f.fingerprint.clone(),
            rule_id: f.rule_id.clone(),
            path: f.path.clone(),
        }
    }
}

/// A baseline file's entries. A set: the file's order and duplicate lines do not matter, which
/// is what lets git's union merge combine two branches' baselines.
#[derive(Debug, Default, Clone)]
pub struct Baseline {
    /// The accepted findings.
    pub entries: BTreeSet<Entry>,
}

impl Baseline {
    /// Reads baseline text: blank and `#` lines are skipped, every other line must be
    /// `fingerprint<TAB>rule<TAB>path` (the path takes the rest of the line).
    fn parse(text: &str) -> Result<Baseline> {
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

    /// Reads the baseline at `path`. A missing file or a malformed line is an error (naming
    /// the line), never an empty baseline that would fail every accepted finding.
    pub fn load(path: &Path) -> Result<Baseline> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading baseline {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("baseline {}", path.display()))
    }

    /// A baseline that accepts every finding given (`scan --write-baseline`).
    pub fn from_findings<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Baseline {
        Baseline {
            entries: findings.into_iter().map(Entry::of).collect(),
        }
    }

    /// The file's text: the header, then one line per entry, sorted by fingerprint, rule and
    /// path so that branches adding different entries touch different lines.
    fn render(&self) -> String {
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

    /// Whether an entry was written before `kw2:` fingerprints: matching it needs the keyed
    /// findings' `kw1:` fingerprints (`Scanner::fingerprint_pending` with `legacy`).
    pub fn has_legacy(&self) -> bool {
        (self.entries.iter()).any(|e| e.fingerprint.starts_with(fingerprint::LEGACY_PREFIX))
    }

    /// Splits findings into (new, baselined) and returns the entries that matched nothing.
    /// Entries written before `kw2:` match by the finding's `kw1:` fingerprint.
    pub fn partition(&self, findings: Vec<Finding>) -> Partition {
        // Entries by (fingerprint as compared, rule): the first lookup wants the path too, the
        // second (moved files) takes any unused entry of the value and rule.
        let mut by_value: HashMap<(String, &str), Vec<&Entry>> = HashMap::new();
        for e in &self.entries {
            by_value
                .entry((
                    fingerprint::canonical(&e.fingerprint).into_owned(),
                    &e.rule_id,
                ))
                .or_default()
                .push(e);
        }
        let mut unused: BTreeSet<&Entry> = self.entries.iter().collect();
        let mut out = Partition::default();
        let mut leftovers = Vec::new();
        // A finding's keys: its fingerprint, and its `kw1:` one when that differs.
        let keys = |f: &Finding| {
            let mut k = vec![fingerprint::canonical(&f.fingerprint).into_owned()];
            k.extend(
                (f.legacy_fingerprint.as_deref()).map(|l| fingerprint::canonical(l).into_owned()),
            );
            k
        };
        for f in findings {
            let hit = keys(&f).into_iter().find_map(|k| {
                (by_value.get(&(k, f.rule_id.as_str())))
                    .and_then(|v| v.iter().find(|e| e.path == f.path))
                    .copied()
            });
            match hit {
                Some(e) => {
                    unused.remove(e);
                    out.matched.push((e.clone(), Entry::of(&f)));
                    out.known.push(f);
                }
                None => leftovers.push(f),
            }
        }
        for f in leftovers {
            let hit = keys(&f).into_iter().find_map(|k| {
                (by_value.get(&(k, f.rule_id.as_str())))
                    .and_then(|v| v.iter().find(|e| unused.contains(*e)))
                    .copied()
            });
            match hit {
                Some(e) => {
                    unused.remove(e);
                    out.matched.push((e.clone(), Entry::of(&f)));
                    out.known.push(f);
                }
                None => out.new.push(f),
            }
        }
        out.stale = unused.into_iter().cloned().collect();
        out
    }

    /// The entries still in use after a scan, each as this version writes it: an entry that
    /// matched a finding becomes that finding's entry (a `kw1:` fingerprint becomes `kw2:`, a
    /// moved file's entry takes the new path), and an entry nothing matched is dropped.
    pub fn kept(&self, p: &Partition) -> Baseline {
        let mut kept = self.clone();
        for e in &p.stale {
            kept.entries.remove(e);
        }
        for (old, _) in &p.matched {
            kept.entries.remove(old);
        }
        for (_, now) in &p.matched {
            kept.entries.insert(now.clone());
        }
        kept
    }
}

/// Findings split by a baseline.
#[derive(Debug, Default)]
pub struct Partition {
    /// Findings no entry accepts.
    pub new: Vec<Finding>,
    /// Findings an entry accepts.
    pub known: Vec<Finding>,
    /// Each accepting entry, with the entry the finding would get today.
    pub matched: Vec<(Entry, Entry)>,
    /// Entries that matched nothing.
    pub stale: Vec<Entry>,
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
            legacy_fingerprint: None,
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
        let p = b.partition(vec![
            f("kw1:aa", "c.txt"),
            f("kw1:bb", "b.txt"),
            f("kw1:bb", "d.txt"),
            f("kw1:cc", "a.txt"),
        ]);
        let (new, known, stale) = (p.new, p.known, p.stale);
        let new_paths: Vec<_> = new
            .iter()
            .map(|x| (x.fingerprint.as_str(), x.path.as_str()))
            .collect();
        assert_eq!(new_paths, vec![("kw1:bb", "d.txt"), ("kw1:cc", "a.txt")]);
        assert_eq!(known.len(), 2);
        assert!(stale.is_empty());
        assert_eq!(b.partition(vec![]).stale.len(), 2);
    }

    #[test]
    fn entries_written_before_kw2_still_match_and_are_rewritten_when_kept() {
        let (old_keyed, old_weak) = (
            format!("kw1:{}", "1".repeat(32)),
            format!("kw1:{}", "2".repeat(32)),
        );
        let b = Baseline::from_findings(&[f(&old_keyed, "a.txt"), f(&old_weak, "b.txt")]);
        assert!(b.has_legacy());
        // A keyed value: a new fingerprint, matched by its kw1 form. A stretched value: the
        // same hex digits under kw2.
        let mut keyed = f(&format!("kw2:{}", "9".repeat(32)), "a.txt");
        keyed.legacy_fingerprint = Some(old_keyed.clone());
        let weak = f(&format!("kw2:{}", "2".repeat(32)), "b.txt");
        let mut unknown = f(&format!("kw2:{}", "8".repeat(32)), "a.txt");
        unknown.legacy_fingerprint = Some(format!("kw1:{}", "7".repeat(32)));
        let p = b.partition(vec![keyed, weak, unknown]);
        assert_eq!(p.known.len(), 2);
        assert_eq!(p.new.len(), 1);
        assert!(p.stale.is_empty());
        let kept: Vec<String> = (b.kept(&p).entries.into_iter())
            .map(|e| e.fingerprint)
            .collect();
        assert_eq!(
            kept,
            vec![
                format!("kw2:{}", "2".repeat(32)),
                format!("kw2:{}", "9".repeat(32))
            ]
        );
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
