//! The per-blob pipeline shared by every source: engine matches, decoded layers, filters,
//! locations, redaction and fingerprints.

use crate::config::Allowlist;
use crate::decode;
use crate::engine::{Engine, Match};
use crate::finding::{Finding, LineCursor, Provenance, redact};
use crate::rules::Confidence;
use rayon::prelude::*;
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
        // Findings with their secrets, fingerprinted at the end.
        let mut found: Vec<(Finding, Vec<u8>)> = Vec::new();
        let off = self.engine.rules_off_at(Some(&prov.path));
        let matches = self.engine.scan_except(data, &off);
        let mut cursor = LineCursor::new(data, prov.first_line.max(1));
        for m in &matches {
            if let Some(f) = self.finding(data, data, m, m.start, m.end, None, prov, &mut cursor) {
                found.push(f);
            }
        }
        if self.opts.decode_depth > 0 {
            self.scan_decoded(data, prov, &off, &matches, &mut found, &mut cursor);
        }
        let mut found = fingerprinted(found);
        if !self.opts.show_secrets && found.len() > 1 {
            mask_other_secrets(data, &matches, &mut found);
        }
        found
    }

    /// Secrets hidden under an encoding, reported at the encoded span in the blob.
    fn scan_decoded(
        &self,
        data: &[u8],
        prov: &Provenance,
        off: &[usize],
        raw: &[Match],
        found: &mut Vec<(Finding, Vec<u8>)>,
        cursor: &mut LineCursor,
    ) {
        for layer in decode::layers(data, self.opts.decode_depth) {
            // An encoded span already reported raw (e.g. a base64 token) is not reported again.
            // Raw matches do not overlap and are sorted, so their ends are sorted too.
            let next = raw.partition_point(|m| m.end <= layer.start);
            if raw.get(next).is_some_and(|m| m.start < layer.end) {
                continue;
            }
            for m in self.engine.scan_except(&layer.decoded, off) {
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
    /// reported at `loc_start..loc_end` of the blob, with its secret to fingerprint.
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
    ) -> Option<(Finding, Vec<u8>)> {
        let rule = self.engine.rule(m.rule);
        let raw = &hay[m.start..m.end];
        let secret_bytes = match rule.normalize {
            Some(n) => std::borrow::Cow::Owned(n.apply(raw)),
            None => std::borrow::Cow::Borrowed(raw),
        };
        let secret = String::from_utf8_lossy(&secret_bytes).into_owned();
        let (ls, le) = cursor.line_bounds(loc_start);
        let line_bytes = &data[ls..le];
        if self.opts.inline_allow && cursor.line_has((ls, le), INLINE_ALLOW) {
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
        let finding = Finding {
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
            fingerprint: String::new(),
            key_id: m.key_id.clone(),
            decoded,
            blob_id: prov.blob_id.clone(),
            commit: prov.commit.as_deref().cloned(),
            tags: rule.tags.clone(),
        };
        Some((finding, secret_bytes.into_owned()))
    }
}

/// Blobs with at least this many findings have them fingerprinted on all cores: a
/// fingerprint costs ~0.09 ms, and a blob is otherwise scanned on one thread.
const PARALLEL_FINGERPRINTS: usize = 16;

fn fingerprinted(found: Vec<(Finding, Vec<u8>)>) -> Vec<Finding> {
    use crate::fingerprint::{LANES, fingerprints};
    let (mut findings, secrets): (Vec<Finding>, Vec<Vec<u8>>) = found.into_iter().unzip();
    let fill = |(fs, ss): (&mut [Finding], &[Vec<u8>])| {
        let values: Vec<&[u8]> = ss.iter().map(Vec::as_slice).collect();
        for (f, fp) in fs.iter_mut().zip(fingerprints(&values)) {
            f.fingerprint = fp;
        }
    };
    if findings.len() >= PARALLEL_FINGERPRINTS {
        (findings.par_chunks_mut(LANES))
            .zip(secrets.par_chunks(LANES))
            .for_each(fill);
    } else {
        fill((&mut findings, &secrets));
    }
    findings
}

/// A snippet must not show another finding's secret from the same blob. One automaton over
/// the blob's distinct secrets scans each snippet once: checking every secret against every
/// snippet was quadratic (a 1 MB file with 20,000 secrets took 15 s).
fn mask_other_secrets(data: &[u8], matches: &[Match], found: &mut [Finding]) {
    let mut values: Vec<String> = matches
        .iter()
        .filter(|m| m.end - m.start >= 4)
        .map(|m| String::from_utf8_lossy(&data[m.start..m.end]).into_owned())
        .collect();
    values.sort_unstable();
    values.dedup();
    if values.is_empty() {
        return;
    }
    // Snippets are short: the automaton that is quickest to build is quick enough to run.
    let Ok(ac) = aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .kind(Some(aho_corasick::AhoCorasickKind::NoncontiguousNFA))
        .prefilter(false)
        .build(&values)
    else {
        return;
    };
    let shown: Vec<String> = values.iter().map(|v| redact(v)).collect();
    for f in found {
        if ac.is_match(&f.snippet) {
            f.snippet = ac.replace_all(&f.snippet, &shown);
        }
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
