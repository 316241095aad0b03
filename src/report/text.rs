//! Text for people: findings grouped by file, then a summary. Colour only on a terminal.

use super::{ScanReport, Summary};
use crate::pipeline::finding::{CommitInfo, LeakHistory};
use crate::rules::Severity;

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn sev(&self, s: Severity) -> String {
        let code = match s {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.wrap(code, &format!("{:<8}", s.as_str()))
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// One line for stderr when the report itself went to a file.
pub fn write_summary_line(s: &super::Summary, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "keywarden: {} in {} ({}) in {:.2}s{}",
        Summary::count(s.findings, "finding", "findings"),
        Summary::count(s.files_scanned, "file", "files"),
        human_bytes(s.bytes_scanned),
        s.elapsed_ms as f64 / 1000.0,
        if s.complete {
            String::new()
        } else {
            format!(
                "; INCOMPLETE: {} could not be read",
                Summary::count(s.errors, "input", "inputs")
            )
        }
    )?;
    Ok(())
}

/// Where a history leak stands, and what that asks of the reader.
fn leak_status(h: &LeakHistory) -> String {
    let short = |c: &CommitInfo| c.id[..c.id.len().min(7)].to_string();
    let day = |c: &CommitInfo| c.committer_date.get(..10).unwrap_or("").to_string();
    let mut s = super::leak_advice(h);
    s.push_str(&format!(
        "\n      {}",
        Summary::count(h.occurrences, "version", "versions")
    ));
    if let Some(l) = &h.last_seen
        && !h.present
    {
        s.push_str(&format!(", last in {} on {}", short(l), day(l)));
    }
    if h.refs > 0 {
        let more = h.refs.saturating_sub(h.ref_names.len() as u64);
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        s.push_str(&format!(
            "; reachable from {}: {}{tail}",
            Summary::count(h.refs, "ref", "refs"),
            h.ref_names.join(", ")
        ));
    }
    s
}

pub(crate) fn write(r: &ScanReport, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    let p = Paint(r.color);
    let mut current: Option<&str> = None;
    for f in r.findings {
        if current != Some(f.path.as_str()) {
            if current.is_some() {
                writeln!(out)?;
            }
            writeln!(out, "{}", p.wrap("1", &f.path))?;
            current = Some(&f.path);
        }
        writeln!(
            out,
            "  {}:{:<4} {} {} ({}, {} confidence)",
            f.line,
            f.column,
            p.sev(f.severity),
            f.rule_name,
            p.wrap("2", &f.rule_id),
            f.confidence
        )?;
        writeln!(
            out,
            "      secret: {}   fingerprint: {}",
            f.secret, f.fingerprint
        )?;
        if let Some(name) = &f.field {
            writeln!(out, "      field: {name}")?;
        }
        if let Some(k) = &f.key_id {
            writeln!(out, "      key id: {k}")?;
        }
        if let Some(d) = &f.decoded {
            writeln!(out, "      found inside: {d}-encoded text")?;
        }
        if let Some(c) = &f.commit {
            let short = &c.id[..c.id.len().min(12)];
            let what = if f.history.is_some() {
                "introduced in commit"
            } else {
                "commit"
            };
            writeln!(
                out,
                "      {what} {short} by {} <{}> on {}: {}",
                c.author_name, c.author_email, c.author_date, c.summary
            )?;
        }
        if let Some(h) = &f.history {
            writeln!(out, "      {}", leak_status(h))?;
        }
        writeln!(out, "      {}", p.wrap("2", &f.snippet))?;
    }
    if !r.findings.is_empty() {
        writeln!(out)?;
    }
    let s = r.summary;
    let by_sev: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|sev| {
            s.findings_by_severity
                .get(sev.as_str())
                .map(|n| format!("{n} {sev}"))
        })
        .collect();
    let findings = if s.findings == 0 {
        p.wrap("32", "no findings")
    } else {
        p.wrap(
            "1;31",
            &format!(
                "{} ({})",
                Summary::count(s.findings, "finding", "findings"),
                by_sev.join(", ")
            ),
        )
    };
    writeln!(
        out,
        "{findings} in {} ({}) in {:.2}s",
        Summary::count(s.files_scanned, "file", "files"),
        human_bytes(s.bytes_scanned),
        s.elapsed_ms as f64 / 1000.0
    )?;
    if s.decoded_utf16 > 0 {
        writeln!(out, "decoded: {} UTF-16/UTF-32 files", s.decoded_utf16)?;
    }
    if s.encrypted_files > 0 {
        let files = Summary::count(s.encrypted_files, "file", "files");
        writeln!(out, "encrypted at rest: {files} (ciphertext not reported)")?;
    }
    let mut skipped = vec![
        (s.skipped_binary, "binary"),
        (s.skipped_too_large, "too large"),
        (s.skipped_symlinks, "symlinks"),
        (s.skipped_allowlisted_paths, "allowlisted paths"),
        (s.skipped_special, "pipes, sockets or devices"),
        (s.skipped_scanner_baselines, "other scanners' baselines"),
    ];
    let extra: Vec<(u64, String)> = s
        .extra
        .iter()
        .map(|(k, v)| (*v, k.replace('_', " ")))
        .collect();
    skipped.retain(|(n, _)| *n > 0);
    if !skipped.is_empty() {
        let parts: Vec<String> = skipped.iter().map(|(n, w)| format!("{n} {w}")).collect();
        writeln!(out, "skipped: {}", parts.join(", "))?;
    }
    if !extra.is_empty() {
        let parts: Vec<String> = extra.iter().map(|(n, w)| format!("{n} {w}")).collect();
        writeln!(out, "git: {}", parts.join(", "))?;
    }
    let sup: Vec<String> = s
        .suppressed
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{n} by {}", k.replace('_', " ")))
        .collect();
    if !sup.is_empty() {
        writeln!(out, "suppressed: {}", sup.join(", "))?;
    }
    if let Some(n) = s.baseline_unmatched.filter(|n| *n > 0) {
        writeln!(
            out,
            "baseline: {n} entries match nothing any more (`keywarden baseline prune` drops them)"
        )?;
    }
    for n in &s.notes {
        writeln!(out, "note: {n}")?;
    }
    if s.errors > 0 {
        let head = format!(
            "INCOMPLETE SCAN: {} could not be read, so this is not a clean result:",
            Summary::count(s.errors, "input", "inputs")
        );
        writeln!(out, "{}", p.wrap("1;33", &head))?;
        for e in s.error_messages.iter().take(20) {
            writeln!(out, "  {e}")?;
        }
        if s.error_messages.len() > 20 {
            writeln!(out, "  ... (all in --format json)")?;
        }
    }
    Ok(())
}
