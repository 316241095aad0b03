#!/bin/sh
# Fuzzes every target for SECONDS each (default 600) and reports crashes.
#
#   fuzz/fuzz-all.sh [SECONDS] [TARGET...]
#
# Targets: engine, rules, decode, encrypted, keywords (the keyword table loader), and one per
# audit parser (the auditor's format table and `policy`; `audit:NAME` runs one, e.g.
# `audit:cloudtrail`). Each audit target's corpus,
# fuzz/corpus/audit-NAME, is seeded from the test fixtures of its format the first time.
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Exits 1 when a
# target crashed; the crashing input is under fuzz/artifacts/.
set -u
secs=${1:-600}
[ $# -gt 0 ] && shift
cd "$(dirname "$0")"

cargo +nightly fuzz build -O || exit 2
if [ $# -gt 0 ]; then
  targets="$*"
else
  audit=$(KEYWARDEN_FUZZ_TARGET=list cargo +nightly fuzz run -O audit 2>/dev/null) || exit 2
  targets="engine rules decode encrypted keywords $(printf '%s\n' "$audit" | sed 's/^/audit:/' | tr '\n' ' ')"
fi

failed=""
for t in $targets; do
  case $t in
    audit:*)
      name=${t#audit:}
      corpus=corpus/audit-$name
      artifacts=artifacts/audit-$name
      log=$artifacts.log
      mkdir -p "$corpus" "$artifacts"
      KEYWARDEN_FUZZ_TARGET=$name KEYWARDEN_FUZZ_CORPUS=$corpus \
        cargo +nightly fuzz run -O audit "$corpus" -- \
        -max_total_time="$secs" -artifact_prefix="$artifacts/" >"$log" 2>&1
      ;;
    *)
      log=artifacts/$t.log
      mkdir -p "artifacts/$t"
      cargo +nightly fuzz run -O "$t" -- -max_total_time="$secs" \
        -artifact_prefix="artifacts/$t/" >"$log" 2>&1
      ;;
  esac
  code=$?
  # libFuzzer's closing line: "Done N runs in S second(s)".
  done_line=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1)
  runs=$(echo "$done_line" | awk '{print $2}')
  took=$(echo "$done_line" | awk '{print $5}')
  rate="?"
  [ -n "$runs" ] && [ "${took:-0}" -gt 0 ] && rate=$((runs / took))
  if [ $code -eq 0 ]; then
    echo "ok     $t: ${runs:-?} inputs, $rate/s"
  else
    echo "CRASH  $t: exit $code, see $log"
    failed="$failed $t"
  fi
done
if [ -n "$failed" ]; then
  echo "crashed:$failed"
  exit 1
fi
