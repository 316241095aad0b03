//! The HTML report: one self-contained page for people (the page itself, its style and its
//! sortable tables are `crate::report::html`'s). Sections come in the order a person acts on
//! them: the summary, what to rotate first, what changed since the previous report, every
//! result with how to fix it, then the access table, the inputs and their notes. It shows
//! what the Markdown report shows, so no secret value.

use super::ReportData;
use crate::audit::checks::{CheckResult, Severity, Status};
use crate::audit::previous::State;
use crate::audit::time::{fmt, fmt_date};
use crate::report::html::{Cell, Page};

/// Rows kept in the long tables; the JSON report has them all.
const ROTATE_ROWS: usize = 50;
/// Rows shown before a long table folds the rest away.
const ROTATE_VISIBLE: usize = 10;
const CHANGE_VISIBLE: usize = 20;
const CHANGE_ROWS: usize = 200;
const ACCESS_ROWS: usize = 500;
const CLASS_ROWS: usize = 1000;
const NOTE_ROWS: usize = 100;

/// The `--format html` page, complete.
pub fn render(r: &ReportData) -> String {
    let a = r.audit;
    let mut p = Page::new(&format!("Rotation audit {}", fmt_date(a.now)));
    p.heading(1, &format!("Rotation audit — {}", fmt(a.now)));
    summary(&mut p, r);
    rotate_first(&mut p, r);
    if let Some(c) = &r.changes {
        changes(&mut p, r, c);
    }
    results(&mut p, r);
    by_check(&mut p, r);
    access(&mut p, r);
    inputs(&mut p, r);
    p.finish()
}

fn summary(p: &mut Page, r: &ReportData) {
    p.heading(2, "Summary");
    let partial = r.partial_inputs();
    if partial > 0 {
        p.paragraph(
            &format!(
                "PARTIAL AUDIT: {partial} of {} input(s) could not be read to the end ({}); results cover only what was read, and checks that rely on the absence of events (USE-001, USE-002, ACC-001, LEAK-002) may have missed some.",
                r.inputs.len(),
                r.inputs
                    .iter()
                    .filter(|i| i.partial)
                    .map(|i| i.file.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some("warn"),
        );
    }
    let by = r.by_severity();
    let mut figures: Vec<(u64, String, Option<&'static str>)> = Severity::ALL
        .iter()
        .map(|s| {
            let n = by.get(s).copied().unwrap_or(0) as u64;
            let class = (n > 0).then(|| crate::report::html::severity_class(*s));
            (n, s.as_str().to_string(), class)
        })
        .collect();
    figures.push((r.count(Status::Review) as u64, "to review".into(), None));
    figures.push((
        r.count(Status::Suppressed) as u64,
        "suppressed".into(),
        None,
    ));
    p.paragraph("Results that fail the policy, by severity:", None);
    p.figures(
        &figures
            .iter()
            .map(|(n, l, c)| (*n, l.as_str(), *c))
            .collect::<Vec<_>>(),
    );
    p.paragraph(&r.totals(""), None);
    if partial == 0 {
        p.paragraph(
            &format!(
                "Complete: every input was read to its end{}.",
                if r.bad.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} malformed record(s) were skipped (see Input errors)",
                        r.bad.len()
                    )
                }
            ),
            None,
        );
    }
    let mut roles: Vec<(&str, usize)> = Vec::new();
    for i in &r.inputs {
        match roles.iter_mut().find(|(role, _)| *role == i.role) {
            Some(x) => x.1 += 1,
            None => roles.push((i.role, 1)),
        }
    }
    p.paragraph(
        &format!(
            "Inputs: {} ({}); {} empty, {} skipped (CloudTrail digest files). Policy: {} (sha256 {}); --fail-on {}.",
            r.inputs.len(),
            roles
                .iter()
                .map(|(role, n)| format!("{role} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            r.inputs_with("empty"),
            r.inputs_with("skipped"),
            r.policy_source,
            r.policy_sha256.get(..12).unwrap_or(&r.policy_sha256),
            r.fail_on.map_or("none", |s| s.as_str()),
        ),
        Some("muted"),
    );
}

/// The secret's id, with what it is when the id does not say (a leaked credential).
fn secret(id: &str, name: &str) -> Cell {
    if name.is_empty() || name == id {
        Cell::text(id).class("mono")
    } else {
        Cell::text(format!("{id} ({name})")).class("mono")
    }
}

fn rotate_first(p: &mut Page, r: &ReportData) {
    p.heading(2, "Rotate first");
    let prio = r.rotate_first();
    let rows: Vec<Vec<Cell>> = prio
        .iter()
        .take(ROTATE_ROWS)
        .enumerate()
        .map(|(i, x)| {
            vec![
                Cell::num(i as u64 + 1),
                secret(&x.secret_id, &x.name),
                Cell::text(
                    x.checks
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Cell::text(&x.reason),
                Cell::nowrap(x.due.map(fmt_date).unwrap_or_default()),
            ]
        })
        .collect();
    p.long_table(
        &["#", "secret", "checks", "why", "due"],
        rows,
        "Nothing leaked or overdue.",
        ROTATE_VISIBLE,
    );
    more(p, prio.len(), ROTATE_ROWS);
}

fn changes(p: &mut Page, r: &ReportData, c: &crate::audit::previous::Changes) {
    let a = r.audit;
    p.heading(2, "What changed since last time");
    p.paragraph(
        &format!(
            "Since the previous report ({}, {}): {} new, {} still open, {} resolved.",
            c.file,
            fmt(c.previous_now),
            c.count(State::New),
            c.count(State::Open),
            c.resolved.len()
        ),
        None,
    );
    if r.partial_inputs() > 0 && !c.resolved.is_empty() {
        p.paragraph(
            "This audit is partial: a result that is gone may only be unseen, not resolved.",
            Some("warn"),
        );
    }
    let new: Vec<&CheckResult> = (0..a.outcomes.len())
        .filter(|i| r.state(*i).is_some_and(|x| x.0 == State::New))
        .map(|i| &a.outcomes[i])
        .collect();
    p.heading(3, "New");
    let rows: Vec<Vec<Cell>> = new
        .iter()
        .take(CHANGE_ROWS)
        .map(|o| {
            vec![
                status(o),
                Cell::nowrap(o.check.as_str()),
                secret(&o.secret_id, &o.name),
                Cell::text(&o.message),
            ]
        })
        .collect();
    p.long_table(
        &["severity", "check", "secret", "message"],
        rows,
        "No new results.",
        CHANGE_VISIBLE,
    );
    more(p, new.len(), CHANGE_ROWS);

    p.heading(3, "Resolved");
    let rows: Vec<Vec<Cell>> = c
        .resolved
        .iter()
        .take(CHANGE_ROWS)
        .map(|x| {
            vec![
                Severity::parse(&x.severity)
                    .map_or_else(|| Cell::text(&x.severity), Cell::severity),
                Cell::nowrap(&x.check),
                secret(&x.secret_id, &x.name),
                Cell::nowrap(fmt_date(x.first_seen)),
                Cell::nowrap(fmt_date(c.previous_now)),
            ]
        })
        .collect();
    p.table(
        &["severity", "check", "secret", "open since", "last seen"],
        &rows,
        "Nothing resolved.",
    );
    more(p, c.resolved.len(), CHANGE_ROWS);

    let mut open: Vec<(usize, i64, i64)> = (0..a.outcomes.len())
        .filter_map(|i| {
            r.state(i)
                .filter(|x| x.0 == State::Open)
                .map(|x| (i, x.1, x.2))
        })
        .collect();
    open.sort_by(|x, y| y.2.cmp(&x.2).then(x.0.cmp(&y.0)));
    p.heading(3, "Still open, longest first");
    let rows: Vec<Vec<Cell>> = open
        .iter()
        .take(CHANGE_ROWS)
        .map(|(i, since, days)| {
            let o = &a.outcomes[*i];
            vec![
                status(o),
                Cell::nowrap(o.check.as_str()),
                secret(&o.secret_id, &o.name),
                Cell::nowrap(fmt_date(*since)),
                days_cell(*days),
            ]
        })
        .collect();
    p.long_table(
        &["severity", "check", "secret", "open since", "open for"],
        rows,
        "Nothing still open.",
        CHANGE_VISIBLE,
    );
    more(p, open.len(), CHANGE_ROWS);
}

fn results(p: &mut Page, r: &ReportData) {
    let a = r.audit;
    p.heading(2, "Results");
    let with_state = r.changes.is_some();
    let rows: Vec<Vec<Cell>> = a
        .outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let mut message = o.message.clone();
            if let Some((rf, until)) = &o.expired_exemption {
                message.push_str(&format!(
                    " (exemption {rf} expired {})",
                    until.as_deref().unwrap_or("")
                ));
            }
            let mut row = vec![
                Cell::nowrap(o.check.as_str()),
                status(o),
                secret(&o.secret_id, &o.name),
                Cell::text(message),
                Cell::text(o.check.def().fix),
            ];
            if with_state {
                row.push(match r.state(i) {
                    Some((State::New, _, _)) => Cell::text("new").class("bad").sorted("0".into()),
                    Some((State::Open, _, d)) => {
                        Cell::text(format!("open {d} days")).sorted(format!("1{:010}", d.max(0)))
                    }
                    None => Cell::text(""),
                });
            }
            row.push(Cell::text(format!("{}:{}", o.loc.file, o.loc.line)).class("mono"));
            row
        })
        .collect();
    let mut headers = vec!["check", "severity", "secret", "message", "how to fix"];
    if with_state {
        headers.push("status");
    }
    headers.push("source");
    p.table(&headers, &rows, "No findings.");
}

fn by_check(p: &mut Page, r: &ReportData) {
    let rows: Vec<Vec<Cell>> = r
        .by_check()
        .into_iter()
        .map(|(k, (f, rv, sp))| {
            vec![
                Cell::nowrap(k.as_str()),
                Cell::text(k.def().title),
                Cell::num(f as u64),
                Cell::num(rv as u64),
                Cell::num(sp as u64),
            ]
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    p.heading(2, "By check");
    p.table(
        &["check", "title", "fail", "review", "suppressed"],
        &rows,
        "",
    );
}

fn access(p: &mut Page, r: &ReportData) {
    let Some(t) = &r.audit.access else {
        return;
    };
    p.heading(2, "Effective access");
    p.paragraph(
        &format!(
            "{} grant(s) to {} principal(s) reach {} inventory secret(s); {} secret(s) are reached by none.",
            t.grants,
            t.principals,
            t.rows.len(),
            t.unreached
        ),
        None,
    );
    let all: Vec<Vec<Cell>> = t
        .rows
        .iter()
        .flat_map(|row| {
            row.readers.iter().map(move |x| {
                vec![
                    secret(&row.secret_id, &row.name),
                    Cell::text(&x.principal).class("mono"),
                    Cell::text(&x.via),
                    Cell::text(format!("{}:{}", x.loc.file, x.loc.line)).class("mono"),
                    Cell::text(match x.used {
                        Some(true) => "yes",
                        Some(false) => "no",
                        None => "-",
                    }),
                ]
            })
        })
        .collect();
    let n = all.len();
    let rows: Vec<Vec<Cell>> = all.into_iter().take(ACCESS_ROWS).collect();
    p.table(
        &["secret", "can read", "through", "where", "read in the logs"],
        &rows,
        "No grant reaches an inventory secret.",
    );
    more(p, n, ACCESS_ROWS);
}

fn inputs(p: &mut Page, r: &ReportData) {
    let a = r.audit;
    p.heading(2, "Inputs");
    let rows: Vec<Vec<Cell>> = r
        .inputs
        .iter()
        .map(|i| {
            let st = i.status();
            vec![
                Cell::text(&i.file).class("mono"),
                Cell::text(i.role),
                Cell::text(i.format),
                Cell::num(i.records as u64),
                Cell::num(i.errors as u64),
                if st == "partial" {
                    Cell::text("PARTIAL").class("bad")
                } else {
                    Cell::text(st)
                },
            ]
        })
        .collect();
    p.table(
        &["file", "role", "format", "records", "errors", "status"],
        &rows,
        "No inputs.",
    );
    let providers = r.log_providers();
    if !providers.is_empty() {
        p.heading(3, "Log windows");
        let rows: Vec<Vec<Cell>> = providers
            .into_iter()
            .map(|pv| {
                let c = r.coverage.get(&pv);
                vec![
                    Cell::text(pv.name()),
                    Cell::nowrap(c.map(|c| fmt(c.from)).unwrap_or_default()),
                    Cell::nowrap(c.map(|c| fmt(c.to)).unwrap_or_default()),
                    Cell::text(r.coverage_counts(pv)),
                ]
            })
            .collect();
        p.table(&["logs", "from", "to", "events"], &rows, "");
    }
    if !a.filter_reads.is_empty() {
        p.heading(3, "Reads by filter");
        let rows: Vec<Vec<Cell>> = a
            .filter_reads
            .iter()
            .map(|f| {
                let mut could = f.could_cover.join(", ");
                if f.could_cover_total > f.could_cover.len() {
                    could.push_str(", …");
                }
                vec![
                    Cell::text(&f.filters).class("mono"),
                    Cell::num(f.count),
                    Cell::num(f.ok),
                    Cell::nowrap(fmt(f.first)),
                    Cell::nowrap(fmt(f.last)),
                    Cell::num(f.could_cover_total as u64),
                    Cell::text(could).class("mono"),
                ]
            })
            .collect();
        p.paragraph(
            "BatchGetSecretValue reads that select secrets by filter name no secret; these are the inventory secrets they could have read.",
            None,
        );
        p.table(
            &[
                "filters",
                "reads",
                "succeeded",
                "first",
                "last",
                "could read",
                "secrets",
            ],
            &rows,
            "",
        );
    }
    notes(p, "Input notes", &r.notes, r.notes_dropped);
    notes(p, "Input errors", &r.bad, 0);
    if !a.items.is_empty() {
        p.folded(
            &format!("Classification of {} secrets", a.items.len()),
            |p| {
                let rows: Vec<Vec<Cell>> = a
                    .items
                    .iter()
                    .zip(&a.classes)
                    .take(CLASS_ROWS)
                    .map(|(it, (class, why))| {
                        vec![
                            Cell::text(&it.id).class("mono"),
                            Cell::text(class.as_deref().unwrap_or("unclassified")),
                            Cell::text(why),
                        ]
                    })
                    .collect();
                p.table(&["secret", "class", "why"], &rows, "");
                more(p, a.items.len(), CLASS_ROWS);
            },
        );
    }
}

fn notes(p: &mut Page, title: &str, list: &[crate::audit::inventory::BadRecord], dropped: u64) {
    if list.is_empty() {
        return;
    }
    p.heading(2, title);
    let rows: Vec<Vec<Cell>> = list
        .iter()
        .take(NOTE_ROWS)
        .map(|b| {
            vec![
                Cell::text(format!("{}:{}", b.loc.file, b.loc.line)).class("mono"),
                Cell::text(&b.error),
            ]
        })
        .collect();
    p.table(&["where", "what"], &rows, "");
    more(p, list.len() + dropped as usize, NOTE_ROWS);
}

/// Says how many rows a capped table left out.
fn more(p: &mut Page, total: usize, shown: usize) {
    if total > shown {
        p.paragraph(
            &format!(
                "… and {} more (the JSON report has them all).",
                total - shown
            ),
            Some("muted"),
        );
    }
}

/// Fail: the severity; review and suppressed sort after every severity.
fn status(o: &CheckResult) -> Cell {
    match o.status {
        Status::Fail => Cell::severity(o.severity),
        Status::Review => Cell::text("review").class("muted").sorted("x".into()),
        Status::Suppressed => Cell::text(format!(
            "suppressed ({})",
            o.exemption.as_ref().map(|e| e.2.as_str()).unwrap_or("")
        ))
        .class("muted")
        .sorted("y".into()),
    }
}

fn days_cell(d: i64) -> Cell {
    Cell::text(format!("{d} days"))
        .class("num")
        .sorted(format!("{:020}", d.max(0)))
}
