//! What went wrong when the auditor was tried as a new user would, on exports written by
//! others (issue 22, item 7): stale logs, secrets without dates, stray bytes, one broken
//! `.gz` among many, UTF-16 files, get-secret-value dates, database secrets, reads by filter,
//! loose base64, the two "failing" numbers, leaked key pairs, remediation text and user
//! classification rules. Inputs are generated here; every credential in them is fake
//! (random, made at test time).

use crate::common_audit;
use common_audit::*;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

/// Fake credentials from the shared generator, one fixed seed per test, so that every run
/// writes the same inputs and a failure can be replayed.
struct Fake(crate::corpus::Rng);

impl Fake {
    fn new(seed: u64) -> Fake {
        Fake(crate::corpus::Rng::new(seed))
    }
    /// `n` characters of `alphabet`, each drawn independently.
    fn pick(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| *self.0.pick(alphabet) as char).collect()
    }
    /// An access key id in AWS's shape (`AKIA` + 16 base32 characters).
    fn key_id(&mut self) -> String {
        format!("AKIA{}", self.pick(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16))
    }
    fn fingerprint(&mut self) -> String {
        format!("kw1:{}", self.pick(b"0123456789abcdef", 32))
    }
}

fn arn(name: &str) -> String {
    format!("{ARN}{name}-Ab12Cd")
}

fn results<'a>(r: &'a Report, check: &str) -> Vec<&'a Value> {
    r.json["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|x| x["check"] == check)
        .collect()
}

fn ids(r: &Report, check: &str) -> BTreeSet<String> {
    results(r, check)
        .iter()
        .filter_map(|x| x["secret_id"].as_str().map(str::to_string))
        .collect()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn kv_line(path: &str, created: &str) -> String {
    json!({"path": path, "metadata": {"data": {
        "created_time": created, "current_version": 1, "updated_time": created,
        "versions": {"1": {"created_time": created, "deletion_time": "", "destroyed": false}}}}})
    .to_string()
}

fn vault_read(time: &str, path: &str, id: &str) -> String {
    json!({"time": time, "type": "response", "auth": {"display_name": "app"},
           "request": {"id": id, "operation": "read", "path": format!("secret/data/{path}"),
                       "mount_point": "secret/", "mount_type": "kv"}})
    .to_string()
}

#[test]
fn usage_claims_need_logs_that_reach_now() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let inv = write(
        d,
        "kv.jsonl",
        format!(
            "{}\n{}\n{}\n",
            kv_line("secret/prod/read-once", "2025-01-01T00:00:00Z"),
            kv_line("secret/prod/never-read", "2026-01-02T00:00:00Z"),
            kv_line("secret/prod/busy", "2025-01-01T00:00:00Z"),
        )
        .as_bytes(),
    );
    // Logs from January to March only: they end 245 days before --now.
    let stale = [
        vault_read("2026-01-01T00:00:00Z", "prod/busy", "r0"),
        vault_read("2026-01-05T00:00:00Z", "prod/read-once", "r1"),
        vault_read("2026-03-01T00:00:00Z", "prod/busy", "r2"),
    ]
    .join("\n");
    let stale_log = write(d, "stale.log", stale.as_bytes());
    let r = audit(
        std::slice::from_ref(&inv),
        std::slice::from_ref(&stale_log),
        &[],
    );
    for c in ["USE-001", "USE-002"] {
        assert!(ids(&r, c).is_empty(), "{c}: {:?}", ids(&r, c));
    }
    assert_eq!(
        ids(&r, "USE-003"),
        set(&[
            "vault:secret/prod/read-once",
            "vault:secret/prod/never-read",
            "vault:secret/prod/busy"
        ])
    );
    let u = r.result("USE-003", "vault:secret/prod/never-read");
    assert_eq!(u["status"], "review");
    assert!(
        u["message"]
            .as_str()
            .unwrap_or("")
            .contains("the audit logs end 2026-03-01"),
        "{u}"
    );
    assert_eq!(u["failing"], false);

    // The same logs reaching --now (one read of another secret yesterday) support the claims.
    let current = format!(
        "{stale}\n{}",
        vault_read("2026-10-31T00:00:00Z", "prod/busy", "r3")
    );
    let current_log = write(d, "current.log", current.as_bytes());
    let r = audit(std::slice::from_ref(&inv), &[current_log], &[]);
    assert_eq!(ids(&r, "USE-001"), set(&["vault:secret/prod/read-once"]));
    assert_eq!(ids(&r, "USE-002"), set(&["vault:secret/prod/never-read"]));
    assert!(ids(&r, "USE-003").is_empty());

    // How stale the logs may be is the policy's call.
    let pdir = tempfile::tempdir().expect("tempdir");
    let pol = policy_file(&pdir, "[logs]\nmax_lag_days = 300\n");
    let r = audit_with(args(&[inv], &[stale_log], &[], Some(pol)));
    assert_eq!(
        ids(&r, "USE-001"),
        set(&["vault:secret/prod/read-once", "vault:secret/prod/busy"])
    );
    assert_eq!(ids(&r, "USE-002"), set(&["vault:secret/prod/never-read"]));
}

#[test]
fn secrets_without_dates_are_reported_as_not_evaluated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sm = write(
        dir.path(),
        "sm.json",
        json!({"SecretList": [
            {"ARN": arn("prod/undated"), "Name": "prod/undated", "SecretVersionsToStages": {"v1": ["AWSCURRENT"]}},
            {"ARN": arn("prod/dated"), "Name": "prod/dated", "CreatedDate": 1792022400.0,
             "LastAccessedDate": 1792022400.0, "SecretVersionsToStages": {"v1": ["AWSCURRENT"]}}
        ]})
        .to_string()
        .as_bytes(),
    );
    let generic = write(dir.path(), "inv.csv", b"id,name\nundated-generic,thing\n");
    let r = audit(&[sm.clone(), generic.clone()], &[], &[]);
    assert_eq!(
        ids(&r, "INV-002"),
        set(&[&arn("prod/undated"), "undated-generic"])
    );
    assert_eq!(r.result("INV-002", "undated-generic")["status"], "review");
    let (_, text) = audit_as(args(&[sm, generic], &[], &[], None), "text");
    assert!(text.contains("age unknown, not evaluated"), "{text}");
}

#[test]
fn a_byte_that_is_not_utf8_keeps_the_record_and_is_noted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut doc = json!({"SecretList": [
        {"ARN": arn("prod/api/caf"), "Name": "prod/api/caf", "Description": "DESC",
         "CreatedDate": 1735689600.0, "SecretVersionsToStages": {"v1": ["AWSCURRENT"]}},
        {"ARN": arn("prod/api/plain"), "Name": "prod/api/plain",
         "CreatedDate": 1735689600.0, "SecretVersionsToStages": {"v1": ["AWSCURRENT"]}}
    ]})
    .to_string()
    .into_bytes();
    // "Café key" written by a Latin-1 tool: 0xE9 is not UTF-8.
    let at = doc.windows(4).position(|w| w == b"DESC").expect("marker");
    doc.splice(at..at + 4, b"Caf\xe9 key".iter().copied());
    let sm = write(dir.path(), "sm.json", &doc);
    // The same in a JSON Lines CloudTrail log (a user agent with a stray byte).
    let mut line = json!({"eventVersion": "1.08", "eventTime": "2026-10-30T10:00:00Z",
        "eventSource": "secretsmanager.amazonaws.com", "eventName": "GetSecretValue",
        "userAgent": "UA", "userIdentity": {"arn": "arn:aws:iam::123456789012:user/app"},
        "requestParameters": {"secretId": "prod/api/caf"}})
    .to_string()
    .into_bytes();
    let at = line.windows(2).position(|w| w == b"UA").expect("marker");
    line.splice(at..at + 2, b"sdk\xff".iter().copied());
    line.push(b'\n');
    let log = write(dir.path(), "trail.jsonl", &line);
    let r = audit(&[sm], &[log], &[]);
    assert!(r.errors().is_empty(), "{}", r.json["input_errors"]);
    assert_eq!(r.json["summary"]["secrets"], 2);
    assert!(ids(&r, "ROT-003").contains(&arn("prod/api/caf")));
    assert_eq!(r.json["coverage"]["aws"]["events"], 1);
    let notes = r.json["input_notes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes.iter().all(|n| {
        n["note"]
            .as_str()
            .is_some_and(|t| t.contains("not UTF-8") && t.contains("kept"))
    }));
    assert!(notes.iter().any(|n| {
        n["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("trail.jsonl"))
            && n["line"] == 1
    }));
    assert_eq!(r.json["summary"]["input_notes"], 2);
}

#[test]
fn one_truncated_gz_among_many_log_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail: Value =
        serde_json::from_str(&std::fs::read_to_string(fx("aws/cloudtrail.json")).expect("fixture"))
            .expect("json");
    let records = trail["Records"].as_array().expect("records");
    // One delivery file per record, as S3 holds them; the seventh is cut mid-stream.
    let mut logs = Vec::new();
    for (i, rec) in records.iter().enumerate() {
        let gz = gzip(json!({"Records": [rec]}).to_string().as_bytes());
        let gz = if i == 6 {
            gz[..gz.len() / 2].to_vec()
        } else {
            gz
        };
        logs.push(write(dir.path(), &format!("trail-{i:02}.json.gz"), &gz));
    }
    let inv = [fx("aws/list-secrets.json")];
    let whole = audit(&inv, &[fx("aws/cloudtrail.json")], &[]);
    let r = audit_with(args(&inv, &logs, &[], None));
    assert_eq!(r.code, 2);
    assert_eq!(r.json["summary"]["partial"], true);
    assert_eq!(r.json["summary"]["partial_inputs"], 1);
    assert_eq!(input(&r, "trail-06.json.gz")["status"], "partial");
    let ok = r.json["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["status"] == "ok")
        .count();
    assert_eq!(ok, inv.len() + records.len() - 1);
    let events = r.json["coverage"]["aws"]["events"].as_u64().unwrap_or(0);
    assert!(
        events + 1
            >= whole.json["coverage"]["aws"]["events"]
                .as_u64()
                .unwrap_or(0)
            && events > 0,
        "{events}"
    );
    // Every report format is still written, and says it is partial.
    let mut a = args(&inv, &logs, &[], None);
    for (format, mark) in [
        ("text", "PARTIAL AUDIT"),
        ("markdown", "Partial audit"),
        ("html", "PARTIAL AUDIT"),
        ("sarif", "\"executionSuccessful\": false"),
        ("junit", "testsuite"),
    ] {
        let (code, out) = audit_as(a.clone(), format);
        assert_eq!(code, 2, "{format}");
        assert!(out.contains(mark), "{format}: {out}");
    }
    a.allow_partial = true;
    assert_eq!(audit_with(a).code, whole.code);
}

/// `text` as Windows PowerShell 5's `>` writes it: UTF-16 LE with a byte-order mark.
fn utf16le(text: &str) -> Vec<u8> {
    let mut v = vec![0xff, 0xfe];
    for u in text.encode_utf16() {
        v.extend_from_slice(&u.to_le_bytes());
    }
    v
}

#[test]
fn utf16_files_from_powershell_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let read = |p: &str| std::fs::read_to_string(fx(p)).expect("fixture");
    let sm = write(d, "sm.json", &utf16le(&read("aws/list-secrets.json")));
    let csv = write(
        d,
        "inv.csv",
        &utf16le(&read("generic/inventory.csv").replace('\n', "\r\n")),
    );
    let trail = write(
        d,
        "trail.json.gz",
        &gzip(&utf16le(&read("aws/cloudtrail.json"))),
    );
    let base = audit(
        &[fx("aws/list-secrets.json"), fx("generic/inventory.csv")],
        &[fx("aws/cloudtrail.json")],
        &[],
    );
    let r = audit(&[sm, csv], &[trail], &[]);
    assert_eq!(r.code, base.code);
    assert_eq!(r.fails(), base.fails());
    assert!(!r.fails().is_empty());
    assert_eq!(
        r.errors().len(),
        base.errors().len(),
        "{}",
        r.json["input_errors"]
    );
    assert_eq!(input(&r, "sm.json")["format"], "aws-secrets");
    assert_eq!(input(&r, "inv.csv")["format"], "generic");
    assert_eq!(input(&r, "trail.json.gz")["format"], "cloudtrail");
    // Line numbers are the file's own.
    let lines = |r: &Report| -> Vec<u64> {
        r.json["results"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x["location"]["line"].as_u64())
            .collect()
    };
    assert_eq!(lines(&r), lines(&base));
}

#[test]
fn get_secret_value_created_date_is_the_current_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut f = Fake::new(1);
    let listing = write(
        dir.path(),
        "sm.json",
        json!({"SecretList": [{"ARN": arn("prod/api/rotated"), "Name": "prod/api/rotated",
            "CreatedDate": 1735689600.0, "LastAccessedDate": 1792022400.0,
            "SecretVersionsToStages": {"v1": ["AWSPREVIOUS"], "v2": ["AWSCURRENT"]}}]})
        .to_string()
        .as_bytes(),
    );
    let value = write(
        dir.path(),
        "gsv.json",
        json!({"ARN": arn("prod/api/rotated"), "Name": "prod/api/rotated", "VersionId": "v2",
               "SecretString": f.pick(b"abcdefghijklmnopqrstuvwxyz0123456789", 24),
               "VersionStages": ["AWSCURRENT"], "CreatedDate": 1790812800.0})
        .to_string()
        .as_bytes(),
    );
    let id = arn("prod/api/rotated");
    for order in [
        vec![listing.clone(), value.clone()],
        vec![value.clone(), listing.clone()],
    ] {
        let r = audit(&order, &[], &[]);
        // Rotated 2026-10-01 by its current version: not overdue, not "never rotated".
        assert!(!ids(&r, "ROT-003").contains(&id), "{}", r.json["results"]);
        assert!(ids(&r, "INV-001").contains(&id));
    }
    // The listing alone cannot date the rotation, but must not call it "never rotated".
    let r = audit(&[listing], &[], &[]);
    let rot = r.result("ROT-003", &id);
    let text = rot.to_string();
    assert!(
        text.contains("AWSPREVIOUS") && !text.contains("never rotated"),
        "{rot}"
    );
}

#[test]
fn database_secrets_classify_as_database_passwords() {
    let dir = tempfile::tempdir().expect("tempdir");
    let entry = |name: &str, extra: Value| {
        let mut e = json!({"ARN": arn(name), "Name": name, "CreatedDate": 1790812800.0,
            "LastAccessedDate": 1792022400.0, "RotationEnabled": false,
            "SecretVersionsToStages": {"v1": ["AWSCURRENT"]}});
        if let (Some(m), Value::Object(x)) = (e.as_object_mut(), extra) {
            m.extend(x);
        }
        e
    };
    let sm = write(
        dir.path(),
        "sm.json",
        json!({"SecretList": [
            entry("rds!db-0a1b2c3d-aaaa-bbbb-cccc-0123456789ab", json!({"OwningService": "rds"})),
            entry("rds!cluster-0a1b2c3d-aaaa-bbbb-cccc-0123456789ab", json!({})),
            entry("prod/orders/managed", json!({"OwningService": "rds"})),
            entry("prod/orders-database", json!({})),
            entry("prod/billing/master", json!({"Description": "Master password for the billing DB"})),
            entry("prod/api/stripe", json!({"Description": "Stripe API key"})),
        ]})
        .to_string()
        .as_bytes(),
    );
    let r = audit(&[sm], &[], &[]);
    // db_password requires automatic rotation: ROT-001 shows the class took effect.
    assert_eq!(
        ids(&r, "ROT-001"),
        set(&[
            &arn("rds!db-0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"),
            &arn("rds!cluster-0a1b2c3d-aaaa-bbbb-cccc-0123456789ab"),
            &arn("prod/orders/managed"),
            &arn("prod/orders-database"),
            &arn("prod/billing/master"),
        ])
    );
    let class_of = |name: &str| {
        r.json["secrets"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["name"] == name)
            .map(|s| {
                (
                    s["class"].clone(),
                    s["class_source"].as_str().unwrap_or("").to_string(),
                )
            })
            .expect("secret listed")
    };
    assert_eq!(
        class_of("prod/orders/managed").1,
        "database signal: OwningService rds"
    );
    assert!(class_of("prod/billing/master").1.contains("description"));
    assert_eq!(class_of("prod/api/stripe").0, "api_key");
}

#[test]
fn batch_reads_by_filter_and_gcp_entries_without_timestamp() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secrets: Vec<Value> = ["prod/app/one", "prod/app/two", "staging/app/one"]
        .iter()
        .map(|n| {
            json!({"ARN": arn(n), "Name": n, "CreatedDate": 1790812800.0,
                   "LastAccessedDate": 1792022400.0, "SecretVersionsToStages": {"v1": ["AWSCURRENT"]}})
        })
        .collect();
    let sm = write(
        dir.path(),
        "sm.json",
        json!({"SecretList": secrets}).to_string().as_bytes(),
    );
    let batch = |t: &str| {
        json!({"eventVersion": "1.08", "eventTime": t, "eventSource": "secretsmanager.amazonaws.com",
               "eventName": "BatchGetSecretValue", "userIdentity": {"arn": "arn:aws:iam::123456789012:role/etl"},
               "requestParameters": {"filters": [{"key": "name", "values": ["prod/"]}]}, "responseElements": null})
    };
    let other = json!({"eventVersion": "1.08", "eventTime": "2026-10-30T00:00:00Z",
        "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances",
        "userIdentity": {"arn": "arn:aws:iam::123456789012:role/etl"}});
    let trail = write(
        dir.path(),
        "trail.json",
        json!({"Records": [batch("2026-10-29T00:00:00Z"), batch("2026-10-30T00:00:00Z"), other]})
            .to_string()
            .as_bytes(),
    );
    let r = audit(&[sm], &[trail], &[]);
    let fr = &r.json["filter_reads"];
    assert_eq!(fr.as_array().map(Vec::len), Some(1), "{fr}");
    assert_eq!(fr[0]["count"], 2);
    assert_eq!(fr[0]["filters"], "name=prod/");
    let covered: BTreeSet<String> = fr[0]["could_cover"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    assert_eq!(covered, set(&[&arn("prod/app/one"), &arn("prod/app/two")]));
    assert_eq!(r.json["coverage"]["aws"]["unrelated_records"], 1);

    let gcp = write(
        dir.path(),
        "gcp.json",
        json!([{"protoPayload": {"serviceName": "secretmanager.googleapis.com",
            "methodName": "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion",
            "resourceName": "projects/123/secrets/db-pass/versions/1",
            "authenticationInfo": {"principalEmail": "app@example.iam.gserviceaccount.com"},
            "requestMetadata": {"requestAttributes": {"time": "2026-10-30T08:00:00.123Z"}}}}])
        .to_string()
        .as_bytes(),
    );
    let r = audit(&[fx("gcp/secrets.json")], &[gcp], &[]);
    assert!(r.errors().is_empty(), "{}", r.json["input_errors"]);
    assert_eq!(r.json["coverage"]["gcp"]["events"], 1);
    assert_eq!(r.json["coverage"]["gcp"]["from"], "2026-10-30T08:00:00Z");
}

#[test]
fn kubernetes_values_that_are_not_strict_base64() {
    use base64::Engine;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut f = Fake::new(2);
    let values: Vec<String> = (0..3)
        .map(|_| f.pick(b"abcdefghijklmnopqrstuvwxyz0123456789", 20))
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD;
    let strict = b64.encode(&values[0]);
    let unpadded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&values[1]);
    let k8s = write(
        dir.path(),
        "k8s.json",
        json!({"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "app", "namespace": "prod", "creationTimestamp": "2026-10-01T00:00:00Z"},
            "data": {"a-strict": strict, "b-unpadded": unpadded, "c-broken": "%%not base64%%"}}]})
        .to_string()
        .as_bytes(),
    );
    let r = audit(std::slice::from_ref(&k8s), &[], &[]);
    let inv = r.result("INV-001", "k8s:prod/app");
    let listed = inv["evidence"]["values"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(listed.len(), 3, "{inv}");
    let by_field = |name: &str| {
        listed
            .iter()
            .find(|v| v["field"] == format!("data.{name}"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert!(by_field("a-strict")["fingerprint"].is_string());
    assert!(by_field("a-strict")["note"].is_null());
    assert!(by_field("b-unpadded")["fingerprint"].is_string());
    assert!(
        by_field("b-unpadded")["note"]
            .as_str()
            .unwrap_or("")
            .contains("not strict base64")
    );
    assert!(by_field("c-broken")["fingerprint"].is_null());
    assert!(
        by_field("c-broken")["note"]
            .as_str()
            .unwrap_or("")
            .contains("could not be decoded")
    );
    let msg = inv["message"].as_str().unwrap_or("");
    assert!(msg.contains("data.c-broken (not valid base64"), "{msg}");
    // Each fingerprint sits next to its own field.
    let fp_a = by_field("a-strict")["fingerprint"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        msg.contains(&format!("data.a-strict (fingerprint {fp_a})")),
        "{msg}"
    );
    for format in ["text", "markdown", "json", "sarif"] {
        let (_, out) = audit_as(args(std::slice::from_ref(&k8s), &[], &[], None), format);
        for v in &values[..2] {
            assert!(!out.contains(v.as_str()), "{format} shows a value");
        }
    }
}

#[test]
fn the_two_failing_numbers_are_named_the_same_everywhere() {
    let inv = [fx("aws/list-secrets.json")];
    let logs = [fx("aws/cloudtrail.json")];
    for fail_on in ["none", "high"] {
        let mut a = args(&inv, &logs, &[], None);
        a.fail_on = fail_on.into();
        let r = audit_with(a.clone());
        let fail = r.json["summary"]["fail"].as_u64().expect("fail");
        let failing = r.json["summary"]["failing"].as_u64().expect("failing");
        assert!(fail > 0);
        if fail_on == "none" {
            assert_eq!(failing, 0);
        } else {
            assert!(failing > 0 && failing <= fail);
        }
        let phrase = format!("{fail} results fail the policy");
        let at = format!("{failing} failing at --fail-on {fail_on}");
        let (_, text) = audit_as(a.clone(), "text");
        assert!(text.contains(&phrase) && text.contains(&at), "{text}");
        let (_, md) = audit_as(a.clone(), "markdown");
        assert!(
            md.contains(&phrase) && md.contains(&format!("**{at}**")),
            "{md}"
        );
        let (_, sarif) = audit_as(a, "sarif");
        let sarif: Value = serde_json::from_str(&sarif).expect("sarif");
        let summary = &sarif["runs"][0]["properties"]["summary"];
        assert_eq!(summary["fail"], fail);
        assert_eq!(summary["failing"], failing);
        // The event count says what was left out.
        let unrelated = r.json["coverage"]["aws"]["unrelated_records"]
            .as_u64()
            .expect("unrelated");
        assert!(text.contains("records skipped as unrelated"), "{text}");
        assert!(
            md.contains(&format!("{unrelated} records skipped as unrelated")),
            "{md}"
        );
    }
}

fn finding(rule: &str, name: &str, key: Option<&str>, fp: &str, path: &str, line: u64) -> Value {
    let mut f = json!({"rule_id": rule, "rule_name": name, "severity": "critical", "path": path,
        "line": line, "fingerprint": fp, "secret": "AKIA************",
        "commit": {"id": "0123456789abcdef0123456789abcdef01234567", "author_date": "2026-10-01T00:00:00Z"}});
    if let Some(k) = key {
        f["key_id"] = json!(k);
    }
    f
}

#[test]
fn leaked_key_pair_is_one_credential_and_says_what_it_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut f = Fake::new(3);
    let key = f.key_id();
    let (fp_id, fp_secret, fp_token) = (f.fingerprint(), f.fingerprint(), f.fingerprint());
    let findings = write(
        dir.path(),
        "findings.json",
        json!({"schema": "keywarden/scan/v1", "scan_time": "2026-10-31T00:00:00Z", "findings": [
            finding("aws-access-key-id", "AWS access key ID", Some(&key), &fp_id, "deploy/.env", 3),
            finding("aws-secret-access-key", "AWS secret access key", None, &fp_secret, "deploy/.env", 4),
            finding("github-pat", "GitHub personal access token", None, &fp_token, "ci/config.yml", 12),
        ]})
        .to_string()
        .as_bytes(),
    );
    let a = args(&[], &[], &[findings], None);
    let r = audit_with(a.clone());
    let pair_id = format!("aws-iam-key:{key}");
    assert_eq!(ids(&r, "LEAK-003"), set(&[&pair_id, &fp_token]));
    let pair = r.result("LEAK-003", &pair_id);
    let msg = pair["message"].as_str().unwrap_or("");
    assert!(
        msg.contains("AWS secret access key")
            && msg.contains("key pair")
            && msg.contains("deploy/.env:4"),
        "{msg}"
    );
    assert_eq!(pair["evidence"]["findings"], 2);
    let token = r.result("LEAK-003", &fp_token);
    assert!(
        token["name"]
            .as_str()
            .unwrap_or("")
            .contains("GitHub personal access token"),
        "{token}"
    );
    for format in ["text", "markdown"] {
        let (_, out) = audit_as(a.clone(), format);
        let rotate = out.split("Rotate first").nth(1).unwrap_or("");
        assert!(
            rotate.contains("GitHub personal access token"),
            "{format}: {out}"
        );
        assert!(rotate.contains("ci/config.yml:12"), "{format}: {out}");
    }
}

#[test]
fn remediation_is_in_the_text_and_markdown_reports() {
    let a = args(
        &[fx("aws/list-secrets.json")],
        &[fx("aws/cloudtrail.json")],
        &[],
        None,
    );
    let r = audit_with(a.clone());
    let checks: BTreeSet<String> = r.json["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["check"].as_str().map(str::to_string))
        .collect();
    assert!(checks.contains("ROT-003"));
    let (_, text) = audit_as(a.clone(), "text");
    let (_, md) = audit_as(a, "markdown");
    for c in &checks {
        let fix = c
            .parse::<keywarden::audit::checks::CheckId>()
            .expect("a known check")
            .def()
            .fix;
        assert!(text.contains(fix), "text lacks the fix for {c}");
        // Markdown escapes `|` in table cells.
        assert!(
            md.contains(&fix.replace('|', "\\|")),
            "markdown lacks the fix for {c}"
        );
    }
    assert!(text.contains("How to fix:") && md.contains("## How to fix"));
}

#[test]
fn user_classification_rules_extend_the_builtin_ones() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    // The README's sample policy, as a new user copies it.
    let sample = readme
        .split("```toml\n")
        .find(|b| b.contains("[[classification.rule]]"))
        .and_then(|b| b.split("```").next())
        .expect("sample policy")
        .to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = [fx("aws/list-secrets.json")];
    let db = arn("prod/db/password").replace("-Ab12Cd", "");
    let db_id = |r: &Report| {
        r.json["secrets"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["id"].as_str().is_some_and(|i| i.starts_with(&db)))
            .cloned()
            .expect("prod/db/password listed")
    };
    let pol = policy_file(&dir, &sample);
    let r = audit_with(args(&inv, &[], &[], Some(pol)));
    let s = db_id(&r);
    assert_eq!(s["class"], "db_password", "{s}");
    assert!(
        s["class_source"]
            .as_str()
            .unwrap_or("")
            .starts_with("built-in rule"),
        "{s}"
    );
    assert!(
        r.fails()
            .iter()
            .any(|(c, i)| c == "ROT-001" && i.starts_with(&db)),
        "{:?}",
        r.fails()
    );
    // Every secret is listed with its class and why.
    let listed = r.json["secrets"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(
        listed as u64,
        r.json["summary"]["secrets"].as_u64().unwrap_or(0)
    );

    let replacing = sample.replace(
        "[classification]\n",
        "[classification]\nreplace_builtin = true\n",
    );
    let dir2 = tempfile::tempdir().expect("tempdir");
    let pol = policy_file(&dir2, &replacing);
    let r = audit_with(args(&inv, &[], &[], Some(pol)));
    assert_eq!(db_id(&r)["class"], "api_key");
    assert!(
        !r.fails()
            .iter()
            .any(|(c, i)| c == "ROT-001" && i.starts_with(&db))
    );
    let (_, text) = audit_as(args(&inv, &[], &[], None), "text");
    assert!(
        text.contains("Classification (") && text.contains("→ db_password (built-in rule"),
        "{text}"
    );
}
