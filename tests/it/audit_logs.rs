//! Each audit-log format (and each CloudTrail delivery shape) and the leak joins.

use crate::common_audit;
use common_audit::*;

use std::io::Write;

use serde_json::{Value, json};

fn arn(name: &str) -> String {
    format!("{ARN}{name}")
}

fn aws_expected() -> std::collections::BTreeSet<(String, String)> {
    expect(&[
        ("ROT-001", &arn("prod/db/password-Ab1234")),
        ("ROT-003", &arn("prod/db/password-Ab1234")),
        ("ROT-002", &arn("prod/api/stripe-key-Bc1234")),
        ("ROT-004", &arn("prod/api/rotating-Cd1234")),
        ("USE-001", &arn("legacy/unused-Ef1234")),
        ("ROT-003", &arn("legacy/never-read-Fg1234")),
        ("USE-002", &arn("legacy/never-read-Fg1234")),
        ("ROT-003", &arn("prod/api/exempt-Kl1234")),
        ("ROT-003", &arn("prod/api/lapsed-exemption-Lm1234")),
        ("ROT-004", &arn("prod/payments/db-creds-Mn1234")),
        ("ROT-003", &arn("prod/payments/old-Op1234")),
        // CloudTrail: read after DeletedDate, denied burst resolved by name to the ARN.
        ("ACC-001", &arn("prod/deleted-thing-Gh1234")),
        ("ACC-002", &arn("prod/api/probed-Ij1234")),
        // Findings: fingerprint join (tag), key-id joins and leaks outside the inventory.
        ("LEAK-001", &arn("prod/leaked-token-Hi1234")),
        ("LEAK-001", "aws-iam-key:AKIABOBLEAKED0000001"),
        ("LEAK-002", "aws-iam-key:AKIABOBLEAKED0000001"),
        ("LEAK-002", "aws-iam-key:AKIAUNKNOWN000000001"),
        ("LEAK-003", "aws-iam-key:AKIAUNKNOWN000000001"),
        ("LEAK-003", "kw1:deadbeefdeadbeefdeadbeefdeadbeef"),
        // IAM keys
        ("ROT-003", "aws-iam-key:AKIAIOSFODNN7EXAMPLE"),
        ("KEY-001", "aws-iam-key:AKIAIOSFODNN7EXAMPLE"),
        ("KEY-001", "aws-iam-key:AKIAI44QH8DHBEXAMPLE"),
        ("USE-002", "aws-iam-key:AKIACAROLNEVERUSED01"),
    ])
}

fn aws_inventory() -> Vec<String> {
    vec![
        fx("aws/list-secrets.json"),
        fx("aws/describe-secret-v2.json"),
        fx("aws/iam-keys.jsonl"),
    ]
}

fn records() -> Vec<Value> {
    let text = std::fs::read_to_string(fx("aws/cloudtrail.json")).expect("fixture");
    let v: Value = serde_json::from_str(&text).expect("json");
    v["Records"].as_array().cloned().unwrap_or_default()
}

#[test]
fn cloudtrail_records_file() {
    let r = audit(
        &aws_inventory(),
        &[fx("aws/cloudtrail.json")],
        &[fx("findings/scan.json")],
    );
    assert_eq!(r.fails(), aws_expected());
    assert_eq!(
        r.reviews(),
        expect(&[("ROT-005", &arn("prod/api/fresh-De1234"))])
    );
    let l2 = r.result("LEAK-002", "aws-iam-key:AKIABOBLEAKED0000001");
    assert_eq!(
        l2["evidence"]["first_use_after_leak"],
        "2026-10-20T12:00:00Z"
    );
    assert_eq!(r.json["coverage"]["aws"]["from"], "2026-10-10T00:00:05Z");
    assert_eq!(r.code, 1);
}

#[test]
fn cloudtrail_other_delivery_shapes_give_the_same_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let recs = records();
    // One event per line (CloudWatch Logs / SIEM export), gzipped.
    let jsonl = dir.path().join("events.jsonl.gz");
    {
        let f = std::fs::File::create(&jsonl).expect("create");
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        for r in &recs {
            writeln!(gz, "{r}").expect("write");
        }
        gz.finish().expect("gz");
    }
    // lookup-events: records as JSON strings.
    let lookup = dir.path().join("lookup.json");
    let events: Vec<Value> = recs
        .iter()
        .map(|r| json!({"EventId": "x", "EventName": r["eventName"], "EventTime": r["eventTime"], "Username": "u", "Resources": [], "CloudTrailEvent": r.to_string()}))
        .collect();
    std::fs::write(
        &lookup,
        serde_json::to_string_pretty(&json!({"Events": events})).expect("json"),
    )
    .expect("write");
    // EventBridge envelopes.
    let eb = dir.path().join("eventbridge.jsonl");
    let lines: Vec<String> = recs
        .iter()
        .map(|r| json!({"version": "0", "id": "x", "detail-type": "AWS API Call via CloudTrail", "source": "aws.secretsmanager", "account": "123456789012", "time": r["eventTime"], "region": "us-east-1", "resources": [], "detail": r}).to_string())
        .collect();
    std::fs::write(&eb, lines.join("\n")).expect("write");
    // Records file, gzipped as delivered to S3.
    let s3 = dir
        .path()
        .join("123456789012_CloudTrail_us-east-1_20261030T0000Z_abc.json.gz");
    {
        let f = std::fs::File::create(&s3).expect("create");
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        gz.write_all(
            serde_json::to_string(&json!({"Records": recs}))
                .expect("json")
                .as_bytes(),
        )
        .expect("write");
        gz.finish().expect("gz");
    }
    for p in [&jsonl, &lookup, &eb, &s3] {
        let r = audit(
            &aws_inventory(),
            &[p.to_string_lossy().into_owned()],
            &[fx("findings/scan.json")],
        );
        assert_eq!(r.fails(), aws_expected(), "{}", p.display());
        assert!(r.errors().is_empty(), "{}: {:?}", p.display(), r.errors());
    }
}

#[test]
fn leak_time_is_the_commit_date_and_rotation_after_it_clears_leak_001() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Same finding, committed before the last rotation (2026-10-01): no LEAK-001.
    let text = std::fs::read_to_string(fx("findings/scan.json"))
        .expect("fixture")
        .replace("2026-10-10T12:00:00Z", "2026-09-10T12:00:00Z");
    let p = dir.path().join("scan.json");
    std::fs::write(&p, text).expect("write");
    let r = audit(
        &[fx("aws/list-secrets.json")],
        &[],
        &[p.to_string_lossy().into_owned()],
    );
    assert!(
        !r.fails()
            .iter()
            .any(|(c, id)| c == "LEAK-001" && id.contains("leaked-token")),
        "{:?}",
        r.fails()
    );
}

#[test]
fn findings_json_jsonl_and_sarif_agree() {
    let inv = vec![
        fx("generic/inventory.csv"),
        fx("generic/inventory.json"),
        fx("aws/iam-keys.jsonl"),
    ];
    let want = {
        let r = audit(&inv, &[], &[fx("findings/scan.json")]);
        r.fails()
            .into_iter()
            .filter(|(c, _)| c.starts_with("LEAK"))
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(
        want,
        expect(&[
            ("LEAK-001", "gen-002"),
            ("LEAK-001", "gen-101"),
            ("LEAK-001", "aws-iam-key:AKIABOBLEAKED0000001"),
            ("LEAK-003", "aws-iam-key:AKIAUNKNOWN000000001"),
            ("LEAK-003", "kw1:deadbeefdeadbeefdeadbeefdeadbeef"),
        ])
    );
    for f in ["findings/scan.jsonl", "findings/scan.sarif"] {
        let r = audit(&inv, &[], &[fx(f)]);
        let got: std::collections::BTreeSet<_> = r
            .fails()
            .into_iter()
            .filter(|(c, _)| c.starts_with("LEAK"))
            .collect();
        assert_eq!(got, want, "{f}");
    }
}

#[test]
fn vault_audit_log() {
    let r = audit(
        &[fx("vault/kv-metadata.jsonl")],
        &[fx("vault/audit.log")],
        &[],
    );
    assert_eq!(
        r.fails(),
        expect(&[
            ("ROT-003", "vault:secret/prod/app/api-key"),
            ("ACC-002", "vault:secret/prod/app/api-key"),
            ("ACC-001", "vault:secret/prod/app/deleted"),
        ])
    );
    let acc = r.result("ACC-001", "vault:secret/prod/app/deleted");
    assert_eq!(acc["evidence"]["outcome"], "failed");
    assert_eq!(acc["location"]["line"], 4);
    assert_eq!(
        r.errors(),
        vec![
            ("kv-metadata.jsonl".to_string(), 4),
            ("audit.log".to_string(), 32)
        ]
    );
}

#[test]
fn gcp_audit_log() {
    let r = audit(
        &[fx("gcp/secrets.json"), fx("gcp/versions.json")],
        &[fx("gcp/audit.json")],
        &[],
    );
    let p = "projects/my-proj/secrets/";
    assert_eq!(
        r.fails(),
        expect(&[
            ("ROT-002", &format!("{p}prod-api-key")),
            ("ROT-003", &format!("{p}old-secret")),
            ("ACC-002", &format!("{p}old-secret")),
            ("ROT-004", &format!("{p}missed")),
            ("EXP-001", &format!("{p}svc-token")),
            ("EXP-002", &format!("{p}expired")),
            // Deleted, then read: only the logs know this secret.
            ("ACC-001", "projects/123456789/secrets/gone"),
        ])
    );
}

#[test]
fn azure_audit_events() {
    let r = audit(
        &[fx("azure/secrets.json"), fx("azure/versions.json")],
        &[fx("azure/audit.json")],
        &[],
    );
    let v = "https://kv-prod.vault.azure.net/secrets/";
    assert_eq!(
        r.fails(),
        expect(&[
            ("ROT-003", &format!("{v}db-password")),
            ("EXP-001", &format!("{v}svc-token")),
            ("EXP-001", &format!("{v}long-token")),
            ("EXP-002", &format!("{v}expired-cert")),
            // Logged as "App-Key": ids are case-insensitive.
            ("ACC-002", &format!("{v}app-key")),
            ("ACC-001", &format!("{v}old-one")),
        ])
    );
}

#[test]
fn usage_from_logs_covering_the_unused_window() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Vault logs from 2026-07-01: fresh is read, api-key is not (its denied reads are not use).
    let mut lines = Vec::new();
    lines.push(json!({"time": "2026-07-01T00:00:00Z", "type": "response", "auth": {"display_name": "app"}, "request": {"id": "a", "operation": "read", "mount_point": "secret/", "path": "secret/data/prod/app/fresh"}}).to_string());
    lines.push(json!({"time": "2026-10-30T00:00:00Z", "type": "response", "auth": {"display_name": "app"}, "request": {"id": "b", "operation": "read", "mount_point": "secret/", "path": "secret/data/prod/app/fresh"}}).to_string());
    let p = dir.path().join("audit.log");
    std::fs::write(&p, lines.join("\n")).expect("write");
    let r = audit(
        &[fx("vault/kv-metadata.jsonl")],
        &[p.to_string_lossy().into_owned()],
        &[],
    );
    // crypto/master (created 2026-01-01, before the logs start): unused for 90+ days → USE-001.
    // rotated (created 2025) likewise. api-key also. fresh was read. deleted is deleted.
    assert_eq!(
        r.fails(),
        expect(&[
            ("ROT-003", "vault:secret/prod/app/api-key"),
            ("USE-001", "vault:secret/prod/app/api-key"),
            ("USE-001", "vault:secret/prod/crypto/master"),
            ("USE-001", "vault:secret/prod/app/rotated"),
        ])
    );
}

fn write_trail(dir: &tempfile::TempDir, extra: Vec<Value>) -> String {
    let mut recs = records();
    recs.extend(extra);
    let p = dir.path().join("trail.json");
    std::fs::write(
        &p,
        serde_json::to_string(&json!({"Records": recs})).expect("json"),
    )
    .expect("write");
    p.to_string_lossy().into_owned()
}

fn service_event(name: &str, t: &str, secret: &str) -> Value {
    json!({"eventVersion": "1.08", "userIdentity": {"accountId": "123456789012", "invokedBy": "secretsmanager.amazonaws.com"},
           "eventTime": t, "eventSource": "secretsmanager.amazonaws.com", "eventName": name, "requestParameters": null,
           "additionalEventData": {"SecretId": secret}, "eventType": "AwsServiceEvent"})
}

#[test]
fn rotation_success_after_a_failure_clears_rot_004_and_counts_as_rotation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trail = write_trail(
        &dir,
        vec![
            service_event(
                "RotationSucceeded",
                "2026-10-11T00:00:00Z",
                &arn("prod/payments/db-creds-Mn1234"),
            ),
            // A rotation of a never-rotated secret through the log: no more ROT-003.
            service_event(
                "RotationSucceeded",
                "2026-10-20T00:00:00Z",
                &arn("prod/payments/old-Op1234"),
            ),
        ],
    );
    let r = audit(&[fx("aws/describe-secret-v2.json")], &[trail], &[]);
    assert_eq!(r.fails(), expect(&[("ACC-002", "prod/api/probed")]));
}

#[test]
fn rotation_missed_without_next_rotation_date() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = dir.path().join("sm.json");
    // Rotation every 30 days, last 2026-09-20, no NextRotationDate: due 2026-10-20, missed.
    std::fs::write(
        &inv,
        json!({"SecretList": [
            {"ARN": arn("a-Aa1234"), "Name": "a", "RotationEnabled": true, "RotationRules": {"AutomaticallyAfterDays": 30},
             "LastRotatedDate": "2026-09-20T00:00:00Z", "LastAccessedDate": "2026-10-31T00:00:00Z", "CreatedDate": "2026-01-01T00:00:00Z"},
            {"ARN": arn("b-Bb1234"), "Name": "b", "RotationEnabled": true, "RotationRules": {"AutomaticallyAfterDays": 30},
             "LastRotatedDate": "2026-10-15T00:00:00Z", "LastAccessedDate": "2026-10-31T00:00:00Z", "CreatedDate": "2026-01-01T00:00:00Z"}
        ]})
        .to_string(),
    )
    .expect("write");
    let r = audit(&[inv.to_string_lossy().into_owned()], &[], &[]);
    assert_eq!(r.fails(), expect(&[("ROT-004", &arn("a-Aa1234"))]));
}

#[test]
fn cloudtrail_delete_event_then_read_is_acc_001() {
    let dir = tempfile::tempdir().expect("tempdir");
    let del = json!({"eventTime": "2026-10-21T00:00:00Z", "eventSource": "secretsmanager.amazonaws.com", "eventName": "DeleteSecret",
                     "userIdentity": {"arn": "arn:aws:iam::123456789012:user/admin"}, "requestParameters": {"secretId": "prod/api/clean", "recoveryWindowInDays": 7},
                     "responseElements": {"name": "prod/api/clean", "arn": arn("prod/api/clean-Jk1234"), "deletionDate": "Oct 28, 2026 12:00:00 AM"}});
    let read = json!({"eventTime": "2026-10-22T00:00:00Z", "eventSource": "secretsmanager.amazonaws.com", "eventName": "GetSecretValue",
                      "userIdentity": {"arn": "arn:aws:iam::123456789012:user/batch"}, "errorCode": "InvalidRequestException",
                      "errorMessage": "You can't perform this operation on the secret because it was marked for deletion.",
                      "requestParameters": {"secretId": arn("prod/api/clean-Jk1234")}});
    let restore_other = json!({"eventTime": "2026-10-23T00:00:00Z", "eventSource": "secretsmanager.amazonaws.com", "eventName": "RestoreSecret",
                      "userIdentity": {"arn": "arn:aws:iam::123456789012:user/admin"}, "requestParameters": {"secretId": "prod/api/fresh"}});
    let trail = write_trail(&dir, vec![del, read, restore_other]);
    let r = audit(&[fx("aws/list-secrets.json")], &[trail], &[]);
    let acc: Vec<_> = r
        .fails()
        .into_iter()
        .filter(|(c, _)| c == "ACC-001")
        .collect();
    assert_eq!(
        acc,
        vec![
            ("ACC-001".to_string(), arn("prod/api/clean-Jk1234")),
            ("ACC-001".to_string(), arn("prod/deleted-thing-Gh1234"))
        ]
    );
    // The latest read after the deletion is alice's successful one (2026-10-30).
    assert_eq!(
        r.result("ACC-001", &arn("prod/api/clean-Jk1234"))["evidence"]["outcome"],
        "succeeded"
    );
    assert_eq!(
        r.result("ACC-001", &arn("prod/api/clean-Jk1234"))["evidence"]["accessed"],
        "2026-10-30T12:00:00Z"
    );
}

#[test]
fn never_used_according_to_logs_covering_its_life() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Logs from 2026-01-01; crypto/master was created 2026-01-01T00:00:00Z too, and never read.
    let first = json!({"time": "2026-01-01T00:00:00Z", "type": "response", "auth": {"display_name": "app"}, "request": {"id": "a", "operation": "read", "mount_point": "secret/", "path": "secret/data/other"}});
    let fresh = json!({"time": "2026-10-30T00:00:00Z", "type": "response", "auth": {"display_name": "app"}, "request": {"id": "b", "operation": "read", "mount_point": "secret/", "path": "secret/data/prod/app/fresh"}});
    let p = dir.path().join("audit.log");
    std::fs::write(&p, format!("{first}\n{fresh}\n")).expect("write");
    let r = audit(
        &[fx("vault/kv-metadata.jsonl")],
        &[p.to_string_lossy().into_owned()],
        &[],
    );
    assert!(
        r.fails().contains(&(
            "USE-002".to_string(),
            "vault:secret/prod/crypto/master".to_string()
        )),
        "{:?}",
        r.fails()
    );
    // fresh was read: no usage result.
    assert!(
        !r.fails()
            .iter()
            .any(|(_, id)| id == "vault:secret/prod/app/fresh")
    );
}

#[test]
fn one_value_in_two_environments_across_stores() {
    // prod/leaked-token (AWS, tag environment=prod) and gen-002 (generic, staging) share a value.
    let r = audit(
        &[fx("aws/list-secrets.json"), fx("generic/inventory.csv")],
        &[],
        &[],
    );
    let shr: Vec<_> = r
        .fails()
        .into_iter()
        .filter(|(c, _)| c == "SHR-001")
        .map(|(_, id)| id)
        .collect();
    assert_eq!(
        shr,
        vec![arn("prod/leaked-token-Hi1234"), "gen-002".to_string()]
    );
}

#[test]
fn auto_rotation_requirement_only_where_the_provider_has_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pol = policy_file(
        &dir,
        "[classes.api_key]\nrequire_auto_rotation = true\nmax_age_days = 3650\n",
    );
    let r = audit_with(args(
        &[
            fx("gcp/secrets.json"),
            fx("azure/secrets.json"),
            fx("vault/kv-metadata.jsonl"),
            fx("k8s/secrets.json"),
        ],
        &[],
        &[],
        Some(pol),
    ));
    let rot1: Vec<_> = r
        .fails()
        .into_iter()
        .filter(|(c, _)| c == "ROT-001")
        .map(|(_, id)| id)
        .collect();
    // GCP secrets of class api_key without a rotation schedule; Azure secrets, Vault KV and
    // Kubernetes have no automatic rotation for secrets.
    assert_eq!(
        rot1,
        vec![
            "projects/my-proj/secrets/clean".to_string(),
            "projects/my-proj/secrets/expired".to_string(),
            "projects/my-proj/secrets/old-secret".to_string()
        ]
    );
}

#[test]
fn vault_log_with_requests_only_still_counts_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(fx("vault/audit.log")).expect("fixture");
    let requests: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("\"type\": \"request\""))
        .collect();
    assert!(requests.len() > 10);
    let p = dir.path().join("requests.log");
    std::fs::write(&p, requests.join("\n")).expect("write");
    let r = audit(
        &[fx("vault/kv-metadata.jsonl")],
        &[p.to_string_lossy().into_owned()],
        &[],
    );
    // Without responses the read of the deleted secret looks successful, but is still after deletion.
    assert_eq!(
        r.fails(),
        expect(&[
            ("ROT-003", "vault:secret/prod/app/api-key"),
            ("ACC-002", "vault:secret/prod/app/api-key"),
            ("ACC-001", "vault:secret/prod/app/deleted"),
        ])
    );
}

#[test]
fn azure_log_analytics_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rows: Vec<String> = (0..10)
        .map(|i| {
            json!({"TimeGenerated": format!("2026-10-29T07:{i:02}:00Z"), "ResourceProvider": "MICROSOFT.KEYVAULT", "Resource": "KV-PROD",
                   "ResourceId": "/SUBSCRIPTIONS/X/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-PROD",
                   "OperationName": "SecretGet", "ResultSignature": "Forbidden", "httpStatusCode_d": 403,
                   "id_s": "https://kv-prod.vault.azure.net/secrets/clean/abc", "CallerIPAddress": "192.0.2.1",
                   "identity_claim_oid_g": "0000-evil"})
            .to_string()
        })
        .collect();
    let p = dir.path().join("la.jsonl");
    std::fs::write(&p, rows.join("\n")).expect("write");
    let r = audit(
        &[fx("azure/secrets.json")],
        &[p.to_string_lossy().into_owned()],
        &[],
    );
    assert!(
        r.fails().contains(&(
            "ACC-002".to_string(),
            "https://kv-prod.vault.azure.net/secrets/clean".to_string()
        )),
        "{:?}",
        r.fails()
    );
    assert!(
        r.result("ACC-002", "https://kv-prod.vault.azure.net/secrets/clean")["message"]
            .as_str()
            .unwrap_or("")
            .contains("0000-evil")
    );
}

#[test]
fn rotation_failure_of_a_secret_missing_from_the_inventory() {
    // describe-secret-v2 is not given: db-creds is known only from its RotationFailed event.
    let r = audit(
        &[fx("aws/list-secrets.json")],
        &[fx("aws/cloudtrail.json")],
        &[],
    );
    assert!(
        r.fails()
            .contains(&("ROT-004".to_string(), arn("prod/payments/db-creds-Mn1234"))),
        "{:?}",
        r.fails()
    );
}

#[test]
fn batch_get_secret_value_output_is_inv_001() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("batch.json");
    std::fs::write(
        &p,
        json!({"SecretValues": [{"ARN": arn("prod/api/clean-Jk1234"), "Name": "prod/api/clean", "VersionId": "v", "SecretString": "hunter2",
                                  "VersionStages": ["AWSCURRENT"], "CreatedDate": "2026-10-15T00:00:00Z"}], "Errors": []})
        .to_string(),
    )
    .expect("write");
    let r = audit(&[p.to_string_lossy().into_owned()], &[], &[]);
    assert_eq!(
        r.fails(),
        expect(&[("INV-001", &arn("prod/api/clean-Jk1234"))])
    );
}

#[test]
fn vault_write_after_soft_delete_undoes_the_deletion() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ev = |t: &str, id: &str, op: &str| {
        json!({"time": t, "type": "response", "auth": {"display_name": "app"},
               "request": {"id": id, "operation": op, "mount_point": "secret/", "mount_type": "kv", "path": "secret/data/prod/app/fresh"}})
        .to_string()
    };
    let p = dir.path().join("audit.log");
    std::fs::write(
        &p,
        [
            ev("2026-10-20T00:00:00Z", "1", "delete"),
            ev("2026-10-21T00:00:00Z", "2", "update"),
            ev("2026-10-22T00:00:00Z", "3", "read"),
        ]
        .join("\n"),
    )
    .expect("write");
    let r = audit(
        &[fx("vault/kv-metadata.jsonl")],
        &[p.to_string_lossy().into_owned()],
        &[],
    );
    assert!(
        !r.fails().iter().any(|(c, _)| c == "ACC-001"),
        "{:?}",
        r.fails()
    );
    // Without the write, the read after the delete is ACC-001.
    std::fs::write(
        &p,
        [
            ev("2026-10-20T00:00:00Z", "1", "delete"),
            ev("2026-10-22T00:00:00Z", "3", "read"),
        ]
        .join("\n"),
    )
    .expect("write");
    let r = audit(
        &[fx("vault/kv-metadata.jsonl")],
        &[p.to_string_lossy().into_owned()],
        &[],
    );
    assert!(
        r.fails().contains(&(
            "ACC-001".to_string(),
            "vault:secret/prod/app/fresh".to_string()
        )),
        "{:?}",
        r.fails()
    );
}

#[test]
fn logs_without_any_read_say_nothing_about_use() {
    let dir = tempfile::tempdir().expect("tempdir");
    let entry = |t: &str, method: &str, res: &str| {
        json!({"timestamp": t, "protoPayload": {"serviceName": "secretmanager.googleapis.com",
               "methodName": format!("google.cloud.secretmanager.v1.SecretManagerService.{method}"), "resourceName": res,
               "authenticationInfo": {"principalEmail": "admin@example.com"}, "status": {}}})
    };
    // Admin Activity only (Data Access logs off): no read ever appears.
    let admin = vec![
        entry(
            "2025-01-01T00:00:00Z",
            "CreateSecret",
            "projects/my-proj/secrets/other",
        ),
        entry(
            "2026-10-30T00:00:00Z",
            "GetSecret",
            "projects/my-proj/secrets/other",
        ),
    ];
    let p = dir.path().join("admin.json");
    std::fs::write(&p, serde_json::to_string(&admin).expect("json")).expect("write");
    let r = audit(
        &[fx("gcp/secrets.json"), fx("gcp/versions.json")],
        &[p.to_string_lossy().into_owned()],
        &[],
    );
    assert!(
        !r.fails().iter().any(|(c, _)| c.starts_with("USE")),
        "{:?}",
        r.fails()
    );
    // With reads recorded (of another secret), silence about old-secret since its creation means never used.
    let mut with_reads = admin.clone();
    with_reads.push(entry(
        "2026-10-30T00:00:00Z",
        "AccessSecretVersion",
        "projects/my-proj/secrets/other/versions/1",
    ));
    std::fs::write(&p, serde_json::to_string(&with_reads).expect("json")).expect("write");
    let r = audit(
        &[fx("gcp/secrets.json"), fx("gcp/versions.json")],
        &[p.to_string_lossy().into_owned()],
        &[],
    );
    assert!(
        r.fails().contains(&(
            "USE-002".to_string(),
            "projects/my-proj/secrets/old-secret".to_string()
        )),
        "{:?}",
        r.fails()
    );
}

#[test]
fn leaked_key_pair_stored_in_a_secret_is_joined_by_fingerprint() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The scanner found bob's key (id + secret); the pair lives in a generic-inventory secret
    // tagged with the fingerprint, not in an IAM export.
    let inv = dir.path().join("inv.csv");
    std::fs::write(&inv, "id,name,environment,created,last_rotated,last_used,fingerprint\nci-deploy-key,ci deploy key,prod,2026-09-01,,2026-10-30,kw1:2ac5f24455b6f5dfbfe6fc94f1f400a1\n").expect("write");
    let r = audit(
        &[inv.to_string_lossy().into_owned()],
        &[fx("aws/cloudtrail.json")],
        &[fx("findings/scan.json")],
    );
    let mine: Vec<String> = r
        .fails()
        .into_iter()
        .filter(|(_, id)| id == "ci-deploy-key")
        .map(|(c, _)| c)
        .collect();
    assert_eq!(mine, vec!["LEAK-001".to_string(), "LEAK-002".to_string()]);
    assert!(!r.fails().contains(&(
        "LEAK-003".to_string(),
        "aws-iam-key:AKIABOBLEAKED0000001".to_string()
    )));
}
