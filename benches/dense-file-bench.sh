#!/usr/bin/env bash
# One file dense in secrets: the per-finding path of one blob, which runs on one thread.
# Writes three ~1 MB files with 20,000 fake assignments each (a minified JSON line, an .env
# file, an XML document on one line) and times `keywarden scan` on each.
#   benches/dense-file-bench.sh [COUNT]   (KEYWARDEN=path to time another build)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
cargo build --release --quiet
bin=${KEYWARDEN:-target/release/keywarden}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk -v n="$n" -v dir="$dir" 'BEGIN {
  srand(7); al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  printf "{" > (dir "/min.json");
  for (i = 0; i < n; i++) {
    v = ""; for (j = 0; j < 24; j++) v = v substr(al, int(rand() * 62) + 1, 1);
    w = ""; for (j = 0; j < 32; j++) w = w substr(al, int(rand() * 62) + 1, 1);
    printf "%s\"svc%d_api_token\":\"%s\"", (i ? "," : ""), i, v > (dir "/min.json");
    printf "SVC%d_SECRET_KEY=\"%s\"\n", i, w > (dir "/lines.env");
    if (i % 2 == 0) printf "<secret>%s</secret>", v > (dir "/conf.xml");
    else printf "<token>%s</token>", v > (dir "/conf.xml");
  }
  printf "}" > (dir "/min.json");
}'
for f in min.json lines.env conf.xml; do
  s=$(date +%s.%N)
  found=$("$bin" scan "$dir/$f" --no-config --format jsonl --no-progress 2>/dev/null | wc -l || true)
  e=$(date +%s.%N)
  printf '%-10s %8d bytes %6d findings %6.2fs\n' "$f" "$(wc -c <"$dir/$f")" "$found" "$(echo "$e - $s" | bc -l)"
done
