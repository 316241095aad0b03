#!/usr/bin/env bash
# History scan against the floor: inflating every object once with `git cat-file` (one core),
# both timed in the same run with /usr/bin/time -v. Prints times, the ratio and peak memory.
#
# usage: benches/git-bench.sh [REPO] [KEYWARDEN]
#   REPO       a git repository (work tree or bare); default: a bare clone of a local
#              mirror of ansible/ansible if one exists, else this repository
#   KEYWARDEN  the binary; default: target/release/keywarden (built if missing)
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
repo="${1:-}"
bin="${2:-}"
target="${CARGO_TARGET_DIR:-$here/target}"

if [ -z "$bin" ]; then
    bin="$target/release/keywarden"
    [ -x "$bin" ] || (cd "$here" && cargo build --release --quiet)
fi
if [ -z "$repo" ]; then
    for cand in /work/.mirror/ansible+ansible/repo "$HOME/src/ansible"; do
        if [ -d "$cand" ]; then
            # Only what a normal clone has (branches and tags), packed as git packs it.
            repo="${TMPDIR:-/tmp}/keywarden-bench-ansible.git"
            [ -d "$repo" ] || git clone --quiet --bare "file://$cand" "$repo"
            break
        fi
    done
    repo="${repo:-$here}"
fi
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (GNU time)" >&2; exit 2; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

field() { # field FILE NAME
    sed -n "s/^[[:space:]]*$2: //p" "$1"
}
seconds() { # m:ss.cc or h:mm:ss -> seconds
    awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }' <<<"$1"
}

echo "repo:      $repo"
echo "keywarden: $bin"
echo "cores:     $(nproc)"
objects="$(git -C "$repo" count-objects -v | awk '/^(count|in-pack):/ { n += $2 } END { print n }')"
echo "objects:   $objects"

# Warm the page cache so neither run pays for the first read of the pack.
cat "$(git -C "$repo" rev-parse --git-path objects)"/pack/*.pack >/dev/null 2>&1 || true

/usr/bin/time -v -o "$out/cat.time" \
    git -C "$repo" cat-file --batch-all-objects --batch >/dev/null
set +e
/usr/bin/time -v -o "$out/kw.time" \
    "$bin" scan --git --no-config --no-progress --format json --output "$out/report.json" "$repo"
code=$?
set -e
if [ "$code" -gt 1 ]; then
    echo "keywarden failed with exit code $code" >&2
    exit "$code"
fi

cat_s="$(seconds "$(field "$out/cat.time" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')")"
kw_s="$(seconds "$(field "$out/kw.time" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')")"
cat_rss="$(field "$out/cat.time" 'Maximum resident set size (kbytes)')"
kw_rss="$(field "$out/kw.time" 'Maximum resident set size (kbytes)')"
cpu() { # user + system seconds
    awk '{ s += $1 } END { print s }' <<<"$(field "$1" 'User time (seconds)')
$(field "$1" 'System time (seconds)')"
}
kw_cpu="$(cpu "$out/kw.time")"
cat_cpu="$(cpu "$out/cat.time")"

python3 - "$out/report.json" <<'PY' || true
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
e = s.get("extra", {})
print("scanned:   %s commits, %s blobs (%s occurrences), %.2f GB, %s findings" % (
    e.get("commits"), e.get("blobs"), e.get("blob_occurrences"),
    s.get("bytes_scanned", 0) / 1e9, s.get("findings")))
PY
echo
printf '%-24s %9s %9s %12s\n' "" "wall (s)" "CPU (s)" "peak RSS"
printf '%-24s %9.2f %9.2f %8d MiB\n' "git cat-file (floor)" "$cat_s" "$cat_cpu" "$((cat_rss / 1024))"
printf '%-24s %9.2f %9.2f %8d MiB\n' "keywarden scan --git" "$kw_s" "$kw_cpu" "$((kw_rss / 1024))"
echo
awk -v k="$kw_s" -v c="$cat_s" \
    'BEGIN { printf "ratio keywarden/cat-file (wall): %.2fx\n", k / c }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews wall times)"
