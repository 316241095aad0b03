//! Accuracy on a generated labelled corpus: recall and precision must not drop below the
//! recorded floor. `cargo run --release --example corpus` runs the same at any scale.

use crate::corpus;

use std::process::Command;

#[test]
fn accuracy_floor_on_generated_corpus() {
    let c = corpus::generate(20261125, 250);
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in &c.files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .args(["scan", ".", "--format", "jsonl", "--no-config"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.code() == Some(1) || out.status.code() == Some(0));
    let findings: Vec<(String, usize, usize, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["path"].as_str().unwrap().to_string(),
                v["line"].as_u64().unwrap() as usize,
                v["end_line"].as_u64().unwrap() as usize,
                v["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let s = corpus::score(&c, &findings);
    for (k, (found, total)) in &s.per_kind {
        eprintln!("{k:<28} {found:>4}/{total:<4}");
    }
    for fp in s.false_positives.iter().take(30) {
        eprintln!("FP {fp}");
    }
    eprintln!(
        "planted {} found {} recall {:.3} precision {:.3} f1 {:.3}",
        s.planted,
        s.found,
        s.recall(),
        s.precision(),
        s.f1()
    );
    assert!(s.planted > 100, "corpus too small to mean anything");
    assert!(
        s.recall() >= RECALL_FLOOR,
        "recall {:.3} below {RECALL_FLOOR}",
        s.recall()
    );
    assert!(
        s.precision() >= PRECISION_FLOOR,
        "precision {:.3} below {PRECISION_FLOOR}",
        s.precision()
    );
}

/// Floors recorded from the current rule set, a little below the measured values.
const RECALL_FLOOR: f64 = 0.95;
const PRECISION_FLOOR: f64 = 0.98;
