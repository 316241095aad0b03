//! Generates a labelled corpus, scans it with keywarden, and prints recall, precision and F1
//! per credential kind and family. With `--out DIR` the corpus (and `labels.jsonl`) is kept so
//! other scanners can be run on it; `--score FILE` scores another tool's findings given as
//! JSONL lines with `path` and `line` (and optional `end_line`, `rule_id`).
//!
//! cargo run --release --example corpus -- [--files N] [--seed S] [--out DIR] [--score FILE]

#[path = "../tests/it/corpus/mod.rs"]
mod corpus;

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let mut files = 2000usize;
    let mut seed = 7u64;
    let mut out: Option<PathBuf> = None;
    let mut score_file: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--files" => files = args.next().and_then(|v| v.parse().ok()).unwrap_or(files),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(seed),
            "--out" => out = args.next().map(PathBuf::from),
            "--score" => score_file = args.next().map(PathBuf::from),
            _ => {
                eprintln!("usage: corpus [--files N] [--seed S] [--out DIR] [--score FILE]");
                std::process::exit(2);
            }
        }
    }
    let c = corpus::generate(seed, files);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = out.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    for (path, text) in &c.files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let labels: String = c
        .planted
        .iter()
        .map(|p| {
            format!(
                "{{\"path\":{:?},\"line\":{},\"kind\":{:?},\"family\":{:?}}}\n",
                p.path, p.line, p.kind, p.family
            )
        })
        .collect();
    if out.is_some() {
        std::fs::write(dir.join("labels.jsonl"), labels).unwrap();
    }
    let findings_text = match &score_file {
        Some(f) => std::fs::read_to_string(f).expect("read findings"),
        None => {
            let bin = std::env::var("KEYWARDEN_BIN").unwrap_or_else(|_| {
                concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/keywarden").to_string()
            });
            let o = Command::new(bin)
                .args(["scan", ".", "--format", "jsonl", "--no-config"])
                .current_dir(&dir)
                .output()
                .expect("run keywarden (build it with cargo build --release)");
            String::from_utf8_lossy(&o.stdout).into_owned()
        }
    };
    let findings: Vec<(String, usize, usize, String)> = findings_text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["path"].as_str() != Some("labels.jsonl"))
        .map(|v| {
            let line = v["line"].as_u64().unwrap_or(0) as usize;
            (
                v["path"]
                    .as_str()
                    .unwrap_or("")
                    .trim_start_matches("./")
                    .to_string(),
                line,
                v["end_line"].as_u64().map_or(line, |x| x as usize),
                v["rule_id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let s = corpus::score(&c, &findings);
    println!("{:<28} {:>6} {:>7}", "kind", "found", "recall");
    for (k, (f, t)) in &s.per_kind {
        println!("{k:<28} {f:>3}/{t:<3} {:>6.3}", *f as f64 / *t as f64);
    }
    println!();
    println!("{:<28} {:>6} {:>7}", "family", "found", "recall");
    for (k, (f, t)) in &s.per_family {
        println!("{k:<28} {f:>3}/{t:<3} {:>6.3}", *f as f64 / *t as f64);
    }
    println!();
    for fp in s.false_positives.iter().take(40) {
        println!("false positive: {fp}");
    }
    println!(
        "files {} planted {} decoy lines {} | recall {:.3} precision {:.3} F1 {:.3}",
        c.files.len(),
        s.planted,
        c.decoy_lines,
        s.recall(),
        s.precision(),
        s.f1()
    );
}
