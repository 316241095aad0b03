//! `keywarden scan`: the command line, resolved into a [`ScanConfig`], the scan
//! ([`crate::scan::collect`]), the report and the exit code.

use crate::config::Config;
use crate::pipeline::finding::Finding;
use crate::pipeline::suppress::baseline::Baseline;
use crate::pipeline::suppress::ignore_file::IgnoreFile;
use crate::report::{self, Format, ScanReport};
use crate::rules::Confidence;
pub use crate::scan::ScanOutcome;
use crate::scan::{ScanConfig, Source};
use crate::source::{files::WalkOptions, git::GitOptions};
use anyhow::{Context, Result};
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// The arguments of `keywarden scan` (and of `baseline prune`, which re-runs the same scan).
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

fn parse_size(s: &str) -> Result<u64, String> {
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

pub(crate) fn run(args: &ScanArgs) -> Result<i32> {
    if args.repos.is_some() {
        return crate::cli::org::run(args);
    }
    let (o, scanner) = crate::scan::collect(&args.to_config()?)?;
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

fn print(args: &ScanArgs, o: &ScanOutcome) -> Result<()> {
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
    crate::scan::collect(&args.to_config()?).map(|(o, _)| o)
}

impl ScanArgs {
    /// The scan these arguments ask for: paths defaulted, the config found and loaded, the
    /// source chosen, the ignore file found.
    pub fn to_config(&self) -> Result<ScanConfig> {
        let args = self;
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
        let threads = args.threads.unwrap_or_else(crate::scan::default_threads);
        let source = if args.staged {
            Source::Staged
        } else if let Some(base) = &args.diff {
            Source::Diff { base: base.clone() }
        } else if git_mode {
            Source::History(GitOptions {
                repo: paths[0].clone(),
                range: args.range.clone(),
                since_ref: args.since_ref.clone(),
                branches: args.branch.clone(),
                max_commits: args.max_commits,
                threads,
                exclude: args.exclude.clone(),
            })
        } else if paths.len() == 1 && paths[0].as_os_str() == "-" {
            Source::Stdin {
                name: args.stdin_name.clone(),
            }
        } else {
            Source::Files(WalkOptions {
                follow_symlinks: args.follow_symlinks,
                no_ignore: args.no_ignore,
                threads,
            })
        };
        let options = crate::scan::options(
            &config,
            args.show_secrets,
            args.min_confidence,
            !args.no_inline_allow,
            args.max_file_size,
            args.decode_depth,
        );
        let ignore_file = args.ignore_file.clone().or_else(|| {
            if args.no_config || args.no_ignore_file {
                None
            } else {
                IgnoreFile::discover(&paths[0])
            }
        });
        Ok(ScanConfig {
            base: crate::source::paths::base_for(&paths[0]),
            exit_code: args.exit_code.or(config.exit_code).unwrap_or(1),
            paths,
            source,
            config,
            config_path,
            options,
            threads,
            progress: !args.no_progress,
            ignore_file,
            baseline: args.baseline.clone(),
        })
    }
}
