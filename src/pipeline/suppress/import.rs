//! Importing other scanners' triage: detect-secrets `.secrets.baseline` and gitleaks
//! `.gitleaksignore` / JSON reports, mapped onto keywarden baseline entries by re-scanning.
//!
//! What maps: detect-secrets entries by value (its `hashed_secret` is the SHA-1 of the value,
//! compared with the SHA-1 of each finding's value); gitleaks ignore lines and report entries by
//! file and line. What cannot: entries whose secret keywarden does not detect, and gitleaks
//! entries for commits (history) when the scan is of a working tree.

use crate::pipeline::finding::Finding;
use crate::pipeline::suppress::baseline::{Baseline, Entry};
use anyhow::{Context, Result, bail};
use sha1_smol::Sha1;
use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    DetectSecrets,
    Gitleaks,
}

#[derive(Debug, Default)]
pub struct Imported {
    pub baseline: Baseline,
    pub mapped: usize,
    pub unmapped: Vec<String>,
}

/// `findings` must carry unredacted values in `secret` (the import scans with them shown and
/// never prints them).
pub fn import(source: Source, text: &str, findings: &[Finding]) -> Result<Imported> {
    match source {
        Source::DetectSecrets => detect_secrets(text, findings),
        Source::Gitleaks => gitleaks(text, findings),
    }
}

fn norm(p: &str) -> &str {
    p.trim_start_matches("./")
}

fn detect_secrets(text: &str, findings: &[Finding]) -> Result<Imported> {
    let doc: serde_json::Value =
        serde_json::from_str(text).context("detect-secrets baseline is not JSON")?;
    let Some(results) = doc.get("results").and_then(|r| r.as_object()) else {
        bail!("detect-secrets baseline has no `results` object");
    };
    let mut out = Imported::default();
    for (file, items) in results {
        for item in items.as_array().into_iter().flatten() {
            let hashed = item
                .get("hashed_secret")
                .and_then(|h| h.as_str())
                .unwrap_or("");
            let line = item
                .get("line_number")
                .and_then(|l| l.as_u64())
                .unwrap_or(0);
            let hits: Vec<&Finding> = findings
                .iter()
                .filter(|f| norm(&f.path) == norm(file))
                .filter(|f| Sha1::from(f.secret.as_bytes()).digest().to_string() == hashed)
                .collect();
            if hits.is_empty() {
                out.unmapped.push(format!(
                    "{file}:{line} ({})",
                    item.get("type").and_then(|t| t.as_str()).unwrap_or("?")
                ));
            } else {
                out.mapped += 1;
                out.baseline.entries.extend(hits.into_iter().map(Entry::of));
            }
        }
    }
    Ok(out)
}

fn gitleaks(text: &str, findings: &[Finding]) -> Result<Imported> {
    let mut wanted: Vec<(String, u64, String)> = Vec::new();
    if text.trim_start().starts_with('[') {
        let report: serde_json::Value =
            serde_json::from_str(text).context("gitleaks report is not JSON")?;
        for item in report.as_array().into_iter().flatten() {
            let file = item
                .get("File")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let line = item.get("StartLine").and_then(|v| v.as_u64()).unwrap_or(0);
            let label = item
                .get("Fingerprint")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            wanted.push((file, line, label));
        }
    } else {
        // .gitleaksignore: `file:rule:line` or `commit:file:rule:line`.
        for raw in text.lines() {
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = l.rsplitn(3, ':').collect();
            if parts.len() < 3 {
                continue;
            }
            let line = parts[0].parse::<u64>().unwrap_or(0);
            let mut file = parts[2].to_string();
            if let Some((head, rest)) = file.split_once(':')
                && head.len() == 40
                && head.bytes().all(|b| b.is_ascii_hexdigit())
            {
                file = rest.to_string();
            }
            wanted.push((file, line, l.to_string()));
        }
    }
    let mut out = Imported::default();
    let mut seen = HashSet::new();
    for (file, line, label) in wanted {
        let hits: Vec<&Finding> = findings
            .iter()
            .filter(|f| {
                norm(&f.path) == norm(&file) && f.line as u64 <= line && line <= f.end_line as u64
            })
            .collect();
        if hits.is_empty() {
            out.unmapped.push(label);
        } else if seen.insert((file, line)) {
            out.mapped += 1;
            out.baseline.entries.extend(hits.into_iter().map(Entry::of));
        }
    }
    Ok(out)
}
