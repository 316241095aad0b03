#!/usr/bin/env bash
# Issue-level speed figures from one run, each a ratio against a reference measured in the same
# run (so a slow or busy machine moves both): whole-process medians, start-up included.
#
#   benches/speed.sh [ROUNDS]            (default 7 rounds, alternating the two commands)
#
# Rows:
#   real code    `keywarden scan` of a real checkout / `rg -c -uu AKIA` of the same tree
#                (REAL=DIR, default: ansible/ansible's HEAD from ANSIBLE_GIT, else the
#                dependency sources under ~/.cargo/registry/src)
#   dense        the same on a project dense in secrets: the independent corpus generated with
#                DENSE_SEEDS seeds side by side (default 30: ~7,200 files, ~45 MB, 85 kinds,
#                about 7 CPU-seconds of Python per seed), or DENSE=DIR made before
#   threads      dense tree on one thread / on two (the speed-up from a second core)
#   pre-commit   `keywarden scan --staged` with three staged files, milliseconds
#   history      (HISTORY=1 and ANSIBLE_GIT=bare clone) `keywarden scan --git` /
#                `git cat-file --batch-all-objects --batch`, one run each, and peak RSS
# KEYWARDEN=another build to measure instead of target/release/keywarden.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
rounds=${1:-7}
bin="${KEYWARDEN:-$here/target/release/keywarden}"
if [ -z "${KEYWARDEN:-}" ]; then (cd "$here" && cargo build --release --quiet); fi
command -v rg >/dev/null || { echo "needs ripgrep (apt-get install ripgrep)" >&2; exit 2; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

real="${REAL:-}"
if [ -z "$real" ] && [ -n "${ANSIBLE_GIT:-}" ]; then
    real="$work/real"; mkdir -p "$real"
    git --git-dir="$ANSIBLE_GIT" archive HEAD | tar -x -C "$real"
fi
[ -n "$real" ] || real="${CARGO_HOME:-$HOME/.cargo}/registry/src"
dense="${DENSE:-}"
if [ -z "$dense" ]; then
    dense="$work/dense"; mkdir -p "$dense"
    seq 1 "${DENSE_SEEDS:-30}" | xargs -P "$(nproc)" -I{} sh -c \
        'SEED={} OUT="$1/{}" python3 "$2" >/dev/null && rm -f "$1/{}/labels.jsonl"' _ "$dense" "$here/benches/independent-corpus/gen.py"
fi

# Median wall time (seconds) of a command, run once per call.
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Alternates two commands for `rounds` rounds; prints "median-a median-b".
pair() {
    local a=() b=() i
    for ((i = 0; i < rounds; i++)); do
        a+=("$(eval "t $1")"); b+=("$(eval "t $2")")
    done
    echo "$(printf '%s\n' "${a[@]}" | median) $(printf '%s\n' "${b[@]}" | median)"
}
kw="$bin scan --no-config --no-progress --format json -o /dev/null"
row() { # name tree
    read -r k r < <(pair "$kw '$2'" "rg -c -uu AKIA '$2'")
    printf '| %s | %s MB, %s files | %.3f s | %.3f s | **%.2f×** |\n' "$1" \
        "$(du -sm "$2" | cut -f1)" "$(find "$2" -type f | wc -l)" "$k" "$r" "$(echo "$k / $r" | bc -l)"
}

echo "| tree | size | keywarden | rg -c -uu AKIA | ratio |"
echo "|---|---|---:|---:|---:|"
row "real code" "$real"
row "dense in secrets" "$dense"
read -r one two < <(pair "$kw --threads 1 '$dense'" "$kw --threads 2 '$dense'")
printf '| dense, 1 thread / 2 threads | | %.3f s | %.3f s | **%.2f× speed-up** |\n' "$one" "$two" "$(echo "$one / $two" | bc -l)"

repo="$work/pre"; mkdir -p "$repo"; git -C "$repo" init -q
for i in 1 2 3; do printf 'def f%s():\n    token = "not-a-real-token-%s"\n' "$i" "$i" >"$repo/m$i.py"; done
git -C "$repo" add .
ms=$(for ((i = 0; i < 21; i++)); do (cd "$repo" && t "$bin" scan --staged --no-progress); done | median)
printf '| pre-commit, 3 staged files | | %.1f ms | | |\n' "$(echo "$ms * 1000" | bc -l)"

if [ "${HISTORY:-0}" = 1 ] && [ -n "${ANSIBLE_GIT:-}" ]; then
    c=$(t git --git-dir="$ANSIBLE_GIT" cat-file --batch-all-objects --batch)
    k=$( { /usr/bin/time -f '%M' "$bin" scan --git "$ANSIBLE_GIT" --no-config --no-progress --format json -o /dev/null 2>"$work/rss" >/dev/null || true; } ; tail -1 "$work/rss")
    s=$(date +%s.%N); "$bin" scan --git "$ANSIBLE_GIT" --no-config --no-progress --format json -o /dev/null >/dev/null 2>&1 || true; e=$(date +%s.%N)
    printf '| history of %s | | %.1f s (peak %s MiB) | cat-file %.1f s | **%.2f×** |\n' \
        "$(basename "$ANSIBLE_GIT")" "$(echo "$e - $s" | bc -l)" "$((k / 1024))" "$c" "$(echo "($e - $s) / $c" | bc -l)"
fi
