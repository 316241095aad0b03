#!/usr/bin/env bash
# Times `keywarden audit` over generated CloudTrail and Vault audit logs.
#
#   SIZE_MB=1024 benches/audit-bench.sh      # ~1 GB in total, half CloudTrail, half Vault
#
# Environment: SIZE_MB (default 1024), BENCH_DIR (default: a new temp dir, removed after),
# KEYWARDEN (default: target/release/keywarden, or $CARGO_TARGET_DIR/release/keywarden).
# The CloudTrail half is one `{"Records":[...]}` document per chunk file, concatenated
# (the shape S3 delivers, without the gzip); the Vault half is the audit device's JSON lines.
set -euo pipefail

SIZE_MB=${SIZE_MB:-1024}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${KEYWARDEN:-$TARGET/release/keywarden}
if [[ ! -x $BIN ]]; then
  echo "build first: cargo build --release (or set KEYWARDEN=path)" >&2
  exit 2
fi
if [[ -n ${BENCH_DIR:-} ]]; then
  DIR=$BENCH_DIR
  mkdir -p "$DIR"
else
  DIR=$(mktemp -d)
  trap 'rm -rf "$DIR"' EXIT
fi

python3 - "$DIR" <<'PY'
import json, sys, random
d = sys.argv[1]
random.seed(7)
names = [f"prod/app{i}/api-key" for i in range(200)]
arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
inv = {"SecretList": [{"ARN": arn + n + "-AbCdEf", "Name": n, "CreatedDate": 1767225600.0,
                       "LastChangedDate": 1767225600.0, "LastAccessedDate": 1793404800.0,
                       "SecretVersionsToStages": {"v": ["AWSCURRENT"]}} for n in names]}
json.dump(inv, open(f"{d}/list-secrets.json", "w"))
with open(f"{d}/kv.jsonl", "w") as f:
    for n in names:
        f.write(json.dumps({"path": "secret/" + n, "metadata": {"data": {"created_time": "2026-01-01T00:00:00Z",
                "current_version": 1, "versions": {"1": {"created_time": "2026-01-01T00:00:00Z", "deletion_time": "", "destroyed": False}}}}}) + "\n")
# ~8 MB chunks
recs = []
size = 0
i = 0
while size < 8_000_000:
    n = random.choice(names)
    denied = random.random() < 0.02
    r = {"eventVersion": "1.08",
         "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE%04d" % (i % 500),
                          "arn": "arn:aws:iam::123456789012:user/u%d" % (i % 500), "accountId": "123456789012",
                          "accessKeyId": "AKIAEXAMPLE%09d" % (i % 2000), "userName": "u%d" % (i % 500)},
         "eventTime": "2026-10-%02dT%02d:%02d:%02dZ" % (1 + i % 30, i % 24, i % 60, i % 59),
         "eventSource": "secretsmanager.amazonaws.com", "eventName": "GetSecretValue", "awsRegion": "us-east-1",
         "sourceIPAddress": "203.0.113.%d" % (i % 250), "userAgent": "aws-sdk-go-v2/1.30.0 os/linux lang/go#1.22",
         "requestParameters": {"secretId": arn + n + "-AbCdEf"}, "responseElements": None,
         "requestID": "%08x-0000-4000-8000-%012x" % (i, i), "eventID": "%08x-1111-4000-8000-%012x" % (i, i),
         "readOnly": True, "eventType": "AwsApiCall", "managementEvent": True,
         "recipientAccountId": "123456789012", "eventCategory": "Management",
         "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                        "clientProvidedHostHeader": "secretsmanager.us-east-1.amazonaws.com"}}
    if denied:
        r["errorCode"] = "AccessDenied"
        r["errorMessage"] = "User is not authorized to perform: secretsmanager:GetSecretValue on resource: " + n
    s = json.dumps(r, separators=(",", ":"))
    recs.append(s)
    size += len(s) + 1
    i += 1
with open(f"{d}/ct-chunk.json", "w") as f:
    f.write('{"Records":[' + ",\n".join(recs) + "]}\n")
size = 0
i = 0
with open(f"{d}/vault-chunk.log", "w") as f:
    while size < 8_000_000:
        n = random.choice(names)
        for typ in ("request", "response"):
            e = {"time": "2026-10-%02dT%02d:%02d:%02d.%06dZ" % (1 + i % 30, i % 24, i % 60, i % 59, i % 999999), "type": typ,
                 "auth": {"client_token": "hmac-sha256:" + "ab" * 32, "accessor": "hmac-sha256:" + "cd" * 32,
                          "display_name": "approle-%d" % (i % 300), "policies": ["default", "app"],
                          "token_policies": ["default", "app"], "policy_results": {"allowed": True},
                          "metadata": {"role_name": "app"}, "entity_id": "%08x-aaaa-bbbb-cccc-%012x" % (i % 300, i % 300),
                          "token_type": "service", "token_ttl": 3600},
                 "request": {"id": "%08x-2222-4000-8000-%012x" % (i, i), "client_id": "c%d" % (i % 300), "operation": "read",
                             "mount_point": "secret/", "mount_type": "kv", "mount_accessor": "kv_1234abcd",
                             "client_token": "hmac-sha256:" + "ab" * 32, "client_token_accessor": "hmac-sha256:" + "cd" * 32,
                             "namespace": {"id": "root"}, "path": "secret/data/" + n, "remote_address": "10.0.%d.%d" % (i % 250, i % 200),
                             "remote_port": 40000 + i % 20000}}
            if typ == "response":
                e["response"] = {"mount_point": "secret/", "mount_type": "kv", "mount_accessor": "kv_1234abcd",
                                 "data": {"data": {"password": "hmac-sha256:" + "ef" * 32}, "metadata": {"version": 1}}}
            s = json.dumps(e, separators=(",", ":"))
            f.write(s + "\n")
            size += len(s) + 1
        i += 1
PY

half=$(( SIZE_MB * 1024 * 1024 / 2 ))
fill() { # chunk target-bytes out
  local chunk=$1 want=$2 out=$3 csize
  csize=$(stat -c %s "$chunk")
  : > "$out"
  for (( n = 0; n * csize < want; n++ )); do cat "$chunk" >> "$out"; done
}
fill "$DIR/ct-chunk.json" "$half" "$DIR/cloudtrail.json"
fill "$DIR/vault-chunk.log" "$half" "$DIR/vault-audit.log"
total=$(( $(stat -c %s "$DIR/cloudtrail.json") + $(stat -c %s "$DIR/vault-audit.log") ))
echo "input: $(( total / 1024 / 1024 )) MiB (cloudtrail $(( $(stat -c %s "$DIR/cloudtrail.json") / 1024 / 1024 )) MiB, vault $(( $(stat -c %s "$DIR/vault-audit.log") / 1024 / 1024 )) MiB)"

start=$(date +%s.%N)
set +e
/usr/bin/time -v "$BIN" audit --now 2026-11-01T00:00:00Z \
  --inventory "$DIR/list-secrets.json" "$DIR/kv.jsonl" \
  --log "$DIR/cloudtrail.json" "$DIR/vault-audit.log" \
  --format json --output "$DIR/report.json" --fail-on none 2> "$DIR/time.txt"
code=$?
set -e
end=$(date +%s.%N)
secs=$(echo "$end - $start" | bc)
rss=$(grep -i "maximum resident" "$DIR/time.txt" | awk '{print $NF}')
echo "exit $code; ${secs}s; $(echo "scale=1; $total / 1048576 / $secs" | bc) MiB/s; max RSS ${rss:-?} KiB"
