//! Policy layering, exemptions, exit codes, stdin / FORMAT:FILE / .gz, SARIF validity.

use crate::common_audit;
use common_audit::*;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

fn arn(name: &str) -> String {
    format!("{ARN}{name}")
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_keywarden"))
}

#[test]
fn exemptions_suppress_until_they_expire() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pol = policy_file(
        &dir,
        r#"
[[exemptions.item]]
ref = "arn:aws:secretsmanager:*:secret:prod/api/exempt-*"
checks = ["ROT-003"]
until = "2026-12-31"
reason = "vendor cannot rotate; ticket SEC-123"

[[exemptions.item]]
ref = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/api/lapsed-exemption-Lm1234"
checks = ["ROT-003"]
until = "2026-10-31"
reason = "expired yesterday"
"#,
    );
    let r = audit_with(args(&[fx("aws/list-secrets.json")], &[], &[], Some(pol)));
    assert_eq!(
        r.suppressed(),
        expect(&[("ROT-003", &arn("prod/api/exempt-Kl1234"))])
    );
    assert!(r.fails().contains(&(
        "ROT-003".to_string(),
        arn("prod/api/lapsed-exemption-Lm1234")
    )));
    assert!(
        !r.fails()
            .contains(&("ROT-003".to_string(), arn("prod/api/exempt-Kl1234")))
    );
    let s = r.result("ROT-003", &arn("prod/api/exempt-Kl1234"));
    assert_eq!(
        s["exemption"]["reason"],
        "vendor cannot rotate; ticket SEC-123"
    );
    assert_eq!(
        r.result("ROT-003", &arn("prod/api/lapsed-exemption-Lm1234"))["expired_exemption"]["until"],
        "2026-10-31"
    );
}

#[test]
fn policy_overrides_classes_rules_and_burst() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pol = policy_file(
        &dir,
        r#"
[defaults]
denied_burst = { count = 5, window = "10m" }

[classes.api_key]
max_age_days = 400

[classes.legacy]
max_age_days = 30
unused_days = 10

[[classification.rule]]
match = "vault:secret/prod/app/fresh"
class = "legacy"
"#,
    );
    let r = audit_with(args(
        &[fx("vault/kv-metadata.jsonl")],
        &[fx("vault/audit.log")],
        &[],
        Some(pol),
    ));
    // api_key now allows 400 days: no ROT-003 for api-key. token-typo's 5 denials now count.
    // fresh: class legacy by rule (created 2026-10-01, 31 days > 30).
    assert_eq!(
        r.fails(),
        expect(&[
            ("ACC-002", "vault:secret/prod/app/api-key"),
            ("ACC-002", "vault:secret/prod/app/fresh"),
            ("ACC-001", "vault:secret/prod/app/deleted"),
            ("ROT-003", "vault:secret/prod/app/fresh"),
        ])
    );
    assert_eq!(
        r.result("ROT-003", "vault:secret/prod/app/fresh")["class_source"],
        "rule vault:secret/prod/app/fresh"
    );
}

#[test]
fn tag_classification_and_precedence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inv = dir.path().join("inv.json");
    std::fs::write(
        &inv,
        r#"[
 {"id": "a", "name": "prod/db/password", "created": "2026-10-01T00:00:00Z", "tags": {"rotation-class": "encryption_key"}},
 {"id": "b", "name": "thing", "created": "2026-10-01T00:00:00Z", "tags": {"rotation-class": "service_token"}},
 {"id": "c", "name": "thing", "created": "2026-10-01T00:00:00Z", "class": "service_token"},
 {"id": "d", "name": "thing", "created": "2026-10-01T00:00:00Z"}
]"#,
    )
    .expect("write");
    let r = audit(&[inv.to_string_lossy().into_owned()], &[], &[]);
    // a: the explicit rule (db_password) wins over the tag. b/c: service_token → EXP-001.
    assert_eq!(r.fails(), expect(&[("EXP-001", "b"), ("EXP-001", "c")]));
    assert_eq!(
        r.result("EXP-001", "b")["class_source"],
        "tag rotation-class"
    );
}

#[test]
fn bad_policy_is_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    for text in [
        "[classes.x]\nmax_age = 3\n",
        "version = 7\n",
        "[[exemptions.item]]\nref = \"x\"\nchecks = [\"NOPE-1\"]\n",
        "not toml [",
    ] {
        let pol = policy_file(&dir, text);
        let r = audit_with(args(&[fx("aws/list-secrets.json")], &[], &[], Some(pol)));
        assert_eq!(r.code, 2, "{text}");
    }
}

#[test]
fn exit_codes_follow_fail_on() {
    let inv = fx("aws/list-secrets.json");
    let code = |fail_on: &str| {
        bin()
            .args([
                "audit",
                "--now",
                NOW,
                "--inventory",
                &inv,
                "--fail-on",
                fail_on,
                "--format",
                "json",
            ])
            .stdout(Stdio::null())
            .status()
            .expect("run")
            .code()
    };
    assert_eq!(code("high"), Some(1)); // ROT-003 is high
    assert_eq!(code("critical"), Some(0));
    assert_eq!(code("none"), Some(0));
    assert_eq!(code("bogus"), Some(2));
    let missing = bin()
        .args([
            "audit",
            "--now",
            NOW,
            "--inventory",
            "/nonexistent/file.json",
        ])
        .output()
        .expect("run");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/file.json"));
    let bad_now = bin()
        .args(["audit", "--now", "tomorrow", "--inventory", &inv])
        .output()
        .expect("run");
    assert_eq!(bad_now.status.code(), Some(2));
    // Content that is no known format.
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, "hello\nworld\n").expect("write");
    let out = bin()
        .args([
            "audit",
            "--now",
            NOW,
            "--inventory",
            &junk.to_string_lossy(),
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FORMAT:"));
}

#[test]
fn stdin_format_override_and_gzip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gz = dir.path().join("kv.jsonl.gz");
    {
        let mut e = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).expect("create"),
            flate2::Compression::fast(),
        );
        e.write_all(&std::fs::read(fx("vault/kv-metadata.jsonl")).expect("read"))
            .expect("write");
        e.finish().expect("gz");
    }
    let mut child = bin()
        .args([
            "audit",
            "--now",
            NOW,
            "--format",
            "json",
            "--inventory",
            &format!("vault-kv:{}", gz.to_string_lossy()),
            "--log",
            "vault-audit:-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let log = std::fs::read(fx("vault/audit.log")).expect("read");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&log)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json report");
    let checks: Vec<&str> = v["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["check"].as_str())
        .collect();
    assert_eq!(checks.len(), 3, "{checks:?}");
    assert!(
        v["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|i| i["file"] == "stdin" && i["format"] == "vault-audit")
    );
    // A log given as an inventory is refused with a hint.
    let out = bin()
        .args([
            "audit",
            "--now",
            NOW,
            "--inventory",
            &fx("azure/audit.json"),
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give it with --log"));
    // A wrong override is refused rather than misread.
    let out = bin()
        .args([
            "audit",
            "--now",
            NOW,
            "--inventory",
            &format!("cloudtrail:{}", fx("vault/kv-metadata.jsonl")),
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn repeatable_flags_take_several_files() {
    let out = bin()
        .args([
            "audit",
            "--now",
            NOW,
            "--format",
            "json",
            "--inventory",
            &fx("gcp/secrets.json"),
            &fx("gcp/versions.json"),
            "--inventory",
            &fx("azure/secrets.json"),
            "--log",
            &fx("gcp/audit.json"),
            &fx("azure/audit.json"),
        ])
        .output()
        .expect("run");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["inputs"].as_array().map(|a| a.len()), Some(5));
}

#[test]
fn sarif_validates_against_the_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/sarif-schema-2.1.0.json"
        ))
        .expect("schema"),
    )
    .expect("schema json");
    let validator = jsonschema::validator_for(&schema).expect("compile schema");
    // The validator does reject what the schema forbids.
    assert!(
        !validator
            .is_valid(&serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}))
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let pol = policy_file(
        &dir,
        "[[exemptions.item]]\nref = \"*prod/api/exempt*\"\nreason = \"accepted risk\"\n",
    );
    let out = dir.path().join("r.sarif");
    let mut a = args(
        &[
            fx("aws/list-secrets.json"),
            fx("aws/iam-keys.jsonl"),
            fx("vault/kv-metadata.jsonl"),
            fx("k8s/secrets.json"),
            fx("gcp/sa-keys.json"),
            fx("azure/app-credentials.json"),
            fx("azure/keyvault-show.json"),
            fx("vault/audit-list-none.json"),
        ],
        &[
            fx("aws/cloudtrail.json"),
            fx("vault/audit.log"),
            fx("aws/cloudtrail-workloads.json"),
            fx("vault/audit-tokens.log"),
        ],
        &[fx("findings/scan.json")],
        Some(pol),
    );
    a.format = "sarif".into();
    a.output = Some(out.to_string_lossy().into_owned());
    keywarden::audit::run(&a).expect("run");
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("read")).expect("sarif json");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &sarif["runs"][0];
    assert_eq!(
        run["tool"]["driver"]["rules"].as_array().map(|r| r.len()),
        Some(keywarden::audit::checks::CHECKS.len())
    );
    let results = run["results"].as_array().expect("results");
    for r in results {
        assert!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap_or(0)
                >= 1
        );
        assert!(r["partialFingerprints"]["primaryLocationLineHash"].is_string());
        assert!(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].is_string());
    }
    // Results about a workload's key, a token and a store are located like any other.
    for id in ["MCH-001", "MCH-002", "MGR-001", "MGR-005"] {
        assert!(results.iter().any(|r| r["ruleId"] == id), "no {id} result");
    }
    let leak = results
        .iter()
        .find(|r| r["ruleId"] == "LEAK-002")
        .expect("LEAK-002 result");
    assert_eq!(leak["level"], "error");
    assert!(
        results
            .iter()
            .any(|r| r["kind"] == "review" && r["ruleId"] == "ROT-005")
    );
    assert!(
        results
            .iter()
            .any(|r| r["suppressions"][0]["kind"] == "external")
    );
    assert_eq!(
        run["invocations"][0]["properties"]["log_window"]["from"],
        "2026-10-10T00:00:05Z"
    );
    // Stable ids across runs.
    keywarden::audit::run(&a).expect("run again");
    let again: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("read")).expect("json");
    assert_eq!(again, sarif);
}

#[test]
fn text_and_markdown_reports_rank_leaks_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    for format in ["text", "markdown"] {
        let out = dir.path().join(format);
        let mut a = args(
            &[fx("aws/list-secrets.json"), fx("aws/iam-keys.jsonl")],
            &[fx("aws/cloudtrail.json")],
            &[fx("findings/scan.json")],
            None,
        );
        a.format = format.into();
        a.output = Some(out.to_string_lossy().into_owned());
        keywarden::audit::run(&a).expect("run");
        let text = std::fs::read_to_string(&out).expect("read");
        let first = text.find("Rotate first").expect("rotate-first section");
        let bob = text[first..]
            .find("AKIABOBLEAKED0000001")
            .expect("bob ranked");
        let db = text[first..].find("prod/db/password").expect("db ranked");
        assert!(
            bob < db,
            "{format}: leaked-and-used key must come before an overdue secret"
        );
    }
}

/// A report that cannot be written is lost: the audit must not exit as if it had passed.
#[cfg(target_os = "linux")]
#[test]
fn a_report_that_cannot_be_written_is_an_error() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .args(["audit", "--inventory", &fx("generic/inventory.csv")])
        .args(["--now", NOW, "--fail-on", "none"])
        .stdout(full)
        .output()
        .expect("run keywarden");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot write the report"), "{err}");
}
