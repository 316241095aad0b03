//! Fingerprints written before `kw2:` (kw1 findings files) still tie a leak to its secret.

use crate::common::*;
use crate::common_audit::{audit, write};
use base64::Engine;
use keywarden::pipeline::fingerprint::{fingerprint, keyed, legacy_with_key};

#[test]
fn a_findings_file_written_before_kw2_joins_the_secret_holding_the_value() {
    let mut rng = Rng::new(31);
    let token = loop {
        let t = format!("ghp_{}", rng.s(ALNUM, 36));
        if keyed(t.as_bytes()) {
            break t;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&token);
    let secrets = format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[{{"apiVersion":"v1","kind":"Secret","type":"Opaque",
"metadata":{{"name":"ci-token","namespace":"prod","uid":"u9","creationTimestamp":"2026-01-01T00:00:00Z","resourceVersion":"1"}},
"data":{{"token":"{b64}"}}}}]}}"#
    );
    let inv = write(dir.path(), "secrets.json", secrets.as_bytes());
    let finding = |fp: &str| {
        format!(
            r#"{{"rule_id":"github-pat","rule_name":"GitHub token","severity":"critical","confidence":"high","path":"ci/deploy.sh","line":3,"column":1,"secret":"ghp_****","fingerprint":"{fp}","commit":{{"id":"0123456789abcdef0123456789abcdef01234567","author_name":"Dev","author_email":"dev@example.com","author_date":"2026-10-10T12:00:00Z","committer_date":"2026-10-10T12:00:00Z","summary":"ci"}}}}
"#
        )
    };
    let id = "k8s:prod/ci-token";
    for (name, fp) in [
        ("old.jsonl", legacy_with_key(token.as_bytes(), None)),
        ("new.jsonl", fingerprint(token.as_bytes())),
    ] {
        let findings = write(dir.path(), name, finding(&fp).as_bytes());
        let r = audit(std::slice::from_ref(&inv), &[], &[findings]);
        let fails = r.fails();
        assert!(
            fails.iter().any(|(c, i)| c == "LEAK-001" && i.contains(id)),
            "{name}: {fails:?}"
        );
        assert!(
            !fails.iter().any(|(c, _)| c == "LEAK-003"),
            "{name}: {fails:?}"
        );
    }
}
