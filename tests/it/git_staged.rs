//! `keywarden scan --staged`, `--diff REF` and the pre-commit hook installer.

use crate::git_support;

use git_support::{Repo, aws_key, scan};

#[test]
fn staged_reports_index_content_with_index_line_numbers() {
    let mut r = Repo::new();
    let (old, staged, unstaged) = (aws_key(), aws_key(), aws_key());
    r.write("committed.env", &format!("KEY={old}\n"));
    r.write("app.cfg", "a\nb\n");
    r.commit("base");
    // Staged: the secret on line 3 of app.cfg.
    r.write("app.cfg", &format!("a\nb\nkey = {staged}\n"));
    r.git(&["add", "app.cfg"]);
    // Unstaged edits on top: lines shift in the working tree and a new secret appears.
    r.write(
        "app.cfg",
        &format!("x\ny\nz\na\nb\nkey = {staged}\nother = {unstaged}\n"),
    );
    r.write("untracked.env", &format!("KEY={unstaged}\n"));

    let run = scan(&r.path, &["--staged"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let f = run.findings();
    assert_eq!(f.len(), 1, "{:#?}", run.json);
    assert_eq!(f[0]["secret"], staged.as_str());
    assert_eq!(f[0]["path"], "app.cfg");
    assert_eq!(f[0]["line"], 3);
    // The committed secret is HEAD's, not staged.
    assert!(run.with_secret(&old).is_empty());
}

#[test]
fn staged_in_a_repo_without_commits_scans_the_index() {
    let r = Repo::new();
    let key = aws_key();
    r.write("new.env", &format!("\nKEY={key}\n"));
    r.git(&["add", "new.env"]);
    let run = scan(&r.path, &["--staged"]);
    let f = run.with_secret(&key);
    assert_eq!(f.len(), 1, "{}", run.stderr);
    assert_eq!(f[0]["line"], 2);
}

#[test]
fn staged_with_nothing_staged_is_clean() {
    let mut r = Repo::new();
    r.write("committed.env", &format!("KEY={}\n", aws_key()));
    r.commit("base");
    let run = scan(&r.path, &["--staged"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.findings().is_empty());
}

#[test]
fn diff_reports_only_added_lines() {
    let mut r = Repo::new();
    let (old, new) = (aws_key(), aws_key());
    r.write("cfg.ini", &format!("[a]\nkey = {old}\n"));
    let base = r.commit("base");
    r.write("cfg.ini", &format!("[a]\nkey = {old}\n[b]\nkey = {new}\n"));
    r.commit("more");
    let run = scan(&r.path, &["--diff", &base]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let f = run.findings();
    assert_eq!(f.len(), 1, "{:#?}", run.json);
    assert_eq!(f[0]["secret"], new.as_str());
    assert_eq!(f[0]["line"], 4);
}

#[test]
fn diff_compares_utf16_files_decoded() {
    let mut r = Repo::new();
    let (old, new) = (aws_key(), aws_key());
    r.write("cfg.ini", &format!("[a]\r\nkey = {old}\r\n"));
    let base = r.commit("base");
    // Saved again as UTF-16LE with a BOM, as a Windows editor may: only the two lines added
    // in the decoded text are new, not every line whose bytes changed.
    let text = format!("[a]\r\nkey = {old}\r\n[b]\r\nkey = {new}\r\n");
    let utf16: Vec<u8> = (text.encode_utf16()).flat_map(u16::to_le_bytes).collect();
    std::fs::write(
        r.path.join("cfg.ini"),
        [b"\xFF\xFE".as_slice(), &utf16].concat(),
    )
    .unwrap();
    r.commit("utf-16");
    let run = scan(&r.path, &["--diff", &base]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let f = run.findings();
    assert_eq!(f.len(), 1, "{:#?}", run.json);
    assert_eq!(f[0]["secret"], new.as_str());
    assert_eq!(f[0]["line"], 4);
}

#[test]
fn diff_prefers_the_working_tree_for_changed_files() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("a.txt", "one\n");
    let base = r.commit("base");
    r.write("a.txt", "one\ntwo\n");
    r.commit("two");
    // Uncommitted edit of a changed file: the working-tree content is what is scanned.
    r.write("a.txt", &format!("one\ntwo\nsecret = {key}\n"));
    let run = scan(&r.path, &["--diff", &base]);
    let f = run.with_secret(&key);
    assert_eq!(f.len(), 1, "{:#?}", run.json);
    assert_eq!(f[0]["line"], 3);
}

#[test]
fn hook_is_installed_and_respects_foreign_hooks() {
    let r = Repo::new();
    let hook = keywarden::cli::install_hook::install(&r.path, false).unwrap();
    assert_eq!(hook, r.path.join(".git/hooks/pre-commit"));
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(text.contains("scan --staged"));
    // Re-installing over our own hook is fine.
    keywarden::cli::install_hook::install(&r.path, false).unwrap();
    std::fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
    assert!(keywarden::cli::install_hook::install(&r.path, false).is_err());
    keywarden::cli::install_hook::install(&r.path, true).unwrap();
    assert!(
        std::fs::read_to_string(&hook)
            .unwrap()
            .contains("keywarden")
    );

    r.git(&["config", "core.hooksPath", "githooks"]);
    let hook = keywarden::cli::install_hook::install(&r.path, false).unwrap();
    assert_eq!(hook, r.path.join("githooks/pre-commit"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&hook).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111);
    }
}

#[test]
fn hook_blocks_a_commit_with_a_staged_secret() {
    let r = Repo::new();
    keywarden::cli::install_hook::install(&r.path, false).unwrap();
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_keywarden"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    r.write("leak.env", &format!("KEY={}\n", aws_key()));
    r.git(&["add", "leak.env"]);
    let out = std::process::Command::new("git")
        .args(["commit", "-q", "-m", "leak"])
        .current_dir(&r.path)
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(!out.status.success(), "the commit went through");
    r.write("leak.env", "KEY=nothing\n");
    r.git(&["add", "leak.env"]);
    let out = std::process::Command::new("git")
        .args(["commit", "-q", "-m", "clean"])
        .current_dir(&r.path)
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn staged_edit_of_another_line_does_not_report_the_committed_secret() {
    let mut r = Repo::new();
    let (old, new) = (aws_key(), aws_key());
    r.write("app.env", &format!("DEBUG=false\nKEY={old}\n"));
    r.commit("add the key");
    r.write("app.env", &format!("DEBUG=true\nKEY={old}\n"));
    r.git(&["add", "app.env"]);
    let run = scan(&r.path, &["--staged"]);
    assert_eq!(run.code, 0, "{:#?}", run.json);
    assert_eq!(run.extra("values_already_in_head"), 1);
    r.write("app.env", &format!("DEBUG=true\nKEY={old}\nKEY2={new}\n"));
    r.git(&["add", "app.env"]);
    let run = scan(&r.path, &["--staged"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.findings().len(), 1, "{:#?}", run.json);
    assert_eq!(run.with_secret(&new).len(), 1);
}
