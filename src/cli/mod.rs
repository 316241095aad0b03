//! Command-line interface: argument parsing and dispatch to the library.

pub mod completions;
pub mod install_hook;
pub mod man;
pub mod org;
pub mod scan;

use crate::rules::{self, Rule};
use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use std::io::{Read, Write};
use std::path::PathBuf;

/// The whole command line: `keywarden` and one subcommand.
#[derive(Parser, Debug)]
#[command(
    name = "keywarden",
    version,
    about = "Find leaked secrets in files and git history; audit secret rotation."
)]
pub struct Cli {
    /// The subcommand given.
    #[command(subcommand)]
    pub command: Command,
}

/// One `keywarden` subcommand with its arguments.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan files, directories, stdin or git history for secrets.
    #[command(after_help = SCAN_EXAMPLES)]
    Scan(Box<crate::cli::scan::ScanArgs>),
    /// Audit secret rotation against a policy, from secrets-manager exports and audit logs.
    #[command(after_help = AUDIT_EXAMPLES)]
    Audit(crate::audit::AuditArgs),
    /// Manage and check rules.
    Rules {
        /// What to do with the rules.
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Print the fingerprint of a value read from stdin (trailing newline stripped; a private
    /// key block is fingerprinted by its base64 body, as findings are).
    Fingerprint(FingerprintArgs),
    /// Maintain baselines: prune entries that match nothing, import other tools' triage.
    #[command(after_help = BASELINE_EXAMPLES)]
    Baseline {
        /// Which baseline operation to run.
        #[command(subcommand)]
        command: BaselineCommand,
    },
    /// Organisation scans: cut a repository list into balanced shards.
    Repos {
        /// What to do with the repository list.
        #[command(subcommand)]
        command: crate::cli::org::ReposCommand,
    },
    /// Organisation reports: merge shard outputs into one report.
    Report {
        /// What to do with the shard reports.
        #[command(subcommand)]
        command: crate::cli::org::ReportCommand,
    },
    /// Write a git pre-commit hook that runs `keywarden scan --staged`.
    InstallHook {
        /// The repository (default: the current directory).
        #[arg(default_value = ".")]
        repo: PathBuf,
        /// Replace an existing hook that keywarden did not write.
        #[arg(long)]
        force: bool,
    },
    /// Write a commented starter .keywarden.toml.
    Init {
        /// Where to write it.
        #[arg(default_value = ".keywarden.toml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(crate::cli::completions::CompletionsArgs),
    /// Print the man page (roff) to stdout.
    Man,
}

// The most common invocations, shown after each command's `--help` (kept parseable by a test).
const SCAN_EXAMPLES: &str = "\
Examples:
  keywarden scan .                                        scan the working tree
  keywarden scan --git --format sarif -o keywarden.sarif  the full git history, as SARIF
  keywarden scan --staged                                 pre-commit: only what is staged";

const AUDIT_EXAMPLES: &str = "\
Examples:
  keywarden audit --inventory sm.json --log trail.json
  keywarden audit --inventory sm.json --log trail.json --findings findings.jsonl --format markdown
  keywarden audit --inventory vault.json --policy policy.toml --format sarif -o audit.sarif";

const BASELINE_EXAMPLES: &str = "\
Examples:
  keywarden scan --write-baseline .keywarden-baseline     accept the current findings
  keywarden baseline prune --baseline .keywarden-baseline drop entries whose secret is gone
  keywarden baseline import .secrets.baseline             import detect-secrets triage";

/// The `keywarden ...` lines of the `--help` examples, for the test that parses them.
pub fn help_examples() -> impl Iterator<Item = &'static str> {
    [SCAN_EXAMPLES, AUDIT_EXAMPLES, BASELINE_EXAMPLES]
        .into_iter()
        .flat_map(str::lines)
        .filter_map(|l| l.trim().strip_prefix("keywarden "))
        .map(|l| l.split("  ").next().unwrap_or(l).trim())
}

/// The `keywarden baseline` subcommands.
#[derive(Subcommand, Debug)]
pub enum BaselineCommand {
    /// Re-scan and drop baseline entries whose secret is gone (pass the same scan options).
    Prune(Box<crate::cli::scan::ScanArgs>),
    /// Add a detect-secrets `.secrets.baseline` or a gitleaks `.gitleaksignore` / JSON report to
    /// a keywarden baseline, by scanning the same tree. The format is recognised from the
    /// content; entries are merged into an existing baseline unless --force.
    Import {
        /// The other tool (default: recognised from the file's content; given, the content must
        /// agree).
        #[arg(long, value_enum)]
        from: Option<crate::pipeline::suppress::import::Source>,
        /// Its baseline, ignore file or report.
        file: PathBuf,
        /// Baseline file to write (merged into if it exists).
        #[arg(long, short = 'o', default_value = ".keywarden-baseline")]
        output: PathBuf,
        /// Tree to scan (default: the current directory).
        #[arg(long, default_value = ".")]
        path: PathBuf,
        /// Replace the output baseline instead of merging into it.
        #[arg(long)]
        force: bool,
    },
}

/// The `keywarden rules` subcommands.
#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// List the rules in force.
    List(RulesArgs),
    /// Compile every rule and run its examples; exit 1 on any failure.
    Check {
        /// Rule files or configs (their `[[rule]]`s) to check instead of the built-in rules.
        files: Vec<PathBuf>,
        /// Also fail on warnings (missing references, negative examples, ...).
        #[arg(long)]
        strict: bool,
    },
}

/// The arguments of `keywarden rules list`.
#[derive(Args, Debug)]
pub struct RulesArgs {
    /// Config or extra rule file (default: the nearest .keywarden.toml at or above the current
    /// directory).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// List the built-in rules alone, ignoring any .keywarden.toml.
    #[arg(long)]
    pub no_config: bool,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The arguments of `keywarden fingerprint`.
#[derive(Args, Debug)]
pub struct FingerprintArgs {
    /// Keep a trailing newline as part of the value.
    #[arg(long)]
    pub keep_newline: bool,
}

/// Parses this process's command line, runs it and returns the exit code: the subcommand's own, 0
/// when the reader closed the output early, or 2 on an error (printed to stderr).
pub fn main() -> i32 {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`keywarden scan | head`) is the reader's choice, not an error.
            let broken_pipe = e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return 0;
            }
            eprintln!("keywarden: error: {e:#}");
            2
        }
    }
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Scan(a) => crate::cli::scan::run(&a),
        Command::Audit(a) => crate::audit::run(&a),
        Command::Rules { command } => rules_cmd(command),
        Command::Baseline { command } => baseline_cmd(command),
        Command::Repos { command } => crate::cli::org::repos_cmd(command),
        Command::Report { command } => crate::cli::org::report_cmd(command),
        Command::InstallHook { repo, force } => {
            let path = crate::cli::install_hook::install(&repo, force)?;
            println!("installed pre-commit hook at {}", path.display());
            Ok(0)
        }
        Command::Init { path, force } => {
            if path.exists() && !force {
                anyhow::bail!("{} exists (use --force to overwrite)", path.display());
            }
            std::fs::write(&path, crate::config::STARTER)
                .with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
            Ok(0)
        }
        Command::Completions(a) => {
            let mut out = std::io::stdout().lock();
            crate::cli::completions::run(&a, &mut out)
        }
        Command::Man => {
            let mut out = std::io::stdout().lock();
            crate::cli::man::run(&mut out)
        }
        Command::Fingerprint(a) => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("reading stdin")?;
            if !a.keep_newline {
                if buf.ends_with(b"\n") {
                    buf.pop();
                }
                if buf.ends_with(b"\r") {
                    buf.pop();
                }
            }
            let value = crate::pipeline::fingerprint::normalize::value(&buf);
            println!("{}", crate::pipeline::fingerprint::fingerprint(&value));
            Ok(0)
        }
    }
}

fn rules_cmd(cmd: RulesCommand) -> Result<i32> {
    match cmd {
        RulesCommand::List(a) => {
            let config = match (&a.config, a.no_config) {
                (Some(p), _) => Some(p.clone()),
                (None, false) => crate::config::Config::discover(std::path::Path::new(".")),
                (None, true) => None,
            };
            let rules = load_rules(config.as_deref())?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            if a.json {
                serde_json::to_writer_pretty(&mut out, &rules)?;
                writeln!(out)?;
            } else {
                for r in &rules {
                    writeln!(
                        out,
                        "{:<45} {:<9} {:<7} {}",
                        r.id, r.severity, r.confidence, r.name
                    )?;
                }
                writeln!(out, "{} rules", rules.len())?;
            }
            out.flush()?;
            Ok(0)
        }
        RulesCommand::Check { files, strict } => {
            let rules: Vec<Rule> = if files.is_empty() {
                rules::builtin()?
            } else {
                let mut all = Vec::new();
                for f in &files {
                    all.extend(load_rule_or_config_file(f)?);
                }
                all
            };
            let report = crate::rules::check::check(&rules);
            for w in &report.warnings {
                eprintln!("warning: {w}");
            }
            for e in &report.errors {
                eprintln!("error: {e}");
            }
            let failed = !report.ok() || (strict && !report.warnings.is_empty());
            println!(
                "{} rules checked: {} errors, {} warnings",
                report.rules,
                report.errors.len(),
                report.warnings.len()
            );
            Ok(if failed { 1 } else { 0 })
        }
    }
}

fn baseline_cmd(cmd: BaselineCommand) -> Result<i32> {
    match cmd {
        BaselineCommand::Prune(args) => {
            let Some(path) = args.baseline.clone() else {
                anyhow::bail!("baseline prune needs --baseline FILE");
            };
            // Prune shares scan's options to scan the same way; the ones about reporting
            // would be silently ignored, so they are refused.
            let ignored = [
                (args.output.is_some(), "--output"),
                (args.write_baseline.is_some(), "--write-baseline"),
                (args.exit_code.is_some(), "--exit-code"),
                (args.show_secrets, "--show-secrets"),
                (args.format != crate::report::Format::Text, "--format"),
            ];
            if let Some((_, flag)) = ignored.iter().find(|(set, _)| *set) {
                anyhow::bail!(
                    "baseline prune writes only the baseline; {flag} has no effect here (pass the scan options that choose what is scanned)"
                );
            }
            let before = crate::pipeline::suppress::baseline::Baseline::load(&path)?
                .entries
                .len();
            let outcome = crate::cli::scan::collect(&args)?;
            let kept = outcome.baseline_kept.unwrap_or_default();
            kept.save(&path)?;
            println!(
                "baseline {}: kept {}, dropped {}",
                path.display(),
                kept.entries.len(),
                before - kept.entries.len()
            );
            Ok(0)
        }
        BaselineCommand::Import {
            from,
            file,
            output,
            path,
            force,
        } => import_cmd(from, &file, &output, path, force),
    }
}

fn import_cmd(
    from: Option<crate::pipeline::suppress::import::Source>,
    file: &std::path::Path,
    output: &std::path::Path,
    path: PathBuf,
    force: bool,
) -> Result<i32> {
    use crate::pipeline::suppress::{baseline::Baseline, import};
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    // Everything that can refuse the import does so before the scan and before anything is
    // written: a wrong or unknown input once replaced a baseline with an empty one.
    let parsed = import::parse(from, &text).with_context(|| file.display().to_string())?;
    if parsed.wanted.is_empty() {
        println!(
            "{} ({}) has no entries: nothing imported, {} left as it is",
            file.display(),
            parsed.format.describe(),
            output.display()
        );
        return Ok(0);
    }
    let existed = output.exists();
    let existing = if force || !existed {
        None
    } else {
        Some(Baseline::load(output).context(
            "the output exists and is not a keywarden baseline (use --force to replace it)",
        )?)
    };
    let root = {
        use crate::source::paths::{absolute, base_for, relative_to};
        let (base, tree) = (base_for(&path), absolute(&path));
        if base == tree {
            String::new()
        } else {
            relative_to(&base, &tree)
        }
    };
    let (outcome, _) = crate::scan::collect(&crate::scan::ScanConfig::for_import(path)?)?;
    // Values were only held for matching; the baseline keeps fingerprints.
    let imported = import::map(&parsed, &outcome.findings, &root);
    drop(outcome);
    let found = imported.baseline.entries.len();
    let (baseline, added, kept) = match existing {
        Some(mut b) => {
            let kept = b.entries.len();
            let added = b.merge(imported.baseline);
            (b, added, kept)
        }
        None => (imported.baseline, found, 0),
    };
    baseline.save(output)?;
    println!(
        "{} ({}): {} of {} entries mapped onto {} findings",
        file.display(),
        parsed.format.describe(),
        imported.mapped,
        parsed.wanted.len(),
        found
    );
    println!(
        "{} {}: {} added, {} already present{}, {} entries in all",
        if force && existed {
            "replaced"
        } else {
            "wrote"
        },
        output.display(),
        added,
        found - added,
        if kept > 0 {
            format!(", {kept} existing kept")
        } else {
            String::new()
        },
        baseline.entries.len()
    );
    if !imported.unmapped.is_empty() {
        println!(
            "{} entries could not be mapped (keywarden does not detect the value there, or it \
             is only in history):",
            imported.unmapped.len()
        );
        for u in imported.unmapped.iter().take(50) {
            println!("  not mapped: {u}");
        }
        if imported.unmapped.len() > 50 {
            println!("  ... and {} more", imported.unmapped.len() - 50);
        }
    }
    if imported.mapped == 0 {
        // Still exit 0: the merge kept the baseline as it was, and a tree where every accepted
        // secret has since been removed is a legitimate reason for nothing to map.
        eprintln!(
            "keywarden: warning: none of the {} entries in {} mapped onto a finding; check that \
             --path is the tree the other tool scanned",
            parsed.wanted.len(),
            file.display()
        );
    }
    Ok(0)
}

/// The rules in force: built-in rules with a config's rules, disabled rules and overrides
/// applied, or merged with a plain rule file's rules.
pub fn load_rules(config: Option<&std::path::Path>) -> Result<Vec<Rule>> {
    let base = rules::builtin()?;
    match config {
        Some(p) if is_config_file(p)? => crate::config::Config::load(p)?.apply_rules(base),
        Some(p) => Ok(rules::merge(base, rules::load_file(p)?)),
        None => Ok(rules::merge(base, Vec::new())),
    }
}

fn is_config_file(p: &std::path::Path) -> Result<bool> {
    let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    Ok(crate::config::Config::looks_like_config(&text))
}

/// The `[[rule]]`s of a rule file or of a config (whose other tables are not rules), read once.
fn load_rule_or_config_file(p: &std::path::Path) -> Result<Vec<Rule>> {
    let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    let name = p.display().to_string();
    if crate::config::Config::looks_like_config(&text) {
        let cfg: crate::config::Config =
            toml::from_str(&text).with_context(|| format!("config {name}"))?;
        Ok(cfg.rules)
    } else {
        rules::parse_rule_file(&name, &text)
    }
}
