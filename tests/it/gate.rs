//! A scan is a gate: it must never pass wrongly, lose a path's name, or depend on where it
//! was started. One test per case of the "trust the gate" list, named after the case.

use crate::common::*;
use crate::git_support::{Repo, aws_key};
use std::fs;
use std::path::Path;
use std::process::Command;

fn write(dir: &Path, rel: &str, body: &str) {
    write_file(dir, rel, body)
}

fn paths(out: &std::process::Output) -> Vec<String> {
    finding_paths(out)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn case01_a_missing_path_is_an_incomplete_scan() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = run(&["scan", "does-not-exist"], d);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("INCOMPLETE"), "{text}");

    let out = run(&["scan", "does-not-exist", "-f", "json"], d);
    let v = json(&out);
    assert_eq!(v["summary"]["complete"], false);
    assert_eq!(v["summary"]["errors"], 1);

    let out = run(&["scan", "does-not-exist", "-f", "sarif"], d);
    let v = json(&out);
    let inv = &v["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let note = inv["toolExecutionNotifications"][0]["message"]["text"]
        .as_str()
        .unwrap();
    assert!(note.contains("does-not-exist"), "{note}");

    // Accepted on purpose: the findings decide, and reports still say so.
    let out = run(&["scan", "does-not-exist", "--allow-incomplete"], d);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("INCOMPLETE"));

    // A complete clean scan is still 0; findings still exit 1.
    write(d, "ok/a.txt", "nothing here\n");
    assert_eq!(run(&["scan", "ok"], d).status.code(), Some(0));
    let mut rng = Rng::new(11);
    write(d, "ok/b.txt", &format!("{}\n", fake_aws_key_id(&mut rng)));
    assert_eq!(run(&["scan", "ok"], d).status.code(), Some(1));
}

#[cfg(unix)]
#[test]
fn case01_unreadable_files_make_the_scan_incomplete_and_pipes_are_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "a.txt", "fine\n");
    let fifo = d.join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status();
    let out = run(&["scan", ".", "-f", "json"], d);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    if made.is_ok_and(|s| s.success()) {
        assert_eq!(json(&out)["summary"]["skipped_special"], 1);
    }
    // Permission bits do not stop root, so a loop of symlinks stands for an unreadable input.
    std::os::unix::fs::symlink(d.join("loop-b"), d.join("loop-a")).unwrap();
    std::os::unix::fs::symlink(d.join("loop-a"), d.join("loop-b")).unwrap();
    let out = run(&["scan", ".", "--follow-symlinks", "-f", "json"], d);
    let v = json(&out);
    assert!(v["summary"]["errors"].as_u64().unwrap() >= 1, "{v:#}");
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn case02_several_directories_keep_their_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut rng = Rng::new(12);
    write(
        d,
        "prod/app.env",
        &format!("K={}\n", fake_aws_key_id(&mut rng)),
    );
    write(
        d,
        "staging/app.env",
        &format!("K={}\n", fake_aws_key_id(&mut rng)),
    );
    let out = run(&["scan", "prod", "staging", "-f", "json"], d);
    assert_eq!(paths(&out), vec!["prod/app.env", "staging/app.env"]);
    let out = run(&["scan", "prod", "staging", "-f", "sarif"], d);
    let v = json(&out);
    let mut uris: Vec<&str> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    uris.sort();
    assert_eq!(uris, vec!["prod/app.env", "staging/app.env"]);
    // A file named directly keeps its directory too.
    let out = run(&["scan", "prod/app.env", "-f", "json"], d);
    assert_eq!(paths(&out), vec!["prod/app.env"]);
    let out = run(&["scan", "--write-baseline", "b.txt", "prod", "staging"], d);
    assert_eq!(out.status.code(), Some(0));
    let baseline = fs::read_to_string(d.join("b.txt")).unwrap();
    assert!(baseline.contains("\tprod/app.env") && baseline.contains("\tstaging/app.env"));
}

#[test]
fn case03_allowlists_do_not_depend_on_where_you_stand() {
    let r = Repo::new();
    let d = &r.path;
    write(
        d,
        ".keywarden.toml",
        "[allowlist]\npaths = [\"fixtures\"]\n",
    );
    write(d, "fixtures/a.env", &format!("K={}\n", aws_key()));
    write(d, "app/b.env", &format!("K={}\n", aws_key()));
    // From the root, from the directory itself, from inside it, and naming it: only app/b.env.
    for (cwd, arg) in [
        (".", "."),
        (".", "fixtures"),
        ("fixtures", "."),
        ("app", "."),
    ] {
        let out = run(&["scan", arg, "-f", "json"], &d.join(cwd));
        let got = paths(&out);
        let want: Vec<String> = if cwd == "app" || arg == "." && cwd == "." {
            vec!["app/b.env".into()]
        } else {
            vec![]
        };
        assert_eq!(got, want, "scan {arg} from {cwd}");
    }
    // Staged and history scans read the same globs the same way.
    r.git(&["add", "."]);
    let staged = run(&["scan", "--staged", "-f", "json"], &d.join("app"));
    assert_eq!(paths(&staged), vec!["app/b.env"]);
    r.git(&["commit", "-q", "-m", "x"]);
    let hist = run(&["scan", "--git", "-f", "json"], &d.join("fixtures"));
    assert_eq!(paths(&hist), vec!["app/b.env"]);
}

#[test]
fn case03_ignore_file_globs_are_anchored_at_the_ignore_file() {
    let r = Repo::new();
    let d = &r.path;
    let key = aws_key();
    write(d, "docs/a.md", &format!("K={key}\n"));
    let fp = run_stdin(&["fingerprint"], d, format!("{key}\n").as_bytes());
    let fp = String::from_utf8_lossy(&fp.stdout).trim().to_string();
    write(
        d,
        ".keywardenignore",
        &format!("{fp} docs/** # example key\n"),
    );
    for cwd in [".", "docs"] {
        let out = run(&["scan", ".", "-f", "json"], &d.join(cwd));
        assert_eq!(paths(&out), Vec::<String>::new(), "from {cwd}");
    }
}

#[test]
fn case05_the_hook_fails_closed_when_keywarden_cannot_run() {
    let r = Repo::new();
    // Installed from this test process: there is no keywarden binary to fall back on.
    keywarden::cli::install_hook::install(&r.path, false).unwrap();
    r.write("leak.env", &format!("KEY={}\n", aws_key()));
    r.git(&["add", "leak.env"]);
    let git_dir = ["/usr/local/bin", "/usr/bin", "/bin"].join(":");
    let out = Command::new("git")
        .args(["commit", "-q", "-m", "leak"])
        .current_dir(&r.path)
        .env("PATH", &git_dir)
        .output()
        .unwrap();
    assert!(!out.status.success(), "the commit went through");
    let err = stderr(&out);
    assert!(
        err.contains("not found") && err.contains("--no-verify"),
        "{err}"
    );

    // Installed by the binary: the hook finds it even when it is not on PATH.
    let out = run(&["install-hook", "--force"], &r.path);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = Command::new("git")
        .args(["commit", "-q", "-m", "leak"])
        .current_dir(&r.path)
        .env("PATH", &git_dir)
        .output()
        .unwrap();
    assert!(!out.status.success(), "the commit went through");
    assert!(stderr(&out).contains("aws-access-key-id") || !out.stdout.is_empty());
    // --no-verify is the documented way round it.
    let out = Command::new("git")
        .args(["commit", "-q", "--no-verify", "-m", "on purpose"])
        .current_dir(&r.path)
        .env("PATH", &git_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn case06_contradictory_modes_are_usage_errors() {
    let r = Repo::new();
    for args in [
        vec!["scan", "--git", "--staged"],
        vec!["scan", "--git", "--diff", "HEAD"],
        vec!["scan", "--staged", "--diff", "HEAD"],
        vec!["scan", "--range", "a..b", "--staged"],
        vec!["scan", "--git", "a", "b"],
    ] {
        let out = run(&args, &r.path);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty());
    }
    // --max-commits, like the other history scopes, means a history scan.
    r.write("a.env", &format!("K={}\n", aws_key()));
    r.git(&["add", "."]);
    r.git(&["commit", "-q", "-m", "a"]);
    fs::remove_file(r.path.join("a.env")).unwrap();
    let out = run(&["scan", "--max-commits", "5", "-f", "json"], &r.path);
    assert_eq!(paths(&out), vec!["a.env"], "{}", stderr(&out));
}

#[test]
fn case07_typos_in_rule_ids_and_exit_codes_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        ".keywarden.toml",
        "[rule_overrides.jwt]\nseverity = \"low\"\n",
    );
    let out = run(&["scan", "."], d);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("jwt-token"), "{}", stderr(&out));
    write(
        d,
        ".keywarden.toml",
        "disable_rules = [\"aws-acess-key-id\"]\n",
    );
    let out = run(&["scan", "."], d);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("aws-access-key-id"),
        "{}",
        stderr(&out)
    );
    write(d, ".keywarden.toml", "exit_code = 256\n");
    assert_eq!(run(&["scan", "."], d).status.code(), Some(2));
    fs::remove_file(d.join(".keywarden.toml")).unwrap();
    for bad in ["256", "0", "-1"] {
        let out = run(&["scan", ".", "--exit-code", bad], d);
        assert_eq!(out.status.code(), Some(2), "--exit-code {bad}");
    }
    // The starter config loads as written.
    let out = run(&["init"], d);
    assert!(out.status.success());
    let out = run(&["scan", "."], d);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn case09_rules_list_and_check_read_a_config() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        ".keywarden.toml",
        r#"disable_rules = ["jwt-token"]

[allowlist]
paths = ["fixtures"]

[[rule]]
id = "acme-internal-token"
name = "ACME internal token"
regex = '''\b(?P<secret>acme_[a-z0-9]{32})\b'''
keywords = ["acme_"]
examples = ["token = acme_" ]
"#,
    );
    let out = run(&["rules", "list"], d);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("acme-internal-token"), "{text}");
    assert!(
        !text.contains("jwt-token "),
        "disabled rules are not in force"
    );
    let out = run(&["rules", "list", "--no-config"], d);
    assert!(String::from_utf8_lossy(&out.stdout).contains("jwt-token"));
    // `rules check` reads the config's rules and runs their examples: this one cannot match.
    let out = run(&["rules", "check", ".keywarden.toml"], d);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("acme-internal-token"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn case13_counts_read_as_english() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut rng = Rng::new(13);
    write(d, "a.txt", &format!("{}\n", fake_aws_key_id(&mut rng)));
    let out = run(&["scan", "."], d);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 finding (1 high) in 1 file "), "{text}");
    let out = run(&["scan", ".", "--write-baseline", "bl"], d);
    assert!(stderr(&out).contains("wrote 1 entry"), "{}", stderr(&out));
    write(
        d,
        ".keywarden.toml",
        "[[rule]]\nid = \"x-y\"\nname = \"x\"\nregex = '(unclosed'\nkeywords = [\"x\"]\n",
    );
    let out = run(&["scan", "."], d);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(".keywarden.toml"), "{}", stderr(&out));
}

#[test]
fn case12_git_errors_say_what_is_missing() {
    let mut r = Repo::new();
    let empty = run(&["scan", "--diff", "HEAD"], &r.path);
    assert_eq!(empty.status.code(), Some(2));
    assert!(
        stderr(&empty).contains("no commits yet"),
        "{}",
        stderr(&empty)
    );
    r.write("a.txt", "a\n");
    let first = r.commit("a");
    r.write("a.txt", "b\n");
    r.commit("b");
    let clone = r.shallow_clone("shallow");
    for args in [
        vec!["scan", "--range", &format!("{first}..HEAD")],
        vec!["scan", "--range", "HEAD~1..HEAD"],
        vec!["scan", "--diff", "HEAD~1"],
    ] {
        let out = run(&args, &clone);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("shallow clone") && err.contains("fetch"),
            "{args:?}: {err}"
        );
    }
    let out = run(&["scan", "--diff", "no-such-branch"], &r.path);
    assert!(stderr(&out).contains("names no branch"), "{}", stderr(&out));
}

#[test]
fn case11_other_scanners_baselines_are_not_findings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut rng = Rng::new(14);
    let hashed = sha1_smol::Sha1::from(fake_aws_key_id(&mut rng))
        .digest()
        .to_string();
    let entry = format!(
        r#"{{"type": "Secret Keyword", "filename": "a.env", "hashed_secret": "{hashed}", "is_verified": false, "line_number": 2}}"#
    );
    write(
        d,
        ".secrets.baseline",
        &format!(
            "{{\n  \"version\": \"1.5.0\",\n  \"plugins_used\": [{{\"name\": \"KeywordDetector\"}}],\n  \"filters_used\": [],\n  \"results\": {{\n    \"a.env\": [\n      {entry}\n    ]\n  }},\n  \"generated_at\": \"2026-01-01T00:00:00Z\"\n}}\n"
        ),
    );
    let out = run(&["scan", ".", "-f", "json"], d);
    let v = json(&out);
    assert_eq!(v["summary"]["findings"], 0, "{v:#}");
    assert_eq!(v["summary"]["skipped_scanner_baselines"], 1);
    // The same digest in a document that is not a baseline is still looked at.
    write(
        d,
        "report.json",
        &format!("{{\n  \"results\": {{\"a.env\": [\n    {entry}\n  ]}}\n}}\n"),
    );
    let out = run(&["scan", "report.json", "-f", "json"], d);
    assert_eq!(json(&out)["summary"]["skipped_scanner_baselines"], 0);
}

#[test]
fn case13_baseline_prune_refuses_options_it_would_ignore() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "bl", "");
    for flag in [
        ["--format", "json"],
        ["--output", "x"],
        ["--exit-code", "5"],
    ] {
        let out = run(
            &["baseline", "prune", "--baseline", "bl", flag[0], flag[1]],
            d,
        );
        assert_eq!(out.status.code(), Some(2), "{flag:?}");
        assert!(stderr(&out).contains(flag[0]), "{}", stderr(&out));
    }
    let out = run(&["baseline", "prune", "--baseline", "bl"], d);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
