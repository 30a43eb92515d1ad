#!/usr/bin/env bash
# The second command of the README (and CI): installs what is needed, builds
# with warnings as errors, and runs the whole test suite.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/ops/install-deps.sh"
"$root/ops/build.sh" -DDEMERIT_WERROR=ON
cd "$root/build"
ctest --output-on-failure -j 2 --timeout 1800
