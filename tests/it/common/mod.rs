//! Helpers shared by the integration tests: fake secrets generated at test time and a way to
//! run the binary.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub(crate) use crate::corpus::{self, Rng};

pub const UPPER_B32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

pub fn fake_aws_key_id(rng: &mut Rng) -> String {
    format!("AKIA{}", rng.s(UPPER_B32, 16))
}

/// Writes `rel` under `dir`, creating its directories.
pub fn write_file(dir: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// The sorted paths of a JSON report's findings.
pub fn finding_paths(out: &Output) -> Vec<String> {
    let mut v: Vec<String> = json(out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

/// The errors of validating `doc` against the JSON schema at `schema` (relative to the crate).
pub fn schema_errors(schema: &str, doc: &serde_json::Value) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(schema);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_keywarden")
}

pub fn run(args: &[&str], cwd: &Path) -> Output {
    Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .env_remove("KEYWARDEN_FINGERPRINT_KEY")
        .output()
        .expect("run keywarden")
}

pub fn run_stdin(args: &[&str], cwd: &Path, input: &[u8]) -> Output {
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn keywarden");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Debian's Chromium, which `.ci/run` installs; None where it is missing outside CI.
pub fn chromium() -> Option<std::path::PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have chromium (.ci/run installs it)"
        );
        eprintln!(
            "SKIPPED: no chromium on this machine; an HTML report was not loaded in a browser"
        );
    }
    found
}

/// A page as headless Chromium leaves it.
#[derive(Debug)]
pub struct BrowserPage {
    /// The DOM after the page's script ran.
    pub dom: String,
    /// What the page wrote to the console, script errors and refused resources included.
    pub console: Vec<String>,
    pub stderr: String,
}

impl BrowserPage {
    /// The pages' `#selftest` hook passed (tables sort by every header, no script error, no
    /// refused resource) and the console stayed silent: the pages never write to it.
    pub fn self_test_ok(&self) -> bool {
        self.dom.contains(r#"data-selftest="ok""#)
            && !self.dom.contains("data-errors")
            && self.console.is_empty()
    }

    /// The value of an attribute the self-test sets on `<body>`.
    pub fn body_attr(&self, name: &str) -> Option<String> {
        let body = &self.dom[self.dom.find("<body")?..];
        let body = &body[..body.find('>')?];
        let at = body.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(body[at..at + body[at..].find('"')?].to_string())
    }
}

/// Opens `page` at `#fragment` in Debian's headless Chromium (500 pixels wide, the narrowest
/// window it makes: the pages' phone layout) and returns the DOM and the console; None where
/// there is no Chromium outside CI.
pub fn load_in_chromium(page: &Path, fragment: &str) -> Option<BrowserPage> {
    let browser = chromium()?;
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=500,900",
            "--virtual-time-budget=3000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}#{fragment}", page.display()))
        .output()
        .expect("run chromium");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Some(BrowserPage {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        console: stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(str::to_string)
            .collect(),
        stderr,
    })
}
