//! Working trees: a parallel walk that honours .gitignore/.ignore, scans hidden files, never
//! enters `.git`, and reads each file once.

use crate::pipeline::finding::{Finding, Provenance};
use crate::pipeline::{Scanner, Stats};
use crate::source::paths::Shown;
use ignore::{WalkBuilder, WalkState};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How a working-tree walk treats symbolic links, ignore files and threads.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Follow symbolic links (`--follow-symlinks`); unfollowed ones are counted in
    /// `Stats::skipped_symlink`.
    pub follow_symlinks: bool,
    /// Ignore .gitignore/.ignore files.
    pub no_ignore: bool,
    /// Walker threads; 0 lets the walker choose.
    pub threads: usize,
}

/// Walks every root and scans its files. Paths in findings are relative to `base`
/// (see [`crate::source::paths`]).
pub fn scan(
    scanner: &Scanner,
    base: &Path,
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
        let shown_as = Shown::new(base, root);
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
            let shown_as = &shown_as;
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
                let Some(kind) = entry.file_type() else {
                    return WalkState::Continue;
                };
                if !kind.is_file() {
                    // Reading a named pipe, socket or device can block or never end.
                    if !kind.is_dir() && !kind.is_symlink() {
                        Stats::add(&scanner.stats.skipped_special, 1);
                    }
                    return WalkState::Continue;
                }
                let path = entry.path();
                let shown = shown_as.show(path);
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

/// Bytes asked for by the first read of a file.
const FIRST_READ: u64 = 64 << 10;

fn scan_file(scanner: &Scanner, path: &Path, shown: String) -> Vec<Finding> {
    use std::io::Read;
    thread_local! {
        // One read buffer per walker thread: no allocation or fresh pages per file.
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let fail = |e: std::io::Error| {
        scanner.stats.error(format!("{}: {e}", path.display()));
        Vec::new()
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let max = scanner.opts.max_file_size;
    BUF.with_borrow_mut(|buf| {
        buf.clear();
        // Most files end within the first read: then no fstat and no second read of data.
        // The first block also decides binary files without reading the rest of them.
        let first = FIRST_READ.min(max.saturating_add(1));
        buf.reserve(first as usize);
        if let Err(e) = file.by_ref().take(first).read_to_end(buf) {
            return fail(e);
        }
        if crate::pipeline::is_binary(buf) {
            Stats::add(&scanner.stats.skipped_binary, 1);
            return Vec::new();
        }
        if buf.len() as u64 == first {
            let size = match file.metadata() {
                Ok(m) => m.len(),
                Err(e) => return fail(e),
            };
            if size > max {
                Stats::add(&scanner.stats.skipped_large, 1);
                return Vec::new();
            }
            // A file that grows while it is read is cut at the size limit, counted as large.
            buf.reserve((size + 1).saturating_sub(first) as usize);
            if let Err(e) = file.take(max.saturating_add(1) - first).read_to_end(buf) {
                return fail(e);
            }
            if buf.len() as u64 > max {
                Stats::add(&scanner.stats.skipped_large, 1);
                return Vec::new();
            }
        }
        let found = scanner.scan_blob(buf, &Provenance::file(shown));
        if buf.capacity() > 8 << 20 {
            *buf = Vec::new();
        }
        found
    })
}
