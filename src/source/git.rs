//! Git history, staged changes and diffs, read with gix.

use crate::finding::Finding;
use crate::report::VcsInfo;
use crate::scanner::Scanner;
use anyhow::{Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default)]
pub struct GitOptions {
    pub repo: PathBuf,
    /// `A..B`: only commits reachable from B and not from A.
    pub range: Option<String>,
    /// Only commits not reachable from this ref.
    pub since_ref: Option<String>,
    /// Only these branches (default: every ref).
    pub branches: Vec<String>,
    pub max_commits: Option<usize>,
    pub threads: usize,
}

/// What a git scan found, plus source-specific counts and notes for the summary.
#[derive(Debug, Default)]
pub struct GitScan {
    pub findings: Vec<Finding>,
    pub extra: BTreeMap<String, u64>,
    pub notes: Vec<String>,
    pub vcs: Option<VcsInfo>,
}

pub fn scan_history(
    _scanner: &Scanner,
    _opts: &GitOptions,
    _progress: Option<&indicatif::ProgressBar>,
) -> Result<GitScan> {
    bail!("history scanning is not available in this build")
}

pub fn scan_staged(_scanner: &Scanner, _repo: &Path) -> Result<GitScan> {
    bail!("staged scanning is not available in this build")
}

pub fn scan_diff(_scanner: &Scanner, _repo: &Path, _base: &str) -> Result<GitScan> {
    bail!("diff scanning is not available in this build")
}
