//! Hostile and damaged input: no panics, bad records reported with their line, the rest
//! still audited; large inputs stream.

use crate::common_audit;
use common_audit::*;

use std::io::Write;

const KINDS: [&str; 21] = [
    "aws-secrets",
    "aws-iam-keys",
    "aws-credential-report",
    "vault-kv",
    "gcp-secrets",
    "azure-secrets",
    "k8s-secrets",
    "generic",
    "cloudtrail",
    "vault-audit",
    "gcp-audit",
    "azure-audit",
    "keywarden-json",
    "keywarden-sarif",
    "aws-iam-auth",
    "aws-secret-policy",
    "k8s-rbac",
    "vault-policy",
    "gcp-iam",
    "azure-access",
    "policy",
];

const FIXTURES: [&str; 20] = [
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
];

#[test]
fn truncated_and_mutated_fixtures_never_panic() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for f in FIXTURES {
        let data = std::fs::read(fx(f)).expect("fixture");
        for kind in KINDS {
            keywarden::audit::fuzz_parse(kind, &data);
            for cut in [
                1,
                data.len() / 3,
                data.len() / 2,
                data.len().saturating_sub(1),
            ] {
                keywarden::audit::fuzz_parse(kind, &data[..cut.min(data.len())]);
            }
            let mut m = data.clone();
            for _ in 0..8 {
                let i = (next() as usize) % m.len().max(1);
                if let Some(b) = m.get_mut(i) {
                    *b = (next() & 0xff) as u8;
                }
            }
            keywarden::audit::fuzz_parse(kind, &m);
        }
    }
    for kind in KINDS {
        for junk in [&b""[..], b"{", b"[", b"]]]]", b"\"", b"{\"Records\": [1, \"x\", null, {}]}", b"\xff\xfe\x00", b"{\"a\":1}\n{\"b\":", b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["] {
            keywarden::audit::fuzz_parse(kind, junk);
        }
        let deep = "[".repeat(100_000);
        keywarden::audit::fuzz_parse(kind, deep.as_bytes());
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
