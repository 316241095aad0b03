//! Terminal report.

use std::fmt::Write;

use super::ReportData;
use crate::audit::checks::Status;
use crate::audit::time::fmt;

/// Secrets listed with their class in the terminal; the JSON report lists all.
const CLASS_LINES: usize = 200;

/// The terminal report (`--format text`, the default).
pub fn render(r: &ReportData) -> String {
    let a = r.audit;
    let mut s = String::new();
    let _ = writeln!(s, "keywarden audit — as of {}", fmt(a.now));
    if r.partial_inputs() > 0 {
        let _ = writeln!(
            s,
            "PARTIAL AUDIT: {} input(s) could not be read to the end; results cover only what was read",
            r.partial_inputs()
        );
    }
    let _ = writeln!(s, "policy: {}", r.policy_source);
    for i in &r.inputs {
        let state = match i.status() {
            "partial" => ", PARTIAL: not read to the end",
            "empty" => ", empty",
            "skipped" => ", skipped: CloudTrail digest file",
            _ => "",
        };
        let _ = writeln!(
            s,
            "  {:<10} {:<22} {} ({} records{}{state})",
            i.role,
            i.format,
            i.file,
            i.records,
            if i.errors > 0 {
                format!(", {} bad", i.errors)
            } else {
                String::new()
            }
        );
    }
    for p in r.log_providers() {
        match r.coverage.get(&p) {
            Some(c) => {
                let _ = writeln!(
                    s,
                    "  {} logs cover {} .. {} ({})",
                    p.name(),
                    fmt(c.from),
                    fmt(c.to),
                    r.coverage_counts(p)
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "  {} logs: no usable events ({})",
                    p.name(),
                    r.coverage_counts(p)
                );
            }
        }
    }
    for f in &a.filter_reads {
        let _ = writeln!(
            s,
            "  {} BatchGetSecretValue read(s) by filter [{}] ({} succeeded, {} .. {}) name no secret; they could have read {} inventory secret(s){}",
            f.count,
            f.filters,
            f.ok,
            fmt(f.first),
            fmt(f.last),
            f.could_cover_total,
            if f.could_cover.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}{}",
                    f.could_cover.join(", "),
                    if f.could_cover_total > f.could_cover.len() {
                        ", …"
                    } else {
                        ""
                    }
                )
            }
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "{}", r.totals(""));
    if let Some(c) = &r.changes {
        use crate::audit::previous::State;
        let _ = writeln!(
            s,
            "Since the previous report ({}, {}): {} new, {} still open, {} resolved{}",
            c.file,
            fmt(c.previous_now),
            c.count(State::New),
            c.count(State::Open),
            c.resolved.len(),
            if r.partial_inputs() > 0 && !c.resolved.is_empty() {
                " (partial audit: gone may only mean unseen)"
            } else {
                ""
            }
        );
        for p in c.resolved.iter().take(20) {
            let _ = writeln!(
                s,
                "  resolved   {} {} (open since {})",
                p.check,
                p.secret_id,
                crate::audit::time::fmt_date(p.first_seen)
            );
        }
    }
    let by = r.by_check();
    if !by.is_empty() {
        let _ = writeln!(s, "\n  CHECK     FAIL REVIEW SUPPR  TITLE");
        for (k, (f, rv, sp)) in by {
            let _ = writeln!(s, "  {k:<9} {f:>4} {rv:>6} {sp:>5}  {}", k.def().title);
        }
    }
    let fixes = r.fixes();
    if !fixes.is_empty() {
        let _ = writeln!(s, "\nHow to fix:");
        for (k, fix) in fixes {
            let _ = writeln!(s, "  {k:<9} {fix}");
        }
    }
    let prio = r.rotate_first();
    if !prio.is_empty() {
        let _ = writeln!(s, "\nRotate first:");
        for (i, p) in prio.iter().take(20).enumerate() {
            let label = if p.name.is_empty() || p.name == p.secret_id {
                p.secret_id.clone()
            } else {
                format!("{} ({})", p.secret_id, p.name)
            };
            let _ = writeln!(
                s,
                "  {:>2}. {label} [{}] {}",
                i + 1,
                p.checks
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                p.reason
            );
        }
    }
    let _ = writeln!(s, "\nResults:");
    if a.outcomes.is_empty() {
        let _ = writeln!(s, "  none");
    }
    for (i, o) in a.outcomes.iter().enumerate() {
        let tag = match o.status {
            Status::Fail => o.severity.as_str().to_uppercase(),
            Status::Review => "REVIEW".to_string(),
            Status::Suppressed => "SUPPRESSED".to_string(),
        };
        let since = match r.state(i) {
            Some((crate::audit::previous::State::New, _, _)) => " [new]".to_string(),
            Some((_, _, d)) => format!(" [open {d} days]"),
            None => String::new(),
        };
        let _ = writeln!(
            s,
            "  {tag:<10} {} {}{since}: {}",
            o.check, o.secret_id, o.message
        );
        let _ = writeln!(
            s,
            "             at {}:{}{}",
            o.loc.file,
            o.loc.line,
            o.class
                .as_ref()
                .map(|c| format!(", class {c} ({})", o.class_source))
                .unwrap_or_default()
        );
        if let Some((_, until, why)) = &o.exemption {
            let _ = writeln!(
                s,
                "             exempt until {}: {why}",
                until.as_deref().unwrap_or("further notice")
            );
        }
        if let Some((rf, until)) = &o.expired_exemption {
            let _ = writeln!(
                s,
                "             exemption {rf} expired {}",
                until.as_deref().unwrap_or("")
            );
        }
    }
    if let Some(t) = &a.access {
        let _ = writeln!(
            s,
            "\nEffective access: {} grant(s) to {} principal(s) reach {} inventory secret(s); {} reached by none",
            t.grants,
            t.principals,
            t.rows.len(),
            t.unreached
        );
        for row in t.rows.iter().take(CLASS_LINES) {
            let _ = writeln!(s, "  {}", row.secret_id);
            for x in &row.readers {
                let used = match x.used {
                    Some(true) => ", read in the logs",
                    Some(false) => ", not read in the logs",
                    None => "",
                };
                let _ = writeln!(
                    s,
                    "    {} via {} ({}:{}{used})",
                    x.principal, x.via, x.loc.file, x.loc.line
                );
            }
        }
    }
    if !a.items.is_empty() {
        let _ = writeln!(s, "\nClassification ({} secrets):", a.items.len());
        for (it, (class, why)) in a.items.iter().zip(&a.classes).take(CLASS_LINES) {
            let _ = writeln!(
                s,
                "  {} → {} ({why})",
                it.id,
                class.as_deref().unwrap_or("unclassified")
            );
        }
        if a.items.len() > CLASS_LINES {
            let _ = writeln!(
                s,
                "  … {} more (see the JSON report's \"secrets\")",
                a.items.len() - CLASS_LINES
            );
        }
    }
    if !r.notes.is_empty() {
        let _ = writeln!(
            s,
            "\nInput notes ({}):",
            r.notes.len() as u64 + r.notes_dropped
        );
        for b in r.notes.iter().take(50) {
            let _ = writeln!(s, "  {}:{}: {}", b.loc.file, b.loc.line, b.error);
        }
    }
    if !r.bad.is_empty() {
        let _ = writeln!(s, "\nInput errors ({}):", r.bad.len());
        for b in r.bad.iter().take(50) {
            let _ = writeln!(s, "  {}:{}: {}", b.loc.file, b.loc.line, b.error);
        }
        if r.bad.len() > 50 {
            let _ = writeln!(s, "  … {} more (see the JSON report)", r.bad.len() - 50);
        }
    }
    s
}
