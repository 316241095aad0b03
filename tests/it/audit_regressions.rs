//! Regression tests, one per fixed bug: explicit `require_expiry = false`, empty exports,
//! concatenated JSON documents, CRLF CSV line numbers, partial audits and CloudTrail digest
//! files. Fixtures are generated here; none holds a secret value.

use crate::common_audit;
use common_audit::*;

use std::path::Path;

use serde_json::{Value, json};

#[test]
fn explicit_require_expiry_false_wins_over_max_validity_days() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = write(
        dir.path(),
        "tokens.json",
        json!([
            {"id": "tok-no-expiry", "name": "a", "class": "tok", "created": "2026-10-01"},
            {"id": "tok-long", "name": "b", "class": "tok", "created": "2026-10-01", "expires": "2027-10-01"},
            {"id": "tok-short", "name": "c", "class": "tok", "created": "2026-10-01", "expires": "2026-10-20"}
        ])
        .to_string()
        .as_bytes(),
    );
    let exp = |policy: &str| {
        let pdir = tempfile::tempdir().expect("tempdir");
        let pol = policy_file(&pdir, policy);
        let r = audit_with(args(std::slice::from_ref(&inv), &[], &[], Some(pol)));
        r.fails()
            .into_iter()
            .filter(|(c, _)| c == "EXP-001")
            .collect::<std::collections::BTreeSet<_>>()
    };
    // Explicit false: no expiry is fine, but an expiry longer than allowed still fails.
    assert_eq!(
        exp("[classes.tok]\nmax_validity_days = 30\nrequire_expiry = false\n"),
        expect(&[("EXP-001", "tok-long")])
    );
    // Unset: max_validity_days implies require_expiry.
    assert_eq!(
        exp("[classes.tok]\nmax_validity_days = 30\n"),
        expect(&[("EXP-001", "tok-long"), ("EXP-001", "tok-no-expiry")])
    );
    // The built-in service_token class (require_expiry = true) can be relaxed the same way.
    let svc = write(
        dir.path(),
        "svc.json",
        json!([{"id": "svc", "name": "x", "class": "service_token", "created": "2026-10-01"}])
            .to_string()
            .as_bytes(),
    );
    let pdir = tempfile::tempdir().expect("tempdir");
    let pol = policy_file(&pdir, "[classes.service_token]\nrequire_expiry = false\n");
    let r = audit_with(args(&[svc], &[], &[], Some(pol)));
    assert!(
        !r.fails().iter().any(|(c, _)| c == "EXP-001"),
        "{:?}",
        r.fails()
    );
}

#[test]
fn empty_exports_are_zero_records_not_an_unknown_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let events = write(d, "lookup-events.json", b"{\n    \"Events\": []\n}\n");
    let gcp_logs = write(d, "gcloud-logging.json", b"[]\n");
    let az_list = write(d, "az-list.json", b"[]\n");
    let sm = write(d, "sm.json", b"{\n    \"SecretList\": []\n}\n");
    let nothing = write(d, "versions-loop.json", b"");
    let explicit = format!(
        "cloudtrail:{}",
        write(d, "explicit.json", b"{\"Events\": []}")
    );
    let gz = write(d, "empty.json.gz", &gzip(b"[]\n"));
    let r = audit_with(args(
        &[az_list, sm, nothing],
        &[events, gcp_logs, explicit, gz],
        &[],
        None,
    ));
    assert_eq!(r.code, 0, "{}", r.json);
    assert_eq!(r.json["summary"]["secrets"], 0);
    assert_eq!(r.json["summary"]["empty_inputs"], 7, "{}", r.json["inputs"]);
    assert_eq!(r.json["summary"]["partial"], false);
    for f in [
        "lookup-events.json",
        "gcloud-logging.json",
        "az-list.json",
        "sm.json",
        "versions-loop.json",
        "explicit.json",
        "empty.json.gz",
    ] {
        let i = input(&r, f);
        assert_eq!(i["status"], "empty", "{f}: {i}");
        assert_eq!(i["records"], 0, "{f}");
    }
    assert_eq!(input(&r, "sm.json")["format"], "aws-secrets");
    assert_eq!(input(&r, "explicit.json")["format"], "cloudtrail");
    assert_eq!(input(&r, "az-list.json")["format"], "empty");
    let (_, text) = audit_as(
        args(&[write(d, "again.json", b"[]")], &[], &[], None),
        "text",
    );
    assert!(text.contains("(0 records, empty)"), "{text}");
    // Something that is not an empty export is still refused.
    let junk = write(d, "junk.json", b"{\"hello\": 1}\n");
    assert_eq!(audit_with(args(&[junk], &[], &[], None)).code, 2);
}

#[test]
fn concatenated_json_documents_after_a_one_line_first_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let versions = std::fs::read_to_string(fx("gcp/versions.json")).expect("fixture");
    // `for s in …; do gcloud secrets versions list "$s" --format=json; done`: a secret
    // without versions prints `[]`, the others pretty-printed arrays.
    let looped = format!("[]\n{versions}\n[]\n[] []\n{versions}");
    let p = write(dir.path(), "gcp-versions.json", looped.as_bytes());
    let base = audit(&[fx("gcp/secrets.json"), fx("gcp/versions.json")], &[], &[]);
    let r = audit(&[fx("gcp/secrets.json"), p], &[], &[]);
    assert!(r.errors().is_empty(), "{:?}", r.json["input_errors"]);
    assert_eq!(r.fails(), base.fails());
    let elements = base.json["inputs"][1]["records"].as_u64().expect("records");
    assert_eq!(input(&r, "gcp-versions.json")["records"], 2 * elements);
    // Each element keeps its own line: the first element of the first pretty array.
    let line_of_first = versions
        .lines()
        .position(|l| l.trim() == "{")
        .expect("element")
        + 2;
    let loc_lines: Vec<u64> = r.json["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|x| {
            x["location"]["file"]
                .as_str()
                .is_some_and(|f| f.ends_with("gcp-versions.json"))
        })
        .filter_map(|x| x["location"]["line"].as_u64())
        .collect();
    assert!(
        loc_lines.is_empty() || loc_lines.iter().all(|l| *l >= line_of_first as u64),
        "{loc_lines:?}"
    );
}

#[test]
fn crlf_csv_files_report_the_right_line_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = "id,name,class,created,last_rotated\n\
               ok-1,one,api_key,2026-10-01,2026-10-01\n\
               bad-row,two,api_key\n\
               old-3,three,api_key,2024-01-01,2024-01-01\n";
    for (name, text) in [
        ("lf.csv", csv.to_string()),
        ("crlf.csv", csv.replace('\n', "\r\n")),
    ] {
        let p = write(dir.path(), name, text.as_bytes());
        let r = audit(&[p], &[], &[]);
        assert_eq!(r.errors(), vec![(name.to_string(), 3)], "{name}");
        assert_eq!(
            r.result("ROT-003", "old-3")["location"]["line"],
            4,
            "{name}"
        );
    }
    // The AWS credential report, CSV and JSON (base64 Content), with CRLF line ends.
    let report = std::fs::read_to_string(fx("aws/credential-report.csv")).expect("fixture");
    let lf = audit(&[fx("aws/credential-report.csv")], &[], &[]);
    let crlf_path = write(
        dir.path(),
        "credential-report.csv",
        report
            .replace("\r\n", "\n")
            .replace('\n', "\r\n")
            .as_bytes(),
    );
    let crlf = audit(&[crlf_path], &[], &[]);
    let lines = |r: &Report| -> Vec<(String, String, u64)> {
        r.json["results"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| {
                (
                    x["check"].as_str().unwrap_or("").to_string(),
                    x["secret_id"].as_str().unwrap_or("").to_string(),
                    x["location"]["line"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    };
    assert!(!lines(&lf).is_empty());
    assert_eq!(lines(&crlf), lines(&lf));
}

/// A CloudTrail records file whose end is cut off, plain and gzipped.
fn truncated_trail() -> (Vec<u8>, Vec<u8>) {
    let full = std::fs::read(fx("aws/cloudtrail.json")).expect("fixture");
    let cut = full[..full.len() * 2 / 3].to_vec();
    let gz = gzip(&full);
    let gz_cut = gz[..gz.len() * 2 / 3].to_vec();
    (cut, gz_cut)
}

#[test]
fn partial_audit_exits_2_unless_allow_partial() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let (cut, gz_cut) = truncated_trail();
    let good = fx("aws/cloudtrail.json");
    let inv = [fx("aws/list-secrets.json")];
    let truncated_json = write(d, "cut.json", &cut);
    let truncated_gz = write(d, "cut.json.gz", &gz_cut);
    let corrupt_gz = write(
        d,
        "corrupt.json.gz",
        b"\x1f\x8b\x08\x00garbage, not deflate data",
    );
    let full = audit(&inv, std::slice::from_ref(&good), &[]);
    assert_eq!(full.json["summary"]["partial"], false);
    for bad in [&truncated_json, &truncated_gz, &corrupt_gz] {
        // The bad file sits among good ones: the run goes on and the report is written.
        let logs = vec![good.clone(), bad.clone(), good.clone()];
        let r = audit_with(args(&inv, &logs, &[], None));
        assert_eq!(r.code, 2, "{bad}");
        assert_eq!(r.json["summary"]["partial"], true, "{bad}");
        assert_eq!(r.json["summary"]["partial_inputs"], 1, "{bad}");
        let name = Path::new(bad)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        assert_eq!(input(&r, name)["status"], "partial", "{bad}");
        assert_eq!(input(&r, "cloudtrail.json")["status"], "ok");
        assert!(r.json["coverage"]["aws"]["events"].as_u64().unwrap_or(0) > 0);
        // The good logs are audited as when alone.
        assert!(full.fails().is_subset(&r.fails()), "{bad}");

        let mut a = args(&inv, &logs, &[], None);
        a.allow_partial = true;
        let r = audit_with(a.clone());
        assert_eq!(r.code, full.code, "{bad}");
        assert_eq!(r.json["summary"]["partial"], true);
        let (code, sarif) = audit_as(a.clone(), "sarif");
        assert_eq!(code, full.code);
        let sarif: Value = serde_json::from_str(&sarif).expect("sarif");
        assert_eq!(
            sarif["runs"][0]["invocations"][0]["executionSuccessful"],
            false
        );
        let (_, md) = audit_as(a.clone(), "markdown");
        assert!(md.contains("**Partial audit:**"), "{md}");
        let (_, text) = audit_as(a, "text");
        assert!(text.contains("PARTIAL AUDIT"), "{text}");
        assert!(text.contains("PARTIAL: not read to the end"), "{text}");
    }
    let (code, sarif) = audit_as(args(&inv, std::slice::from_ref(&good), &[], None), "sarif");
    assert_eq!(code, full.code);
    let sarif: Value = serde_json::from_str(&sarif).expect("sarif");
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
    // A JSON Lines log whose last line is cut off is partial too.
    let jsonl = write(d, "events.jsonl", b"{\"eventVersion\": \"1.08\", \"eventTime\": \"2026-10-20T08:00:00Z\", \"eventSource\": \"secretsmanager.amazonaws.com\", \"eventName\": \"ListSecrets\"}\n{\"eventVersion\": \"1.08\", \"eventTi");
    let r = audit_with(args(&inv, &[jsonl], &[], None));
    assert_eq!(r.code, 2);
    assert_eq!(r.json["summary"]["partial"], true);
}

#[test]
fn cloudtrail_digest_files_are_skipped_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let digest = json!({
        "awsAccountId": "123456789012",
        "digestStartTime": "2026-10-30T00:00:00Z",
        "digestEndTime": "2026-10-30T01:00:00Z",
        "digestS3Bucket": "my-trail-bucket",
        "digestS3Object": "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/10/30/123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20261030T010000Z.json.gz",
        "digestPublicKeyFingerprint": "00000000000000000000000000000000",
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": "2026-10-30T00:59:00Z",
        "oldestEventTime": "2026-10-30T00:00:00Z",
        "previousDigestS3Bucket": null,
        "previousDigestS3Object": null,
        "previousDigestHashValue": null,
        "previousDigestHashAlgorithm": null,
        "previousDigestSignature": null,
        "logFiles": []
    })
    .to_string();
    let gz = write(
        dir.path(),
        "123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20261030T010000Z.json.gz",
        &gzip(digest.as_bytes()),
    );
    let plain = write(dir.path(), "digest.json", digest.as_bytes());
    let inv = [fx("aws/list-secrets.json")];
    let base = audit(&inv, &[fx("aws/cloudtrail.json")], &[]);
    let r = audit(&inv, &[gz, fx("aws/cloudtrail.json"), plain], &[]);
    assert_eq!(r.code, base.code);
    assert_eq!(r.fails(), base.fails());
    assert!(r.errors().is_empty(), "{:?}", r.errors());
    assert_eq!(r.json["summary"]["skipped_inputs"], 2);
    let i = input(&r, "digest.json");
    assert_eq!(i["status"], "skipped");
    assert_eq!(i["format"], "cloudtrail-digest");
}
