//! Markdown report for a CI job summary or a ticket.

use std::fmt::Write;

use super::ReportData;
use crate::audit::checks::{self, Status};
use crate::audit::time::{fmt, fmt_date};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(r: &ReportData) -> String {
    let a = r.audit;
    let mut s = String::new();
    let _ = writeln!(s, "# Rotation audit — {}\n", fmt(a.now));
    if r.partial_inputs() > 0 {
        let _ = writeln!(
            s,
            "> **Partial audit:** {} input(s) could not be read to the end ({}); results cover only what was read.\n",
            r.partial_inputs(),
            r.inputs
                .iter()
                .filter(|i| i.partial)
                .map(|i| format!("`{}`", cell(&i.file)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let (empty, skipped) = (r.inputs_with("empty"), r.inputs_with("skipped"));
    if empty + skipped > 0 {
        let _ = writeln!(
            s,
            "Inputs: {} read, {empty} empty, {skipped} skipped (CloudTrail digest files).\n",
            r.inputs.len() - empty - skipped
        );
    }
    let _ = writeln!(
        s,
        "{} secrets audited; **{} failing**, {} to review, {} suppressed; {} input errors. Policy: `{}`.\n",
        a.items.len(),
        r.count(Status::Fail),
        r.count(Status::Review),
        r.count(Status::Suppressed),
        r.bad.len(),
        r.policy_source
    );
    let _ = writeln!(
        s,
        "## Summary\n\n| Check | Title | Fail | Review | Suppressed |\n|---|---|---:|---:|---:|"
    );
    for (k, (f, rv, sp)) in r.by_check() {
        let _ = writeln!(s, "| {k} | {} | {f} | {rv} | {sp} |", checks::def(k).title);
    }
    let prio = r.rotate_first();
    let _ = writeln!(s, "\n## Rotate first\n");
    if prio.is_empty() {
        let _ = writeln!(s, "Nothing leaked or overdue.");
    } else {
        let _ = writeln!(
            s,
            "| # | Secret | Checks | Why | Due |\n|---:|---|---|---|---|"
        );
        for (i, p) in prio.iter().enumerate().take(50) {
            let _ = writeln!(
                s,
                "| {} | `{}` | {} | {} | {} |",
                i + 1,
                cell(&p.secret_id),
                p.checks.join(", "),
                cell(&p.reason),
                p.due.map(fmt_date).unwrap_or_default()
            );
        }
    }
    let _ = writeln!(s, "\n## Results\n");
    if a.outcomes.is_empty() {
        let _ = writeln!(s, "No findings.");
    } else {
        let _ = writeln!(
            s,
            "| Severity | Check | Secret | Class | Message | Source |\n|---|---|---|---|---|---|"
        );
        for o in &a.outcomes {
            let sev = match o.status {
                Status::Fail => o.severity.as_str().to_string(),
                Status::Review => "review".into(),
                Status::Suppressed => format!(
                    "suppressed ({})",
                    o.exemption.as_ref().map(|e| e.2.as_str()).unwrap_or("")
                ),
            };
            let _ = writeln!(
                s,
                "| {} | {} | `{}` | {} | {} | {}:{} |",
                cell(&sev),
                o.check,
                cell(&o.secret_id),
                o.class.as_deref().unwrap_or("-"),
                cell(&o.message),
                cell(&o.loc.file),
                o.loc.line
            );
        }
    }
    if !r.bad.is_empty() {
        let _ = writeln!(s, "\n## Input errors\n");
        for b in r.bad.iter().take(100) {
            let _ = writeln!(
                s,
                "- `{}:{}`: {}",
                cell(&b.loc.file),
                b.loc.line,
                cell(&b.error)
            );
        }
    }
    s
}
