//! Engine throughput with every built-in rule on typical source text (this crate's own
//! sources and rule-free config text, repeated to a few MiB).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use keywarden::config::Allowlist;
use keywarden::engine::Engine;
use keywarden::pipeline::finding::Provenance;
use keywarden::pipeline::{ScanOptions, Scanner};
use std::hint::black_box;

fn sample() -> Vec<u8> {
    let mut text = Vec::new();
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut stack = vec![std::path::PathBuf::from(src)];
    while let Some(p) = stack.pop() {
        if let Ok(rd) = std::fs::read_dir(&p) {
            for e in rd.flatten() {
                let path = e.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|x| x == "rs" || x == "toml") {
                    text.extend(std::fs::read(&path).unwrap_or_default());
                }
            }
        }
    }
    text.extend_from_slice(include_bytes!("../Cargo.toml"));
    text.extend_from_slice(include_bytes!("../README.md"));
    let mut out = Vec::with_capacity(4 << 20);
    while out.len() < (4 << 20) {
        out.extend_from_slice(&text);
    }
    out
}

fn bench(c: &mut Criterion) {
    let data = sample();
    let engine = Engine::new(keywarden::rules::builtin().unwrap()).unwrap();
    let scanner = Scanner::new(engine, ScanOptions::default(), Allowlist::empty());
    let prov = Provenance::file("bench.rs");
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(20);
    g.bench_function("scan_blob_source_text", |b| {
        b.iter(|| black_box(scanner.scan_blob(black_box(&data), &prov)))
    });
    g.bench_function("engine_only_source_text", |b| {
        b.iter(|| black_box(scanner.engine.scan(black_box(&data))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
