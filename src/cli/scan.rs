//! `keywarden scan`: configuration, the chosen source, and the report.

use crate::config::{Allowlist, Config};
use crate::engine::Engine;
use crate::pipeline::finding::Finding;
use crate::pipeline::suppress::baseline::Baseline;
use crate::pipeline::suppress::ignore_file::IgnoreFile;
use crate::pipeline::{ScanOptions, Scanner, Stats};
use crate::report::{self, Format, ScanReport, Summary, Suppressed};
use crate::rules::{self, Confidence};
use crate::source::{self, files::WalkOptions, git::GitOptions};
use anyhow::{Context, Result};
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args, Debug, Clone)]
pub struct ScanArgs {
    /// Files or directories to scan (`-` reads stdin). Default: the current directory.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Config file (default: the nearest .keywarden.toml at or above the first path).
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
    /// Ignore any .keywarden.toml.
    #[arg(long)]
    pub no_config: bool,
    /// Print secrets in full instead of redacted.
    #[arg(long)]
    pub show_secrets: bool,
    /// Skip files larger than this (bytes; K, M, G suffixes allowed). Default 25M.
    #[arg(long, value_parser = parse_size)]
    pub max_file_size: Option<u64>,
    /// Report only findings at or above this confidence: low (all), medium or high.
    #[arg(long, value_parser = clap::value_parser!(Confidence), value_name = "low|medium|high")]
    pub min_confidence: Option<Confidence>,
    /// Exit code when findings remain (1-255, default 1).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=255))]
    pub exit_code: Option<i32>,
    /// Exit as if complete when some inputs could not be read (missing paths, permissions,
    /// loops). Reports still say the scan was incomplete.
    #[arg(long)]
    pub allow_incomplete: bool,
    /// Report findings on lines marked `keywarden:allow` too.
    #[arg(long)]
    pub no_inline_allow: bool,
    /// Follow symbolic links.
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Do not honour .gitignore/.ignore files.
    #[arg(long)]
    pub no_ignore: bool,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
    /// Layers of encoding (base64, hex, URL) to look inside; 0 turns decoding off.
    #[arg(long, default_value_t = 2)]
    pub decode_depth: usize,
    /// Name to report for stdin.
    #[arg(long, default_value = "-")]
    pub stdin_name: String,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Colour: auto (on a terminal), always, never.
    #[arg(long, default_value = "auto")]
    pub color: String,

    /// Scan the full git history of the repository at PATH (every blob once).
    #[arg(long, conflicts_with_all = ["staged", "diff"])]
    pub git: bool,
    /// Only commits in the range A..B (implies --git).
    #[arg(long, conflicts_with_all = ["staged", "diff"])]
    pub range: Option<String>,
    /// Only commits not reachable from REF (implies --git).
    #[arg(long, conflicts_with_all = ["staged", "diff"])]
    pub since_ref: Option<String>,
    /// Only commits reachable from this branch; repeatable (implies --git).
    #[arg(long, conflicts_with_all = ["staged", "diff"])]
    pub branch: Vec<String>,
    /// Every ref: branches, tags, remotes, notes, stash (the default for --git).
    #[arg(long, conflicts_with_all = ["staged", "diff"])]
    pub all_refs: bool,
    /// Stop after this many commits, newest first (implies --git).
    #[arg(long, conflicts_with_all = ["staged", "diff"])]
    pub max_commits: Option<usize>,
    /// Only the content staged in the index (pre-commit).
    #[arg(long, conflicts_with = "diff")]
    pub staged: bool,
    /// Only lines added since REF.
    #[arg(long)]
    pub diff: Option<String>,

    /// Report only findings not recorded in this baseline file.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Record the findings of this scan as the baseline FILE (they are then not reported).
    #[arg(long)]
    pub write_baseline: Option<PathBuf>,
    /// Ignore file (default: the nearest .keywardenignore at or above the first path).
    #[arg(long)]
    pub ignore_file: Option<PathBuf>,
    /// Apply no .keywardenignore (the config and any --baseline still apply).
    #[arg(long, conflicts_with = "ignore_file")]
    pub no_ignore_file: bool,

    /// Scan the history of many repositories: LIST is a file of repository paths (one per
    /// line, `#` comments) or a directory whose subdirectories are clones (docs/org-scan.md).
    #[arg(long, value_name = "LIST", conflicts_with_all = ["staged", "diff", "range", "since_ref", "baseline", "write_baseline", "ignore_file"])]
    pub repos: Option<PathBuf>,
    /// With --repos: scan only shard I of N (1-based; every Nth repository of the sorted list).
    #[arg(long, value_name = "I/N", requires = "repos", value_parser = crate::source::repos::parse_shard)]
    pub shard: Option<(usize, usize)>,
    /// With --repos: the state file of earlier runs; only commits they did not scan are read,
    /// and their findings are kept.
    #[arg(long, value_name = "FILE", requires = "repos")]
    pub state: Option<PathBuf>,
    /// Commits already scanned, left out with their history (set by --state).
    #[arg(skip)]
    pub exclude: Vec<String>,
}

impl ScanArgs {
    /// A plain working-tree scan of `path` with values shown, for importing other tools'
    /// triage (values are compared, never printed).
    pub fn for_import(path: PathBuf) -> ScanArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrap {
            #[command(flatten)]
            a: ScanArgs,
        }
        let mut a = Wrap::parse_from(["keywarden"]).a;
        a.paths = vec![path];
        a.show_secrets = true;
        a.no_progress = true;
        // Import maps the other tool's entries onto what keywarden detects; a value the
        // ignore file silences is still detected, and suppressing it here made its entry
        // "not mapped". The config stays (its rules and allowlists decide what is detected),
        // and no baseline is given, so none applies.
        a.no_ignore_file = true;
        a
    }
}

pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_uppercase();
    let t = t.trim_end_matches("IB").trim_end_matches('B');
    let (num, mul) = match t.chars().last() {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    num.trim()
        .parse::<u64>()
        .map(|n| n * mul)
        .map_err(|_| format!("invalid size {s:?}"))
}

/// A finished scan before it is printed.
pub struct ScanOutcome {
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
    pub summary: Summary,
    /// The rules of the findings and suppressed findings (their metadata for reports).
    pub rules: Vec<rules::Rule>,
    pub vcs: Option<report::VcsInfo>,
    pub scan_time: String,
    pub exit_code: i32,
    pub baseline_used: bool,
    /// Baseline entries that matched a finding (for `baseline prune`).
    pub baseline_kept: Option<Baseline>,
    /// History scans: each ref scanned and its commit (for `--state`).
    pub git_tips: Vec<(String, String)>,
    /// History scans: the excluded commits still in the scanned history.
    pub exclude_reached: Vec<String>,
}

pub fn run(args: &ScanArgs) -> Result<i32> {
    if args.repos.is_some() {
        return crate::cli::org::run(args);
    }
    let (o, scanner) = collect_keeping_scanner(args)?;
    // The process exits next: freeing the compiled rules and their per-thread caches took
    // 5 ms, more than printing a report of 783 findings.
    std::mem::forget(scanner);
    if let Some(path) = &args.write_baseline {
        let mut all: Vec<&Finding> = o.findings.iter().collect();
        all.extend(
            o.suppressed
                .iter()
                .filter(|s| s.by == "baseline")
                .map(|s| &s.finding),
        );
        let baseline = Baseline::from_findings(all);
        baseline.save(path)?;
        if let Some(attrs) = Baseline::ensure_union_merge(path)? {
            eprintln!(
                "keywarden: marked {} merge=union in {} (commit it: branches that each accept a finding then merge without conflict)",
                path.display(),
                attrs.display()
            );
        }
        eprintln!(
            "keywarden: wrote {} to baseline {}",
            crate::report::Summary::count(baseline.entries.len() as u64, "entry", "entries"),
            path.display()
        );
        if !o.summary.complete {
            eprintln!(
                "keywarden: the scan was incomplete ({} could not be read); the baseline covers only what was read",
                crate::report::Summary::count(o.summary.errors, "input", "inputs")
            );
            if !args.allow_incomplete {
                return Ok(EXIT_INCOMPLETE);
            }
        }
        return Ok(0);
    }
    print(args, &o)?;
    Ok(exit_code(args, &o))
}

/// Exit code of an incomplete scan: some input could not be read, so finding nothing is not a
/// pass. Distinct from the findings code so that a gate can tell the two apart.
pub const EXIT_INCOMPLETE: i32 = 3;

/// 0 clean, the findings code (1 unless configured), or [`EXIT_INCOMPLETE`] when an input
/// could not be read, unless `--allow-incomplete`.
pub fn exit_code(args: &ScanArgs, o: &ScanOutcome) -> i32 {
    if !o.summary.complete && !args.allow_incomplete {
        EXIT_INCOMPLETE
    } else if o.findings.is_empty() {
        0
    } else {
        o.exit_code
    }
}

pub fn print(args: &ScanArgs, o: &ScanOutcome) -> Result<()> {
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        _ => {
            args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let report = ScanReport {
        findings: &o.findings,
        suppressed: &o.suppressed,
        summary: &o.summary,
        rules: &o.rules,
        scan_time: o.scan_time.clone(),
        vcs: o.vcs.clone(),
        color,
        baseline_used: o.baseline_used,
    };
    match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            report::write(&report, args.format, &mut w)?;
            w.flush()?;
            if args.format != Format::Text && std::io::stderr().is_terminal() {
                let mut err = std::io::stderr().lock();
                report::text::write_summary_line(&o.summary, &mut err)?;
            }
        }
        None => {
            // Stdout is line-buffered: unbuffered, a JSON report was a write call per line.
            let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
            report::write(&report, args.format, &mut out)?;
            out.flush()?;
        }
    }
    Ok(())
}

/// Runs the scan the arguments describe and applies baseline and ignore file.
pub fn collect(args: &ScanArgs) -> Result<ScanOutcome> {
    collect_keeping_scanner(args).map(|(o, _)| o)
}

/// `collect`, handing back the scanner too, so that the caller decides when it is freed.
fn collect_keeping_scanner(args: &ScanArgs) -> Result<(ScanOutcome, Scanner)> {
    let started = Instant::now();
    let scan_time = jiff::Timestamp::now().to_string();
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let config_path = if args.no_config {
        None
    } else {
        args.config.clone().or_else(|| Config::discover(&paths[0]))
    };
    let config = match &config_path {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    let git_mode = args.git
        || args.range.is_some()
        || args.since_ref.is_some()
        || !args.branch.is_empty()
        || args.all_refs
        || args.max_commits.is_some();
    let repo_mode = git_mode || args.staged || args.diff.is_some();
    if repo_mode && paths.len() > 1 {
        anyhow::bail!(
            "--git, --staged and --diff scan one repository; name one path (found {})",
            paths.len()
        );
    }
    if repo_mode && paths[0].as_os_str() == "-" {
        anyhow::bail!("stdin (`-`) cannot be combined with --git, --staged or --diff");
    }
    // Every reported path, and every path glob in the config and ignore file, is resolved
    // against one base: the repository root, else the current directory.
    let base = crate::source::paths::base_for(&paths[0]);
    let rules = config.apply_rules(rules::builtin()?)?;
    // Config rules are compiled now so that a bad regex is a clear error; built-in rules
    // (compiled by the test suite) compile on first use.
    for r in &config.rules {
        crate::engine::CompiledRule::compile(r.clone())?;
    }
    let engine = Engine::new_lazy(rules)?;
    let opts = ScanOptions {
        show_secrets: args.show_secrets,
        min_confidence: args
            .min_confidence
            .or(config.min_confidence)
            .unwrap_or(Confidence::Low),
        inline_allow: !args.no_inline_allow,
        max_file_size: args
            .max_file_size
            .or(config.max_file_size)
            .unwrap_or(25 << 20),
        decode_depth: args.decode_depth,
        defer_fingerprints: true,
    };
    let allowlist = Allowlist::new(&config.allowlist)?;
    let allowlist = match &config_path {
        Some(p) => allowlist.anchored(crate::config::Anchor::for_file(&base, p)),
        None => allowlist,
    };
    let scanner = Scanner::new(engine, opts, allowlist);
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let progress = progress_bar(args);

    let mut summary = Summary::default();
    let mut vcs = None;
    let (mut git_tips, mut exclude_reached) = (Vec::new(), Vec::new());
    let mut findings: Vec<Finding> = if args.staged || args.diff.is_some() || git_mode {
        let repo = paths[0].clone();
        let g = if args.staged {
            source::git::scan_staged(&scanner, &repo)?
        } else if let Some(base) = &args.diff {
            source::git::scan_diff(&scanner, &repo, base)?
        } else {
            source::git::scan_history(
                &scanner,
                &GitOptions {
                    repo,
                    range: args.range.clone(),
                    since_ref: args.since_ref.clone(),
                    branches: args.branch.clone(),
                    max_commits: args.max_commits,
                    threads,
                    exclude: args.exclude.clone(),
                },
                progress.as_ref(),
            )?
        };
        summary.extra = g.extra;
        summary.notes = g.notes;
        vcs = g.vcs;
        git_tips = g.tips;
        exclude_reached = g.exclude_reached;
        g.findings
    } else if paths.len() == 1 && paths[0].as_os_str() == "-" {
        source::stdin::scan(&scanner, &args.stdin_name)?
    } else {
        let walk = WalkOptions {
            follow_symlinks: args.follow_symlinks,
            no_ignore: args.no_ignore,
            threads,
        };
        source::files::scan(&scanner, &base, &paths, &walk, progress.as_ref())
    };
    if let Some(p) = &progress {
        p.finish_and_clear();
    }
    if args.range.is_some() || args.since_ref.is_some() || !args.exclude.is_empty() {
        let dropped = source::git::drop_inherited(&paths[0], &mut findings)?;
        summary
            .extra
            .insert("values_already_in_parent".into(), dropped);
    }
    Scanner::fingerprint_pending(&mut findings);
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

    // Reviewed suppressions: the ignore file, then the baseline.
    let mut suppressed = Vec::new();
    let ignore_path = args.ignore_file.clone().or_else(|| {
        if args.no_config || args.no_ignore_file {
            None
        } else {
            IgnoreFile::discover(&paths[0])
        }
    });
    if let Some(p) = ignore_path {
        let mut ignore = IgnoreFile::load(&p)?;
        ignore.anchor = crate::config::Anchor::for_file(&base, &p);
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
    if let Some(p) = &args.baseline {
        let b = Baseline::load(p)?;
        let (new, known, stale) = b.partition(findings);
        findings = new;
        let mut kept = b.clone();
        for e in &stale {
            kept.entries.remove(e);
        }
        baseline_kept = Some(kept);
        summary.baseline_unmatched = Some(stale.len() as u64);
        suppressed.extend(known.into_iter().map(|f| Suppressed {
            finding: f,
            by: "baseline".into(),
            justification: Some("accepted in baseline".into()),
        }));
    }

    let st = &scanner.stats;
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
    summary.findings_by_severity = report::severity_counts(&findings);
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
        exit_code: args.exit_code.or(config.exit_code).unwrap_or(1),
        baseline_used: args.baseline.is_some(),
        baseline_kept,
        git_tips,
        exclude_reached,
    };
    Ok((outcome, scanner))
}

fn progress_bar(args: &ScanArgs) -> Option<indicatif::ProgressBar> {
    if args.no_progress || !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
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
