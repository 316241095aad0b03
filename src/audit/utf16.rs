//! UTF-16 inputs: Windows PowerShell 5's `>` and `Out-File` write UTF-16 LE with a byte-order
//! mark, so `aws ... > sm.json` on Windows gives a file no JSON or CSV reader takes. Such
//! inputs are turned into UTF-8 while they stream, before format detection.

use std::io::{self, Read};

/// The byte order of a UTF-16 input, told from its first bytes: a byte-order mark, or (without
/// one) the zero bytes around ASCII text, which every export starts with (`{`, `[`, a header).
pub fn detect(head: &[u8]) -> Option<bool> {
    match head {
        [0xff, 0xfe, ..] => Some(false),
        [0xfe, 0xff, ..] => Some(true),
        [a, 0, b, 0, ..] if *a != 0 && *b != 0 => Some(false),
        [0, a, 0, b, ..] if *a != 0 && *b != 0 => Some(true),
        _ => None,
    }
}

/// Decodes UTF-16 (`big_endian` or little) to UTF-8 as it is read. A byte-order mark at the
/// start is dropped; unpaired surrogates and a dangling odd byte become U+FFFD.
pub struct Utf16Reader<R> {
    inner: R,
    big_endian: bool,
    out: Vec<u8>,
    pos: usize,
    odd: Option<u8>,
    high: Option<u16>,
    started: bool,
    done: bool,
}

impl<R: Read> Utf16Reader<R> {
    /// Wraps `inner`, read from its first byte; `big_endian` as [`detect`] tells it.
    pub fn new(inner: R, big_endian: bool) -> Self {
        Utf16Reader {
            inner,
            big_endian,
            out: Vec::new(),
            pos: 0,
            odd: None,
            high: None,
            started: false,
            done: false,
        }
    }

    fn push(&mut self, c: char) {
        let mut b = [0u8; 4];
        self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    }

    fn unit(&mut self, u: u16) {
        if !self.started {
            self.started = true;
            if u == 0xfeff {
                return;
            }
        }
        if let Some(h) = self.high.take() {
            if (0xdc00..0xe000).contains(&u) {
                let c = 0x10000 + ((u32::from(h) - 0xd800) << 10) + (u32::from(u) - 0xdc00);
                self.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                return;
            }
            self.push('\u{fffd}');
        }
        match u {
            0xd800..=0xdbff => self.high = Some(u),
            0xdc00..=0xdfff => self.push('\u{fffd}'),
            _ => self.push(char::from_u32(u32::from(u)).unwrap_or('\u{fffd}')),
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        let mut buf = [0u8; 8192];
        while self.out.is_empty() && !self.done {
            let n = match self.inner.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                self.done = true;
                if self.odd.take().is_some() || self.high.take().is_some() {
                    self.push('\u{fffd}');
                }
                break;
            }
            let mut bytes = &buf[..n];
            if let Some(first) = self.odd.take() {
                let pair = [first, bytes[0]];
                self.unit(self.decode(pair));
                bytes = &bytes[1..];
            }
            let mut chunks = bytes.chunks_exact(2);
            for p in &mut chunks {
                self.unit(self.decode([p[0], p[1]]));
            }
            if let [b] = chunks.remainder() {
                self.odd = Some(*b);
            }
        }
        Ok(())
    }

    fn decode(&self, p: [u8; 2]) -> u16 {
        if self.big_endian {
            u16::from_be_bytes(p)
        } else {
            u16::from_le_bytes(p)
        }
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.out.len() {
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut units: Vec<u16> = Vec::new();
        if bom {
            units.push(0xfeff);
        }
        units.extend(text.encode_utf16());
        units
            .iter()
            .flat_map(|u| {
                if big_endian {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                }
            })
            .collect()
    }

    /// Reads through a reader that hands out one byte at a time, so every unit and
    /// surrogate pair is split across reads.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn decodes_both_byte_orders_split_anywhere() {
        let text = "{\"Name\": \"prod/db – ünïcode 🔑\"}\r\n";
        for be in [false, true] {
            for bom in [true, false] {
                let bytes = encode(text, be, bom);
                assert_eq!(detect(&bytes), Some(be), "be={be} bom={bom}");
                let mut out = String::new();
                Utf16Reader::new(Trickle(&bytes), be)
                    .read_to_string(&mut out)
                    .expect("read");
                assert_eq!(out, text);
            }
        }
        assert_eq!(detect(b"{\"a\": 1}"), None);
        assert_eq!(detect(b"\xef\xbb\xbf{"), None);
    }

    #[test]
    fn broken_units_become_replacement_characters() {
        // A lone high surrogate, a lone low surrogate, and a dangling odd byte.
        let bytes = [0x41, 0x00, 0x00, 0xd8, 0x42, 0x00, 0x00, 0xdc, 0x43];
        let mut out = String::new();
        Utf16Reader::new(&bytes[..], false)
            .read_to_string(&mut out)
            .expect("read");
        assert_eq!(out, "A\u{fffd}B\u{fffd}\u{fffd}");
    }
}
