//! Each inventory format: every check fires exactly where the fixture has a violation.

use crate::common_audit;
use common_audit::*;

fn arn(name: &str) -> String {
    format!("{ARN}{name}")
}

#[test]
fn aws_secrets_manager_list_secrets_cli_v1_epoch_dates() {
    let r = audit(&[fx("aws/list-secrets.json")], &[], &[]);
    assert_eq!(
        r.fails(),
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
        ])
    );
    assert_eq!(
        r.reviews(),
        expect(&[("ROT-005", &arn("prod/api/fresh-De1234"))])
    );
    assert_eq!(
        r.result("ROT-005", &arn("prod/api/fresh-De1234"))["due"],
        "2026-11-08T00:00:00Z"
    );
    let rot3 = r.result("ROT-003", &arn("prod/db/password-Ab1234"));
    assert_eq!(rot3["evidence"]["age_days"], 304);
    assert_eq!(rot3["evidence"]["max_age_days"], 90);
    assert_eq!(rot3["class"], "db_password");
    assert_eq!(
        rot3["location"]["line"], 3,
        "line of the record in the export"
    );
    assert_eq!(r.code, 1);
    assert!(r.errors().is_empty());
}

#[test]
fn aws_describe_secret_cli_v2_iso_dates_with_offsets() {
    let r = audit(
        &[fx("aws/describe-secret-v2.json")],
        &[fx("aws/cloudtrail.json")],
        &[],
    );
    // db-creds: rotated 2026-10-05 (from an ISO date at -07:00), then RotationFailed in CloudTrail.
    // old: created 2026-01-05 at +02:00, never rotated.
    assert_eq!(
        r.fails(),
        expect(&[
            ("ROT-004", &arn("prod/payments/db-creds-Mn1234")),
            ("ROT-003", &arn("prod/payments/old-Op1234")),
            // Log-only secrets from the same CloudTrail file.
            ("ACC-002", "prod/api/probed"),
        ])
    );
    let old = r.result("ROT-003", &arn("prod/payments/old-Op1234"));
    assert_eq!(old["evidence"]["created"], "2026-01-05T00:00:00Z");
}

#[test]
fn secret_values_in_inputs_are_reported_and_never_printed() {
    for format in [
        "json", "text", "markdown", "html", "sarif", "junit", "gitlab",
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let mut a = args(
            &[
                fx("aws/get-secret-value.json"),
                fx("azure/secret-show.json"),
                fx("k8s/secrets.json"),
            ],
            &[],
            &[],
            None,
        );
        a.format = format.into();
        a.output = Some(out.to_string_lossy().into_owned());
        keywarden::audit::run(&a).expect("run");
        let text = std::fs::read_to_string(&out).expect("report");
        for value in [
            "hunter2",
            "\\\"password\\\"",
            "k8s-password-value",
            "PRIVATEKEYVALUE",
            "azhzLXBhc3N3b3JkLXZhbHVl",
        ] {
            assert!(!text.contains(value), "{format} report leaks {value}");
        }
        assert!(text.contains("INV-001"));
    }
    let r = audit(
        &[
            fx("aws/get-secret-value.json"),
            fx("azure/secret-show.json"),
        ],
        &[],
        &[],
    );
    assert_eq!(
        r.fails(),
        expect(&[
            ("INV-001", &arn("prod/api/exported-Pq1234")),
            ("INV-001", "https://kv-prod.vault.azure.net/secrets/clean")
        ])
    );
    let inv = r.result("INV-001", "https://kv-prod.vault.azure.net/secrets/clean");
    assert_eq!(
        inv["evidence"]["fingerprints"][0],
        "kw2:e3733f12a7a80a03a53cee9d9aee048e"
    );
}

#[test]
fn iam_access_keys_with_last_used_merged() {
    let r = audit(&[fx("aws/iam-keys.jsonl")], &[], &[]);
    assert_eq!(
        r.fails(),
        expect(&[
            ("ROT-003", "aws-iam-key:AKIAIOSFODNN7EXAMPLE"),
            ("KEY-001", "aws-iam-key:AKIAIOSFODNN7EXAMPLE"),
            ("KEY-001", "aws-iam-key:AKIAI44QH8DHBEXAMPLE"),
            ("USE-002", "aws-iam-key:AKIACAROLNEVERUSED01"),
        ])
    );
}

#[test]
fn iam_list_access_keys_without_last_used() {
    // No last-used data: no usage checks; the inactive old key is not reported.
    let r = audit(&[fx("aws/list-access-keys.json")], &[], &[]);
    assert!(r.fails().is_empty(), "{:?}", r.fails());
    assert_eq!(r.json["summary"]["secrets"], 2);
}

#[test]
fn iam_credential_report_csv_and_json_agree() {
    let csv = audit(&[fx("aws/credential-report.csv")], &[], &[]);
    let json = audit(&[fx("aws/credential-report.json")], &[], &[]);
    let want = expect(&[
        ("ROT-003", "aws-iam-user:alice/key1"),
        ("KEY-001", "aws-iam-user:alice/key1"),
        ("KEY-001", "aws-iam-user:alice/key2"),
        ("ROT-003", "aws-iam-user:erin/key1"),
        ("ROT-003", "aws-iam-user:frank/key1"),
        ("USE-002", "aws-iam-user:frank/key1"),
        ("KEY-001", "aws-iam-user:harry/key1"),
        ("KEY-001", "aws-iam-user:harry/key2"),
        // ivan: key 1 last used 51 days ago (> 45); key 2 is inactive and old: nothing.
        ("USE-001", "aws-iam-user:ivan/key1"),
    ]);
    assert_eq!(csv.fails(), want);
    assert_eq!(json.fails(), want);
}

#[test]
fn credential_report_slots_join_list_access_keys() {
    // alice's report slots are the same keys as list-access-keys: reported once, by key id.
    let r = audit(
        &[fx("aws/iam-keys.jsonl"), fx("aws/credential-report.csv")],
        &[],
        &[],
    );
    let ids: Vec<String> = r.fails().into_iter().map(|(_, id)| id).collect();
    assert!(
        !ids.iter().any(|i| i.starts_with("aws-iam-user:alice")),
        "{ids:?}"
    );
    assert!(r.fails().contains(&(
        "KEY-001".to_string(),
        "aws-iam-key:AKIAI44QH8DHBEXAMPLE".to_string()
    )));
    assert!(
        r.fails()
            .contains(&("ROT-003".to_string(), "aws-iam-user:erin/key1".to_string()))
    );
}

#[test]
fn vault_kv_metadata_jsonl() {
    let r = audit(&[fx("vault/kv-metadata.jsonl")], &[], &[]);
    // api-key: current version 3 created 2026-02-01. rotated: version 2 created 2026-10-01.
    // master: encryption_key by custom_metadata, 304 days < 365. deleted: no logs, nothing to say.
    assert_eq!(
        r.fails(),
        expect(&[("ROT-003", "vault:secret/prod/app/api-key")])
    );
    assert_eq!(
        r.result("ROT-003", "vault:secret/prod/app/api-key")["evidence"]["last_rotated"],
        "2026-02-01T00:00:00Z"
    );
    assert_eq!(r.errors(), vec![("kv-metadata.jsonl".to_string(), 4)]);
    assert_eq!(r.json["summary"]["secrets"], 5);
}

#[test]
fn gcp_secrets_and_versions() {
    let r = audit(&[fx("gcp/secrets.json"), fx("gcp/versions.json")], &[], &[]);
    let p = "projects/my-proj/secrets/";
    assert_eq!(
        r.fails(),
        expect(&[
            ("ROT-002", &format!("{p}prod-api-key")),
            ("ROT-003", &format!("{p}old-secret")),
            ("ROT-004", &format!("{p}missed")),
            ("EXP-001", &format!("{p}svc-token")),
            ("EXP-002", &format!("{p}expired")),
        ])
    );
    // Without the versions list the creation date is the only evidence.
    let alone = audit(&[fx("gcp/secrets.json")], &[], &[]);
    assert_eq!(
        alone.result("ROT-003", &format!("{p}old-secret"))["evidence"]["created"],
        "2025-06-01T00:00:00Z"
    );
    assert_eq!(
        r.result("ROT-003", &format!("{p}old-secret"))["evidence"]["last_rotated"],
        "2026-03-01T00:00:00Z"
    );
}

#[test]
fn azure_secret_list_and_versions() {
    let r = audit(
        &[fx("azure/secrets.json"), fx("azure/versions.json")],
        &[],
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
        ])
    );
    // app-key is old but has a newer enabled version: no ROT-003; without versions it fails.
    let alone = audit(&[fx("azure/secrets.json")], &[], &[]);
    assert!(
        alone
            .fails()
            .contains(&("ROT-003".to_string(), format!("{v}app-key")))
    );
}

#[test]
fn kubernetes_secrets() {
    let r = audit(&[fx("k8s/secrets.json")], &[], &[]);
    assert_eq!(
        r.fails(),
        expect(&[
            ("INV-001", "k8s:prod/db-creds"),
            ("ROT-003", "k8s:prod/db-creds"),
            ("SHR-001", "k8s:prod/db-creds"),
            ("SHR-001", "k8s:staging/staging-copy"),
            ("INV-001", "k8s:default/tls-cert"),
        ])
    );
    let inv = r.result("INV-001", "k8s:default/tls-cert");
    assert!(
        inv["message"]
            .as_str()
            .unwrap_or("")
            .contains("last-applied-configuration")
    );
}

#[test]
fn generic_inventory_csv_and_json() {
    let r = audit(
        &[fx("generic/inventory.csv"), fx("generic/inventory.json")],
        &[],
        &[],
    );
    assert_eq!(
        r.fails(),
        expect(&[
            ("ROT-003", "gen-001"),
            ("SHR-001", "gen-002"),
            ("SHR-001", "gen-101"),
            ("EXP-001", "gen-003"),
            ("EXP-002", "gen-004"),
            ("ROT-001", "gen-005"),
            ("USE-001", "gen-006"),
            ("USE-002", "gen-007"),
            ("ROT-003", "gen-102"),
            ("USE-002", "gen-102"),
        ])
    );
    assert_eq!(
        r.errors(),
        vec![
            ("inventory.csv".to_string(), 10),
            ("inventory.json".to_string(), 22)
        ]
    );
    // The quoted CSV field is read as one value.
    assert_eq!(r.json["summary"]["secrets"], 12);
}

#[test]
fn value_export_does_not_override_listing_metadata() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("gsv.json");
    // get-secret-value of a secret whose listing says rotation is on.
    std::fs::write(
        &p,
        serde_json::json!({"ARN": arn("prod/api/stripe-key-Bc1234"), "Name": "prod/api/stripe-key", "VersionId": "v2",
                           "SecretString": "x", "VersionStages": ["AWSCURRENT"], "CreatedDate": 1792886400.0})
        .to_string(),
    )
    .expect("write");
    for order in [
        vec![
            p.to_string_lossy().into_owned(),
            fx("aws/list-secrets.json"),
        ],
        vec![
            fx("aws/list-secrets.json"),
            p.to_string_lossy().into_owned(),
        ],
    ] {
        let r = audit(&order, &[], &[]);
        let mine: Vec<_> = r
            .fails()
            .into_iter()
            .filter(|(_, id)| id.contains("stripe-key"))
            .map(|(c, _)| c)
            .collect();
        assert_eq!(mine, vec!["INV-001".to_string(), "ROT-002".to_string()]);
    }
}
