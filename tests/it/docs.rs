//! The documentation's examples are run, so an example that breaks fails the suite:
//! - every `keywarden ...` command in a `sh` block of README.md and docs/*.md parses with the
//!   real command-line definition (a renamed or removed flag is caught);
//! - every `toml` block that is a project config loads (`rules list --config`), names only
//!   rule ids that exist, and does not flag itself when copied into a project;
//! - every `toml` block that is a rule file passes `rules check`;
//! - every `yaml` block parses.

use crate::common::*;
use clap::Parser;
use std::path::{Path, PathBuf};

struct Block {
    file: String,
    line: usize,
    lang: String,
    /// The rest of the info string: `schematic` marks a block that shows a format's fields
    /// with elided values, which is read but not run.
    info: String,
    text: String,
}

fn doc_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut v = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    v.extend(docs);
    v
}

fn blocks() -> Vec<Block> {
    let mut out = Vec::new();
    for f in doc_files() {
        let text = std::fs::read_to_string(&f).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let mut open: Option<Block> = None;
        for (i, l) in text.lines().enumerate() {
            let t = l.trim_start();
            if let Some(info) = t.strip_prefix("```") {
                match open.take() {
                    Some(b) => out.push(b),
                    None => {
                        open = Some(Block {
                            file: name.clone(),
                            line: i + 1,
                            lang: info.split_whitespace().next().unwrap_or("").to_string(),
                            info: info.to_string(),
                            text: String::new(),
                        })
                    }
                }
            } else if let Some(b) = open.as_mut() {
                b.text.push_str(l);
                b.text.push('\n');
            }
        }
    }
    out
}

/// Shell words of one command line: quotes honoured, `#` comments and `$VAR`s kept as words.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, '#') if cur.is_empty() => break,
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The keywarden invocations in a shell block: after a pipe, `cargo run ... --`, or at a line's
/// start, up to the next pipe, `&&`, `;` or redirection.
pub(crate) fn invocations(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut joined = String::new();
    for l in text.lines() {
        if let Some(s) = l.trim_end().strip_suffix('\\') {
            joined.push_str(s);
            continue;
        }
        joined.push_str(l);
        let line = std::mem::take(&mut joined);
        for part in line.split(['|', ';']).flat_map(|p| p.split("&&")) {
            // Elided arguments are not literal arguments; a command substitution stands for one.
            if part.contains('…') {
                continue;
            }
            let part = match part.split_once("$(") {
                Some((head, tail)) => {
                    format!(
                        "{head}SUBSTITUTED {}",
                        tail.split_once(')').map_or("", |x| x.1)
                    )
                }
                None => part.to_string(),
            };
            let w = words(&part);
            // The command word follows any `VAR=value` assignments; `keywarden` as an argument
            // (`cargo install ... keywarden`) is not an invocation.
            let cmd = w.iter().position(|x| !x.contains('=')).unwrap_or(w.len());
            let start = if w.get(cmd).is_some_and(|x| x == "keywarden") {
                cmd + 1
            } else if w.first().is_some_and(|x| x == "cargo")
                && w.get(1).is_some_and(|x| x == "run")
                && !w.iter().any(|x| x == "--example" || x == "--bin")
                && let Some(i) = w.iter().position(|x| x == "--")
            {
                i + 1
            } else {
                continue;
            };
            let mut args = vec!["keywarden".to_string()];
            for x in &w[start..] {
                if x.starts_with('>') || x == "<" || x.starts_with("2>") {
                    break;
                }
                args.push(x.clone());
            }
            out.push(args);
        }
    }
    out
}

#[test]
fn documented_commands_parse() {
    let mut checked = 0;
    let mut bad = Vec::new();
    for b in blocks()
        .iter()
        .filter(|b| b.lang == "sh" || b.lang == "bash")
    {
        for args in invocations(&b.text) {
            checked += 1;
            if let Err(e) = keywarden::cli::Cli::try_parse_from(&args) {
                let first = e.to_string().lines().next().unwrap_or("").to_string();
                bad.push(format!(
                    "{}:{}: `{}`: {first}",
                    b.file,
                    b.line,
                    args.join(" ")
                ));
            }
        }
    }
    assert!(checked >= 20, "only {checked} documented commands found");
    assert!(
        bad.is_empty(),
        "documented commands that do not parse:\n{}",
        bad.join("\n")
    );
}

#[test]
fn documented_configs_load_and_do_not_flag_themselves() {
    let mut checked = 0;
    for b in (blocks().iter()).filter(|b| b.lang == "toml" && !b.info.contains("schematic")) {
        let is_rule_file = b.text.trim_start().starts_with("[[rule]]");
        let is_policy = b.text.contains("[classes.") || b.text.contains("version = 1");
        if is_policy {
            continue;
        }
        checked += 1;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        if is_rule_file {
            std::fs::write(d.join("rules.toml"), &b.text).unwrap();
            let out = run(&["rules", "check", "rules.toml"], d);
            assert!(
                out.status.success(),
                "{}:{}: rule example fails `rules check`: {}",
                b.file,
                b.line,
                String::from_utf8_lossy(&out.stderr)
            );
            continue;
        }
        std::fs::write(d.join(".keywarden.toml"), &b.text).unwrap();
        let out = run(&["rules", "list"], d);
        assert!(
            out.status.success(),
            "{}:{}: config example does not load: {}",
            b.file,
            b.line,
            String::from_utf8_lossy(&out.stderr)
        );
        let out = run(&["scan", "."], d);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}:{}: config example flags itself when copied: {}{}",
            b.file,
            b.line,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(checked >= 1, "only {checked} config examples found");
}

#[test]
fn the_doc_harness_catches_a_broken_example() {
    let args = invocations("keywarden scan --no-such-flag .\n");
    assert!(keywarden::cli::Cli::try_parse_from(&args[0]).is_err());
    let args = invocations("cat f | keywarden scan - --format sarif > out.sarif\n");
    assert_eq!(args[0], ["keywarden", "scan", "-", "--format", "sarif"]);
    assert!(keywarden::cli::Cli::try_parse_from(&args[0]).is_ok());
}
