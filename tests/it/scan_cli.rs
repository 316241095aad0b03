//! The `scan` command as a user runs it: walking, skipping, exit codes, output and redaction.

use crate::common;
use common::*;
use std::fs;

fn write(dir: &std::path::Path, rel: &str, content: &[u8]) {
    write_file(dir, rel, content)
}

fn findings(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["findings"].as_array().unwrap().clone()
}

#[test]
fn finds_hidden_files_skips_binary_large_and_git_dir() {
    let mut rng = Rng::new(1);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let k1 = fake_aws_key_id(&mut rng);
    let k2 = fake_aws_key_id(&mut rng);
    let k3 = fake_aws_key_id(&mut rng);
    write(d, ".env", format!("AWS_ACCESS_KEY_ID={k1}\n").as_bytes());
    write(d, "src/app.py", format!("key = '{k2}'\n").as_bytes());
    write(d, ".git/config", format!("x = {k3}\n").as_bytes());
    write(d, "blob.bin", format!("\0\0{k3}").as_bytes());
    let mut big = vec![b'a'; 3000];
    big.extend_from_slice(k3.as_bytes());
    write(d, "big.txt", &big);
    let out = run(
        &["scan", ".", "--format", "json", "--max-file-size", "2K"],
        d,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    let f = findings(&v);
    let mut paths: Vec<&str> = f.iter().map(|x| x["path"].as_str().unwrap()).collect();
    paths.sort();
    assert_eq!(paths, vec![".env", "src/app.py"]);
    assert_eq!(v["summary"]["skipped_binary"], 1);
    assert_eq!(v["summary"]["skipped_too_large"], 1);
    assert_eq!(v["schema"], "keywarden/scan/v1");
    // Redacted by default, the key id in clear.
    let env = f.iter().find(|x| x["path"] == ".env").unwrap();
    assert_ne!(env["secret"], k1.as_str());
    assert_eq!(env["key_id"], k1.as_str());
    assert_eq!(env["line"], 1);
    assert_eq!(env["column"], 19);
    assert!(!env["snippet"].as_str().unwrap().contains(&k1[6..]));
}

#[test]
fn exit_codes_and_show_secrets() {
    let mut rng = Rng::new(2);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "clean.txt", b"nothing to see\n");
    assert_eq!(run(&["scan", "clean.txt"], d).status.code(), Some(0));
    let k = fake_aws_key_id(&mut rng);
    write(d, "dirty.txt", format!("id={k}\n").as_bytes());
    assert_eq!(run(&["scan", "dirty.txt"], d).status.code(), Some(1));
    assert_eq!(
        run(&["scan", "dirty.txt", "--exit-code", "7"], d)
            .status
            .code(),
        Some(7)
    );
    assert_eq!(run(&["scan", "--format", "nope"], d).status.code(), Some(2));
    write(d, "bad.toml", b"this is = = not toml");
    assert_eq!(
        run(&["scan", "dirty.txt", "--config", "bad.toml"], d)
            .status
            .code(),
        Some(2)
    );
    let shown = run(&["scan", "dirty.txt", "--show-secrets", "-f", "jsonl"], d);
    let line: serde_json::Value =
        serde_json::from_slice(shown.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["secret"], k.as_str());
}

#[test]
fn inline_allow_and_no_inline_allow() {
    let mut rng = Rng::new(3);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let k = fake_aws_key_id(&mut rng);
    write(d, "a.txt", format!("id={k} # keywarden:allow\n").as_bytes());
    let out = run(&["scan", ".", "-f", "json"], d);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["summary"]["suppressed"]["inline_allow"], 1);
    let out = run(&["scan", ".", "-f", "json", "--no-inline-allow"], d);
    assert_eq!(findings(&json(&out)).len(), 1);
}

#[test]
fn stdin_and_fingerprint_agree() {
    let mut rng = Rng::new(4);
    let dir = tempfile::tempdir().unwrap();
    let k = fake_aws_key_id(&mut rng);
    let out = run_stdin(
        &["scan", "-", "-f", "jsonl"],
        dir.path(),
        format!("x {k}\n").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    let f: serde_json::Value =
        serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(f["path"], "-");
    let fp = run_stdin(&["fingerprint"], dir.path(), format!("{k}\n").as_bytes());
    assert_eq!(
        String::from_utf8_lossy(&fp.stdout).trim(),
        f["fingerprint"].as_str().unwrap()
    );
    // Same value in another file and rule context: same fingerprint.
    write(
        dir.path(),
        "b.yaml",
        format!("aws:\n  id: \"{k}\"\n").as_bytes(),
    );
    let out = run(&["scan", "b.yaml", "-f", "json"], dir.path());
    assert_eq!(findings(&json(&out))[0]["fingerprint"], f["fingerprint"]);
}

#[test]
fn gitignore_honoured_in_repos_and_config_allowlists() {
    let mut rng = Rng::new(5);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join(".git")).unwrap();
    write(d, ".gitignore", b"ignored/\n");
    write(
        d,
        "ignored/a.txt",
        format!("{}\n", fake_aws_key_id(&mut rng)).as_bytes(),
    );
    write(
        d,
        "fixtures/b.txt",
        format!("{}\n", fake_aws_key_id(&mut rng)).as_bytes(),
    );
    write(
        d,
        "c.txt",
        format!("{}\n", fake_aws_key_id(&mut rng)).as_bytes(),
    );
    let out = run(&["scan", ".", "-f", "json", "--no-config"], d);
    let mut paths: Vec<String> = findings(&json(&out))
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    assert_eq!(paths, vec!["c.txt", "fixtures/b.txt"]);
    let out = run(
        &["scan", ".", "-f", "json", "--no-ignore", "--no-config"],
        d,
    );
    assert_eq!(findings(&json(&out)).len(), 3);
    write(
        d,
        ".keywarden.toml",
        b"[allowlist]\npaths = [\"fixtures\"]\n",
    );
    let out = run(&["scan", ".", "-f", "json"], d);
    let v = json(&out);
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(v["summary"]["skipped_allowlisted_paths"], 1);
    write(
        d,
        ".keywarden.toml",
        b"disable_rules = [\"aws-access-key-id\"]\n",
    );
    assert_eq!(run(&["scan", "."], d).status.code(), Some(0));
}

#[cfg(unix)]
#[test]
fn symlinks_not_followed_by_default_and_loops_are_errors() {
    let mut rng = Rng::new(6);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "s.txt",
        format!("{}\n", fake_aws_key_id(&mut rng)).as_bytes(),
    );
    std::os::unix::fs::symlink(outside.path().join("s.txt"), d.join("link.txt")).unwrap();
    fs::create_dir_all(d.join("loop")).unwrap();
    std::os::unix::fs::symlink(d.join("loop"), d.join("loop/again")).unwrap();
    let out = run(&["scan", ".", "-f", "json"], d);
    let v = json(&out);
    assert_eq!(findings(&v).len(), 0);
    assert_eq!(v["summary"]["skipped_symlinks"], 2);
    let out = run(&["scan", ".", "-f", "json", "--follow-symlinks"], d);
    let v = json(&out);
    assert_eq!(findings(&v).len(), 1);
    assert!(
        v["summary"]["errors"].as_u64().unwrap() >= 1,
        "loop is a counted error"
    );
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_a_counted_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "secret.txt", b"x");
    fs::set_permissions(d.join("secret.txt"), fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read(d.join("secret.txt")).is_ok() {
        return; // running as root: permissions do not apply
    }
    let v = json(&run(&["scan", ".", "-f", "json"], d));
    assert_eq!(v["summary"]["errors"], 1);
}

#[test]
fn text_report_summarises() {
    let mut rng = Rng::new(7);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "a.txt",
        format!("{}\n", fake_aws_key_id(&mut rng)).as_bytes(),
    );
    write(d, "b.bin", b"\0");
    let out = run(&["scan", "."], d);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("a.txt"), "{text}");
    assert!(text.contains("1 finding (1 high) in 1 file "), "{text}");
    assert!(text.contains("skipped: 1 binary"), "{text}");
    assert!(!text.contains('\x1b'), "no colour when not a terminal");
}

#[test]
fn snippets_never_show_another_secret_on_the_line() {
    let mut rng = Rng::new(8);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = fake_aws_key_id(&mut rng);
    let b = fake_aws_key_id(&mut rng);
    write(
        d,
        "min.js",
        format!("var a=\"{a}\",b=\"{b}\";\n").as_bytes(),
    );
    let out = run(&["scan", ".", "-f", "json"], d);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(findings(&json(&out)).len(), 2);
    // Key ids are reported in clear by design; their full values must not be in snippets.
    for f in findings(&json(&out)) {
        let s = f["snippet"].as_str().unwrap();
        assert!(!s.contains(&a) && !s.contains(&b), "{s}");
    }
    assert!(text.contains("key_id"));
}

#[test]
fn many_secrets_on_one_long_line() {
    // A minified file: every finding on the same line, more than enough of them to be
    // fingerprinted in parallel. Columns count characters, not bytes.
    let mut rng = Rng::new(9);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let keys: Vec<String> = (0..40).map(|_| fake_aws_key_id(&mut rng)).collect();
    let mut line = String::from("/*é*/var k=[");
    let mut columns = Vec::new();
    for k in &keys {
        line.push('"');
        columns.push(line.chars().count() + 1);
        line.push_str(k);
        line.push_str("\",");
    }
    line.push_str("];\n");
    write(d, "bundle.min.js", line.as_bytes());
    let out = run(&["scan", ".", "-f", "json"], d);
    let f = findings(&json(&out));
    assert_eq!(f.len(), keys.len());
    for ((f, k), col) in f.iter().zip(&keys).zip(&columns) {
        assert_eq!(f["line"], 1);
        assert_eq!(f["column"].as_u64(), Some(*col as u64), "{k}");
        assert_eq!(f["end_column"].as_u64(), Some((col + k.len()) as u64));
        assert_eq!(
            f["fingerprint"],
            keywarden::pipeline::fingerprint::fingerprint(k.as_bytes())
        );
        let s = f["snippet"].as_str().unwrap();
        assert!(keys.iter().all(|k| !s.contains(k.as_str())), "{s}");
    }
}

#[test]
fn notebooks_and_escaped_json_strings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "analysis.ipynb",
        br#"{"cells":[{"cell_type":"code","source":["import os\n","password = \"h8Kp2sWq9ZtLr4Vc\"\n"]}]}"#, // keywarden:allow
    );
    let v = json(&run(&["scan", ".", "-f", "json"], d));
    let f = findings(&v);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["rule_id"], "generic-password-assignment");
    assert_eq!(f[0]["confidence"], "medium");
}

#[test]
fn one_private_key_has_one_fingerprint_in_every_file_format() {
    let mut rng = Rng::new(11);
    let pem = corpus::pem(
        &mut rng,
        "PRIVATE KEY",
        1600,
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    );
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tls/key.pem", format!("{pem}\n").as_bytes());
    let indented = pem.replace('\n', "\n    ");
    write(
        dir.path(),
        "k8s/secret.yaml",
        format!("stringData:\n  tls.key: |\n    {indented}\n").as_bytes(),
    );
    let escaped = pem.replace('\n', "\\n");
    write(
        dir.path(),
        "sa.json",
        format!("{{\n  \"type\": \"service_account\",\n  \"private_key\": \"{escaped}\\n\"\n}}\n")
            .as_bytes(),
    );
    let out = run(&["scan", ".", "-f", "json"], dir.path());
    let found = findings(&json(&out));
    assert_eq!(found.len(), 3, "{found:?}");
    let fp = run_stdin(&["fingerprint"], dir.path(), pem.as_bytes());
    let fp = String::from_utf8_lossy(&fp.stdout).trim().to_string();
    for f in &found {
        assert_eq!(f["rule_id"], "private-key-pkcs8");
        assert_eq!(f["fingerprint"], fp.as_str(), "{f}");
        // The redacted secret shows the body's first characters, not a line break.
        assert!(f["secret"].as_str().unwrap().starts_with("MIIEvQ"), "{f}");
    }
    // Located where the match starts (the armour line), as labelled corpora and other
    // scanners place a key.
    let f = found.iter().find(|f| f["path"] == "tls/key.pem").unwrap();
    assert_eq!(f["line"], 1);
    let text = run(&["scan", "tls/key.pem", "--color", "never"], dir.path());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("secret: MIIEvQ***"), "{text}");
    assert!(
        text.contains("-----BEGIN PRIVATE KEY-----MIIEvQ***"),
        "the armour line and the body's start as snippet: {text}"
    );
}

#[test]
fn files_that_are_secrets_by_their_name() {
    let mut rng = Rng::new(9);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = rng.s("0123456789abcdef", 32);
    let pass = rng.s(ALNUM, 18);
    write(d, "app/config/master.key", key.as_bytes());
    let line = format!("db.internal:5432:orders:app_rw:{pass}\n");
    write(d, ".pgpass", line.as_bytes());
    // The same contents under other names are not secrets by themselves.
    write(d, "app/config/checksum.txt", key.as_bytes());
    write(d, "notes/pgpass-format.txt", line.as_bytes());
    let out = run(&["scan", ".", "--format", "json"], d);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got: Vec<(String, String)> = findings(&json(&out))
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().into(),
                f["rule_id"].as_str().unwrap().into(),
            )
        })
        .collect();
    got.sort();
    let want = [
        (".pgpass", "pgpass-password"),
        ("app/config/master.key", "rails-master-key-file"),
    ];
    assert_eq!(got, want.map(|(p, r)| (p.to_string(), r.to_string())));
    // Piped in, the name is unknown.
    let out = run_stdin(&["scan", "-"], d, key.as_bytes());
    assert_eq!(out.status.code(), Some(0));
}

/// `text` as UTF-16LE code units, as PowerShell 5's `>` writes it.
fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[test]
fn utf16_files_are_decoded_and_scanned() {
    let mut rng = Rng::new(11);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (k1, k2) = (fake_aws_key_id(&mut rng), fake_aws_key_id(&mut rng));
    let text = |k: &str| format!("# exported\r\n\r\n  aws_access_key_id = {k}\r\nregion = ü\r\n");
    write(
        d,
        "bom.txt",
        &[b"\xFF\xFE".as_slice(), &utf16le(&text(&k1))].concat(),
    );
    write(d, "nobom.txt", &utf16le(&text(&k2)));
    // A real binary next to them is still skipped.
    write(
        d,
        "tool.bin",
        b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0\x3e\0",
    );
    let out = run(&["scan", ".", "--format", "json", "--show-secrets"], d);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    let mut f = findings(&v);
    f.sort_by_key(|x| x["path"].as_str().unwrap().to_string());
    assert_eq!(f.len(), 2, "{v:#}");
    for (x, path, key) in [(&f[0], "bom.txt", &k1), (&f[1], "nobom.txt", &k2)] {
        assert_eq!(x["path"], path);
        assert_eq!(x["rule_id"], "aws-access-key-id");
        assert_eq!(x["secret"], key.as_str());
        // Lines and columns of the decoded text, as an editor shows it (no BOM column).
        assert_eq!(x["line"], 3);
        assert_eq!(x["column"], 23);
        assert_eq!(x["snippet"], format!("aws_access_key_id = {key}"));
    }
    assert_eq!(v["summary"]["decoded_utf16"], 2);
    assert_eq!(v["summary"]["skipped_binary"], 1);
    assert_eq!(v["summary"]["files_scanned"], 2);

    // Standard input goes through the same blob entry.
    let input = [b"\xFF\xFE".as_slice(), &utf16le(&text(&k1))].concat();
    let out = run_stdin(
        &["scan", "-", "--format", "json", "--show-secrets"],
        d,
        &input,
    );
    let v = json(&out);
    let f = findings(&v);
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["secret"], k1.as_str());
    assert_eq!(f[0]["line"], 3);
    assert_eq!(v["summary"]["decoded_utf16"], 1);
}

#[test]
fn findings_name_their_field_in_json_text_and_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(7);
    // A password-shaped value: letters and digits from the seeded generator.
    let value = format!("Q{}x9", fake_aws_key_id(&mut rng)[4..14].to_lowercase());
    write_file(
        dir.path(),
        "app/.env",
        format!("DB_HOST=db\nDB_PASSWORD={value}\n"),
    );
    let j = json(&run(
        &["scan", ".", "-f", "json", "--no-config"],
        dir.path(),
    ));
    assert_eq!(j["findings"][0]["field"], "DB_PASSWORD", "{j:#}");
    let text = run(
        &["scan", ".", "--no-config", "--color", "never"],
        dir.path(),
    );
    assert!(String::from_utf8_lossy(&text.stdout).contains("field: DB_PASSWORD"));
    let s = json(&run(
        &["scan", ".", "-f", "sarif", "--no-config"],
        dir.path(),
    ));
    assert_eq!(
        s["runs"][0]["results"][0]["properties"]["field"],
        "DB_PASSWORD"
    );
}
