//! JSON (one document) and JSONL (one finding per line) output, schema `keywarden/scan/v1`.

use super::{SCHEMA, ScanReport, Summary, Suppressed};
use crate::pipeline::finding::Finding;
use serde::Serialize;

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    tool: Tool,
    scan_time: &'a str,
    findings: &'a [Finding],
    suppressed: &'a [Suppressed],
    summary: &'a Summary,
}

pub(crate) fn write(r: &ScanReport, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    let doc = Doc {
        schema: SCHEMA,
        tool: Tool {
            name: "keywarden",
            version: env!("CARGO_PKG_VERSION"),
        },
        scan_time: &r.scan_time,
        findings: r.findings,
        suppressed: r.suppressed,
        summary: r.summary,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}

pub(crate) fn write_lines(r: &ScanReport, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    for f in r.findings {
        serde_json::to_writer(&mut *out, f)?;
        writeln!(out)?;
    }
    Ok(())
}
