"""Buckets `perf report --no-children --sort symbol --stdio` lines into scan phases.

Reads the report on stdin, prints one Markdown table row. The patterns follow the module
tree (docs/architecture.md) and are tried in order, the first match wins (so `engine::filters`
is counted as filters before `engine::` as confirmation); a symbol matching none is "other".
Columns are printed in the shell script's header order.
"""
import re
import sys

BUCKETS = [
    ("kernel (I/O, faults)", r"^\[k\]"),
    ("walk+read", r"ignore::|walkdir|std::fs|read_to_end|sys::fs|__libc_read|openat|statx|getdents|source::files|globset"),
    ("keyword pass", r"aho_corasick|engine::keywords|memchr::arch|memchr::memmem"),
    ("rule compile", r"thompson::compiler|regex_syntax|CompiledRule|Engine::new|rules::|build_keywords|toml|serde_json::de"),
    ("decode", r"pipeline::decode|base64|text_encoding"),
    ("validators+filters", r"engine::filters|validate|placeholder|entropy|pipeline::encrypted"),
    ("fingerprints", r"fingerprint|sha2|pbkdf2|hmac"),
    ("confirm (regex)", r"regex_automata|regex::|engine::screen|engine::lead|engine::.*confirm|engine::"),
    ("findings+report", r"pipeline::finding|LineCursor|redact|snippet|serde|report::|alloc::fmt|core::fmt|pipeline::"),
    ("alloc+copy", r"mi_|malloc|free|memmove|memcpy|memset|realloc|alloc::"),
]

rows = {name: 0.0 for name, _ in BUCKETS}
other = 0.0
samples = "?"
for line in sys.stdin:
    m = re.match(r"# Samples: (\S+)", line)
    if m:
        samples = m.group(1)
        continue
    m = re.match(r"\s*([\d.]+)%\s+(\[[.k]\])\s+(.*)", line)
    if not m:
        continue
    pct, sym = float(m.group(1)), m.group(2) + " " + m.group(3).strip()
    for name, pat in BUCKETS:
        if re.search(pat, sym):
            rows[name] += pct
            break
    else:
        other += pct
ORDER = ["kernel (I/O, faults)", "walk+read", "keyword pass", "rule compile", "confirm (regex)",
         "decode", "validators+filters", "fingerprints", "findings+report", "alloc+copy"]
cells = " | ".join(f"{rows[n]:.1f}%" for n in ORDER)
print(f"| {sys.argv[1]} | {samples} | {cells} | {other:.1f}% |")
