//! Findings: what a match becomes once it has a location, a redacted form and a fingerprint.

use crate::rules::{Confidence, Severity};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The commit that introduced a blob at a path (history scans).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: String,
    pub author_name: String,
    pub author_email: String,
    /// RFC 3339.
    pub author_date: String,
    /// RFC 3339.
    pub committer_date: String,
    pub summary: String,
}

/// Where a blob came from.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// Path relative to the scanned root, with `/` separators (`-` for stdin).
    pub path: String,
    pub commit: Option<Arc<CommitInfo>>,
    /// Git blob id, for history scans.
    pub blob_id: Option<String>,
    /// Line numbers in `data` start at this offset (1 for whole files); for diff hunks the
    /// number of the hunk's first line in the new file.
    pub first_line: usize,
    /// For added-lines scans: only matches on these line numbers (sorted) are reported.
    pub only_lines: Option<Arc<Vec<usize>>>,
}

impl Provenance {
    pub fn file(path: impl Into<String>) -> Self {
        Provenance {
            path: path.into(),
            first_line: 1,
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    pub rule_id: String,
    pub rule_name: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub start_byte: usize,
    pub end_byte: usize,
    /// Redacted unless the scan ran with `--show-secrets`.
    pub secret: String,
    /// The line holding the secret, with the secret redacted as above.
    pub snippet: String,
    pub entropy: f64,
    pub fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The decoding the secret was found under (`base64`, `hex`, `url`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitInfo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
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

/// 1-based line and column (in characters) of byte offsets, counted incrementally so that
/// many matches in one blob cost one pass over it.
pub struct LineCursor<'a> {
    data: &'a [u8],
    first_line: usize,
    pos: usize,
    line: usize,
    line_start: usize,
}

impl<'a> LineCursor<'a> {
    pub fn new(data: &'a [u8], first_line: usize) -> Self {
        LineCursor {
            data,
            first_line,
            pos: 0,
            line: first_line,
            line_start: 0,
        }
    }

    /// Line and column of `at`; calls must come in non-decreasing `at` order for speed, but
    /// an earlier position restarts the count.
    pub fn locate(&mut self, at: usize) -> (usize, usize) {
        let at = at.min(self.data.len());
        if at < self.pos {
            self.pos = 0;
            self.line = self.first_line;
            self.line_start = 0;
        }
        for nl in memchr::memchr_iter(b'\n', &self.data[self.pos..at]) {
            self.line += 1;
            self.line_start = self.pos + nl + 1;
        }
        self.pos = at;
        let col = char_count(&self.data[self.line_start..at]) + 1;
        (self.line, col)
    }

    /// Byte range of the line holding `at`.
    pub fn line_bounds(data: &[u8], at: usize) -> (usize, usize) {
        let at = at.min(data.len());
        let start = memchr::memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i);
        (start, end)
    }
}

fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
