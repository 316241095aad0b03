//! Reports over time: `--previous OLD.json` marks results new, still open (since when) or
//! resolved, and the Markdown report opens with what changed.

use crate::common_audit;
use common_audit::*;

use serde_json::Value;

fn run_at(inv: &str, now: &str, previous: Option<&str>, format: &str) -> (i32, String) {
    let mut a = args(&[inv.to_string()], &[], &[], None);
    a.now = Some(now.to_string());
    a.previous = previous.map(str::to_string);
    audit_as(a, format)
}

fn state_of<'a>(report: &'a Value, check: &str, id: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["check"] == check && r["secret_id"] == id)
        .unwrap_or(&Value::Null)
}

#[test]
fn results_are_new_open_or_resolved_across_three_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let header = "id,name,created,last_rotated\n";
    let inv1 = write(
        dir.path(),
        "inv1.csv",
        format!("{header}app-a,a,2025-01-01,\napp-b,b,2025-01-01,\n").as_bytes(),
    );
    let (_, first) = run_at(&inv1, "2026-10-01T00:00:00Z", None, "json");
    let first_json: Value = serde_json::from_str(&first).expect("json");
    assert_eq!(first_json["changes"], Value::Null);
    assert_eq!(
        state_of(&first_json, "ROT-003", "app-a")["state"],
        Value::Null
    );
    assert_eq!(
        state_of(&first_json, "ROT-003", "app-a")["first_seen"],
        "2026-10-01T00:00:00Z"
    );
    let old = write(dir.path(), "old.json", first.as_bytes());

    // b was rotated, c is new, a is still overdue.
    let inv2 = write(
        dir.path(),
        "inv2.csv",
        format!(
            "{header}app-a,a,2025-01-01,\napp-b,b,2025-01-01,2026-10-15\napp-c,c,2025-06-01,\n"
        )
        .as_bytes(),
    );
    let (code, second) = run_at(&inv2, "2026-11-01T00:00:00Z", Some(&old), "json");
    assert_eq!(code, 1);
    let j: Value = serde_json::from_str(&second).expect("json");
    let a = state_of(&j, "ROT-003", "app-a");
    assert_eq!(a["state"], "open");
    assert_eq!(a["first_seen"], "2026-10-01T00:00:00Z");
    assert_eq!(a["open_days"], 31);
    let c = state_of(&j, "ROT-003", "app-c");
    assert_eq!(c["state"], "new");
    assert_eq!(c["open_days"], 0);
    assert_eq!(j["changes"]["new"], 1);
    assert_eq!(j["changes"]["open"], 1);
    assert_eq!(j["changes"]["resolved"], 1);
    assert_eq!(j["changes"]["resolved_results"][0]["secret_id"], "app-b");
    assert_eq!(
        j["changes"]["resolved_results"][0]["last_seen"],
        "2026-10-01T00:00:00Z"
    );
    assert_eq!(j["changes"]["previous"]["now"], "2026-10-01T00:00:00Z");

    // The third run counts from the first sighting, carried by the second report.
    let mid = write(dir.path(), "mid.json", second.as_bytes());
    let (_, third) = run_at(&inv2, "2026-12-01T00:00:00Z", Some(&mid), "json");
    let j3: Value = serde_json::from_str(&third).expect("json");
    assert_eq!(state_of(&j3, "ROT-003", "app-a")["open_days"], 61);
    assert_eq!(
        state_of(&j3, "ROT-003", "app-c")["first_seen"],
        "2026-11-01T00:00:00Z"
    );
    assert_eq!(j3["changes"]["resolved"], 0);

    let (_, md) = run_at(&inv2, "2026-11-01T00:00:00Z", Some(&old), "markdown");
    let changed = md.find("## What changed since last time").expect("section");
    assert!(changed < md.find("## Summary").expect("summary"), "{md}");
    assert!(
        md.contains("**1 new**, 1 still open, **1 resolved**"),
        "{md}"
    );
    assert!(md.contains("| high | ROT-003 | `app-c` |"), "{md}");
    assert!(
        md.contains("| high | ROT-003 | `app-b` | 2026-10-01 |"),
        "{md}"
    );
    assert!(
        md.contains("| high | ROT-003 | `app-a` | 31 days |"),
        "{md}"
    );
    let (_, sarif) = run_at(&inv2, "2026-11-01T00:00:00Z", Some(&old), "sarif");
    let s: Value = serde_json::from_str(&sarif).expect("sarif");
    let states: Vec<&str> = s["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["baselineState"].as_str().unwrap_or(""))
        .collect();
    assert!(
        states.contains(&"new") && states.contains(&"unchanged"),
        "{states:?}"
    );
    let (_, text) = run_at(&inv2, "2026-11-01T00:00:00Z", Some(&old), "text");
    assert!(text.contains("1 new, 1 still open, 1 resolved"), "{text}");
    assert!(text.contains("app-a [open 31 days]"), "{text}");
}

#[test]
fn a_previous_that_is_not_an_audit_report_is_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = write(dir.path(), "inv.csv", b"id,name,created\nx,x,2025-01-01\n");
    for (name, body) in [
        (
            "scan.json",
            &b"{\"schema\": \"keywarden/scan/v1\", \"findings\": []}"[..],
        ),
        ("broken.json", b"{\n\"schema\": \"keywarden/audit/v1\",\n"),
        (
            "no-results.json",
            b"{\"schema\": \"keywarden/audit/v1\", \"now\": \"2026-10-01T00:00:00Z\"}",
        ),
    ] {
        let p = write(dir.path(), name, body);
        let (code, out) = run_at(&inv, "2026-11-01T00:00:00Z", Some(&p), "json");
        assert_eq!(code, 2, "{name}");
        assert!(out.is_empty(), "no report for bad input: {name}");
    }
}

/// The documented JSON schema names every field the report writes (top level, summary,
/// results), and SARIF with PRV results and baseline states still validates.
#[test]
fn json_fields_are_documented_and_sarif_validates() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/audit.md"))
        .expect("docs");
    let table = &doc[doc
        .find("Every field of the document")
        .expect("schema table")..];
    let table = &table[..table.find("### SARIF").expect("end of table")];
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = write(
        dir.path(),
        "inv.csv",
        b"id,name,created\napp-a,a,2025-01-01\n",
    );
    let pol = write(
        dir.path(),
        "vault.hcl",
        b"path \"secret/*\" {\n  capabilities = [\"read\"]\n}\n",
    );
    let mut a = args(std::slice::from_ref(&inv), &[], &[], None);
    a.policy_doc = vec![pol.clone()];
    let (_, first) = audit_as(a, "json");
    let old = write(dir.path(), "old.json", first.as_bytes());
    let mut a = args(&[inv], &[], &[], None);
    a.policy_doc = vec![pol];
    a.previous = Some(old);
    let (_, json) = audit_as(a.clone(), "json");
    let v: Value = serde_json::from_str(&json).expect("json");
    let mut missing = Vec::new();
    for (scope, obj) in [
        ("", &v),
        ("results[].", &v["results"][0]),
        ("summary", &v["summary"]),
    ] {
        for k in obj.as_object().expect("object").keys() {
            let documented = if scope == "summary" {
                table.contains(&format!("`{k}`"))
            } else {
                table.contains(&format!("`{scope}{k}`"))
                    || table.contains(&format!("`{scope}{k}[]`"))
                    || table.contains(&format!("`.{k}`"))
                    || (scope.is_empty() && table.contains(&format!("`{k}.")))
            };
            if !documented {
                missing.push(format!("{scope}{k}"));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented JSON fields: {missing:?}");

    let (_, sarif) = audit_as(a, "sarif");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/sarif-schema-2.1.0.json"
        ))
        .expect("schema"),
    )
    .expect("schema json");
    let validator = jsonschema::validator_for(&schema).expect("compile schema");
    let s: Value = serde_json::from_str(&sarif).expect("sarif");
    assert!(s.to_string().contains("PRV-001"));
    let errors: Vec<String> = validator.iter_errors(&s).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}
