//! Git history, staged changes and diffs, read with gix.

mod history;
mod leaks;
mod worktree;

use crate::pipeline::finding::{CommitInfo, Finding};
use crate::pipeline::{Scanner, Stats};
use crate::report::VcsInfo;
use anyhow::{Result, anyhow};
use gix::bstr::ByteSlice;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Which repository and which part of its history a git scan reads.
#[derive(Debug, Clone, Default)]
pub struct GitOptions {
    /// The repository: its work tree, its git directory, or a path inside it.
    pub repo: PathBuf,
    /// `A..B`: only commits reachable from B and not from A.
    pub range: Option<String>,
    /// Only commits not reachable from this ref.
    pub since_ref: Option<String>,
    /// Only these branches (default: every ref).
    pub branches: Vec<String>,
    /// Read at most this many commits, newest (by commit time) first; `None`: all of them.
    pub max_commits: Option<usize>,
    /// Threads that read and scan blobs (0 counts as 1).
    pub threads: usize,
    /// Commits already scanned (an earlier run's ref tips, `--state`): they and their
    /// history are left out.
    pub exclude: Vec<String>,
}

/// What a git scan found, plus source-specific counts and notes for the summary.
#[derive(Debug, Default)]
pub struct GitScan {
    /// The findings: for history scans, one per leaked value and path (see `git/leaks.rs`).
    pub findings: Vec<Finding>,
    /// Source-specific counts for the summary, by name (`commits`, `blobs`, `refs`,
    /// `staged_files`, `missing_objects`, ...).
    pub extra: BTreeMap<String, u64>,
    /// Caveats for the summary: a shallow clone, submodules not followed, missing objects.
    pub notes: Vec<String>,
    /// The repository's URL, revision and branch, for SARIF; `None` when not worked out.
    pub vcs: Option<VcsInfo>,
    /// Each ref scanned and the commit it points at (hex), sorted by name.
    pub tips: Vec<(String, String)>,
    /// The `exclude` commits that are still in the scanned history: a ref points at one, or a
    /// scanned commit has one as a parent. One missing from here was rewritten or deleted.
    pub exclude_reached: Vec<String>,
}

/// Every blob reachable from the chosen refs, scanned once, each (blob, path) attributed to
/// the commit that introduced it.
pub fn scan_history(
    scanner: &Scanner,
    opts: &GitOptions,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<GitScan> {
    history::scan(scanner, opts, progress)
}

/// The index's blobs that differ from HEAD (pre-commit).
pub fn scan_staged(scanner: &Scanner, repo: &Path) -> Result<GitScan> {
    worktree::scan_staged(scanner, repo)
}

/// Lines added since `base`.
pub fn scan_diff(scanner: &Scanner, repo: &Path, base: &str) -> Result<GitScan> {
    worktree::scan_diff(scanner, repo, base)
}

/// Drops the findings of a scoped history scan (`--range`, `--since-ref`) whose value the
/// commit inherited at that path: a commit that edits another line of a file already holding a
/// secret introduces a new blob holding it, but not the secret, and a pull request that only
/// changed `DEBUG=false` must not be failed for a key that was there before it. A value counts
/// as inherited when some parent's version of the same path holds its exact bytes; values found
/// inside an encoding, root commits and unreadable parents keep their findings. Returns how
/// many were dropped. Runs before fingerprinting, while findings still hold their values.
pub fn drop_inherited(repo_path: &Path, findings: &mut Vec<Finding>) -> Result<u64> {
    let repo = open(repo_path)?;
    let mut parents_of: std::collections::HashMap<String, Vec<gix::ObjectId>> =
        std::collections::HashMap::new();
    let mut dropped = 0;
    findings.retain(|f| {
        let Some(c) = &f.commit else {
            return true;
        };
        let parents = parents_of.entry(c.id.clone()).or_insert_with(|| {
            gix::ObjectId::from_hex(c.id.as_bytes())
                .ok()
                .and_then(|id| repo.find_commit(id).ok())
                .map(|commit| commit.parent_ids().map(|p| p.detach()).collect())
                .unwrap_or_default()
        });
        let inherited = parents.iter().any(|p| {
            (repo.find_commit(*p).ok().and_then(|c| c.tree().ok()))
                .is_some_and(|tree| tree_holds(&tree, f))
        });
        if inherited {
            dropped += 1;
        }
        !inherited
    });
    Ok(dropped)
}

/// Whether `tree`'s version of the finding's path holds the finding's value (its exact bytes).
/// A finding found inside an encoding, or without its value, is never held.
pub(crate) fn tree_holds(tree: &gix::Tree<'_>, f: &Finding) -> bool {
    let Some(secret) = f.pending.as_ref().filter(|s| !s.0.is_empty()) else {
        return false;
    };
    if f.decoded.is_some() {
        return false;
    }
    let Ok(Some(entry)) = tree.lookup_entry(f.path.split('/').map(|s| s.as_bytes())) else {
        return false;
    };
    entry
        .object()
        .is_ok_and(|o| memchr::memmem::find(&o.data, &secret.0).is_some())
}

pub(crate) const LFS_POINTER: &[u8] = b"version https://git-lfs.github.com/spec/v1";

/// Opens the repository holding `path` (a work tree, a bare repo, a linked worktree or any
/// directory inside one).
pub(crate) fn open(path: &Path) -> Result<gix::Repository> {
    if !path.exists() {
        return Err(anyhow!("{}: no such file or directory", path.display()));
    }
    let mut repo = gix::discover(path)
        .map_err(|e| anyhow!("{}: not a git repository ({e})", path.display()))?;
    // Trees are re-read across neighbouring commits; blobs are not cached (see history).
    repo.object_cache_size_if_unset(32 << 20);
    Ok(repo)
}

/// A revision that did not resolve, explained: what is missing and how to get it. gix's own
/// messages ("couldn't parse revision", "delegate.traverse(NthAncestor(1)) failed") say
/// neither, and the usual causes are a shallow CI checkout or a repository without commits.
pub(crate) fn unresolved(
    repo: &gix::Repository,
    spec: &str,
    err: impl std::fmt::Display,
) -> anyhow::Error {
    let unborn = repo.head_id().is_err();
    let hexish = |s: &str| s.len() >= 7 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let root = spec.split(['~', '^', '@']).next().unwrap_or(spec).trim();
    if unborn && (root.is_empty() || root == "HEAD") {
        return anyhow!(
            "{spec:?}: the repository has no commits yet, so there is no HEAD to compare with; \
             use --staged to scan what is staged"
        );
    }
    if repo.is_shallow().unwrap_or(false) {
        return anyhow!(
            "{spec:?} is not in this shallow clone (its history is cut off); fetch the history \
             it needs, e.g. `git fetch --unshallow` or `git fetch --deepen=100`, or check out \
             with `fetch-depth: 0` (actions/checkout) / `GIT_DEPTH: 0` (GitLab CI) ({err})"
        );
    }
    if hexish(root) {
        return anyhow!(
            "commit {root} is not in this repository; fetch it first (e.g. `git fetch origin {root}`) ({err})"
        );
    }
    anyhow!("{spec:?} names no branch, tag or commit in this repository ({err})")
}

/// Repository URI (origin's URL, else the path), HEAD and branch for SARIF.
pub(crate) fn vcs_info(repo: &gix::Repository) -> VcsInfo {
    let repository_uri = repo
        .find_remote("origin")
        .ok()
        .and_then(|r| {
            r.url(gix::remote::Direction::Fetch)
                .map(|u| u.to_bstring().to_string())
        })
        .unwrap_or_else(|| {
            let p = repo.workdir().unwrap_or_else(|| repo.git_dir());
            std::fs::canonicalize(p)
                .unwrap_or_else(|_| p.to_path_buf())
                .to_string_lossy()
                .into_owned()
        });
    let revision_id = repo.head_id().ok().map(|id| id.to_string());
    let branch = repo
        .head_name()
        .ok()
        .flatten()
        .map(|n| n.shorten().to_str_lossy().into_owned());
    VcsInfo {
        repository_uri,
        revision_id,
        branch,
    }
}

/// Seconds and offset as RFC 3339 in the signer's time zone.
pub(crate) fn rfc3339(t: gix::date::Time) -> String {
    let ts = jiff::Timestamp::from_second(t.seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let off = jiff::tz::Offset::from_seconds(t.offset).unwrap_or(jiff::tz::Offset::UTC);
    ts.display_with_offset(off).to_string()
}

/// Author, dates and summary of a commit object.
pub(crate) fn commit_info(id: gix::ObjectId, data: &[u8], kind: gix::hash::Kind) -> CommitInfo {
    let mut info = CommitInfo {
        id: id.to_string(),
        author_name: String::new(),
        author_email: String::new(),
        author_date: String::new(),
        committer_date: String::new(),
        summary: String::new(),
    };
    if let Ok(c) = gix::objs::CommitRef::from_bytes(data, kind) {
        if let Ok(a) = c.author() {
            let a = a.trim();
            info.author_name = a.name.to_str_lossy().into_owned();
            info.author_email = a.email.to_str_lossy().into_owned();
            if let Ok(t) = a.time() {
                info.author_date = rfc3339(t);
            }
        }
        if let Ok(t) = c.committer().and_then(|s| s.time()) {
            info.committer_date = rfc3339(t);
        }
        info.summary = c.message().summary().to_str_lossy().into_owned();
    }
    info
}

/// Checks shared by every git source before a blob is decoded: size limit.
pub(crate) fn too_large(scanner: &Scanner, size: u64) -> bool {
    if size > scanner.opts.max_file_size {
        Stats::add(&scanner.stats.skipped_large, 1);
        return true;
    }
    false
}

/// Git LFS pointer files hold no content of their own.
pub(crate) fn is_lfs_pointer(data: &[u8]) -> bool {
    data.starts_with(LFS_POINTER)
}
