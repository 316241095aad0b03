//! Findings: what a match becomes once it has a location, a redacted form and a fingerprint.

use crate::rules::{Confidence, Severity};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The commit that introduced a blob at a path (history scans).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full hex object id.
    pub id: String,
    /// The author's name, as recorded (not checked against anything).
    pub author_name: String,
    /// The author's email, as recorded.
    pub author_email: String,
    /// RFC 3339.
    pub author_date: String,
    /// RFC 3339.
    pub committer_date: String,
    /// The first line of the commit message.
    pub summary: String,
}

/// Where a leak found in history stands. A history scan reports one finding per leaked value
/// at one path; its `commit` is the commit that introduced the value there, and this says
/// where the value went afterwards.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LeakHistory {
    /// Whether HEAD's version of the path still holds the value.
    pub present: bool,
    /// When HEAD no longer holds it: the first commit on HEAD's first-parent line whose version
    /// of the path no longer does. None when the value never reached that line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_in: Option<CommitInfo>,
    /// The newest commit (in topological order) whose version of the path holds the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<CommitInfo>,
    /// How many (commit, path) versions hold it.
    pub occurrences: u64,
    /// How many refs (branches, tags, remotes, the stash) reach a commit holding it.
    pub refs: u64,
    /// Their names, at most [`LeakHistory::REF_NAMES`] of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ref_names: Vec<String>,
    /// Kept from an earlier `--state` run although no ref reaches its commit any more (the
    /// branch was deleted or rewritten): still a leak to rotate, no longer in the history.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unreachable: bool,
}

/// A repository of an organisation scan: its name in the list and its remote's URL.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RepoRef {
    /// The repository's name, as the repository list gives it.
    pub name: String,
    /// Its remote's URL; `None` when it has none, or only a local path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl LeakHistory {
    /// Ref names listed per leak; `refs` counts them all.
    pub const REF_NAMES: usize = 10;
}

/// Where a blob came from. Every path is relative to the scan's base, with `/` separators.
#[derive(Debug, Clone)]
pub enum Provenance {
    /// A file of a working tree, or standard input (`-`, or the `--stdin-name`).
    File {
        /// Relative to the scan's base; `-` (or the `--stdin-name`) for standard input.
        path: String,
    },
    /// A git object: a version in history (its commit is attached when the findings are
    /// grouped into leaks) or the index's content (`--staged`).
    GitBlob {
        /// The blob's path in its commit's tree (or in the index).
        path: String,
        /// The blob's object id, hex.
        blob_id: String,
    },
    /// A file's new version in `--diff`: only findings on these added lines (1-based, sorted)
    /// are reported.
    AddedLines {
        /// The file's path, relative to the scan's base.
        path: String,
        /// The added lines, 1-based and sorted.
        lines: Arc<Vec<usize>>,
    },
}

impl Provenance {
    /// A working-tree file (or stdin) at `path`, relative to the scan's base.
    pub fn file(path: impl Into<String>) -> Self {
        Provenance::File { path: path.into() }
    }

    /// The blob's path, relative to the scan's base, `/`-separated.
    pub fn path(&self) -> &str {
        match self {
            Provenance::File { path }
            | Provenance::GitBlob { path, .. }
            | Provenance::AddedLines { path, .. } => path,
        }
    }

    /// The git blob id, for a blob read from git; `None` for files and stdin.
    pub fn blob_id(&self) -> Option<&str> {
        match self {
            Provenance::GitBlob { blob_id, .. } => Some(blob_id),
            _ => None,
        }
    }

    /// The only lines findings may be on, when not all of them.
    pub fn only_lines(&self) -> Option<&[usize]> {
        match self {
            Provenance::AddedLines { lines, .. } => Some(lines),
            _ => None,
        }
    }
}

/// One reported secret: which rule found it, where, its redacted form and fingerprint, and
/// for history and organisation scans where it came from. Serialised as the JSON `Finding`
/// of docs/output.md.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    /// The id of the rule that matched.
    pub rule_id: String,
    /// The rule's human-readable name.
    pub rule_name: String,
    /// The rule's severity (after any config override).
    pub severity: Severity,
    /// The rule's confidence as this match adjusted it: raised by a passing validator, lowered
    /// by a failing one or when a generic rule matched only inside decoded text.
    pub confidence: Confidence,
    /// Relative to the scan's base, `/`-separated; `-` (or `--stdin-name`) for stdin.
    pub path: String,
    /// 1-based line of the secret's start.
    pub line: usize,
    /// 1-based column of the secret's start, in Unicode code points.
    pub column: usize,
    /// 1-based line of the secret's end.
    pub end_line: usize,
    /// 1-based column just past the secret's end, in Unicode code points.
    pub end_column: usize,
    /// Byte offset of the secret's start in the blob (for a decoded finding: of the encoded
    /// text; for UTF-16 or UTF-32 text: in its UTF-8 decoding).
    pub start_byte: usize,
    /// Byte offset just past the secret's end, counted like `start_byte`.
    pub end_byte: usize,
    /// Redacted unless the scan ran with `--show-secrets`.
    pub secret: String,
    /// The line holding the secret, with the secret redacted as above.
    pub snippet: String,
    /// Shannon entropy of the secret, in bits per byte, rounded to two decimals.
    pub entropy: f64,
    /// The value's `kw1:` fingerprint: the same for the same value whatever the rule, file or
    /// commit. Empty while the scan defers fingerprints.
    pub fingerprint: String,
    /// A non-secret identifier found with the secret (an AWS access key id), in clear, for
    /// joining with inventories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The name the value is assigned to on its line (`DB_PASSWORD`, `password`,
    /// `aws_secret_access_key`), when the line names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The decoding the secret was found under (`base64`, `hex`, `url`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded: Option<String>,
    /// The git blob the secret is in (history scans: the version that introduced it); `None` for
    /// files and stdin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_id: Option<String>,
    /// History scans: the commit that introduced the value at this path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitInfo>,
    /// History scans: where the leak went after `commit` introduced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Box<LeakHistory>>,
    /// Organisation scans (`--repos`): the repository the finding is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<Box<RepoRef>>,
    /// The rule's tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The secret, held only until the scan fingerprints all its findings together
    /// (`Scanner::fingerprint_pending`); never serialised or printed.
    #[serde(skip)]
    pub(crate) pending: Option<PendingSecret>,
    /// The value's `kw1:` fingerprint, when it differs from `fingerprint` by more than the
    /// prefix and a baseline or ignore file still holds `kw1:` entries to match; never
    /// serialised.
    #[serde(skip)]
    pub(crate) legacy_fingerprint: Option<String>,
}

/// A secret waiting for its fingerprint. Its `Debug` does not show it.
#[derive(Clone, PartialEq)]
pub(crate) struct PendingSecret(pub(crate) Vec<u8>);

impl std::fmt::Debug for PendingSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PendingSecret({} bytes)", self.0.len())
    }
}

/// The name a value at byte `at` of `line` is assigned to: the identifier before the
/// separator (`=`, `:`, `=>`, `,` of a call such as `define('X', ...)`, `>` of an XML element)
/// that precedes the value, quotes and spaces aside. None when no separator precedes the
/// value (a bare token, `Bearer ...`) or the name is part of a URL (`scheme://user:pass@`).
pub fn field_before(line: &[u8], at: usize) -> Option<String> {
    let mut end = at.min(line.len());
    let skip_quotes = |end: &mut usize| {
        while *end > 0 && matches!(line[*end - 1], b' ' | b'\t' | b'"' | b'\'' | b'`') {
            *end -= 1;
        }
    };
    skip_quotes(&mut end);
    let before_sep = end;
    while end > 0
        && matches!(
            line[end - 1],
            b'=' | b':' | b',' | b'(' | b'>' | b' ' | b'\t'
        )
    {
        end -= 1;
    }
    if end == before_sep {
        return None;
    }
    skip_quotes(&mut end);
    let stop = end;
    while end > 0
        && (line[end - 1].is_ascii_alphanumeric() || matches!(line[end - 1], b'_' | b'.' | b'-'))
    {
        end -= 1;
    }
    let name = &line[end..stop];
    if name.is_empty() || name.len() > 64 || !name.iter().any(u8::is_ascii_alphabetic) {
        return None;
    }
    if end > 0 && line[end - 1] == b'/' {
        return None;
    }
    Some(String::from_utf8_lossy(name).into_owned())
}

/// A short prefix of the secret, the rest masked.
pub fn redact(secret: &str) -> String {
    let first_line = secret.lines().next().unwrap_or("");
    let n = first_line.chars().count();
    let keep = match n {
        0..=5 => 0,
        6..=11 => 2,
        12..=19 => 4,
        _ => 6,
    };
    let prefix: String = first_line.chars().take(keep).collect();
    format!("{prefix}{}", "*".repeat((n - keep).clamp(3, 12)))
}

/// 1-based line and column (in characters) of byte offsets, and the line around them. The
/// blob's line feeds are indexed once, on first use, so any number of findings cost one pass
/// over it plus a binary search each, in any order; columns are counted on from the last one
/// asked on the same line, so a minified file's single long line is not counted again for
/// every finding on it.
pub struct LineCursor<'a> {
    data: &'a [u8],
    first_line: usize,
    newlines: Option<Vec<usize>>,
    /// (line start, offset, column) of the last column worked out.
    col: (usize, usize, usize),
    /// (line start, answer) of the last `line_has`.
    has: Option<(usize, bool)>,
}

impl<'a> LineCursor<'a> {
    /// A cursor over `data`, whose first line is numbered `first_line`.
    pub fn new(data: &'a [u8], first_line: usize) -> Self {
        LineCursor {
            data,
            first_line,
            newlines: None,
            col: (0, 0, 1),
            has: None,
        }
    }

    fn newlines(&mut self) -> &[usize] {
        let data = self.data;
        self.newlines
            .get_or_insert_with(|| memchr::memchr_iter(b'\n', data).collect())
    }

    /// Line and column of `at`.
    pub fn locate(&mut self, at: usize) -> (usize, usize) {
        let at = at.min(self.data.len());
        let first_line = self.first_line;
        let nl = self.newlines();
        let k = nl.partition_point(|&p| p < at);
        let line_start = if k == 0 { 0 } else { nl[k - 1] + 1 };
        let (ls, pos, col) = self.col;
        let col = if ls == line_start && pos <= at {
            col + char_count(&self.data[pos..at])
        } else {
            char_count(&self.data[line_start..at]) + 1
        };
        self.col = (line_start, at, col);
        (first_line + k, col)
    }

    /// Byte range of the line holding `at` (without its line feed).
    pub fn line_bounds(&mut self, at: usize) -> (usize, usize) {
        let at = at.min(self.data.len());
        let len = self.data.len();
        let nl = self.newlines();
        let k = nl.partition_point(|&p| p < at);
        let start = if k == 0 { 0 } else { nl[k - 1] + 1 };
        (start, nl.get(k).copied().unwrap_or(len))
    }

    /// Whether the line `s..e` (from `line_bounds`) contains `needle`. Looked for once per
    /// line: every finding on a long line asks again (the needle is always the same: the
    /// inline allow marker).
    pub fn line_has(&mut self, (s, e): (usize, usize), needle: &[u8]) -> bool {
        match self.has {
            Some((ls, yes)) if ls == s => yes,
            _ => {
                let yes = memchr::memmem::find(&self.data[s..e], needle).is_some();
                self.has = Some((s, yes));
                yes
            }
        }
    }
}

fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_is_the_name_before_the_separator() {
        // Values are stand-ins (the placeholder filter drops them): this module is scanned too.
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("DB_PASSWORD=changeme", "changeme", Some("DB_PASSWORD")),
            (r#"  "password": "changeme","#, "changeme", Some("password")),
            (
                "define('DB_PASSWORD', 'changeme');",
                "changeme",
                Some("DB_PASSWORD"),
            ),
            (
                "aws_secret_access_key = changeme",
                "changeme",
                Some("aws_secret_access_key"),
            ),
            (
                "export ANSIBLE_BECOME_PASS='changeme'",
                "changeme",
                Some("ANSIBLE_BECOME_PASS"),
            ),
            (":password => 'changeme'", "changeme", Some("password")),
            (
                "<password>changeme</password>",
                "changeme",
                Some("password"),
            ),
            (
                "spring.datasource.password: changeme",
                "changeme",
                Some("spring.datasource.password"),
            ),
            ("postgres://app:changeme@db/x", "changeme", None),
            ("Authorization: Bearer changeme", "changeme", None),
            ("changeme", "changeme", None),
            ("= changeme", "changeme", None),
        ];
        for (line, value, want) in cases {
            let at = line.find(value).unwrap();
            assert_eq!(
                field_before(line.as_bytes(), at).as_deref(),
                *want,
                "{line}"
            );
        }
    }

    #[test]
    fn redaction_keeps_a_prefix_only() {
        let r = redact("ghp_R4nd0mBody7Qx2LmZ9pWcVtYkN3sHjD1fGa");
        assert!(r.starts_with("ghp_R4"));
        assert!(!r.contains("Body"));
        assert_eq!(redact("abc"), "***");
    }

    #[test]
    fn cursor_counts_lines_and_chars() {
        let data = "one\ntwo é x\nthree".as_bytes();
        let mut c = LineCursor::new(data, 1);
        assert_eq!(c.locate(0), (1, 1));
        let x = data.iter().position(|&b| b == b'x').unwrap();
        assert_eq!(c.locate(x), (2, 7));
        assert_eq!(c.locate(data.len()), (3, 6));
        assert_eq!(c.locate(1), (1, 2));
        assert_eq!(c.line_bounds(x), (4, 12));
        assert_eq!(c.line_bounds(3), (0, 3), "a line feed belongs to its line");
        assert_eq!(c.line_bounds(data.len()), (13, data.len()));
        // Columns counted on from the last one, and again after going back on the line.
        let l = "ab\néé éé z".as_bytes();
        let mut c = LineCursor::new(l, 10);
        assert_eq!(c.locate(l.len() - 1), (11, 7));
        assert_eq!(c.locate(l.len()), (11, 8));
        assert_eq!(c.locate(3), (11, 1));
        assert_eq!(c.locate(7), (11, 3));
        assert_eq!(c.locate(2), (10, 3));
    }
}
