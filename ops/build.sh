#!/usr/bin/env bash
# Configures and builds demerit into build/ (two parallel jobs), on a
# librdkafka built from source by ops/librdkafka/build.sh (once).
# Extra arguments go to cmake, e.g. -DDEMERIT_SANITIZE=ON.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rdkafka=$(bash "$root/ops/librdkafka/build.sh" | tail -n 1)
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDEMERIT_LIBRDKAFKA_DIR="$rdkafka" "$@" >&2
cmake --build "$root/build" -j 2 >&2
