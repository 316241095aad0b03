//! `keywarden scan --git`: every ref, attribution to the introducing commit, scoping flags
//! and robustness cases, on repositories built at test time.

use crate::git_support;

use git_support::{AUTHOR, EMAIL, Repo, aws_key, git_in, scan};

fn secret_line(key: &str) -> String {
    format!("aws_access_key_id = {key}\n")
}

#[test]
fn deleted_secret_is_attributed_to_the_adding_commit() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("README.md", "hello\n");
    r.commit("start");
    r.write("conf/app.ini", &format!("[aws]\n{}", secret_line(&key)));
    let adding = r.commit("add app config");
    r.git(&["rm", "-q", "conf/app.ini"]);
    r.commit("remove app config");

    let run = scan(&r.path, &["--git"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found = run.with_secret(&key);
    assert_eq!(found.len(), 1, "{:#?}", run.json);
    let f = found[0];
    assert_eq!(f["path"], "conf/app.ini");
    assert_eq!(f["line"], 2);
    assert_eq!(f["commit"]["id"], adding.as_str());
    assert_eq!(f["commit"]["author_name"], AUTHOR);
    assert_eq!(f["commit"]["author_email"], EMAIL);
    assert_eq!(f["commit"]["author_date"], "2021-03-02T12:00:00+02:00");
    assert_eq!(f["commit"]["committer_date"], "2021-03-02T12:00:00+02:00");
    assert_eq!(f["commit"]["summary"], "add app config");
    assert_eq!(run.extra("commits"), 3);
}

#[test]
fn secrets_on_side_branches_tags_and_stash_are_found() {
    let mut r = Repo::new();
    let (branch_key, tag_key, stash_key) = (aws_key(), aws_key(), aws_key());
    r.write("a.txt", "base\n");
    r.commit("base");
    r.git(&["checkout", "-q", "-b", "side"]);
    r.write("side.env", &secret_line(&branch_key));
    let side = r.commit("side work");
    r.git(&["checkout", "-q", "-b", "tagged", "main"]);
    r.write("tag.env", &secret_line(&tag_key));
    let tagged = r.commit("release prep");
    r.git(&["tag", "-a", "v1", "-m", "v1"]);
    r.git(&["checkout", "-q", "main"]);
    r.git(&["branch", "-q", "-D", "tagged"]);
    r.write("a.txt", &format!("base\n{}", secret_line(&stash_key)));
    r.git(&["stash", "-q"]);

    let run = scan(&r.path, &["--git"]);
    let b = run.with_secret(&branch_key);
    assert_eq!(b.len(), 1, "{:#?}", run.json);
    assert_eq!(b[0]["commit"]["id"], side.as_str());
    let t = run.with_secret(&tag_key);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0]["commit"]["id"], tagged.as_str());
    let s = run.with_secret(&stash_key);
    assert_eq!(s.len(), 1, "{:#?}", run.json);
    assert_eq!(s[0]["path"], "a.txt");
    assert_eq!(s[0]["line"], 2);
}

#[test]
fn one_finding_per_blob_and_path_with_the_same_fingerprint_and_one_scan() {
    let mut r = Repo::new();
    let key = aws_key();
    let content = secret_line(&key);
    r.write("one/creds", &content);
    let first = r.commit("first copy");
    r.write("two/creds", &content);
    let second = r.commit("second copy");
    r.write("unrelated.txt", "x\n");
    r.commit("noise");

    let run = scan(&r.path, &["--git"]);
    let found = run.with_secret(&key);
    assert_eq!(found.len(), 2, "{:#?}", run.json);
    assert_eq!(found[0]["fingerprint"], found[1]["fingerprint"]);
    assert_eq!(found[0]["blob_id"], found[1]["blob_id"]);
    let by_path = |p: &str| found.iter().find(|f| f["path"] == p).unwrap()["commit"]["id"].clone();
    assert_eq!(by_path("one/creds"), first.as_str());
    assert_eq!(by_path("two/creds"), second.as_str());
    // Blobs: the secret, "x\n": each decoded once.
    assert_eq!(run.extra("blobs"), 2);
    assert_eq!(run.extra("blob_occurrences"), 3);
    assert_eq!(run.json["summary"]["files_scanned"], 2);
}

#[test]
fn a_changing_secret_is_attributed_per_value() {
    let mut r = Repo::new();
    let keys = [aws_key(), aws_key(), aws_key()];
    let mut commits = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        r.write("settings.py", &format!("# v{i}\nAWS_KEY = \"{k}\"\n"));
        commits.push(r.commit(&format!("rotate {i}")));
    }
    let run = scan(&r.path, &["--git"]);
    for (k, c) in keys.iter().zip(&commits) {
        let f = run.with_secret(k);
        assert_eq!(f.len(), 1, "{k}: {:#?}", run.json);
        assert_eq!(f[0]["commit"]["id"], c.as_str());
    }
}

#[test]
fn reverted_then_readded_blob_keeps_its_first_commit() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("k.txt", &secret_line(&key));
    let first = r.commit("add");
    r.write("k.txt", "clean\n");
    r.commit("clean");
    r.write("k.txt", &secret_line(&key));
    r.commit("re-add");
    let run = scan(&r.path, &["--git"]);
    let f = run.with_secret(&key);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["commit"]["id"], first.as_str());
}

#[test]
fn merge_does_not_take_credit_for_a_parents_blob() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("base.txt", "base\n");
    r.commit("base");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("feature.env", &secret_line(&key));
    let feature = r.commit("feature secret");
    r.git(&["checkout", "-q", "main"]);
    r.write("main.txt", "main\n");
    r.commit("main work");
    r.merge("feature", "merge feature");
    let run = scan(&r.path, &["--git"]);
    let f = run.with_secret(&key);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["commit"]["id"], feature.as_str());
}

/// main: c1 (k1) - c2 (k2) - c3 (k3); branch other from c1: o1 (k4).
fn scoped_repo() -> (Repo, Vec<String>, Vec<String>) {
    let mut r = Repo::new();
    let keys: Vec<String> = (0..4).map(|_| aws_key()).collect();
    let mut commits = Vec::new();
    for (i, k) in keys.iter().take(3).enumerate() {
        r.write(&format!("f{i}.env"), &secret_line(k));
        commits.push(r.commit(&format!("c{i}")));
    }
    r.git(&["checkout", "-q", "-b", "other", &commits[0]]);
    r.write("o.env", &secret_line(&keys[3]));
    commits.push(r.commit("o1"));
    r.git(&["checkout", "-q", "main"]);
    (r, keys, commits)
}

fn secrets(run: &git_support::Run) -> Vec<String> {
    let mut v: Vec<String> = run
        .findings()
        .iter()
        .map(|f| f["secret"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn range_limits_to_commits_in_the_range() {
    let (r, keys, commits) = scoped_repo();
    let run = scan(&r.path, &["--range", &format!("{}..main", commits[0])]);
    assert_eq!(
        secrets(&run),
        sorted(vec![keys[1].clone(), keys[2].clone()])
    );
    assert_eq!(run.extra("commits"), 2);
}

#[test]
fn since_ref_scans_what_head_adds() {
    let (r, keys, _) = scoped_repo();
    r.git(&["checkout", "-q", "other"]);
    let run = scan(&r.path, &["--git", "--since-ref", "main"]);
    assert_eq!(secrets(&run), vec![keys[3].clone()]);
}

#[test]
fn branch_limits_to_that_branch() {
    let (r, keys, _) = scoped_repo();
    let run = scan(&r.path, &["--branch", "other"]);
    assert_eq!(
        secrets(&run),
        sorted(vec![keys[0].clone(), keys[3].clone()])
    );
    let all = scan(&r.path, &["--git", "--all-refs"]);
    assert_eq!(all.findings().len(), 4);
}

#[test]
fn max_commits_takes_the_newest() {
    let (r, keys, _) = scoped_repo();
    let run = scan(&r.path, &["--branch", "main", "--max-commits", "1"]);
    assert_eq!(secrets(&run), vec![keys[2].clone()]);
    assert_eq!(run.extra("commits"), 1);
}

#[test]
fn shallow_clone_is_scanned_with_a_note() {
    let mut r = Repo::new();
    let (old, new) = (aws_key(), aws_key());
    r.write("old.env", &secret_line(&old));
    r.commit("old");
    r.write("new.env", &secret_line(&new));
    let tip = r.commit("new");
    let clone = r.shallow_clone("shallow");
    let run = scan(&clone, &["--git"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.notes().iter().any(|n| n.contains("shallow")),
        "{:?}",
        run.notes()
    );
    // Both files are in the shallow commit's tree, which is all that is present.
    let f = run.with_secret(&new);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["commit"]["id"], tip.as_str());
    assert_eq!(run.with_secret(&old).len(), 1);
}

#[test]
fn missing_object_is_counted_not_fatal() {
    let mut r = Repo::new();
    let (gone, kept) = (aws_key(), aws_key());
    r.write("gone.env", &secret_line(&gone));
    r.write("kept.env", &secret_line(&kept));
    r.commit("two files");
    let id = r.git(&["rev-parse", "HEAD:gone.env"]).trim().to_string();
    let loose = r.path.join(".git/objects").join(&id[..2]).join(&id[2..]);
    std::fs::remove_file(loose).unwrap();
    let run = scan(&r.path, &["--git"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.extra("missing_objects") >= 1);
    assert_eq!(run.with_secret(&kept).len(), 1);
    assert!(run.with_secret(&gone).is_empty());
}

#[test]
fn submodules_are_reported_and_lfs_pointers_skipped() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("a.txt", "a\n");
    let first = r.commit("a");
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{first},vendor/lib"),
    ]);
    r.write(
        "big.bin",
        &format!(
            "version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize 12\n{}",
            "ab".repeat(32),
            secret_line(&key)
        ),
    );
    r.git(&["add", "big.bin"]);
    r.commit_staged("submodule and lfs");
    let run = scan(&r.path, &["--git"]);
    assert_eq!(run.extra("submodules"), 1);
    assert!(run.notes().iter().any(|n| n.contains("vendor/lib")));
    assert_eq!(run.extra("lfs_pointers"), 1);
    assert!(run.findings().is_empty(), "{:#?}", run.json);
}

#[test]
fn empty_repo_has_no_findings() {
    let r = Repo::new();
    let run = scan(&r.path, &["--git"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.findings().is_empty());
    assert_eq!(run.extra("commits"), 0);
}

#[test]
fn not_a_repository_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = scan(dir.path(), &["--git"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("not a git repository"),
        "{}",
        run.stderr
    );
}

#[test]
fn bare_repo_and_path_inside_a_repo_work() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("deep/dir/x.env", &secret_line(&key));
    let c = r.commit("x");
    let bare = r.sibling("bare.git");
    git_in(
        r.path.parent().unwrap(),
        &[
            "clone",
            "-q",
            "--bare",
            &r.path.display().to_string(),
            "bare.git",
        ],
    );
    for dir in [bare, r.path.join("deep/dir")] {
        let run = scan(&dir, &["--git"]);
        let f = run.with_secret(&key);
        assert_eq!(f.len(), 1, "{}: {}", dir.display(), run.stderr);
        assert_eq!(f[0]["commit"]["id"], c.as_str());
        assert_eq!(f[0]["path"], "deep/dir/x.env");
    }
}

#[test]
fn sarif_carries_commit_provenance() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("s.env", &secret_line(&key));
    let c = r.commit("s");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .args(["scan", "--git", "--format", "sarif", "--no-config"])
        .current_dir(&r.path)
        .output()
        .unwrap();
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = sarif.to_string();
    assert!(text.contains(&c), "{text}");
    assert!(text.contains("versionControlProvenance"));
}

#[test]
fn utf16_blobs_in_history_are_decoded() {
    let mut r = Repo::new();
    let key = aws_key();
    let text = format!("[aws]\r\n{}", secret_line(&key));
    let utf16: Vec<u8> = (text.encode_utf16()).flat_map(u16::to_be_bytes).collect();
    std::fs::write(
        r.path.join("creds.ini"),
        [b"\xFE\xFF".as_slice(), &utf16].concat(),
    )
    .unwrap();
    r.commit("add UTF-16BE credentials");
    let run = scan(&r.path, &["--git"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found = run.with_secret(&key);
    assert_eq!(found.len(), 1, "{:#?}", run.json);
    assert_eq!(found[0]["line"], 2);
    assert_eq!(run.json["summary"]["decoded_utf16"], 1);
    assert_eq!(run.json["summary"]["skipped_binary"], 0);
}

#[test]
fn a_range_does_not_credit_a_commit_with_a_secret_it_inherited() {
    let mut r = Repo::new();
    let (old, new) = (aws_key(), aws_key());
    r.write("app.env", &format!("DEBUG=false\nKEY={old}\n"));
    r.commit("add the key");
    r.write("app.env", &format!("DEBUG=true\nKEY={old}\n"));
    r.commit("only turn debugging on");
    // The pull-request mode: the last commit changed another line of a file with a secret.
    let run = scan(&r.path, &["--range", "HEAD~1..HEAD"]);
    assert_eq!(run.code, 0, "{:#?}", run.json);
    assert_eq!(run.extra("values_already_in_parent"), 1);
    r.write("app.env", &format!("DEBUG=true\nKEY={old}\nKEY2={new}\n"));
    r.commit("add another key");
    let run = scan(&r.path, &["--range", "HEAD~1..HEAD"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.findings().len(), 1, "{:#?}", run.json);
    assert_eq!(run.with_secret(&new).len(), 1);
    // The whole range still reports the first key, introduced inside it.
    let run = scan(&r.path, &["--since-ref", "HEAD~2"]);
    assert!(
        run.findings()
            .iter()
            .all(|f| f["commit"]["summary"] != "only turn debugging on")
    );
    assert_eq!(run.with_secret(&new).len(), 1);
}
