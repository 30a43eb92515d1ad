#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang 16 (AddressSanitizer and
# UndefinedBehaviorSanitizer) into build-fuzz/, then runs each for SECONDS on
# a copy of its seed corpus in a temporary directory (the tree stays clean).
# An input that fails is kept in build-fuzz/findings/TARGET/; add it to
# tests/fuzz/TARGET/ with the fix. Exits non-zero on a finding.
# Usage: ops/fuzz.sh [SECONDS [TARGET...]]   (default 60 s, every target)
#   DEMERIT_FUZZ_BUILD_ONLY=1 only builds. Extra libFuzzer flags in DEMERIT_FUZZ_FLAGS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(event_binary event_json rules config decision_log); fi

rdkafka=$(bash "$root/ops/librdkafka/build.sh" | tail -n 1)
build="$root/build-fuzz"
mkdir -p "$build"
CC=clang-16 CXX=clang++-16 cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDEMERIT_FUZZ=ON -DDEMERIT_BENCHMARKS=OFF -DDEMERIT_WERROR=ON \
  -DDEMERIT_LIBRDKAFKA_DIR="$rdkafka" > "$build/configure.log" 2>&1 \
  || { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j 2 --target fuzz >&2
if [ "${DEMERIT_FUZZ_BUILD_ONLY:-0}" = 1 ]; then exit 0; fi

# Stack traces with function names and lines.
export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-16/bin/llvm-symbolizer
export UBSAN_OPTIONS=print_stacktrace=1:external_symbolizer_path=$ASAN_SYMBOLIZER_PATH
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TMPDIR="$work"  # a target's own temporary files too, after a finding
passed=0 failed=0
for t in "${targets[@]}"; do
  if [ ! -x "$build/tests/fuzz/${t}_fuzz" ]; then
    echo "fuzz: no target $t (Hint: event_binary, event_json, rules, config, decision_log)" >&2
    exit 2
  fi
  mkdir -p "$work/$t" "$build/findings/$t"
  cp -r "$root/tests/fuzz/$t/." "$work/$t/"
  echo "fuzz $t: ${seconds} s" >&2
  # shellcheck disable=SC2086
  if "$build/tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -timeout=30 -print_final_stats=1 \
       -artifact_prefix="$build/findings/$t/" ${DEMERIT_FUZZ_FLAGS:-} "$work/$t" \
       > "$work/$t.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
    echo "fuzz $t: ${runs:-?} runs in ${seconds} s, no finding" >&2
    passed=$((passed + 1))
  else
    tail -n 60 "$work/$t.log" >&2
    echo "fuzz $t: FINDING, input kept in $build/findings/$t/" >&2
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
