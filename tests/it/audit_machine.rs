//! Machine credentials (MCH, and the classes of service-account keys and client secrets):
//! long-term IAM user keys used by workloads, Vault tokens without a TTL or with too long a
//! one, GCP user-managed service-account keys and Entra client secrets past what their
//! class allows. Fixtures follow each provider's documented output, with fake accounts.

use std::collections::BTreeSet;

use crate::common_audit;
use common_audit::*;

use serde_json::json;

/// The (check, id) pairs of one family, failing or review.
fn family(r: &Report, prefix: &str) -> BTreeSet<(String, String)> {
    r.fails()
        .into_iter()
        .chain(r.reviews())
        .filter(|(c, _)| c.starts_with(prefix))
        .collect()
}

fn key(id: &str) -> String {
    format!("aws-iam-key:{id}")
}

fn policy(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = policy_file(&dir, text);
    (dir, p)
}

/// Line (1-based) of the first line of a fixture holding `needle`.
fn line_in(rel: &str, needle: &str) -> u64 {
    std::fs::read_to_string(fx(rel))
        .expect("fixture")
        .lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u64 + 1)
        .expect("needle in fixture")
}

#[test]
fn iam_user_keys_used_by_workloads() {
    let trail = fx("aws/cloudtrail-workloads.json");
    let r = audit(
        &[fx("aws/iam-keys.jsonl")],
        std::slice::from_ref(&trail),
        &[],
    );
    assert!(r.errors().is_empty(), "{}", r.json["input_errors"]);
    // Lambda, Fargate, an Amazon Linux host, the root user's key on one, and alice's
    // second key in a Fargate task. Not: the CloudShell session, the laptop, CloudFormation
    // acting for a user, the role session on Lambda, dave's deactivated key, and the VPC
    // address no policy names as a workload network.
    assert_eq!(
        family(&r, "MCH"),
        expect(&[
            ("MCH-001", &key("AKIALAMBDAWORKLOAD01")),
            ("MCH-001", &key("AKIAFARGATETASK00001")),
            ("MCH-001", &key("AKIAEC2HOSTKEY000001")),
            ("MCH-001", &key("AKIAROOTKEY000000001")),
            ("MCH-001", &key("AKIAI44QH8DHBEXAMPLE")),
        ])
    );
    let lambda = r.result("MCH-001", &key("AKIALAMBDAWORKLOAD01"));
    assert_eq!(
        lambda["evidence"]["workload_calls"], 3,
        "S3 calls count too"
    );
    assert_eq!(
        lambda["evidence"]["signs"],
        json!(["user agent exec-env/AWS_Lambda_python3.12"])
    );
    assert_eq!(
        lambda["evidence"]["user"],
        "arn:aws:iam::123456789012:user/checkout-svc"
    );
    assert_eq!(lambda["severity"], "high");
    assert_eq!(lambda["kind"], "iam_access_key");
    assert_eq!(
        lambda["location"]["line"],
        line_in("aws/cloudtrail-workloads.json", "AKIALAMBDAWORKLOAD01"),
        "placed at the first such call"
    );
    assert!(
        lambda["fix"].as_str().unwrap_or("").contains("role"),
        "{lambda}"
    );
    let ec2 = r.result("MCH-001", &key("AKIAEC2HOSTKEY000001"));
    let sign = ec2["evidence"]["signs"][0].as_str().unwrap_or("");
    assert!(sign.contains("amzn2023") && sign.contains("EC2"), "{sign}");
    // A key the inventory knows is reported on its inventory entry, with its class.
    let alice = r.result("MCH-001", &key("AKIAI44QH8DHBEXAMPLE"));
    assert_eq!(alice["class"], "cloud_access_key");
    assert_eq!(
        alice["evidence"]["signs"],
        json!(["user agent exec-env/AWS_ECS_FARGATE"])
    );

    // Without the inventory, dave's key is not known to be deactivated: it is reported.
    let r = audit(&[], std::slice::from_ref(&trail), &[]);
    assert!(
        r.fails()
            .contains(&("MCH-001".into(), key("AKIADAVEINACTIVE0001")))
    );

    // A workload network named in the policy catches the call through the VPC endpoint.
    let (_d, p) = policy("[machine]\nworkload_cidrs = [\"10.20.0.0/16\", \"192.0.2.7\"]\n");
    let r = audit_with(args(
        &[fx("aws/iam-keys.jsonl")],
        std::slice::from_ref(&trail),
        &[],
        Some(p),
    ));
    let vpc = r.result("MCH-001", &key("AKIAVPCWORKLOAD00001"));
    assert_eq!(
        vpc["evidence"]["signs"],
        json!(["source 10.20.3.44 (workload CIDR 10.20.0.0/16)"])
    );
    assert_eq!(family(&r, "MCH").len(), 6);
    // Another block does not.
    let (_d, p) = policy("[machine]\nworkload_cidrs = [\"10.30.0.0/16\"]\n");
    let r = audit_with(args(&[], std::slice::from_ref(&trail), &[], Some(p)));
    assert!(
        !r.fails()
            .contains(&("MCH-001".into(), key("AKIAVPCWORKLOAD00001")))
    );
    // A block that is not one is a policy error.
    let (_d, p) = policy("[machine]\nworkload_cidrs = [\"10.20.0.0/33\"]\n");
    assert_eq!(audit_with(args(&[], &[trail], &[], Some(p))).code, 2);
    // The existing trail, signed with keys from the CLI on a workstation, has none.
    let r = audit(
        &[fx("aws/iam-keys.jsonl")],
        &[fx("aws/cloudtrail.json")],
        &[],
    );
    assert!(family(&r, "MCH").is_empty(), "{:?}", family(&r, "MCH"));
}

#[test]
fn vault_tokens_without_ttl_or_with_too_long_a_one() {
    let log = fx("vault/audit-tokens.log");
    let r = audit(&[], std::slice::from_ref(&log), &[]);
    assert!(r.errors().is_empty(), "{}", r.json["input_errors"]);
    // The root token never expires; the AppRole login issued 90-day tokens. Not: the
    // Kubernetes token (1 hour), the CI token at exactly the 768-hour maximum, the batch
    // token, and the legacy entries that do not say their TTL.
    assert_eq!(
        family(&r, "MCH"),
        expect(&[
            ("MCH-002", "vault-token:root"),
            ("MCH-003", "vault-token:approle"),
        ])
    );
    let root = r.result("MCH-002", "vault-token:root");
    assert_eq!(
        root["evidence"]["entries_without_ttl"], 2,
        "both requests, counted once per pair"
    );
    assert_eq!(root["evidence"]["policies"], json!(["root"]));
    assert_eq!(root["kind"], "vault_token");
    assert_eq!(root["severity"], "high");
    assert_eq!(
        root["location"]["line"],
        line_in("vault/audit-tokens.log", "secret/data/prod/payments/db")
    );
    let approle = r.result("MCH-003", "vault-token:approle");
    assert_eq!(approle["evidence"]["ttl_hours"], 2160);
    assert_eq!(approle["evidence"]["max_token_ttl_hours"], 768);
    assert_eq!(approle["severity"], "medium");
    // Placed at the login that issued the token.
    assert_eq!(
        approle["location"]["line"],
        line_in(
            "vault/audit-tokens.log",
            "\"response\": {\"mount_point\": \"auth/approle/\""
        )
    );
    // The tokens are counted; their accessors are not shown.
    assert_eq!(approle["evidence"]["tokens"], 1, "{approle}");
    assert!(!approle.to_string().contains("hmac-sha256:"), "{approle}");

    // A stricter policy also fails the CI token, still not the one-hour token.
    let (_d, p) = policy("[machine]\nmax_token_ttl_hours = 24\n");
    let r = audit_with(args(&[], std::slice::from_ref(&log), &[], Some(p)));
    assert_eq!(
        family(&r, "MCH"),
        expect(&[
            ("MCH-002", "vault-token:root"),
            ("MCH-003", "vault-token:approle"),
            ("MCH-003", "vault-token:token-ci-bootstrap"),
        ])
    );
    // 0 judges only tokens without a TTL.
    let (_d, p) = policy("[machine]\nmax_token_ttl_hours = 0\n");
    let r = audit_with(args(&[], &[log], &[], Some(p)));
    assert_eq!(
        family(&r, "MCH"),
        expect(&[("MCH-002", "vault-token:root")])
    );
    // Entries that do not state a TTL (older Vault versions) are not judged.
    let r = audit(&[], &[fx("vault/audit.log")], &[]);
    assert!(family(&r, "MCH").is_empty(), "{:?}", family(&r, "MCH"));
    // A TTL a log shipper turned into a string is still read; one that is no number is not
    // taken for "none".
    let dir = tempfile::tempdir().expect("tempdir");
    let line = |name: &str, ttl: serde_json::Value| {
        json!({"time": "2026-10-30T10:00:00Z", "type": "request",
            "auth": {"accessor": "hmac-sha256:ab", "display_name": name, "policies": ["default"],
                "token_ttl": ttl, "token_issue_time": "2026-10-30T09:00:00Z", "token_type": "service"},
            "request": {"id": name, "operation": "read", "mount_point": "secret/", "mount_type": "kv",
                "path": "secret/data/app/db"}})
        .to_string()
    };
    let text = format!(
        "{}\n{}\n",
        line("shipped-as-text", json!("7200000")),
        line("unreadable", json!("soon"))
    );
    let f = write(dir.path(), "shipped.log", text.as_bytes());
    let r = audit(&[], &[f], &[]);
    assert_eq!(
        family(&r, "MCH"),
        expect(&[("MCH-003", "vault-token:shipped-as-text")])
    );
}

#[test]
fn gcp_user_managed_service_account_keys() {
    let r = audit(&[fx("gcp/sa-keys.json")], &[], &[]);
    assert!(r.errors().is_empty(), "{}", r.json["input_errors"]);
    let sa = |account: &str, id: &str| {
        format!(
            "projects/shop-prod-4711/serviceAccounts/{account}@shop-prod-4711.iam.gserviceaccount.com/keys/{id}"
        )
    };
    let old = sa("deployer", "1111aaaa2222bbbb3333cccc4444dddd5555eeee");
    let year = sa("exporter", "ef56ef56ef56ef56ef56ef56ef56ef56ef56ef56");
    let due = sa("exporter", "9f8e7d6c9f8e7d6c9f8e7d6c9f8e7d6c9f8e7d6c");
    // Not: the fresh key with a 61-day expiry, the Google-managed key, the disabled key,
    // the expired key.
    assert_eq!(
        r.fails(),
        expect(&[("ROT-003", &old), ("EXP-001", &old), ("EXP-001", &year),])
    );
    assert_eq!(r.reviews(), expect(&[("ROT-005", &due)]));
    assert_eq!(r.result("ROT-005", &due)["due"], "2026-11-08T00:00:00Z");
    let exp = r.result("EXP-001", &old);
    assert!(
        exp["message"].as_str().unwrap_or("").contains("no expiry"),
        "Google's year-9999 expiry is no expiry: {exp}"
    );
    assert_eq!(exp["class"], "service_account_key");
    assert_eq!(exp["kind"], "gcp_service_account_key");
    assert_eq!(r.result("ROT-003", &old)["evidence"]["max_age_days"], 90);
    assert_eq!(r.result("EXP-001", &year)["evidence"]["validity_days"], 365);
    // Google-managed keys are read but not audited: six keys of seven are secrets.
    assert_eq!(r.json["summary"]["secrets"], 6);
    assert_eq!(input(&r, "sa-keys.json")["format"], "gcp-sa-keys");
    assert_eq!(input(&r, "sa-keys.json")["records"], 7);
    assert_eq!(
        r.result("ROT-003", &old)["location"]["line"],
        line_in("gcp/sa-keys.json", "1111aaaa2222bbbb") - 4,
        "the line where the key's object starts"
    );

    // A leaked key file (its private_key_id) joins the key: still enabled, so LEAK-001.
    let dir = tempfile::tempdir().expect("tempdir");
    let findings = write(
        dir.path(),
        "findings.json",
        json!({"schema": "keywarden/scan/v1", "scan_time": "2026-10-31T00:00:00Z", "findings": [{
            "rule_id": "gcp-service-account-key", "rule_name": "GCP service account key",
            "severity": "critical", "path": "deploy/sa.json", "line": 4,
            "key_id": "1111aaaa2222bbbb3333cccc4444dddd5555eeee",
            "fingerprint": "kw1:00000000000000000000000000000001",
            "commit": {"id": "0123456789abcdef0123456789abcdef01234567", "author_date": "2026-10-02T00:00:00Z"}}]})
        .to_string()
        .as_bytes(),
    );
    let r = audit(&[fx("gcp/sa-keys.json")], &[], &[findings]);
    assert!(r.fails().contains(&("LEAK-001".into(), old.clone())));
    assert!(
        !r.fails().iter().any(|(c, _)| c == "LEAK-003"),
        "{:?}",
        r.fails()
    );

    // A key whose name is not a key name is an input error with its line; the rest is read.
    let bad = write(
        dir.path(),
        "keys.json",
        b"[\n  {\"name\": \"projects/p/serviceAccounts/a@p.iam.gserviceaccount.com/keys/0011\", \"keyType\": \"USER_MANAGED\", \"validAfterTime\": \"2026-01-01T00:00:00Z\", \"validBeforeTime\": \"9999-12-31T23:59:59Z\"},\n  {\"name\": \"projects/p/keys/x\", \"keyType\": \"USER_MANAGED\", \"validAfterTime\": \"2026-01-01T00:00:00Z\"}\n]\n",
    );
    let r = audit(&[bad], &[], &[]);
    assert_eq!(r.errors(), vec![("keys.json".to_string(), 3)]);
    assert_eq!(r.json["summary"]["partial"], false);
    assert!(r.fails().contains(&(
        "ROT-003".into(),
        "projects/p/serviceAccounts/a@p.iam.gserviceaccount.com/keys/0011".into()
    )));
}

#[test]
fn entra_application_client_secrets() {
    let r = audit(&[fx("azure/app-credentials.json")], &[], &[]);
    assert!(r.errors().is_empty(), "{}", r.json["input_errors"]);
    let two_years = "azure-app-secret:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
    let legacy = "azure-app-secret:3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e7f";
    // Not: the six-month secret, the expired one (Entra refuses it).
    assert_eq!(
        r.fails(),
        expect(&[
            ("EXP-001", two_years),
            ("ROT-003", legacy),
            ("EXP-001", legacy),
        ])
    );
    let exp = r.result("EXP-001", two_years);
    assert_eq!(exp["evidence"]["validity_days"], 730);
    assert_eq!(exp["evidence"]["max_validity_days"], 366);
    assert_eq!(exp["class"], "client_secret");
    assert_eq!(exp["kind"], "azure_client_secret");
    assert_eq!(exp["name"], "github-actions-deploy");
    assert_eq!(
        input(&r, "app-credentials.json")["format"],
        "azure-app-credentials"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    // `az ad app show`: the application with its secrets (certificates are not secrets),
    // and the shape older `az` versions printed (startDate / endDate).
    let app = json!({"appId": "7d3c2b1a-0000-4000-8000-00000000abcd", "displayName": "orders-api",
        "id": "9e8d7c6b-0000-4000-8000-00000000dcba", "signInAudience": "AzureADMyOrg",
        "keyCredentials": [{"customKeyIdentifier": "QUJD", "displayName": "CN=orders-api", "endDateTime": "2030-01-01T00:00:00Z",
            "key": null, "keyId": "5e6f7a8b-0000-4000-8000-000000000001", "startDateTime": "2025-01-01T00:00:00Z",
            "type": "AsymmetricX509Cert", "usage": "Verify"}],
        "passwordCredentials": [{"customKeyIdentifier": null, "displayName": "nightly-sync", "endDateTime": "2029-01-01T00:00:00Z",
            "hint": "n8J", "keyId": "6f7a8b9c-0000-4000-8000-000000000002", "secretText": null, "startDateTime": "2026-06-01T00:00:00Z"}]});
    let old_cli = json!([{"additionalProperties": null, "customKeyIdentifier": null,
        "endDate": "2027-10-01T00:00:00+00:00", "keyId": "7a8b9c0d-0000-4000-8000-000000000003",
        "startDate": "2026-10-01T00:00:00+00:00", "value": null}]);
    let text = format!(
        "{}\n{}\n",
        serde_json::to_string_pretty(&app).unwrap(),
        serde_json::to_string_pretty(&old_cli).unwrap()
    );
    let f = write(dir.path(), "apps.json", text.as_bytes());
    let r = audit(&[f], &[], &[]);
    assert!(r.errors().is_empty(), "{}", r.json["input_errors"]);
    let nightly = "azure-app-secret:6f7a8b9c-0000-4000-8000-000000000002";
    assert_eq!(
        r.fails(),
        expect(&[("EXP-001", nightly)]),
        "the certificate is not audited; the year-long old-style secret passes"
    );
    assert_eq!(
        r.result("EXP-001", nightly)["name"],
        "orders-api: nightly-sync"
    );
    assert_eq!(r.json["summary"]["secrets"], 2);
    // `--cert` output: not client secrets, an input error with its line, not a partial audit.
    let certs = write(
        dir.path(),
        "certs.json",
        b"[\n  {\"customKeyIdentifier\": \"QUJD\", \"displayName\": \"CN=x\", \"endDateTime\": \"2030-01-01T00:00:00Z\", \"key\": null, \"keyId\": \"5e6f7a8b-0000-4000-8000-000000000009\", \"startDateTime\": \"2025-01-01T00:00:00Z\", \"type\": \"AsymmetricX509Cert\", \"usage\": \"Verify\"}\n]\n",
    );
    let r = audit(&[certs], &[], &[]);
    assert_eq!(r.errors(), vec![("certs.json".to_string(), 2)]);
    assert_eq!(r.json["summary"]["partial"], false);
}

#[test]
fn credential_values_in_these_exports_are_never_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    // What `az ad app credential reset` and `gcloud iam service-accounts keys create`
    // print once: the secret itself.
    let text = "Zq8~client-secret-text-0000";
    let key_data = "c3RhbmQtaW4ga2V5IGZpbGU=";
    let cred = json!([{"displayName": "created-now", "endDateTime": "2027-01-01T00:00:00Z", "hint": "Zq8",
        "keyId": "8b9c0d1e-0000-4000-8000-000000000004", "secretText": text, "startDateTime": "2026-10-31T00:00:00Z"}]);
    let key = json!({"name": "projects/p/serviceAccounts/a@p.iam.gserviceaccount.com/keys/0022",
        "keyType": "USER_MANAGED", "privateKeyData": key_data, "privateKeyType": "TYPE_GOOGLE_CREDENTIALS_FILE",
        "validAfterTime": "2026-10-31T00:00:00Z", "validBeforeTime": "2026-12-01T00:00:00Z"});
    let a = write(dir.path(), "cred.json", cred.to_string().as_bytes());
    let k = write(dir.path(), "key.json", key.to_string().as_bytes());
    for format in ["json", "text", "markdown", "sarif", "junit", "gitlab"] {
        let (_, out) = audit_as(args(&[a.clone(), k.clone()], &[], &[], None), format);
        assert!(out.contains("INV-001"), "{format}: {out}");
        for v in [text, key_data, "client-secret-text"] {
            assert!(!out.contains(v), "{format} report leaks {v}");
        }
    }
    let r = audit(&[a, k], &[], &[]);
    assert_eq!(
        r.fails(),
        expect(&[
            (
                "INV-001",
                "azure-app-secret:8b9c0d1e-0000-4000-8000-000000000004"
            ),
            (
                "INV-001",
                "projects/p/serviceAccounts/a@p.iam.gserviceaccount.com/keys/0022"
            ),
        ])
    );
    let inv = r.result(
        "INV-001",
        "azure-app-secret:8b9c0d1e-0000-4000-8000-000000000004",
    );
    assert_eq!(inv["evidence"]["fields"], json!(["secretText"]));
    assert!(
        inv["evidence"]["fingerprints"][0]
            .as_str()
            .is_some_and(|f| f.starts_with("kw2:")),
        "{inv}"
    );
}
