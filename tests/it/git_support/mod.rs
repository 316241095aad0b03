//! Builds git repositories with the `git` CLI at test time and runs `keywarden scan` on them.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

pub const AUTHOR: &str = "Alice Dev";
pub const EMAIL: &str = "alice@example.org";

/// A fake AWS access key id: `AKIA` and 16 characters of `A-Z2-7`, never a placeholder, and
/// a different one on every call. The n-th call in the process seeds the shared generator with
/// n, so every run makes the same keys in the same order and a failure can be replayed (which
/// test gets which key still depends on how the test threads are scheduled).
pub fn aws_key() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let mut rng = crate::corpus::Rng::new(SEQ.fetch_add(1, Ordering::Relaxed) + 1);
    loop {
        let key = format!("AKIA{}", rng.s(crate::corpus::UP32, 16));
        if !keywarden::engine::filters::placeholder::is_placeholder(key.as_bytes()) {
            return key;
        }
    }
}

pub struct Repo {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    tick: u64,
}

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        std::fs::create_dir(&path).unwrap();
        let r = Repo {
            _dir: dir,
            path,
            tick: 0,
        };
        r.git(&["init", "-q", "-b", "main"]);
        r.git(&["config", "user.name", AUTHOR]);
        r.git(&["config", "user.email", EMAIL]);
        r.git(&["config", "commit.gpgsign", "false"]);
        r
    }

    /// A sibling directory in the same temporary dir (for clones).
    pub fn sibling(&self, name: &str) -> PathBuf {
        self.path.parent().unwrap().join(name)
    }

    /// A `--depth 1` clone beside the repository, named `name`.
    pub fn shallow_clone(&self, name: &str) -> PathBuf {
        let url = format!("file://{}", self.path.display());
        git_in(
            self.path.parent().unwrap(),
            &["clone", "-q", "--depth", "1", &url, name],
        );
        self.sibling(name)
    }

    pub fn git(&self, args: &[&str]) -> String {
        git_in(&self.path, args)
    }

    pub fn write(&self, rel: &str, content: &str) {
        let p = self.path.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(p, content).unwrap();
    }

    /// The date used by the next commit: one day after the previous one.
    pub fn next_date(&mut self) -> String {
        self.tick += 1;
        format!("2021-03-{:02}T12:00:00+02:00", self.tick)
    }

    /// Stages everything and commits with a fixed date; returns the commit id.
    pub fn commit(&mut self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.commit_staged(msg)
    }

    pub fn commit_staged(&mut self, msg: &str) -> String {
        self.dated(&["commit", "-q", "--allow-empty", "-m", msg])
    }

    /// `git merge --no-ff BRANCH` with the next fixed date; returns the merge commit's id.
    pub fn merge(&mut self, branch: &str, msg: &str) -> String {
        self.dated(&["merge", "-q", "--no-ff", "-m", msg, branch])
    }

    /// A git command that writes a commit, dated the next fixed day; returns HEAD's id.
    fn dated(&mut self, args: &[&str]) -> String {
        let date = self.next_date();
        let out = Command::new("git")
            .args(args)
            .current_dir(&self.path)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }
}

pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_DATE", "2021-03-01T12:00:00+02:00")
        .env("GIT_COMMITTER_DATE", "2021-03-01T12:00:00+02:00")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub struct Run {
    pub code: i32,
    pub json: Value,
    pub stderr: String,
}

impl Run {
    pub fn findings(&self) -> &Vec<Value> {
        self.json["findings"].as_array().unwrap()
    }

    pub fn extra(&self, key: &str) -> u64 {
        self.json["summary"]["extra"][key].as_u64().unwrap_or(0)
    }

    pub fn notes(&self) -> Vec<String> {
        self.json["summary"]["notes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Findings whose secret is `key` (reports show it in full with --show-secrets).
    pub fn with_secret(&self, key: &str) -> Vec<&Value> {
        self.findings()
            .iter()
            .filter(|f| f["secret"].as_str() == Some(key))
            .collect()
    }
}

/// Runs `keywarden scan --format json --show-secrets --no-config ARGS` in `dir`.
pub fn scan(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .arg("scan")
        .args([
            "--format",
            "json",
            "--show-secrets",
            "--no-config",
            "--no-progress",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    Run {
        code: out.status.code().unwrap_or(-1),
        json,
        stderr,
    }
}
