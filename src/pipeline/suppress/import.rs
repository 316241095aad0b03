//! Importing other scanners' triage: detect-secrets `.secrets.baseline` and gitleaks
//! `.gitleaksignore` / JSON reports, mapped onto keywarden baseline entries by re-scanning.
//!
//! The input is parsed (and its format recognised from its content) before anything is scanned
//! or written: a file in the wrong or an unknown format is an error, never an empty import, so a
//! mistaken `--from` cannot wipe a baseline.
//!
//! What maps: detect-secrets entries by value (its `hashed_secret` is the SHA-1 of the value,
//! compared with the SHA-1 of each finding's value), except private keys, by location (see
//! [`Match::PrivateKeyLine`]); gitleaks ignore lines and report entries by file and line. What
//! cannot: entries whose secret keywarden does not detect, and gitleaks entries for commits
//! (history) when the scan is of a working tree.

use crate::pipeline::finding::Finding;
use crate::pipeline::suppress::baseline::{Baseline, Entry};
use anyhow::{Result, bail};
use sha1_smol::Sha1;
use std::collections::HashSet;

/// The tool named by `--from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
// Plain comments on the variants below: clap shows a variant's doc comment as that value's
// help in `--help`, the man page and completions.
#[allow(missing_docs)]
pub enum Source {
    // detect-secrets: its `.secrets.baseline`.
    DetectSecrets,
    // gitleaks: a `.gitleaksignore` or a `gitleaks detect` JSON report.
    Gitleaks,
}

/// A format recognised from the content of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.secrets.baseline`: a JSON object with a `results` object.
    DetectSecrets,
    /// `gitleaks detect --report-format json`: an array of objects with `File`, `StartLine`, ...
    GitleaksReport,
    /// `.gitleaksignore`: `[commit:]file:rule:line` lines and `#` comments.
    GitleaksIgnore,
}

impl Format {
    /// The tool that writes this format.
    fn source(self) -> Source {
        match self {
            Format::DetectSecrets => Source::DetectSecrets,
            Format::GitleaksReport | Format::GitleaksIgnore => Source::Gitleaks,
        }
    }

    /// The format as messages name it ("a gitleaks JSON report").
    pub fn describe(self) -> &'static str {
        match self {
            Format::DetectSecrets => "a detect-secrets baseline",
            Format::GitleaksReport => "a gitleaks JSON report",
            Format::GitleaksIgnore => "a .gitleaksignore file",
        }
    }
}

fn flag(s: Source) -> &'static str {
    match s {
        Source::DetectSecrets => "detect-secrets",
        Source::Gitleaks => "gitleaks",
    }
}

/// How one imported entry is matched against the findings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Match {
    /// By value: the SHA-1 (hex) of the secret, at the same path.
    Sha1(String),
    /// detect-secrets "Private Key" entries: its hash is of the matched `BEGIN ... PRIVATE KEY`
    /// marker, not of the key, so it can never equal a hash of our (base64-body) value. The
    /// entry's line is the marker's line, so it maps to a private-key finding whose lines
    /// contain it.
    PrivateKeyLine,
    /// By location: a finding at the same path whose lines contain the entry's line.
    Line,
}

/// One entry of the other tool's triage.
#[derive(Debug, Clone)]
pub struct Wanted {
    /// The file as the other tool named it: relative to the tree it scanned (a leading `./`
    /// is ignored when matching).
    pub file: String,
    /// The secret's line, counting from 1 (for detect-secrets private keys, the `BEGIN` line);
    /// 0 when the input gave none, which no finding covers.
    pub line: u64,
    /// detect-secrets' `type` or gitleaks' rule id, for messages.
    pub kind: String,
    /// gitleaks' commit, when the entry is for history.
    pub commit: Option<String>,
    /// How it is matched against keywarden's findings.
    pub how: Match,
}

impl Wanted {
    /// `file:line (kind)`, for the "not mapped" list. Holds no value.
    pub fn label(&self) -> String {
        match &self.commit {
            Some(c) => format!(
                "{}:{} ({}, commit {})",
                self.file,
                self.line,
                self.kind,
                &c[..c.len().min(12)]
            ),
            None => format!("{}:{} ({})", self.file, self.line, self.kind),
        }
    }
}

/// An input file read and checked before anything is scanned or written.
#[derive(Debug)]
pub struct Parsed {
    /// The format recognised from the content.
    pub format: Format,
    /// Its entries; empty when the file holds none (which is not an error).
    pub wanted: Vec<Wanted>,
}

/// The result of mapping the entries onto a scan's findings.
#[derive(Debug, Default)]
pub struct Imported {
    /// An entry for every finding an input entry mapped onto (one input entry may cover several
    /// findings on its line).
    pub baseline: Baseline,
    /// Input entries that mapped onto at least one finding.
    pub mapped: usize,
    /// Input entries that did not, as `file:line (kind)`.
    pub unmapped: Vec<String>,
}

/// Recognises the format of `text` and reads its entries. With `from`, content of another known
/// format is an error that names the right `--from`; content of no known format is an error.
pub fn parse(from: Option<Source>, text: &str) -> Result<Parsed> {
    let format = detect(text)?;
    if let Some(from) = from
        && from != format.source()
    {
        bail!(
            "this looks like {}, not {} input; use --from {} (or leave --from out)",
            format.describe(),
            flag(from),
            flag(format.source())
        );
    }
    let wanted = match format {
        Format::DetectSecrets => detect_secrets(&serde_json::from_str(unbom(text))?),
        Format::GitleaksReport => gitleaks_report(&serde_json::from_str(unbom(text))?),
        Format::GitleaksIgnore => gitleaks_ignore(text)?,
    };
    Ok(Parsed { format, wanted })
}

/// The format of `text`, from its content alone. Errors never quote the content: an unknown
/// file may be anything, secrets included.
pub fn detect(text: &str) -> Result<Format> {
    let t = unbom(text).trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        let doc: serde_json::Value = match serde_json::from_str(t) {
            Ok(v) => v,
            Err(e) => bail!("the file starts like JSON but does not parse ({e})"),
        };
        if doc.get("results").is_some_and(|r| r.is_object()) {
            return Ok(Format::DetectSecrets);
        }
        if let Some(items) = doc.as_array()
            && items.iter().all(|i| {
                i.get("File").is_some_and(|v| v.is_string())
                    && i.get("StartLine").is_some_and(|v| v.is_u64())
                    && i.get("RuleID").is_some_and(|v| v.is_string())
            })
        {
            // `[]` too: gitleaks writes an empty array when it found nothing.
            return Ok(Format::GitleaksReport);
        }
        bail!(
            "unrecognised JSON document: neither a detect-secrets baseline (an object with a \
             `results` object) nor a gitleaks JSON report (an array of objects with `File`, \
             `StartLine` and `RuleID`)"
        );
    }
    for (i, raw) in unbom(text).lines().enumerate() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if ignore_line(l).is_none() {
            bail!(
                "unrecognised format: line {} is not a .gitleaksignore entry \
                 (`[commit:]file:rule:line`), and the file is not a detect-secrets baseline or \
                 gitleaks JSON report",
                i + 1
            );
        }
    }
    // Empty or comments only: an empty .gitleaksignore is still one.
    Ok(Format::GitleaksIgnore)
}

/// Files saved by some Windows editors start with a byte-order mark, which JSON parsers reject.
fn unbom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// `[commit:]file:rule:line` as (commit, file, rule, line); None when it is not one.
fn ignore_line(l: &str) -> Option<(Option<&str>, &str, &str, u64)> {
    let mut parts = l.rsplitn(3, ':');
    let line = parts.next()?.parse::<u64>().ok()?;
    let rule = parts.next()?;
    let mut file = parts.next()?;
    // Rule ids are single words (`aws-access-token`); anything else is some other `a:b:1` text.
    if rule.is_empty()
        || !rule
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return None;
    }
    let mut commit = None;
    if let Some((head, rest)) = file.split_once(':')
        && head.len() == 40
        && head.bytes().all(|b| b.is_ascii_hexdigit())
    {
        commit = Some(head);
        file = rest;
    }
    if file.is_empty() {
        return None;
    }
    Some((commit, file, rule, line))
}

fn detect_secrets(doc: &serde_json::Value) -> Vec<Wanted> {
    let mut out = Vec::new();
    let results = doc.get("results").and_then(|r| r.as_object());
    for (file, items) in results.into_iter().flatten() {
        for item in items.as_array().into_iter().flatten() {
            let kind = item
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or("?")
                .to_string();
            let hashed = item
                .get("hashed_secret")
                .and_then(|h| h.as_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            let how = if kind == "Private Key" {
                Match::PrivateKeyLine
            } else {
                Match::Sha1(hashed)
            };
            out.push(Wanted {
                file: file.clone(),
                line: item
                    .get("line_number")
                    .and_then(|l| l.as_u64())
                    .unwrap_or(0),
                kind,
                commit: None,
                how,
            });
        }
    }
    out
}

fn gitleaks_report(doc: &serde_json::Value) -> Vec<Wanted> {
    let s = |item: &serde_json::Value, k: &str| {
        item.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    (doc.as_array().into_iter().flatten())
        .map(|item| {
            let commit = s(item, "Commit");
            Wanted {
                file: s(item, "File"),
                line: item.get("StartLine").and_then(|v| v.as_u64()).unwrap_or(0),
                kind: s(item, "RuleID"),
                commit: (!commit.is_empty()).then_some(commit),
                how: Match::Line,
            }
        })
        .collect()
}

fn gitleaks_ignore(text: &str) -> Result<Vec<Wanted>> {
    let mut out = Vec::new();
    for (i, raw) in unbom(text).lines().enumerate() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let Some((commit, file, rule, line)) = ignore_line(l) else {
            bail!("line {}: not a .gitleaksignore entry", i + 1);
        };
        out.push(Wanted {
            file: file.to_string(),
            line,
            kind: rule.to_string(),
            commit: commit.map(String::from),
            how: Match::Line,
        });
    }
    Ok(out)
}

fn norm(p: &str) -> &str {
    p.trim_start_matches("./")
}

/// Private-key rules whose keys detect-secrets' "Private Key" plugin reports (PEM, OpenSSH,
/// PGP, SSH2, PuTTY), by their `BEGIN ... PRIVATE KEY` (or PuTTY header) line.
fn is_private_key_rule(rule_id: &str) -> bool {
    rule_id.starts_with("private-key-")
        || rule_id == "pgp-private-key-block"
        || rule_id == "putty-private-key"
}

/// Maps the entries onto `findings`, which must carry unredacted values in `secret` (the import
/// scans with them shown and never prints them). The other tool named files relative to the
/// tree it scanned; `root` is that tree relative to the base findings are named against (empty
/// when it is the base).
pub fn map(parsed: &Parsed, findings: &[Finding], root: &str) -> Imported {
    let mut out = Imported::default();
    let mut seen = HashSet::new();
    for w in &parsed.wanted {
        let file = if root.is_empty() {
            norm(&w.file).to_string()
        } else {
            format!("{root}/{}", norm(&w.file))
        };
        let covers = |f: &Finding| f.line as u64 <= w.line && w.line <= f.end_line as u64;
        let hits: Vec<&Finding> = (findings.iter())
            .filter(|f| norm(&f.path) == file)
            .filter(|f| match &w.how {
                Match::Sha1(h) => Sha1::from(f.secret.as_bytes()).digest().to_string() == *h,
                Match::PrivateKeyLine => is_private_key_rule(&f.rule_id) && covers(f),
                Match::Line => covers(f),
            })
            .collect();
        if hits.is_empty() {
            out.unmapped.push(w.label());
        } else if seen.insert((norm(&w.file), w.line, &w.how)) {
            // The same location listed twice (a gitleaks report lists a leak per commit) counts
            // once.
            out.mapped += 1;
            out.baseline.entries.extend(hits.into_iter().map(Entry::of));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_formats_from_content() {
        let ds = r#"{"version":"1.5.0","plugins_used":[],"results":{},"generated_at":"x"}"#;
        assert_eq!(detect(ds).unwrap(), Format::DetectSecrets);
        let gl = r#"[{"File":"a.env","StartLine":2,"RuleID":"aws-access-token"}]"#;
        assert_eq!(detect(gl).unwrap(), Format::GitleaksReport);
        assert_eq!(detect("[]").unwrap(), Format::GitleaksReport);
        let ign = "# reviewed\n\na.env:aws-access-token:2\n\
                   0123456789abcdef0123456789abcdef01234567:b/c.py:generic-api-key:10\n";
        assert_eq!(detect(ign).unwrap(), Format::GitleaksIgnore);
        assert!(detect(r#"{"findings":[]}"#).is_err());
        assert!(detect(r#"[{"path":"a","line":1}]"#).is_err());
        assert!(detect("{ not json").is_err());
        assert!(detect("KEY=value\n").is_err());
        assert!(detect("a.env:aws-access-token:two\n").is_err());
        assert!(detect("url: http://x:80\n").is_err());
    }

    #[test]
    fn from_must_agree_with_content() {
        let ds = r#"{"results":{"a.env":[{"type":"AWS Access Key","hashed_secret":"ab","line_number":1}]}}"#;
        let e = parse(Some(Source::Gitleaks), ds).unwrap_err().to_string();
        assert!(e.contains("detect-secrets baseline") && e.contains("--from detect-secrets"));
        let e = parse(Some(Source::DetectSecrets), "a:r:1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--from gitleaks"), "{e}");
        let p = parse(None, ds).unwrap();
        assert_eq!(p.format, Format::DetectSecrets);
        assert_eq!(p.wanted[0].label(), "a.env:1 (AWS Access Key)");
    }

    #[test]
    fn ignore_lines_with_commits_and_colons_in_paths() {
        let w = gitleaks_ignore(
            "0123456789abcdef0123456789abcdef01234567:dir/a:b.txt:rule-x:7\nc.txt:rule-y:3\n",
        )
        .unwrap();
        assert_eq!(w[0].file, "dir/a:b.txt");
        assert_eq!(w[0].line, 7);
        assert_eq!(w[0].kind, "rule-x");
        assert_eq!(
            w[0].commit.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(w[1].label(), "c.txt:3 (rule-y)");
    }
}
