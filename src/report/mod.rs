//! Reports: the same scan result printed for people (text) or machines (JSON, JSONL, SARIF,
//! GitLab Secret Detection, JUnit XML).

pub mod gitlab;
pub mod html;
pub mod json;
pub mod junit;
pub mod org;
pub mod sarif;
pub mod text;

use crate::pipeline::finding::Finding;
use crate::rules::{Rule, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the JSON/JSONL finding schema (`docs/output.md`).
pub const SCHEMA: &str = "keywarden/scan/v1";

/// A scan report's output format (`scan --format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
// Plain comments on the variants below: clap shows a variant's doc comment as that value's
// help in `--help`, the man page and completions.
#[allow(missing_docs)]
pub enum Format {
    // Text for people: findings, then a summary; coloured on a terminal.
    Text,
    // One JSON document: findings, suppressed findings and the summary (docs/output.md).
    Json,
    // One finding per line, no summary.
    Jsonl,
    // SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitLab Secret Detection report (security report schema 15.x).
    Gitlab,
    /// JUnit XML: a failing testcase per finding, for CI test dashboards.
    Junit,
}

/// Counts for the summary line; every skipped or suppressed item is counted here.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Blobs scanned as text (files, git blob versions, stdin); wholly encrypted ones are not
    /// counted.
    pub files_scanned: u64,
    /// Bytes of the blobs scanned, as stored (before any UTF-16 or UTF-32 decoding).
    pub bytes_scanned: u64,
    /// Blobs skipped as binary.
    pub skipped_binary: u64,
    /// Files decoded from UTF-16 or UTF-32 and scanned (also in `files_scanned`).
    #[serde(default)]
    pub decoded_utf16: u64,
    /// Blobs skipped for being larger than the size limit (`--max-file-size`).
    pub skipped_too_large: u64,
    /// Symbolic links not followed in a tree walk.
    pub skipped_symlinks: u64,
    /// Files not read because a config allowlist path covers them.
    pub skipped_allowlisted_paths: u64,
    /// Named pipes, sockets and devices: never read, since reading one can block or never end.
    #[serde(default)]
    pub skipped_special: u64,
    /// Other scanners' baselines (detect-secrets `.secrets.baseline`): hashes, not secrets.
    #[serde(default)]
    pub skipped_scanner_baselines: u64,
    /// Files encrypted at rest (SOPS, Sealed Secrets, Ansible Vault, git-crypt, Rails
    /// encrypted credentials): wholly encrypted ones are not scanned (nor in `files_scanned`),
    /// files with encrypted values are scanned without reporting those values.
    #[serde(default)]
    pub encrypted_files: u64,
    /// Inputs that could not be read (missing paths, permissions, loops, bad objects).
    pub errors: u64,
    /// False when any input could not be read: the scan saw less than it was asked to, so
    /// "no findings" is not a clean result. Exit code 3 unless `--allow-incomplete`.
    #[serde(default = "yes")]
    pub complete: bool,
    /// Findings reported (not suppressed).
    pub findings: u64,
    /// Reported findings per severity name; severities with none are left out.
    pub findings_by_severity: BTreeMap<String, u64>,
    /// Suppressed findings by mechanism: `inline_allow`, `allowlist`, `min_confidence`,
    /// `ignore_file`, `baseline`.
    pub suppressed: BTreeMap<String, u64>,
    /// Baseline entries that matched no finding (secret gone or moved out of scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_unmatched: Option<u64>,
    /// Source-specific counts (git: commits, blobs, missing objects, LFS pointers, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, u64>,
    /// Caveats about what was read: a shallow clone, submodules not followed, missing objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The first 200 errors' messages; `errors` counts them all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_messages: Vec<String>,
    /// Wall-clock time of the scan, in milliseconds.
    pub elapsed_ms: u64,
}

impl Default for Summary {
    fn default() -> Self {
        Summary {
            files_scanned: 0,
            bytes_scanned: 0,
            skipped_binary: 0,
            skipped_too_large: 0,
            skipped_symlinks: 0,
            skipped_allowlisted_paths: 0,
            skipped_special: 0,
            skipped_scanner_baselines: 0,
            encrypted_files: 0,
            decoded_utf16: 0,
            errors: 0,
            complete: true,
            findings: 0,
            findings_by_severity: BTreeMap::new(),
            suppressed: BTreeMap::new(),
            baseline_unmatched: None,
            extra: BTreeMap::new(),
            notes: Vec::new(),
            error_messages: Vec::new(),
            elapsed_ms: 0,
        }
    }
}

fn yes() -> bool {
    true
}

impl Summary {
    /// `n thing` or `n things`.
    pub fn count(n: u64, one: &str, many: &str) -> String {
        format!("{n} {}", if n == 1 { one } else { many })
    }
}

/// What a history leak asks of its reader, from where it stands: one sentence shared by every
/// format.
pub fn leak_advice(h: &crate::pipeline::finding::LeakHistory) -> String {
    if h.present {
        return "still in HEAD: rotate it, then remove it".into();
    }
    if h.unreachable {
        return "its commits left every ref (deleted or rewritten) but it leaked: rotate it".into();
    }
    match &h.removed_in {
        Some(c) => format!(
            "removed in {} on {}, still in history: rotate it",
            &c.id[..c.id.len().min(7)],
            c.committer_date.get(..10).unwrap_or("")
        ),
        None => "not in HEAD's history, still in other refs: rotate it".into(),
    }
}

/// Version-control facts for SARIF `versionControlProvenance`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VcsInfo {
    /// The `origin` remote's fetch URL, else the canonical path of the work tree (or git
    /// directory).
    pub repository_uri: String,
    /// HEAD's commit id, hex; `None` when HEAD is unborn.
    pub revision_id: Option<String>,
    /// The branch HEAD names; `None` when HEAD is detached.
    pub branch: Option<String>,
}

/// A finding that a suppression mechanism hid, kept for reports that show suppressions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Suppressed {
    /// The finding as it would have been reported.
    pub finding: Finding,
    /// `baseline`, `ignore-file`, ...
    pub by: String,
    /// Why it was hidden: the ignore-file entry's reason, or `accepted in baseline`.
    pub justification: Option<String>,
}

/// Everything a report format prints about one scan, borrowed from its outcome.
pub struct ScanReport<'a> {
    /// The reported findings.
    pub findings: &'a [Finding],
    /// Findings a baseline or ignore file hid, for the formats that show them.
    pub suppressed: &'a [Suppressed],
    /// The scan's counters.
    pub summary: &'a Summary,
    /// The rules that produced a reported or suppressed finding, for the formats that describe
    /// their rules (SARIF, GitLab).
    pub rules: &'a [Rule],
    /// When the scan started, RFC 3339 in UTC.
    pub scan_time: String,
    /// The scanned repository, for SARIF's `versionControlProvenance`; `None` when the scan did
    /// not read one.
    pub vcs: Option<VcsInfo>,
    /// Whether text output uses ANSI colours.
    pub color: bool,
    /// A baseline was applied: SARIF results carry `baselineState`.
    pub baseline_used: bool,
}

pub(crate) fn severity_counts(findings: &[Finding]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for s in Severity::ALL {
        let n = findings.iter().filter(|f| f.severity == s).count() as u64;
        if n > 0 {
            m.insert(s.to_string(), n);
        }
    }
    m
}

pub(crate) fn write(
    report: &ScanReport,
    format: Format,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    match format {
        Format::Text => text::write(report, out),
        Format::Json => json::write(report, out),
        Format::Jsonl => json::write_lines(report, out),
        Format::Sarif => sarif::write(report, out),
        Format::Gitlab => gitlab::write(report, out),
        Format::Junit => junit::write(report, out),
    }
}
