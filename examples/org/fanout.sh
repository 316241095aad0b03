#!/usr/bin/env bash
# The organisation scan's fan-out on one machine: N shard processes over a repository list
# (a file of paths or a directory of clones), then the merge. What the CI recipes beside this
# file do across runners, run locally.
#
# usage: examples/org/fanout.sh LIST N OUTDIR [FORMAT]
#   FORMAT  of the merged report: text (default), markdown, json, jsonl or sarif
set -euo pipefail
list="$1"; n="$2"; out="$3"; format="${4:-text}"
kw="${KEYWARDEN:-keywarden}"
mkdir -p "$out"
pids=()
for i in $(seq 1 "$n"); do
    # Each shard uses a share of the cores; exit 1 (findings) is the merge's business.
    "$kw" scan --repos "$list" --shard "$i/$n" --threads 1 --format jsonl \
        -o "$out/shard-$i.jsonl" --allow-incomplete 2>"$out/shard-$i.log" &
    pids+=("$!")
done
for p in "${pids[@]}"; do
    wait "$p" || [ $? -eq 1 ]
done
shards=()
for i in $(seq 1 "$n"); do shards+=("$out/shard-$i.jsonl"); done
"$kw" report merge "${shards[@]}" --format "$format" -o "$out/report.$format"
