#![no_main]
//! The whole per-blob pipeline over arbitrary bytes, with every built-in rule.

use keywarden::config::Allowlist;
use keywarden::engine::Engine;
use keywarden::pipeline::finding::Provenance;
use keywarden::pipeline::{ScanOptions, Scanner};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| {
        let engine = Engine::new(keywarden::rules::builtin().unwrap()).unwrap();
        Scanner::new(engine, ScanOptions::default(), Allowlist::empty())
    })
}

fuzz_target!(|data: &[u8]| {
    let s = scanner();
    for f in s.scan_blob(data, &Provenance::file("fuzz")) {
        assert!(f.start_byte <= f.end_byte && f.end_byte <= data.len());
        assert!(f.line >= 1 && f.end_line >= f.line);
    }
});
