#!/usr/bin/env bash
# The second command of the README (and CI), in three stages, each named as it
# starts; a failure in any ends the script with its exit code.
#   1. Installs what is needed, builds build/ with warnings as errors and runs
#      the whole test suite (broker tests included).
#   2. Builds build-asan/ with AddressSanitizer and UndefinedBehaviorSanitizer
#      and runs the unit, property, corpus and CLI golden tests there (all but
#      the broker and operations tests); a sanitizer finding fails its test.
#   3. Builds the libFuzzer targets in build-fuzz/ and runs each for
#      DEMERIT_FUZZ_SECONDS (60) on a copy of its corpus (ops/fuzz.sh).
# The last lines sum the stages up, the whole suite's ctest line last.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz_seconds=${DEMERIT_FUZZ_SECONDS:-60}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
stage() { echo "==== $(date -u +%H:%M:%S) stage $*"; }

stage "1/3: build/, the whole test suite"
"$root/ops/install-deps.sh"
"$root/ops/build.sh" -DDEMERIT_WERROR=ON
(cd "$root/build" && ctest --output-on-failure -j 2 --timeout 1800) | tee "$logs/main"

stage "2/3: build-asan/, unit, property, corpus and CLI golden tests under ASan and UBSan"
rdkafka=$(bash "$root/ops/librdkafka/build.sh" | tail -n 1)
# Without -Werror: GCC warns falsely under the sanitizers (maybe-uninitialized
# in <regex>); build/ has checked the warnings.
cmake -S "$root" -B "$root/build-asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDEMERIT_SANITIZE=ON -DDEMERIT_BENCHMARKS=OFF -DDEMERIT_WERROR=OFF \
  -DDEMERIT_LIBRDKAFKA_DIR="$rdkafka" >&2
cmake --build "$root/build-asan" -j 2 >&2
(cd "$root/build-asan" &&
  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --output-on-failure -j 2 --timeout 1800 -LE 'integration|ops') | tee "$logs/asan"

stage "3/3: build-fuzz/, each fuzz target for ${fuzz_seconds} s"
bash "$root/ops/fuzz.sh" "$fuzz_seconds" | tee "$logs/fuzz"

stage "summary"
echo "build-asan/ under ASan and UBSan: $(grep 'tests passed' "$logs/asan")"
echo "build-fuzz/ for ${fuzz_seconds} s each: $(tail -n 1 "$logs/fuzz")"
echo "build/, the whole suite:"
grep 'tests passed' "$logs/main"
