//! Organisation scale: `scan --repos LIST` (many repositories' histories in one run, a shard
//! of them, incrementally with `--state`), `repos plan` (balanced shard lists) and `report
//! merge` (shard outputs into one report). keywarden never clones: the job around it does.

use crate::cli::scan::{self, EXIT_INCOMPLETE, ScanArgs};
use crate::pipeline::finding::{Finding, LeakHistory, RepoRef};
use crate::report::org::{EndRecord, OrgFormat, OrgReport, RepoRecord};
use crate::report::{Format, Summary};
use crate::source::repos::{self, RepoEntry};
use crate::source::state::{self, RepoState, State};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// The scan formats an organisation report has.
fn org_format(f: Format) -> Result<OrgFormat> {
    Ok(match f {
        Format::Text => OrgFormat::Text,
        Format::Json => OrgFormat::Json,
        Format::Jsonl => OrgFormat::Jsonl,
        Format::Sarif => OrgFormat::Sarif,
        other => bail!(
            "--repos writes text, json, jsonl or sarif; for {other:?}, merge the JSONL with `keywarden report merge`"
        ),
    })
}

/// `scan --repos LIST`: each repository's full history in turn (each on all cores), with its
/// own config and ignore file. A repository that cannot be read is a counted error and the run
/// goes on; the run is then incomplete (exit 3 unless `--allow-incomplete`). With JSONL, each
/// repository's findings are written as soon as it is done, so memory does not grow with the
/// number of repositories.
pub fn run(args: &ScanArgs) -> Result<i32> {
    let started = Instant::now();
    let list = args.repos.clone().context("--repos LIST")?;
    let mut entries = repos::read_list(&list)?;
    let listed = entries.len();
    if let Some(s) = args.shard {
        entries = repos::shard(entries, s);
    }
    let format = org_format(args.format)?;
    let mut state = match &args.state {
        Some(p) => Some(State::load(p)?),
        None => None,
    };
    let mut sink: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let streaming = format == OrgFormat::Jsonl;
    let mut report = OrgReport::default();
    let (mut repo_count, mut finding_count, mut incomplete) = (0u64, 0u64, 0u64);
    let scan_time = jiff::Timestamp::now().to_string();
    for entry in &entries {
        let prior = state
            .as_ref()
            .and_then(|s| s.repos.get(&entry.name))
            .cloned();
        let (mut findings, record, tips) = scan_one(args, entry, prior.as_ref());
        for f in &mut findings {
            f.repository = Some(Box::new(RepoRef {
                name: entry.name.clone(),
                url: record.url.clone(),
            }));
        }
        if let (Some(s), Some(tips)) = (state.as_mut(), tips) {
            s.repos.insert(
                entry.name.clone(),
                RepoState {
                    tips,
                    findings: (findings.iter())
                        .map(|f| state::kept(f.clone(), args.show_secrets))
                        .collect(),
                    scanned_at: scan_time.clone(),
                },
            );
        }
        repo_count += 1;
        finding_count += findings.len() as u64;
        if !record.complete {
            incomplete += 1;
        }
        if streaming {
            let mut part = OrgReport {
                findings,
                ..Default::default()
            };
            part.sort();
            for f in &part.findings {
                serde_json::to_writer(&mut sink, f)?;
                writeln!(sink)?;
            }
            serde_json::to_writer(&mut sink, &record)?;
            writeln!(sink)?;
        } else {
            report.findings.extend(findings);
            report.repos.push(record);
        }
    }
    let shard = args.shard.map(|(i, n)| format!("{i}/{n}"));
    if streaming {
        serde_json::to_writer(
            &mut sink,
            &EndRecord::new(repo_count, finding_count, shard.clone()),
        )?;
        writeln!(sink)?;
    } else {
        report.sort();
        report.write(format, &mut sink)?;
    }
    sink.flush()?;
    if let (Some(s), Some(p)) = (&state, &args.state) {
        s.save(p)?;
    }
    eprintln!(
        "keywarden: {} of {listed} listed{}: {}, {} not read in full, in {:.1}s",
        Summary::count(repo_count, "repository", "repositories"),
        shard.map(|s| format!(" (shard {s})")).unwrap_or_default(),
        Summary::count(finding_count, "finding", "findings"),
        incomplete,
        started.elapsed().as_secs_f64()
    );
    Ok(if incomplete > 0 && !args.allow_incomplete {
        EXIT_INCOMPLETE
    } else if finding_count > 0 {
        args.exit_code.unwrap_or(1)
    } else {
        0
    })
}

/// One repository: its findings (with what the state kept), its record, and the tips to
/// remember (None when it could not be read: the state keeps what it had).
fn scan_one(
    args: &ScanArgs,
    entry: &RepoEntry,
    prior: Option<&RepoState>,
) -> (Vec<Finding>, RepoRecord, Option<BTreeMap<String, String>>) {
    let started = Instant::now();
    let mut sub = args.clone();
    sub.repos = None;
    sub.shard = None;
    sub.state = None;
    sub.output = None;
    sub.paths = vec![entry.path.clone()];
    sub.git = true;
    sub.no_progress = true;
    sub.exclude = prior
        .map(|p| p.tips.values().cloned().collect())
        .unwrap_or_default();
    let mut record = RepoRecord {
        record: "repository".into(),
        repository: entry.name.clone(),
        url: None,
        complete: false,
        findings: 0,
        commits: 0,
        blobs: 0,
        bytes: 0,
        incremental: !sub.exclude.is_empty(),
        errors: Vec::new(),
        elapsed_ms: 0,
    };
    // A list line names a repository itself: a plain directory inside some other
    // repository must not be read as that one.
    let is_repo = entry.path.join(".git").exists()
        || (entry.path.join("objects").is_dir() && entry.path.join("HEAD").is_file());
    let mut outcome = if is_repo {
        scan::collect(&sub)
    } else if entry.path.exists() {
        Err(anyhow::anyhow!(
            "{}: not a git repository (no .git, not a bare repository)",
            entry.path.display()
        ))
    } else {
        Err(anyhow::anyhow!(
            "{}: no such directory",
            entry.path.display()
        ))
    };
    // A tip of the last run that is neither a tip now nor under one was rewritten or
    // deleted: read the whole history again so that what it hid is read too.
    let mut rescanned = false;
    if let (Ok(o), Some(p)) = (&outcome, prior)
        && !sub.exclude.is_empty()
    {
        let now: HashSet<&str> = o.git_tips.iter().map(|(_, id)| id.as_str()).collect();
        let lost = (p.tips.values())
            .any(|id| !now.contains(id.as_str()) && !o.exclude_reached.contains(id));
        if lost {
            sub.exclude.clear();
            record.incremental = false;
            rescanned = true;
            outcome = scan::collect(&sub);
        }
    }
    let kept: Vec<Finding> = prior.map(|p| p.findings.clone()).unwrap_or_default();
    let (findings, tips) = match outcome {
        Err(e) => {
            record.errors.push(format!("{e:#}"));
            // Not read: what earlier runs found there still stands.
            (kept, None)
        }
        Ok(o) => {
            record.complete = o.summary.complete;
            record.errors = o.summary.error_messages.clone();
            record.commits = o.summary.extra.get("commits").copied().unwrap_or(0);
            record.blobs = o.summary.extra.get("blobs").copied().unwrap_or(0);
            record.bytes = o.summary.bytes_scanned;
            record.url = o
                .vcs
                .as_ref()
                .map(|v| v.repository_uri.clone())
                .filter(|u| !std::path::Path::new(u).is_absolute());
            let tips = o.git_tips.iter().cloned().collect();
            (combine(kept, o.findings, rescanned), Some(tips))
        }
    };
    record.findings = findings.len() as u64;
    record.elapsed_ms = started.elapsed().as_millis() as u64;
    (findings, record, tips)
}

/// Earlier findings and this run's. An incremental run adds the leaks it found at new
/// (fingerprint, path) pairs and keeps the earlier ones as they were. After a full rescan the
/// rescan is the truth, and an earlier leak it no longer sees is kept, marked unreachable: its
/// commits left every ref, but the secret still leaked.
fn combine(kept: Vec<Finding>, found: Vec<Finding>, rescanned: bool) -> Vec<Finding> {
    let key = |f: &Finding| (f.fingerprint.clone(), f.path.clone());
    if rescanned {
        let seen: HashSet<(String, String)> = found.iter().map(key).collect();
        let mut out = found;
        for mut f in kept {
            if seen.contains(&key(&f)) {
                continue;
            }
            let h = f.history.get_or_insert_with(|| {
                Box::new(LeakHistory {
                    present: false,
                    removed_in: None,
                    last_seen: None,
                    occurrences: 0,
                    refs: 0,
                    ref_names: Vec::new(),
                    unreachable: true,
                })
            });
            h.present = false;
            h.refs = 0;
            h.ref_names.clear();
            h.unreachable = true;
            out.push(f);
        }
        out
    } else {
        let seen: HashSet<(String, String)> = kept.iter().map(key).collect();
        let mut out = kept;
        out.extend(found.into_iter().filter(|f| !seen.contains(&key(f))));
        out
    }
}

/// The `keywarden repos` subcommands.
#[derive(Subcommand, Debug)]
pub enum ReposCommand {
    /// Cut a repository list into N shard lists of about equal object-database size.
    Plan(PlanArgs),
}

/// The arguments of `keywarden repos plan`.
#[derive(Args, Debug)]
pub struct PlanArgs {
    /// A file of repository paths or a directory of clones (as for `scan --repos`).
    pub list: PathBuf,
    /// How many shards.
    #[arg(long)]
    pub shards: usize,
    /// Directory to write `shard-I.txt` into (created if missing).
    #[arg(long, short = 'o', default_value = "shards")]
    pub out: PathBuf,
}

pub(crate) fn repos_cmd(cmd: ReposCommand) -> Result<i32> {
    match cmd {
        ReposCommand::Plan(a) => plan(&a),
    }
}

fn plan(a: &PlanArgs) -> Result<i32> {
    let entries = repos::read_list(&a.list)?;
    let weights: Vec<u64> = entries.iter().map(|e| repos::weight(&e.path)).collect();
    let shards = repos::plan(&entries, &weights, a.shards)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let base = repos::list_base(&a.list);
    for (i, members) in shards.iter().enumerate() {
        let path = a.out.join(format!("shard-{}.txt", i + 1));
        let load: u64 = members.iter().map(|&k| weights[k]).sum();
        let mut text = format!(
            "# keywarden shard {} of {}: {} repositories, {} of objects\n{} {}\n",
            i + 1,
            shards.len(),
            members.len(),
            human(load),
            repos::BASE_DIRECTIVE,
            base.display()
        );
        for &k in members {
            text.push_str(&entries[k].name);
            text.push('\n');
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "{}: {} repositories, {}",
            path.display(),
            members.len(),
            human(load)
        );
    }
    Ok(0)
}

fn human(b: u64) -> String {
    match b {
        0..1024 => format!("{b} B"),
        1024..1_048_576 => format!("{:.1} KiB", b as f64 / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.1} MiB", b as f64 / 1_048_576.0),
        _ => format!("{:.2} GiB", b as f64 / 1_073_741_824.0),
    }
}

/// The `keywarden report` subcommands.
#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Merge shard outputs (`scan --repos ... --format jsonl`) into one report.
    Merge(MergeArgs),
}

/// The arguments of `keywarden report merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Shard outputs, in any order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    format: OrgFormat,
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// Exit 0 even if a repository was not read in full.
    #[arg(long)]
    pub allow_incomplete: bool,
    /// A previous merged report (`--format jsonl`): mark findings new, still open or gone.
    #[arg(long, value_name = "OLD.jsonl")]
    pub previous: Option<PathBuf>,
}

pub(crate) fn report_cmd(cmd: ReportCommand) -> Result<i32> {
    match cmd {
        ReportCommand::Merge(a) => merge(&a),
    }
}

fn merge(a: &MergeArgs) -> Result<i32> {
    let mut report = OrgReport::read_shards(&a.files)?;
    if let Some(old) = &a.previous {
        report.compare(OrgReport::read_shards(std::slice::from_ref(old))?);
    }
    let mut sink: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    report.write(a.format, &mut sink)?;
    sink.flush()?;
    Ok(if !report.complete() && !a.allow_incomplete {
        EXIT_INCOMPLETE
    } else if report.findings.is_empty() {
        0
    } else {
        1
    })
}
