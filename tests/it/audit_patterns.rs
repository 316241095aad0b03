//! Access patterns (PAT), separation (SEP) and sharing between services (SHR-002): logs in
//! each provider's documented shape, generated here with fake accounts, networks from the
//! documentation ranges, and a history (2026-08-01 .. 2026-10-24) before the recent period
//! (the 7 days before `--now`, 2026-11-01).

use crate::common_audit;
use common_audit::*;

use std::collections::BTreeSet;

use keywarden::audit::time::{DAY, fmt, parse_str};
use serde_json::{Value, json};

const ACCT: &str = "123456789012";
/// First day of the generated history.
const HISTORY_FROM: &str = "2026-08-01T00:00:00Z";

fn arn(name: &str) -> String {
    format!("{ARN}{name}")
}

fn role_arn(role: &str) -> String {
    format!("arn:aws:iam::{ACCT}:role/{role}")
}

/// `day` days after HISTORY_FROM, at `hour`:`minute`.
fn at(day: i64, hour: i64, minute: i64) -> String {
    let base = parse_str(HISTORY_FROM).expect("date");
    fmt(base + day * DAY + hour * 3600 + minute * 60)
}

/// Day index of the recent period's first day (2026-10-25).
const RECENT: i64 = 85;

/// Only the results of the families these tests are about.
fn ours(set: BTreeSet<(String, String)>) -> BTreeSet<(String, String)> {
    set.into_iter()
        .filter(|(c, _)| c.starts_with("PAT") || c.starts_with("SEP") || c.starts_with("SHR"))
        .collect()
}

fn no_pair(r: &Report, check: &str, id: &str) {
    assert!(
        !r.fails()
            .union(&r.reviews())
            .any(|(c, i)| c == check && i == id),
        "{check} must not fire on {id}: {:?}",
        ours(r.fails())
    );
}

// ---------------------------------------------------------------- AWS -------------------

fn assumed(role: &str, session: &str) -> Value {
    json!({"type": "AssumedRole", "principalId": format!("AROAEXAMPLEROLEID:{session}"),
           "arn": format!("arn:aws:sts::{ACCT}:assumed-role/{role}/{session}"),
           "accountId": ACCT,
           "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEROLEID",
               "arn": role_arn(role), "accountId": ACCT, "userName": role},
               "attributes": {"creationDate": "2026-08-01T00:00:00Z", "mfaAuthenticated": "false"}}})
}

fn iam_user(name: &str) -> Value {
    json!({"type": "IAMUser", "principalId": "AIDAEXAMPLEUSERID", "arn": format!("arn:aws:iam::{ACCT}:user/{name}"),
           "accountId": ACCT, "userName": name})
}

/// A CloudTrail record of a Secrets Manager call, as a trail delivers it to S3.
fn ct(time: &str, identity: Value, ip: &str, event: &str, secret: &str) -> Value {
    json!({"eventVersion": "1.09", "userIdentity": identity, "eventTime": time,
           "eventSource": "secretsmanager.amazonaws.com", "eventName": event, "awsRegion": "us-east-1",
           "sourceIPAddress": ip, "userAgent": "aws-sdk-java/2.25.31 Linux/6.1 OpenJDK_64-Bit_Server_VM/21",
           "requestParameters": {"secretId": secret}, "responseElements": null,
           "requestID": "6f1c2c55-7d2a-4a53-9b5e-0c6a7c2f1e10", "eventID": "0d4f5a3e-9e1b-4c7e-8a41-2d5f6a7b8c9d",
           "readOnly": true, "eventType": "AwsApiCall", "managementEvent": true,
           "recipientAccountId": ACCT, "eventCategory": "Management",
           "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                          "clientProvidedHostHeader": "secretsmanager.us-east-1.amazonaws.com"}})
}

fn read(time: &str, identity: Value, ip: &str, secret: &str) -> Value {
    ct(time, identity, ip, "GetSecretValue", secret)
}

/// `aws secretsmanager list-secrets` (CLI v2 dates), rotated recently and in use, so that
/// only the checks under test have something to say.
fn aws_inventory(dir: &std::path::Path) -> String {
    let entry = |name: &str, suffix: &str, created: &str, tags: Value| {
        json!({"ARN": arn(&format!("{name}-{suffix}")), "Name": name,
               "RotationEnabled": true, "RotationLambdaARN": format!("arn:aws:lambda:us-east-1:{ACCT}:function:rotate"),
               "RotationRules": {"AutomaticallyAfterDays": 30},
               "LastRotatedDate": "2026-10-20T00:00:00+00:00", "LastChangedDate": "2026-10-20T00:00:00+00:00",
               "LastAccessedDate": "2026-10-31T00:00:00+00:00", "NextRotationDate": "2026-11-19T00:00:00+00:00",
               "Tags": tags,
               "SecretVersionsToStages": {"c0ffee00-0000-4000-8000-000000000001": ["AWSCURRENT"],
                                          "c0ffee00-0000-4000-8000-000000000002": ["AWSPREVIOUS"]},
               "CreatedDate": created})
    };
    let old = "2026-01-05T10:00:00+00:00";
    let doc = json!({"SecretList": [
        entry("prod/payments/db-password", "Pa1111", old, json!([])),
        entry("prod/payments/api-key", "Pb2222", old, json!([])),
        entry("prod/orders/api-key", "Oa3333", old, json!([])),
        entry("prod/reports/export-key", "Ra4444", old, json!([])),
        entry("staging/payments/api-key", "Sp5555", old, json!([])),
        entry("prod/new/fresh-key", "Nf6666", "2026-10-10T09:00:00+00:00", json!([])),
    ]});
    write(
        dir,
        "list-secrets.json",
        &serde_json::to_vec_pretty(&doc).expect("json"),
    )
}

/// The CloudTrail log of the AWS scenario; see the expectations in `aws_access_patterns`.
fn aws_trail() -> Vec<Value> {
    let mut recs = Vec::new();
    let db = "prod/payments/db-password";
    for d in 0..RECENT + 7 {
        let ip = if d < RECENT {
            "10.20.1.15"
        } else {
            "10.20.1.200"
        };
        // Sessions change name (one per instance); the role is the principal.
        let who = || assumed("payments-app", &format!("i-0a1b2c3d4e5f6a7{}", d % 10));
        recs.push(read(&at(d, 8, 0), who(), ip, db));
        recs.push(read(
            &at(d, 20, 0),
            who(),
            ip,
            &arn("prod/payments/db-password-Pa1111"),
        ));
        // orders-app: one read a day from its own /24.
        if d < RECENT {
            recs.push(read(
                &at(d, 9, 0),
                assumed("orders-app", "ecs-task-7"),
                "10.30.0.12",
                "prod/orders/api-key",
            ));
        }
        // staging-app reads its staging secret all along.
        recs.push(read(
            &at(d, 10, 0),
            assumed("staging-app", "pod-1"),
            "10.40.0.8",
            "staging/payments/api-key",
        ));
        // reporter: three reads every third day.
        if d < RECENT && d % 3 == 0 {
            for m in 0..3 {
                recs.push(read(
                    &at(d, 6, m),
                    iam_user("reporter"),
                    "198.51.100.7",
                    "prod/reports/export-key",
                ));
            }
        }
        // etl: weekly, through AWS Glue (the service is the source).
        if d % 7 == 0 {
            recs.push(read(
                &at(d, 3, 0),
                assumed("etl", "GlueJobRunner"),
                "glue.amazonaws.com",
                "prod/reports/export-key",
            ));
        }
    }
    let recent = |d: i64, h: i64, m: i64| at(RECENT + d, h, m);
    // payments-app reads a secret it never read before.
    recs.push(read(
        &recent(2, 11, 0),
        assumed("payments-app", "i-0a1b2c3d4e5f6a7ff"),
        "10.20.1.15",
        &arn("prod/payments/api-key-Pb2222"),
    ));
    recs.push(read(
        &recent(3, 11, 0),
        assumed("payments-app", "i-0a1b2c3d4e5f6a7ff"),
        "10.20.1.15",
        "prod/payments/api-key",
    ));
    // ... and one created 15 days before the recent period: too young to call it a first read.
    recs.push(read(
        &recent(2, 12, 0),
        assumed("payments-app", "i-0a1b2c3d4e5f6a7ff"),
        "10.20.1.15",
        "prod/new/fresh-key",
    ));
    // orders-app from a new network, and from another address of its own /24.
    recs.push(read(
        &recent(5, 2, 0),
        assumed("orders-app", "ecs-task-9"),
        "203.0.113.50",
        "prod/orders/api-key",
    ));
    recs.push(read(
        &recent(5, 2, 5),
        assumed("orders-app", "ecs-task-9"),
        "203.0.113.51",
        "prod/orders/api-key",
    ));
    recs.push(read(
        &recent(5, 9, 0),
        assumed("orders-app", "ecs-task-7"),
        "10.30.0.77",
        "prod/orders/api-key",
    ));
    // reporter: a normal day, then 300 reads in one day.
    for m in 0..2 {
        recs.push(read(
            &recent(1, 6, m),
            iam_user("reporter"),
            "198.51.100.7",
            "prod/reports/export-key",
        ));
    }
    for i in 0..300 {
        recs.push(read(
            &recent(4, 1 + i / 60, i % 60),
            iam_user("reporter"),
            "198.51.100.7",
            "prod/reports/export-key",
        ));
    }
    // A staging role read a production secret (in the history).
    recs.push(read(
        &at(61, 14, 0),
        assumed("staging-deployer", "deploy-42"),
        "10.50.0.4",
        &arn("prod/payments/db-password-Pa1111"),
    ));
    // The account's root user.
    let root = json!({"type": "Root", "principalId": ACCT, "arn": format!("arn:aws:iam::{ACCT}:root"), "accountId": ACCT});
    recs.push(read(
        &at(40, 22, 0),
        root,
        "192.0.2.200",
        "prod/orders/api-key",
    ));
    // The break-glass role, and a role whose name only starts like it.
    recs.push(read(
        &recent(3, 4, 12),
        assumed("break-glass", "alice"),
        "192.0.2.10",
        &arn("prod/payments/db-password-Pa1111"),
    ));
    recs.push(ct(
        &recent(3, 4, 20),
        assumed("break-glass", "alice"),
        "192.0.2.10",
        "DescribeSecret",
        "prod/payments/db-password",
    ));
    recs.push(read(
        &at(30, 4, 0),
        assumed("break-glass-reviewer", "bob"),
        "192.0.2.11",
        "prod/reports/export-key",
    ));
    // Denied reads are not reads.
    for m in 0..3 {
        let mut r = read(
            &recent(6, 3, m),
            iam_user("mallory"),
            "198.51.100.66",
            "prod/payments/api-key",
        );
        r["errorCode"] = json!("AccessDenied");
        r["errorMessage"] = json!(format!(
            "User: arn:aws:iam::{ACCT}:user/mallory is not authorized to perform: secretsmanager:GetSecretValue on resource: prod/payments/api-key because no identity-based policy allows the secretsmanager:GetSecretValue action"
        ));
        recs.push(r);
    }
    recs
}

fn aws_files(dir: &std::path::Path) -> (String, String) {
    let inv = aws_inventory(dir);
    let trail = write(
        dir,
        "123456789012_CloudTrail_us-east-1_20261101T0000Z_x.json",
        &serde_json::to_vec(&json!({"Records": aws_trail()})).expect("json"),
    );
    (inv, trail)
}

const BREAK_GLASS_POLICY: &str = "[access_patterns]\nbreak_glass_principals = [\"arn:aws:iam::123456789012:role/break-glass\", \"emergency-*\"]\n";

#[test]
fn aws_access_patterns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inv, trail) = aws_files(dir.path());
    let pol = policy_file(&dir, BREAK_GLASS_POLICY);
    let r = audit_with(args(&[inv], &[trail], &[], Some(pol)));
    assert!(r.errors().is_empty(), "{}", r.json["input_errors"]);
    assert_eq!(
        ours(r.fails()),
        expect(&[
            ("PAT-001", &arn("prod/payments/api-key-Pb2222")),
            ("PAT-001", &arn("prod/payments/db-password-Pa1111")),
            ("PAT-002", &arn("prod/orders/api-key-Oa3333")),
            ("PAT-003", &arn("prod/reports/export-key-Ra4444")),
            ("PAT-004", &format!("arn:aws:iam::{ACCT}:root")),
            ("PAT-005", &role_arn("break-glass")),
            ("SEP-001", &arn("prod/payments/db-password-Pa1111")),
        ])
    );
    // Look-alikes that must not fire.
    no_pair(&r, "PAT-001", &arn("prod/new/fresh-key-Nf6666"));
    no_pair(&r, "PAT-001", &arn("staging/payments/api-key-Sp5555"));
    no_pair(&r, "PAT-002", &arn("prod/payments/db-password-Pa1111"));
    no_pair(&r, "PAT-002", &arn("prod/reports/export-key-Ra4444"));
    no_pair(&r, "PAT-005", &role_arn("break-glass-reviewer"));
    no_pair(&r, "SEP-001", &arn("staging/payments/api-key-Sp5555"));

    // Who, from where, when, how many.
    let first = r.result("PAT-001", &arn("prod/payments/api-key-Pb2222"));
    let who: Vec<&str> = first["evidence"]["principals"]
        .as_array()
        .expect("principals")
        .iter()
        .filter_map(|p| p["principal"].as_str())
        .collect();
    // The role, not its sessions; mallory's denied attempts are not reads.
    assert_eq!(who, vec![role_arn("payments-app").as_str()]);
    assert_eq!(first["evidence"]["principals"][0]["reads"], 2);
    assert_eq!(
        first["evidence"]["principals"][0]["first_read"],
        "2026-10-27T11:00:00Z"
    );
    let net = r.result("PAT-002", &arn("prod/orders/api-key-Oa3333"));
    assert_eq!(
        net["evidence"]["reads"],
        json!([{"principal": role_arn("orders-app"), "network": "203.0.113.0/24",
                "first_read": "2026-10-30T02:00:00Z", "reads": 2}])
    );
    let msg = net["message"].as_str().expect("message");
    assert!(
        msg.contains("203.0.113.0/24") && msg.contains("orders-app"),
        "{msg}"
    );
    let spike = r.result("PAT-003", &arn("prod/reports/export-key-Ra4444"));
    assert_eq!(spike["evidence"]["spikes"][0]["reads"], 300);
    assert_eq!(
        spike["evidence"]["spikes"][0]["day_from"],
        "2026-10-29T00:00:00Z"
    );
    assert_eq!(
        spike["evidence"]["spikes"][0]["principal"],
        format!("arn:aws:iam::{ACCT}:user/reporter")
    );
    let bg = r.result("PAT-005", &role_arn("break-glass"));
    assert_eq!(bg["evidence"]["uses"], 2);
    assert_eq!(bg["kind"], "principal");
    assert!(
        bg["message"].as_str().is_some_and(|m| m
            .contains("as arn:aws:sts::123456789012:assumed-role/break-glass/alice")
            && m.contains("192.0.2.10")),
        "{}",
        bg["message"]
    );
    let root = r.result("PAT-004", &format!("arn:aws:iam::{ACCT}:root"));
    assert!(
        root["message"]
            .as_str()
            .is_some_and(|m| m.contains("AWS root user"))
    );
    let sep = r.result("SEP-001", &arn("prod/payments/db-password-Pa1111"));
    assert_eq!(
        sep["evidence"]["principals"],
        json!([{"principal": role_arn("staging-deployer"), "environment": "staging", "reads": 1,
                "first": "2026-10-01T14:00:00Z", "last": "2026-10-01T14:00:00Z"}])
    );
    // A production value held by a staging principal is to be rotated.
    let db = arn("prod/payments/db-password-Pa1111");
    let rf = r.json["rotate_first"]
        .as_array()
        .expect("rotate_first")
        .iter()
        .find(|p| p["secret_id"] == db.as_str())
        .expect("db-password in rotate_first");
    assert!(
        rf["checks"]
            .as_array()
            .is_some_and(|c| c.contains(&json!("SEP-001")))
    );
    // Placed at the log line of the read it reports.
    assert!(
        sep["location"]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("_x.json"))
    );
    assert_eq!(
        r.json["coverage"]["aws"]["access_patterns"]["evaluated"],
        true
    );
    // Whole days from the first event (2026-08-01T03:00) to the recent period.
    assert_eq!(
        r.json["coverage"]["aws"]["access_patterns"]["history_days"],
        84
    );
    // Every result says how to fix it.
    for res in r.json["results"].as_array().expect("results") {
        assert!(res["fix"].as_str().is_some_and(|f| !f.is_empty()), "{res}");
    }
}

#[test]
fn thresholds_come_from_the_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inv, trail) = aws_files(dir.path());
    // A higher spike floor, a longer recent period (the reporter's normal days and
    // staging-deployer's read now fall in it), no break-glass list.
    let pol = policy_file(
        &dir,
        "[access_patterns]\nspike_min_reads = 301\nrecent_days = 35\nmin_history_days = 20\n",
    );
    let r = audit_with(args(
        std::slice::from_ref(&inv),
        std::slice::from_ref(&trail),
        &[],
        Some(pol),
    ));
    let got = ours(r.fails());
    no_pair(&r, "PAT-003", &arn("prod/reports/export-key-Ra4444"));
    no_pair(&r, "PAT-005", &role_arn("break-glass"));
    // With 35 recent days, staging-deployer's read of 2026-10-01 is recent and a first one.
    let first = r.result("PAT-001", &arn("prod/payments/db-password-Pa1111"));
    let who: BTreeSet<&str> = first["evidence"]["principals"]
        .as_array()
        .expect("principals")
        .iter()
        .filter_map(|p| p["principal"].as_str())
        .collect();
    assert_eq!(
        who,
        BTreeSet::from([
            role_arn("break-glass").as_str(),
            role_arn("staging-deployer").as_str()
        ]),
        "{got:?}"
    );
    assert_eq!(
        r.json["coverage"]["aws"]["access_patterns"]["history_days"],
        56
    );

    // Logs too short for the history asked for: PAT-001..003 are not claimed, and every
    // report says why; root, break-glass and separation still are.
    let pol = policy_file(
        &dir,
        &format!("{BREAK_GLASS_POLICY}min_history_days = 120\n"),
    );
    let r = audit_with(args(
        std::slice::from_ref(&inv),
        std::slice::from_ref(&trail),
        &[],
        Some(pol.clone()),
    ));
    assert_eq!(
        ours(r.fails()),
        expect(&[
            ("PAT-004", &format!("arn:aws:iam::{ACCT}:root")),
            ("PAT-005", &role_arn("break-glass")),
            ("SEP-001", &arn("prod/payments/db-password-Pa1111")),
        ])
    );
    let cov = &r.json["coverage"]["aws"]["access_patterns"];
    assert_eq!(cov["evaluated"], false);
    assert!(
        cov["not_evaluated"].as_str().is_some_and(
            |w| w.contains("84 day(s) of history") && w.contains("min_history_days = 120")
        ),
        "{cov}"
    );
    let mut a = args(&[inv], &[trail], &[], Some(pol));
    a.fail_on = "none".into();
    for format in ["text", "markdown"] {
        let (_, text) = audit_as(a.clone(), format);
        assert!(
            text.contains("access patterns (PAT-001..003) not evaluated"),
            "{format}: {text}"
        );
    }
    let (_, sarif) = audit_as(a, "sarif");
    assert!(sarif.contains("\"not_evaluated\""), "{sarif}");
}

#[test]
fn bad_access_pattern_settings_are_policy_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = write(dir.path(), "inv.csv", b"id,name\na,a\n");
    for bad in [
        "[access_patterns]\nrecent_days = 0\n",
        "[access_patterns]\nspike_factor = 0.5\n",
        "[access_patterns]\nbreak_glass_principals = [\"role/[x\"]\n",
        "[access_patterns]\nrecent_dayz = 3\n",
        "[services]\npatterns = ['^prod/[^/]+/']\n",
    ] {
        let pol = policy_file(&dir, bad);
        let r = audit_with(args(std::slice::from_ref(&inv), &[], &[], Some(pol)));
        assert_eq!(r.code, 2, "{bad}");
    }
    // A whole-number factor is a factor.
    let pol = policy_file(&dir, "[access_patterns]\nspike_factor = 3\n");
    assert_eq!(audit_with(args(&[inv], &[], &[], Some(pol))).code, 0);
}

// ---------------------------------------------------------------- Vault -----------------

fn kv(path: &str, created: &str) -> Value {
    json!({"path": path, "metadata": {"request_id": "5e2c6d1a-0000-4000-8000-000000000001", "lease_id": "",
        "lease_duration": 0, "renewable": false,
        "data": {"cas_required": false, "created_time": created, "current_version": 2,
                 "delete_version_after": "0s", "max_versions": 0, "oldest_version": 0,
                 "updated_time": "2026-10-20T00:00:00Z", "custom_metadata": {"owner": "team-a"},
                 "versions": {"1": {"created_time": created, "deletion_time": "", "destroyed": false},
                              "2": {"created_time": "2026-10-20T00:00:00Z", "deletion_time": "", "destroyed": false}}},
        "warnings": null}})
}

/// A value as the audit device writes it: HMAC-SHA256 of the response data.
const HMAC_VALUE: &str =
    "hmac-sha256:9c1f4f2b7c8d3e0a5b6c7d8e9f00112233445566778899aabbccddeeff001122";

/// A request and its response from the Vault file audit device.
fn vault_pair(
    time: &str,
    id: &str,
    display: &str,
    policies: &[&str],
    op: &str,
    path: &str,
    addr: &str,
) -> [Value; 2] {
    let auth = json!({"client_token": "hmac-sha256:0b1c2d3e4f", "accessor": "hmac-sha256:1a2b3c4d5e",
        "display_name": display, "policies": policies, "token_policies": policies,
        "policy_results": {"allowed": true, "granting_policies": [{"name": policies[0], "type": "acl"}]},
        "token_type": "service", "token_issue_time": "2026-07-01T00:00:00Z"});
    let (mount, mount_type) = if path.starts_with("sys/") {
        ("sys/", "system")
    } else {
        ("secret/", "kv")
    };
    let request = json!({"id": id, "client_id": "c-1", "operation": op, "mount_point": mount, "mount_type": mount_type,
        "mount_accessor": "kv_5a1e2b3c", "client_token": "hmac-sha256:0b1c2d3e4f",
        "client_token_accessor": "hmac-sha256:1a2b3c4d5e", "namespace": {"id": "root"}, "path": path,
        "data": if op == "update" { json!({"policy": HMAC_VALUE}) } else { Value::Null },
        "remote_address": addr, "remote_port": 51234});
    [
        json!({"time": time, "type": "request", "auth": auth, "request": request}),
        json!({"time": time, "type": "response", "auth": auth, "request": request,
               "response": {"mount_point": mount, "mount_type": mount_type, "mount_accessor": "kv_5a1e2b3c",
                            "data": {"data": {"password": HMAC_VALUE}, "metadata": {"version": 2}}}}),
    ]
}

fn vault_files(dir: &std::path::Path) -> (String, String) {
    let inv: Vec<String> = [
        kv("secret/prod/app/db", "2026-01-02T00:00:00Z"),
        kv("secret/prod/app/api-key", "2026-01-02T00:00:00Z"),
        kv("secret/staging/app/db", "2026-01-02T00:00:00Z"),
    ]
    .iter()
    .map(Value::to_string)
    .collect();
    let inv = write(dir, "kv.jsonl", inv.join("\n").as_bytes());
    let mut lines: Vec<Value> = Vec::new();
    let mut n = 0;
    let mut id = || {
        n += 1;
        format!("8d6f0c1e-0000-4000-8000-{n:012}")
    };
    for d in 0..RECENT {
        lines.extend(vault_pair(
            &at(d, 8, 0),
            &id(),
            "approle-web",
            &["default", "web"],
            "read",
            "secret/data/prod/app/db",
            "2001:db8:10:1::5",
        ));
        lines.extend(vault_pair(
            &at(d, 9, 0),
            &id(),
            "approle-web",
            &["default", "web"],
            "read",
            "secret/data/prod/app/api-key",
            "2001:db8:10:1::5",
        ));
    }
    // Recent: another address of the same /48 for one secret, a new /48 for the other.
    lines.extend(vault_pair(
        &at(RECENT + 1, 8, 0),
        &id(),
        "approle-web",
        &["default", "web"],
        "read",
        "secret/data/prod/app/db",
        "2001:db8:10:2::9",
    ));
    lines.extend(vault_pair(
        &at(RECENT + 1, 9, 0),
        &id(),
        "approle-web",
        &["default", "web"],
        "read",
        "secret/data/prod/app/api-key",
        "2001:db8:99::7",
    ));
    // A root token: a policy write (a system path) and a read.
    lines.extend(vault_pair(
        &at(RECENT + 4, 23, 0),
        &id(),
        "root",
        &["root"],
        "update",
        "sys/policy/web",
        "192.0.2.77",
    ));
    lines.extend(vault_pair(
        &at(RECENT + 4, 23, 5),
        &id(),
        "root",
        &["root"],
        "read",
        "secret/data/prod/app/db",
        "192.0.2.77",
    ));
    // Not root: a user called root-something, and a policy named root-ca-reader.
    lines.extend(vault_pair(
        &at(20, 10, 0),
        &id(),
        "userpass-root",
        &["default", "root-ca-reader"],
        "read",
        "secret/data/staging/app/db",
        "10.9.0.3",
    ));
    // A staging login reading production (history), and staging (must not fire).
    lines.extend(vault_pair(
        &at(62, 10, 0),
        &id(),
        "approle-staging-web",
        &["default", "staging-web"],
        "read",
        "secret/data/prod/app/db",
        "10.9.0.4",
    ));
    lines.extend(vault_pair(
        &at(63, 10, 0),
        &id(),
        "approle-staging-web",
        &["default", "staging-web"],
        "read",
        "secret/data/staging/app/db",
        "10.9.0.4",
    ));
    // A system read without root is still unrelated.
    lines.extend(vault_pair(
        &at(3, 1, 0),
        &id(),
        "approle-web",
        &["default", "web"],
        "read",
        "sys/mounts",
        "2001:db8:10:1::5",
    ));
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    let log = write(dir, "vault_audit.log", (text.join("\n") + "\n").as_bytes());
    (inv, log)
}

#[test]
fn vault_root_token_networks_and_separation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inv, log) = vault_files(dir.path());
    let r = audit(&[inv], &[log], &[]);
    assert!(r.errors().is_empty(), "{}", r.json["input_errors"]);
    assert_eq!(
        ours(r.fails()),
        expect(&[
            // The root token's read is a first one.
            ("PAT-001", "vault:secret/prod/app/db"),
            ("PAT-002", "vault:secret/prod/app/api-key"),
            ("PAT-004", "root"),
            ("SEP-001", "vault:secret/prod/app/db"),
        ])
    );
    no_pair(&r, "PAT-002", "vault:secret/prod/app/db");
    no_pair(&r, "PAT-004", "userpass-root");
    no_pair(&r, "SEP-001", "vault:secret/staging/app/db");
    let root = r.result("PAT-004", "root");
    // A request and its response are one use.
    assert_eq!(root["evidence"]["uses"], 2);
    let calls: Vec<&str> = root["evidence"]["listed"]
        .as_array()
        .expect("uses")
        .iter()
        .filter_map(|u| u["call"].as_str())
        .collect();
    assert_eq!(
        calls,
        vec![
            "update sys/policy/web",
            "read secret/data/prod/app/db on vault:secret/prod/app/db"
        ]
    );
    assert!(
        root["message"]
            .as_str()
            .is_some_and(|m| m.contains("Vault root token"))
    );
    let net = r.result("PAT-002", "vault:secret/prod/app/api-key");
    assert_eq!(net["evidence"]["reads"][0]["network"], "2001:db8:99::/48");
    let sep = r.result("SEP-001", "vault:secret/prod/app/db");
    assert_eq!(
        sep["evidence"]["principals"][0]["principal"],
        "approle-staging-web"
    );
    // The non-root system read stays unrelated (request and response).
    assert_eq!(r.json["coverage"]["vault"]["unrelated_records"], 2);
}

#[test]
fn no_value_in_any_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inv, log) = vault_files(dir.path());
    let (aws_inv, trail) = aws_files(dir.path());
    let pol = policy_file(&dir, BREAK_GLASS_POLICY);
    for format in ["json", "text", "markdown", "sarif", "junit", "gitlab"] {
        let mut a = args(
            &[inv.clone(), aws_inv.clone()],
            &[log.clone(), trail.clone()],
            &[],
            Some(pol.clone()),
        );
        a.fail_on = "none".into();
        let (_, text) = audit_as(a, format);
        assert!(text.contains("PAT-004"), "{format}");
        for value in [
            HMAC_VALUE,
            "hmac-sha256:0b1c2d3e4f",
            "hmac-sha256:1a2b3c4d5e",
        ] {
            assert!(!text.contains(value), "{format} report shows {value}");
        }
        if format == "sarif" {
            let schema: Value = serde_json::from_str(
                &std::fs::read_to_string(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/data/sarif-schema-2.1.0.json"
                ))
                .expect("schema"),
            )
            .expect("schema json");
            let validator = jsonschema::validator_for(&schema).expect("compile schema");
            let s: Value = serde_json::from_str(&text).expect("sarif");
            let errors: Vec<String> = validator.iter_errors(&s).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{errors:?}");
        }
    }
}

// ---------------------------------------------------------------- GCP and Azure ---------

/// `gcloud logging read` entry for an AccessSecretVersion call (a Data Access log).
fn gcp_access(time: &str, email: &str, ip: &str, secret: &str) -> Value {
    json!({"insertId": "1x2y3z", "logName": "projects/my-project/logs/cloudaudit.googleapis.com%2Fdata_access",
        "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "authenticationInfo": {"principalEmail": email},
            "authorizationInfo": [{"granted": true, "permission": "secretmanager.versions.access",
                "resource": format!("projects/my-project/secrets/{secret}/versions/latest"),
                "resourceAttributes": {"service": "secretmanager.googleapis.com"}}],
            "methodName": "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion",
            "requestMetadata": {"callerIp": ip, "callerSuppliedUserAgent": "grpc-java-netty/1.60.0,gzip(gfe)",
                "requestAttributes": {"time": time, "auth": {}}, "destinationAttributes": {}},
            "resourceName": format!("projects/123456789/secrets/{secret}/versions/latest"),
            "serviceName": "secretmanager.googleapis.com", "status": {}},
        "receiveTimestamp": time, "resource": {"labels": {"method": "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion",
            "project_id": "my-project", "service": "secretmanager.googleapis.com"}, "type": "audited_resource"},
        "severity": "INFO", "timestamp": time})
}

#[test]
fn gcp_first_reads_and_a_dev_account_on_production() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = |id: &str| {
        json!({"createTime": "2026-01-03T00:00:00.000000Z", "etag": "\"16f1a2b3c4d5e6\"",
               "name": format!("projects/my-project/secrets/{id}"), "replication": {"automatic": {}},
               "labels": {"team": "payments"}})
    };
    let inv = write(
        dir.path(),
        "gcp-secrets.json",
        &serde_json::to_vec_pretty(&json!([
            secret("prod-db-password"),
            secret("staging-db-password")
        ]))
        .expect("json"),
    );
    let mut log = Vec::new();
    for d in 0..RECENT + 7 {
        // The payments account reads from its /24 all along (another address recently).
        let ip = if d < RECENT {
            "10.128.0.5"
        } else {
            "10.128.0.9"
        };
        log.push(gcp_access(
            &at(d, 7, 30),
            "payments@my-project.iam.gserviceaccount.com",
            ip,
            "prod-db-password",
        ));
    }
    log.push(gcp_access(
        &at(RECENT + 3, 15, 0),
        "ci-dev@my-project.iam.gserviceaccount.com",
        "34.118.10.20",
        "prod-db-password",
    ));
    log.push(gcp_access(
        &at(RECENT + 3, 15, 1),
        "ci-dev@my-project.iam.gserviceaccount.com",
        "34.118.10.20",
        "staging-db-password",
    ));
    // GCP writes `private` for callers inside Google's network: a name, not an address.
    log.push(gcp_access(
        &at(10, 1, 0),
        "batch@my-project.iam.gserviceaccount.com",
        "private",
        "staging-db-password",
    ));
    log.push(gcp_access(
        &at(RECENT + 2, 1, 0),
        "batch@my-project.iam.gserviceaccount.com",
        "private",
        "staging-db-password",
    ));
    let log = write(
        dir.path(),
        "gcp-audit.json",
        &serde_json::to_vec_pretty(&Value::Array(log)).expect("json"),
    );
    let r = audit(&[inv], &[log], &[]);
    assert!(r.errors().is_empty(), "{}", r.json["input_errors"]);
    assert_eq!(
        ours(r.fails()),
        expect(&[
            ("PAT-001", "projects/my-project/secrets/prod-db-password"),
            ("PAT-001", "projects/my-project/secrets/staging-db-password"),
            ("SEP-001", "projects/my-project/secrets/prod-db-password"),
        ])
    );
    no_pair(
        &r,
        "PAT-002",
        "projects/my-project/secrets/prod-db-password",
    );
    no_pair(
        &r,
        "PAT-002",
        "projects/my-project/secrets/staging-db-password",
    );
    no_pair(
        &r,
        "SEP-001",
        "projects/my-project/secrets/staging-db-password",
    );
    let sep = r.result("SEP-001", "projects/my-project/secrets/prod-db-password");
    assert_eq!(sep["evidence"]["principals"][0]["environment"], "dev");
}

/// An `AuditEvent` record of a Key Vault SecretGet, as the diagnostic setting writes it.
fn azure_get(time: &str, claim: Value, ip: &str, vault: &str, name: &str) -> Value {
    json!({"time": time, "resourceId": format!("/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG-PAY/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/{}", vault.to_uppercase()),
        "operationName": "SecretGet", "operationVersion": "7.4", "category": "AuditEvent",
        "resultType": "Success", "resultSignature": "OK", "resultDescription": "", "durationMs": "12",
        "callerIpAddress": ip, "correlationId": "a1b2c3d4-0000-4000-8000-000000000000",
        "identity": {"claim": claim},
        "properties": {"id": format!("https://{vault}.vault.azure.net/secrets/{name}/4f1e2d3c4b5a69788796a5b4c3d2e1f0"),
            "clientInfo": "azsdk-net-Security.KeyVault.Secrets/4.5.0", "httpStatusCode": 200,
            "requestUri": format!("https://{vault}.vault.azure.net/secrets/{name}/?api-version=7.4"),
            "isAccessPolicyMatch": true, "tlsVersion": "TLS1_2"}})
}

#[test]
fn azure_new_network_and_a_dev_user_on_production() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = "kv-prod-payments";
    let inv = write(
        dir.path(),
        "azure-secrets.json",
        &serde_json::to_vec_pretty(&json!([
            {"attributes": {"created": "2026-01-04T00:00:00+00:00", "enabled": true, "expires": "2027-01-01T00:00:00+00:00",
                            "notBefore": null, "recoverableDays": 90, "recoveryLevel": "Recoverable+Purgeable",
                            "updated": "2026-10-20T00:00:00+00:00"},
             "contentType": null, "id": format!("https://{vault}.vault.azure.net/secrets/db-password"),
             "managed": null, "name": "db-password", "tags": {}}
        ]))
        .expect("json"),
    );
    let app = json!({"appid": "7e1d2c3b-0000-4000-8000-00000000a001",
        "http://schemas.microsoft.com/identity/claims/objectidentifier": "0f9e8d7c-0000-4000-8000-00000000b001"});
    let mut recs = Vec::new();
    for d in 0..RECENT {
        recs.push(azure_get(
            &at(d, 5, 0),
            app.clone(),
            "10.1.2.3",
            vault,
            "db-password",
        ));
    }
    recs.push(azure_get(
        &at(RECENT + 6, 5, 0),
        app.clone(),
        "52.160.10.20",
        vault,
        "db-password",
    ));
    recs.push(azure_get(
        &at(50, 13, 0),
        json!({"upn": "dev-tester@contoso.example", "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46"}),
        "10.1.9.9",
        vault,
        "db-password",
    ));
    let log = write(
        dir.path(),
        "PT1H.json",
        &serde_json::to_vec(&json!({"records": recs})).expect("json"),
    );
    let r = audit(&[inv], &[log], &[]);
    assert!(r.errors().is_empty(), "{}", r.json["input_errors"]);
    let id = format!("https://{vault}.vault.azure.net/secrets/db-password");
    assert_eq!(
        ours(r.fails()),
        expect(&[("PAT-002", &id), ("SEP-001", &id)])
    );
    let net = r.result("PAT-002", &id);
    assert_eq!(net["evidence"]["reads"][0]["network"], "52.160.10.0/24");
    assert_eq!(
        net["evidence"]["reads"][0]["principal"],
        "7e1d2c3b-0000-4000-8000-00000000a001"
    );
}

// ---------------------------------------------------------------- SHR-002 ---------------

#[test]
fn one_value_in_two_services() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fp = |c: char| format!("kw1:{}", c.to_string().repeat(32));
    let csv = format!(
        "id,name,environment,service,created,last_rotated,last_used,fingerprint\n\
         gen-pay,payments stripe key,prod,payments,2026-01-01,2026-10-01,2026-10-30,{a}\n\
         gen-ord,orders stripe key,prod,orders,2026-01-01,2026-10-01,2026-10-30,{a}\n\
         gen-pay-2,payments webhook,prod,payments,2026-01-01,2026-10-01,2026-10-30,{b}\n\
         gen-pay-3,payments webhook copy,prod,payments,2026-01-01,2026-10-01,2026-10-30,{b}\n\
         gen-bill,billing key,prod,billing,2026-01-01,2026-10-01,2026-10-30,{c}\n\
         gen-ship,shipping key,staging,shipping,2026-01-01,2026-10-01,2026-10-30,{c}\n",
        a = fp('a'),
        b = fp('b'),
        c = fp('c')
    );
    let generic = write(dir.path(), "inventory.csv", csv.as_bytes());
    // AWS: the service is the path segment after the environment, or a `service` tag.
    let entry = |name: &str, tags: Value| {
        json!({"ARN": arn(&format!("{name}-Zz9999")), "Name": name, "CreatedDate": "2026-01-05T10:00:00+00:00",
               "LastRotatedDate": "2026-10-20T00:00:00+00:00", "LastAccessedDate": "2026-10-31T00:00:00+00:00",
               "Tags": tags, "SecretVersionsToStages": {"v2": ["AWSCURRENT"], "v1": ["AWSPREVIOUS"]}})
    };
    let tag = |k: &str, v: &str| json!({"Key": k, "Value": v});
    let d = fp('d');
    let sm = write(
        dir.path(),
        "sm.json",
        &serde_json::to_vec_pretty(&json!({"SecretList": [
            entry("prod/search/smtp-password", json!([tag("keywarden-fingerprint", &d)])),
            entry("prod/alerts/smtp-password", json!([tag("keywarden-fingerprint", &d)])),
            // No service segment (the last segment is the secret's own name), and no tag.
            entry("prod/smtp-password", json!([tag("keywarden-fingerprint", &d)])),
            entry("shared/relay-password", json!([tag("keywarden-fingerprint", &d), tag("Service", "Relay"), tag("env", "prod")])),
        ]}))
        .expect("json"),
    );
    let r = audit(&[generic, sm], &[], &[]);
    let shr: BTreeSet<(String, String)> = ours(r.fails());
    assert_eq!(
        shr,
        expect(&[
            ("SHR-002", "gen-pay"),
            ("SHR-002", "gen-ord"),
            ("SHR-001", "gen-bill"),
            ("SHR-001", "gen-ship"),
            ("SHR-002", &arn("prod/search/smtp-password-Zz9999")),
            ("SHR-002", &arn("prod/alerts/smtp-password-Zz9999")),
            ("SHR-002", &arn("shared/relay-password-Zz9999")),
        ])
    );
    no_pair(&r, "SHR-002", "gen-pay-2");
    no_pair(&r, "SHR-002", "gen-bill");
    no_pair(&r, "SHR-002", &arn("prod/smtp-password-Zz9999"));
    let res = r.result("SHR-002", "gen-ord");
    assert_eq!(res["evidence"]["services"], json!(["orders", "payments"]));
    assert_eq!(res["evidence"]["environment"], "prod");
    assert!(
        r.json["rotate_first"]
            .as_array()
            .is_some_and(|a| a.iter().any(|p| p["secret_id"] == "gen-ord"))
    );
    let relay = r.result("SHR-002", &arn("shared/relay-password-Zz9999"));
    assert_eq!(relay["evidence"]["service"], "relay");

    // A policy pattern names services where the path does not.
    let pol = policy_file(
        &dir,
        "[services]\npatterns = ['^(?P<service>[a-z]+)-(key|secret)$']\n",
    );
    let inv = write(
        dir.path(),
        "names.csv",
        format!(
            "id,name,environment,fingerprint\nx-1,crm-key,prod,{e}\nx-2,erp-secret,prod,{e}\n",
            e = fp('e')
        )
        .as_bytes(),
    );
    let r = audit_with(args(std::slice::from_ref(&inv), &[], &[], Some(pol)));
    assert_eq!(
        ours(r.fails()),
        expect(&[("SHR-002", "x-1"), ("SHR-002", "x-2")])
    );
    // Without it, nothing says they are services.
    assert!(ours(audit(&[inv], &[], &[]).fails()).is_empty());
}

// ---------------------------------------------------------------- SEP-002 ---------------

#[test]
fn non_production_principals_granted_production_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inv, _) = aws_files(dir.path());
    let (kv_inv, _) = vault_files(dir.path());
    let stmt = |res: &str| {
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": format!("arn:aws:secretsmanager:us-east-1:{ACCT}:secret:{res}")}]})
    };
    let role = |name: &str, res: &str| {
        json!({"Path": "/", "RoleName": name, "RoleId": "AROAEXAMPLEROLEID", "Arn": role_arn(name),
               "CreateDate": "2026-01-01T00:00:00Z", "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
               "InstanceProfileList": [], "RolePolicyList": [{"PolicyName": "read", "PolicyDocument": stmt(res)}],
               "AttachedManagedPolicies": [], "Tags": []})
    };
    let auth = write(
        dir.path(),
        "iam-auth.json",
        &serde_json::to_vec_pretty(&json!({
            "UserDetailList": [], "GroupDetailList": [], "Policies": [],
            "RoleDetailList": [
                role("staging-deployer", "prod/payments/*"),
                role("prod-deployer", "prod/payments/*"),
                role("staging-app", "staging/payments/*"),
                role("dev-tools", "prod/orders/api-key-??????"),
            ]
        }))
        .expect("json"),
    );
    let hcl = write(
        dir.path(),
        "staging-web.hcl",
        b"# staging web app\npath \"secret/data/prod/app/api-key\" {\n  capabilities = [\"read\"]\n}\npath \"secret/data/staging/app/*\" {\n  capabilities = [\"read\"]\n}\n",
    );
    let mut a = args(&[inv, kv_inv], &[], &[], None);
    a.policy_doc = vec![auth, hcl];
    let r = audit_with(a);
    assert!(r.errors().is_empty(), "{}", r.json["input_errors"]);
    let sep: BTreeSet<(String, String)> = r
        .fails()
        .into_iter()
        .filter(|(c, _)| c.starts_with("SEP"))
        .collect();
    assert_eq!(
        sep,
        expect(&[
            ("SEP-002", &role_arn("staging-deployer")),
            ("SEP-002", &role_arn("dev-tools")),
            ("SEP-002", "vault-policy:staging-web"),
        ])
    );
    no_pair(&r, "SEP-002", &role_arn("prod-deployer"));
    no_pair(&r, "SEP-002", &role_arn("staging-app"));
    let res = r.result("SEP-002", &role_arn("staging-deployer"));
    assert_eq!(res["evidence"]["environment"], "staging");
    assert_eq!(
        res["evidence"]["secrets"],
        json!([
            arn("prod/payments/api-key-Pb2222"),
            arn("prod/payments/db-password-Pa1111")
        ])
    );
    assert_eq!(res["kind"], "access_grant");
    assert!(
        res["location"]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("iam-auth.json"))
    );
    let v = r.result("SEP-002", "vault-policy:staging-web");
    assert_eq!(
        v["evidence"]["secrets"],
        json!(["vault:secret/prod/app/api-key"])
    );
    assert_eq!(v["location"]["line"], 2);
}

// ---------------------------------------------------------------- documentation ---------

#[test]
fn documented_policies_load_and_every_check_is_in_the_table() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/audit.md"))
        .expect("docs");
    let mut policies = 0;
    for block in doc.split("```toml\n").skip(1) {
        let text = block.split("```").next().unwrap_or("");
        if text.contains("version = 1") {
            policies += 1;
            keywarden::audit::policy::Policy::load(Some(("docs/audit.md", text)))
                .unwrap_or_else(|e| panic!("documented policy does not load: {e:#}\n{text}"));
        }
    }
    assert!(policies >= 1);
    let table = &doc[doc.find("## Checks").expect("checks section")..];
    for c in keywarden::audit::checks::CheckId::ALL {
        assert!(
            table.contains(&format!("\n| {} |", c.as_str())),
            "{c} is not in the Checks table"
        );
        assert!(
            !c.def().fix.is_empty() && !c.def().controls.is_empty(),
            "{c}"
        );
    }
}
