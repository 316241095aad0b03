//! Hostile and damaged input: no panics, bad records reported with their line, the rest
//! still audited; large inputs stream.

use crate::common_audit;
use common_audit::*;

use std::io::Write;
use std::path::Path;

use keywarden::audit::fuzz::{Target, names};

const FIXTURES: [&str; 36] = [
    "aws/list-secrets.json",
    "aws/describe-secret-v2.json",
    "aws/get-secret-value.json",
    "aws/iam-keys.jsonl",
    "aws/list-access-keys.json",
    "aws/credential-report.csv",
    "aws/credential-report.json",
    "aws/cloudtrail.json",
    "vault/kv-metadata.jsonl",
    "vault/audit.log",
    "gcp/secrets.json",
    "gcp/versions.json",
    "gcp/audit.json",
    "azure/secrets.json",
    "azure/versions.json",
    "azure/audit.json",
    "k8s/secrets.json",
    "generic/inventory.csv",
    "generic/inventory.json",
    "findings/scan.sarif",
    "access/iam-auth.json",
    "access/secret-policy.json",
    "access/rbac.json",
    "access/vault-ops.hcl",
    "access/vault-policy.json",
    "access/gcp-iam.json",
    "access/azure-keyvault.json",
    "access/azure-roles.json",
    "aws/cloudtrail-workloads.json",
    "aws/list-secrets-kms.json",
    "vault/audit-tokens.log",
    "vault/audit-list.json",
    "gcp/sa-keys.json",
    "azure/app-credentials.json",
    "azure/keyvault-show.json",
    "vault/audit-list-none.json",
];

/// Every fuzz target, built once (as the fuzzer does).
fn targets() -> Vec<Target> {
    names()
        .into_iter()
        .map(|n| Target::new(n).expect("every listed target exists"))
        .collect()
}

#[test]
fn truncated_and_mutated_fixtures_never_panic() {
    let mut rng = crate::corpus::Rng::new(0x9e37_79b9_7f4a_7c15);
    let targets = targets();
    for f in FIXTURES {
        let data = std::fs::read(fx(f)).expect("fixture");
        for t in &targets {
            t.run(&data);
            for cut in [
                1,
                data.len() / 3,
                data.len() / 2,
                data.len().saturating_sub(1),
            ] {
                t.run(&data[..cut.min(data.len())]);
            }
            let mut m = data.clone();
            for _ in 0..8 {
                let i = rng.below(m.len());
                if let Some(b) = m.get_mut(i) {
                    *b = rng.next() as u8;
                }
            }
            t.run(&m);
        }
    }
    for t in &targets {
        for junk in [&b""[..], b"{", b"[", b"]]]]", b"\"", b"{\"Records\": [1, \"x\", null, {}]}", b"\xff\xfe\x00", b"{\"a\":1}\n{\"b\":", b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["] {
            t.run(junk);
        }
        let deep = "[".repeat(100_000);
        t.run(deep.as_bytes());
    }
}

/// The fuzzer seeds each target's corpus from the fixtures detection reads as its format:
/// every target must have some, and each fixture must seed the target it was written for.
#[test]
fn every_fuzz_target_is_seeded_from_the_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures = root.join("tests/fixtures/audit");
    let policy = root.join("src/audit/default-policy.toml");
    let mut seeded = Vec::new();
    for t in targets() {
        let seeds = t.seeds(&[&fixtures, &policy]);
        assert!(!seeds.is_empty(), "no seed for fuzz target {}", t.name());
        seeded.extend(seeds.into_iter().map(|p| (t.name(), p)));
    }
    let seed_of = |rel: &str| -> Vec<&str> {
        seeded
            .iter()
            .filter(|(_, p)| p.ends_with(rel))
            .map(|(n, _)| *n)
            .collect()
    };
    assert_eq!(seed_of("aws/cloudtrail.json"), ["cloudtrail"]);
    assert_eq!(seed_of("gcp/sa-keys.json"), ["gcp-sa-keys"]);
    assert_eq!(
        seed_of("azure/app-credentials.json"),
        ["azure-app-credentials"]
    );
    // `az keyvault show` is both: the vault's settings and its access policies.
    assert_eq!(
        seed_of("azure/keyvault-show.json"),
        ["azure-keyvault", "azure-access"]
    );
    // Vault's `path` key also meets the loose signs of a JSON Vault policy.
    assert_eq!(
        seed_of("vault/audit-list.json"),
        ["vault-audit-devices", "vault-policy"]
    );
    assert_eq!(
        seed_of("vault/audit-list-none.json"),
        ["vault-audit-devices"]
    );
    assert_eq!(seed_of("access/vault-ops.hcl"), ["vault-policy"]);
    assert_eq!(seed_of("generic/inventory.csv"), ["generic"]);
    assert_eq!(seed_of("default-policy.toml"), ["policy"]);
}

/// A resource policy whose `ARN` is not an ARN (found by fuzzing: the account was read from
/// the sixth field of any id) is judged without an account, not a panic.
#[test]
fn a_resource_policy_with_a_short_arn_does_not_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#;
    for arn in ["x", "arn:aws", "arn:aws:secretsmanager:us-east-1"] {
        let doc = serde_json::json!({"ARN": arn, "Name": "n", "ResourcePolicy": policy});
        let f = write(dir.path(), "policy.json", doc.to_string().as_bytes());
        let mut a = args(&[], &[], &[], None);
        a.policy_doc = vec![format!("aws-secret-policy:{f}")];
        let r = audit_with(a);
        assert!(
            r.fails()
                .contains(&("PRV-003".to_string(), arn.to_string())),
            "{arn}: {:?}",
            r.fails()
        );
    }
}

#[test]
fn bad_records_in_a_records_file_are_skipped_with_their_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("ct.json");
    let good = r#"{"eventTime":"2026-10-20T08:00:00Z","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","requestParameters":{"secretId":"prod/deleted-thing"},"userIdentity":{"arn":"arn:aws:iam::1:user/x"}}"#;
    let text = format!(
        "{{\n\"Records\": [\n{good},\n{{\"eventName\": \"NoTime\"}},\n{{\"eventTime\": tru}},\n{good}\n]\n}}\n"
    );
    std::fs::write(&p, text).expect("write");
    let r = audit(
        &[fx("aws/list-secrets.json")],
        &[p.to_string_lossy().into_owned()],
        &[],
    );
    assert_eq!(
        r.errors(),
        vec![("ct.json".to_string(), 4), ("ct.json".to_string(), 5)]
    );
    assert!(r.fails().contains(&(
        "ACC-001".to_string(),
        format!("{ARN}prod/deleted-thing-Gh1234")
    )));
}

#[test]
fn large_generated_cloudtrail_streams() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("big.json");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).expect("create"));
    write!(f, "{{\"Records\":[").expect("write");
    let n = 60_000;
    for i in 0..n {
        if i > 0 {
            write!(f, ",").expect("write");
        }
        write!(
            f,
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/u{}","accessKeyId":"AKIAGEN{:013}"}},"eventTime":"2026-10-{:02}T{:02}:00:00Z","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","requestParameters":{{"secretId":"prod/api/clean"}},"responseElements":null}}"#,
            i % 50,
            i % 1000,
            1 + i % 28,
            i % 24
        )
        .expect("write");
    }
    write!(f, "]}}").expect("write");
    f.flush().expect("flush");
    drop(f);
    let r = audit(
        &[fx("aws/list-secrets.json")],
        &[p.to_string_lossy().into_owned()],
        &[],
    );
    assert_eq!(r.json["coverage"]["aws"]["events"], n);
    assert!(r.errors().is_empty());
}
