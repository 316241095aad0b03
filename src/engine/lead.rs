//! How far before a keyword a rule's match can start.
//!
//! A rule's regex is confirmed only in a window around each of its keyword hits. The window
//! used to reach `max_len` bytes back; but most rules name their keyword near the start of
//! the match (`(?i)[\w.-]{0,40}(?:secret|token)...`, `ghp_[A-Za-z0-9]{36}`), so every match
//! contains a keyword occurrence at most a few bytes in. This works that bound out from the
//! regex's syntax tree; where it cannot, the window keeps reaching `max_len` back.

use regex_syntax::hir::{Class, Hir, HirKind};
use std::cell::RefCell;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::rc::Rc;

/// Most strings a finite sub-expression may stand for before it counts as open-ended.
const MAX_LANG: usize = 256;

/// A rule's regex as the engine reads it: ASCII classes, any bytes; Unicode where it needs it.
pub fn parse(regex: &str) -> Option<Hir> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(regex)
        .ok()
        .or_else(|| regex_syntax::Parser::new().parse(regex).ok())
}

type Lang = Option<Rc<Vec<Vec<u8>>>>;

/// One regex's analysis against one keyword list. Each node's language is worked out once:
/// `lead` asks for it at every level of the tree and for every split of a concatenation,
/// which made the analysis a quarter of compile time. The cache is keyed by node address,
/// so only nodes of the tree the analysis borrows (`'h`) are ever looked up.
pub struct Analysis<'h> {
    /// The keywords as the prefilter matches them (lower case).
    kws: Vec<Vec<u8>>,
    langs: RefCell<HashMap<*const Hir, Lang>>,
    tree: PhantomData<&'h Hir>,
}

impl<'h> Analysis<'h> {
    /// `None` when there are no keywords.
    pub fn new(keywords: &[String]) -> Option<Self> {
        let kws: Vec<Vec<u8>> = keywords
            .iter()
            .filter(|k| !k.is_empty())
            .map(|k| k.as_bytes().to_ascii_lowercase())
            .collect();
        (!kws.is_empty()).then(|| Analysis {
            kws,
            langs: RefCell::default(),
            tree: PhantomData,
        })
    }

    /// The most bytes any match of `h` can have before the first byte of some occurrence of
    /// a keyword inside it, or `None` when a match need not contain a keyword at a bounded
    /// distance from its start.
    pub fn lead(&self, h: &'h Hir) -> Option<usize> {
        if let Some(l) = self.language(h).and_then(|l| self.keyword_at(&l)) {
            return Some(l);
        }
        match h.kind() {
            HirKind::Capture(c) => self.lead(&c.sub),
            HirKind::Repetition(r) if r.min >= 1 => self.lead(&r.sub),
            HirKind::Alternation(alts) => alts
                .iter()
                .map(|a| self.lead(a))
                .collect::<Option<Vec<_>>>()?
                .into_iter()
                .max(),
            HirKind::Concat(items) => self.concat_lead(&items.iter().collect::<Vec<_>>(), false),
            _ => None,
        }
    }

    /// For a regex whose matches do not start at a keyword (`[\w.-]{0,40}(?:secret|token)=...`):
    /// the rest of it from the keyword on, when every match of that rest starts with a keyword.
    /// Any match of the whole then holds a match of the rest that starts at a keyword hit, so
    /// an anchored search of the rest at each hit decides which hits need the whole regex at
    /// all. Captures are dropped; concatenations are split, alternations branch by branch.
    pub fn suffix(&self, hir: &'h Hir) -> Option<Hir> {
        match hir.kind() {
            HirKind::Capture(c) => self.suffix(&c.sub),
            HirKind::Alternation(branches) => branches
                .iter()
                .map(|b| match self.lead(b) {
                    Some(0) => Some(strip_captures(b)),
                    _ => self.suffix(b),
                })
                .collect::<Option<Vec<_>>>()
                .map(Hir::alternation),
            _ => {
                let mut items = Vec::new();
                flatten(hir, &mut items);
                let i = (1..items.len()).find(|&i| self.starts_with_keyword(&items[i..]))?;
                Some(Hir::concat(
                    items[i..].iter().map(|h| strip_captures(h)).collect(),
                ))
            }
        }
    }

    /// Whether the concatenation of `items` has lead 0.
    fn starts_with_keyword(&self, items: &[&'h Hir]) -> bool {
        if let [one] = items {
            return self.lead(one) == Some(0);
        }
        let whole = items.iter().try_fold(vec![Vec::new()], |acc, it| {
            product(&acc, &self.language(it)?)
        });
        if let Some(l) = whole.and_then(|w| self.keyword_at(&w)) {
            return l == 0;
        }
        self.concat_lead(items, true) == Some(0)
    }

    /// The lead of a concatenation (its own language aside). With `only_zero`, stops as soon
    /// as no item can start at offset 0 any more: the result then only tells 0 from not 0.
    fn concat_lead(&self, items: &[&'h Hir], only_zero: bool) -> Option<usize> {
        let mut best: Option<usize> = None;
        let mut before = Some(0usize);
        for i in 0..items.len() {
            let Some(pre) = before else { break };
            if only_zero && pre > 0 {
                break;
            }
            // The item alone, or the item with those after it (a case-folded keyword is a
            // run of one-letter classes), necessarily holding a keyword.
            let mut here = self.lead(items[i]);
            let mut lang = if here.is_none() {
                self.language(items[i]).map(|l| l.to_vec())
            } else {
                None
            };
            for it in &items[i + 1..] {
                let Some(acc) = lang.take() else { break };
                let Some(next) = self.language(it).and_then(|l| product(&acc, &l)) else {
                    break;
                };
                here = self.keyword_at(&next);
                if here.is_some() {
                    break;
                }
                lang = Some(next);
            }
            if let Some(l) = here {
                best = Some(best.map_or(pre + l, |b| b.min(pre + l)));
            }
            before = items[i].properties().maximum_len().map(|m| pre + m);
        }
        best
    }

    /// If every string in `lang` contains a keyword: the largest offset of the first one.
    fn keyword_at(&self, lang: &[Vec<u8>]) -> Option<usize> {
        lang.iter()
            .map(|s| {
                self.kws
                    .iter()
                    .filter_map(|k| s.windows(k.len()).position(|w| w == k.as_slice()))
                    .min()
            })
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .max()
    }

    /// Every string `h` can match, lower-cased, if there are few.
    fn language(&self, h: &'h Hir) -> Lang {
        let key: *const Hir = h;
        if let Some(l) = self.langs.borrow().get(&key) {
            return l.clone();
        }
        let l = self.language_of(h).map(Rc::new);
        self.langs.borrow_mut().insert(key, l.clone());
        l
    }

    fn language_of(&self, h: &'h Hir) -> Option<Vec<Vec<u8>>> {
        match h.kind() {
            // Zero-width assertions match the empty string.
            HirKind::Empty | HirKind::Look(_) => Some(vec![Vec::new()]),
            HirKind::Literal(l) => Some(vec![l.0.to_ascii_lowercase()]),
            // Keywords match without regard to ASCII case, so `[Ss]` counts as one string.
            HirKind::Class(Class::Bytes(c)) => {
                let mut out: Vec<Vec<u8>> = Vec::new();
                for r in c.ranges() {
                    for b in r.start()..=r.end() {
                        let b = vec![b.to_ascii_lowercase()];
                        if !out.contains(&b) {
                            if out.len() >= 4 {
                                return None;
                            }
                            out.push(b);
                        }
                    }
                }
                Some(out)
            }
            HirKind::Class(Class::Unicode(c)) => {
                let mut out: Vec<Vec<u8>> = Vec::new();
                for r in c.ranges() {
                    for ch in r.start()..=r.end() {
                        let mut buf = [0u8; 4];
                        let b = ch
                            .to_ascii_lowercase()
                            .encode_utf8(&mut buf)
                            .as_bytes()
                            .to_vec();
                        if !out.contains(&b) {
                            if out.len() >= 4 {
                                return None;
                            }
                            out.push(b);
                        }
                    }
                }
                Some(out)
            }
            HirKind::Capture(c) => self.language(&c.sub).map(|l| l.to_vec()),
            HirKind::Repetition(r) => {
                let max = r.max?;
                if max > 2 {
                    return None;
                }
                let sub = self.language(&r.sub)?;
                let mut out: Vec<Vec<u8>> = Vec::new();
                let mut power = vec![Vec::new()];
                for n in 0..=max {
                    if n >= r.min {
                        out.extend(power.iter().cloned());
                    }
                    power = product(&power, &sub)?;
                }
                (out.len() <= MAX_LANG).then_some(out)
            }
            HirKind::Concat(items) => {
                let mut acc = vec![Vec::new()];
                for it in items {
                    acc = product(&acc, &self.language(it)?)?;
                }
                Some(acc)
            }
            HirKind::Alternation(alts) => {
                let mut out = Vec::new();
                for a in alts {
                    out.extend(self.language(a)?.iter().cloned());
                    if out.len() > MAX_LANG {
                        return None;
                    }
                }
                Some(out)
            }
        }
    }
}

/// `h` as a sequence of items, groups and concatenations opened.
fn flatten<'h>(h: &'h Hir, out: &mut Vec<&'h Hir>) {
    match h.kind() {
        HirKind::Capture(c) => flatten(&c.sub, out),
        HirKind::Concat(items) => items.iter().for_each(|i| flatten(i, out)),
        _ => out.push(h),
    }
}

fn strip_captures(h: &Hir) -> Hir {
    match h.kind() {
        HirKind::Capture(c) => strip_captures(&c.sub),
        HirKind::Concat(items) => Hir::concat(items.iter().map(strip_captures).collect()),
        HirKind::Alternation(items) => Hir::alternation(items.iter().map(strip_captures).collect()),
        HirKind::Repetition(r) => Hir::repetition(regex_syntax::hir::Repetition {
            sub: Box::new(strip_captures(&r.sub)),
            ..r.clone()
        }),
        _ => h.clone(),
    }
}

/// Whether some match of `h` can hold a line feed. A regex that cannot is confirmed only
/// on the line of each keyword hit.
pub fn can_span_lines(h: &Hir) -> bool {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(l) => l.0.contains(&b'\n'),
        HirKind::Class(Class::Bytes(c)) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= b'\n' && b'\n' <= r.end()),
        HirKind::Class(Class::Unicode(c)) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= '\n' && '\n' <= r.end()),
        HirKind::Repetition(r) => r.max != Some(0) && can_span_lines(&r.sub),
        HirKind::Capture(c) => can_span_lines(&c.sub),
        HirKind::Concat(items) | HirKind::Alternation(items) => items.iter().any(can_span_lines),
    }
}

fn product(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if a.len() * b.len() > MAX_LANG {
        return None;
    }
    Some(
        a.iter()
            .flat_map(|x| {
                b.iter().map(move |y| {
                    let mut s = x.clone();
                    s.extend_from_slice(y);
                    s
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyword_lead(hir: &Hir, keywords: &[String]) -> Option<usize> {
        Analysis::new(keywords)?.lead(hir)
    }

    fn keyword_suffix(hir: &Hir, keywords: &[String]) -> Option<Hir> {
        Analysis::new(keywords)?.suffix(hir)
    }

    fn lead_of(re: &str, kws: &[&str]) -> Option<usize> {
        let kws: Vec<String> = kws.iter().map(|s| s.to_string()).collect();
        keyword_lead(&parse(re).unwrap(), &kws)
    }

    fn spans_lines(re: &str) -> bool {
        can_span_lines(&parse(re).unwrap())
    }

    fn suffix_of(re: &str, kws: &[&str]) -> Option<String> {
        let kws: Vec<String> = kws.iter().map(|s| s.to_string()).collect();
        keyword_suffix(&parse(re).unwrap(), &kws).map(|h| h.to_string())
    }

    #[test]
    fn the_rest_from_the_keyword_on() {
        let kws = ["secret", "token"];
        let whole =
            r#"(?P<name>[\w.\-]{0,40}(?:secret|token)[\w.\-]{0,30})=(?P<secret>"[^"]{12,}")"#;
        let rest = suffix_of(whole, &kws).expect("a suffix");
        let re = |s: &str| regex::bytes::Regex::new(s).unwrap();
        let rest = re(&rest);
        // The rest matches at the keyword, holds no groups, and needs the keyword first.
        assert!(rest.is_match(br#"secret_key="abcdefghijklmn""#));
        assert_eq!(rest.captures_len(), 1);
        assert!(!rest.is_match(br#"my_="abcdefghijklmn""#));
        let anchored = re(&format!("^(?:{})", rest.as_str()));
        assert!(!anchored.is_match(br#"my_secret="abcdefghijklmn""#));
        // A line anchor and an optional word before the name are passed over too.
        assert!(
            suffix_of(
                r"(?m)^[ \t]*(?:export )?[\w]{0,9}(?:secret|token)=(\S+)$",
                &kws
            )
            .is_some()
        );
        // Already at the keyword, or no keyword at a fixed place: nothing to split.
        assert_eq!(suffix_of(r"secret=(\S+)", &kws), None);
        // Alternatives are split one by one; each must reach a keyword.
        let alt = suffix_of(r"(?:<[a-z]{0,9}(?:secret)>|key=(?:token))(\S+)", &kws);
        assert!(
            alt.is_none(),
            "the suffix of a concatenation starting with an alternation"
        );
        let alt = suffix_of(
            r"(?:<[a-z]{0,9}secret>(\S+)|key=[a-z]{0,9}token=(\S+))",
            &kws,
        )
        .expect("a suffix per alternative");
        let alt = re(&format!("^(?:{alt})"));
        assert!(alt.is_match(b"secret>x") && alt.is_match(b"token=x"));
        assert!(!alt.is_match(b"key=token=x"));
        let no = suffix_of(r"(?:<[a-z]{0,9}secret>(\S+)|[a-z]{0,9}(\S+))", &kws);
        assert!(no.is_none(), "an alternative without a keyword");
        assert_eq!(suffix_of(r"[a-z]{0,9}(?:secret|other)=(\S+)", &kws), None);
    }

    #[test]
    fn a_token_prefix_starts_the_match() {
        assert_eq!(
            lead_of(r"\b(?P<secret>ghp_[A-Za-z0-9]{36})\b", &["ghp_"]),
            Some(0)
        );
        assert_eq!(
            lead_of(
                r"-----BEGIN RSA PRIVATE KEY-----[\s\S]+?-----END",
                &["-----BEGIN"]
            ),
            Some(0)
        );
    }

    #[test]
    fn a_bounded_name_before_a_case_folded_keyword() {
        let re = r#"(?i)(?P<name>[\w.\-]{0,40}(?:secret|token|api[_.\-]?key)[\w.\-]{0,30})\s*=\s*"(?P<secret>[^"]{12,})""#;
        let kws = ["secret", "token", "api_key", "api-key", "api.key", "apikey"];
        assert_eq!(lead_of(re, &kws), Some(40));
        // A keyword list that misses one spelling: no bound.
        assert_eq!(lead_of(re, &["secret", "token", "api_key"]), None);
    }

    #[test]
    fn the_keyword_inside_a_longer_literal() {
        assert_eq!(lead_of(r"xoxb-[0-9]{10}", &["xoxb-"]), Some(0));
        assert_eq!(
            lead_of(r"(?:https://)?hooks\.slack\.com/x", &["hooks.slack.com"]),
            Some(8)
        );
        assert_eq!(lead_of(r"\d{2}Q~[a-z]{30}", &["q~"]), Some(2));
    }

    #[test]
    fn line_feeds_in_classes_literals_and_repetitions() {
        assert!(!spans_lines(r#"(?i)password[ \t]*=[ \t]*"([^"\s]{8,})""#));
        assert!(!spans_lines(r"(?m)^token: (\w+)$"));
        assert!(spans_lines(r"password\s*=\s*(\S+)"));
        assert!(spans_lines(r"-----BEGIN[^-]+-----"));
        assert!(spans_lines(r"(?s)a.b"));
        assert!(spans_lines("a\nb"));
    }

    #[test]
    fn a_shared_analysis_answers_as_fresh_ones_do() {
        // The language cache is keyed by node address: answers must not depend on what was
        // asked before (suffix splits look at sub-trees that lead looks at again).
        for r in crate::rules::builtin().unwrap() {
            let h = parse(&r.regex).unwrap();
            let Some(shared) = Analysis::new(&r.keywords) else {
                continue;
            };
            let suffix = shared.suffix(&h).map(|s| s.to_string());
            assert_eq!(shared.lead(&h), keyword_lead(&h, &r.keywords), "{}", r.id);
            assert_eq!(
                suffix,
                keyword_suffix(&h, &r.keywords).map(|s| s.to_string()),
                "{}",
                r.id
            );
        }
    }

    #[test]
    fn unbounded_or_missing_keywords_give_no_bound() {
        assert_eq!(lead_of(r"[a-z]+secret", &["secret"]), None);
        assert_eq!(lead_of(r"(?:secret|[A-Z]{40})", &["secret"]), None);
        assert_eq!(lead_of(r"[A-Za-z0-9]{40}", &["aws"]), None);
    }
}
