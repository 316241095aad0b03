#!/usr/bin/env bash
# Organisation scan throughput and memory: N generated small repositories (one in ten leaks a
# shared key), optionally plus large real ones, scanned unsharded and as S shards merged.
# Prints repositories and GB per minute, peak memory, and whether the merge equals the
# unsharded run.
#
# usage: benches/org-bench.sh [N] [S] [EXTRA_REPO...]
set -euo pipefail
n="${1:-1000}"; s="${2:-16}"; shift 2 || true
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${KEYWARDEN:-${CARGO_TARGET_DIR:-$here/target}/release/keywarden}"
[ -x "$bin" ] || (cd "$here" && cargo build --release --quiet)
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir "$work/org"
key="AKIA$(head -c 64 /dev/urandom | base32 | tr -dc 'A-Z2-7' | head -c 16)"
for i in $(seq -w 1 "$n"); do
    r="$work/org/r$i"
    git init -q -b main "$r"
    for c in 1 2 3; do
        printf 'file %s commit %s\n' "$i" "$c" > "$r/f$c.txt"
        if [ "$c" = 2 ] && [ $((10#$i % 10)) = 0 ]; then
            printf 'aws_access_key_id = %s\n' "$key" > "$r/deploy.env"
        fi
        git -C "$r" add -A
        git -C "$r" -c user.name=b -c user.email=b@example.org commit -q -m "c$c"
    done
done
for extra in "$@"; do ln -s "$(cd "$extra" && pwd)" "$work/org/$(basename "$extra")"; done

/usr/bin/time -f "%e %M" -o "$work/one.time" \
    "$bin" scan --repos "$work/org" -f jsonl -o "$work/one.jsonl" 2>/dev/null || true
read -r secs kb < <(tail -n 1 "$work/one.time")
bytes="$(grep '"record":"repository"' "$work/one.jsonl" | sed -n 's/.*"bytes":\([0-9]*\).*/\1/p' | paste -sd+ | bc)"
repos="$(grep -c '"record":"repository"' "$work/one.jsonl")"
echo "unsharded: $repos repositories, $(awk -v b="$bytes" 'BEGIN{printf "%.2f", b/1e9}') GB of blobs in ${secs}s"
awk -v r="$repos" -v b="$bytes" -v t="$secs" 'BEGIN{printf "throughput: %.0f repositories/min, %.2f GB/min\n", r*60/t, b/1e9*60/t}'
echo "peak RSS: $((kb / 1024)) MiB"
start=$(date +%s.%N)
for i in $(seq 1 "$s"); do
    "$bin" scan --repos "$work/org" --shard "$i/$s" -f jsonl -o "$work/s$i.jsonl" --threads 1 2>/dev/null &
    if (( i % $(nproc) == 0 )); then wait || true; fi
done
wait || true
"$bin" report merge "$work"/s*.jsonl -f jsonl -o "$work/merged.jsonl" || true
end=$(date +%s.%N)
norm() { sed 's/"elapsed_ms":[0-9]*,\?//; s/,"shard":"[0-9/]*"//' "$1" | sort; }
if cmp -s <(norm "$work/one.jsonl") <(norm "$work/merged.jsonl"); then same=yes; else same=NO; fi
echo "$s shards ($(nproc) at a time) + merge: $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}')s; merged = unsharded: $same"
