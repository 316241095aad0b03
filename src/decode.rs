//! Decoded layers of a blob: base64, hex and URL-encoded spans whose decoding is text, so the
//! same rules can look inside them. Bounded in depth, count and size.

use base64::Engine as _;

/// A decoded span: `start..end` in the outermost blob, and what it decodes to.
#[derive(Debug, Clone)]
pub struct Layer {
    pub start: usize,
    pub end: usize,
    pub decoded: Vec<u8>,
    /// Decodings applied, outermost first, e.g. `base64` or `base64+url`.
    pub chain: String,
}

const MIN_B64: usize = 20;
const MIN_HEX: usize = 32;
const MAX_LAYERS: usize = 4096;
const MAX_DECODED_BYTES: usize = 8 << 20;
const MAX_SPAN: usize = 1 << 20;

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

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// Calls `f` for every candidate encoded span.
fn spans(data: &[u8], mut f: impl FnMut(usize, usize, Kind)) {
    let mut i = 0;
    while i < data.len() {
        if !is_b64(data[i]) && data[i] != b'%' {
            i += 1;
            continue;
        }
        let s = i;
        let mut pct = 0;
        let mut all_hex = true;
        let mut all_b64 = true;
        while i < data.len() && (is_b64(data[i]) || data[i] == b'%' || data[i] == b'.') {
            let b = data[i];
            if b == b'%' {
                pct += 1;
                all_b64 = false;
            }
            if b == b'.' {
                all_b64 = false;
            }
            all_hex &= b.is_ascii_hexdigit();
            i += 1;
        }
        let mut e = i;
        while e < data.len() && data[e] == b'=' && e - i < 2 {
            e += 1;
        }
        let len = e - s;
        if pct >= 2 {
            f(s, i, Kind::Url);
        } else if all_hex && len >= MIN_HEX && len % 2 == 0 {
            f(s, e, Kind::Hex);
        } else if all_b64 && len >= MIN_B64 && looks_b64(&data[s..i]) {
            f(s, e, Kind::Base64);
        }
        i = e.max(s + 1);
    }
}

/// Base64 of text mixes cases and digits; identifiers and words rarely do all of it.
fn looks_b64(s: &[u8]) -> bool {
    let upper = s.iter().filter(|b| b.is_ascii_uppercase()).count();
    let lower = s.iter().filter(|b| b.is_ascii_lowercase()).count();
    upper > 0 && lower > 0 && (upper + lower) < s.len() + 1
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
        if s[i] == b'%' && i + 2 < s.len() {
            if let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(&s[i + 1..i + 3]), 16) {
                out.push(b);
                i += 3;
                continue;
            }
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
    let printable = d
        .iter()
        .filter(|&&b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\r' || b == b'\t')
        .count();
    printable * 100 >= d.len() * 95
}

#[cfg(test)]
mod tests {
    use super::*;

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
