//! Organisation scale: `scan --repos` over many repositories, shards, `repos plan`, `--state`
//! and `report merge`, on repositories built here.

use crate::common::load_in_chromium;
use crate::git_support::{Repo, aws_key};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn kw(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// `n` repositories under `root/org`: `rNN` (links to clones), each with one commit; the
/// shared key is committed to the ones in `leaky`.
fn org(root: &Path, n: usize, leaky: &[usize], key: &str) -> Vec<Repo> {
    let root = root.join("org");
    std::fs::create_dir(&root).unwrap();
    let mut repos = Vec::new();
    for i in 0..n {
        let mut r = Repo::new();
        r.write("README.md", &format!("repo {i}\n"));
        r.commit("init");
        if leaky.contains(&i) {
            r.write("deploy/creds.env", &format!("aws_access_key_id = {key}\n"));
            r.commit("deploy creds");
        }
        let link = root.join(format!("r{i:02}"));
        std::os::unix::fs::symlink(&r.path, &link).unwrap();
        repos.push(r);
    }
    repos
}

/// JSONL lines without per-run timings, sorted.
fn lines(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            if let Some(o) = v.as_object_mut() {
                o.remove("elapsed_ms");
                o.remove("shard");
            }
            v.to_string()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn shards_merged_equal_one_unsharded_run_and_a_shared_secret_is_one_group() {
    let dir = tempfile::tempdir().unwrap();
    let key = aws_key();
    let _repos = org(dir.path(), 7, &[1, 4, 6], &key);
    let list = dir.path().join("org");
    let list = list.to_str().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();

    let all = kw(&["scan", "--repos", list, "-f", "jsonl"], &out);
    assert_eq!(
        all.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&all.stderr)
    );
    let mut shards = Vec::new();
    for i in 1..=3 {
        let file = format!("s{i}.jsonl");
        let shard = format!("{i}/3");
        let o = kw(
            &[
                "scan", "--repos", list, "--shard", &shard, "-f", "jsonl", "-o", &file,
            ],
            &out,
        );
        assert!(o.status.code() == Some(0) || o.status.code() == Some(1));
        shards.push(file);
    }
    // Merged in two orders: the same report, equal to the unsharded run.
    let mut args = vec!["report", "merge", "-f", "jsonl"];
    args.extend(shards.iter().map(String::as_str));
    let merged = kw(&args, &out);
    assert_eq!(merged.status.code(), Some(1));
    let mut rev = vec!["report", "merge", "-f", "jsonl"];
    rev.extend(shards.iter().rev().map(String::as_str));
    let merged_rev = kw(&rev, &out);
    assert_eq!(merged.stdout, merged_rev.stdout, "order-independent");
    let merged = String::from_utf8(merged.stdout).unwrap();
    assert_eq!(
        lines(&merged),
        lines(&String::from_utf8(all.stdout).unwrap())
    );

    let findings: Vec<Value> = merged
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("record").is_none())
        .collect();
    assert_eq!(findings.len(), 3);
    let names: Vec<&str> = findings
        .iter()
        .map(|f| f["repository"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["r01", "r04", "r06"]);

    let json = kw(
        &[
            "report", "merge", "-f", "json", &shards[0], &shards[1], &shards[2],
        ],
        &out,
    );
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    let groups = doc["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "one secret, one group");
    assert_eq!(groups[0]["repositories"], 3);
    let md = kw(
        &[
            "report", "merge", "-f", "markdown", &shards[0], &shards[1], &shards[2],
        ],
        &out,
    );
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(
        md.contains("in 3 repositories; first leaked in r01"),
        "{md}"
    );
    assert!(!md.contains(&key), "values are never printed");
    let sarif = kw(
        &[
            "report", "merge", "-f", "sarif", &shards[0], &shards[1], &shards[2],
        ],
        &out,
    );
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(
        sarif["runs"].as_array().unwrap().len(),
        7,
        "one run per repository"
    );
}

#[test]
fn a_broken_repository_is_a_counted_error_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let key = aws_key();
    let _repos = org(dir.path(), 2, &[1], &key);
    std::fs::create_dir(dir.path().join("org/r99-not-a-repo")).unwrap();
    let list = dir.path().join("org/list.txt");
    std::fs::write(&list, "# the org\nr00\nr01\nr99-not-a-repo\nmissing\n").unwrap();
    let o = kw(
        &["scan", "--repos", list.to_str().unwrap(), "-f", "jsonl"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(3), "incomplete, not clean");
    let text = String::from_utf8(o.stdout).unwrap();
    let recs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let rec = |name: &str| {
        recs.iter()
            .find(|r| r["record"] == "repository" && r["repository"] == name)
            .unwrap()
    };
    assert_eq!(rec("r01")["findings"], 1);
    assert_eq!(rec("r01")["complete"], true);
    assert_eq!(rec("r99-not-a-repo")["complete"], false);
    assert!(
        rec("missing")["errors"][0]
            .as_str()
            .unwrap()
            .contains("no such directory")
    );
    assert_eq!(recs.last().unwrap()["record"], "end");
    assert_eq!(recs.last().unwrap()["repositories"], 4);
}

#[test]
fn merge_refuses_a_truncated_shard_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let key = aws_key();
    let _repos = org(dir.path(), 3, &[0, 2], &key);
    let list = dir.path().join("org").to_str().unwrap().to_string();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    kw(
        &["scan", "--repos", &list, "-f", "jsonl", "-o", "full.jsonl"],
        &out,
    );
    let full = std::fs::read_to_string(out.join("full.jsonl")).unwrap();
    // Cut inside the second line, and at a line boundary before the end record.
    let cut = full.find('\n').unwrap() + 10;
    std::fs::write(out.join("cut.jsonl"), &full[..cut]).unwrap();
    let o = kw(&["report", "merge", "cut.jsonl"], &out);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cut.jsonl:2"), "{err}");
    let lines: Vec<&str> = full.lines().collect();
    std::fs::write(out.join("short.jsonl"), lines[..lines.len() - 1].join("\n")).unwrap();
    let o = kw(&["report", "merge", "short.jsonl", "full.jsonl"], &out);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("short.jsonl: no end record"));
    // The same repositories twice: shards cut from two lists.
    let o = kw(&["report", "merge", "full.jsonl", "full.jsonl"], &out);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn state_runs_read_only_new_commits_and_keep_what_left_every_ref() {
    let dir = tempfile::tempdir().unwrap();
    let key = aws_key();
    let mut repos = org(dir.path(), 3, &[1, 2], &key);
    let list = dir.path().join("org").to_str().unwrap().to_string();
    let state = dir.path().join("state.json");
    let st = state.to_str().unwrap();
    let run = || -> Vec<Value> {
        let o = kw(
            &["scan", "--repos", &list, "--state", st, "-f", "jsonl"],
            dir.path(),
        );
        String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let rec = |recs: &[Value], name: &str| -> Value {
        recs.iter()
            .find(|r| r["record"] == "repository" && r["repository"] == name)
            .cloned()
            .unwrap()
    };
    let first = run();
    assert_eq!(rec(&first, "r01")["commits"], 2);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let kept = &saved["repos"]["r01"]["findings"][0];
    assert_eq!(
        kept["key_id"],
        key.as_str(),
        "an access key id is an identifier"
    );
    assert_ne!(kept["secret"], key.as_str(), "values are kept redacted");

    repos[0].write("more.txt", "more\n");
    repos[0].commit("one new commit");
    let second = run();
    assert_eq!(rec(&second, "r00")["commits"], 1, "only the new commit");
    assert_eq!(rec(&second, "r00")["incremental"], true);
    assert_eq!(rec(&second, "r01")["commits"], 0);
    assert_eq!(
        rec(&second, "r01")["findings"],
        1,
        "kept from the first run"
    );

    // r02's leaking commit leaves every ref: read again in full, its finding kept and marked.
    repos[2].git(&["reset", "-q", "--hard", "HEAD~1"]);
    let third = run();
    assert_eq!(rec(&third, "r02")["incremental"], false);
    let f = third
        .iter()
        .find(|v| v.get("record").is_none() && v["repository"]["name"] == "r02")
        .unwrap();
    assert_eq!(f["history"]["unreachable"], true);
    assert_eq!(f["history"]["refs"], 0);
}

#[test]
fn plan_balances_shards_by_object_size_and_keeps_names() {
    let dir = tempfile::tempdir().unwrap();
    let key = aws_key();
    let mut repos = org(dir.path(), 5, &[], &key);
    // One heavy repository: many distinct blobs.
    for i in 0..40 {
        repos[3].write(&format!("data/{i}.txt"), &format!("{i}\n").repeat(2000 + i));
    }
    repos[3].commit("bulk");
    let list = dir.path().join("org").to_str().unwrap().to_string();
    let plan_dir = dir.path().join("plan");
    let o = kw(
        &[
            "repos",
            "plan",
            &list,
            "--shards",
            "2",
            "-o",
            plan_dir.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let one = std::fs::read_to_string(plan_dir.join("shard-1.txt")).unwrap();
    let names = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with('#'))
            .map(String::from)
            .collect()
    };
    assert_eq!(names(&one), ["r03"], "the heavy one alone");
    let two = std::fs::read_to_string(plan_dir.join("shard-2.txt")).unwrap();
    assert_eq!(names(&two), ["r00", "r01", "r02", "r04"]);
    // A planned shard list scans with the names the whole list gives.
    let o = kw(
        &[
            "scan",
            "--repos",
            plan_dir.join("shard-2.txt").to_str().unwrap(),
            "-f",
            "jsonl",
        ],
        dir.path(),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains(r#""repository":"r04""#), "{text}");
}

/// The keywarden command lines of a recipe: YAML list items and folded (`>-`) blocks joined
/// into one line each, shell arithmetic standing for a number.
fn recipe_commands(text: &str) -> Vec<Vec<String>> {
    let mut script = String::new();
    let mut folded: Option<(usize, String)> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some((at, acc)) = &mut folded {
            if indent > *at && !line.trim().is_empty() {
                acc.push(' ');
                acc.push_str(line.trim());
                continue;
            }
            script.push_str(acc);
            script.push('\n');
            folded = None;
        }
        let t = line.trim_start().trim_start_matches("- ");
        if t == ">-" || t.ends_with(": >-") {
            folded = Some((indent, String::new()));
            continue;
        }
        script.push_str(t);
        script.push('\n');
    }
    if let Some((_, acc)) = folded {
        script.push_str(&acc);
    }
    let script = script.replace("$((JOB_COMPLETION_INDEX + 1))", "1");
    crate::docs::invocations(&script)
}

#[test]
fn recipes_run_keywarden_as_documented() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let mut checked = 0;
    for (name, wants) in [
        (
            "github-actions.yml",
            &["matrix:", "shard-*", "report merge"][..],
        ),
        (
            "gitlab-ci.yml",
            &[
                "parallel:",
                "CI_NODE_INDEX",
                "CI_NODE_TOTAL",
                "report merge",
            ][..],
        ),
        (
            "k8s-indexed-job.yaml",
            &[
                "completionMode: Indexed",
                "JOB_COMPLETION_INDEX",
                "--state",
                "report merge",
            ][..],
        ),
        ("fanout.sh", &["--shard", "report merge"][..]),
    ] {
        let text = read(name);
        for w in wants {
            assert!(text.contains(w), "{name} lacks {w}");
        }
        // The local script runs the binary it is given as "$kw".
        let cmds = recipe_commands(&text.replace("\"$kw\"", "keywarden"));
        assert!(cmds.len() >= 2, "{name}: {cmds:?}");
        for mut args in cmds {
            checked += 1;
            // Shell variables stand for values of the right shape.
            for k in 1..args.len() {
                if args[k].contains('$') {
                    match args[k - 1].as_str() {
                        "--shard" => args[k] = "1/2".into(),
                        "--format" | "-f" => args[k] = "text".into(),
                        _ => {}
                    }
                }
            }
            if let Err(e) = <keywarden::cli::Cli as clap::Parser>::try_parse_from(&args) {
                panic!("{name}: `{}`: {e}", args.join(" "));
            }
        }
    }
    assert!(checked >= 8);
}

#[test]
fn the_local_fanout_equals_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let key = aws_key();
    let _repos = org(dir.path(), 6, &[0, 5], &key);
    let list = dir.path().join("org");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org/fanout.sh");
    let o = Command::new("bash")
        .arg(&script)
        .args([list.to_str().unwrap(), "3", "out", "jsonl"])
        .env("KEYWARDEN", env!("CARGO_BIN_EXE_keywarden"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "findings: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let merged = std::fs::read_to_string(dir.path().join("out/report.jsonl")).unwrap();
    let one = kw(
        &["scan", "--repos", list.to_str().unwrap(), "-f", "jsonl"],
        dir.path(),
    );
    assert_eq!(
        lines(&merged),
        lines(&String::from_utf8(one.stdout).unwrap())
    );
}

#[test]
fn the_html_report_loads_sorts_and_says_what_changed_in_a_headless_browser() {
    let dir = tempfile::tempdir().unwrap();
    let key = aws_key();
    let mut repos = org(dir.path(), 4, &[1, 2], &key);
    let list = dir.path().join("org");
    let list = list.to_str().unwrap();
    kw(
        &["scan", "--repos", list, "-f", "jsonl", "-o", "old.jsonl"],
        dir.path(),
    );
    // A new leak in one repository, one removed from the history of another.
    repos[0].write("app.env", &format!("aws_access_key_id = {}\n", aws_key()));
    repos[0].commit("new leak");
    repos[2].git(&["reset", "-q", "--hard", "HEAD~1"]);
    kw(
        &["scan", "--repos", list, "-f", "jsonl", "-o", "new.jsonl"],
        dir.path(),
    );
    let o = kw(
        &[
            "report",
            "merge",
            "new.jsonl",
            "--previous",
            "old.jsonl",
            "-f",
            "html",
            "-o",
            "report.html",
        ],
        dir.path(),
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("1 new, 1 still open, 1 gone."), "{html}");
    assert!(!html.contains(&key[4..]), "no value in the page");
    let md = kw(
        &[
            "report",
            "merge",
            "new.jsonl",
            "--previous",
            "old.jsonl",
            "-f",
            "markdown",
        ],
        dir.path(),
    );
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("- new: r00: app.env:1"), "{md}");
    assert!(md.contains("- gone: r02: deploy/creds.env:1"), "{md}");

    let Some(page) = load_in_chromium(&dir.path().join("report.html"), "selftest") else {
        return;
    };
    assert!(page.self_test_ok(), "self-test: {page:?}");
    assert!(
        page.dom.contains(r#"data-tables="4""#),
        "four sortable tables"
    );
}
