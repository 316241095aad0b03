//! Adoption flows: baselines, ignore files, pruning and imports, as a team would use them.

use crate::common;
use common::*;
use std::fs;

fn write(dir: &std::path::Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

fn finding_paths(out: &std::process::Output) -> Vec<String> {
    let mut v: Vec<String> = json(out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn baseline_accepts_old_findings_and_flags_new_ones() {
    let mut rng = Rng::new(21);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let old = fake_aws_key_id(&mut rng);
    write(d, "app/config.py", &format!("KEY = '{old}'\n"));
    let out = run(&["scan", "app", "--write-baseline", "kw.baseline"], d);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let baseline = fs::read_to_string(d.join("kw.baseline")).unwrap();
    assert!(!baseline.contains(&old), "baseline holds no secret values");
    assert!(
        baseline.contains("\taws-access-key-id\tconfig.py")
            || baseline.contains("\taws-access-key-id\t")
    );

    // Lines shift and the file moves: still accepted.
    fs::remove_file(d.join("app/config.py")).unwrap();
    write(
        d,
        "app/settings/base.py",
        &format!("# header\n\n\nKEY = '{old}'\n"),
    );
    let out = run(
        &["scan", "app", "--baseline", "kw.baseline", "-f", "json"],
        d,
    );
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["summary"]["suppressed"]["baseline"], 1);
    assert_eq!(v["suppressed"][0]["by"], "baseline");

    // A new secret is reported, the old one is not.
    let new = fake_aws_key_id(&mut rng);
    write(d, "app/new.py", &format!("K2 = '{new}'\n"));
    let out = run(
        &["scan", "app", "--baseline", "kw.baseline", "-f", "json"],
        d,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(finding_paths(&out), vec!["app/new.py"]);

    // SARIF shows the accepted finding as suppressed, with baseline states.
    let out = run(
        &["scan", "app", "--baseline", "kw.baseline", "-f", "sarif"],
        d,
    );
    let doc = json(&out);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let states: Vec<&str> = results
        .iter()
        .map(|r| r["baselineState"].as_str().unwrap())
        .collect();
    assert!(states.contains(&"new") && states.contains(&"unchanged"));
    assert!(
        results
            .iter()
            .any(|r| r["suppressions"][0]["kind"] == "external")
    );

    // Prune: remove the old secret; its entry goes.
    fs::remove_file(d.join("app/settings/base.py")).unwrap();
    let out = run(
        &["scan", "app", "--baseline", "kw.baseline", "-f", "json"],
        d,
    );
    assert_eq!(json(&out)["summary"]["baseline_unmatched"], 1);
    let out = run(
        &["baseline", "prune", "app", "--baseline", "kw.baseline"],
        d,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pruned = fs::read_to_string(d.join("kw.baseline")).unwrap();
    assert_eq!(pruned.lines().filter(|l| !l.starts_with('#')).count(), 0);
}

#[test]
fn baselines_from_two_branches_merge_cleanly() {
    // Entries sort by fingerprint, one per line: concatenating two branches' additions and
    // re-sorting gives the same file as scanning both.
    let mut rng = Rng::new(22);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "a.txt", &format!("{}\n", fake_aws_key_id(&mut rng)));
    write(d, "b.txt", &format!("{}\n", fake_aws_key_id(&mut rng)));
    run(&["scan", "a.txt", "--write-baseline", "a.bl"], d);
    run(&["scan", "b.txt", "--write-baseline", "b.bl"], d);
    run(&["scan", ".", "--write-baseline", "all.bl"], d);
    let entries = |f: &str| -> Vec<String> {
        fs::read_to_string(d.join(f))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(String::from)
            .collect()
    };
    let mut merged = entries("a.bl");
    merged.extend(entries("b.bl"));
    merged.sort();
    assert_eq!(merged, entries("all.bl"));
}

#[test]
fn ignore_file_needs_reasons_and_keys_on_values() {
    let mut rng = Rng::new(23);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let k = fake_aws_key_id(&mut rng);
    write(d, "src/a.py", &format!("KEY = '{k}'\n"));
    let fp = run_stdin(&["fingerprint"], d, k.as_bytes());
    let fp = String::from_utf8_lossy(&fp.stdout).trim().to_string();
    write(d, ".keywardenignore", &format!("{fp} src/**\n"));
    assert_eq!(
        run(&["scan", "src"], d).status.code(),
        Some(2),
        "an entry without a reason is an error"
    );
    write(
        d,
        ".keywardenignore",
        &format!("{fp} src/**  # test account, revoked 2026-01\n"),
    );
    let out = run(&["scan", ".", "-f", "json"], d);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["summary"]["suppressed"]["ignore_file"], 1);
    // A new secret written on the very same line is still reported.
    let k2 = fake_aws_key_id(&mut rng);
    write(d, "src/a.py", &format!("KEY = '{k2}'\n"));
    let out = run(&["scan", ".", "-f", "json"], d);
    assert_eq!(out.status.code(), Some(1));
    // The ignore file itself holds no secret.
    let out = run(&["scan", ".keywardenignore", "--no-config"], d);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn imports_detect_secrets_and_gitleaks_triage() {
    let mut rng = Rng::new(24);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let k = fake_aws_key_id(&mut rng);
    let k2 = fake_aws_key_id(&mut rng);
    write(d, "conf/a.env", &format!("X=1\nAWS_ACCESS_KEY_ID={k}\n"));
    write(d, "conf/b.env", &format!("AWS_ACCESS_KEY_ID={k2}\n"));
    let sha1 = sha1_smol::Sha1::from(k.as_bytes()).digest().to_string();
    write(
        d,
        ".secrets.baseline",
        &format!(
            r#"{{"version":"1.5.0","results":{{"conf/a.env":[{{"type":"AWS Access Key","filename":"conf/a.env","hashed_secret":"{sha1}","is_verified":false,"line_number":2}}]}}}}"#
        ),
    );
    let out = run(
        &[
            "baseline",
            "import",
            "--from",
            "detect-secrets",
            ".secrets.baseline",
            "-o",
            "kw.bl",
        ],
        d,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["scan", "conf", "--baseline", "kw.bl", "-f", "json"], d);
    assert_eq!(finding_paths(&out), vec!["conf/b.env"]);

    write(d, ".gitleaksignore", "conf/b.env:aws-access-token:1\n");
    let out = run(
        &[
            "baseline",
            "import",
            "--from",
            "gitleaks",
            ".gitleaksignore",
            "-o",
            "gl.bl",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(0));
    let out = run(&["scan", "conf", "--baseline", "gl.bl", "-f", "json"], d);
    assert_eq!(finding_paths(&out), vec!["conf/a.env"]);
    assert!(!fs::read_to_string(d.join("gl.bl")).unwrap().contains(&k2));
}

#[test]
fn init_writes_a_config_that_loads() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(run(&["init"], d).status.code(), Some(0));
    assert_eq!(
        run(&["init"], d).status.code(),
        Some(2),
        "no silent overwrite"
    );
    write(d, "x.txt", "hello\n");
    assert_eq!(run(&["scan", "."], d).status.code(), Some(0));
}
