//! Markdown report for a CI job summary or a ticket.

use std::fmt::Write;

use super::ReportData;
use crate::audit::checks::Status;
use crate::audit::time::{fmt, fmt_date};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The `--format markdown` document.
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
    if let Some(c) = &r.changes {
        changes(&mut s, r, c);
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
        "{} Policy: `{}`.\n",
        r.totals("**"),
        cell(&r.policy_source)
    );
    let providers = r.log_providers();
    if !providers.is_empty() {
        let _ = writeln!(s, "| Logs | From | To | Events |\n|---|---|---|---|");
        for p in providers {
            let (from, to) = r
                .coverage
                .get(&p)
                .map(|c| (fmt(c.from), fmt(c.to)))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "| {} | {from} | {to} | {} |",
                p.name(),
                r.coverage_counts(p)
            );
        }
        let _ = writeln!(s);
    }
    for f in &a.filter_reads {
        let _ = writeln!(
            s,
            "> {} BatchGetSecretValue read(s) by filter `{}` ({} succeeded) name no secret; they could have read {} inventory secret(s){}.\n",
            f.count,
            cell(&f.filters),
            f.ok,
            f.could_cover_total,
            if f.could_cover.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}{}",
                    f.could_cover
                        .iter()
                        .map(|i| format!("`{}`", cell(i)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if f.could_cover_total > f.could_cover.len() {
                        ", …"
                    } else {
                        ""
                    }
                )
            }
        );
    }
    let _ = writeln!(
        s,
        "## Summary\n\n| Check | Title | Fail | Review | Suppressed |\n|---|---|---:|---:|---:|"
    );
    for (k, (f, rv, sp)) in r.by_check() {
        let _ = writeln!(s, "| {k} | {} | {f} | {rv} | {sp} |", k.def().title);
    }
    let fixes = r.fixes();
    if !fixes.is_empty() {
        let _ = writeln!(s, "\n## How to fix\n\n| Check | How to fix |\n|---|---|");
        for (k, fix) in fixes {
            let _ = writeln!(s, "| {k} | {} |", cell(fix));
        }
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
            let what = if p.name.is_empty() || p.name == p.secret_id {
                String::new()
            } else {
                format!(" ({})", cell(&p.name))
            };
            let _ = writeln!(
                s,
                "| {} | `{}`{what} | {} | {} | {} |",
                i + 1,
                cell(&p.secret_id),
                p.checks
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
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
        // The class column says why too (rule, tag, signal), so a surprising class can be traced.
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
                o.class
                    .as_deref()
                    .map(|c| format!("{c} ({})", cell(&o.class_source)))
                    .unwrap_or_else(|| "-".into()),
                cell(&o.message),
                cell(&o.loc.file),
                o.loc.line
            );
        }
    }
    if let Some(t) = &a.access {
        let _ = writeln!(
            s,
            "\n## Effective access\n\n{} grant(s) to {} principal(s) reach {} inventory secret(s); {} secret(s) are reached by none.\n",
            t.grants,
            t.principals,
            t.rows.len(),
            t.unreached
        );
        if !t.rows.is_empty() {
            let _ = writeln!(
                s,
                "| Secret | Can read | Through | Read in the logs |\n|---|---|---|---|"
            );
            for row in t.rows.iter().take(500) {
                for x in &row.readers {
                    let _ = writeln!(
                        s,
                        "| `{}` | `{}` | {} ({}:{}) | {} |",
                        cell(&row.secret_id),
                        cell(&x.principal),
                        cell(&x.via),
                        cell(&x.loc.file),
                        x.loc.line,
                        match x.used {
                            Some(true) => "yes",
                            Some(false) => "no",
                            None => "-",
                        }
                    );
                }
            }
        }
    }
    if !a.items.is_empty() {
        let _ = writeln!(
            s,
            "\n<details><summary>Classification of {} secrets</summary>\n\n| Secret | Class | Why |\n|---|---|---|",
            a.items.len()
        );
        for (it, (class, why)) in a.items.iter().zip(&a.classes).take(1000) {
            let _ = writeln!(
                s,
                "| `{}` | {} | {} |",
                cell(&it.id),
                class.as_deref().unwrap_or("unclassified"),
                cell(why)
            );
        }
        let _ = writeln!(s, "\n</details>");
    }
    if !r.notes.is_empty() {
        let _ = writeln!(s, "\n## Input notes\n");
        for b in r.notes.iter().take(100) {
            let _ = writeln!(
                s,
                "- `{}:{}`: {}",
                cell(&b.loc.file),
                b.loc.line,
                cell(&b.error)
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

/// "What changed since last time": counts, then new results, resolved ones, and what has
/// stayed open longest.
fn changes(s: &mut String, r: &ReportData, c: &crate::audit::previous::Changes) {
    use crate::audit::previous::State;
    let a = r.audit;
    let _ = writeln!(
        s,
        "## What changed since last time\n\nSince the previous report (`{}`, {}): **{} new**, {} still open, **{} resolved**.\n",
        cell(&c.file),
        fmt(c.previous_now),
        c.count(State::New),
        c.count(State::Open),
        c.resolved.len()
    );
    if r.partial_inputs() > 0 && !c.resolved.is_empty() {
        let _ = writeln!(
            s,
            "> This audit is partial: a result that is gone may only be unseen, not resolved.\n"
        );
    }
    let new: Vec<usize> = (0..a.outcomes.len())
        .filter(|i| r.state(*i).is_some_and(|x| x.0 == State::New))
        .collect();
    if !new.is_empty() {
        let _ = writeln!(
            s,
            "### New\n\n| Severity | Check | Secret | Message |\n|---|---|---|---|"
        );
        for i in new.iter().take(100) {
            let o = &a.outcomes[*i];
            let _ = writeln!(
                s,
                "| {} | {} | `{}` | {} |",
                status_label(o),
                o.check,
                cell(&o.secret_id),
                cell(&o.message)
            );
        }
        let _ = writeln!(s);
    }
    if !c.resolved.is_empty() {
        let _ = writeln!(
            s,
            "### Resolved\n\n| Severity | Check | Secret | Open since |\n|---|---|---|---|"
        );
        for p in c.resolved.iter().take(100) {
            let _ = writeln!(
                s,
                "| {} | {} | `{}` | {} |",
                cell(&p.severity),
                cell(&p.check),
                cell(&p.secret_id),
                fmt_date(p.first_seen)
            );
        }
        let _ = writeln!(s);
    }
    let mut open: Vec<(usize, i64)> = (0..a.outcomes.len())
        .filter_map(|i| r.state(i).filter(|x| x.0 == State::Open).map(|x| (i, x.2)))
        .collect();
    if !open.is_empty() {
        open.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        let _ = writeln!(
            s,
            "### Still open, longest first\n\n| Severity | Check | Secret | Open for |\n|---|---|---|---:|"
        );
        for (i, d) in open.iter().take(50) {
            let o = &a.outcomes[*i];
            let _ = writeln!(
                s,
                "| {} | {} | `{}` | {d} days |",
                status_label(o),
                o.check,
                cell(&o.secret_id)
            );
        }
        let _ = writeln!(s);
    }
}

fn status_label(o: &crate::audit::checks::CheckResult) -> String {
    match o.status {
        Status::Fail => o.severity.as_str().to_string(),
        Status::Review => "review".into(),
        Status::Suppressed => "suppressed".into(),
    }
}
