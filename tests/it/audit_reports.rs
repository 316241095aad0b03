//! The audit's reports for people and for machines: the HTML page (in headless Chromium, and
//! read as text) and the JSON report against its published schema (docs/).

use crate::common::{load_in_chromium, schema_errors};
use crate::common_audit::*;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

/// Runs examples/audit-report.sh (the kit's report: every provider's fixtures, a month apart,
/// with --previous) into `out`, with a screenshot when `shot` is given.
fn kit_report(out: &Path, shot: Option<(&Path, &Path)>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/audit-report.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .arg(out)
        .env("KEYWARDEN", env!("CARGO_BIN_EXE_keywarden"));
    if let Some((png, browser)) = shot {
        cmd.arg(png).env("CHROMIUM", browser);
    }
    let o = cmd.output().expect("run the script");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).expect("read")
}

/// The cells' text of a table's rows: the first table after `heading` in `html`.
fn table_after(html: &str, heading: &str) -> Vec<Vec<String>> {
    let at = html.find(heading).expect("heading");
    let body = &html[at..];
    let body = &body[body.find("<tbody>").expect("tbody")..];
    let body = &body[..body.find("</tbody>").expect("end of tbody")];
    let cell = regex::Regex::new(r"<td[^>]*>([^<]*)</td>").expect("regex");
    body.split("<tr>")
        .skip(1)
        .map(|row| cell.captures_iter(row).map(|c| c[1].to_string()).collect())
        .collect()
}

/// `src`, `href` and CSS references the page would fetch: anything not inside the page.
fn external_references(html: &str) -> Vec<String> {
    let re = regex::Regex::new(
        r#"(?i)\b(?:src|href|srcset|action|poster|data)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:|//)[^"'\s>]*|@import|url\(|<link\b|<iframe\b|<object\b|<embed\b"#,
    )
    .expect("regex");
    re.find_iter(html).map(|m| m.as_str().to_string()).collect()
}

#[test]
fn the_kits_html_report_works_in_a_headless_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("kit");
    let png = dir.path().join("audit-report.png");
    let browser = crate::common::chromium();
    kit_report(&out, browser.as_deref().map(|b| (png.as_path(), b)));
    let html = read(&out.join("report.html"));
    let report: Value = serde_json::from_str(&read(&out.join("report.json"))).expect("json");

    // In the order a person acts on it.
    let order: Vec<usize> = [
        "<h2>Summary</h2>",
        "<h2>Rotate first</h2>",
        "<h2>What changed since last time</h2>",
        "<h2>Results</h2>",
        "<h2>Inputs</h2>",
    ]
    .iter()
    .map(|h| html.find(h).unwrap_or_else(|| panic!("{h} missing")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    let c = &report["changes"];
    assert!(
        html.contains(&format!(
            "{} new, {} still open, {} resolved.",
            c["new"], c["open"], c["resolved"]
        )),
        "{c}"
    );
    assert!(c["new"].as_u64() > Some(0) && c["resolved"].as_u64() > Some(0));
    // Last month's `secret show` export is gone: its INV-001 is resolved.
    let resolved = table_after(&html, "<h3>Resolved</h3>");
    assert!(
        resolved.iter().any(|r| r[1] == "INV-001"
            && r[2].starts_with("https://kv-prod.vault.azure.net/secrets/clean")),
        "{resolved:?}"
    );
    let s = &report["summary"];
    assert!(html.contains(&format!(
        "{} results fail the policy, {} failing at --fail-on high",
        s["fail"], s["failing"]
    )));
    // Every result is a row: check, severity, secret, message, how to fix, status, source.
    let rows = table_after(&html, "<h2>Results</h2>");
    let results = report["results"].as_array().expect("results");
    assert_eq!(rows.len(), results.len());
    for (row, r) in rows.iter().zip(results) {
        assert_eq!(row[0], r["check"].as_str().unwrap_or(""));
        assert!(row[2].starts_with(&html_text(r["secret_id"].as_str().unwrap_or(""))));
        assert_eq!(row[4], html_text(r["fix"].as_str().unwrap_or("")));
        let state = match r["state"].as_str() {
            Some("new") => "new".to_string(),
            _ => format!("open {} days", r["open_days"]),
        };
        assert_eq!(row[5], state);
    }
    let lapsed = format!("{ARN}prod/api/lapsed-exemption-Lm1234");
    assert!(
        rows.iter()
            .any(|r| r[0] == "ROT-003" && r[2].starts_with(&lapsed) && r[5] == "open 31 days"),
        "suppressed last month, failing now: still the same open result"
    );
    let first = &report["rotate_first"][0]["secret_id"];
    assert_eq!(
        table_after(&html, "<h2>Rotate first</h2>")[0][1]
            .split(' ')
            .next(),
        first.as_str()
    );

    let Some(page) = load_in_chromium(&out.join("report.html"), "selftest") else {
        return;
    };
    assert!(page.self_test_ok(), "{page:?}");
    let tables = html.matches("<table class=\"sortable\">").count();
    assert!(tables >= 10, "{tables}");
    assert_eq!(page.body_attr("data-tables"), Some(tables.to_string()));
    assert_eq!(
        page.body_attr("data-fits"),
        Some("yes".into()),
        "phone width"
    );
    // The self-test clicked every header twice, the last one (source) last: the DOM holds
    // the results sorted by source, descending, which is not the order they were written in.
    let sources = |rows: &[Vec<String>]| -> Vec<String> {
        rows.iter()
            .map(|r| r.last().cloned().unwrap_or_default().to_lowercase())
            .collect()
    };
    let sorted_now = sources(&table_after(&page.dom, "<h2>Results</h2>"));
    assert!(
        sorted_now.windows(2).all(|w| w[0] >= w[1]),
        "{sorted_now:?}"
    );
    assert_ne!(sorted_now, sources(&rows));
    let narrow = load_in_chromium(&out.join("report.html"), "selftest-narrow").expect("page");
    assert!(narrow.self_test_ok(), "{narrow:?}");
    assert_eq!(
        narrow.body_attr("data-fits"),
        Some("yes".into()),
        "360 pixels"
    );

    // The screenshot in docs/ is made by the same script.
    let shot = std::fs::read(&png).expect("screenshot");
    assert!(shot.starts_with(b"\x89PNG") && shot.len() > 10_000);

    // A page that loads something from elsewhere is refused by its own policy, and the
    // harness sees it.
    let bad = dir.path().join("bad.html");
    std::fs::write(
        &bad,
        html.replace(
            "</main>",
            "<img src=\"https://example.invalid/pixel.png\" alt=\"\"></main>",
        ),
    )
    .expect("write");
    let refused = load_in_chromium(&bad, "selftest").expect("page");
    assert!(!refused.self_test_ok());
    assert!(
        refused
            .body_attr("data-errors")
            .is_some_and(|e| e.contains("refused")),
        "{refused:?}"
    );
    assert!(!refused.console.is_empty());
}

/// Text as the page escapes it.
fn html_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[test]
fn the_html_report_references_nothing_outside_itself() {
    let dir = tempfile::tempdir().expect("tempdir");
    kit_report(dir.path(), None);
    let html = read(&dir.path().join("report.html"));
    assert_eq!(external_references(&html), Vec::<String>::new());
    assert_eq!(html.matches("<script").count(), 1);
    assert_eq!(html.matches("<style").count(), 1);
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none';"));
    // Ids that are URLs (Azure) are text on the page, never links.
    assert!(html.contains(">https://kv-prod.vault.azure.net/secrets/"));
    for doctored in [
        "<img src=\"https://cdn.example/x.png\">",
        "<script src='//cdn.example/x.js'></script>",
        "<a href=http://example.com>",
        "<style>@import 'x.css';</style>",
        "<div style=\"background:url(x.png)\">",
        "<link rel=\"icon\" href=\"data:,\">",
    ] {
        assert!(
            !external_references(&html.replace("</main>", &format!("{doctored}</main>")))
                .is_empty(),
            "{doctored}"
        );
    }
}

/// A generic JSON inventory with a kind that names nothing (an input note), a CloudTrail
/// read by filter, a log cut short (a partial input), a digest file (skipped) and an empty
/// export: with the kit's inputs, every optional part of the JSON report is present.
fn rich_extras(dir: &Path) -> (Vec<String>, Vec<String>) {
    let note = write(
        dir,
        "other-store.json",
        json!([{"id": "other:payments/api", "name": "payments api", "kind": "mainframe",
                "created": "2026-09-01"}])
        .to_string()
        .as_bytes(),
    );
    let empty = write(dir, "empty.json", b"[]");
    let batch = json!({"Records": [{"eventVersion": "1.08", "eventTime": "2026-10-29T00:00:00Z",
        "eventSource": "secretsmanager.amazonaws.com", "eventName": "BatchGetSecretValue",
        "userIdentity": {"arn": "arn:aws:iam::123456789012:role/etl"},
        "requestParameters": {"filters": [{"key": "name", "values": ["prod/"]}]},
        "responseElements": null}]});
    let batch = write(dir, "batch.json", batch.to_string().as_bytes());
    let digest = write(
        dir,
        "digest.json",
        json!({"awsAccountId": "123456789012", "digestStartTime": "2026-10-30T00:00:00Z",
               "digestEndTime": "2026-10-30T01:00:00Z", "logFiles": []})
        .to_string()
        .as_bytes(),
    );
    let trail = gzip(&std::fs::read(fx("aws/cloudtrail.json")).expect("fixture"));
    let cut = write(dir, "cut.json.gz", &trail[..trail.len() / 2]);
    (vec![note, empty], vec![batch, digest, cut])
}

#[test]
fn the_json_report_of_a_rich_run_validates_against_its_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    kit_report(&dir.path().join("kit"), None);
    let inventory: Vec<String> = [
        "aws/list-secrets.json",
        "aws/describe-secret-v2.json",
        "aws/iam-keys.jsonl",
        "aws/credential-report.csv",
        "vault/kv-metadata.jsonl",
        "gcp/secrets.json",
        "gcp/versions.json",
        "azure/secrets.json",
        "azure/versions.json",
        "k8s/secrets.json",
        "generic/inventory.csv",
        "generic/inventory.json",
    ]
    .iter()
    .map(|f| fx(f))
    .collect();
    let logs: Vec<String> = [
        "aws/cloudtrail.json",
        "vault/audit.log",
        "gcp/audit.json",
        "azure/audit.json",
    ]
    .iter()
    .map(|f| fx(f))
    .collect();
    let (more_inventory, more_logs) = rich_extras(dir.path());
    let mut a = args(
        &[inventory, more_inventory].concat(),
        &[logs, more_logs].concat(),
        &[fx("findings/scan.json")],
        Some(fx("policy.toml")),
    );
    let access = Path::new(&fx("access")).to_path_buf();
    a.policy_doc = std::fs::read_dir(&access)
        .expect("access fixtures")
        .map(|e| e.expect("entry").path().to_string_lossy().into_owned())
        .collect();
    a.policy_doc.sort();
    a.previous = Some(
        dir.path()
            .join("kit/last-month.json")
            .to_string_lossy()
            .into_owned(),
    );
    a.allow_partial = true;
    let (code, text) = audit_as(a, "json");
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&text).expect("json");

    // Every family fires, and every optional part of the document is there to validate.
    let families: BTreeSet<&str> = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["check"].as_str()?.split('-').next())
        .collect();
    assert_eq!(
        families,
        [
            "ACC", "EXP", "INV", "KEY", "LEAK", "PRV", "ROT", "SEP", "SHR", "USE"
        ]
        .into_iter()
        .collect()
    );
    let any =
        |f: &dyn Fn(&Value) -> bool| doc["results"].as_array().is_some_and(|v| v.iter().any(f));
    assert!(any(&|r| r["exemption"].is_object()));
    assert!(any(&|r| r["expired_exemption"].is_object()));
    assert!(any(&|r| r["state"] == "new") && any(&|r| r["state"] == "open"));
    assert!(any(&|r| r["status"] == "review"));
    let statuses: BTreeSet<&str> = doc["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .filter_map(|i| i["status"].as_str())
        .collect();
    assert_eq!(
        statuses,
        ["empty", "ok", "partial", "skipped"].into_iter().collect()
    );
    for key in [
        "filter_reads",
        "input_notes",
        "input_errors",
        "rotate_first",
    ] {
        assert!(doc[key].as_array().is_some_and(|v| !v.is_empty()), "{key}");
    }
    assert!(doc["changes"]["resolved_results"][0].is_object());
    assert!(doc["access"]["secrets"][0]["readers"][0].is_object());

    const SCHEMA: &str = "docs/audit-report.schema.json";
    let errors = schema_errors(SCHEMA, &doc);
    assert!(errors.is_empty(), "{errors:#?}");

    // The schema holds the report to its documented shape.
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut d = doc.clone();
        edit(&mut d);
        schema_errors(SCHEMA, &d)
    };
    for (what, errs) in [
        (
            "a field no version wrote",
            broken(&|d| d["results"][0]["value"] = json!("x")),
        ),
        (
            "a missing fix",
            broken(&|d| {
                d["results"][0].as_object_mut().map(|o| o.remove("fix"));
            }),
        ),
        (
            "an unknown severity",
            broken(&|d| d["results"][1]["severity"] = json!("severe")),
        ),
        (
            "a local time",
            broken(&|d| d["now"] = json!("2026-11-01 00:00")),
        ),
        (
            "another schema",
            broken(&|d| d["schema"] = json!("keywarden/audit/v2")),
        ),
        (
            "an unknown input status",
            broken(&|d| d["inputs"][0]["status"] = json!("fine")),
        ),
    ] {
        assert_eq!(errs.len(), 1, "{what}: {errs:?}");
    }
}
