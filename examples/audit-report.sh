#!/usr/bin/env bash
# The kit's audit report: the test fixtures of every provider (inventories, audit logs, scan
# findings, access policies) audited twice, a month apart, the second time with --previous,
# written as the HTML page (report.html) and as JSON (report.json); and, given a file name, a
# screenshot of the page. The integration tests
# run this script and load its page in Chromium; docs/audit-report.png is made with
#
#   examples/audit-report.sh /tmp/kit docs/audit-report.png
#
# usage: examples/audit-report.sh OUTDIR [SCREENSHOT.png]
#   KEYWARDEN  the binary (default: keywarden); CHROMIUM  the browser (default: chromium)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
shot=""
if [ -n "${2:-}" ]; then
    shot="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
fi
kw="${KEYWARDEN:-keywarden}"
# From the fixtures directory, so the report names its inputs by their short paths.
cd "$root/tests/fixtures/audit"
inventory=(aws/list-secrets.json aws/describe-secret-v2.json aws/iam-keys.jsonl
    aws/credential-report.csv vault/kv-metadata.jsonl gcp/secrets.json gcp/versions.json
    azure/secrets.json azure/versions.json k8s/secrets.json generic/inventory.csv
    generic/inventory.json)
logs=(aws/cloudtrail.json vault/audit.log gcp/audit.json azure/audit.json)
policy_docs=(access/*)
# Exit 1 means failing results, not an error.
run() {
    "$kw" audit --policy policy.toml --inventory "${inventory[@]}" --log "${logs[@]}" \
        --policy-doc "${policy_docs[@]}" "$@" || [ $? -eq 1 ]
}
# Last month: the scan had not run yet, and an `az keyvault secret show` export (which
# carries values) was still among the inventories.
run --now 2026-10-01T00:00:00Z --inventory azure/secret-show.json \
    --format json --output "$out/last-month.json"
this_month=(--now 2026-11-01T00:00:00Z --findings findings/scan.json
    --previous "$out/last-month.json")
run "${this_month[@]}" --format html --output "$out/report.html"
# The same audit as JSON: what next month's run takes as --previous.
run "${this_month[@]}" --format json --output "$out/report.json"
if [ -n "$shot" ]; then
    profile="$(mktemp -d)"
    trap 'rm -rf "$profile"' EXIT
    "${CHROMIUM:-chromium}" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --user-data-dir="$profile" --window-size=1200,1600 \
        --screenshot="$shot" "file://$out/report.html" 2>/dev/null
fi
