//! The keyword prefilter: every occurrence of every rule keyword (ASCII case-insensitive,
//! overlapping) in one pass over a blob, with one Aho-Corasick DFA.
//!
//! A DFA walk is one chain of dependent table loads, so one walk leaves the core mostly
//! waiting on memory latency. The blob is cut into several lanes that are walked in the same
//! loop: their chains are independent, and the core overlaps them.

use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind};
use anyhow::{Context, Result};

/// Lanes walked together. Blobs shorter than `LANES * MIN_LANE` are walked in one lane.
const LANES: usize = 4;
const MIN_LANE: usize = 256;

/// One keyword occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub keyword: usize,
    pub start: usize,
    pub end: usize,
}

pub struct KeywordSet {
    dfa: DFA,
    max_len: usize,
}

impl KeywordSet {
    /// Keywords must be non-empty.
    pub fn new<I, K>(keywords: I) -> Result<KeywordSet>
    where
        I: IntoIterator<Item = K>,
        K: AsRef<[u8]>,
    {
        let dfa = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(keywords)
            .context("building keyword automaton")?;
        let max_len = dfa.max_pattern_len();
        Ok(KeywordSet { dfa, max_len })
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
        let Ok(start) = self.dfa.start_state(Anchored::No) else {
            return;
        };
        let mut sid = [start; LANES];
        if lanes == LANES {
            // All four lanes have at least `steps` bytes to read. Zipped slices keep bounds
            // checks and position counters out of the loop, so the four states stay in
            // registers.
            let steps = (0..LANES).map(|l| end[l] - pos[l]).min().unwrap_or(0);
            let lane = |l: usize| &hay[pos[l]..pos[l] + steps];
            let dfa = &self.dfa;
            let [mut s0, mut s1, mut s2, mut s3] = sid;
            for (i, (((&b0, &b1), &b2), &b3)) in lane(0)
                .iter()
                .zip(lane(1))
                .zip(lane(2))
                .zip(lane(3))
                .enumerate()
            {
                s0 = dfa.next_state(Anchored::No, s0, b0);
                s1 = dfa.next_state(Anchored::No, s1, b1);
                s2 = dfa.next_state(Anchored::No, s2, b2);
                s3 = dfa.next_state(Anchored::No, s3, b3);
                if dfa.is_special(s0) | dfa.is_special(s1) | dfa.is_special(s2) | dfa.is_special(s3)
                {
                    for (l, s) in [s0, s1, s2, s3].into_iter().enumerate() {
                        if dfa.is_special(s) {
                            self.report(s, pos[l] + i, own[l], &mut f);
                        }
                    }
                }
            }
            sid = [s0, s1, s2, s3];
            for p in &mut pos {
                *p += steps;
            }
        }
        for l in 0..lanes {
            let mut s = sid[l];
            for (at, &b) in hay.iter().enumerate().take(end[l]).skip(pos[l]) {
                s = self.dfa.next_state(Anchored::No, s, b);
                if self.dfa.is_special(s) {
                    self.report(s, at, own[l], &mut f);
                }
            }
        }
    }

    /// The hits of a match state entered on reading byte `at`, if they start before `own`.
    #[cold]
    #[inline(never)]
    fn report(
        &self,
        sid: aho_corasick::automaton::StateID,
        at: usize,
        own: usize,
        f: &mut impl FnMut(Hit),
    ) {
        if !self.dfa.is_match(sid) {
            return;
        }
        for k in 0..self.dfa.match_len(sid) {
            let pid = self.dfa.match_pattern(sid, k);
            let len = self.dfa.pattern_len(pid);
            let start = at + 1 - len;
            if start < own {
                f(Hit {
                    keyword: pid.as_usize(),
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
        let mut x: u64 = 0x1234_5678;
        for len in [0, 1, 2, 3, 5, 17, 4095, 4096, 4097, 9000, 20_011] {
            let hay: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    b"abcdefghABCH_@~xyz "[(x % 19) as usize]
                })
                .collect();
            assert_eq!(fast(&set, &hay), naive(&kws, &hay), "len {len}");
        }
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
