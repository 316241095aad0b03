//! History findings are leaks: one finding per (value, path), with where the value went.
//! Each test is one of the worked examples in docs/git.md, on a repository built here.

use crate::git_support;

use git_support::{Repo, aws_key, scan};
use serde_json::Value;

fn line(key: &str) -> String {
    format!("aws_access_key_id = {key}\n")
}

fn one<'a>(run: &'a git_support::Run, key: &str) -> &'a Value {
    let found = run.with_secret(key);
    assert_eq!(found.len(), 1, "{key}: {:#?}", run.json["findings"]);
    found[0]
}

fn refs(f: &Value) -> Vec<&str> {
    f["history"]["ref_names"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn an_edit_of_another_line_is_not_a_new_leak() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("app.env", &format!("DEBUG=false\n{}", line(&key)));
    let added = r.commit("add config");
    r.write("app.env", &format!("DEBUG=true\n{}", line(&key)));
    r.commit("debug on");
    r.write("app.env", &format!("DEBUG=true\nLOG=info\n{}", line(&key)));
    let last = r.commit("log level");

    let run = scan(&r.path, &["--git"]);
    let f = one(&run, &key);
    assert_eq!(f["commit"]["id"], added.as_str());
    assert_eq!(f["line"], 2, "the line in the introducing version");
    assert_eq!(f["history"]["present"], true);
    assert_eq!(f["history"]["occurrences"], 3);
    assert_eq!(f["history"]["last_seen"]["id"], last.as_str());
    assert!(f["history"].get("removed_in").is_none());
    assert_eq!(refs(f), ["refs/heads/main"]);
    assert_eq!(run.extra("blobs"), 3, "every version is still scanned once");
}

#[test]
fn a_removed_value_says_where_it_was_removed() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("conf/app.ini", &format!("[aws]\n{}", line(&key)));
    let added = r.commit("add");
    r.write("conf/app.ini", &format!("[aws]\n# rotated\n{}", line(&key)));
    let kept = r.commit("comment");
    r.write("conf/app.ini", "[aws]\n# rotated\n");
    let removed = r.commit("remove key");
    r.write("other.txt", "x\n");
    r.commit("later work");

    let run = scan(&r.path, &["--git"]);
    let f = one(&run, &key);
    assert_eq!(f["commit"]["id"], added.as_str());
    assert_eq!(f["history"]["present"], false);
    assert_eq!(f["history"]["removed_in"]["id"], removed.as_str());
    assert_eq!(f["history"]["last_seen"]["id"], kept.as_str());
    assert_eq!(f["history"]["occurrences"], 2);
}

#[test]
fn a_deleted_directory_removes_the_value() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("deploy/prod/creds", &line(&key));
    r.write("deploy/prod/notes", "n\n");
    r.commit("add");
    r.git(&["rm", "-q", "-r", "deploy"]);
    let removed = r.commit("drop deploy dir");
    let run = scan(&r.path, &["--git"]);
    let f = one(&run, &key);
    assert_eq!(f["history"]["present"], false);
    assert_eq!(f["history"]["removed_in"]["id"], removed.as_str());
}

#[test]
fn a_revert_keeps_the_first_introduction() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("k.txt", &line(&key));
    let first = r.commit("add");
    r.write("k.txt", "clean\n");
    r.commit("remove");
    r.git(&["revert", "--no-edit", "HEAD"]);
    let run = scan(&r.path, &["--git"]);
    let f = one(&run, &key);
    assert_eq!(f["commit"]["id"], first.as_str());
    assert_eq!(f["history"]["present"], true);
    assert_eq!(f["history"]["occurrences"], 2);
}

#[test]
fn a_moved_value_is_a_second_leak_with_the_same_fingerprint() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("old/creds", &line(&key));
    let added = r.commit("add");
    r.git(&["mv", "old", "new"]);
    let moved = r.commit("move");
    let run = scan(&r.path, &["--git"]);
    let found = run.with_secret(&key);
    assert_eq!(found.len(), 2, "{:#?}", run.json["findings"]);
    let at = |p: &str| *found.iter().find(|f| f["path"] == p).unwrap();
    let (old, new) = (at("old/creds"), at("new/creds"));
    assert_eq!(old["fingerprint"], new["fingerprint"]);
    assert_eq!(old["commit"]["id"], added.as_str());
    assert_eq!(old["history"]["present"], false);
    assert_eq!(old["history"]["removed_in"]["id"], moved.as_str());
    assert_eq!(new["commit"]["id"], moved.as_str());
    assert_eq!(new["history"]["present"], true);
}

#[test]
fn a_merged_branch_credits_the_branch_commit_and_counts_its_refs() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("base.txt", "base\n");
    r.commit("base");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("svc.env", &format!("A=1\n{}", line(&key)));
    let leaked = r.commit("feature config");
    r.write("svc.env", &format!("A=2\n{}", line(&key)));
    r.commit("tweak");
    r.git(&["checkout", "-q", "main"]);
    r.write("main.txt", "m\n");
    r.commit("main work");
    r.merge("feature", "merge feature");
    r.write("svc.env", "A=2\n");
    let removed = r.commit("remove key");

    let run = scan(&r.path, &["--git"]);
    let f = one(&run, &key);
    assert_eq!(f["commit"]["id"], leaked.as_str());
    assert_eq!(f["history"]["present"], false);
    assert_eq!(f["history"]["removed_in"]["id"], removed.as_str());
    // Versions: two feature commits and the merge.
    assert_eq!(f["history"]["occurrences"], 3);
    assert_eq!(f["history"]["refs"], 2);
    assert_eq!(refs(f), ["refs/heads/feature", "refs/heads/main"]);
}

#[test]
fn a_value_only_on_a_tag_says_so() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("a.txt", "a\n");
    r.commit("base");
    r.git(&["checkout", "-q", "-b", "release"]);
    r.write("release.env", &line(&key));
    let tagged = r.commit("release prep");
    r.git(&["tag", "v1.0"]);
    r.git(&["checkout", "-q", "main"]);
    r.git(&["branch", "-q", "-D", "release"]);
    r.write("a.txt", "b\n");
    r.commit("main goes on");

    let run = scan(&r.path, &["--git"]);
    let f = one(&run, &key);
    assert_eq!(f["commit"]["id"], tagged.as_str());
    assert_eq!(f["history"]["present"], false);
    assert!(f["history"].get("removed_in").is_none());
    assert_eq!(f["history"]["refs"], 1);
    assert_eq!(refs(f), ["refs/tags/v1.0"]);
}

#[test]
fn text_and_sarif_say_what_to_do() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("app.env", &line(&key));
    r.commit("add");
    r.write("app.env", "clean\n");
    let removed = r.commit("remove");
    let short = &removed[..7];

    let text = std::process::Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .args([
            "scan",
            "--git",
            "--no-config",
            "--no-progress",
            "--format",
            "text",
        ])
        .current_dir(&r.path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("introduced in commit"), "{text}");
    assert!(
        text.contains(&format!(
            "removed in {short} on 2021-03-02, still in history: rotate it"
        )),
        "{text}"
    );

    let sarif = std::process::Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .args([
            "scan",
            "--git",
            "--no-config",
            "--no-progress",
            "--format",
            "sarif",
        ])
        .current_dir(&r.path)
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let props = &results[0]["properties"];
    assert_eq!(props["present"], false);
    assert_eq!(props["removed_in"], removed.as_str());
    assert!(
        results[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("still in history: rotate it")
    );
}

#[test]
fn fingerprints_survive_a_rebase_that_does_not_touch_the_leak() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("base.txt", "base\n");
    r.commit("base");
    r.git(&["checkout", "-q", "-b", "topic"]);
    r.write("svc.env", &line(&key));
    r.commit("topic config");
    r.git(&["checkout", "-q", "main"]);
    r.write("other.txt", "o\n");
    r.commit("main work");
    let sarif_of = |r: &Repo| -> Value {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_keywarden"))
            .args([
                "scan",
                "--git",
                "--branch",
                "topic",
                "--no-config",
                "--no-progress",
            ])
            .args(["--format", "sarif"])
            .current_dir(&r.path)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["runs"][0]["results"][0]["partialFingerprints"].clone()
    };
    let before = sarif_of(&r);
    r.git(&["checkout", "-q", "topic"]);
    r.git(&["rebase", "-q", "main"]);
    let after = sarif_of(&r);
    assert!(before.is_object(), "{before}");
    assert_eq!(before, after);
}

#[test]
fn a_value_reshaped_so_that_a_rule_matches_is_credited_to_its_first_version() {
    let mut r = Repo::new();
    // Random, mixed case with digits (a value no rule takes for a word): the same bytes in
    // both versions.
    let k = aws_key();
    let value = format!("{}x7{}", &k[4..10], k[10..16].to_lowercase());
    // A bare token with no key name: no rule matches it.
    r.write("tasks/main.yml", &format!("- old notes\n  {value}\n"));
    let first = r.commit("notes");
    r.write(
        "tasks/main.yml",
        &format!("- name: create user\n  mysql_user:\n    password: '{value}'\n"),
    );
    let reshaped = r.commit("native yaml");
    let run = scan(&r.path, &["--git"]);
    let f = one(&run, &value);
    assert_eq!(f["commit"]["id"], first.as_str(), "not {reshaped}");
    assert_eq!(f["line"], 2, "the line in the first version");
    assert_eq!(f["history"]["occurrences"], 2);
    assert!(
        f["snippet"].as_str().unwrap().starts_with(&value[..4]),
        "{}",
        f["snippet"]
    );
}

#[test]
fn a_baseline_entry_accepts_the_leak_in_every_later_version() {
    let mut r = Repo::new();
    let key = aws_key();
    r.write("app.env", &format!("DEBUG=false\n{}", line(&key)));
    r.commit("add config");
    let baseline = r.sibling("baseline.txt");
    let b = baseline.to_str().unwrap();
    let w = scan(&r.path, &["--git", "--write-baseline", b]);
    assert_eq!(w.code, 0, "{}", w.stderr);
    // Later edits of other lines write new blobs holding the same value.
    r.write("app.env", &format!("DEBUG=true\n{}", line(&key)));
    r.commit("debug on");
    r.write("app.env", &format!("DEBUG=true\nLOG=info\n{}", line(&key)));
    r.commit("log level");
    let run = scan(&r.path, &["--git", "--baseline", b]);
    assert_eq!(run.code, 0, "{:#?}", run.json["findings"]);
    assert_eq!(run.json["summary"]["suppressed"]["baseline"], 1);
}
