//! Standard input as one blob.

use crate::pipeline::finding::{Finding, Provenance};
use crate::pipeline::{Scanner, Stats};
use std::io::Read;

/// Scans standard input as one blob named `name`; input over `max_file_size` is counted as
/// large and not scanned.
pub fn scan(scanner: &Scanner, name: &str) -> anyhow::Result<Vec<Finding>> {
    let mut data = Vec::new();
    std::io::stdin()
        .take(scanner.opts.max_file_size + 1)
        .read_to_end(&mut data)?;
    if data.len() as u64 > scanner.opts.max_file_size {
        Stats::add(&scanner.stats.skipped_large, 1);
        return Ok(Vec::new());
    }
    Ok(scanner.scan_blob(&data, &Provenance::file(name)))
}
