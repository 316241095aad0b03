//! Decoded layers of a blob: base64, hex and URL-encoded spans whose decoding is text, so the
//! same rules can look inside them. Bounded in depth, count and size.
#![allow(unsafe_code)] // uses SIMD intrinsics; every block has a SAFETY note

use base64::Engine as _;

/// A decoded span: `start..end` in the outermost blob, and what it decodes to.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Start of the encoded span in the outermost blob; a nested layer has its outermost span's.
    pub start: usize,
    /// End of that span, exclusive.
    pub end: usize,
    /// The decoded bytes (only spans that decode to text become layers).
    pub decoded: Vec<u8>,
    /// Decodings applied, outermost first, e.g. `base64` or `base64+url`.
    pub chain: String,
}

const MIN_B64: usize = 24;
const MIN_HEX: usize = 32;
const MAX_LAYERS: usize = 4096;
const MAX_DECODED_BYTES: usize = 8 << 20;
const MAX_SPAN: usize = 1 << 20;

/// The decoded layers of `data`, nested up to `depth` deep (0: none), each listed after the
/// layers inside it. At most 4096 layers and 8 MiB of decoded bytes in all.
pub fn layers(data: &[u8], depth: usize) -> Vec<Layer> {
    let mut out = Vec::new();
    let mut budget = MAX_DECODED_BYTES;
    collect(data, 0, data.len(), "", depth, &mut out, &mut budget);
    out
}

fn collect(
    data: &[u8],
    base_start: usize,
    base_end: usize,
    chain: &str,
    depth: usize,
    out: &mut Vec<Layer>,
    budget: &mut usize,
) {
    if depth == 0 {
        return;
    }
    let outer = chain.is_empty();
    let mut found: Vec<(usize, usize, Vec<u8>, &str)> = Vec::new();
    spans(data, |s, e, kind| {
        if out.len() + found.len() >= MAX_LAYERS || *budget == 0 || e - s > MAX_SPAN {
            return;
        }
        let decoded = match kind {
            Kind::Base64 => decode_b64(&data[s..e]),
            Kind::Hex => hex::decode(&data[s..e]).ok(),
            Kind::Url => Some(decode_url(&data[s..e])),
        };
        if let Some(d) = decoded.filter(|d| is_texty(d)) {
            *budget = budget.saturating_sub(d.len());
            found.push((s, e, d, kind.name()));
        }
    });
    for (s, e, decoded, name) in found {
        let (start, end) = if outer {
            (s, e)
        } else {
            (base_start, base_end)
        };
        let chain = if chain.is_empty() {
            name.to_string()
        } else {
            format!("{chain}+{name}")
        };
        collect(&decoded, start, end, &chain, depth - 1, out, budget);
        out.push(Layer {
            start,
            end,
            decoded,
            chain,
        });
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Base64,
    Hex,
    Url,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Base64 => "base64",
            Kind::Hex => "hex",
            Kind::Url => "url",
        }
    }
}

// Byte classes for the span scan, one table lookup per byte.
const B64: u8 = 1;
const HEX: u8 = 2;
const UPPER: u8 = 4;
const LOWER: u8 = 8;
const DIGIT: u8 = 16;
const PCT: u8 = 32;
const DOT: u8 = 64;

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_uppercase() {
            c |= B64 | UPPER;
        }
        if b.is_ascii_lowercase() {
            c |= B64 | LOWER;
        }
        if b.is_ascii_digit() {
            c |= B64 | DIGIT;
        }
        if b.is_ascii_hexdigit() {
            c |= HEX;
        }
        if b == b'+' || b == b'/' || b == b'-' || b == b'_' {
            c |= B64;
        }
        if b == b'%' {
            c |= PCT;
        }
        if b == b'.' {
            c |= DOT;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// Shortest span worth decoding (URL-encoded); base64 and hex need more.
const MIN_RUN: usize = 12;
const RUN: u8 = B64 | PCT | DOT;

/// Calls `f` for every candidate encoded span, in order. Words, identifiers and paths are
/// passed over without decoding: base64 of text mixes upper case, lower case and digits.
///
/// A span is a run of base64, `%` and `.` bytes. URL-encoded spans hold `%`, so they are
/// found from each `%` (memchr); base64 and hex spans hold neither `%` nor `.` and are at
/// least `MIN_B64` long, so the scan for them classifies 64 bytes at a time into a bit mask
/// and looks only where the mask holds a long enough run.
fn spans(data: &[u8], mut f: impl FnMut(usize, usize, Kind)) {
    let n = data.len();
    let class = |i: usize| CLASS[data[i] as usize];
    let mut found: Vec<(usize, usize, Kind)> = Vec::new();
    let mut url_end = 0;
    for p in memchr::memchr_iter(b'%', data) {
        if p < url_end {
            continue;
        }
        let mut s = p;
        while s > 0 && class(s - 1) & RUN != 0 {
            s -= 1;
        }
        let mut e = p + 1;
        let mut pct = 1;
        while e < n && class(e) & RUN != 0 {
            pct += usize::from(data[e] == b'%');
            e += 1;
        }
        url_end = e;
        if e - s >= MIN_RUN && pct >= 2 {
            found.push((s, e, Kind::Url));
        }
    }
    // Padding counts towards MIN_B64, so a run may be two bytes shorter.
    const MIN_B64_RUN: usize = MIN_B64 - 2;
    let masks = b64_masks(data);
    // Bytes before `pos` are done: no run of MIN_B64_RUN bytes starts before it unhandled.
    let mut pos = 0usize;
    while pos + MIN_B64_RUN <= n {
        let w = pos / 64;
        // A run of MIN_B64_RUN (at least 15) bytes from word `w` holds a whole aligned byte
        // of base64 in `w`, or its first 8 bytes reach byte 0 of the next word: without
        // either, the word is passed over in a few instructions.
        if !has_full_byte(masks[w]) && masks[w + 1] as u8 != 0xFF {
            pos = 64 * (w + 1);
            continue;
        }
        // The word's base64 bytes at or after `pos`; every byte before `pos` is done.
        let cur = masks[w] & (!0u64 << (pos % 64));
        // The first run of MIN_B64_RUN inside the word, else the run at its top if it goes
        // on into the next word far enough.
        let inside = runs_of(cur, MIN_B64_RUN);
        let top = cur.leading_ones() as usize;
        let at = if inside != 0 {
            inside.trailing_zeros() as usize
        } else if top > 0 && top + masks[w + 1].trailing_ones() as usize >= MIN_B64_RUN {
            64 - top
        } else {
            pos = 64 * (w + 1);
            continue;
        };
        let s = 64 * w + at;
        // The run's end: the first byte after `s` that is not base64.
        let mut end = s;
        loop {
            let (w, b) = (end / 64, end % 64);
            let ones = (masks[w] >> b).trailing_ones() as usize;
            end += ones;
            if b + ones < 64 {
                break;
            }
        }
        pos = end + 1;
        // A run joined to `%` or `.` bytes is part of a longer span that is neither base64
        // nor hex (a URL-encoded one was found above).
        if (s > 0 && class(s - 1) & (PCT | DOT) != 0) || (end < n && class(end) & (PCT | DOT) != 0)
        {
            continue;
        }
        let (mut seen, mut all) = (0u8, 0xFFu8);
        for &b in &data[s..end] {
            let c = CLASS[b as usize];
            seen |= c;
            all &= c;
        }
        let mut e = end;
        while e < n && data[e] == b'=' && e - end < 2 {
            e += 1;
        }
        let len = e - s;
        if all & HEX != 0
            && len >= MIN_HEX
            && len.is_multiple_of(2)
            && hex_prefix_is_text(&data[s..])
        {
            found.push((s, e, Kind::Hex));
        } else if len >= MIN_B64
            && seen & (UPPER | LOWER | DIGIT) == (UPPER | LOWER | DIGIT)
            && b64_prefix_is_text(&data[s..end])
        {
            found.push((s, e, Kind::Base64));
        }
    }
    found.sort_unstable_by_key(|&(s, e, _)| (s, e));
    for (s, e, k) in found {
        f(s, e, k);
    }
}

/// One bit per byte of `data`, set for base64 bytes: word `w` covers bytes `64 * w..`, and a
/// zero word follows the last, so the scan may look one word ahead.
fn b64_masks(data: &[u8]) -> Vec<u64> {
    let mut words = Vec::with_capacity(data.len() / 64 + 2);
    let mut chunks = data.chunks_exact(64);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        unsafe { b64_masks_avx2(&mut chunks, &mut words) };
    }
    for c in &mut chunks {
        words.push(b64_mask(c.try_into().expect("64 bytes")));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut tail = [0u8; 64];
        tail[..rest.len()].copy_from_slice(rest);
        words.push(b64_mask(&tail));
    }
    words.push(0);
    words
}

/// `b64_mask` for every whole chunk, 32 bytes per instruction: a byte's low nibble and high
/// nibble each look up a set of bit flags (one flag per high nibble that holds base64 bytes),
/// and the byte is base64 when the two sets meet. Five instructions per 32 bytes where the
/// compares take eleven per 16.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn b64_masks_avx2(chunks: &mut std::slice::ChunksExact<'_, u8>, words: &mut Vec<u64>) {
    use std::arch::x86_64::*;
    // Flag per high nibble: 0x2_ (`+`, `-`, `/`), 0x3_ (digits), 0x4_ and 0x6_ (letters from
    // 1), 0x5_ and 0x7_ (letters to 0xA; `_` is 0x5F).
    const HI: [i8; 16] = [0, 0, 1, 2, 4, 8, 16, 32, 0, 0, 0, 0, 0, 0, 0, 0];
    // For each low nibble, the high nibbles under which it is base64.
    const LO: [i8; 16] = [
        2 | 8 | 32,          // 0: `0` `P` `p`
        2 | 4 | 8 | 16 | 32, // 1..=9: digits and letters
        2 | 4 | 8 | 16 | 32,
        2 | 4 | 8 | 16 | 32,
        2 | 4 | 8 | 16 | 32,
        2 | 4 | 8 | 16 | 32,
        2 | 4 | 8 | 16 | 32,
        2 | 4 | 8 | 16 | 32,
        2 | 4 | 8 | 16 | 32,
        2 | 4 | 8 | 16 | 32,
        4 | 8 | 16 | 32, // A: `J` `Z` `j` `z`
        1 | 4 | 16,      // B: `+` `K` `k`
        4 | 16,          // C
        1 | 4 | 16,      // D: `-` `M` `m`
        4 | 16,          // E
        1 | 4 | 8 | 16,  // F: `/` `O` `_` `o`
    ];
    // SAFETY: the tables are 16 bytes, loaded unaligned and broadcast to both halves.
    let (hi, lo) = unsafe {
        (
            _mm256_broadcastsi128_si256(_mm_loadu_si128(HI.as_ptr().cast())),
            _mm256_broadcastsi128_si256(_mm_loadu_si128(LO.as_ptr().cast())),
        )
    };
    let nibble = _mm256_set1_epi8(0x0F);
    let half = |v: __m256i| {
        let h = _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble));
        let l = _mm256_shuffle_epi8(lo, _mm256_and_si256(v, nibble));
        // Zero where the sets do not meet: those bits are cleared below.
        let none = _mm256_cmpeq_epi8(_mm256_and_si256(h, l), _mm256_setzero_si256());
        !(_mm256_movemask_epi8(none) as u32)
    };
    for c in chunks {
        // SAFETY: two unaligned 32-byte loads inside a 64-byte chunk.
        let (a, b) = unsafe {
            (
                _mm256_loadu_si256(c.as_ptr().cast()),
                _mm256_loadu_si256(c.as_ptr().add(32).cast()),
            )
        };
        words.push(u64::from(half(a)) | u64::from(half(b)) << 32);
    }
}

/// Bit j set when `chunk[j]` is a base64 byte: compares on 16 bytes at a time, gathered by
/// `movemask` (SSE2, which every x86-64 CPU has). Every byte of a blob passes through here.
#[cfg(target_arch = "x86_64")]
fn b64_mask(chunk: &[u8; 64]) -> u64 {
    // SAFETY: SSE2 is part of the x86-64 baseline; every x86-64 CPU has it.
    unsafe { b64_mask_sse2(chunk) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn b64_mask_sse2(chunk: &[u8; 64]) -> u64 {
    use std::arch::x86_64::*;
    let set = |b: u8| _mm_set1_epi8(b as i8);
    let mut m = 0u64;
    for j in 0..4 {
        // SAFETY: an unaligned 16-byte load inside the 64-byte array.
        let v = unsafe { _mm_loadu_si128(chunk.as_ptr().add(16 * j).cast()) };
        // Unsigned `x - lo < n` as a signed compare: moved so that `lo` lands on -128.
        let in_range = |x: __m128i, lo: u8, n: u8| {
            _mm_cmplt_epi8(
                _mm_add_epi8(x, set(128u8.wrapping_sub(lo))),
                set(n.wrapping_add(128)),
            )
        };
        let alpha = in_range(_mm_or_si128(v, set(0x20)), b'a', 26);
        let digit = in_range(v, b'0', 10);
        let punct = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, set(b'+')), _mm_cmpeq_epi8(v, set(b'/'))),
            _mm_or_si128(_mm_cmpeq_epi8(v, set(b'-')), _mm_cmpeq_epi8(v, set(b'_'))),
        );
        let any = _mm_or_si128(_mm_or_si128(alpha, digit), punct);
        m |= u64::from(_mm_movemask_epi8(any) as u16) << (16 * j);
    }
    m
}

/// Bit j set when `chunk[j]` is a base64 byte. Written as compares into a byte array and a
/// multiply that gathers eight flags into a byte, so the compiler vectorises it.
#[cfg(not(target_arch = "x86_64"))]
fn b64_mask(chunk: &[u8; 64]) -> u64 {
    let mut flags = [0u8; 64];
    for (f, &b) in flags.iter_mut().zip(chunk) {
        let alpha = (b | 0x20).wrapping_sub(b'a') < 26;
        let digit = b.wrapping_sub(b'0') < 10;
        *f = u8::from(alpha | digit | (b == b'+') | (b == b'/') | (b == b'-') | (b == b'_'));
    }
    let mut m = 0u64;
    for (j, eight) in flags.chunks_exact(8).enumerate() {
        let x = u64::from_le_bytes(eight.try_into().expect("eight bytes"));
        // Byte k (0 or 1) lands on bit 56 + k; no two products share a bit, so no carries.
        m |= (x.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * j);
    }
    m
}

/// Whether one of the eight bytes of `x` is 0xFF (a zero byte of `!x`, found by the usual
/// borrow test).
fn has_full_byte(x: u64) -> bool {
    let z = !x;
    z.wrapping_sub(0x0101_0101_0101_0101) & !z & 0x8080_8080_8080_8080 != 0
}

/// Bit j set when bits j..j + len of `x` are all set.
fn runs_of(x: u64, len: usize) -> u64 {
    let (mut r, mut have) = (x, 1);
    while have < len {
        let step = have.min(len - have);
        r &= r >> step;
        have += step;
    }
    r
}

fn printable(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\r' || b == b'\t'
}

/// The first bytes decode to text: most candidates (hashes, ids) fail here, before a full
/// decode is paid for.
fn hex_prefix_is_text(s: &[u8]) -> bool {
    let head = &s[..16.min(s.len() & !1)];
    head.chunks_exact(2).all(|p| {
        let v = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
        printable(v(p[0]) << 4 | v(p[1]))
    })
}

fn b64_prefix_is_text(s: &[u8]) -> bool {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let head = &s[..16.min(s.len())];
    let mut buf = [0u8; 12];
    let ok = |n: usize, buf: &[u8]| buf[..n].iter().all(|&b| printable(b));
    match STANDARD_NO_PAD.decode_slice(head, &mut buf) {
        Ok(n) => ok(n, &buf),
        Err(_) => URL_SAFE_NO_PAD
            .decode_slice(head, &mut buf)
            .is_ok_and(|n| ok(n, &buf)),
    }
}

fn decode_b64(s: &[u8]) -> Option<Vec<u8>> {
    let t = s
        .strip_suffix(b"==")
        .or_else(|| s.strip_suffix(b"="))
        .unwrap_or(s);
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    STANDARD_NO_PAD
        .decode(t)
        .ok()
        .or_else(|| URL_SAFE_NO_PAD.decode(t).ok())
}

fn decode_url(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%'
            && i + 2 < s.len()
            && let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(&s[i + 1..i + 3]), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// Decoded bytes that are text (printable ASCII, whitespace, UTF-8), long enough to matter.
fn is_texty(d: &[u8]) -> bool {
    if d.len() < 12 {
        return false;
    }
    let n = d.iter().filter(|&&b| printable(b)).count();
    n * 100 >= d.len() * 95
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The span scan as first written (one run of base64, `%` and `.` bytes at a time), kept
    /// to check the faster one against.
    fn spans_reference(data: &[u8], mut f: impl FnMut(usize, usize, Kind)) {
        let n = data.len();
        let class = |i: usize| CLASS[data[i] as usize];
        let mut i = 0;
        // Probe the last byte of each MIN_RUN window: if it cannot be in a run, no run of
        // MIN_RUN bytes covers the window, so it is skipped whole.
        while i + MIN_RUN <= n {
            let probe = i + MIN_RUN - 1;
            if class(probe) & RUN == 0 {
                i = probe + 1;
                continue;
            }
            let mut s = probe;
            while s > i && class(s - 1) & RUN != 0 {
                s -= 1;
            }
            let mut end = probe + 1;
            while end < n && class(end) & RUN != 0 {
                end += 1;
            }
            if end - s >= MIN_RUN {
                let (mut pct, mut seen, mut all) = (0usize, 0u8, 0xFFu8);
                for &b in &data[s..end] {
                    let c = CLASS[b as usize];
                    pct += usize::from(c & PCT != 0);
                    seen |= c;
                    all &= c;
                }
                let mut e = end;
                while e < n && data[e] == b'=' && e - end < 2 {
                    e += 1;
                }
                let len = e - s;
                let all_b64 = seen & (PCT | DOT) == 0;
                if pct >= 2 {
                    f(s, end, Kind::Url);
                } else if all & HEX != 0
                    && len >= MIN_HEX
                    && len.is_multiple_of(2)
                    && hex_prefix_is_text(&data[s..])
                {
                    f(s, e, Kind::Hex);
                } else if all_b64
                    && len >= MIN_B64
                    && seen & (UPPER | LOWER | DIGIT) == (UPPER | LOWER | DIGIT)
                    && b64_prefix_is_text(&data[s..end])
                {
                    f(s, e, Kind::Base64);
                }
            }
            i = end + 1;
        }
    }

    #[test]
    fn b64_mask_matches_the_byte_classes() {
        let chunk: [u8; 64] = std::array::from_fn(|i| (i * 37 + 11) as u8);
        for shift in 0..4u8 {
            let c = chunk.map(|b| b.wrapping_add(shift * 64));
            let want = (0..64).fold(0u64, |m, j| {
                m | u64::from(CLASS[c[j] as usize] & B64 != 0) << j
            });
            assert_eq!(b64_mask(&c), want);
        }
        assert_eq!(runs_of(0b1111_0111_1011_1111, 4), 0b0001_0000_1000_0111);
        assert_eq!(runs_of(u64::MAX, 22), u64::MAX >> 21);
        for b in 0..8 {
            assert!(has_full_byte(0xFFu64 << (8 * b)));
            assert!(!has_full_byte(
                !(1u64 << (8 * b + 3)) & 0x7F7F_7F7F_7F7F_7F7F
            ));
        }
        assert!(!has_full_byte(0xFEFE_7FFE_EFFE_FD7F));
    }

    #[test]
    fn b64_masks_match_the_byte_classes_at_every_length() {
        // Every byte value, at every offset in a word, in blobs with and without a tail.
        let data: Vec<u8> = (0..1000).map(|i| (i * 7 + i / 256) as u8).collect();
        for len in [0, 1, 63, 64, 65, 127, 128, 200, 256, 999, 1000] {
            let d = &data[..len];
            let masks = b64_masks(d);
            assert_eq!(masks.len(), len.div_ceil(64) + 1, "len {len}");
            assert_eq!(masks.last(), Some(&0));
            for (j, &b) in d.iter().enumerate() {
                let bit = masks[j / 64] >> (j % 64) & 1 == 1;
                assert_eq!(
                    bit,
                    CLASS[b as usize] & B64 != 0,
                    "byte {b:#x} at {j}, len {len}"
                );
            }
            // Bytes past the end are not base64.
            assert_eq!(masks[len / 64] >> (len % 64), 0, "len {len}");
        }
    }

    #[test]
    fn spans_agree_with_the_reference_scan() {
        let mut rng = crate::test_rng::Rng::new(0x9E37_79B9_7F4A_7C15);
        let alphabet = b"aZ09+/_-%.=  \nAbCdEf3%2F";
        let mut total = 0;
        for round in 0..400 {
            let len = (round * 7) % 600;
            let mut data = rng.pick(alphabet, len);
            // Real encodings too, so that spans pass the text checks.
            if round % 3 == 0 {
                let enc = base64::engine::general_purpose::STANDARD
                    .encode(format!("password = hunter2-{round}-secret"));
                data.extend_from_slice(b" ");
                data.extend_from_slice(enc.as_bytes());
                data.extend_from_slice(
                    b" 70617373776f72643d68756e746572322d7365637265742d6b6579 a%20b%3Dc%26d%3De.x ",
                );
                // 16 bytes of text: 22 base64 characters and `==`.
                let short = base64::engine::general_purpose::STANDARD
                    .encode(format!("user{round:04}:Pa55word"));
                data.extend_from_slice(short.as_bytes());
            }
            // Runs across several 64-byte words.
            if round % 5 == 0 {
                let long = base64::engine::general_purpose::STANDARD
                    .encode("client_secret = x".repeat(1 + round % 17));
                data.extend_from_slice(long.as_bytes());
                data.extend_from_slice(&[b'Q'; 130][..round % 130]);
            }
            let (mut a, mut b) = (Vec::new(), Vec::new());
            spans(&data, |s, e, k| a.push((s, e, k.name())));
            spans_reference(&data, |s, e, k| b.push((s, e, k.name())));
            assert_eq!(a, b, "{:?}", String::from_utf8_lossy(&data));
            total += a.len();
        }
        assert!(total > 300, "the inputs hold encoded spans ({total})");
    }

    #[test]
    fn finds_base64_and_url_layers() {
        let inner = "token: ghp_Qm7xV2pLr9TzK4wHc8NbY3dFg6JsA1";
        let enc = base64::engine::general_purpose::STANDARD.encode(inner);
        let data = format!("data:\n  config: {enc}\nurl: user%3Dadmin%26pass%3Dx\n");
        let ls = layers(data.as_bytes(), 2);
        let b = ls
            .iter()
            .find(|l| l.chain == "base64")
            .expect("base64 layer");
        assert_eq!(b.decoded, inner.as_bytes());
        assert_eq!(&data[b.start..b.end], enc);
        assert!(
            ls.iter()
                .any(|l| l.chain == "url" && l.decoded == b"user=admin&pass=x")
        );
    }

    #[test]
    fn ignores_identifiers_and_binary() {
        assert!(layers(b"let someVeryLongIdentifierName = getElementById(x);", 2).is_empty());
        assert!(layers(b"sha512-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 2).is_empty());
    }

    #[test]
    fn nested_is_bounded() {
        let mut s = String::from("password=Zq8vT2mK9pL4xR7w");
        for _ in 0..6 {
            s = base64::engine::general_purpose::STANDARD.encode(s);
        }
        // Depth 2 does not reach the inner text.
        let ls = layers(s.as_bytes(), 2);
        assert!(ls.iter().all(|l| !l.decoded.starts_with(b"password")));
    }
}
