//! Text written in UTF-16 or UTF-32 (what Windows tools and PowerShell 5's `>` write), told
//! apart from binary data and decoded to UTF-8, so that the pipeline scans it like any other
//! text instead of skipping it for its NUL bytes.
//!
//! Detection looks only at a blob's head (the bytes the binary test sniffs) and is only asked
//! when that test would call the blob binary or the head starts with a byte UTF-8 never uses
//! (a BOM), so UTF-8 text never pays for it. It is strict, because a binary taken for text is
//! scanned as noise: the head must decode without controls and with few rare code points;
//! without a BOM it must also be mostly Latin-1 (the NUL pattern of mostly-ASCII text), which
//! is all that tells a BOM-less UTF-16 file from a binary one.

/// A Unicode encoding with code units wider than a byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-16, little-endian (what Windows tools write).
    Utf16Le,
    /// UTF-16, big-endian.
    Utf16Be,
    /// UTF-32, little-endian.
    Utf32Le,
    /// UTF-32, big-endian.
    Utf32Be,
}

impl Encoding {
    /// Bytes per code unit.
    fn unit(self) -> usize {
        match self {
            Encoding::Utf16Le | Encoding::Utf16Be => 2,
            Encoding::Utf32Le | Encoding::Utf32Be => 4,
        }
    }

    /// The code unit at the start of `b` (which holds at least one).
    fn read(self, b: &[u8]) -> u32 {
        match self {
            Encoding::Utf16Le => u32::from(u16::from_le_bytes([b[0], b[1]])),
            Encoding::Utf16Be => u32::from(u16::from_be_bytes([b[0], b[1]])),
            Encoding::Utf32Le => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            Encoding::Utf32Be => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        }
    }

    fn is_utf16(self) -> bool {
        self.unit() == 2
    }
}

/// How a blob's text is encoded, and how many bytes of byte order mark precede the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    /// The encoding of the text.
    pub encoding: Encoding,
    /// Bytes of byte order mark before the text: 0 when there is none.
    pub bom: usize,
}

/// BOM-less text must hold at least this many characters: a few bytes with a NUL say too
/// little to tell text from data, and no secret is that short.
const MIN_UNITS: usize = 4;

/// The share of BOM-less text that must be Latin-1 (U+0000..U+00FF, with controls already
/// refused), as numerator/denominator: mostly-ASCII text has a zero high byte in nearly
/// every code unit; binary data does not keep that up.
const LATIN1_SHARE: (usize, usize) = (3, 4);

/// The encoding of `head` (a blob's first bytes) if it is UTF-16 or UTF-32 text, by its BOM
/// or, without one, by the pattern of zero bytes of mostly-ASCII text.
pub fn detect(head: &[u8]) -> Option<Detected> {
    use Encoding::*;
    // UTF-32LE's BOM starts with UTF-16LE's, so it is tried first; read as UTF-16LE it would
    // be followed by U+0000, which no text passes with.
    let boms: [(&[u8], Encoding); 4] = [
        (b"\xFF\xFE\0\0", Utf32Le),
        (b"\0\0\xFE\xFF", Utf32Be),
        (b"\xFF\xFE", Utf16Le),
        (b"\xFE\xFF", Utf16Be),
    ];
    for (bom, encoding) in boms {
        if head.starts_with(bom) && looks_like_text(&head[bom.len()..], encoding, true) {
            return Some(Detected {
                encoding,
                bom: bom.len(),
            });
        }
    }
    // Each try gives up at the first code unit that cannot be text, which for binary data
    // comes within a few bytes.
    [Utf32Le, Utf32Be, Utf16Le, Utf16Be]
        .into_iter()
        .find(|&e| looks_like_text(head, e, false))
        .map(|encoding| Detected { encoding, bom: 0 })
}

/// Whether `body` (without BOM, possibly cut anywhere by the end of the sniffed head) reads
/// as text in `enc`: no code unit outside Unicode, no control character but whitespace and
/// escape, no noncharacter U+FFFE/U+FFFF, few code units that text seldom holds (see
/// `RARE_SHARE`) and, without a BOM, no unpaired surrogate and mostly Latin-1.
fn looks_like_text(body: &[u8], enc: Encoding, bom: bool) -> bool {
    let unit = enc.unit();
    let n = body.len() / unit;
    if !bom && n < MIN_UNITS {
        return false;
    }
    let at = |i: usize| enc.read(&body[i * unit..]);
    let (mut latin1, mut rare, mut ascii) = (0, 0, false);
    let mut i = 0;
    while i < n {
        let u = at(i);
        i += 1;
        if (0xD800..0xE000).contains(&u) {
            let paired = enc.is_utf16()
                && u < 0xDC00
                && match (i < n).then(|| at(i)) {
                    Some(lo) => (0xDC00..0xE000).contains(&lo),
                    // A pair cut by the end of the head.
                    None => true,
                };
            if paired {
                i += 1;
                continue;
            }
            // Unpaired surrogates occur in real UTF-16 (Windows file names) and are decoded
            // lossily, but only a BOM makes them worth the doubt; UTF-32 has none.
            if !(bom && enc.is_utf16()) {
                return false;
            }
            rare += 1;
            continue;
        }
        if u > 0x10FFFF || !allowed(u) {
            return false;
        }
        latin1 += usize::from(u <= 0xFF);
        ascii |= u < 0x7F;
        rare += usize::from(is_rare(u));
    }
    // A short head has too few code units for the rare share to tell random bytes from
    // text; text that short has a line break or a space.
    rare * RARE_SHARE.1 <= n * RARE_SHARE.0
        && (n >= FEW_UNITS || ascii)
        && (bom || latin1 * LATIN1_SHARE.1 >= n * LATIN1_SHARE.0)
}

/// Below this many code units a head must hold an ASCII character to pass for text.
const FEW_UNITS: usize = 256;

/// At most this share of code units may be rare in text (numerator/denominator). Random
/// bytes after a BOM-like start (compressed data, keys) read as UTF-16 have a fifth of their
/// code units rare, and controls are too scarce among them to give them away.
const RARE_SHARE: (usize, usize) = (1, 16);

/// BMP code points text in any language seldom holds, though they are valid: private use,
/// compatibility ideographs and presentation forms, and the blocks between CJK and Hangul
/// and after Hangul.
fn is_rare(u: u32) -> bool {
    matches!(u, 0xA000..=0xABFF | 0xD7B0..=0xD7FF | 0xE000..=0xFDFF)
}

/// Characters text may hold: not C0 controls other than whitespace (tab, line feed, vertical
/// tab, form feed, carriage return) and escape (coloured logs), not DEL or C1 controls, not
/// the noncharacters U+FFFE and U+FFFF. U+0000 is refused: binary data is full of it.
fn allowed(u: u32) -> bool {
    match u {
        0x09..=0x0D | 0x1B => true,
        0x00..=0x1F | 0x7F..=0x9F | 0xFFFE | 0xFFFF => false,
        _ => true,
    }
}

/// `data` decoded from `d` to UTF-8, without the BOM. Unpaired surrogates, code units
/// outside Unicode and a trailing partial code unit become U+FFFD, as an editor shows them.
pub fn decode(data: &[u8], d: Detected) -> Vec<u8> {
    let body = data.get(d.bom..).unwrap_or_default();
    let enc = d.encoding;
    let unit = enc.unit();
    let chunks = body.chunks_exact(unit);
    let partial = !chunks.remainder().is_empty();
    // Mostly-ASCII text takes a byte per code unit.
    let mut out = String::with_capacity(body.len() / unit + 16);
    if enc.is_utf16() {
        let units = chunks.map(|c| enc.read(c) as u16);
        out.extend(char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)));
    } else {
        out.extend(
            chunks.map(|c| char::from_u32(enc.read(c)).unwrap_or(char::REPLACEMENT_CHARACTER)),
        );
    }
    if partial {
        out.push(char::REPLACEMENT_CHARACTER);
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Encoding::*;

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn utf16be(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    fn utf32le(s: &str) -> Vec<u8> {
        s.chars().flat_map(|c| u32::from(c).to_le_bytes()).collect()
    }

    fn utf32be(s: &str) -> Vec<u8> {
        s.chars().flat_map(|c| u32::from(c).to_be_bytes()).collect()
    }

    fn with(bom: &[u8], body: Vec<u8>) -> Vec<u8> {
        [bom, &body].concat()
    }

    /// Detects and decodes `data` as the pipeline does, from its first 8 KiB.
    fn roundtrip(data: &[u8]) -> Option<(Detected, String)> {
        let d = detect(&data[..data.len().min(8192)])?;
        Some((d, String::from_utf8(decode(data, d)).unwrap()))
    }

    const TEXT: &str = "# settings\r\nname = \"café\"\r\n\tpath = C:\\Users\\x\r\n€ ✓ 𝄞\n";

    #[test]
    fn detects_and_decodes_each_encoding_with_and_without_bom() {
        type Encode = fn(&str) -> Vec<u8>;
        let cases: [(Encoding, &[u8], Encode); 4] = [
            (Utf16Le, b"\xFF\xFE", utf16le),
            (Utf16Be, b"\xFE\xFF", utf16be),
            (Utf32Le, b"\xFF\xFE\0\0", utf32le),
            (Utf32Be, b"\0\0\xFE\xFF", utf32be),
        ];
        for (encoding, bom, encode) in cases {
            let (d, text) = roundtrip(&with(bom, encode(TEXT))).unwrap();
            assert_eq!(
                d,
                Detected {
                    encoding,
                    bom: bom.len()
                }
            );
            assert_eq!(text, TEXT, "{encoding:?} with BOM");
            let (d, text) = roundtrip(&encode(TEXT)).unwrap();
            assert_eq!(d, Detected { encoding, bom: 0 });
            assert_eq!(text, TEXT, "{encoding:?} without BOM");
        }
    }

    #[test]
    fn long_text_is_decided_by_its_head_and_decoded_whole() {
        let line = "key = value, and some more words\r\n";
        let text = line.repeat(1000);
        let data = utf16le(&text);
        assert!(data.len() > 8192);
        let (d, got) = roundtrip(&data).unwrap();
        assert_eq!(d.encoding, Utf16Le);
        assert_eq!(got, text);
        // A surrogate pair cut by the end of the head.
        let mut text = "x".repeat(4095);
        text.push('𝄞');
        text.push_str(&"y".repeat(100));
        let data = utf16le(&text);
        assert_eq!(data[8190..8192], 0xD834u16.to_le_bytes());
        assert_eq!(roundtrip(&data).unwrap().1, text);
    }

    #[test]
    fn odd_lengths_and_lone_surrogates_decode_lossily() {
        // A trailing half code unit.
        let mut data = with(b"\xFF\xFE", utf16le("user = admin\n"));
        data.push(b'x');
        assert_eq!(roundtrip(&data).unwrap().1, "user = admin\n\u{FFFD}");
        let mut data = utf16le("user = admin\n");
        data.push(b'x');
        assert_eq!(roundtrip(&data).unwrap().1, "user = admin\n\u{FFFD}");
        let mut data = utf32be("user = admin\n");
        data.extend_from_slice(b"\0\0");
        assert_eq!(roundtrip(&data).unwrap().1, "user = admin\n\u{FFFD}");
        // Unpaired surrogates (as in Windows file names): accepted with a BOM, replaced.
        let name: Vec<u16> = "C:\\temp\\report-2024.txt\r\n"
            .repeat(2)
            .encode_utf16()
            .collect();
        let units = [&[0xFEFF, 0x61, 0xD800, 0x62, 0xDC00][..], &name].concat();
        let data: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(
            roundtrip(&data).unwrap().1,
            format!(
                "a\u{FFFD}b\u{FFFD}{}",
                "C:\\temp\\report-2024.txt\r\n".repeat(2)
            )
        );
        assert!(detect(&data[2..]).is_none());
    }

    #[test]
    fn text_without_ascii_needs_its_bom() {
        let greek = "κωδικός πρόσβασης\n".repeat(4);
        assert_eq!(
            roundtrip(&with(b"\xFF\xFE", utf16le(&greek))).unwrap().1,
            greek
        );
        assert!(detect(&utf16le(&greek)).is_none());
        // Mostly ASCII with some other letters is still recognised.
        let mixed = "password = \"κωδικός\" # the admin account\n";
        assert_eq!(roundtrip(&utf16le(mixed)).unwrap().1, mixed);
    }

    #[test]
    fn binaries_are_not_taken_for_text() {
        let mut rng = crate::test_rng::Rng::new(0x2545_F491_4F6C_DD1D);
        let mut random = |n: usize| rng.bytes(n);
        let mut samples: Vec<(&str, Vec<u8>)> = vec![
            (
                "ELF",
                [
                    b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0\x3e\0\x01\0\0\0".as_slice(),
                    &[0x10, 0x6b, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0],
                ]
                .concat(),
            ),
            (
                "PNG",
                b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x06\0\0\0\x5c\x72\xa8\x66"
                    .to_vec(),
            ),
            (
                "zip",
                b"PK\x03\x04\x14\0\0\0\x08\0\x8b\x5a\x79\x58\x12\x34\x56\x78\x0a\0\0\0\x0c\0\0\0\x08\0\x1c\0a.txt"
                    .to_vec(),
            ),
            ("sqlite", {
                let mut h = b"SQLite format 3\0\x10\0\x01\x01\0\x40\x20\x20\0\0\0\x02".to_vec();
                h.resize(100, 0);
                h
            }),
            (
                "PE",
                b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0\x40\0\0\0".to_vec(),
            ),
            (
                "COFF object",
                b"\x64\x86\x05\0\x3a\x1b\x7c\x65\x90\x03\0\0\x12\0\0\0\0\0\x04\0.text\0\0\0".to_vec(),
            ),
            (
                "Mach-O",
                b"\xcf\xfa\xed\xfe\x0c\0\0\x01\0\0\0\0\x02\0\0\0\x10\0\0\0\xe8\x02\0\0".to_vec(),
            ),
            (
                "Java class",
                b"\xca\xfe\xba\xbe\0\0\0\x34\0\x1d\x0a\0\x06\0\x0f\x09\0\x10\0\x11\x08".to_vec(),
            ),
            ("zeros", vec![0; 4096]),
        ];
        // The headers alone, and followed by what usually follows them: compressed or
        // random bytes.
        for i in 0..samples.len() {
            let (name, mut data) = samples[i].clone();
            data.extend(random(8192 - data.len()));
            samples.push((name, data));
        }
        samples.push(("random", random(8192)));
        // Binaries that happen to start with a UTF-16 BOM.
        for n in [40, 200, 8000] {
            samples.push((
                "BOM then random",
                [b"\xFF\xFE".as_slice(), &random(n)].concat(),
            ));
            samples.push((
                "BOM then random",
                [b"\xFE\xFF".as_slice(), &random(n)].concat(),
            ));
        }
        // UTF-16 strings inside a binary, between binary fields.
        let mut table = b"\x01\0\0\0\x20\0\0\0".to_vec();
        table.extend(utf16le("ProductName"));
        table.extend_from_slice(b"\0\0\x02\0\0\0\x10\0");
        table.extend(utf16le("FileVersion"));
        samples.push(("string table", table));
        for (name, data) in &samples {
            assert!(
                detect(&data[..data.len().min(8192)]).is_none(),
                "{name} ({} bytes) taken for text",
                data.len()
            );
        }
        // Random bytes after a BOM, of every short length: seldom taken for text.
        let mut taken = 0;
        for i in 0..20_000 {
            let bom: &[u8] = if i % 2 == 0 { b"\xFF\xFE" } else { b"\xFE\xFF" };
            let data = [bom, &random(8 + i % 600)].concat();
            taken += usize::from(detect(&data).is_some());
        }
        assert!(taken < 20, "{taken} of 20000");
        // Too short to tell.
        assert!(detect(b"a\0b\0").is_none());
        assert!(detect(&utf16le("abcd")).is_some());
    }
}
