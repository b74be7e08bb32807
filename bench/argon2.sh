#!/usr/bin/env bash
# argon2id implementations side by side, one run, one machine (README "Performance"): every C++
# candidate (bench/argon2/argon2_bench.cpp) and the @node-rs/argon2 reference, at the service's
# default cost (PASSWORD_HASH_MEMORY_KIB=19456, PASSWORD_HASH_ITERATIONS=2) unless overridden.
# Prints a table and writes bench/results/argon2-latest.json.
#
#   bash bench/argon2.sh            # BUILD_DIR=build, 30 single hashes, 5 s per throughput run
#   HASHES=10 SECONDS_PER_RUN=2 bash bench/argon2.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
MEMORY_KIB=${MEMORY_KIB:-19456}
ITERATIONS=${ITERATIONS:-2}
HASHES=${HASHES:-30}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
LOOPS=${LOOPS:-$(nproc)}

bash scripts/install-deps.sh build bench >/dev/null
cmake -S . -B "$BUILD_DIR" >/dev/null  # finds the bench's libraries if they were just installed
cmake --build "$BUILD_DIR" --target argon2-bench >/dev/null
[ -d bench/argon2/node_modules ] || npm ci --prefix bench/argon2 --no-audit --no-fund >/dev/null

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$BUILD_DIR/argon2-bench" --memory-kib "$MEMORY_KIB" --iterations "$ITERATIONS" \
  --hashes "$HASHES" --seconds "$SECONDS_PER_RUN" --loops "$LOOPS" >>"$out"
UV_THREADPOOL_SIZE=$LOOPS node bench/argon2/node_rs_argon2.mjs "$MEMORY_KIB" "$ITERATIONS" \
  "$HASHES" "$SECONDS_PER_RUN" "$LOOPS" >>"$out"

python3 - "$out" <<'PY'
import json, sys, time
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
ref = next(r for r in rows if r["candidate"].startswith("@node-rs"))
print(f"argon2id m={ref['memory_kib']} KiB t={ref['iterations']} p=1, {ref['loops']} loops")
print(f"{'candidate':52} {'ms/hash':>8} {'hashes/s':>9} {'vs ref':>7}")
for r in rows:
    ratio = r["hashes_per_second"] / ref["hashes_per_second"]
    r["ratio_to_reference"] = round(ratio, 3)
    print(f"{r['candidate']:52} {r['ms_per_hash']:8.2f} {r['hashes_per_second']:9.1f} {ratio:6.2f}x")
doc = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": rows}
with open("bench/results/argon2-latest.json", "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
PY
