#!/usr/bin/env bash
# Signing and verifying cost per token, one run, one machine (README "Signing and verifying
# cost"): JwtCodec issue/verify for HS256, EdDSA and ES256, and raw Ed25519 from libsodium and
# OpenSSL 3 (the measurement behind kit::security::SigningKey). One thread. Prints a table and
# writes bench/results/jwt-latest.json.
#
#   bash bench/jwt.sh               # BUILD_DIR=build
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

cmake --build "$BUILD_DIR" --target jwt-bench >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$BUILD_DIR/jwt-bench" >"$out"

python3 - "$out" <<'PY'
import json, sys, time
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
base = {r["operation"]: r["us_per_op"] for r in rows if r["candidate"] == "JwtCodec HS256"}
print(f"{'candidate':42} {'operation':12} {'us/op':>8} {'ops/s':>9} {'vs HS256':>9}")
for r in rows:
    op = {"sign": "issue"}.get(r["operation"], r["operation"])
    ratio = r["us_per_op"] / base[op] if op in base else float("nan")
    r["times_hs256"] = round(ratio, 2)
    print(f"{r['candidate']:42} {r['operation']:12} {r['us_per_op']:8.2f} {r['ops_per_second']:9.0f} {ratio:8.1f}x")
doc = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": rows}
with open("bench/results/jwt-latest.json", "w") as f:
    json.dump(doc, f, indent=1)
PY
