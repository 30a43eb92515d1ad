#!/usr/bin/env bash
# Configures and builds demerit into build/ (two parallel jobs).
# Extra arguments go to cmake, e.g. -DDEMERIT_SANITIZE=ON.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >&2
cmake --build "$root/build" -j 2 >&2
