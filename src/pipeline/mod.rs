//! The per-blob pipeline shared by every source: engine matches, decoded layers, filters,
//! locations, redaction and fingerprints.

pub mod decode;
pub mod encrypted;
pub mod finding;
pub mod fingerprint;
pub mod suppress;
pub mod text_encoding;

use crate::config::Allowlist;
use crate::engine::{Engine, Match};
use crate::pipeline::finding::{Finding, LineCursor, PendingSecret, Provenance, redact};
use crate::rules::Confidence;
use rayon::prelude::*;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

const INLINE_ALLOW: &[u8] = b"keywarden:allow";

/// How one scan turns matches into findings; the same for every blob and source.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Report secrets in full (`--show-secrets`) instead of redacted.
    pub show_secrets: bool,
    /// Findings below this confidence are dropped (counted in `Stats::suppressed_confidence`).
    pub min_confidence: Confidence,
    /// Whether a `keywarden:allow` marker on a line suppresses the findings on that line.
    pub inline_allow: bool,
    /// Blobs larger than this many bytes are skipped (counted in `Stats::skipped_large`); each
    /// source applies it before reading.
    pub max_file_size: u64,
    /// Nested decoding layers to look through (0 = none).
    pub decode_depth: usize,
    /// Leave findings without fingerprints for `Scanner::fingerprint_pending`, which hashes
    /// a whole scan's secrets in full batches (most blobs have one finding or none).
    pub defer_fingerprints: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            show_secrets: false,
            min_confidence: Confidence::Low,
            inline_allow: true,
            max_file_size: 25 * 1024 * 1024,
            decode_depth: 2,
            defer_fingerprints: false,
        }
    }
}

/// Counters for the summary; nothing skipped goes uncounted.
#[derive(Debug, Default)]
pub struct Stats {
    /// Blobs scanned as text; binary, wholly encrypted and skipped blobs are not counted.
    pub blobs_scanned: AtomicU64,
    /// Bytes of the blobs scanned, as stored (a UTF-16 file counts its size before decoding).
    pub bytes_scanned: AtomicU64,
    /// Blobs skipped as binary (a NUL in the first 8 KiB that is not part of wide text).
    pub skipped_binary: AtomicU64,
    /// Blobs decoded from UTF-16 or UTF-32 and scanned (also in `blobs_scanned`).
    pub decoded_utf16: AtomicU64,
    /// Blobs skipped for being larger than `ScanOptions::max_file_size`.
    pub skipped_large: AtomicU64,
    /// Symbolic links a tree walk did not follow (a symlink given as the root is not counted).
    pub skipped_symlink: AtomicU64,
    /// Files not read because a config allowlist path covers them.
    pub skipped_allowlisted_path: AtomicU64,
    /// Git LFS pointer files: the content lives in LFS storage, not in the pointer.
    pub skipped_lfs: AtomicU64,
    /// Named pipes, sockets and devices met in a tree walk: never read, since reading one can
    /// block or never end.
    pub skipped_special: AtomicU64,
    /// Other scanners' baselines (see [`is_scanner_baseline`]): their digests would read as
    /// secrets.
    pub skipped_scanner_baselines: AtomicU64,
    /// Blobs recognised as encrypted at rest, wholly (not scanned) or in some values (scanned,
    /// those values not reported): see `encrypted`.
    pub encrypted_files: AtomicU64,
    /// Errors met reading inputs; any makes the scan incomplete.
    pub errors: AtomicU64,
    /// Findings dropped by a `keywarden:allow` marker on their line.
    pub suppressed_inline: AtomicU64,
    /// Findings dropped by a config allowlist (a value, or a per-rule path or value).
    pub suppressed_allowlist: AtomicU64,
    /// Findings dropped for a confidence below `ScanOptions::min_confidence`.
    pub suppressed_confidence: AtomicU64,
    /// The first 200 error messages, in the order they came; `errors` counts them all.
    pub error_messages: Mutex<Vec<String>>,
}

impl Stats {
    pub(crate) fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    pub(crate) fn error(&self, msg: String) {
        Self::add(&self.errors, 1);
        if let Ok(mut m) = self.error_messages.lock()
            && m.len() < 200
        {
            m.push(msg);
        }
    }
}

/// Turns blobs into findings for one scan: the engine, the options and allowlists, and the
/// counters every source adds to. Shared by the scanning threads.
pub struct Scanner {
    /// The compiled rules.
    pub engine: Engine,
    /// This scan's options.
    pub opts: ScanOptions,
    /// The config's allowlists, anchored at the config file's directory.
    pub allowlist: Allowlist,
    /// What was scanned, skipped and suppressed, for the summary.
    pub stats: Stats,
}

/// Bytes sniffed for NUL to call a blob binary.
const SNIFF: usize = 8192;

/// What a blob's first `SNIFF` bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// Text to scan as it is.
    Text,
    /// UTF-16 or UTF-32 text, to decode before scanning.
    Encoded(text_encoding::Detected),
    /// git-crypt ciphertext: binary, but counted as encrypted rather than skipped as binary.
    GitCrypt,
    /// Binary data: counted in `Stats::skipped_binary`, not scanned.
    Binary,
}

/// Text, UTF-16/UTF-32 text, or binary (a NUL byte in the first 8 KiB that is not part of
/// wide text). The encoding is only looked at when a NUL is seen or the first byte cannot
/// start UTF-8, so UTF-8 text costs one `memchr` as before.
pub fn sniff(data: &[u8]) -> Sniffed {
    if data.starts_with(encrypted::GIT_CRYPT_HEADER) {
        return Sniffed::GitCrypt;
    }
    let head = &data[..data.len().min(SNIFF)];
    // Bytes 0xFE and 0xFF never occur in UTF-8, so a UTF-16 BOM is worth a look even without
    // a NUL: text with no ASCII in its head (all CJK, say) has none.
    let wide = memchr::memchr(0, head).is_some();
    if !wide && head.first().is_none_or(|&b| b < 0xFE) {
        return Sniffed::Text;
    }
    match text_encoding::detect(head) {
        Some(d) => Sniffed::Encoded(d),
        None if wide => Sniffed::Binary,
        None => Sniffed::Text,
    }
}

/// Whether a blob is skipped as binary: UTF-16 and UTF-32 text are not, and neither is
/// git-crypt ciphertext, which `Scanner::scan_blob` counts as encrypted.
pub fn is_binary(data: &[u8]) -> bool {
    sniff(data) == Sniffed::Binary
}

/// `data` as the pipeline scans it: decoded to UTF-8 if it is UTF-16 or UTF-32 text, else as
/// it is. For comparing versions of a blob line by line (`--diff`).
pub fn as_text(data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match sniff(data) {
        Sniffed::Encoded(d) => std::borrow::Cow::Owned(text_encoding::decode(data, d)),
        _ => std::borrow::Cow::Borrowed(data),
    }
}

/// Another scanner's baseline: a detect-secrets `.secrets.baseline` holds the SHA-1 of each value
/// it accepted (`hashed_secret`), never a value, and those hex digests read as generic secrets.
/// Recognised by name, or by content for a JSON document whose opening names detect-secrets'
/// `plugins_used` and `results`. Counted, not scanned.
pub fn is_scanner_baseline(path: &str, data: &[u8]) -> bool {
    let named = path == ".secrets.baseline" || path.ends_with("/.secrets.baseline");
    let head = &data[..data.len().min(4096)];
    let json = head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !json {
        return false;
    }
    let has = |needle: &[u8]| memchr::memmem::find(head, needle).is_some();
    let detect_secrets =
        has(b"\"plugins_used\"") && (has(b"\"results\"") || has(b"\"filters_used\""));
    detect_secrets && (named || has(b"\"generated_at\"") || has(b"\"hashed_secret\""))
}

impl Scanner {
    /// A scanner whose counters start at zero.
    pub fn new(engine: Engine, opts: ScanOptions, allowlist: Allowlist) -> Self {
        Scanner {
            engine,
            opts,
            allowlist,
            stats: Stats::default(),
        }
    }

    /// Scans one blob that passed the size check; binary blobs are counted and skipped.
    /// UTF-16 and UTF-32 text is scanned decoded to UTF-8: findings' lines, columns and byte
    /// offsets are those of the decoded text, as an editor shows it.
    pub fn scan_blob(&self, data: &[u8], prov: &Provenance) -> Vec<Finding> {
        match sniff(data) {
            Sniffed::Text => self.scan_text(data, data.len(), prov),
            Sniffed::Encoded(d) => {
                Stats::add(&self.stats.decoded_utf16, 1);
                self.scan_text(&text_encoding::decode(data, d), data.len(), prov)
            }
            Sniffed::GitCrypt => {
                Stats::add(&self.stats.encrypted_files, 1);
                Vec::new()
            }
            Sniffed::Binary => {
                Stats::add(&self.stats.skipped_binary, 1);
                Vec::new()
            }
        }
    }

    /// Scans `data`, the text of a blob of `size` bytes (counted as scanned).
    fn scan_text(&self, data: &[u8], size: usize, prov: &Provenance) -> Vec<Finding> {
        if is_scanner_baseline(prov.path(), data) {
            Stats::add(&self.stats.skipped_scanner_baselines, 1);
            return Vec::new();
        }
        let mut encrypted = encrypted::find(prov.path(), data);
        if encrypted == Some(encrypted::Encrypted::Whole) {
            Stats::add(&self.stats.encrypted_files, 1);
            return Vec::new();
        }
        Stats::add(&self.stats.blobs_scanned, 1);
        Stats::add(&self.stats.bytes_scanned, size as u64);
        // Findings with their secrets, fingerprinted at the end.
        let mut found: Vec<(Finding, Vec<u8>)> = Vec::new();
        let off = self.engine.rules_off_at(Some(prov.path()));
        let mut matches = self.engine.scan_except(data, &off);
        // Ciphertext is not a leak: a match inside an encrypted value is dropped. Where the
        // head showed no marker, the rest of a blob is searched for one only if it matters.
        if encrypted.is_none() && !matches.is_empty() {
            encrypted = encrypted::find_anywhere(data);
        }
        if let Some(e) = &encrypted {
            Stats::add(&self.stats.encrypted_files, 1);
            matches.retain(|m| !e.covers(m.start, m.end));
        }
        let mut cursor = LineCursor::new(data, 1);
        for m in &matches {
            if let Some(f) = self.finding(data, data, m, m.start, m.end, None, prov, &mut cursor) {
                found.push(f);
            }
        }
        if self.opts.decode_depth > 0 {
            let enc = encrypted.as_ref();
            self.scan_decoded(data, prov, &off, enc, &matches, &mut found, &mut cursor);
        }
        let mut found = if self.opts.defer_fingerprints {
            (found.into_iter())
                .map(|(mut f, secret)| {
                    f.pending = Some(PendingSecret(secret));
                    f
                })
                .collect()
        } else {
            fingerprinted(found)
        };
        if !self.opts.show_secrets && found.len() > 1 {
            mask_other_secrets(data, &matches, &mut found);
        }
        found
    }

    /// Secrets hidden under an encoding, reported at the encoded span in the blob.
    /// Layers inside `encrypted` values are ciphertext: not looked into.
    #[allow(clippy::too_many_arguments)]
    fn scan_decoded(
        &self,
        data: &[u8],
        prov: &Provenance,
        off: &[usize],
        encrypted: Option<&encrypted::Encrypted>,
        raw: &[Match],
        found: &mut Vec<(Finding, Vec<u8>)>,
        cursor: &mut LineCursor,
    ) {
        for layer in decode::layers(data, self.opts.decode_depth) {
            if encrypted.is_some_and(|e| e.covers(layer.start, layer.end)) {
                continue;
            }
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
            .finding_allowed(&rule.id, prov.path(), &secret)
        {
            Stats::add(&self.stats.suppressed_allowlist, 1);
            return None;
        }
        let (line, column) = cursor.locate(loc_start);
        if let Some(only) = prov.only_lines()
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
            path: prov.path().to_string(),
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
            pending: None,
            legacy_fingerprint: None,
            key_id: m.key_id.clone(),
            field: crate::pipeline::finding::field_before(line_bytes, loc_start - ls),
            decoded,
            blob_id: prov.blob_id().map(str::to_string),
            commit: None,
            history: None,
            repository: None,
            tags: rule.tags.clone(),
        };
        Some((finding, secret_bytes.into_owned()))
    }
}

/// Blobs with at least this many findings have them fingerprinted on all cores: a
/// fingerprint costs 0.04-0.1 ms, and a blob is otherwise scanned on one thread.
const PARALLEL_FINGERPRINTS: usize = 16;

fn fingerprinted(found: Vec<(Finding, Vec<u8>)>) -> Vec<Finding> {
    let (mut findings, secrets): (Vec<Finding>, Vec<Vec<u8>>) = found.into_iter().unzip();
    let values: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
    for (f, fp) in findings.iter_mut().zip(fingerprint_all(&values)) {
        f.fingerprint = fp;
    }
    findings
}

/// Fingerprints of `values`, in order: batches of the size the CPU hashes best, on all
/// cores when there are many.
fn fingerprint_all(values: &[&[u8]]) -> Vec<String> {
    use crate::pipeline::fingerprint::{batch, fingerprints};
    if values.len() < PARALLEL_FINGERPRINTS {
        return fingerprints(values);
    }
    (values.par_chunks(batch()))
        .flat_map_iter(fingerprints)
        .collect()
}

impl Scanner {
    /// Fills in the fingerprints `scan_blob` left pending (`ScanOptions::defer_fingerprints`)
    /// and drops the secrets it held for them. With `legacy`, keyed values also get their
    /// `kw1:` fingerprint, for suppression files written before `kw2:`.
    pub fn fingerprint_pending(findings: &mut [Finding], legacy: bool) {
        let mut values: Vec<&[u8]> = (findings.iter())
            .filter_map(|f| f.pending.as_ref().map(|p| p.0.as_slice()))
            .collect();
        values.sort_unstable();
        values.dedup();
        let fps = fingerprint_all(&values);
        let old = if legacy {
            crate::pipeline::fingerprint::legacy(&values)
        } else {
            Vec::new()
        };
        let by_value: std::collections::HashMap<&[u8], usize> =
            values.iter().copied().zip(0..).collect();
        let done: Vec<Option<usize>> = (findings.iter())
            .map(|f| by_value.get(f.pending.as_ref()?.0.as_slice()).copied())
            .collect();
        drop(by_value);
        for (f, i) in findings.iter_mut().zip(done) {
            if let Some(i) = i {
                f.fingerprint = fps[i].clone();
                f.legacy_fingerprint = old.get(i).cloned().flatten();
            }
            f.pending = None;
        }
    }
}

/// A snippet must not show another finding's secret from the same blob. One automaton over
/// the blob's distinct secrets scans each snippet once: checking every secret against every
/// snippet was quadratic (a 1 MB file with 20,000 secrets took 15 s). A few secrets are
/// looked for one by one: building the automaton cost more than the rest of such a blob's
/// findings.
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
    let shown: Vec<String> = values.iter().map(|v| redact(v)).collect();
    if values.len() <= FEW_SECRETS {
        for f in found {
            if let Some(masked) = replace_each(&f.snippet, &values, &shown) {
                f.snippet = masked;
            }
        }
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
    for f in found {
        if ac.is_match(&f.snippet) {
            f.snippet = ac.replace_all(&f.snippet, &shown);
        }
    }
}

/// Up to this many distinct secrets in a blob are masked without an automaton.
const FEW_SECRETS: usize = 16;

/// `text` with every occurrence of `values[i]` replaced by `shown[i]`, leftmost first and
/// then longest, as the automaton replaces them; `None` if none occurs.
fn replace_each(text: &str, values: &[String], shown: &[String]) -> Option<String> {
    let hay = text.as_bytes();
    // Each value's next occurrence at or after `pos`, looked for again only once passed:
    // building a substring searcher per value and step cost more than the masking.
    let find = |from: usize, v: &[u8]| -> Option<usize> {
        let (&first, _) = v.split_first()?;
        memchr::memchr_iter(first, hay.get(from..)?)
            .map(|i| from + i)
            .find(|&i| hay[i..].starts_with(v))
    };
    let mut next: Vec<Option<usize>> = values.iter().map(|v| find(0, v.as_bytes())).collect();
    let mut out: Vec<u8> = Vec::new();
    let mut pos = 0;
    loop {
        let best = (next.iter().enumerate())
            .filter_map(|(i, at)| at.map(|at| (at, usize::MAX - values[i].len(), i)))
            .min();
        let Some((at, _, i)) = best else { break };
        out.extend_from_slice(&hay[pos..at]);
        out.extend_from_slice(shown[i].as_bytes());
        pos = at + values[i].len();
        for (j, n) in next.iter_mut().enumerate() {
            if n.is_some_and(|at| at < pos) {
                *n = find(pos, values[j].as_bytes());
            }
        }
    }
    if pos == 0 {
        return None;
    }
    out.extend_from_slice(&hay[pos..]);
    // Whole values of valid UTF-8 start and end on character boundaries.
    Some(
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

pub(crate) fn snippet(line: &[u8], s: usize, e: usize, shown: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_secrets_are_masked_as_the_automaton_masks_them() {
        // Small alphabets, so that values overlap, nest and repeat in the text.
        let mut rng = crate::test_rng::Rng::new(0x2545_F491_4F6C_DD1D);
        let word = |rng: &mut crate::test_rng::Rng, len: usize| -> String {
            (0..len).map(|_| ['a', 'b', 'é'][rng.below(3)]).collect()
        };
        let mut replaced = 0;
        for _ in 0..3000 {
            let k = 1 + rng.below(FEW_SECRETS);
            let mut values: Vec<String> = (0..k)
                .map(|_| {
                    let len = 2 + rng.below(5);
                    word(&mut rng, len)
                })
                .collect();
            values.sort_unstable();
            values.dedup();
            let shown: Vec<String> = (0..values.len()).map(|i| format!("<{i}>")).collect();
            let len = rng.below(40);
            let text = word(&mut rng, len);
            let ac = aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(&values)
                .unwrap();
            let want = ac.replace_all(&text, &shown);
            let got = replace_each(&text, &values, &shown);
            replaced += usize::from(got.is_some());
            assert_eq!(
                got.unwrap_or_else(|| text.clone()),
                want,
                "{text:?} {values:?}"
            );
        }
        assert!(replaced > 1000, "{replaced}");
    }

    #[test]
    fn fingerprints_left_pending_come_out_the_same() {
        let rules = crate::rules::builtin().unwrap();
        // Fake key ids: random bodies in the real alphabet.
        let mut rng = crate::test_rng::Rng::new(0x9E37_79B9_7F4A_7C15);
        let blob: String = (0..40)
            .map(|_| {
                let body = rng.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
                format!("AWS_ACCESS_KEY_ID=AKIA{body}\n")
            })
            .collect();
        let scan = |defer: bool| {
            let opts = ScanOptions {
                defer_fingerprints: defer,
                ..ScanOptions::default()
            };
            let engine = Engine::new_lazy(rules.clone()).unwrap();
            let s = Scanner::new(engine, opts, Allowlist::new(&Default::default()).unwrap());
            s.scan_blob(blob.as_bytes(), &Provenance::file("a.env"))
        };
        let now = scan(false);
        let mut later = scan(true);
        assert_eq!(now.len(), 40);
        assert!(
            later
                .iter()
                .all(|f| f.fingerprint.is_empty() && f.pending.is_some())
        );
        // The held secret does not show in debug output.
        let first = blob.lines().next().unwrap().split('=').nth(1).unwrap();
        assert!(!format!("{:?}", later[0].pending).contains(first));
        Scanner::fingerprint_pending(&mut later, false);
        assert_eq!(now, later);
        assert!(now.iter().all(|f| f.fingerprint.starts_with("kw2:")));
    }
}
