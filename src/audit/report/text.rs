//! Terminal report.

use std::fmt::Write;

use super::ReportData;
use crate::audit::checks::{self, Status};
use crate::audit::time::fmt;

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
            "  {:<9} {:<22} {} ({} records{}{state})",
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
    for (p, c) in &r.coverage {
        let _ = writeln!(
            s,
            "  {} logs cover {} .. {} ({} events)",
            p.name(),
            fmt(c.from),
            fmt(c.to),
            c.events
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{} secrets, {} failing results, {} to review, {} suppressed, {} input errors",
        a.items.len(),
        r.count(Status::Fail),
        r.count(Status::Review),
        r.count(Status::Suppressed),
        r.bad.len()
    );
    let by = r.by_check();
    if !by.is_empty() {
        let _ = writeln!(s, "\n  CHECK     FAIL REVIEW SUPPR  TITLE");
        for (k, (f, rv, sp)) in by {
            let _ = writeln!(
                s,
                "  {k:<9} {f:>4} {rv:>6} {sp:>5}  {}",
                checks::def(k).title
            );
        }
    }
    let prio = r.rotate_first();
    if !prio.is_empty() {
        let _ = writeln!(s, "\nRotate first:");
        for (i, p) in prio.iter().take(20).enumerate() {
            let _ = writeln!(
                s,
                "  {:>2}. {} [{}] {}",
                i + 1,
                p.secret_id,
                p.checks.join(", "),
                p.reason
            );
        }
    }
    let _ = writeln!(s, "\nResults:");
    if a.outcomes.is_empty() {
        let _ = writeln!(s, "  none");
    }
    for o in &a.outcomes {
        let tag = match o.status {
            Status::Fail => o.severity.as_str().to_uppercase(),
            Status::Review => "REVIEW".to_string(),
            Status::Suppressed => "SUPPRESSED".to_string(),
        };
        let _ = writeln!(s, "  {tag:<10} {} {}: {}", o.check, o.secret_id, o.message);
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
