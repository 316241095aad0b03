//! The keyword prefilter: every occurrence of every rule keyword (ASCII case-insensitive,
//! overlapping) in one pass over a blob, with one Aho-Corasick automaton walked as a DFA.
//!
//! A DFA walk is one chain of dependent table loads, so one walk leaves the core mostly
//! waiting on memory latency. The blob is cut into several lanes that are walked in the same
//! loop: their chains are independent, and the core overlaps them.
//!
//! The automaton is built here, trie and failure links, straight into one flat table laid
//! out for that loop: one row per state indexed by byte class, a state being the start of
//! its row, and every match state's row at or past a power of two no other row reaches, so
//! one OR of the lanes' states and one test find them all. (Converting another crate's
//! automaton into this table cost 4 ms of every start-up; building it costs about 1.)
#![allow(unsafe_code)] // reads the embedded transition table in place; every block has a SAFETY note

use anyhow::{Result, bail};
use std::borrow::Cow;

/// First word of `to_bytes`: the format's version.
const MAGIC: u32 = 0x6B77_6B31;

/// Lanes walked together. Blobs shorter than `LANES * MIN_LANE` are walked in one lane.
const LANES: usize = 6;
const MIN_LANE: usize = 256;

/// Little-endian words from `b` (whole words only).
fn le_words(b: &[u8]) -> Vec<u32> {
    (b.chunks_exact(4))
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// One keyword occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Index of the keyword, in the order the keywords were given to [`KeywordSet::new`].
    pub keyword: usize,
    /// Byte offset of the occurrence's first byte in the haystack.
    pub start: usize,
    /// Byte offset just past the occurrence's last byte.
    pub end: usize,
}

/// Every rule keyword in one case-insensitive Aho-Corasick automaton, stored as one flat
/// transition table that can also be embedded in the binary and read in place.
pub struct KeywordSet {
    /// A state is the start of its row (rows are `1 << stride_bits` long); entries are states.
    trans: Cow<'static, [u32]>,
    /// Byte -> column. Bytes no keyword holds (either case) share column 0.
    class: [u8; 256],
    start: u32,
    /// Rows at or past this start belong to match states. A power of two: only match rows'
    /// starts have this bit (they all lie below twice it).
    first_match: u32,
    stride_bits: u32,
    /// Keywords (id, length) each match state reports, from `first_match` on.
    matches: Vec<Vec<(u32, u32)>>,
    max_len: usize,
}

impl KeywordSet {
    /// The automaton for `keywords` (ASCII case-insensitive); an empty keyword is an error.
    pub fn new<I, K>(keywords: I) -> Result<KeywordSet>
    where
        I: IntoIterator<Item = K>,
        K: AsRef<[u8]>,
    {
        let keywords: Vec<Vec<u8>> = keywords
            .into_iter()
            .map(|k| k.as_ref().to_ascii_lowercase())
            .collect();
        if keywords.iter().any(|k| k.is_empty()) {
            bail!("empty keyword");
        }
        let mut class = [0u8; 256];
        let mut width = 1; // column 0: bytes in no keyword
        for &b in keywords.iter().flatten() {
            if class[b as usize] == 0 {
                if width > u8::MAX as usize {
                    bail!("keywords hold too many distinct bytes");
                }
                class[b as usize] = width as u8;
                class[b.to_ascii_uppercase() as usize] = width as u8;
                width += 1;
            }
        }
        let stride_bits = width.next_power_of_two().trailing_zeros();

        // The trie, one row of `width` per state (0 is the root; NONE: no child yet), and
        // the keywords ending at each state.
        const NONE: u32 = u32::MAX;
        let mut rows: Vec<u32> = vec![NONE; width];
        let mut out: Vec<Vec<(u32, u32)>> = vec![Vec::new()];
        for (id, k) in keywords.iter().enumerate() {
            let mut s = 0usize;
            for &b in k {
                let c = s * width + class[b as usize] as usize;
                if rows[c] == NONE {
                    rows[c] = out.len() as u32;
                    rows.extend(std::iter::repeat_n(NONE, width));
                    out.push(Vec::new());
                }
                s = rows[c] as usize;
            }
            out[s].push((id as u32, k.len() as u32));
        }
        // Failure links in breadth-first order turn the trie into a DFA: a missing child is
        // the failure state's transition, and a state also reports its failure state's hits.
        let states = out.len();
        let mut fail = vec![0u32; states];
        let mut queue = std::collections::VecDeque::from([0usize]);
        let mut bfs = Vec::with_capacity(states);
        while let Some(s) = queue.pop_front() {
            bfs.push(s);
            for c in 0..width {
                let f = fail[s] as usize;
                let t = rows[s * width + c];
                if t == NONE {
                    rows[s * width + c] = if s == 0 { 0 } else { rows[f * width + c] };
                } else {
                    let t = t as usize;
                    fail[t] = if s == 0 { 0 } else { rows[f * width + c] };
                    let inherited = out[fail[t] as usize].clone();
                    out[t].extend(inherited);
                    queue.push_back(t);
                }
            }
        }

        // Rows renumbered in breadth-first order (the states near the root, which most bytes
        // visit, share cache lines): other states first, match states in [first_match,
        // 2 * first_match), the only rows whose start has that bit.
        let n_match = out.iter().filter(|o| !o.is_empty()).count();
        let first_match = ((states - n_match).max(n_match) << stride_bits).next_power_of_two();
        let (mut o, mut m) = (0usize, first_match);
        let mut row = vec![0u32; states];
        let mut matches = Vec::with_capacity(n_match);
        for &s in &bfs {
            let r = if out[s].is_empty() { &mut o } else { &mut m };
            row[s] = *r as u32;
            *r += 1 << stride_bits;
            if !out[s].is_empty() {
                matches.push(std::mem::take(&mut out[s]));
            }
        }
        if m > u32::MAX as usize {
            bail!("keyword automaton too large");
        }
        let mut trans = vec![0u32; m];
        for (s, &r) in row.iter().enumerate() {
            for (c, &to) in rows[s * width..(s + 1) * width].iter().enumerate() {
                trans[r as usize + c] = row[to as usize];
            }
        }
        KeywordSet {
            trans: Cow::Owned(trans),
            class,
            start: row[0],
            first_match: first_match as u32,
            stride_bits,
            matches,
            max_len: keywords.iter().map(Vec::len).max().unwrap_or(0),
        }
        .checked()
        .ok_or_else(|| anyhow::anyhow!("keyword automaton table is inconsistent"))
    }

    /// The set if its table holds what `walk` relies on to index without bounds checks:
    /// every entry (and the start state) has a whole row after it inside the table, every
    /// class is a column within a row, and every match state has its keywords. (Entries
    /// need not be row starts: the walk only needs `entry + class` inside the table.)
    fn checked(self) -> Option<KeywordSet> {
        let row_len = 1usize.checked_shl(self.stride_bits)?;
        let len = self.trans.len();
        let fm = self.first_match as usize;
        let ok = (self.trans.iter()).all(|&t| t as usize + row_len <= len)
            && self.start as usize + row_len <= len
            && self.class.iter().all(|&c| (c as usize) < row_len)
            && self.start.is_multiple_of(row_len as u32)
            && fm.is_power_of_two()
            && len <= 2 * fm
            && (len.max(fm) - fm) >> self.stride_bits <= self.matches.len();
        ok.then_some(self)
    }

    /// The automaton as bytes, for `from_bytes` (the build embeds the built-in rules' one, so
    /// that start-up does not build it).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w: Vec<u32> = vec![
            MAGIC,
            self.trans.len() as u32,
            self.start,
            self.first_match,
            self.stride_bits,
            self.max_len as u32,
            self.matches.len() as u32,
        ];
        w.extend(self.trans.iter());
        let mut at = 0;
        for m in &self.matches {
            at += m.len() as u32;
            w.push(at);
        }
        w.extend(self.matches.iter().flatten().flat_map(|&(k, l)| [k, l]));
        let mut out: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
        out.extend(self.class);
        out
    }

    /// The automaton `to_bytes` wrote; `None` for anything else, a table `walk` could not
    /// rely on included.
    pub fn from_bytes(b: &[u8]) -> Option<KeywordSet> {
        Self::read(b, |t| Cow::Owned(t.to_vec()))
    }

    /// `from_bytes` for a table that lives as long as the program (the one embedded in the
    /// binary): where its words are aligned it is read in place, not copied. A copy faulted
    /// in 2.4 MB of fresh pages at every start (5 ms of a scan's serial start-up).
    pub fn from_static(b: &'static [u8]) -> Option<KeywordSet> {
        Self::read(b, Cow::Borrowed)
    }

    /// Whether the table is borrowed from the bytes it was read from.
    #[cfg(test)]
    pub(crate) fn reads_in_place(&self) -> bool {
        matches!(self.trans, Cow::Borrowed(_))
    }

    /// Reads the table; `table` turns the transition words, still in their bytes, into the
    /// set's table.
    fn read<'a>(
        b: &'a [u8],
        table: impl FnOnce(&'a [u32]) -> Cow<'static, [u32]>,
    ) -> Option<KeywordSet> {
        let (words, class) = b.split_last_chunk::<256>()?;
        let header = le_words(words.get(..28)?);
        let &[
            magic,
            n_trans,
            start,
            first_match,
            stride_bits,
            max_len,
            n_matches,
        ] = header.as_slice()
        else {
            return None;
        };
        if magic != MAGIC || !words.len().is_multiple_of(4) {
            return None;
        }
        let n_matches = n_matches as usize;
        let trans_end = (n_trans as usize).checked_mul(4)?.checked_add(28)?;
        let trans_bytes = words.get(28..trans_end)?;
        let trans: Cow<'static, [u32]> = if cfg!(target_endian = "little") {
            // SAFETY: any four bytes are a valid u32; the words are little-endian, as
            // written, on a little-endian target.
            match unsafe { trans_bytes.align_to::<u32>() } {
                (&[], t, &[]) => table(t),
                _ => Cow::Owned(le_words(trans_bytes)),
            }
        } else {
            Cow::Owned(le_words(trans_bytes))
        };
        let rest = le_words(&words[trans_end..]);
        let (ends, items) = rest.split_at_checked(n_matches)?;
        let mut matches = Vec::with_capacity(ends.len());
        let mut from = 0usize;
        for &end in ends {
            let part = items.get(2 * from..2 * end as usize)?;
            matches.push(part.chunks_exact(2).map(|p| (p[0], p[1])).collect());
            from = end as usize;
        }
        if 2 * from != items.len() {
            return None;
        }
        KeywordSet {
            trans,
            class: *class,
            start,
            first_match,
            stride_bits,
            matches,
            max_len: max_len as usize,
        }
        .checked()
    }

    /// Calls `f` once for every keyword occurrence, in no particular order.
    pub fn for_each_hit(&self, hay: &[u8], mut f: impl FnMut(Hit)) {
        let n = hay.len();
        let lanes = if n >= LANES * MIN_LANE { LANES } else { 1 };
        let chunk = n.div_ceil(lanes);
        // Lane l reports hits starting in [l * chunk, (l + 1) * chunk) and reads on past its
        // end far enough to see the last of them end.
        let mut pos = [0usize; LANES];
        let mut end = [0usize; LANES];
        let mut own = [0usize; LANES];
        for l in 0..lanes {
            pos[l] = (l * chunk).min(n);
            own[l] = ((l + 1) * chunk).min(n);
            end[l] = (own[l] + self.max_len.saturating_sub(1)).min(n);
        }
        let m = self.first_match;
        let mut sid = [self.start; LANES];
        if lanes == LANES {
            // All lanes have at least `steps` bytes to read.
            let steps = (0..LANES).map(|l| end[l] - pos[l]).min().unwrap_or(0);
            // Lane l starts at l * chunk.
            debug_assert!((0..LANES).all(|l| pos[l] == l * chunk));
            let mut i = 0;
            while i < steps {
                i = self.walk(hay, chunk, steps, i, &mut sid);
                if i < steps {
                    for (l, &s) in sid.iter().enumerate() {
                        if s >= m {
                            self.report(s, pos[l] + i, own[l], &mut f);
                        }
                    }
                    i += 1;
                }
            }
            for p in &mut pos {
                *p += steps;
            }
        }
        for l in 0..lanes {
            let mut s = sid[l];
            for (at, &b) in hay.iter().enumerate().take(end[l]).skip(pos[l]) {
                s = self.step(s, b);
                if s >= m {
                    self.report(s, at, own[l], &mut f);
                }
            }
        }
    }

    #[inline(always)]
    fn step(&self, s: u32, b: u8) -> u32 {
        self.trans[s as usize + self.class[b as usize] as usize]
    }

    /// Walks the six lanes, lane l reading `hay[l * chunk + i]`, together from `i` until one
    /// enters a match state; returns where (or `steps`), with the states after that byte in
    /// `sid`. The loop holds no call and no bounds check (a bounds check per lane and step
    /// cost a fifth more instructions), so the states stay in registers.
    #[inline(never)]
    fn walk(
        &self,
        hay: &[u8],
        chunk: usize,
        steps: usize,
        mut i: usize,
        sid: &mut [u32; LANES],
    ) -> usize {
        const { assert!(LANES == 6) };
        // Every read below is at l * chunk + i with l <= 5 and i < steps.
        assert!(5 * chunk + steps <= hay.len());
        let trans = &self.trans[..];
        let class = &self.class;
        let m = self.first_match as usize;
        let [mut s0, mut s1, mut s2, mut s3, mut s4, mut s5] = sid.map(|s| s as usize);
        // SAFETY: l * chunk <= 5 * chunk <= hay.len() (asserted above).
        let lane: [*const u8; LANES] =
            std::array::from_fn(|l| unsafe { hay.as_ptr().add(l * chunk) });
        while i < steps {
            // SAFETY: l * chunk + i < 5 * chunk + steps <= hay.len() for every lane l (the
            // assert above), so every read is inside `hay`.
            let [b0, b1, b2, b3, b4, b5] = lane.map(|p| unsafe { *p.add(i) });
            // SAFETY: every state has a whole row after it and a class is a column, so each
            // index is inside the table: `checked` ensures both for the whole table. The bounds check was a fifth of
            // the loop's instructions.
            unsafe {
                s0 = *trans.get_unchecked(s0 + class[b0 as usize] as usize) as usize;
                s1 = *trans.get_unchecked(s1 + class[b1 as usize] as usize) as usize;
                s2 = *trans.get_unchecked(s2 + class[b2 as usize] as usize) as usize;
                s3 = *trans.get_unchecked(s3 + class[b3 as usize] as usize) as usize;
                s4 = *trans.get_unchecked(s4 + class[b4 as usize] as usize) as usize;
                s5 = *trans.get_unchecked(s5 + class[b5 as usize] as usize) as usize;
            }
            if (s0 | s1 | s2 | s3 | s4 | s5) & m != 0 {
                break;
            }
            i += 1;
        }
        *sid = [s0, s1, s2, s3, s4, s5].map(|s| s as u32);
        i
    }

    /// The hits of a match state entered on reading byte `at`, if they start before `own`.
    #[cold]
    #[inline(never)]
    fn report(&self, s: u32, at: usize, own: usize, f: &mut impl FnMut(Hit)) {
        let k = ((s - self.first_match) >> self.stride_bits) as usize;
        for &(keyword, len) in &self.matches[k] {
            let start = at + 1 - len as usize;
            if start < own {
                f(Hit {
                    keyword: keyword as usize,
                    start,
                    end: at + 1,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every occurrence, by brute force.
    fn naive(kws: &[&str], hay: &[u8]) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        for i in 0..hay.len() {
            for (id, k) in kws.iter().enumerate() {
                let k = k.as_bytes();
                if i + k.len() <= hay.len() && hay[i..i + k.len()].eq_ignore_ascii_case(k) {
                    v.push((i, id));
                }
            }
        }
        v
    }

    fn fast(set: &KeywordSet, hay: &[u8]) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        set.for_each_hit(hay, |h| v.push((h.start, h.keyword)));
        v.sort_unstable();
        v
    }

    #[test]
    fn finds_overlapping_and_case_folded_hits() {
        let kws = [
            "secret",
            "secret_key",
            "cret",
            "sk",
            "k",
            "api-key",
            "://",
            "q~",
        ];
        let set = KeywordSet::new(kws).unwrap();
        let hay = b"AWS_SECRET_KEY=x; Sk q~ https://h api-KEY secre";
        assert_eq!(fast(&set, hay), naive(&kws, hay));
        assert!(fast(&set, hay).contains(&(4, 1)));
    }

    #[test]
    fn lanes_agree_with_brute_force_across_their_boundaries() {
        let kws = ["ab", "abc", "abcdefgh", "b_", "_", "zz", "a@b", "x~y"];
        let set = KeywordSet::new(kws).unwrap();
        let mut rng = crate::test_rng::Rng::new(0x1234_5678);
        for len in [0, 1, 2, 3, 5, 17, 4095, 4096, 4097, 9000, 20_011] {
            let hay = rng.pick(b"abcdefghABCH_@~xyz ", len);
            assert_eq!(fast(&set, &hay), naive(&kws, &hay), "len {len}");
        }
    }

    #[test]
    fn the_same_keyword_twice_reports_both() {
        let kws = ["token", "TOKEN", "ken", "oke"];
        let set = KeywordSet::new(kws).unwrap();
        let hay = b"a Token, tokens and a broken okey".repeat(40);
        assert_eq!(fast(&set, &hay), naive(&kws, &hay));
        assert!(KeywordSet::new(["a", ""]).is_err());
    }

    #[test]
    fn more_match_states_than_others() {
        let kws = ["a", "b", "c", "d", "e", "ab", "abc", "bcd", "cde", "xyz"];
        let set = KeywordSet::new(kws).unwrap();
        let hay = b"abcdefgxyzABCDE e d c b a xy".repeat(50);
        assert_eq!(fast(&set, &hay), naive(&kws, &hay));
    }

    #[test]
    fn keywords_with_nul_and_non_ascii_bytes() {
        let kws = ["a\0b", "\u{e9}t\u{e9}", "\0", "ab"];
        let set = KeywordSet::new(kws).unwrap();
        let hay = "xa\0b \u{c9}t\u{e9} \u{e9}t\u{e9}\0AB".repeat(300);
        assert_eq!(fast(&set, hay.as_bytes()), naive(&kws, hay.as_bytes()));
    }

    #[test]
    fn an_automaton_read_back_from_bytes_finds_the_same_hits() {
        let kws = [
            "secret",
            "secret_key",
            "sk",
            "api-key",
            "://",
            "a\0b",
            "token",
        ];
        let set = KeywordSet::new(kws).unwrap();
        let bytes = set.to_bytes();
        let back = KeywordSet::from_bytes(&bytes).expect("reads back");
        let hay = b"AWS_SECRET_KEY=x; Sk q~ https://h api-KEY tokens a\0b ".repeat(300);
        assert_eq!(fast(&back, &hay), fast(&set, &hay));
        assert_eq!(fast(&back, &hay), naive(&kws, &hay));
        // Read in place where its words are aligned, copied where they are not.
        for shift in 0..4 {
            let mut v = vec![0u8; shift];
            v.extend(&bytes);
            let leaked: &'static [u8] = &Box::leak(v.into_boxed_slice())[shift..];
            let set = KeywordSet::from_static(leaked).expect("reads in place");
            let aligned = (leaked.as_ptr() as usize).is_multiple_of(4);
            assert_eq!(
                set.reads_in_place(),
                aligned && cfg!(target_endian = "little")
            );
            assert_eq!(fast(&set, &hay), naive(&kws, &hay));
        }
        // Anything else is refused, never a table the unchecked walk could run off.
        assert!(KeywordSet::from_bytes(&bytes[..bytes.len() - 1]).is_none());
        assert!(KeywordSet::from_bytes(&bytes[4..]).is_none());
        assert!(KeywordSet::from_bytes(b"").is_none());
        let mut bad = bytes.clone();
        // The first table entry pointing past the table's end.
        bad[28..32].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(KeywordSet::from_bytes(&bad).is_none());
        let mut bad = bytes;
        // A byte class outside its row.
        let n = bad.len();
        bad[n - 256 + b's' as usize] = 255;
        assert!(KeywordSet::from_bytes(&bad).is_none());
    }

    #[test]
    fn a_keyword_across_a_lane_boundary_is_found_once() {
        let set = KeywordSet::new(["abcdefgh"]).unwrap();
        for at in 4090..4100 {
            let mut hay = vec![b' '; 8192];
            hay[at..at + 8].copy_from_slice(b"ABCDEFGH");
            assert_eq!(fast(&set, &hay), vec![(at, 0)], "at {at}");
        }
    }
}
