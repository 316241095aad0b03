//! JUnit XML for CI test dashboards: one `<testsuite>` per check, one `<testcase>` per
//! (check, secret) result. Failing results are `<failure>`s, advisories (review) pass with
//! their message in `<system-out>`, and exempted results are `<skipped>` with the exemption.
//! An audit with no results is one passing testcase; unreadable input records are one
//! `<error>` testcase. Shares the scan report's XML writer (`report::junit`).

use std::collections::BTreeMap;

use super::ReportData;
use crate::audit::checks::{CheckId, CheckResult, Status};
use crate::audit::time::fmt;
use crate::report::junit::Xml;

fn case(x: &mut Xml, r: &ReportData, o: &CheckResult) {
    let name = if o.name.is_empty() || o.name == o.secret_id {
        o.secret_id.clone()
    } else {
        format!("{} ({})", o.secret_id, o.name)
    };
    x.open(
        2,
        "testcase",
        &[("name", &name), ("classname", o.check.as_str())],
    );
    let mut body = format!(
        "check: {} ({})\nsecret: {}\nseverity: {}\n",
        o.check,
        o.check.def().title,
        o.secret_id,
        o.severity.as_str()
    );
    if !o.loc.file.is_empty() {
        body.push_str(&format!("location: {}:{}\n", o.loc.file, o.loc.line));
    }
    if let Some(d) = o.due {
        body.push_str(&format!("due: {}\n", fmt(d)));
    }
    body.push_str(&format!("fix: {}", o.check.def().fix));
    match o.status {
        Status::Fail => {
            let kind = if r.failing(o) {
                "failing"
            } else {
                "below-fail-on"
            };
            x.text(
                3,
                "failure",
                &[("type", kind), ("message", &o.message)],
                &body,
            );
        }
        Status::Review => x.text(
            3,
            "system-out",
            &[],
            &format!("review: {}\n{body}", o.message),
        ),
        Status::Suppressed => {
            let why = match &o.exemption {
                Some((r, _, why)) => format!("exempted by {r}: {why}"),
                None => "exempted".to_string(),
            };
            x.text(
                3,
                "skipped",
                &[("type", "exempted"), ("message", &why)],
                &o.message,
            );
        }
    }
    x.close(2, "testcase");
}

/// The `--format junit` XML document.
pub fn render(r: &ReportData) -> String {
    let a = r.audit;
    let mut by_check: BTreeMap<CheckId, Vec<&CheckResult>> = BTreeMap::new();
    for o in &a.outcomes {
        by_check.entry(o.check).or_default().push(o);
    }
    let count = |v: &[&CheckResult], s: Status| v.iter().filter(|o| o.status == s).count();
    let own = usize::from(a.outcomes.is_empty()) + usize::from(!r.bad.is_empty());
    let errors = usize::from(!r.bad.is_empty()).to_string();
    let mut x = Xml::new();
    x.open(
        0,
        "testsuites",
        &[
            ("name", "keywarden audit"),
            ("tests", &(a.outcomes.len() + own).to_string()),
            ("failures", &r.count(Status::Fail).to_string()),
            ("errors", &errors),
        ],
    );
    let now = fmt(a.now);
    for (check, results) in &by_check {
        let name = format!("{check} {}", check.def().title);
        x.open(
            1,
            "testsuite",
            &[
                ("name", &name),
                ("tests", &results.len().to_string()),
                ("failures", &count(results, Status::Fail).to_string()),
                ("errors", "0"),
                ("skipped", &count(results, Status::Suppressed).to_string()),
                ("timestamp", &now),
            ],
        );
        for o in results {
            case(&mut x, r, o);
        }
        x.close(1, "testsuite");
    }
    if own > 0 {
        x.open(
            1,
            "testsuite",
            &[
                ("name", "keywarden audit"),
                ("tests", &own.to_string()),
                ("failures", "0"),
                ("errors", &errors),
                ("skipped", "0"),
                ("timestamp", &now),
            ],
        );
        if a.outcomes.is_empty() {
            let name = format!(
                "{} secrets audited: no failing or review results",
                a.items.len()
            );
            x.empty(2, "testcase", &[("name", &name), ("classname", "audit")]);
        }
        if !r.bad.is_empty() {
            let body: String = (r.bad.iter())
                .map(|b| format!("{}:{}: {}\n", b.loc.file, b.loc.line, b.error))
                .collect();
            let message = format!("{} input records could not be read", r.bad.len());
            x.open(
                2,
                "testcase",
                &[("name", "input records"), ("classname", "audit")],
            );
            x.text(
                3,
                "error",
                &[("type", "input"), ("message", &message)],
                &body,
            );
            x.close(2, "testcase");
        }
        x.close(1, "testsuite");
    }
    x.close(0, "testsuites");
    x.out
}
