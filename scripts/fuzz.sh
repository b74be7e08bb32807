#!/usr/bin/env bash
# Fuzzing: builds the libFuzzer targets of tests/fuzz with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in their own build directory (the main build stays GCC), runs each
# target for a bounded time starting from its committed seed corpus, prints the executions per
# target, and fails on any finding (crash, sanitizer report, broken property, timeout, leak,
# out-of-memory). A finding's input is kept under <build>/fuzz/<target>/artifacts/; replay it with
#   <build>/tests/fuzz/fuzz_<target> <file>
# Usage: scripts/fuzz.sh [seconds per target, default 60]
# Environment: FUZZ_BUILD_DIR (build-fuzz), FUZZ_TARGETS (space-separated subset of the targets).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${1:-60}"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [seconds per target]" >&2; exit 2; }
build="${FUZZ_BUILD_DIR:-build-fuzz}"
read -ra targets <<<"${FUZZ_TARGETS:-http_request json_body form jwt dotenv traceparent}"

# Longest input per target: past every limit the code enforces, no longer (longer inputs only
# slow the search down).
declare -A max_len=(
  [http_request]=24576  # past the 16 KiB header limit (431) and MAX_BODY_BYTES=4096 (413)
  [json_body]=8192      # nesting and long strings; the body size is the server's job
  [form]=4096           # 64 fields of a few bytes
  [jwt]=9000            # past JwtCodec::kMaxTokenBytes (8 KiB)
  [dotenv]=16384        # many lines; the 64 KiB line limit is a plain size check
  [traceparent]=256     # 55 characters, future versions, 128-character request ids
)

bash scripts/install-deps.sh build test
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DUSER_SERVICE_TESTS=OFF -DUSER_SERVICE_FUZZ=ON -DUSER_SERVICE_SANITIZE= >/dev/null
cmake --build "$build" --target fuzzers

# Per-input leak checks (libFuzzer's -detect_leaks) cost http_request half its speed and do
# not fit a server that frees a connection's memory on its own thread after the reply; leaks
# there are still found by LeakSanitizer when the fuzzer exits.
declare -A extra=([http_request]="-detect_leaks=0")

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

# Runs one target; its outcome goes to $work/result as "<status> <executions> <coverage>".
run_target() {
  local t="$1" work="$build/fuzz/$1" status=0
  # The corpus grows across runs (longer `make fuzz` runs build on earlier ones); findings don't.
  rm -rf "$work/artifacts" "$work/result"
  mkdir -p "$work/corpus" "$work/artifacts"
  local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="${max_len[$t]}"
              -print_final_stats=1 -artifact_prefix="$work/artifacts/")
  [ -f "tests/fuzz/$t.dict" ] && args+=(-dict="tests/fuzz/$t.dict")
  read -ra more <<<"${extra[$t]:-}"
  # New inputs go to the first (work) directory; the committed seeds are only read. The outer
  # timeout catches a harness that hangs outside libFuzzer's own per-input -timeout.
  timeout --kill-after=10 $((seconds + 120)) "$build/tests/fuzz/fuzz_$t" "${args[@]}" \
    "${more[@]}" "$work/corpus" "tests/fuzz/corpus/$t" >"$work/log" 2>&1 || status=$?
  local execs cov
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | cut -d' ' -f2)
  # A saved artifact is a finding even if the exit status missed it.
  if [ -n "$(ls -A "$work/artifacts")" ] && [ "$status" -eq 0 ]; then status=1; fi
  echo "$status ${execs:-?} ${cov:-?}" >"$work/result"
}

# Targets run side by side, one per core: each is a single-threaded fuzzing loop.
jobs="${FUZZ_JOBS:-$(nproc)}"
echo "== fuzzing ${targets[*]}: ${seconds} s each, ${jobs} at a time"
running=0
for t in "${targets[@]}"; do
  [ -n "${max_len[$t]:-}" ] || { echo "fuzz: unknown target '$t'" >&2; exit 2; }
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  run_target "$t" &
  running=$((running + 1))
done
wait

failed=()
echo "== fuzz summary (${seconds} s per target)"
for t in "${targets[@]}"; do
  read -r status execs cov <"$build/fuzz/$t/result" || { status=1 execs='?' cov='?'; }
  result=ok rate='?'
  [ "$execs" = '?' ] || rate=$((execs / seconds))
  if [ "$status" != 0 ] || [ "$execs" = '?' ]; then
    result=FAILED
    failed+=("$t")
  fi
  printf '%-14s %12s executions  %6s exec/s  cov %6s  %s\n' "$t" "$execs" "$rate" "$cov" "$result"
done
for t in "${failed[@]}"; do
  echo "== fuzz $t FAILED; the end of its log ($build/fuzz/$t/log), findings in $build/fuzz/$t/artifacts:"
  tail -n 60 "$build/fuzz/$t/log"
  ls -l "$build/fuzz/$t/artifacts"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in: ${failed[*]}"
  exit 1
fi
