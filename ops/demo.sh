#!/usr/bin/env bash
# The first command of the README: installs what is needed, builds, and
# replays the shipped sample events through the shipped policy. No broker.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/ops/install-deps.sh"
"$root/ops/build.sh"
echo >&2
echo "demerit replay --rules rules --events rules/samples/events.ndjson --net --format table" >&2
echo >&2
cd "$root"
exec build/services/cli/demerit replay --rules rules --events rules/samples/events.ndjson \
  --net --format table
