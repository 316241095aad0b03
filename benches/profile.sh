#!/usr/bin/env bash
# Where a tree scan's time goes: `perf record` of one scan per tree, its samples bucketed by
# symbol into the phases of the data flow. Prints one table row per tree (percent of samples).
#
# usage: benches/profile.sh [TREE...]
#   default trees: dependency sources (~/.cargo/registry/src), a generated project dense in
#   secrets (examples/corpus, 1,000 files), and this repository's rule files (every rule fires)
# Needs perf (linux-perf) and a release build with symbols (the release profile keeps them).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${KEYWARDEN:-${CARGO_TARGET_DIR:-$here/target}/release/keywarden}"
[ -x "$bin" ] || (cd "$here" && cargo build --release --quiet)
command -v perf >/dev/null || { echo "needs perf" >&2; exit 2; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
if [ "$#" -eq 0 ]; then
    (cd "$here" && cargo run --release --quiet --example corpus -- --files 1000 --out "$work/dense" >/dev/null)
    set -- "${CARGO_HOME:-$HOME/.cargo}/registry/src" "$work/dense" "$here/rules"
fi
printf '| tree | samples | kernel (I/O, faults) | walk+read | keyword pass | rule compile | confirm (regex) | decode | validators+filters | fingerprints | findings+report | alloc+copy | other |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for tree in "$@"; do
    perf record -q -F 2999 -o "$work/perf.data" \
        "$bin" scan "$tree" --no-config --no-progress --format json -o /dev/null >/dev/null 2>&1 || true
    perf report -i "$work/perf.data" --no-children --sort symbol --stdio 2>/dev/null |
        python3 "$here/benches/profile_buckets.py" "$(basename "$tree")"
done
