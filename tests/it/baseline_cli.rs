//! Adoption flows: baselines, ignore files, pruning and imports, as a team would use them.

use crate::common;
use common::*;
use std::fs;

fn write(dir: &std::path::Path, rel: &str, content: &str) {
    write_file(dir, rel, content)
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

/// Non-comment lines of a baseline file, sorted.
fn entries(path: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(String::from)
        .collect();
    v.sort();
    v
}

fn sha1_hex(s: &str) -> String {
    sha1_smol::Sha1::from(s.as_bytes()).digest().to_string()
}

/// A detect-secrets baseline with one entry per (file, line, type, value).
fn detect_secrets_baseline(items: &[(&str, u64, &str, &str)]) -> String {
    let mut results = serde_json::Map::new();
    for (file, line, kind, value) in items {
        let list = results
            .entry(file.to_string())
            .or_insert_with(|| serde_json::json!([]));
        list.as_array_mut().unwrap().push(serde_json::json!({
            "type": kind,
            "filename": file,
            "hashed_secret": sha1_hex(value),
            "is_verified": false,
            "line_number": line,
        }));
    }
    serde_json::json!({
        "version": "1.5.0",
        "plugins_used": [{"name": "AWSKeyDetector"}, {"name": "PrivateKeyDetector"}],
        "filters_used": [],
        "results": results,
        "generated_at": "2026-01-01T00:00:00Z",
    })
    .to_string()
}

/// A tree with `n` fake AWS key ids (in `keys/k{i}.env`, on line 1) and an `n`-entry keywarden
/// baseline of them in `kw.bl`.
fn tree_with_baseline(d: &std::path::Path, rng: &mut Rng, n: usize) -> Vec<String> {
    let keys: Vec<String> = (0..n).map(|_| fake_aws_key_id(rng)).collect();
    for (i, k) in keys.iter().enumerate() {
        write(
            d,
            &format!("keys/k{i}.env"),
            &format!("AWS_ACCESS_KEY_ID={k}\n"),
        );
    }
    let out = run(&["scan", "keys", "--write-baseline", "kw.bl"], d);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(entries(&d.join("kw.bl")).len(), n);
    keys
}

#[test]
fn import_refuses_unrecognised_format() {
    let mut rng = Rng::new(25);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let keys = tree_with_baseline(d, &mut rng, 8);
    let before = fs::read_to_string(d.join("kw.bl")).unwrap();
    write(
        d,
        ".secrets.baseline",
        &detect_secrets_baseline(&[("k0.env", 1, "AWS Access Key", &keys[0])]),
    );
    write(
        d,
        "gitleaks.json",
        r#"[{"File":"k0.env","StartLine":1,"RuleID":"aws-access-token","Commit":""}]"#,
    );
    // Another tool's report: JSON, but neither format.
    write(
        d,
        "other.json",
        r#"{"SourceMetadata":{"Data":{"Filesystem":{"file":"k0.env","line":1}}},"DetectorName":"AWS"}"#,
    );
    write(
        d,
        "notes.txt",
        "# triage\nk0.env: accepted, see ticket 12\n",
    );
    write(d, "broken.json", "{\"results\": {");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--from", "gitleaks", ".secrets.baseline"],
            "looks like a detect-secrets baseline",
        ),
        (
            &["--from", "detect-secrets", "gitleaks.json"],
            "looks like a gitleaks JSON report",
        ),
        (&["other.json"], "unrecognised JSON document"),
        (&["--from", "gitleaks", "other.json"], "unrecognised JSON"),
        (&["--from", "gitleaks", "notes.txt"], "line 2"),
        (&["broken.json"], "does not parse"),
    ];
    for (extra, said) in cases {
        let mut args = vec!["baseline", "import", "--path", "keys", "-o", "kw.bl"];
        args.extend_from_slice(extra);
        let out = run(&args, d);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(said), "{extra:?}: {err}");
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("not mapped"),
            "{extra:?}"
        );
        assert_eq!(
            fs::read_to_string(d.join("kw.bl")).unwrap(),
            before,
            "{extra:?}: the baseline is untouched"
        );
    }
    let err = String::from_utf8_lossy(
        &run(
            &[
                "baseline",
                "import",
                "--from",
                "gitleaks",
                ".secrets.baseline",
            ],
            d,
        )
        .stderr,
    )
    .into_owned();
    assert!(err.contains("use --from detect-secrets"), "{err}");
    // Recognised without --from.
    let out = run(
        &[
            "baseline",
            "import",
            ".secrets.baseline",
            "--path",
            "keys",
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
    assert!(String::from_utf8_lossy(&out.stdout).contains("detect-secrets baseline"));
    assert_eq!(fs::read_to_string(d.join("kw.bl")).unwrap(), before);
}

#[test]
fn import_merges_into_existing_baseline_unless_forced() {
    let mut rng = Rng::new(26);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let keys = tree_with_baseline(d, &mut rng, 8);
    let old = entries(&d.join("kw.bl"));
    let extra = fake_aws_key_id(&mut rng);
    write(
        d,
        "keys/new.env",
        &format!("X=1\nAWS_ACCESS_KEY_ID={extra}\n"),
    );
    // One entry already in the baseline, one new.
    write(
        d,
        ".gitleaksignore",
        "# reviewed\nk3.env:aws-access-token:1\nnew.env:aws-access-token:2\n",
    );
    let import = |more: &[&str]| {
        let mut args = vec![
            "baseline",
            "import",
            "--from",
            "gitleaks",
            ".gitleaksignore",
            "--path",
            "keys",
            "-o",
            "kw.bl",
        ];
        args.extend_from_slice(more);
        let out = run(&args, d);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let said = import(&[]);
    assert!(
        said.contains("1 added, 1 already present, 8 existing kept, 9 entries in all"),
        "{said}"
    );
    let merged = entries(&d.join("kw.bl"));
    assert_eq!(merged.len(), 9);
    assert!(
        old.iter().all(|e| merged.contains(e)),
        "existing entries kept"
    );
    // Again: nothing new, nothing duplicated.
    let said = import(&[]);
    assert!(said.contains("0 added, 2 already present"), "{said}");
    assert_eq!(entries(&d.join("kw.bl")), merged);
    // The merged baseline accepts every key.
    let out = run(&["scan", "keys", "--baseline", "kw.bl", "-f", "json"], d);
    assert_eq!(out.status.code(), Some(0));
    // --force replaces: only the two imported entries remain.
    let said = import(&["--force"]);
    assert!(said.contains("replaced"), "{said}");
    assert_eq!(entries(&d.join("kw.bl")).len(), 2);
    let out = run(&["scan", "keys", "--baseline", "kw.bl", "-f", "json"], d);
    assert_eq!(finding_paths(&out).len(), keys.len() - 1);
    // Written through a temporary file that is renamed: none is left behind.
    let names: Vec<String> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
    // An output that is not a keywarden baseline is not merged into (nor overwritten).
    write(d, "notes.txt", "some notes\n");
    let out = run(
        &[
            "baseline",
            "import",
            ".gitleaksignore",
            "--path",
            "keys",
            "-o",
            "notes.txt",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        fs::read_to_string(d.join("notes.txt")).unwrap(),
        "some notes\n"
    );
}

#[test]
fn import_maps_values_silenced_by_the_ignore_file() {
    let mut rng = Rng::new(27);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let k = fake_aws_key_id(&mut rng);
    write(d, "conf/a.env", &format!("AWS_ACCESS_KEY_ID={k}\n"));
    let fp = run_stdin(&["fingerprint"], d, k.as_bytes());
    let fp = String::from_utf8_lossy(&fp.stdout).trim().to_string();
    write(
        d,
        ".keywardenignore",
        &format!("{fp}  # test account, revoked\n"),
    );
    assert_eq!(run(&["scan", "conf"], d).status.code(), Some(0));
    write(
        d,
        ".secrets.baseline",
        &detect_secrets_baseline(&[("a.env", 1, "AWS Access Key", &k)]),
    );
    let out = run(
        &[
            "baseline",
            "import",
            ".secrets.baseline",
            "--path",
            "conf",
            "-o",
            "kw.bl",
        ],
        d,
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(said.contains("1 of 1 entries mapped"), "{said}");
    assert!(!said.contains("not mapped"), "{said}");
    assert_eq!(entries(&d.join("kw.bl")).len(), 1);
    // Without the ignore file, the imported baseline accepts the key on its own.
    fs::remove_file(d.join(".keywardenignore")).unwrap();
    let out = run(&["scan", "conf", "--baseline", "kw.bl", "-f", "json"], d);
    assert_eq!(out.status.code(), Some(0));
    // `scan --no-ignore-file` reports it.
    write(
        d,
        ".keywardenignore",
        &format!("{fp}  # test account, revoked\n"),
    );
    assert_eq!(
        run(&["scan", "conf", "--no-ignore-file"], d).status.code(),
        Some(1)
    );
}

#[test]
fn import_maps_detect_secrets_private_keys_by_line() {
    let mut rng = Rng::new(28);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = corpus::pem(&mut rng, "RSA PRIVATE KEY", 1624, "MIIEpAIBAAKCAQEA");
    let key2 = corpus::pem(
        &mut rng,
        "OPENSSH PRIVATE KEY",
        400,
        "b3BlbnNzaC1rZXktdjEAAAAA",
    );
    write(d, "deploy/id_rsa", &format!("{key}\n"));
    write(d, "deploy/other", &format!("# header\n\n{key2}\n"));
    // detect-secrets hashes the matched marker, not the key.
    write(
        d,
        ".secrets.baseline",
        &detect_secrets_baseline(&[
            ("id_rsa", 1, "Private Key", "BEGIN RSA PRIVATE KEY"),
            ("other", 3, "Private Key", "BEGIN OPENSSH PRIVATE KEY"),
        ]),
    );
    let out = run(
        &[
            "baseline",
            "import",
            "--from",
            "detect-secrets",
            ".secrets.baseline",
            "--path",
            "deploy",
            "-o",
            "kw.bl",
        ],
        d,
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("2 of 2 entries mapped"), "{said}");
    let bl = entries(&d.join("kw.bl"));
    assert_eq!(bl.len(), 2, "{bl:?}");
    assert!(
        bl.iter()
            .any(|e| e.contains("\tprivate-key-rsa\tdeploy/id_rsa"))
    );
    assert!(
        bl.iter()
            .any(|e| e.contains("\tprivate-key-openssh\tdeploy/other"))
    );
    let out = run(&["scan", "deploy", "--baseline", "kw.bl", "-f", "json"], d);
    assert_eq!(out.status.code(), Some(0));
    // A line that is not the key's does not map.
    write(
        d,
        ".secrets.baseline",
        &detect_secrets_baseline(&[("other", 1, "Private Key", "BEGIN OPENSSH PRIVATE KEY")]),
    );
    let out = run(
        &[
            "baseline",
            "import",
            ".secrets.baseline",
            "--path",
            "deploy",
            "-o",
            "kw2.bl",
        ],
        d,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("not mapped: other:1 (Private Key)"));
}

#[test]
fn import_with_nothing_mapped_warns_and_keeps_the_baseline() {
    let mut rng = Rng::new(29);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let keys = tree_with_baseline(d, &mut rng, 3);
    let before = entries(&d.join("kw.bl"));
    // Values keywarden does not find in the tree (removed since the other tool's triage).
    let gone = fake_aws_key_id(&mut rng);
    write(
        d,
        ".secrets.baseline",
        &detect_secrets_baseline(&[
            ("k0.env", 1, "AWS Access Key", &gone),
            ("old/removed.py", 12, "Secret Keyword", "hunter2-not-real"),
        ]),
    );
    let out = run(
        &[
            "baseline",
            "import",
            ".secrets.baseline",
            "--path",
            "keys",
            "-o",
            "kw.bl",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(0));
    let said = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: none of the 2 entries"), "{err}");
    assert!(
        said.contains("not mapped: k0.env:1 (AWS Access Key)"),
        "{said}"
    );
    assert!(
        said.contains("not mapped: old/removed.py:12 (Secret Keyword)"),
        "{said}"
    );
    assert!(!said.contains(&gone) && !said.contains(&keys[0]));
    assert_eq!(entries(&d.join("kw.bl")), before, "merged: nothing lost");
    // gitleaks lines for history read the same way.
    write(
        d,
        ".gitleaksignore",
        "0123456789abcdef0123456789abcdef01234567:gone.env:aws-access-token:4\n",
    );
    let out = run(
        &[
            "baseline",
            "import",
            ".gitleaksignore",
            "--path",
            "keys",
            "-o",
            "kw.bl",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("not mapped: gone.env:4 (aws-access-token, commit 0123456789ab)")
    );
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

#[test]
fn baselines_accepted_on_two_branches_merge_in_git_without_conflict() {
    use crate::git_support::{Repo, aws_key};
    let mut r = Repo::new();
    let path = r.path.clone();
    let scan = |args: &[&str]| run(args, &path);
    r.write("base.env", &format!("K={}\n", aws_key()));
    let out = scan(&["scan", ".", "--write-baseline", ".keywarden-baseline"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("merge=union"));
    let attrs = fs::read_to_string(r.path.join(".gitattributes")).unwrap();
    assert!(
        attrs.contains("/.keywarden-baseline merge=union"),
        "{attrs}"
    );
    r.git(&["add", "."]);
    r.commit("accept the base finding");
    // Writing it again does not add the attribute twice.
    scan(&["scan", ".", "--write-baseline", ".keywarden-baseline"]);
    assert_eq!(
        fs::read_to_string(r.path.join(".gitattributes")).unwrap(),
        attrs
    );

    // Two branches each accept one new finding. Several on each side make neighbouring
    // lines (which conflict without the union driver) all but certain.
    for (branch, n) in [("a", 4), ("b", 4)] {
        r.git(&["checkout", "-q", "-b", branch, "main"]);
        for i in 0..n {
            r.write(&format!("{branch}{i}.env"), &format!("K={}\n", aws_key()));
        }
        let out = scan(&["scan", ".", "--write-baseline", ".keywarden-baseline"]);
        assert_eq!(out.status.code(), Some(0));
        r.git(&["add", "."]);
        r.commit(&format!("accept {branch}"));
    }
    r.git(&["checkout", "-q", "main"]);
    r.git(&["merge", "-q", "--no-edit", "a"]);
    let merged = std::process::Command::new("git")
        .args(["merge", "-q", "--no-edit", "b"])
        .current_dir(&r.path)
        .output()
        .unwrap();
    assert!(
        merged.status.success(),
        "merge conflicted: {}",
        String::from_utf8_lossy(&merged.stdout)
    );
    // The merged baseline accepts both branches' findings and nothing else.
    let out = scan(&[
        "scan",
        ".",
        "--baseline",
        ".keywarden-baseline",
        "-f",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json(&out)["summary"]["suppressed"]["baseline"], 9);
}

#[test]
fn fingerprints_written_before_kw2_still_suppress_and_prune_rewrites_them() {
    use keywarden::pipeline::fingerprint::{keyed, legacy_with_key};
    let mut rng = Rng::new(29);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A token long and random enough for the keyed form (drawn again in the rare case a long
    // run of letters makes it stretched), and a key id short enough to stay stretched.
    let token = loop {
        let t = format!("ghp_{}", rng.s(ALNUM, 36));
        if keyed(t.as_bytes()) {
            break t;
        }
    };
    let key_id = fake_aws_key_id(&mut rng);
    assert!(!keyed(key_id.as_bytes()));
    write(
        d,
        "app/a.py",
        &format!("TOKEN = '{token}'\nKEY = '{key_id}'\n"),
    );
    let out = run(&["scan", "app", "-f", "json"], d);
    let found = json(&out)["findings"].as_array().unwrap().clone();
    assert_eq!(found.len(), 2, "{found:?}");
    // The baseline an earlier version wrote: kw1 fingerprints for both values.
    let mut old = String::from("# keywarden baseline v1\n");
    let mut now = Vec::new();
    for f in &found {
        let value = if f["rule_id"].as_str().unwrap().starts_with("aws") {
            &key_id
        } else {
            &token
        };
        let v1 = legacy_with_key(value.as_bytes(), None);
        let fp = f["fingerprint"].as_str().unwrap();
        assert!(fp.starts_with("kw2:"));
        // A stretched value keeps its hex digits; a keyed one does not.
        assert_eq!(fp[4..] == v1[4..], value == &key_id, "{fp} {v1}");
        old.push_str(&format!(
            "{v1}\t{}\t{}\n",
            f["rule_id"].as_str().unwrap(),
            f["path"].as_str().unwrap()
        ));
        now.push(fp.to_string());
    }
    write(d, "kw.baseline", &old);
    let out = run(
        &["scan", "app", "--baseline", "kw.baseline", "-f", "json"],
        d,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json(&out)["summary"]["suppressed"]["baseline"], 2);
    // Pruning keeps both entries, rewritten as this version writes them.
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
    let mut kept: Vec<String> = entries(&d.join("kw.baseline"))
        .iter()
        .map(|e| e.split('\t').next().unwrap().to_string())
        .collect();
    kept.sort();
    now.sort();
    assert_eq!(kept, now);
    // An ignore file entry with the token's kw1 fingerprint still ignores it.
    let v1 = legacy_with_key(token.as_bytes(), None);
    write(d, ".keywardenignore", &format!("{v1} app/**  # rotated\n"));
    let out = run(&["scan", "app", "-f", "json"], d);
    assert_eq!(json(&out)["summary"]["suppressed"]["ignore_file"], 1);
    assert_eq!(finding_paths(&out), vec!["app/a.py"]);
}
