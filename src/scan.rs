//! One scan, from a resolved configuration to its outcome: build the scanner, read the source,
//! turn matches into fingerprinted findings, apply the ignore file and the baseline, count.
//! Clap-free: the command line (`cli::scan`), `baseline prune`, `baseline import` and
//! organisation scans all resolve their own `ScanConfig` and call [`collect`].

use crate::config::{Allowlist, Config};
use crate::engine::Engine;
use crate::pipeline::finding::Finding;
use crate::pipeline::suppress::baseline::Baseline;
use crate::pipeline::suppress::ignore_file::IgnoreFile;
use crate::pipeline::{ScanOptions, Scanner, Stats};
use crate::report::{self, Summary, Suppressed};
use crate::rules::{self, Confidence};
use crate::source::{self, files::WalkOptions, git::GitOptions};
use anyhow::Result;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

/// Files larger than this are skipped unless the command line or config says otherwise.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 25 << 20;
/// Layers of encoding looked inside by default.
pub const DEFAULT_DECODE_DEPTH: usize = 2;

/// Where the blobs of a scan come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Files and directories (`paths`), walked in parallel.
    Files(WalkOptions),
    /// Standard input as one blob.
    Stdin {
        /// The path its findings are reported under (`--stdin-name`, default `-`).
        name: String,
    },
    /// Git history (every blob once), scoped by the options.
    History(GitOptions),
    /// The index's content that differs from HEAD (pre-commit).
    Staged,
    /// Lines added since a revision.
    Diff {
        /// The revision compared against, as git resolves it (a commit, branch or tag).
        base: String,
    },
}

/// Everything a scan needs, resolved from the command line and the config file.
#[derive(Debug)]
pub struct ScanConfig {
    /// What was asked for; the first is the repository for git sources.
    pub paths: Vec<PathBuf>,
    /// How the blobs are read; the git sources read the repository at `paths[0]`.
    pub source: Source,
    /// The project configuration (the defaults when there is no file).
    pub config: Config,
    /// The file `config` came from; None when there was none or `--no-config`. Its directory
    /// anchors the config's allowlist path globs.
    pub config_path: Option<PathBuf>,
    /// Every reported path, and every path glob of the config and ignore file, is relative
    /// to this: the repository root holding the first path, else the current directory.
    pub base: PathBuf,
    /// How matches become findings, resolved by [`options`].
    pub options: ScanOptions,
    /// Worker threads asked for (default: all cores). The walk and the history reader take
    /// theirs from their own options in `source`, which are built with this number.
    pub threads: usize,
    /// Show a progress bar on a terminal.
    pub progress: bool,
    /// The ignore file to apply, already discovered or given.
    pub ignore_file: Option<PathBuf>,
    /// The baseline whose entries are accepted; None applies none. A baseline that cannot be
    /// read is an error, never an empty baseline that would fail every finding.
    pub baseline: Option<PathBuf>,
    /// The exit code when findings remain.
    pub exit_code: i32,
}

impl ScanConfig {
    /// A working-tree scan of `path` with values kept, for importing other tools' triage
    /// (values are compared, never printed). The project config applies (its rules and
    /// allowlists decide what is detected); the ignore file does not: a value it silences is
    /// still detected, and suppressing it here made its entry "not mapped". No baseline.
    pub fn for_import(path: PathBuf) -> Result<ScanConfig> {
        let config_path = Config::discover(&path);
        let config = match &config_path {
            Some(p) => Config::load(p)?,
            None => Config::default(),
        };
        let options = options(&config, true, None, true, None, DEFAULT_DECODE_DEPTH);
        let threads = default_threads();
        Ok(ScanConfig {
            base: crate::source::paths::base_for(&path),
            exit_code: config.exit_code.unwrap_or(1),
            paths: vec![path],
            source: Source::Files(WalkOptions {
                follow_symlinks: false,
                no_ignore: false,
                threads,
            }),
            config,
            config_path,
            options,
            threads,
            progress: false,
            ignore_file: None,
            baseline: None,
        })
    }

    /// Whether the source reads only part of a repository's history (a range, commits after
    /// a ref, or after an earlier run's tips): values a parent already held are not its news.
    fn scoped(&self) -> bool {
        matches!(&self.source, Source::History(g)
            if g.range.is_some() || g.since_ref.is_some() || !g.exclude.is_empty())
    }
}

/// All cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Scan options from the command line's choices, the config's defaults, then the built-in ones.
pub fn options(
    config: &Config,
    show_secrets: bool,
    min_confidence: Option<Confidence>,
    inline_allow: bool,
    max_file_size: Option<u64>,
    decode_depth: usize,
) -> ScanOptions {
    ScanOptions {
        show_secrets,
        min_confidence: min_confidence
            .or(config.min_confidence)
            .unwrap_or(Confidence::Low),
        inline_allow,
        max_file_size: max_file_size
            .or(config.max_file_size)
            .unwrap_or(DEFAULT_MAX_FILE_SIZE),
        decode_depth,
        defer_fingerprints: true,
    }
}

/// A finished scan before it is printed.
pub struct ScanOutcome {
    /// The findings no suppression accepted, fingerprinted and sorted by path, line and column,
    /// one per place and rule.
    pub findings: Vec<Finding>,
    /// Findings the ignore file or the baseline accepted, each with what accepted it (inline
    /// allows, allowlists and the confidence floor are only counted, in `summary`).
    pub suppressed: Vec<Suppressed>,
    /// The scan's counters; `complete` is false when some input could not be read.
    pub summary: Summary,
    /// The rules of the findings and suppressed findings (their metadata for reports).
    pub rules: Vec<rules::Rule>,
    /// The scanned repository; None for the files and stdin sources.
    pub vcs: Option<report::VcsInfo>,
    /// When the scan started, RFC 3339 in UTC.
    pub scan_time: String,
    /// The exit code when findings remain (`ScanConfig::exit_code`); whether they do, and
    /// whether the scan was complete, is the caller's to judge.
    pub exit_code: i32,
    /// Whether a baseline was applied, so that reports can mark the remaining findings new.
    pub baseline_used: bool,
    /// Baseline entries that matched a finding (for `baseline prune`).
    pub baseline_kept: Option<Baseline>,
    /// History scans: each ref scanned and its commit (for `--state`).
    pub git_tips: Vec<(String, String)>,
    /// History scans: the excluded commits still in the scanned history.
    pub exclude_reached: Vec<String>,
}

/// What a source read, before suppression.
struct Read {
    findings: Vec<Finding>,
    summary: Summary,
    vcs: Option<report::VcsInfo>,
    git_tips: Vec<(String, String)>,
    exclude_reached: Vec<String>,
}

/// Runs the scan and applies the ignore file and the baseline, handing back the scanner too,
/// so that the caller decides when it is freed.
pub fn collect(cfg: &ScanConfig) -> Result<(ScanOutcome, Scanner)> {
    let started = Instant::now();
    let scan_time = jiff::Timestamp::now().to_string();
    let scanner = build_scanner(cfg)?;
    let Read {
        mut findings,
        mut summary,
        vcs,
        git_tips,
        exclude_reached,
    } = read(cfg, &scanner)?;
    if cfg.scoped() {
        let dropped = source::git::drop_inherited(&cfg.paths[0], &mut findings)?;
        summary
            .extra
            .insert("values_already_in_parent".into(), dropped);
    }
    let files = Suppressions::load(cfg)?;
    let findings = fingerprinted_in_order(findings, files.need_legacy());
    let (findings, suppressed, baseline_kept) = suppress(files, findings, &mut summary);
    count(&scanner.stats, &findings, &suppressed, &mut summary);
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    // Only the rules that fired are reported on: copying all of them before the scan was a
    // millisecond of every start-up.
    let fired: std::collections::HashSet<&str> = (findings.iter())
        .chain(suppressed.iter().map(|s| &s.finding))
        .map(|f| f.rule_id.as_str())
        .collect();
    let rules = (scanner.engine.rules().iter())
        .map(|c| &c.rule)
        .filter(|r| fired.contains(r.id.as_str()))
        .cloned()
        .collect();
    let outcome = ScanOutcome {
        findings,
        suppressed,
        summary,
        rules,
        vcs,
        scan_time,
        exit_code: cfg.exit_code,
        baseline_used: cfg.baseline.is_some(),
        baseline_kept,
        git_tips,
        exclude_reached,
    };
    Ok((outcome, scanner))
}

/// Fingerprints (all values at once), sorted by place, one finding per place and rule.
/// `legacy`: also the `kw1:` fingerprints of keyed values, for suppression files that hold them.
fn fingerprinted_in_order(mut findings: Vec<Finding>, legacy: bool) -> Vec<Finding> {
    Scanner::fingerprint_pending(&mut findings, legacy);
    findings.sort_by(|a, b| {
        (
            &a.path,
            a.line,
            a.column,
            &a.rule_id,
            &a.commit.as_ref().map(|c| &c.id),
        )
            .cmp(&(
                &b.path,
                b.line,
                b.column,
                &b.rule_id,
                &b.commit.as_ref().map(|c| &c.id),
            ))
    });
    findings.dedup_by(|a, b| {
        a.path == b.path
            && a.start_byte == b.start_byte
            && a.rule_id == b.rule_id
            && a.blob_id == b.blob_id
            && a.commit == b.commit
    });

    findings
}

/// The reviewed suppressions a scan applies, loaded before the findings are fingerprinted
/// (entries written before `kw2:` need the keyed values' `kw1:` fingerprints too).
struct Suppressions {
    ignore: Option<IgnoreFile>,
    baseline: Option<Baseline>,
}

impl Suppressions {
    fn load(cfg: &ScanConfig) -> Result<Suppressions> {
        let ignore = match &cfg.ignore_file {
            Some(p) => {
                let mut ignore = IgnoreFile::load(p)?;
                ignore.anchor = crate::config::Anchor::for_file(&cfg.base, p);
                Some(ignore)
            }
            None => None,
        };
        let baseline = cfg.baseline.as_deref().map(Baseline::load).transpose()?;
        Ok(Suppressions { ignore, baseline })
    }

    fn need_legacy(&self) -> bool {
        self.ignore.as_ref().is_some_and(IgnoreFile::has_legacy)
            || self.baseline.as_ref().is_some_and(Baseline::has_legacy)
    }
}

/// Reviewed suppressions: the ignore file, then the baseline. Returns what is left, what was
/// suppressed and by what, and the baseline entries that still match (for `baseline prune`,
/// each as this version writes it).
fn suppress(
    files: Suppressions,
    mut findings: Vec<Finding>,
    summary: &mut Summary,
) -> (Vec<Finding>, Vec<Suppressed>, Option<Baseline>) {
    let mut suppressed = Vec::new();
    if let Some(ignore) = &files.ignore {
        let mut kept = Vec::with_capacity(findings.len());
        for f in findings {
            match ignore.matches(&f) {
                Some(reason) => suppressed.push(Suppressed {
                    justification: Some(reason.to_string()),
                    by: "ignore_file".into(),
                    finding: f,
                }),
                None => kept.push(f),
            }
        }
        findings = kept;
    }
    let mut baseline_kept = None;
    if let Some(b) = &files.baseline {
        let split = b.partition(findings);
        baseline_kept = Some(b.kept(&split));
        summary.baseline_unmatched = Some(split.stale.len() as u64);
        findings = split.new;
        suppressed.extend(split.known.into_iter().map(|f| Suppressed {
            finding: f,
            by: "baseline".into(),
            justification: Some("accepted in baseline".into()),
        }));
    }
    (findings, suppressed, baseline_kept)
}

/// The scanner's counters and the suppression counts into the summary.
fn count(st: &Stats, findings: &[Finding], suppressed: &[Suppressed], summary: &mut Summary) {
    summary.files_scanned = Stats::get(&st.blobs_scanned);
    summary.bytes_scanned = Stats::get(&st.bytes_scanned);
    summary.skipped_binary = Stats::get(&st.skipped_binary);
    summary.decoded_utf16 = Stats::get(&st.decoded_utf16);
    summary.skipped_too_large = Stats::get(&st.skipped_large);
    summary.skipped_symlinks = Stats::get(&st.skipped_symlink);
    summary.skipped_allowlisted_paths = Stats::get(&st.skipped_allowlisted_path);
    summary.skipped_special = Stats::get(&st.skipped_special);
    summary.skipped_scanner_baselines = Stats::get(&st.skipped_scanner_baselines);
    summary.encrypted_files = Stats::get(&st.encrypted_files);
    summary.errors = Stats::get(&st.errors);
    summary.complete = summary.errors == 0;
    summary.error_messages = st
        .error_messages
        .lock()
        .map(|m| m.clone())
        .unwrap_or_default();
    for (k, c) in [
        ("inline_allow", &st.suppressed_inline),
        ("allowlist", &st.suppressed_allowlist),
        ("min_confidence", &st.suppressed_confidence),
    ] {
        summary.suppressed.insert(k.to_string(), Stats::get(c));
    }
    for by in ["ignore_file", "baseline"] {
        summary.suppressed.insert(
            by.to_string(),
            suppressed.iter().filter(|s| s.by == by).count() as u64,
        );
    }
    if Stats::get(&st.skipped_lfs) > 0 {
        summary
            .extra
            .insert("lfs_pointers".into(), Stats::get(&st.skipped_lfs));
    }
    summary.findings = findings.len() as u64;
    summary.findings_by_severity = report::severity_counts(findings);
}

/// The rules (built-in, changed by the config), compiled lazily, and the anchored allowlist.
fn build_scanner(cfg: &ScanConfig) -> Result<Scanner> {
    let config = &cfg.config;
    let rules = config.apply_rules(rules::builtin()?)?;
    // Config rules are compiled now so that a bad regex is a clear error; built-in rules
    // (compiled by the test suite) compile on first use.
    for r in &config.rules {
        crate::engine::CompiledRule::compile(r.clone())?;
    }
    let engine = Engine::new_lazy(rules)?;
    let allowlist = Allowlist::new(&config.allowlist)?;
    let allowlist = match &cfg.config_path {
        Some(p) => allowlist.anchored(crate::config::Anchor::for_file(&cfg.base, p)),
        None => allowlist,
    };
    Ok(Scanner::new(engine, cfg.options.clone(), allowlist))
}

/// The source's findings and what it counted.
fn read(cfg: &ScanConfig, scanner: &Scanner) -> Result<Read> {
    let progress = progress_bar(cfg.progress);
    let repo = cfg.paths[0].clone();
    let mut out = Read {
        findings: Vec::new(),
        summary: Summary::default(),
        vcs: None,
        git_tips: Vec::new(),
        exclude_reached: Vec::new(),
    };
    let git = match &cfg.source {
        Source::Files(walk) => {
            out.findings =
                source::files::scan(scanner, &cfg.base, &cfg.paths, walk, progress.as_ref());
            None
        }
        Source::Stdin { name } => {
            out.findings = source::stdin::scan(scanner, name)?;
            None
        }
        Source::Staged => Some(source::git::scan_staged(scanner, &repo)?),
        Source::Diff { base } => Some(source::git::scan_diff(scanner, &repo, base)?),
        Source::History(opts) => Some(source::git::scan_history(scanner, opts, progress.as_ref())?),
    };
    if let Some(g) = git {
        out.summary.extra = g.extra;
        out.summary.notes = g.notes;
        out.vcs = g.vcs;
        out.git_tips = g.tips;
        out.exclude_reached = g.exclude_reached;
        out.findings = g.findings;
    }
    if let Some(p) = &progress {
        p.finish_and_clear();
    }
    Ok(out)
}

fn progress_bar(wanted: bool) -> Option<indicatif::ProgressBar> {
    if !wanted || !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
        return None;
    }
    let p = indicatif::ProgressBar::new_spinner();
    p.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} blobs scanned {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    // Only draws once the scan has run long enough to be worth a bar.
    p.enable_steady_tick(std::time::Duration::from_millis(250));
    Some(p)
}
