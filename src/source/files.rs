//! Working trees: a parallel walk that honours .gitignore/.ignore, scans hidden files, never
//! enters `.git`, and reads each file once.

use crate::finding::{Finding, Provenance};
use crate::scanner::{Scanner, Stats};
use ignore::{WalkBuilder, WalkState};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    pub follow_symlinks: bool,
    /// Ignore .gitignore/.ignore files.
    pub no_ignore: bool,
    pub threads: usize,
}

/// Path of `p` relative to `root`, with `/` separators.
pub fn display_path(root: &Path, p: &Path) -> String {
    let rel = if root.is_file() {
        p
    } else {
        p.strip_prefix(root).unwrap_or(p)
    };
    let s = rel.to_string_lossy().replace('\\', "/");
    if s.is_empty() {
        p.to_string_lossy().into_owned()
    } else {
        s
    }
}

pub fn scan(
    scanner: &Scanner,
    roots: &[PathBuf],
    opts: &WalkOptions,
    progress: Option<&indicatif::ProgressBar>,
) -> Vec<Finding> {
    let findings = Mutex::new(Vec::new());
    for root in roots {
        if !root.exists() {
            scanner
                .stats
                .error(format!("{}: no such file or directory", root.display()));
            continue;
        }
        let walker = WalkBuilder::new(root)
            .hidden(false)
            .follow_links(opts.follow_symlinks)
            .git_ignore(!opts.no_ignore)
            .git_global(false)
            .git_exclude(!opts.no_ignore)
            .ignore(!opts.no_ignore)
            .parents(!opts.no_ignore)
            .threads(opts.threads)
            .filter_entry(|e| e.file_name() != ".git")
            .build_parallel();
        walker.run(|| {
            let findings = &findings;
            Box::new(move |entry| {
                let entry = match entry {
                    Ok(e) => e,
                    Err(err) => {
                        scanner.stats.error(err.to_string());
                        return WalkState::Continue;
                    }
                };
                if entry.path_is_symlink() && !opts.follow_symlinks {
                    if entry.depth() > 0 {
                        Stats::add(&scanner.stats.skipped_symlink, 1);
                    }
                    return WalkState::Continue;
                }
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    return WalkState::Continue;
                }
                let path = entry.path();
                let shown = display_path(root, path);
                if scanner.allowlist.path_allowed(&shown) {
                    Stats::add(&scanner.stats.skipped_allowlisted_path, 1);
                    return WalkState::Continue;
                }
                let found = scan_file(scanner, path, shown);
                if let Some(p) = progress {
                    p.inc(1);
                }
                if !found.is_empty()
                    && let Ok(mut f) = findings.lock()
                {
                    f.extend(found);
                }
                WalkState::Continue
            })
        });
    }
    findings.into_inner().unwrap_or_default()
}

fn scan_file(scanner: &Scanner, path: &Path, shown: String) -> Vec<Finding> {
    let size = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) => {
            scanner.stats.error(format!("{}: {e}", path.display()));
            return Vec::new();
        }
    };
    if size > scanner.opts.max_file_size {
        Stats::add(&scanner.stats.skipped_large, 1);
        return Vec::new();
    }
    match std::fs::read(path) {
        Ok(data) => scanner.scan_blob(&data, &Provenance::file(shown)),
        Err(e) => {
            scanner.stats.error(format!("{}: {e}", path.display()));
            Vec::new()
        }
    }
}
