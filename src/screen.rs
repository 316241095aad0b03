//! A cheap test a window must pass before a rule's regex runs there, or is even compiled.
//!
//! Most rules require a long run of bytes from one class in every match: a token's body
//! (`[A-Za-z0-9]{36}`), a hex digest, a base64 key. Keyword hits in ordinary code seldom
//! have such a run beside them, so a window without one is dropped for a few table lookups,
//! and a rule none of whose windows pass is never compiled (compiling one costs ~0.4 ms,
//! more than scanning a megabyte).

use regex_syntax::hir::{Class, Hir, HirKind};

/// Runs shorter than this are too common in code to be worth testing for.
const MIN_RUN: usize = 8;

/// Most items of a concatenation taken together as one run (a bound on analysis time).
const MAX_STRETCH: usize = 12;

/// A run of `run` bytes, all in `class`, that every match holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Screen {
    class: [bool; 256],
    run: usize,
}

impl Screen {
    /// The most telling run every match of `h` holds (see `best`), if there is one.
    pub fn new(h: &Hir) -> Option<Screen> {
        let (set, run, _) = best(runs(h))?;
        let mut class = [false; 256];
        (0..=255u8).for_each(|b| class[b as usize] = set_has(&set, b));
        Some(Screen { class, run })
    }

    pub fn run(&self) -> usize {
        self.run
    }

    /// Whether `bytes` holds `run` consecutive bytes of the class. Looks at the last byte a
    /// run starting at `i` would need first: when it is outside the class, no run can start
    /// before it, and most bytes are skipped.
    pub fn passes(&self, bytes: &[u8]) -> bool {
        let r = self.run;
        let mut i = 0;
        while i + r <= bytes.len() {
            let last = i + r - 1;
            if !self.class[bytes[last] as usize] {
                i = last + 1;
                continue;
            }
            match (i..last).rev().find(|&j| !self.class[bytes[j] as usize]) {
                None => return true,
                Some(j) => i = j + 1,
            }
        }
        false
    }
}

/// Bytes a class can match. A Unicode class beyond ASCII may match any byte of a UTF-8
/// sequence, so all bytes from 0x80 are let in.
fn table(c: &Class) -> Set {
    let mut t = [0; 4];
    match c {
        Class::Bytes(b) => {
            for r in b.ranges() {
                set_add(&mut t, r.start(), r.end());
            }
        }
        Class::Unicode(u) => {
            for r in u.ranges() {
                let (s, e) = (r.start() as u32, r.end() as u32);
                if s < 0x80 {
                    set_add(&mut t, s as u8, e.min(0x7F) as u8);
                }
                if e >= 0x80 {
                    set_add(&mut t, 0x80, 0xFF);
                }
            }
        }
    }
    t
}

fn union(a: &mut Set, b: &Set) {
    for (x, y) in a.iter_mut().zip(b) {
        *x |= *y;
    }
}

/// The class every byte a match of `h` holds falls in, and the fewest bytes a match has.
fn uniform(h: &Hir) -> (Set, usize) {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => ([0; 4], 0),
        HirKind::Literal(l) => {
            let mut t = [0; 4];
            l.0.iter().for_each(|&b| set_add(&mut t, b, b));
            (t, l.0.len())
        }
        HirKind::Class(c) => (table(c), 1),
        HirKind::Capture(c) => uniform(&c.sub),
        HirKind::Repetition(r) => {
            let (t, n) = uniform(&r.sub);
            (t, n.saturating_mul(r.min as usize))
        }
        HirKind::Concat(items) => items.iter().fold(([0; 4], 0), |(mut t, n), i| {
            let (u, m) = uniform(i);
            union(&mut t, &u);
            (t, n.saturating_add(m))
        }),
        HirKind::Alternation(items) => {
            let mut t = [0; 4];
            let mut n = usize::MAX;
            for i in items {
                let (u, m) = uniform(i);
                union(&mut t, &u);
                n = n.min(m);
            }
            (t, n)
        }
    }
}

/// A run every match holds: its class, its least length, and whether it comes from a
/// repetition (a run of fixed text is most often the keyword itself, present at every hit).
type Run = (Set, usize, bool);

/// A set of bytes.
type Set = [u64; 4];

fn set_has(t: &Set, b: u8) -> bool {
    t[(b >> 6) as usize] >> (b & 63) & 1 == 1
}

fn set_add(t: &mut Set, lo: u8, hi: u8) {
    for b in lo..=hi {
        t[(b >> 6) as usize] |= 1 << (b & 63);
    }
}

/// How much a run tells apart from ordinary text: its length times the bits a byte of its
/// class carries. `[^\s"']{8}` says almost nothing; `[a-f0-9]{32}` a lot.
fn score((t, n, _): &Run) -> f64 {
    let size = t.iter().map(|w| w.count_ones()).sum::<u32>().max(1);
    *n as f64 * (256.0 / size as f64).log2()
}

/// The run to test for: long enough, leaving some byte out, from a repetition if possible.
fn best(runs: Vec<Run>) -> Option<Run> {
    runs.into_iter()
        .filter(|(t, n, _)| *n >= MIN_RUN && t.iter().any(|&w| w != u64::MAX))
        .max_by(|a, b| {
            (a.2, score(a))
                .partial_cmp(&(b.2, score(b)))
                .unwrap_or(std::cmp::Ordering::Equal)
        })
}

/// Runs that every match of `h` holds.
fn runs(h: &Hir) -> Vec<Run> {
    let repeats =
        |h: &Hir| matches!(h.kind(), HirKind::Repetition(r) if r.min >= 1 && r.max != Some(1));
    match h.kind() {
        HirKind::Capture(c) => runs(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => {
            let (t, n) = uniform(h);
            vec![(t, n, r.max != Some(1))]
        }
        HirKind::Concat(items) => {
            let mut out: Vec<Run> = items.iter().flat_map(runs).collect();
            // Every stretch of neighbouring items, as one run over the union of their classes.
            let uni: Vec<(Set, usize)> = items.iter().map(uniform).collect();
            for i in 0..items.len() {
                let mut acc: Run = ([0; 4], 0, false);
                for j in i..items.len().min(i + MAX_STRETCH) {
                    union(&mut acc.0, &uni[j].0);
                    acc.1 = acc.1.saturating_add(uni[j].1);
                    acc.2 |= repeats(&items[j]);
                    if j > i {
                        out.push(acc);
                    }
                }
            }
            out
        }
        HirKind::Alternation(items) => {
            let mut t = [0; 4];
            let mut n = usize::MAX;
            let mut rep = true;
            for i in items {
                let Some((u, m, r)) = best(runs(i)) else {
                    return Vec::new();
                };
                union(&mut t, &u);
                n = n.min(m);
                rep &= r;
            }
            vec![(t, n, rep)]
        }
        _ => {
            let (t, n) = uniform(h);
            vec![(t, n, false)]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(re: &str) -> Option<Screen> {
        Screen::new(&crate::window::parse(re).unwrap())
    }

    #[test]
    fn the_longest_required_run_is_found() {
        // Prefix and body together: one run of 40 bytes, each alphanumeric or `_`.
        let s = screen(r"(?i)\b(?P<secret>ghp_[A-Za-z0-9]{36})\b").unwrap();
        assert_eq!(s.run(), 40);
        assert!(s.passes(b"GHP_abcdefghijklmnopqrstuvwxyz0123456789"));
        // A run from a repetition is taken over fixed text (the keyword, there at every hit).
        let s = screen(r#"(?i)password\s*[:=]\s*["']?(?P<secret>[^\s"']{8,64})"#).unwrap();
        assert_eq!(s.run(), 8);
        assert!(s.passes(b"PassWord"));
        assert!(!s.passes(b"pass word"));
        // Alternatives: the shorter of the two runs, over both classes.
        let s = screen(r"(?:[a-f0-9]{32}|[A-Z0-9]{20})").unwrap();
        assert_eq!(s.run(), 20);
        assert!(s.passes(b"key: 0123456789abcdefABCD"));
        // With the text around it, a short body still makes a run.
        assert_eq!(screen(r"token=[a-z]{4}").unwrap().run(), 10);
        // Too short or optional: no screen.
        assert!(screen(r"[a-z]{4}").is_none());
        assert!(screen(r"x(?:[a-z]{40})?").is_none());
    }

    #[test]
    fn a_window_passes_only_with_a_long_enough_run() {
        let s = screen(r"AKIA[A-Z0-9]{16}").unwrap();
        assert_eq!(s.run(), 20);
        assert!(s.passes(b"id = AKIAABCDEFGHIJKLMNOP;"));
        assert!(s.passes(b"AKIAABCDEFGHIJKLMNOP"));
        assert!(!s.passes(b"id = AKIAABCDEFGHIJKLMNO;"));
        assert!(!s.passes(b"AKIA ABCDEFGHIJKLMNOP"));
        assert!(!s.passes(b""));
        // The skip ahead must not jump over a run that starts inside the skipped bytes.
        assert!(s.passes(b"a.b.c.dAKIAABCDEFGHIJKLMNOP.e"));
        let u = screen(r"(?u)secret=(\w{10})").unwrap();
        assert!(u.passes("secret=ééééé".as_bytes()));
    }

    #[test]
    fn passing_agrees_with_a_plain_count_on_every_split() {
        let s = screen(r"[a-c]{8}").unwrap();
        let hay = b"abcabca.abcabcab..aaaaaaa.bbbbbbbbx";
        for start in 0..hay.len() {
            for end in start..=hay.len() {
                let w = &hay[start..end];
                let mut best = 0;
                let mut n = 0;
                for &b in w {
                    n = if (b'a'..=b'c').contains(&b) { n + 1 } else { 0 };
                    best = best.max(n);
                }
                assert_eq!(s.passes(w), best >= 8, "{:?}", String::from_utf8_lossy(w));
            }
        }
    }
}
