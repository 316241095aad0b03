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

/// A run of `run` bytes, all in `class`, that every match holds, starting at most `from`
/// bytes into the match when that is bounded.
#[derive(Debug, Clone, PartialEq)]
pub struct Screen {
    class: [bool; 256],
    run: usize,
    from: Option<usize>,
}

impl Screen {
    /// The most telling run every match of `h` holds (see `best`), if there is one.
    pub fn new(h: &Hir) -> Option<Screen> {
        let r = best(runs(h))?;
        let mut class = [false; 256];
        (0..=255u8).for_each(|b| class[b as usize] = set_has(&r.set, b));
        Some(Screen {
            class,
            run: r.len,
            from: r.from,
        })
    }

    /// Length of the run every match holds, in bytes.
    pub fn run(&self) -> usize {
        self.run
    }

    /// How far past a match's start the first `run` bytes of its run can end, if bounded:
    /// a window whose matches start at or before `at` need not be screened past
    /// `at + reach`.
    pub fn reach(&self) -> Option<usize> {
        self.from.map(|f| f.saturating_add(self.run))
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

/// A run every match holds.
#[derive(Clone, Copy)]
struct Run {
    set: Set,
    /// Its least length.
    len: usize,
    /// Whether it comes from a repetition (a run of fixed text is most often the keyword
    /// itself, present at every hit).
    rep: bool,
    /// The furthest into a match it can start; `None` when that is not bounded.
    from: Option<usize>,
}

impl Run {
    fn at(set: Set, len: usize, rep: bool) -> Run {
        Run {
            set,
            len,
            rep,
            from: Some(0),
        }
    }

    /// The same run, `pre` more bytes (at most) into the match.
    fn after(self, pre: Option<usize>) -> Run {
        Run {
            from: pre.zip(self.from).map(|(p, f)| p.saturating_add(f)),
            ..self
        }
    }
}

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
fn score(r: &Run) -> f64 {
    let size = r.set.iter().map(|w| w.count_ones()).sum::<u32>().max(1);
    r.len as f64 * (256.0 / size as f64).log2()
}

/// The run to test for: long enough, leaving some byte out, from a repetition if possible,
/// and of equals the one nearest the start.
fn best(runs: Vec<Run>) -> Option<Run> {
    runs.into_iter()
        .filter(|r| r.len >= MIN_RUN && r.set.iter().any(|&w| w != u64::MAX))
        .max_by(|a, b| {
            let near = |r: &Run| std::cmp::Reverse(r.from.unwrap_or(usize::MAX));
            (a.rep, score(a))
                .partial_cmp(&(b.rep, score(b)))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(near(a).cmp(&near(b)))
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
            vec![Run::at(t, n, r.max != Some(1))]
        }
        HirKind::Concat(items) => {
            // How far into the match each item can start.
            let mut pre = Vec::with_capacity(items.len());
            let mut p = Some(0usize);
            for i in items {
                pre.push(p);
                p = p
                    .zip(i.properties().maximum_len())
                    .map(|(a, b)| a.saturating_add(b));
            }
            let mut out: Vec<Run> = (items.iter().zip(&pre))
                .flat_map(|(i, &p)| runs(i).into_iter().map(move |r| r.after(p)))
                .collect();
            // Every stretch of neighbouring items, as one run over the union of their classes.
            let uni: Vec<(Set, usize)> = items.iter().map(uniform).collect();
            for (i, &p) in pre.iter().enumerate() {
                let mut acc = Run::at([0; 4], 0, false).after(p);
                for j in i..items.len().min(i + MAX_STRETCH) {
                    union(&mut acc.set, &uni[j].0);
                    acc.len = acc.len.saturating_add(uni[j].1);
                    acc.rep |= repeats(&items[j]);
                    if j > i {
                        out.push(acc);
                    }
                }
            }
            out
        }
        HirKind::Alternation(items) => {
            let mut acc = Run::at([0; 4], usize::MAX, true);
            for i in items {
                let Some(r) = best(runs(i)) else {
                    return Vec::new();
                };
                union(&mut acc.set, &r.set);
                acc.len = acc.len.min(r.len);
                acc.rep &= r.rep;
                acc.from = acc.from.zip(r.from).map(|(a, b)| a.max(b));
            }
            vec![acc]
        }
        _ => {
            let (t, n) = uniform(h);
            vec![Run::at(t, n, false)]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(re: &str) -> Option<Screen> {
        Screen::new(&crate::engine::lead::parse(re).unwrap())
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
    fn reach_bounds_where_the_run_ends_past_the_match_start() {
        // The prefix is part of the run: it starts at the match.
        assert_eq!(screen(r"AKIA[A-Z0-9]{16}").unwrap().reach(), Some(20));
        // After at most 4 bytes: `id:` and an optional space.
        assert_eq!(screen(r"id:\s?[a-f0-9]{32}").unwrap().reach(), Some(4 + 32));
        // Alternatives: the later of their runs.
        assert_eq!(
            screen(r"(?:x\s?[a-f0-9]{32}|yyy\s?[a-f0-9]{32})")
                .unwrap()
                .reach(),
            Some(4 + 32)
        );
        // Unbounded space before the run: no bound.
        assert_eq!(screen(r"key\s*=\s*[a-f0-9]{32}").unwrap().reach(), None);
    }

    #[test]
    fn every_match_holds_its_run_within_reach() {
        let cases: &[(&str, &str)] = &[
            (
                r#"(?i)(?:api|app)[_-]?key["']?\s{0,3}[:=]\s{0,3}["']?([a-z0-9]{24,40})"#,
                "APP_KEY = 'abcdefghijklmnopqrstuvwxyz' api-key:\"0123456789abcdef01234567\"",
            ),
            (
                r"(?:id|token)[:=](?:v1\.)?([A-Za-z0-9_-]{20}|[0-9a-f]{40})",
                "id:v1.abcdefghij_klmnopqrs token=0123456789abcdef0123456789abcdef01234567",
            ),
            (
                r"tok_[a-z]{0,9}=(?P<s>[0-9]{12,})x?",
                "tok_=123456789012 tok_abcdefghi=98765432109876543210x",
            ),
        ];
        for (re, hay) in cases {
            let s = screen(re).unwrap();
            let reach = s.reach().unwrap();
            let rx = regex::bytes::Regex::new(re).unwrap();
            let mut n = 0;
            for m in rx.find_iter(hay.as_bytes()) {
                n += 1;
                let end = (m.start() + reach).min(hay.len());
                assert!(s.passes(&hay.as_bytes()[m.start()..end]), "{re} at {m:?}");
            }
            assert_eq!(n, 2, "{re}");
        }
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
