//! The matcher: one case-insensitive Aho-Corasick automaton over every rule's keywords runs
//! once per blob (`prefilter`); only rules whose keywords occur are confirmed with their regex, and only in
//! windows around the keyword hits. Then entropy, validator and placeholder filters.

use crate::entropy::shannon;
use crate::placeholder::is_placeholder;
use crate::prefilter::KeywordSet;
use crate::rules::{Confidence, OnInvalid, Rule};
use crate::validate::{self, Verdict};
use anyhow::{Context, Result, bail};
use regex::bytes::{Regex, RegexBuilder};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The compiled parts of a rule.
struct Matcher {
    regex: Regex,
    /// Groups that may hold the secret, in order; the first that took part is used. A rule
    /// with alternatives names them `secret`, `secret_a`, `secret_b`, ...
    secret_groups: Vec<usize>,
    key_id_group: Option<usize>,
    exclude: Option<Regex>,
    /// How far before a keyword hit a match can start (see `window`).
    lead: usize,
}

impl Matcher {
    fn build(rule: &Rule) -> Result<Matcher> {
        let regex = RegexBuilder::new(&rule.regex)
            .unicode(false)
            .size_limit(32 << 20)
            // The lazy DFA's cache per regex and thread. At the default 2 MiB the widest rules
            // (counted repetitions under case folding) clear it again and again and spend their
            // time rebuilding states; 8 MiB is reached only by those few rules.
            .dfa_size_limit(8 << 20)
            .build()
            .or_else(|_| RegexBuilder::new(&rule.regex).size_limit(32 << 20).build())
            .with_context(|| format!("rule {}: invalid regex", rule.id))?;
        let names: Vec<Option<&str>> = regex.capture_names().collect();
        let secret_groups = match &rule.secret_group {
            Some(g) => vec![match g.parse::<usize>() {
                Ok(n) if n < names.len() => n,
                Ok(n) => bail!("rule {}: secret_group {n} does not exist", rule.id),
                Err(_) => names
                    .iter()
                    .position(|n| *n == Some(g.as_str()))
                    .with_context(|| format!("rule {}: no group named {g:?}", rule.id))?,
            }],
            None => {
                let named: Vec<usize> = names
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| n.is_some_and(|n| n == "secret" || n.starts_with("secret_")))
                    .map(|(i, _)| i)
                    .collect();
                if named.is_empty() {
                    vec![if names.len() > 1 { 1 } else { 0 }]
                } else {
                    named
                }
            }
        };
        let key_id_group = names.iter().position(|n| *n == Some("key_id"));
        let exclude = match &rule.exclude_match {
            Some(x) => Some(
                RegexBuilder::new(x)
                    .unicode(false)
                    .build()
                    .with_context(|| format!("rule {}: invalid exclude_match", rule.id))?,
            ),
            None => None,
        };
        let lead = crate::window::keyword_lead(&rule.regex, &rule.keywords)
            .map_or(rule.max_len, |l| l.min(rule.max_len));
        Ok(Matcher {
            regex,
            secret_groups,
            key_id_group,
            exclude,
            lead,
        })
    }
}

/// A rule ready to run. Its regex is compiled on first use, so that a scan pays only for
/// the rules whose keywords occur (a pre-commit scan of a few files compiles a handful).
pub struct CompiledRule {
    pub rule: Rule,
    matcher: OnceLock<Option<Matcher>>,
    generic: bool,
}

impl CompiledRule {
    /// Compiles now, reporting a bad regex as an error.
    pub fn compile(rule: Rule) -> Result<Self> {
        let m = Matcher::build(&rule)?;
        let c = Self::lazy(rule);
        let _ = c.matcher.set(Some(m));
        Ok(c)
    }

    /// Compiles on first use; a rule that fails to compile then never matches (built-in rules
    /// are compiled by the test suite, so this does not hide errors).
    pub fn lazy(rule: Rule) -> Self {
        let generic = rule.tags.iter().any(|t| t == "generic");
        CompiledRule {
            rule,
            matcher: OnceLock::new(),
            generic,
        }
    }

    fn matcher(&self) -> Option<&Matcher> {
        self.matcher
            .get_or_init(|| Matcher::build(&self.rule).ok())
            .as_ref()
    }
}

/// One confirmed match, by byte offsets into the scanned blob.
#[derive(Debug, Clone)]
pub struct Match {
    pub rule: usize,
    /// The secret's span.
    pub start: usize,
    pub end: usize,
    /// The whole regex match.
    pub match_start: usize,
    pub match_end: usize,
    pub key_id: Option<String>,
    pub confidence: Confidence,
    pub entropy: f64,
}

pub struct Engine {
    rules: Vec<CompiledRule>,
    keywords: Option<KeywordSet>,
    /// Keyword pattern id -> rules that keyword triggers.
    kw_rules: Vec<Vec<usize>>,
    /// Rules with no keywords: confirmed over every blob.
    always: Vec<usize>,
}

/// Bytes past a window's end searched for the end of the line, so that a regex's trailing
/// boundary sees the real next character.
const LINE_SLACK: usize = 4096;

impl Engine {
    /// Compiles every rule now (errors surface here).
    pub fn new(rules: Vec<Rule>) -> Result<Self> {
        let compiled = rules
            .into_iter()
            .map(CompiledRule::compile)
            .collect::<Result<Vec<_>>>()?;
        Self::from_compiled(compiled)
    }

    /// Compiles each rule's regex on first use.
    pub fn new_lazy(rules: Vec<Rule>) -> Result<Self> {
        Self::from_compiled(rules.into_iter().map(CompiledRule::lazy).collect())
    }

    pub fn from_compiled(rules: Vec<CompiledRule>) -> Result<Self> {
        let mut kw_index: HashMap<String, usize> = HashMap::new();
        let mut kw_rules: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            if r.rule.keywords.is_empty() {
                always.push(i);
            }
            for k in &r.rule.keywords {
                let k = k.to_ascii_lowercase();
                let id = *kw_index.entry(k).or_insert_with(|| {
                    kw_rules.push(Vec::new());
                    kw_rules.len() - 1
                });
                if !kw_rules[id].contains(&i) {
                    kw_rules[id].push(i);
                }
            }
        }
        let mut patterns: Vec<(String, usize)> = kw_index.into_iter().collect();
        patterns.sort_by_key(|(_, id)| *id);
        let keywords = if patterns.is_empty() {
            None
        } else {
            Some(KeywordSet::new(patterns.iter().map(|(k, _)| k.as_bytes()))?)
        };
        Ok(Engine {
            rules,
            keywords,
            kw_rules,
            always,
        })
    }

    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    pub fn rule(&self, i: usize) -> &Rule {
        &self.rules[i].rule
    }

    /// Keyword hits in `hay` (the prefilter alone, for profiling).
    pub fn keyword_hits(&self, hay: &[u8]) -> usize {
        let mut n = 0;
        if let Some(k) = &self.keywords {
            k.for_each_hit(hay, |_| n += 1);
        }
        n
    }

    /// Finds every match in `hay`, best match per overlapping span, sorted by offset.
    pub fn scan(&self, hay: &[u8]) -> Vec<Match> {
        let mut windows: Vec<(usize, usize, usize)> = Vec::new();
        if let Some(k) = &self.keywords {
            k.for_each_hit(hay, |h| {
                for &r in &self.kw_rules[h.keyword] {
                    let cr = &self.rules[r];
                    // A rule that does not compile never matches.
                    let Some(m) = cr.matcher() else { continue };
                    let ml = cr.rule.max_len;
                    windows.push((
                        r,
                        h.start.saturating_sub(m.lead),
                        (h.end + ml).min(hay.len()),
                    ));
                }
            });
        }
        for &r in &self.always {
            windows.push((r, 0, hay.len()));
        }
        if windows.is_empty() {
            return Vec::new();
        }
        windows.sort_unstable();
        let mut out = Vec::new();
        let mut i = 0;
        while i < windows.len() {
            let (r, s, mut e) = windows[i];
            let mut j = i + 1;
            while j < windows.len() && windows[j].0 == r && windows[j].1 <= e {
                e = e.max(windows[j].2);
                j += 1;
            }
            self.confirm(r, hay, s, e, &mut out);
            i = j;
        }
        resolve_overlaps(&self.rules, &mut out);
        out
    }

    fn confirm(&self, r: usize, hay: &[u8], start: usize, end: usize, out: &mut Vec<Match>) {
        let cr = &self.rules[r];
        let Some(m) = cr.matcher() else {
            return;
        };
        let end = match memchr::memchr(b'\n', &hay[end..(end + LINE_SLACK).min(hay.len())]) {
            Some(n) => end + n,
            None => (end + LINE_SLACK).min(hay.len()),
        };
        let sub = &hay[..end];
        let mut pos = start;
        let mut locs = m.regex.capture_locations();
        while pos <= sub.len() {
            let Some(found_at) = m.regex.captures_read_at(&mut locs, sub, pos) else {
                break;
            };
            let (ms, me) = (found_at.start(), found_at.end());
            pos = if me > ms { me } else { me + 1 };
            let Some((ss, se)) = m.secret_groups.iter().find_map(|&g| locs.get(g)) else {
                continue;
            };
            if let Some(found) = self.check(cr, m, r, hay, ss, se, ms, me, &locs)
                && !out
                    .iter()
                    .rev()
                    .take(8)
                    .any(|o: &Match| o.rule == r && o.start == ss && o.end == se)
            {
                out.push(found);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check(
        &self,
        cr: &CompiledRule,
        m: &Matcher,
        r: usize,
        hay: &[u8],
        ss: usize,
        se: usize,
        ms: usize,
        me: usize,
        locs: &regex::bytes::CaptureLocations,
    ) -> Option<Match> {
        let secret = &hay[ss..se];
        if secret.is_empty() {
            return None;
        }
        let entropy = shannon(secret);
        if let Some(min) = cr.rule.min_entropy
            && entropy < min
        {
            return None;
        }
        if crate::placeholder::is_documentation_example(secret) {
            return None;
        }
        if !cr.rule.allow_placeholders && is_placeholder(secret) {
            return None;
        }
        if m.exclude.as_ref().is_some_and(|x| x.is_match(&hay[ms..me])) {
            return None;
        }
        let mut confidence = cr.rule.confidence;
        if let Some(v) = &cr.rule.validate {
            match validate::run(v, secret) {
                Some(Verdict::Valid) => confidence = confidence.raise(),
                Some(Verdict::Plausible) => {}
                Some(Verdict::Invalid) => match cr.rule.on_invalid {
                    OnInvalid::Drop => return None,
                    OnInvalid::Downgrade => confidence = Confidence::Low,
                },
                None => {}
            }
        }
        let key_id = m
            .key_id_group
            .and_then(|g| locs.get(g))
            .map(|(a, b)| String::from_utf8_lossy(&hay[a..b]).into_owned());
        Some(Match {
            rule: r,
            start: ss,
            end: se,
            match_start: ms,
            match_end: me,
            key_id,
            confidence,
            entropy,
        })
    }
}

/// Where two matches' secrets overlap, keep one: a specific rule over a generic one, then
/// higher confidence, then the longer secret.
fn resolve_overlaps(rules: &[CompiledRule], out: &mut Vec<Match>) {
    if out.len() < 2 {
        return;
    }
    out.sort_unstable_by_key(|m| (m.start, std::cmp::Reverse(m.end), m.rule));
    let rank = |m: &Match| {
        (
            !rules[m.rule].generic,
            m.confidence,
            m.end - m.start,
            std::cmp::Reverse(m.rule),
        )
    };
    let mut kept: Vec<Match> = Vec::with_capacity(out.len());
    for m in out.drain(..) {
        if let Some(last) = kept.last_mut()
            && m.start < last.end
        {
            if rank(&m) > rank(last) {
                *last = m;
            }
            continue;
        }
        kept.push(m);
    }
    *out = kept;
}
