//! Organisation reports: many repositories' findings, from one `scan --repos` run or merged
//! from shard outputs (`report merge`). The JSONL form is what shards write and merge reads:
//! finding lines (each with its `repository`), one `"record": "repository"` line per
//! repository, and a closing `"record": "end"` line whose counts prove the file complete.
//! Findings are grouped by fingerprint across repositories: the same secret leaked in several
//! places is one thing to rotate.

use crate::pipeline::finding::Finding;
use crate::rules::Severity;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;

const SCHEMA: &str = "keywarden/org/v1";

/// One repository's outcome.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RepoRecord {
    /// Always `"repository"`.
    pub record: String,
    /// The repository's name in the list.
    pub repository: String,
    /// Its remote's URL; `None` when it has none, or only a local path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// False when the repository could not be read in full (or at all).
    pub complete: bool,
    /// Findings reported for it, those kept from earlier runs (`--state`) included.
    pub findings: u64,
    /// Commits read in this run (0 when it could not be read).
    pub commits: u64,
    /// Blobs scanned in this run.
    pub blobs: u64,
    /// Bytes of the blobs scanned in this run.
    pub bytes: u64,
    /// Only commits newer than the state's tips were read (`--state`).
    #[serde(default)]
    pub incremental: bool,
    /// Why it was not read in full, one message per error.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Wall-clock time its scan took, in milliseconds.
    pub elapsed_ms: u64,
}

/// The closing line of a JSONL org report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EndRecord {
    /// Always `"end"`.
    pub record: String,
    /// The org report format's version, `keywarden/org/v1`.
    pub schema: String,
    /// How many repository records the file holds; a reader checks it against the lines it read.
    pub repositories: u64,
    /// How many finding lines the file holds; checked the same way.
    pub findings: u64,
    /// The shard this file is (`I/N`, from `--shard`); `None` for an unsharded run or a merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
}

impl EndRecord {
    pub(crate) fn new(repositories: u64, findings: u64, shard: Option<String>) -> EndRecord {
        EndRecord {
            record: "end".into(),
            schema: SCHEMA.into(),
            repositories,
            findings,
            shard,
        }
    }
}

/// Everything an org report is made of.
#[derive(Debug, Default)]
pub struct OrgReport {
    /// Every finding, each naming its repository.
    pub findings: Vec<Finding>,
    /// One record per repository scanned.
    pub repos: Vec<RepoRecord>,
    /// Against a previous report (`report merge --previous`).
    pub changes: Option<Changes>,
}

/// What changed since a previous report, by (repository, fingerprint, path).
#[derive(Debug, Default)]
pub struct Changes {
    /// Keys of this report's findings that the previous one did not have.
    pub new: std::collections::BTreeSet<(String, String, String)>,
    /// How many of this report's findings the previous one had too.
    pub still_open: usize,
    /// The previous report's findings this one no longer has.
    pub gone: Vec<Finding>,
}

/// A finding's identity across reports: repository, value, path (the value in its canonical
/// spelling, so a report from before `kw2:` still compares).
fn identity(f: &Finding) -> (String, String, String) {
    (
        f.repository
            .as_ref()
            .map(|r| r.name.clone())
            .unwrap_or_default(),
        crate::pipeline::fingerprint::canonical(&f.fingerprint).into_owned(),
        f.path.clone(),
    )
}

/// An organisation report's output format (`report merge --format`, `scan --repos --format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
// Plain comments on the variants below: clap shows a variant's doc comment as that value's
// help in `--help`, the man page and completions.
#[allow(missing_docs)]
pub enum OrgFormat {
    // Text for people: secrets grouped by fingerprint across repositories.
    Text,
    // The same, as Markdown (a CI job summary, an issue).
    Markdown,
    // One JSON document.
    Json,
    // Finding lines, repository records and an end record: what shards write and merge reads.
    Jsonl,
    // SARIF 2.1.0.
    Sarif,
    /// One self-contained page: sortable tables, no external assets.
    Html,
}

impl OrgReport {
    /// The order every output uses: repositories by name; findings by repository, path,
    /// position, rule and fingerprint. Merging shards in any order gives the same report.
    pub fn sort(&mut self) {
        self.repos.sort_by(|a, b| a.repository.cmp(&b.repository));
        self.findings.sort_by(|a, b| {
            let key = |f: &Finding| {
                (
                    f.repository.as_ref().map(|r| r.name.clone()),
                    f.path.clone(),
                    f.line,
                    f.column,
                    f.rule_id.clone(),
                    f.fingerprint.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
    }

    /// Marks what is new, still open and gone against `previous`.
    pub fn compare(&mut self, previous: OrgReport) {
        let before: std::collections::HashSet<_> = previous.findings.iter().map(identity).collect();
        let now: std::collections::HashSet<_> = self.findings.iter().map(identity).collect();
        let mut c = Changes::default();
        for f in &self.findings {
            let k = identity(f);
            if before.contains(&k) {
                c.still_open += 1;
            } else {
                c.new.insert(k);
            }
        }
        c.gone = (previous.findings.into_iter())
            .filter(|f| !now.contains(&identity(f)))
            .collect();
        self.changes = Some(c);
    }

    pub(crate) fn complete(&self) -> bool {
        self.repos.iter().all(|r| r.complete)
    }

    /// Reads shard outputs (JSONL). Every line must parse, every file must end with its end
    /// record and hold the counts it declares, and no repository may appear twice.
    pub fn read_shards(files: &[impl AsRef<Path>]) -> Result<OrgReport> {
        let mut out = OrgReport::default();
        let mut from: BTreeMap<String, String> = BTreeMap::new();
        for file in files {
            let file = file.as_ref();
            let shown = file.display().to_string();
            let reader = std::io::BufReader::new(
                std::fs::File::open(file).with_context(|| format!("opening {shown}"))?,
            );
            let (mut findings, mut repos, mut end) = (Vec::new(), Vec::new(), None);
            for (i, line) in reader.lines().enumerate() {
                let line = line.with_context(|| format!("{shown}:{}: unreadable", i + 1))?;
                if line.trim().is_empty() {
                    continue;
                }
                if end.is_some() {
                    bail!("{shown}:{}: a line after the end record", i + 1);
                }
                let v: Value = serde_json::from_str(&line).with_context(|| {
                    format!(
                        "{shown}:{}: not JSON (a truncated or damaged shard output?)",
                        i + 1
                    )
                })?;
                let what = |e: serde_json::Error| anyhow::anyhow!("{shown}:{}: {e}", i + 1);
                match v.get("record").and_then(Value::as_str) {
                    Some("repository") => {
                        repos.push(serde_json::from_value::<RepoRecord>(v).map_err(what)?)
                    }
                    Some("end") => {
                        end = Some(serde_json::from_value::<EndRecord>(v).map_err(what)?)
                    }
                    Some(other) => bail!("{shown}:{}: unknown record {other:?}", i + 1),
                    None => findings.push(serde_json::from_value::<Finding>(v).map_err(what)?),
                }
            }
            let Some(end) = end else {
                bail!(
                    "{shown}: no end record: the shard output is truncated or still being written"
                );
            };
            if end.schema != SCHEMA {
                bail!("{shown}: schema {:?}, expected {SCHEMA:?}", end.schema);
            }
            if end.repositories != repos.len() as u64 || end.findings != findings.len() as u64 {
                bail!(
                    "{shown}: the end record counts {} repositories and {} findings, the file holds {} and {}",
                    end.repositories,
                    end.findings,
                    repos.len(),
                    findings.len()
                );
            }
            for r in &repos {
                if let Some(other) = from.insert(r.repository.clone(), shown.clone()) {
                    bail!(
                        "repository {} is in both {other} and {shown}: were the shards cut from one list?",
                        r.repository
                    );
                }
            }
            out.findings.extend(findings);
            out.repos.extend(repos);
        }
        out.sort();
        Ok(out)
    }

    pub(crate) fn write(&self, format: OrgFormat, out: &mut dyn Write) -> Result<()> {
        match format {
            OrgFormat::Jsonl => self.write_jsonl(out),
            OrgFormat::Json => self.write_json(out),
            OrgFormat::Text => self.write_text(out, false),
            OrgFormat::Markdown => self.write_text(out, true),
            OrgFormat::Sarif => self.write_sarif(out),
            OrgFormat::Html => Ok(out.write_all(self.html().as_bytes())?),
        }
    }

    fn write_jsonl(&self, out: &mut dyn Write) -> Result<()> {
        for f in &self.findings {
            serde_json::to_writer(&mut *out, f)?;
            writeln!(out)?;
        }
        for r in &self.repos {
            serde_json::to_writer(&mut *out, r)?;
            writeln!(out)?;
        }
        let end = EndRecord::new(self.repos.len() as u64, self.findings.len() as u64, None);
        serde_json::to_writer(&mut *out, &end)?;
        writeln!(out)?;
        Ok(())
    }

    fn write_json(&self, out: &mut dyn Write) -> Result<()> {
        let groups: Vec<Value> = self
            .groups()
            .iter()
            .map(|g| {
                serde_json::json!({
                    "fingerprint": g.fingerprint,
                    "rule_id": g.first().rule_id,
                    "rule_name": g.first().rule_name,
                    "severity": g.severity(),
                    "repositories": g.repositories(),
                    "locations": g.members.len(),
                    "present": g.present(),
                    "first_leaked": g.first().commit.as_ref().map(|c| &c.author_date),
                })
            })
            .collect();
        let mut doc = serde_json::json!({
            "schema": SCHEMA,
            "tool": {"name": "keywarden", "version": env!("CARGO_PKG_VERSION")},
            "complete": self.complete(),
            "repositories": self.repos,
            "findings": self.findings,
            "groups": groups,
        });
        if let Some(c) = &self.changes {
            let new: Vec<Value> = (c.new.iter())
                .map(
                    |(r, fp, p)| serde_json::json!({"repository": r, "fingerprint": fp, "path": p}),
                )
                .collect();
            doc["changes"] = serde_json::json!({
                "new": new,
                "still_open": c.still_open,
                "gone": c.gone,
            });
        }
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)?;
        Ok(())
    }

    /// One SARIF run per repository, each with its repository's URL as its
    /// `versionControlProvenance`.
    fn write_sarif(&self, out: &mut dyn Write) -> Result<()> {
        let rules = crate::rules::builtin()?;
        let mut runs = Vec::new();
        for r in &self.repos {
            let findings: Vec<Finding> = (self.findings.iter())
                .filter(|f| {
                    f.repository
                        .as_ref()
                        .is_some_and(|x| x.name == r.repository)
                })
                .cloned()
                .collect();
            let fired: std::collections::HashSet<&str> =
                findings.iter().map(|f| f.rule_id.as_str()).collect();
            let used: Vec<crate::rules::Rule> = (rules.iter())
                .filter(|x| fired.contains(x.id.as_str()))
                .cloned()
                .collect();
            let summary = super::Summary {
                findings: findings.len() as u64,
                complete: r.complete,
                errors: r.errors.len() as u64,
                error_messages: r.errors.clone(),
                ..Default::default()
            };
            let report = super::ScanReport {
                findings: &findings,
                suppressed: &[],
                summary: &summary,
                rules: &used,
                scan_time: String::new(),
                vcs: Some(super::VcsInfo {
                    repository_uri: r.url.clone().unwrap_or_else(|| r.repository.clone()),
                    revision_id: None,
                    branch: None,
                }),
                color: false,
                baseline_used: false,
            };
            let log = serde_json::to_value(super::sarif::build(&report))?;
            if let Some(Value::Array(rs)) = log.get("runs") {
                runs.extend(rs.iter().cloned());
            }
        }
        let doc = serde_json::json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": runs,
        });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)?;
        Ok(())
    }

    fn write_text(&self, out: &mut dyn Write, markdown: bool) -> Result<()> {
        let groups = self.groups();
        let failed: Vec<&RepoRecord> = self.repos.iter().filter(|r| !r.complete).collect();
        let (h1, h2) = if markdown { ("# ", "## ") } else { ("", "") };
        writeln!(out, "{h1}keywarden organisation report")?;
        writeln!(out)?;
        writeln!(
            out,
            "{} in {} ({}); {} not read in full.",
            super::Summary::count(self.findings.len() as u64, "finding", "findings"),
            super::Summary::count(self.repos.len() as u64, "repository", "repositories"),
            super::Summary::count(groups.len() as u64, "distinct secret", "distinct secrets"),
            super::Summary::count(failed.len() as u64, "repository", "repositories"),
        )?;
        if !failed.is_empty() {
            writeln!(
                out,
                "INCOMPLETE: a repository that could not be read is not clean."
            )?;
        }
        writeln!(out)?;
        if let Some(c) = &self.changes {
            writeln!(out, "{h2}Since the previous report")?;
            writeln!(out)?;
            writeln!(
                out,
                "{} new, {} still open, {} gone.",
                c.new.len(),
                c.still_open,
                c.gone.len()
            )?;
            for f in self
                .findings
                .iter()
                .filter(|f| c.new.contains(&identity(f)))
            {
                writeln!(out, "- new: {}", place(f))?;
            }
            for f in &c.gone {
                writeln!(out, "- gone: {}", place(f))?;
            }
            writeln!(out)?;
        }
        if !groups.is_empty() {
            writeln!(out, "{h2}Rotate first")?;
            writeln!(out)?;
            for (i, g) in groups.iter().enumerate() {
                let f = g.first();
                let first = match &f.commit {
                    Some(c) => format!(
                        "; first leaked in {} ({}) on {}",
                        f.repository.as_ref().map_or("", |r| r.name.as_str()),
                        &c.id[..c.id.len().min(12)],
                        c.author_date.get(..10).unwrap_or("")
                    ),
                    None => String::new(),
                };
                let where_ = if g.present() {
                    "still in a HEAD"
                } else {
                    "in history only"
                };
                writeln!(
                    out,
                    "{}. {} {} `{}`: in {}{first}; {where_}",
                    i + 1,
                    g.severity(),
                    f.rule_name,
                    g.fingerprint,
                    super::Summary::count(g.repositories() as u64, "repository", "repositories"),
                )?;
                for m in &g.members {
                    let repo = m.repository.as_ref().map_or("", |r| r.name.as_str());
                    let state = match &m.history {
                        Some(h) => super::leak_advice(h),
                        None => String::new(),
                    };
                    writeln!(out, "   - {repo}: {}:{} {state}", m.path, m.line)?;
                }
            }
            writeln!(out)?;
        }
        writeln!(out, "{h2}Repositories")?;
        writeln!(out)?;
        if markdown {
            writeln!(
                out,
                "| repository | findings | commits | read in full | errors |"
            )?;
            writeln!(out, "|---|---:|---:|---|---|")?;
        }
        for r in &self.repos {
            let errors = r.errors.join("; ").replace('|', "\\|");
            let full = if r.complete { "yes" } else { "NO" };
            if markdown {
                writeln!(
                    out,
                    "| {} | {} | {} | {full} | {errors} |",
                    r.repository, r.findings, r.commits
                )?;
            } else {
                writeln!(
                    out,
                    "{}: {} findings, {} commits{}{}",
                    r.repository,
                    r.findings,
                    r.commits,
                    if r.complete { "" } else { ", NOT READ IN FULL" },
                    if errors.is_empty() {
                        String::new()
                    } else {
                        format!(" ({errors})")
                    }
                )?;
            }
        }
        Ok(())
    }

    /// The report as one self-contained page.
    pub fn html(&self) -> String {
        use super::html::{Cell, Page};
        let groups = self.groups();
        let mut p = Page::new("keywarden organisation report");
        p.heading(1, "keywarden organisation report");
        let failed = self.repos.iter().filter(|r| !r.complete).count();
        p.paragraph(
            &format!(
                "{} in {} ({}); {} not read in full.",
                super::Summary::count(self.findings.len() as u64, "finding", "findings"),
                super::Summary::count(self.repos.len() as u64, "repository", "repositories"),
                super::Summary::count(groups.len() as u64, "distinct secret", "distinct secrets"),
                super::Summary::count(failed as u64, "repository", "repositories"),
            ),
            None,
        );
        if failed > 0 {
            p.paragraph(
                "INCOMPLETE: a repository that could not be read is not clean.",
                Some("warn"),
            );
        }
        if let Some(c) = &self.changes {
            p.heading(2, "Since the previous report");
            p.paragraph(
                &format!(
                    "{} new, {} still open, {} gone.",
                    c.new.len(),
                    c.still_open,
                    c.gone.len()
                ),
                None,
            );
            let mut rows: Vec<Vec<Cell>> = (self.findings.iter())
                .filter(|f| c.new.contains(&identity(f)))
                .map(|f| change_row("new", f))
                .collect();
            rows.extend(c.gone.iter().map(|f| change_row("gone", f)));
            p.table(
                &["change", "repository", "path", "rule", "fingerprint"],
                &rows,
                "Nothing changed.",
            );
        }
        p.heading(2, "Rotate first");
        let rows: Vec<Vec<Cell>> = (groups.iter().enumerate())
            .map(|(i, g)| {
                let f = g.first();
                let sev = g.severity();
                vec![
                    Cell::num(i as u64 + 1),
                    Cell::severity(sev),
                    Cell::text(&f.rule_name),
                    Cell::text(g.fingerprint).class("mono"),
                    Cell::num(g.repositories() as u64),
                    Cell::num(g.members.len() as u64),
                    Cell::text(if g.present() {
                        "in a HEAD"
                    } else {
                        "history only"
                    }),
                    Cell::text(
                        f.commit
                            .as_ref()
                            .and_then(|c| c.author_date.get(..10))
                            .unwrap_or(""),
                    ),
                    Cell::text(f.repository.as_ref().map_or("", |r| r.name.as_str())),
                ]
            })
            .collect();
        p.table(
            &[
                "#",
                "severity",
                "rule",
                "fingerprint",
                "repositories",
                "locations",
                "where",
                "first leaked",
                "first in",
            ],
            &rows,
            "No findings.",
        );
        p.heading(2, "Locations");
        let rows: Vec<Vec<Cell>> = (self.findings.iter())
            .map(|f| {
                vec![
                    Cell::text(f.repository.as_ref().map_or("", |r| r.name.as_str())),
                    Cell::text(format!("{}:{}", f.path, f.line)),
                    Cell::text(&f.rule_name),
                    Cell::severity(f.severity),
                    Cell::text(&f.fingerprint).class("mono"),
                    Cell::text(
                        f.history
                            .as_ref()
                            .map(|h| super::leak_advice(h))
                            .unwrap_or_default(),
                    ),
                ]
            })
            .collect();
        p.table(
            &[
                "repository",
                "where",
                "rule",
                "severity",
                "fingerprint",
                "what to do",
            ],
            &rows,
            "No findings.",
        );
        p.heading(2, "Repositories");
        let rows: Vec<Vec<Cell>> = (self.repos.iter())
            .map(|r| {
                vec![
                    Cell::text(&r.repository),
                    Cell::num(r.findings),
                    Cell::num(r.commits),
                    if r.complete {
                        Cell::text("yes")
                    } else {
                        Cell::text("NO").class("bad")
                    },
                    Cell::text(r.errors.join("; ")),
                ]
            })
            .collect();
        p.table(
            &[
                "repository",
                "findings",
                "commits",
                "read in full",
                "errors",
            ],
            &rows,
            "No repositories.",
        );
        p.finish()
    }

    /// Findings grouped by fingerprint, the ones to rotate first first: still present in some
    /// HEAD, in the most repositories, highest severity, most recently leaked.
    pub fn groups(&self) -> Vec<Group<'_>> {
        let mut by: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in &self.findings {
            by.entry(&f.fingerprint).or_default().push(f);
        }
        let mut groups: Vec<Group<'_>> = by
            .into_iter()
            .map(|(fingerprint, mut members)| {
                members.sort_by_key(|f| leaked_at(f));
                Group {
                    fingerprint,
                    members,
                }
            })
            .collect();
        groups.sort_by(|a, b| {
            (b.present(), b.repositories(), b.severity(), b.newest())
                .cmp(&(a.present(), a.repositories(), a.severity(), a.newest()))
                .then(a.fingerprint.cmp(b.fingerprint))
        });
        groups
    }
}

/// Repository, path, line, rule and fingerprint, on one line.
fn place(f: &Finding) -> String {
    format!(
        "{}: {}:{} {} `{}`",
        f.repository.as_ref().map_or("", |r| r.name.as_str()),
        f.path,
        f.line,
        f.rule_name,
        f.fingerprint
    )
}

/// When a finding leaked: its introducing commit's date (none for tree findings).
fn leaked_at(f: &Finding) -> String {
    f.commit
        .as_ref()
        .map(|c| c.committer_date.clone())
        .unwrap_or_default()
}

fn change_row(what: &str, f: &Finding) -> Vec<super::html::Cell> {
    use super::html::Cell;
    vec![
        Cell::text(what).class(if what == "new" { "bad" } else { "muted" }),
        Cell::text(f.repository.as_ref().map_or("", |r| r.name.as_str())),
        Cell::text(format!("{}:{}", f.path, f.line)),
        Cell::text(&f.rule_name),
        Cell::text(&f.fingerprint).class("mono"),
    ]
}

/// One secret across the organisation.
pub struct Group<'a> {
    /// The secret's fingerprint, shared by every member.
    pub fingerprint: &'a str,
    /// Oldest leak first.
    pub members: Vec<&'a Finding>,
}

impl Group<'_> {
    fn first(&self) -> &Finding {
        self.members[0]
    }

    fn repositories(&self) -> usize {
        let mut names: Vec<&str> = (self.members.iter())
            .filter_map(|f| f.repository.as_ref().map(|r| r.name.as_str()))
            .collect();
        names.sort_unstable();
        names.dedup();
        names.len()
    }

    fn present(&self) -> bool {
        (self.members.iter()).any(|f| f.history.as_ref().is_none_or(|h| h.present))
    }

    fn severity(&self) -> Severity {
        (self.members.iter())
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Info)
    }

    fn newest(&self) -> String {
        self.members
            .last()
            .map(|f| leaked_at(f))
            .unwrap_or_default()
    }
}
