//! Cost of a fingerprint per value, by how many new values are handed over at once (one per
//! call as in a blob with one finding; 16 and more as a scan's pending findings are).
//!
//! cargo run --release --example fingerprint_cost

use std::time::Instant;

fn main() {
    let mut k = 0u64;
    for round in 0..3 {
        for batch in [1usize, 2, 4, 8, 16, 64] {
            // New values each time: the memo would otherwise answer.
            let values: Vec<Vec<u8>> = (0..384)
                .map(|_| {
                    k += 1;
                    format!("value-{k:012}-for-timing-only").into_bytes()
                })
                .collect();
            let t = Instant::now();
            let mut n = 0;
            for c in values.chunks(batch) {
                let v: Vec<&[u8]> = c.iter().map(Vec::as_slice).collect();
                n += keywarden::pipeline::fingerprint::fingerprints(&v).len();
            }
            let us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
            print!("round {round} batch {batch}: {us:.1} us  ");
        }
        println!();
    }
}
