//! Where scan time goes: the keyword automaton alone, the whole engine, and the most costly
//! rules (each run alone) over the files under a directory.
//!
//! cargo run --release --example rule_cost -- DIR [TOP]

use keywarden::engine::Engine;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| ".".into());
    let top: usize = args.next().and_then(|t| t.parse().ok()).unwrap_or(25);
    let mut blobs = Vec::new();
    let mut total = 0usize;
    for e in ignore::WalkBuilder::new(&dir).build().flatten() {
        if e.file_type().is_some_and(|t| t.is_file())
            && let Ok(d) = std::fs::read(e.path())
            && !keywarden::pipeline::is_binary(&d)
        {
            total += d.len();
            blobs.push(d);
        }
        if total > 64 << 20 {
            break;
        }
    }
    let rules = keywarden::rules::builtin().expect("rules");
    let t = Instant::now();
    let engine = Engine::new(rules.clone()).expect("engine");
    println!("compile {} rules: {:?}", rules.len(), t.elapsed());
    let t = Instant::now();
    let hits: usize = blobs.iter().map(|b| engine.keyword_hits(b)).sum();
    println!("keyword automaton alone: {:?}, {hits} hits", t.elapsed());
    let t = Instant::now();
    let mut n = 0;
    for b in &blobs {
        n += engine.scan(b).len();
    }
    let all = t.elapsed();
    println!(
        "all rules: {:?} for {:.1} MiB ({:.0} MiB/s, one core), {n} matches",
        all,
        total as f64 / 1048576.0,
        total as f64 / 1048576.0 / all.as_secs_f64()
    );
    let t = Instant::now();
    let (mut layers, mut bytes) = (0usize, 0usize);
    for b in &blobs {
        for l in keywarden::pipeline::decode::layers(b, 2) {
            layers += 1;
            bytes += l.decoded.len();
        }
    }
    println!(
        "decoding: {:?}, {layers} layers, {bytes} decoded bytes",
        t.elapsed()
    );
    if top == 0 {
        return;
    }
    let mut costs: Vec<(f64, String)> = rules
        .iter()
        .map(|r| {
            let e = Engine::new(vec![r.clone()]).expect("rule");
            let t = Instant::now();
            for b in &blobs {
                std::hint::black_box(e.scan(b));
            }
            (t.elapsed().as_secs_f64(), r.id.clone())
        })
        .collect();
    costs.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (s, id) in costs.iter().take(top) {
        println!("{:>8.1} ms  {id}", s * 1000.0);
    }
}
