//! Accuracy on real-world leak shapes (issue 20, "measure it honestly"): one file per
//! credential-file or configuration format, generated at test time by `shapes`, scored per
//! labelled line and per file, with decoys (templates, placeholders, ciphertext) that must stay
//! quiet. Prints a per-format table (docs/benchmarks.md carries the current one).
//!
//! `KEYWARDEN_SHAPES_OUT=DIR` also writes the files and a `labels.json` there, to run other
//! tools on the same input; `KEYWARDEN_SHAPES_SEED=N` draws other values (the floors are
//! asserted for the default seed).

use crate::shapes::{self, Flag};
use std::process::Command;

#[test]
fn accuracy_floor_on_real_world_shapes() {
    let seed = std::env::var("KEYWARDEN_SHAPES_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261210);
    let files = shapes::generate(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut outs = vec![dir.path().to_path_buf()];
    if let Some(extra) = std::env::var_os("KEYWARDEN_SHAPES_OUT") {
        outs.push(extra.into());
    }
    for out in &outs {
        for f in &files {
            let p = out.join(&f.path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, &f.text).unwrap();
        }
    }
    if let Some(extra) = outs.get(1) {
        let labels: serde_json::Value = files
            .iter()
            .map(|f| {
                (
                    f.path.clone(),
                    serde_json::json!({"format": f.format, "lines": f.labelled}),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into();
        std::fs::write(extra.join("labels.json"), labels.to_string()).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .args(["scan", ".", "--format", "jsonl", "--no-config"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let flags: Vec<Flag> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Flag {
                path: v["path"].as_str().unwrap().to_string(),
                line: v["line"].as_u64().unwrap() as usize,
                end_line: v["end_line"].as_u64().unwrap() as usize,
                rule: v["rule_id"].as_str().unwrap().to_string(),
                confidence: v["confidence"].as_str().unwrap_or("").to_string(),
            }
        })
        .collect();
    let scores = shapes::score(&files, &flags);

    let (mut lines, mut found, mut files_pos, mut files_found, mut extra) = (0, 0, 0, 0, 0);
    eprintln!("| format | lines found | file | extra flagged lines |");
    eprintln!("|---|---|---|---|");
    for s in &scores {
        extra += s.extra.len();
        if s.decoy {
            eprintln!("| {} (decoy) | — | — | {} |", s.format, s.extra.len());
        } else {
            lines += s.lines;
            found += s.lines_found;
            files_pos += 1;
            let hit = s.lines_found > 0;
            files_found += usize::from(hit);
            eprintln!(
                "| {} | {}/{} | {} | {} |",
                s.format,
                s.lines_found,
                s.lines,
                if hit { "yes" } else { "**no**" },
                s.extra.len()
            );
        }
    }
    for s in &scores {
        for l in &s.missed {
            eprintln!("MISS {} line {l}", s.format);
        }
        for e in &s.extra {
            eprintln!("EXTRA {e}");
        }
    }
    let line_recall = found as f64 / lines.max(1) as f64;
    let file_recall = files_found as f64 / files_pos.max(1) as f64;
    eprintln!(
        "formats {files_pos} (+{} decoys), lines {found}/{lines} = {line_recall:.3}, files {files_found}/{files_pos} = {file_recall:.3}, extra flagged lines {extra}",
        scores.len() - files_pos
    );
    assert!(files_pos >= 40, "too few formats to mean anything");
    assert!(
        line_recall >= LINE_RECALL_FLOOR,
        "line recall {line_recall:.3} below {LINE_RECALL_FLOOR}"
    );
    assert!(
        file_recall >= FILE_RECALL_FLOOR,
        "file recall {file_recall:.3} below {FILE_RECALL_FLOOR}"
    );
    assert!(
        extra <= MAX_EXTRA_LINES,
        "{extra} flagged lines beyond the labelled ones (at most {MAX_EXTRA_LINES})"
    );
}

/// Floors a little below what the current rules reach (1.000 and 1.000 at this seed, at least
/// 0.985 and 0.984 at seeds 1 to 20); issue 20 asks at least 0.80 of the lines and 0.90 of the
/// files, with at most 4 flagged lines beyond the labelled ones.
const LINE_RECALL_FLOOR: f64 = 0.95;
const FILE_RECALL_FLOOR: f64 = 0.97;
const MAX_EXTRA_LINES: usize = 4;
