//! The matcher: one case-insensitive Aho-Corasick automaton over every rule's keywords runs
//! once per blob (`keywords`); only rules whose keywords occur are confirmed with their regex, and only in
//! windows around the keyword hits. Then entropy, validator and placeholder filters.

pub mod filters;
pub mod keywords;
pub mod lead;
pub mod screen;

use crate::engine::filters::entropy::shannon;
use crate::engine::filters::placeholder::is_placeholder;
use crate::engine::filters::validate::{self, Verdict};
use crate::engine::keywords::KeywordSet;
use crate::engine::screen::Screen;
use crate::rules::{Confidence, OnInvalid, Rule};
use anyhow::{Context, Result, bail};
use regex_automata::nfa::thompson;
use regex_automata::util::pool::Pool;
use regex_automata::util::primitives::NonMaxUsize;
use regex_automata::{Anchored, Input, PatternID, hybrid, meta};
use regex_syntax::hir::Hir;
use std::collections::HashMap;
use std::sync::OnceLock;

/// What is known of a rule once one of its keywords occurs: where its matches can lie, and
/// a cheap test for them. Its regexes are built only when a window first passes that test.
struct Matcher {
    /// The rule's regex as group 1 of `(REGEX)`, which its regexes are built from.
    hir: Hir,
    /// For a rule whose matches start before their keyword: the rest of its regex from the
    /// keyword on (see `Regexes::detect`).
    suffix: Option<Hir>,
    /// Whether every match starts at a keyword (`lead` 0, as for token prefixes): then the
    /// regex is searched anchored at each hit, and a hit without a match costs a few bytes,
    /// not a window; else it runs unanchored through the merged windows.
    anchored: bool,
    /// No match can hold a line feed: windows stay on the keyword's line.
    single_line: bool,
    /// How far before a keyword hit a match can start (see `window`).
    lead: usize,
    /// A run of bytes every match holds: windows without one are dropped unsearched.
    screen: Option<Screen>,
    /// Whether `screen` is of `suffix`, whose matches start at the hit; else it is of the
    /// whole regex, whose matches start in the window.
    screen_from_hit: bool,
    /// How far past the hit's start the screen's run can reach, if bounded: every match
    /// starts at or before its keyword.
    screen_reach: Option<usize>,
    regexes: OnceLock<Option<Regexes>>,
}

/// A rule's compiled regexes.
struct Regexes {
    /// The rule's regex and its groups: built with the others, except for a rule with
    /// `detect`, whose regex is built when a hit first passes `detect` (on clean code most
    /// such rules never get there, and their regex was a good part of a scan's compiling).
    full: OnceLock<Option<Full>>,
    /// For a rule with `detect` or `check`: for spans too long for the backtracker, its
    /// regex with the lazy DFA, built on first need (see `Full`).
    long: Option<OnceLock<Option<meta::Regex>>>,
    exclude: Option<meta::Regex>,
    /// For a rule with a `suffix`: that suffix, searched anchored at each hit first. Only
    /// hits where it matches get the whole regex, so the bounded name before the keyword is
    /// not searched for at every hit.
    detect: Option<Detect>,
    /// For a rule without `detect` searched unanchored: its whole regex, bounds lifted,
    /// asked first whether anything in a merged window could match.
    check: Option<Detect>,
}

type CacheFn = Box<dyn Fn() -> hybrid::dfa::Cache + Send + Sync>;

/// A regex as a forward lazy DFA alone, with every counted bound lifted: it only says
/// whether the rule's own regex could match, so the reverse automaton and capture engines a
/// general regex builds would go unused.
struct Detect {
    dfa: hybrid::dfa::DFA,
    caches: Pool<hybrid::dfa::Cache, CacheFn>,
}

impl Detect {
    fn build(hir: &Hir) -> Result<Detect, String> {
        // Every bound lifted: the DFA then needs no state per count (`{0,40}` names,
        // `{8,300}` values), and matching more than the regex only sends a few more windows
        // on to the rule's regex, which decides.
        let lifted = relaxed(hir, 0);
        let nfa = thompson::Compiler::new()
            .configure(
                thompson::Config::new()
                    .utf8(false)
                    .nfa_size_limit(Some(NFA_SIZE_LIMIT))
                    .which_captures(thompson::WhichCaptures::None),
            )
            .build_from_hir(&lifted)
            .map_err(|e| e.to_string())?;
        let dfa = hybrid::dfa::Builder::new()
            .configure(
                hybrid::dfa::Config::new()
                    .cache_capacity(HYBRID_CACHE)
                    // A Unicode word boundary makes the DFA give up on non-ASCII bytes
                    // (then the hit goes on to the rule's regex) rather than fail to build.
                    .unicode_word_boundary(true),
            )
            .build_from_nfa(nfa)
            .map_err(|e| e.to_string())?;
        let for_cache = dfa.clone();
        let create: CacheFn = Box::new(move || for_cache.create_cache());
        Ok(Detect {
            dfa,
            caches: Pool::new(create),
        })
    }

    /// Whether anything matches in `input` (at its start, for an anchored search); `true`
    /// where the DFA gives up, so that the rule's regex decides.
    fn matches(&self, input: &Input) -> bool {
        let mut cache = self.caches.get();
        !matches!(self.dfa.try_search_fwd(&mut cache, input), Ok(None))
    }
}

/// A rule's own regex, ready to confirm matches.
struct Full {
    /// The rule's regex as group 1 of `(REGEX)`. For a rule with `detect` or `check` it has
    /// no lazy DFA: it runs only where those matched, mostly on real matches, and on a
    /// tree dense in secrets the DFA's states for these wide rules (bounded names,
    /// `{12,300}` values) cost more to build than the backtracker costs to run.
    regex: meta::Regex,
    /// Groups that may hold the secret, in order; the first that took part is used. A rule
    /// with alternatives names them `secret`, `secret_a`, `secret_b`, ...
    secret_groups: Vec<usize>,
    key_id_group: Option<usize>,
    /// Slots a search fills (two per group).
    slot_len: usize,
}

/// Counted repetitions with a larger upper bound are compiled unbounded.
const RELAX_ABOVE: u32 = 1000;

/// `h` with every counted repetition whose upper bound exceeds `RELAX_ABOVE` made
/// unbounded (`[A-Za-z0-9+/]{100,12000}` as `{100,}`). The compiler writes out one copy of
/// the repeated expression per count, so the few rules with such bounds (key files,
/// kubeconfigs, JWKs: up to 32,000 NFA states each) took ~5 ms each to compile, and a
/// third of all rules' compile time. A match can then run past the old bound only within
/// the window, which `max_len` already bounds.
fn relax(h: Hir) -> Hir {
    // Most rules have no such bound: rebuilding their tree was a fifth of analysing a rule.
    if has_bound_above(&h, RELAX_ABOVE) {
        relaxed(&h, RELAX_ABOVE)
    } else {
        h
    }
}

fn has_bound_above(h: &Hir, limit: u32) -> bool {
    use regex_syntax::hir::HirKind;
    match h.kind() {
        HirKind::Repetition(r) => {
            r.max.is_some_and(|m| m > limit) || has_bound_above(&r.sub, limit)
        }
        HirKind::Capture(c) => has_bound_above(&c.sub, limit),
        HirKind::Concat(items) | HirKind::Alternation(items) => {
            items.iter().any(|i| has_bound_above(i, limit))
        }
        _ => false,
    }
}

/// `h` with every counted repetition whose upper bound exceeds `limit` made unbounded.
fn relaxed(h: &Hir, limit: u32) -> Hir {
    use regex_syntax::hir::{Capture, HirKind, Repetition};
    let each = |items: &[Hir]| items.iter().map(|i| relaxed(i, limit)).collect();
    match h.kind() {
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            max: r.max.filter(|&m| m <= limit),
            sub: Box::new(relaxed(&r.sub, limit)),
            ..r.clone()
        }),
        HirKind::Capture(c) => Hir::capture(Capture {
            sub: Box::new(relaxed(&c.sub, limit)),
            ..c.clone()
        }),
        HirKind::Concat(items) => Hir::concat(each(items)),
        HirKind::Alternation(items) => Hir::alternation(each(items)),
        _ => h.clone(),
    }
}

/// Rules whose matches may start this far before their keyword get a `detect` regex.
const DETECT_MIN_LEAD: usize = 8;

const NFA_SIZE_LIMIT: usize = 32 << 20;

/// The lazy DFA's cache per regex and thread. At the default 2 MiB the widest rules
/// (counted repetitions under case folding) clear it again and again and spend their time
/// rebuilding states.
const HYBRID_CACHE: usize = 8 << 20;

/// How every rule regex is built.
fn regex_config() -> meta::Config {
    meta::Regex::config()
        .utf8_empty(false)
        .nfa_size_limit(Some(NFA_SIZE_LIMIT))
        .hybrid_cache_capacity(HYBRID_CACHE)
        // Matches are rare, so the one-pass DFA's faster capture extraction is not worth
        // building for every rule; the backtracker fills the groups.
        .onepass(false)
        // Searches run only in windows around keyword hits, so a literal prefilter has
        // little to skip, and extracting one was a quarter of a rule's compile time
        // (without: 4% fewer instructions on the 85-kind corpus, 2% on minified bundles).
        .auto_prefilter(false)
}

/// Slots up to this many are kept on the stack: no allocation per search.
const STACK_SLOTS: usize = 64;

/// The groups of one match, read from search slots.
struct Groups<'a>(&'a [Option<NonMaxUsize>]);

/// A byte range of the scanned blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
}

impl From<(usize, usize)> for Span {
    fn from((start, end): (usize, usize)) -> Span {
        Span { start, end }
    }
}

/// A regex match waiting for `Engine::check`: its rule, the whole match, the secret inside it,
/// and the capture groups (where a key id may be).
struct Candidate<'c> {
    rule: usize,
    compiled: &'c CompiledRule,
    whole: Span,
    secret: Span,
    groups: &'c Groups<'c>,
}

impl Groups<'_> {
    fn get(&self, g: usize) -> Option<(usize, usize)> {
        match (self.0.get(2 * g)?, self.0.get(2 * g + 1)?) {
            (Some(s), Some(e)) => Some((s.get(), e.get())),
            _ => None,
        }
    }
}

impl Matcher {
    fn build(rule: &Rule) -> Result<Matcher> {
        // Parsed once: the windows are worked out from the tree the regex is built from.
        // Group 1 wraps the rule's own regex.
        let Some(hir) = crate::engine::lead::parse(&format!("({})", rule.regex)) else {
            match regex_syntax::Parser::new().parse(&rule.regex) {
                Err(syn) => bail!("rule {}: invalid regex: {syn}", rule.id),
                Ok(_) => bail!("rule {}: invalid regex", rule.id),
            }
        };
        let inner = match hir.kind() {
            regex_syntax::hir::HirKind::Capture(c) => &*c.sub,
            _ => &hir,
        };
        let analysis = crate::engine::lead::Analysis::new(&rule.keywords);
        let keyword_lead = analysis.as_ref().and_then(|a| a.lead(inner));
        let lead = keyword_lead.filter(|&l| l <= rule.max_len);
        let single_line = !crate::engine::lead::can_span_lines(inner);
        // A few bytes of lead cost less to search through than a second regex costs to build.
        // Of the rest from the keyword on, only whether it matches at a hit is asked.
        let suffix = match lead {
            Some(l) if l < DETECT_MIN_LEAD => None,
            _ => analysis.as_ref().and_then(|a| a.suffix(inner)),
        };
        let suffix = suffix.map(relax);
        let hir = relax(hir);
        // Screened as searched: a relaxed repetition lets a run start further on.
        let whole = match hir.kind() {
            regex_syntax::hir::HirKind::Capture(c) => &*c.sub,
            _ => &hir,
        };
        // A rule without keywords runs over whole blobs: nothing to screen. With a suffix,
        // its run is looked for from the hit on, where the suffix is searched.
        let (screen, screen_from_hit) = match &analysis {
            None => (None, false),
            Some(_) => match suffix.as_ref().and_then(Screen::new) {
                Some(s) => (Some(s), true),
                None => (Screen::new(whole), false),
            },
        };
        // Matches start at most at their keyword only when every match holds one.
        let screen_reach = (screen.as_ref())
            .and_then(Screen::reach)
            .filter(|_| screen_from_hit || keyword_lead.is_some());
        Ok(Matcher {
            screen,
            screen_from_hit,
            screen_reach,
            anchored: lead == Some(0),
            single_line,
            lead: lead.unwrap_or(rule.max_len),
            suffix,
            hir,
            regexes: OnceLock::new(),
        })
    }

    /// The rule's regexes; `None` if they do not compile (see `CompiledRule::lazy`).
    fn regexes(&self, rule: &Rule) -> Option<&Regexes> {
        self.regexes
            .get_or_init(|| Regexes::build(rule, self).ok())
            .as_ref()
    }
}

impl Regexes {
    fn build(rule: &Rule, m: &Matcher) -> Result<Regexes> {
        let detect = m
            .suffix
            .as_ref()
            .map(|d| {
                Detect::build(d)
                    .map_err(|e| anyhow::anyhow!("rule {}: invalid regex: {e}", rule.id))
            })
            .transpose()?;
        // Asked only of a candidate's text: no dense DFA or literal prefilter to build (the
        // regex crate's defaults built both for these long alternations).
        let exclude = match &rule.exclude_match {
            Some(x) => Some(
                meta::Regex::builder()
                    .syntax(
                        regex_automata::util::syntax::Config::new()
                            .unicode(false)
                            .utf8(false),
                    )
                    .configure(regex_config().dfa(false))
                    .build(x)
                    .with_context(|| format!("rule {}: invalid exclude_match", rule.id))?,
            ),
            None => None,
        };
        // Searched unanchored through whole windows: its own regex with every bound lifted
        // asks first whether anything in a window could match.
        let check = match detect.is_none() && !m.anchored {
            true => Detect::build(&m.hir).ok(),
            false => None,
        };
        let screened = detect.is_some() || check.is_some();
        let full = OnceLock::new();
        if detect.is_none() {
            let _ = full.set(Some(Full::build(rule, &m.hir, m.anchored, screened)?));
        }
        Ok(Regexes {
            full,
            long: screened.then(OnceLock::new),
            exclude,
            detect,
            check,
        })
    }

    /// The rule's regex; `None` if it does not compile (see `CompiledRule::lazy`).
    fn full(&self, rule: &Rule, m: &Matcher) -> Option<&Full> {
        self.full
            .get_or_init(|| Full::build(rule, &m.hir, m.anchored, true).ok())
            .as_ref()
    }
}

impl Full {
    fn build(rule: &Rule, hir: &Hir, anchored: bool, screened: bool) -> Result<Full> {
        // An anchored search at a hit dies within a few bytes where there is no match, and
        // reads only the match where there is one: the PikeVM alone does that without the
        // lazy DFA's per-thread warm-up, and without the backtracker clearing a bit per NFA
        // state and byte of the span to the line's end (about 0.2% fewer instructions on
        // clean code, 6-9% fewer where secrets are dense).
        let config = match anchored {
            true => regex_config().hybrid(false).dfa(false).backtrack(false),
            false => regex_config().hybrid(!screened).dfa(!screened),
        };
        let regex = meta::Regex::builder()
            .configure(config)
            .build_from_hir(hir)
            .map_err(|e| anyhow::anyhow!("rule {}: invalid regex: {e}", rule.id))?;
        let names: Vec<Option<&str>> = regex.group_info().pattern_names(PatternID::ZERO).collect();
        let secret_groups = match &rule.secret_group {
            // Numbered groups count from the rule's own regex, now group 1.
            Some(g) => vec![match g.parse::<usize>() {
                Ok(n) if n + 1 < names.len() => n + 1,
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
                    vec![if names.len() > 2 { 2 } else { 1 }]
                } else {
                    named
                }
            }
        };
        let key_id_group = names.iter().position(|n| *n == Some("key_id"));
        let slot_len = regex.group_info().slot_len();
        // One pattern: group g's slots are 2g and 2g + 1 (what `Groups` reads).
        debug_assert!(
            (0..regex.group_info().group_len(PatternID::ZERO))
                .all(|g| regex.group_info().slots(PatternID::ZERO, g) == Some((2 * g, 2 * g + 1)))
        );
        Ok(Full {
            regex,
            secret_groups,
            key_id_group,
            slot_len,
        })
    }
}

/// Spans longer than this get a rule's `long` regex, if it has one.
const LONG_SPAN: usize = 1024;

impl Regexes {
    fn regex_for<'a>(&'a self, m: &Matcher, full: &'a Full, span: usize) -> &'a meta::Regex {
        match &self.long {
            Some(cell) if span > LONG_SPAN => cell
                .get_or_init(|| {
                    meta::Regex::builder()
                        .configure(regex_config())
                        .build_from_hir(&m.hir)
                        .ok()
                })
                .as_ref()
                .unwrap_or(&full.regex),
            _ => &full.regex,
        }
    }
}

/// A rule ready to run. Its regex is compiled on first use, so that a scan pays only for
/// the rules whose keywords occur (a pre-commit scan of a few files compiles a handful).
pub struct CompiledRule {
    /// The rule as written.
    pub rule: Rule,
    matcher: OnceLock<Option<Matcher>>,
    generic: bool,
}

impl CompiledRule {
    /// Compiles now, reporting a bad regex as an error.
    pub fn compile(rule: Rule) -> Result<Self> {
        let m = Matcher::build(&rule)?;
        let rx = Regexes::build(&rule, &m)?;
        if rx.full.get().is_none() {
            let _ = rx
                .full
                .set(Some(Full::build(&rule, &m.hir, m.anchored, true)?));
        }
        let _ = m.regexes.set(Some(rx));
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
    /// Index of the matching rule in the engine's rule list.
    pub rule: usize,
    /// The secret's span.
    pub start: usize,
    /// End of the secret, exclusive.
    pub end: usize,
    /// The whole regex match.
    pub match_start: usize,
    /// End of the whole match, exclusive.
    pub match_end: usize,
    /// The text of the rule's `key_id` group, reported in clear (an identifier such as an AWS
    /// access key id); `None` when the rule has no such group or it took no part in the match.
    pub key_id: Option<String>,
    /// The rule's confidence after its validator raised or lowered it.
    pub confidence: Confidence,
    /// Shannon entropy of the secret (as normalised by the rule's `normalize`), in bits per byte.
    pub entropy: f64,
}

/// A compiled rule set: the rules, one keyword automaton over all their keywords, and the
/// path regexes that pick which rules run on which files. Built once per scan and shared by
/// every scanning thread.
pub struct Engine {
    rules: Vec<CompiledRule>,
    keywords: Option<KeywordSet>,
    /// Keyword pattern id -> rules that keyword triggers.
    kw_rules: Vec<Vec<usize>>,
    /// Rules with no keywords: confirmed over every blob (with a path: every blob whose path
    /// matches).
    always: Vec<usize>,
    /// Rules with a `path`, in the order of `path_set`'s patterns.
    paths: Vec<usize>,
    /// Every path rule's regex in one set: asked once per blob, where a regex per rule cost a
    /// search per rule and blob.
    path_set: Option<PathSet>,
    /// Each distinct `path_exclude`, and for each of `paths` the index of its own: asked only
    /// for a path that its rule's `path` matched.
    excludes: Vec<regex::Regex>,
    exclude_of: Vec<Option<usize>>,
    /// Whether a rule with a `path` also has keywords (its windows come from hits and must
    /// be filtered out at other paths).
    path_keywords: bool,
}

/// Where a rule's regex runs for one keyword hit: (window start, window end, hit start).
type Window = (usize, usize, usize);

/// Windows of the blob being scanned, by rule, and the rules that have any. Kept per thread:
/// filling them is a push per window, where sorting one list of all windows by rule was 4%
/// of a clean-tree scan's instructions.
#[derive(Default)]
struct Windows {
    by_rule: Vec<Vec<Window>>,
    touched: Vec<usize>,
}

thread_local! {
    static WINDOWS: std::cell::RefCell<Windows> = std::cell::RefCell::new(Windows::default());
}

/// A rule's window list longer than this (a huge minified line) is not kept for the next blob.
const MAX_KEPT_WINDOWS: usize = 4096;

/// The built-in rules' keywords, in the engine's order, and their automaton, built with the
/// binary (`build.rs`); used when a scan's rules have exactly these keywords.
static EMBEDDED_KEYWORDS: &str = include_str!(concat!(env!("OUT_DIR"), "/keywords.txt"));
static EMBEDDED_AUTOMATON: &[u8] =
    &Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/keywords.bin"))).0;

/// Aligns the embedded automaton's words, so that it is read in place.
#[repr(C, align(4))]
struct Aligned<B: ?Sized>(B);

/// Bytes past a window's end searched for the end of the line, so that a regex's trailing
/// boundary sees the real next character.
const LINE_SLACK: usize = 4096;

/// The path rules' regexes as one set. Nearly every path is ASCII, and those go to a byte set
/// compiled without Unicode classes, whose overlapping search runs on the lazy DFA: with
/// Unicode `\w` and case folding the set fell back to the PikeVM, a quarter of the CPU of a
/// scan of a project full of configuration files. For an ASCII path both sets agree; any other
/// path goes to the Unicode set, compiled on first use.
struct PathSet {
    /// None when a pattern needs Unicode (`\p{..}`): every path then goes to the Unicode set.
    ascii: Option<regex::bytes::RegexSet>,
    patterns: Vec<String>,
    unicode: OnceLock<Option<regex::RegexSet>>,
}

impl PathSet {
    fn new(patterns: Vec<String>) -> Result<PathSet> {
        let ascii = (regex::bytes::RegexSetBuilder::new(&patterns))
            .unicode(false)
            .build()
            .ok();
        let unicode = OnceLock::new();
        if ascii.is_none() {
            let set =
                regex::RegexSet::new(&patterns).context("compiling the rules' path regexes")?;
            let _ = unicode.set(Some(set));
        }
        Ok(PathSet {
            ascii,
            patterns,
            unicode,
        })
    }

    /// For each pattern, whether it matches `path`.
    fn matches(&self, path: &str) -> Vec<bool> {
        let n = self.patterns.len();
        if let Some(ascii) = self.ascii.as_ref().filter(|_| path.is_ascii()) {
            let m = ascii.matches(path.as_bytes());
            return (0..n).map(|i| m.matched(i)).collect();
        }
        match self
            .unicode
            .get_or_init(|| regex::RegexSet::new(&self.patterns).ok())
        {
            Some(set) => {
                let m = set.matches(path);
                (0..n).map(|i| m.matched(i)).collect()
            }
            None => vec![false; n],
        }
    }
}

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

    /// The engine over rules already compiled (or lazy); errors on an invalid `path` or
    /// `path_exclude` regex, naming the rule.
    pub fn from_compiled(rules: Vec<CompiledRule>) -> Result<Self> {
        let mut kw_index: HashMap<String, usize> = HashMap::new();
        let mut kw_rules: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        let mut paths = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            if r.rule.keywords.is_empty() {
                always.push(i);
            }
            if let Some(p) = &r.rule.path {
                // Compiled alone first so that a bad path regex names its rule.
                regex_syntax::Parser::new()
                    .parse(p)
                    .with_context(|| format!("rule {}: invalid path regex", r.rule.id))?;
                paths.push((i, p.as_str()));
            }
            if let Some(x) = &r.rule.path_exclude {
                regex_syntax::Parser::new()
                    .parse(x)
                    .with_context(|| format!("rule {}: invalid path_exclude regex", r.rule.id))?;
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
            let embedded = (EMBEDDED_KEYWORDS.split('\n'))
                .eq(patterns.iter().map(|(k, _)| k.as_str()))
                .then(|| KeywordSet::from_static(EMBEDDED_AUTOMATON))
                .flatten();
            Some(match embedded {
                Some(k) => k,
                None => KeywordSet::new(patterns.iter().map(|(k, _)| k.as_bytes()))?,
            })
        };
        let path_keywords = (paths.iter()).any(|&(r, _)| !rules[r].rule.keywords.is_empty());
        let path_set = if paths.is_empty() {
            None
        } else {
            Some(PathSet::new(
                paths.iter().map(|&(_, p)| p.to_string()).collect(),
            )?)
        };
        // A rule's exclusion only narrows its `path`: without one there is nothing to narrow.
        let mut exclude_texts: Vec<&str> = Vec::new();
        let exclude_of = (paths.iter())
            .map(|&(r, _)| {
                rules[r].rule.path_exclude.as_deref().map(|x| {
                    match exclude_texts.iter().position(|t| *t == x) {
                        Some(i) => i,
                        None => {
                            exclude_texts.push(x);
                            exclude_texts.len() - 1
                        }
                    }
                })
            })
            .collect();
        let excludes = (exclude_texts.iter())
            .map(|x| regex::Regex::new(x))
            .collect::<Result<Vec<_>, _>>()
            .context("compiling the rules' path_exclude regexes")?;
        let paths = paths.into_iter().map(|(r, _)| r).collect();
        Ok(Engine {
            rules,
            keywords,
            kw_rules,
            always,
            paths,
            path_set,
            excludes,
            exclude_of,
            path_keywords,
        })
    }

    pub(crate) fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    pub(crate) fn rule(&self, i: usize) -> &Rule {
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

    /// Finds every match in `hay`, best match per overlapping span, sorted by offset. Every
    /// rule applies, those with a `path` too (rule examples, fuzzing); see `scan_except`.
    pub fn scan(&self, hay: &[u8]) -> Vec<Match> {
        self.scan_except(hay, &[])
    }

    /// The rules with a `path` that does not match `path` (None: no path, as for stdin):
    /// worked out once per blob, for `scan_except` on it and its decoded layers.
    pub fn rules_off_at(&self, path: Option<&str>) -> Vec<usize> {
        let (Some(set), Some(p)) = (&self.path_set, path) else {
            return self.paths.clone();
        };
        let matched = set.matches(p);
        let mut excluded: Vec<Option<bool>> = vec![None; self.excludes.len()];
        let mut off = Vec::new();
        for (i, &r) in self.paths.iter().enumerate() {
            let is_off = !matched[i]
                || self.exclude_of[i].is_some_and(|x| {
                    *excluded[x].get_or_insert_with(|| self.excludes[x].is_match(p))
                });
            if is_off {
                off.push(r);
            }
        }
        off
    }

    /// `scan` with the rules in `off` (from `rules_off_at`) left out.
    pub fn scan_except(&self, hay: &[u8], off: &[usize]) -> Vec<Match> {
        WINDOWS.with_borrow_mut(|w| self.scan_windows(hay, off, w))
    }

    fn scan_windows(&self, hay: &[u8], off: &[usize], w: &mut Windows) -> Vec<Match> {
        if w.by_rule.len() < self.rules.len() {
            w.by_rule.resize_with(self.rules.len(), Vec::new);
        }
        let Windows { by_rule, touched } = w;
        let mut push = |r: usize, window: (usize, usize, usize)| {
            let b = &mut by_rule[r];
            if b.is_empty() {
                touched.push(r);
            }
            b.push(window);
        };
        if let Some(k) = &self.keywords {
            let mut lines = Lines::new(hay);
            k.for_each_hit(hay, |h| {
                // The hit's line, as far as any window reaches: found once per hit.
                let mut line: Option<(usize, usize)> = None;
                for &r in &self.kw_rules[h.keyword] {
                    let cr = &self.rules[r];
                    // A rule that does not compile never matches.
                    let Some(m) = cr.matcher() else { continue };
                    let ml = cr.rule.max_len;
                    // With a bounded reach the screen is tried before the line's ends are
                    // looked for, over the most it could cover: where no run lies in that,
                    // none lies in the window's part of it either.
                    let from = match m.screen_from_hit {
                        true => h.start,
                        false => h.start.saturating_sub(m.lead),
                    };
                    let mut screened = None;
                    if let (Some(s), Some(r)) = (&m.screen, m.screen_reach) {
                        let to = h.start.saturating_add(r).min(hay.len());
                        if !s.passes(&hay[from.min(to)..to]) {
                            continue;
                        }
                        screened = Some((from, to));
                    }
                    let (mut ws, mut we) =
                        (h.start.saturating_sub(m.lead), (h.end + ml).min(hay.len()));
                    if m.single_line {
                        // Looked for within LINE_SLACK; a longer line is not clipped.
                        let (ls, le) = *line.get_or_insert_with(|| {
                            let ls = lines.start(h.start);
                            (ls, lines.after(h.end).unwrap_or(hay.len()))
                        });
                        ws = ws.max(ls);
                        we = we.min(le);
                    }
                    // Screened over the span `confirm` searches (to the end of the window's
                    // line): a match may run past `max_len`, and its run with it.
                    if let Some(s) = &m.screen {
                        let end = match m.screen_reach.map(|r| h.start.saturating_add(r)) {
                            // Within the window: the line's end does not matter.
                            Some(e) if e <= we => e,
                            reach => {
                                let end =
                                    (lines.after(we)).unwrap_or((we + LINE_SLACK).min(hay.len()));
                                reach.map_or(end, |e| end.min(e))
                            }
                        };
                        let start = if m.screen_from_hit { h.start } else { ws };
                        if screened != Some((start, end)) && !s.passes(&hay[start..end]) {
                            continue;
                        }
                    }
                    push(r, (ws, we, h.start));
                }
            });
        }
        for &r in &self.always {
            if !off.contains(&r) {
                push(r, (0, hay.len(), 0));
            }
        }
        let mut out = Vec::new();
        // Rules in order, each rule's windows by start.
        touched.sort_unstable();
        for &r in touched.iter() {
            let b = &mut by_rule[r];
            if !(self.path_keywords && off.contains(&r)) {
                b.sort_unstable();
                self.confirm(r, hay, b, &mut out);
            }
            b.clear();
            if b.capacity() > MAX_KEPT_WINDOWS {
                *b = Vec::new();
            }
        }
        touched.clear();
        resolve_overlaps(&self.rules, &mut out);
        out
    }

    /// Runs rule `r` over its windows `(start, end, hit)`, sorted by start.
    fn confirm(&self, r: usize, hay: &[u8], windows: &[Window], out: &mut Vec<Match>) {
        let cr = &self.rules[r];
        let Some(m) = cr.matcher() else {
            return;
        };
        // A window ends at its line's end, so a trailing boundary sees the real next byte.
        let line_end =
            |end: usize| next_newline(hay, end).unwrap_or((end + LINE_SLACK).min(hay.len()));
        let Some(rx) = m.regexes(&cr.rule) else {
            return;
        };
        let detected: Vec<Window>;
        let windows = match &rx.detect {
            Some(d) => {
                detected = (windows.iter())
                    .filter(|&&(_, we, at)| {
                        let input = Input::new(hay)
                            .span(at..line_end(we))
                            .anchored(Anchored::Yes);
                        d.matches(&input.earliest(true))
                    })
                    .copied()
                    .collect();
                &detected[..]
            }
            None => windows,
        };
        if windows.is_empty() {
            return;
        }
        let Some(full) = rx.full(&cr.rule, m) else {
            return;
        };
        let mut stack = [None; STACK_SLOTS];
        let mut heap = Vec::new();
        let slots: &mut [Option<NonMaxUsize>] = if full.slot_len <= STACK_SLOTS {
            &mut stack[..full.slot_len]
        } else {
            heap.resize(full.slot_len, None);
            &mut heap
        };
        // Starts before `covered` have been searched.
        let mut covered = 0;
        let mut k = 0;
        while k < windows.len() {
            let (ws, mut we, _) = windows[k];
            k += 1;
            if !m.anchored {
                // Overlapping windows merge; the regex runs through each unanchored.
                while k < windows.len() && windows[k].0 <= we {
                    we = we.max(windows[k].1);
                    k += 1;
                }
            }
            // Under an anchored search from `from`, a match starts within `lead` bytes of it.
            let last_start = if m.anchored { ws + m.lead } else { we };
            let end = line_end(we);
            let mut from = ws.max(covered);
            if let Some(c) = &rx.check
                && from <= end
                && !c.matches(&Input::new(hay).span(from..end).earliest(true))
            {
                covered = covered.max(last_start + 1);
                continue;
            }
            while from <= last_start && from <= end {
                let input = Input::new(hay).span(from..end).anchored(if m.anchored {
                    Anchored::Yes
                } else {
                    Anchored::No
                });
                if rx
                    .regex_for(m, full, end - from)
                    .search_slots(&input, slots)
                    .is_none()
                {
                    from = last_start + 1;
                    break;
                }
                let caps = Groups(slots);
                let Some(whole) = caps.get(1) else {
                    from = last_start + 1;
                    break;
                };
                let whole = Span::from(whole);
                from = if whole.end > whole.start {
                    whole.end
                } else {
                    whole.end + 1
                };
                let Some(secret) = full.secret_groups.iter().find_map(|&g| caps.get(g)) else {
                    continue;
                };
                let secret = Span::from(secret);
                let candidate = Candidate {
                    rule: r,
                    compiled: cr,
                    whole,
                    secret,
                    groups: &caps,
                };
                if let Some(found) = self.check(rx, full, hay, &candidate)
                    && !out.iter().rev().take(8).any(|o: &Match| {
                        o.rule == r && o.start == secret.start && o.end == secret.end
                    })
                {
                    out.push(found);
                }
            }
            covered = covered.max(from);
        }
    }

    /// Judges a candidate: entropy, documentation examples, placeholders, the rule's exclude
    /// pattern and validator; the confirmed match, with its confidence, or None.
    fn check(&self, rx: &Regexes, full: &Full, hay: &[u8], c: &Candidate<'_>) -> Option<Match> {
        let cr = c.compiled;
        let (ss, se) = (c.secret.start, c.secret.end);
        let (ms, me) = (c.whole.start, c.whole.end);
        let secret = &hay[ss..se];
        if secret.is_empty() {
            return None;
        }
        // Of the value as reported: a key body without its line breaks.
        let entropy = match cr.rule.normalize {
            Some(n) => shannon(&n.apply(secret)),
            None => shannon(secret),
        };
        if let Some(min) = cr.rule.min_entropy
            && entropy < min
        {
            return None;
        }
        if crate::engine::filters::placeholder::is_documentation_example(secret) {
            return None;
        }
        if !cr.rule.allow_placeholders && is_placeholder(secret) {
            return None;
        }
        if rx
            .exclude
            .as_ref()
            .is_some_and(|x| x.is_match(&hay[ms..me]))
        {
            return None;
        }
        let mut confidence = cr.rule.confidence;
        if let Some(v) = &cr.rule.validate {
            match validate::run(v, secret) {
                Some(Verdict::Valid) => confidence = confidence.raise(),
                Some(Verdict::Plausible) => {}
                Some(Verdict::Weak) => confidence = Confidence::Low,
                Some(Verdict::Invalid) => match cr.rule.on_invalid {
                    OnInvalid::Drop => return None,
                    OnInvalid::Downgrade => confidence = Confidence::Low,
                },
                None => {}
            }
        }
        let key_id = full
            .key_id_group
            .and_then(|g| c.groups.get(g))
            .map(|(a, b)| String::from_utf8_lossy(&hay[a..b]).into_owned());
        Some(Match {
            rule: c.rule,
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

/// The first line feed at or after `from`, looked for within LINE_SLACK bytes.
fn next_newline(hay: &[u8], from: usize) -> Option<usize> {
    memchr::memchr(b'\n', &hay[from..(from + LINE_SLACK).min(hay.len())]).map(|p| from + p)
}

/// Line feeds looked up around the keyword hits of one blob. On a long line (minified
/// code) each hit searched the same LINE_SLACK bytes on either side again; stretches found
/// to hold no line feed are remembered, so that later searches start past them.
struct Lines<'h> {
    hay: &'h [u8],
    /// Stretches `a..b` without a line feed. Several, because the prefilter reports hits
    /// from several places of the blob in turn.
    clear: [(usize, usize); 8],
    next: usize,
}

/// How far `Lines` searches before it looks at what it remembers.
const NEAR: usize = 256;
const _: () = assert!(NEAR < LINE_SLACK);

impl<'h> Lines<'h> {
    fn new(hay: &'h [u8]) -> Self {
        Lines {
            hay,
            clear: [(0, 0); 8],
            next: 0,
        }
    }

    /// Same as `next_newline(hay, from)`.
    #[inline]
    fn after(&mut self, from: usize) -> Option<usize> {
        // Most lines are short: a line feed this close is found quicker than remembered.
        let near = (from + NEAR).min(self.hay.len());
        match memchr::memchr(b'\n', &self.hay[from..near]) {
            Some(p) => Some(from + p),
            None => self.after_far(from, near),
        }
    }

    /// `after`, with `from..near` known to hold no line feed.
    #[inline(never)]
    fn after_far(&mut self, from: usize, near: usize) -> Option<usize> {
        let limit = (from + LINE_SLACK).min(self.hay.len());
        let (mut s, mut slot) = (near, None);
        for (i, &(a, b)) in self.clear.iter().enumerate() {
            if a <= s && s < b {
                (s, slot) = (b, Some(i));
            }
        }
        if s >= limit {
            return None;
        }
        let found = memchr::memchr(b'\n', &self.hay[s..limit]).map(|p| s + p);
        let start = slot.map_or(from, |i| self.clear[i].0);
        self.note(slot, (start, found.unwrap_or(limit)));
        found
    }

    /// Where the line holding `to` starts: past the last line feed before `to`, looked for
    /// within LINE_SLACK bytes, else 0.
    #[inline]
    fn start(&mut self, to: usize) -> usize {
        let near = to.saturating_sub(NEAR);
        match memchr::memrchr(b'\n', &self.hay[near..to]) {
            Some(p) => near + p + 1,
            None => self.start_far(near, to),
        }
    }

    /// `start`, with `near..to` known to hold no line feed.
    #[inline(never)]
    fn start_far(&mut self, near: usize, to: usize) -> usize {
        let low = to.saturating_sub(LINE_SLACK);
        let (mut e, mut slot) = (near, None);
        for (i, &(a, b)) in self.clear.iter().enumerate() {
            if a < e && e <= b {
                (e, slot) = (a, Some(i));
            }
        }
        if e <= low {
            return 0;
        }
        let found = memchr::memrchr(b'\n', &self.hay[low..e]).map(|p| low + p);
        let end = slot.map_or(to, |i| self.clear[i].1);
        self.note(slot, (found.map_or(low, |p| p + 1), end));
        found.map_or(0, |p| p + 1)
    }

    fn note(&mut self, slot: Option<usize>, stretch: (usize, usize)) {
        let i = slot.unwrap_or_else(|| {
            self.next = (self.next + 1) % self.clear.len();
            self.next
        });
        self.clear[i] = stretch;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_path_set_agrees_with_the_unicode_one() {
        let rules = crate::rules::builtin().unwrap();
        let patterns: Vec<String> = (rules.iter()).filter_map(|r| r.path.clone()).collect();
        let set = PathSet::new(patterns.clone()).unwrap();
        assert!(
            set.ascii.is_some(),
            "every built-in path regex compiles without Unicode"
        );
        let unicode = regex::RegexSet::new(&patterns).unwrap();
        let mut paths: Vec<String> = [
            ".env",
            "app/.env.production",
            "config/database.yml",
            "settings_prod.py",
            "deploy/.netrc",
            "home/u/_netrc",
            "x/.git-credentials",
            "etc/shadow",
            "etc/shadow-",
            "conf/.my.cnf",
            "a/.pgpass",
            "b/pip.conf",
            "c/.npmrc",
            "d/sitemanager.xml",
            "e/logins.json",
            "f/terraform.tfstate",
            "g/config/master.key",
            "inventory/hosts",
            "src/main.rs",
            "README.md",
            "web.config",
            "WEB.CONFIG",
            "docs/example.env",
        ]
        .map(String::from)
        .to_vec();
        let mut rng = crate::test_rng::Rng::new(7);
        for _ in 0..2_000 {
            let n = 1 + rng.below(30);
            paths.push(rng.string(b"abcdeEXYZ019._-/envymlcfgnetrcshadowpgpass", n));
        }
        for p in &paths {
            let want = unicode.matches(p);
            let got = set.matches(p);
            for (i, g) in got.iter().enumerate() {
                assert_eq!(*g, want.matched(i), "{p:?} against {:?}", patterns[i]);
            }
        }
        // A path with a non-ASCII name goes to the Unicode set: \w takes the accented letters.
        let e = set.matches("conf/résumé.env");
        let u = unicode.matches("conf/résumé.env");
        assert!(e.iter().any(|m| *m));
        assert_eq!(
            e,
            (0..patterns.len())
                .map(|i| u.matched(i))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn remembered_line_feeds_agree_with_searching_afresh() {
        let mut rng = crate::test_rng::Rng::new(0x9E37_79B9_7F4A_7C15);
        let mut rand = |n: usize| rng.below(n);
        // Line feeds from every few bytes to none in several LINE_SLACKs.
        for gap in [3, 100, LINE_SLACK / 2, LINE_SLACK * 3] {
            let hay: Vec<u8> = (0..LINE_SLACK * 8)
                .map(|_| if rand(gap) == 0 { b'\n' } else { b'x' })
                .collect();
            let mut lines = Lines::new(&hay);
            // Runs of nearby positions from a few places in turn, as the lanes report hits.
            let mut at = [0usize; 4];
            for q in 0..4000 {
                let lane = rand(4);
                at[lane] = if rand(50) == 0 {
                    rand(hay.len() + 1)
                } else {
                    (at[lane] + rand(300)).min(hay.len())
                };
                let x = at[lane];
                if q % 2 == 0 {
                    assert_eq!(
                        lines.after(x),
                        next_newline(&hay, x),
                        "after {x}, gap {gap}"
                    );
                } else {
                    let back = x.saturating_sub(LINE_SLACK);
                    let want = memchr::memrchr(b'\n', &hay[back..x]).map_or(0, |p| back + p + 1);
                    assert_eq!(lines.start(x), want, "start {x}, gap {gap}");
                }
            }
        }
    }

    /// An engine over rules given as (id, regex, keyword).
    fn engine(rules: &[(&str, &str, &str)]) -> Engine {
        let text: String = rules
            .iter()
            .map(|(id, re, kw)| {
                format!(
                    "[[rule]]\nid = \"{id}\"\nname = \"n\"\ndescription = \"d\"\n\
                     regex = '''{re}'''\nkeywords = [\"{kw}\"]\n"
                )
            })
            .collect();
        Engine::new(crate::rules::parse_rule_file("test.toml", &text).unwrap()).unwrap()
    }

    #[test]
    fn the_built_in_rules_use_the_automaton_built_with_the_binary() {
        // The keywords in the engine's order: lower case, first use first.
        let mut kws: Vec<String> = Vec::new();
        for r in crate::rules::builtin().unwrap() {
            for k in r.keywords {
                let k = k.to_ascii_lowercase();
                if !kws.contains(&k) {
                    kws.push(k);
                }
            }
        }
        assert!(
            EMBEDDED_KEYWORDS
                .split('\n')
                .eq(kws.iter().map(String::as_str))
        );
        let embedded = KeywordSet::from_static(EMBEDDED_AUTOMATON).expect("embedded automaton");
        // Read in place, not copied (on the little-endian targets it is built for).
        assert_eq!(embedded.reads_in_place(), cfg!(target_endian = "little"));
        let built = KeywordSet::new(&kws).unwrap();
        let hay = std::fs::read("src/engine/mod.rs").unwrap();
        let hits = |k: &KeywordSet| {
            let mut v = Vec::new();
            k.for_each_hit(&hay, |h| v.push((h.start, h.end, h.keyword)));
            v.sort_unstable();
            v
        };
        assert!(hits(&built).len() > 100);
        assert_eq!(hits(&embedded), hits(&built));
    }

    fn secrets(e: &Engine, hay: &str) -> Vec<String> {
        e.scan(hay.as_bytes())
            .iter()
            .map(|m| hay[m.start..m.end].to_string())
            .collect()
    }

    const TOKEN: (&str, &str, &str) = ("tok", r"\b(?P<secret>tok_[a-z0-9]{8})\b", "tok_");

    #[test]
    fn only_bounds_above_the_limit_are_relaxed() {
        let h = crate::engine::lead::parse(r"(?P<s>k=[a-z]{3,300}(?:[0-9]{100,12000}|x{0,1001}?))")
            .unwrap();
        let shown = relax(h.clone()).to_string();
        assert!(shown.contains("{3,300}") && !shown.contains("12000") && !shown.contains("1001"));
        assert!(shown.contains("{100,}") && shown.contains("*?"), "{shown}");
        // A bound above the limit inside another repetition is found; a tree without one
        // comes back as it was.
        let nested = crate::engine::lead::parse(r"(?:a[0-9]{1,2000})+").unwrap();
        assert!(!relax(nested).to_string().contains("2000"));
        let small = crate::engine::lead::parse(r"(k=[a-z]{3,1000}|x+)").unwrap();
        assert_eq!(relax(small.clone()), small);
        // Groups survive: the secret is still found by name.
        let e = engine(&[("long", r"key=(?P<secret>[A-Z]{20,5000})\b", "key=")]);
        let value =
            crate::test_rng::Rng::new(0x1234_5677).string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 300);
        assert_eq!(secrets(&e, &format!("key={value}")), [value]);
    }

    /// One rule with one keyword and `extra` TOML lines, compiled on first use.
    fn lazy_engine(regex: &str, keyword: &str, extra: &str) -> Engine {
        let text = format!(
            "[[rule]]\nid = \"t\"\nname = \"n\"\ndescription = \"d\"\n\
             regex = '''{regex}'''\nkeywords = [\"{keyword}\"]\n{extra}\n"
        );
        Engine::new_lazy(crate::rules::parse_rule_file("t.toml", &text).unwrap()).unwrap()
    }

    #[test]
    fn a_match_longer_than_max_len_is_screened_where_it_is_searched() {
        let e = lazy_engine(
            r"tok_[a-z]{0,100}=(?P<secret>[0-9]{20})",
            "tok_",
            "max_len = 50",
        );
        let hay = format!("tok_{}=31415926535897932384", "a".repeat(40));
        assert_eq!(secrets(&e, &hay), ["31415926535897932384"]);
    }

    #[test]
    fn a_rule_is_compiled_only_once_a_window_holds_the_run_its_matches_need() {
        let e = lazy_engine(r"\b(?P<secret>tok_[a-z0-9]{24})\b", "tok_", "");
        let compiled = || e.rules()[0].matcher().unwrap().regexes.get().is_some();
        // Keyword hits, but no run of 28 bytes of `[_a-z0-9]` at any of them.
        let clean = "let tok_a = 1; call(tok_count_of_items, tok_); // tok_x-tok_y";
        assert!(secrets(&e, clean).is_empty());
        assert!(!compiled());
        let value = "tok_0a1b2c3d4e5f6a7b8c9d0e1f";
        assert_eq!(secrets(&e, &format!("{clean}\nkey = \"{value}\"")), [value]);
        assert!(compiled());
    }

    #[test]
    fn a_run_out_of_the_reach_of_every_keyword_hit_does_not_compile_the_rule() {
        let e = lazy_engine(r"\bkey:\s?(?P<secret>[a-f0-9]{32})\b", "key:", "");
        let compiled = || e.rules()[0].matcher().unwrap().regexes.get().is_some();
        // A digest on the keyword's line, but further on than a match's value can be.
        let digest = "0f3a9c2e7b1d4f6a8c0e2b4d6f8a1c3e";
        let clean = format!("key: none, checksum {digest}");
        assert!(secrets(&e, &clean).is_empty());
        assert!(!compiled());
        assert_eq!(secrets(&e, &format!("{clean}\nkey: {digest}")), [digest]);
        assert!(compiled());
    }

    #[test]
    fn rules_with_a_path_search_only_files_at_that_path() {
        let text = "[[rule]]\nid = \"key-file\"\nname = \"n\"\n\
                    regex = '''(?m)^(?P<secret>[a-f0-9]{32})$'''\n\
                    path = '''(?:^|/)config/master\\.key$'''\n\
                    [[rule]]\nid = \"kw\"\nname = \"n\"\n\
                    regex = '''(?P<secret>tok_[a-z0-9]{8})'''\nkeywords = [\"tok_\"]\n\
                    path = '''\\.env$'''\n";
        let e = Engine::new(crate::rules::parse_rule_file("t.toml", text).unwrap()).unwrap();
        let hay = b"7c1e9a4f2d8b6e0a3f5c9d1b7e4a2c8f\ntok_a1b2c3d4\n";
        let rules = |path: Option<&str>| -> Vec<&str> {
            (e.scan_except(hay, &e.rules_off_at(path)).iter())
                .map(|m| e.rule(m.rule).id.as_str())
                .collect()
        };
        assert_eq!(rules(Some("app/config/master.key")), ["key-file"]);
        assert_eq!(rules(Some("config/master.key.bak")), Vec::<&str>::new());
        assert_eq!(rules(Some("deploy/.env")), ["kw"]);
        assert_eq!(rules(Some("-")), Vec::<&str>::new());
        assert_eq!(rules(None), Vec::<&str>::new());
        // Without a path asked for, every rule applies (rule examples).
        assert_eq!(e.scan(hay).len(), 2);
    }

    #[test]
    fn path_exclude_leaves_out_files_the_path_would_take() {
        let text = "[[rule]]\nid = \"kw\"\nname = \"n\"\n\
                    regex = '''(?P<secret>tok_[a-z0-9]{8})'''\nkeywords = [\"tok_\"]\n\
                    path = '''(?:^|/)\\.env(?:\\.[\\w.-]+)?$'''\n\
                    path_exclude = '''\\.(?:example|sample)$'''\n\
                    [[rule]]\nid = \"other\"\nname = \"n\"\n\
                    regex = '''(?P<secret>key_[a-z0-9]{8})'''\nkeywords = [\"key_\"]\n\
                    path = '''(?:^|/)\\.env\\.example$'''\n";
        let e = Engine::new(crate::rules::parse_rule_file("t.toml", text).unwrap()).unwrap();
        let hay = b"tok_a1b2c3d4\nkey_q7x2m9k4\n";
        let rules = |path: &str| -> Vec<&str> {
            (e.scan_except(hay, &e.rules_off_at(Some(path))).iter())
                .map(|m| e.rule(m.rule).id.as_str())
                .collect()
        };
        assert_eq!(rules("api/.env.production"), ["kw"]);
        // Excluded from one rule, still searched by another whose path takes it.
        assert_eq!(rules("api/.env.example"), ["other"]);
        assert_eq!(rules("api/.env.sample"), Vec::<&str>::new());
        let lint = |extra: &str| {
            let t = format!(
                "[[rule]]\nid = \"r\"\nname = \"n\"\nregex = 'x'\nkeywords = [\"x\"]\n{extra}"
            );
            crate::rules::lint(&crate::rules::parse_rule_file("t.toml", &t).unwrap()).0
        };
        assert!(
            lint("path_exclude = 'a'")
                .iter()
                .any(|e| e.contains("without path"))
        );
        assert!(
            lint("path = 'a'\npath_exclude = '('")
                .iter()
                .any(|e| e.contains("path_exclude"))
        );
    }

    #[test]
    fn tokens_that_start_at_their_keyword_are_found_anywhere() {
        let e = engine(&[TOKEN]);
        assert_eq!(secrets(&e, "tok_a1b2c3d4"), ["tok_a1b2c3d4"]);
        assert_eq!(
            secrets(&e, "x tok_a1b2c3d4 tok_q7x2m9k4,tok_short tok_8h3j5n1p"),
            ["tok_a1b2c3d4", "tok_q7x2m9k4", "tok_8h3j5n1p"]
        );
        // The boundary before the keyword is read from the blob, not the window.
        assert!(secrets(&e, "xtok_a1b2c3d4").is_empty());
    }

    #[test]
    fn single_line_rules_stay_on_the_keyword_line_and_others_do_not() {
        let e = engine(&[
            (
                "one-line",
                r#"(?i)[\w]{0,20}password[ \t]*=[ \t]*"(?P<secret>[^"\s]{8,})""#,
                "password",
            ),
            (
                "multi-line",
                r"(?i)secret\s*:\s*(?P<secret>[A-Za-z0-9]{12,})",
                "secret",
            ),
        ]);
        let long = "y".repeat(5000);
        let hay =
            format!("{long}\ndb_password = \"hunter2hunter2\"\nsecret:\n  Zq8vT2mK9pL4xR7w\n");
        assert_eq!(secrets(&e, &hay), ["hunter2hunter2", "Zq8vT2mK9pL4xR7w"]);
        assert!(secrets(&e, "password =\n \"hunter2hunter2\"").is_empty());
    }

    #[test]
    fn a_keyword_far_into_an_open_ended_match_still_finds_its_start() {
        // `[a-z_]*` before the keyword: no bound on where the keyword sits in the match.
        let e = engine(&[(
            "open",
            r"(?P<secret>[a-z_]*apikey[a-z_]*=[0-9]{6})",
            "apikey",
        )]);
        let name: String = (0..200)
            .map(|i| (b'a' + (i * 7 % 26) as u8) as char)
            .collect();
        let hay = format!("{name}apikey=123456");
        assert_eq!(secrets(&e, &hay), vec![hay]);
    }

    #[test]
    fn detect_answers_whether_its_suffix_matches_at_the_start() {
        let hir = crate::engine::lead::parse(r#"token[ \t]*=[ \t]*"[^"\s]{12,300}""#).unwrap();
        let d = Detect::build(&hir).unwrap();
        let at = |hay: &str, from: usize| {
            let input = Input::new(hay.as_bytes())
                .span(from..hay.len())
                .anchored(Anchored::Yes)
                .earliest(true);
            d.matches(&input)
        };
        // Put together here, so that the source holds no assignment of a secret.
        let value = ["Zq8vT2mK", "9pL4xR7w"].concat();
        let hay = format!(r#"x token = "{value}" token = "short""#);
        assert!(at(&hay, 2));
        assert!(!at(&hay, 0), "anchored: a match further on does not count");
        assert!(!at(&hay, 29), "the value is too short");
        // A Unicode word boundary makes the DFA give up on a non-ASCII byte: then the
        // rule's regex decides.
        let hir = regex_syntax::Parser::new().parse(r"token\b").unwrap();
        let d = Detect::build(&hir).unwrap();
        let input = Input::new("tokené".as_bytes()).anchored(Anchored::Yes);
        assert!(d.matches(&input));
        let input = Input::new("tokens".as_bytes()).anchored(Anchored::Yes);
        assert!(!d.matches(&input));
    }

    /// `n` fake token bodies of `len` characters, random in an unambiguous alphabet.
    fn fake_bodies(seed: u64, n: usize, len: usize) -> Vec<String> {
        let mut rng = crate::test_rng::Rng::new(seed);
        (0..n)
            .map(|_| {
                rng.string(
                    b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789",
                    len,
                )
            })
            .collect()
    }

    #[test]
    fn short_and_long_spans_of_a_rule_with_a_keyword_suffix_agree() {
        // A bounded name before the keyword gives the rule a `detect` regex; merged windows
        // on a long line exceed LONG_SPAN and are searched by the regex with the lazy DFA.
        let e = engine(&[(
            "assign",
            r#"[\w.\-]{0,40}token[ \t]*=[ \t]*"(?P<secret>[^"\s]{12,300})""#,
            "token",
        )]);
        let m = e.rules()[0].matcher().unwrap();
        let rx = m.regexes(e.rule(0)).unwrap();
        assert!(rx.detect.is_some() && rx.long.is_some());
        let values = fake_bodies(0x9e37_79b9_7f4a_7c15, 60, 20);
        let items: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("svc{i}_token = \"{v}\""))
            .collect();
        let built = || rx.long.as_ref().unwrap().get().is_some();
        assert_eq!(secrets(&e, &items.join("\n")), values);
        assert!(!built(), "one assignment per line: short spans only");
        let one_line = items.join("; ");
        assert!(one_line.len() > 2 * LONG_SPAN);
        assert_eq!(secrets(&e, &one_line), values);
        assert!(built());
    }

    #[test]
    fn a_rule_with_a_short_lead_is_checked_before_its_regex_runs() {
        // A few bytes of lead and no suffix: searched unanchored through merged windows, with
        // the bound-lifted check first and the lazy DFA only for long spans.
        let e = engine(&[("lead", r#"[:=] ?"(?P<secret>tok_[A-Za-z0-9]{20})""#, "tok_")]);
        let m = e.rules()[0].matcher().unwrap();
        let rx = m.regexes(e.rule(0)).unwrap();
        assert!(rx.detect.is_none() && rx.check.is_some() && rx.long.is_some());
        let values: Vec<String> = (fake_bodies(0x2545_f491_4f6c_dd1d, 80, 20).iter())
            .map(|b| format!("tok_{b}"))
            .collect();
        let items: Vec<String> = values.iter().map(|v| format!("k: \"{v}\"")).collect();
        // A near miss the check lets through and the regex drops (26 characters where the
        // regex wants 20), and one neither matches (no closing quote).
        let noise = "k: \"tok_ABCDEFGHIJKLMNOPQRSTUVWXYZ\" k: \"tok_ABCDEFGHIJKLMNOPQRST";
        let lines = format!("{noise}\n{}", items.join("\n"));
        assert_eq!(secrets(&e, &lines), values);
        let one_line = format!("{noise} {}", items.join(", "));
        assert!(one_line.len() > 2 * LONG_SPAN);
        assert_eq!(secrets(&e, &one_line), values);
        assert!(rx.long.as_ref().unwrap().get().is_some());
    }
}
