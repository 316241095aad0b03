//! The per-blob pipeline shared by every source: engine matches, decoded layers, filters,
//! locations, redaction and fingerprints.

use crate::config::Allowlist;
use crate::decode;
use crate::engine::{Engine, Match};
use crate::finding::{Finding, LineCursor, Provenance, redact};
use crate::fingerprint::fingerprint;
use crate::rules::Confidence;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

pub const INLINE_ALLOW: &[u8] = b"keywarden:allow";

#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub show_secrets: bool,
    pub min_confidence: Confidence,
    pub inline_allow: bool,
    pub max_file_size: u64,
    /// Nested decoding layers to look through (0 = none).
    pub decode_depth: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            show_secrets: false,
            min_confidence: Confidence::Low,
            inline_allow: true,
            max_file_size: 25 * 1024 * 1024,
            decode_depth: 2,
        }
    }
}

/// Counters for the summary; nothing skipped goes uncounted.
#[derive(Debug, Default)]
pub struct Stats {
    pub blobs_scanned: AtomicU64,
    pub bytes_scanned: AtomicU64,
    pub skipped_binary: AtomicU64,
    pub skipped_large: AtomicU64,
    pub skipped_symlink: AtomicU64,
    pub skipped_allowlisted_path: AtomicU64,
    pub skipped_lfs: AtomicU64,
    pub errors: AtomicU64,
    pub suppressed_inline: AtomicU64,
    pub suppressed_allowlist: AtomicU64,
    pub suppressed_confidence: AtomicU64,
    pub error_messages: Mutex<Vec<String>>,
}

impl Stats {
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    pub fn error(&self, msg: String) {
        Self::add(&self.errors, 1);
        if let Ok(mut m) = self.error_messages.lock()
            && m.len() < 200
        {
            m.push(msg);
        }
    }
}

pub struct Scanner {
    pub engine: Engine,
    pub opts: ScanOptions,
    pub allowlist: Allowlist,
    pub stats: Stats,
}

/// Bytes sniffed for NUL to call a blob binary.
const SNIFF: usize = 8192;

pub fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(SNIFF)]).is_some()
}

impl Scanner {
    pub fn new(engine: Engine, opts: ScanOptions, allowlist: Allowlist) -> Self {
        Scanner {
            engine,
            opts,
            allowlist,
            stats: Stats::default(),
        }
    }

    /// Scans one blob that passed the size check; binary blobs are counted and skipped.
    pub fn scan_blob(&self, data: &[u8], prov: &Provenance) -> Vec<Finding> {
        if is_binary(data) {
            Stats::add(&self.stats.skipped_binary, 1);
            return Vec::new();
        }
        Stats::add(&self.stats.blobs_scanned, 1);
        Stats::add(&self.stats.bytes_scanned, data.len() as u64);
        let mut found = Vec::new();
        let matches = self.engine.scan(data);
        let mut cursor = LineCursor::new(data, prov.first_line.max(1));
        for m in &matches {
            if let Some(f) = self.finding(data, data, m, m.start, m.end, None, prov, &mut cursor) {
                found.push(f);
            }
        }
        if self.opts.decode_depth > 0 {
            self.scan_decoded(data, prov, &matches, &mut found, &mut cursor);
        }
        if !self.opts.show_secrets && found.len() > 1 {
            // A snippet must not show another finding's secret from the same line.
            let raw: Vec<(String, String)> = matches
                .iter()
                .map(|m| {
                    let v = String::from_utf8_lossy(&data[m.start..m.end]).into_owned();
                    let shown = redact(&v);
                    (v, shown)
                })
                .filter(|(v, _)| v.len() >= 4)
                .collect();
            for f in &mut found {
                for (v, shown) in &raw {
                    if f.snippet.contains(v.as_str()) {
                        f.snippet = f.snippet.replace(v.as_str(), shown);
                    }
                }
            }
        }
        found
    }

    /// Secrets hidden under an encoding, reported at the encoded span in the blob.
    fn scan_decoded(
        &self,
        data: &[u8],
        prov: &Provenance,
        raw: &[Match],
        found: &mut Vec<Finding>,
        cursor: &mut LineCursor,
    ) {
        for layer in decode::layers(data, self.opts.decode_depth) {
            // An encoded span already reported raw (e.g. a base64 token) is not reported again.
            if raw
                .iter()
                .any(|m| m.start < layer.end && layer.start < m.end)
            {
                continue;
            }
            for m in self.engine.scan(&layer.decoded) {
                if let Some(f) = self.finding(
                    data,
                    &layer.decoded,
                    &m,
                    layer.start,
                    layer.end,
                    Some(layer.chain.clone()),
                    prov,
                    cursor,
                ) {
                    found.push(f);
                }
            }
        }
    }

    /// Builds a finding for match `m` found in `hay` (the blob or a decoded layer of it),
    /// reported at `loc_start..loc_end` of the blob.
    #[allow(clippy::too_many_arguments)]
    fn finding(
        &self,
        data: &[u8],
        hay: &[u8],
        m: &Match,
        loc_start: usize,
        loc_end: usize,
        decoded: Option<String>,
        prov: &Provenance,
        cursor: &mut LineCursor,
    ) -> Option<Finding> {
        let rule = self.engine.rule(m.rule);
        let secret_bytes = &hay[m.start..m.end];
        let secret = String::from_utf8_lossy(secret_bytes).into_owned();
        let (ls, le) = LineCursor::line_bounds(data, loc_start);
        let line_bytes = &data[ls..le];
        if self.opts.inline_allow && memchr::memmem::find(line_bytes, INLINE_ALLOW).is_some() {
            Stats::add(&self.stats.suppressed_inline, 1);
            return None;
        }
        let mut confidence = m.confidence;
        if decoded.is_some()
            && confidence > Confidence::Low
            && rule.tags.iter().any(|t| t == "generic")
        {
            confidence = confidence.lower();
        }
        if confidence < self.opts.min_confidence {
            Stats::add(&self.stats.suppressed_confidence, 1);
            return None;
        }
        if self
            .allowlist
            .finding_allowed(&rule.id, &prov.path, &secret)
        {
            Stats::add(&self.stats.suppressed_allowlist, 1);
            return None;
        }
        let (line, column) = cursor.locate(loc_start);
        if let Some(only) = &prov.only_lines
            && only.binary_search(&line).is_err()
        {
            return None;
        }
        let (end_line, end_column) = cursor.locate(loc_end);
        let shown = if self.opts.show_secrets {
            secret.clone()
        } else {
            redact(&secret)
        };
        let mut snippet = snippet(
            line_bytes,
            loc_start - ls,
            loc_end.min(le).saturating_sub(ls),
            &shown,
        );
        if !self.opts.show_secrets && secret.len() >= 4 && snippet.contains(&secret) {
            snippet = snippet.replace(&secret, &shown);
        }
        Some(Finding {
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            severity: rule.severity,
            confidence,
            path: prov.path.clone(),
            line,
            column,
            end_line,
            end_column,
            start_byte: loc_start,
            end_byte: loc_end,
            secret: shown,
            snippet,
            entropy: (m.entropy * 100.0).round() / 100.0,
            fingerprint: fingerprint(secret_bytes),
            key_id: m.key_id.clone(),
            decoded,
            blob_id: prov.blob_id.clone(),
            commit: prov.commit.as_deref().cloned(),
            tags: rule.tags.clone(),
        })
    }
}

/// The line with the secret replaced by `shown`, cut to a readable width around it.
fn snippet(line: &[u8], s: usize, e: usize, shown: &str) -> String {
    const CONTEXT: usize = 60;
    let s = s.min(line.len());
    let e = e.clamp(s, line.len());
    let from = s.saturating_sub(CONTEXT);
    let to = (e + CONTEXT).min(line.len());
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.push_str(String::from_utf8_lossy(&line[from..s]).trim_start());
    out.push_str(shown.lines().next().unwrap_or(""));
    out.push_str(String::from_utf8_lossy(&line[e..to]).trim_end());
    if to < line.len() {
        out.push('…');
    }
    out.chars().filter(|c| !c.is_control()).collect()
}
