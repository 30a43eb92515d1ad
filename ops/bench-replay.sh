#!/usr/bin/env bash
# Replay benchmark: generates a binary file of about 1,000,000 events and
# replays it on one core (taskset -c 0) with RocksDB state, printing events
# per second and peak memory for each run and the median of the runs (a
# shared machine varies from run to run).
# Usage: ops/bench-replay.sh [EMPLOYEES] [DAYS] [RUNS]   (defaults 3000 40 3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/build/services/cli/demerit"
employees=${1:-3000}
days=${2:-40}
runs=${3:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" gen --rules "$root/rules" --employees "$employees" --days "$days" --seed 1 --format pb \
  --out "$work/events.pb"

size=$(stat -c %s "$work/events.pb")
pin=""
command -v taskset > /dev/null && pin="taskset -c 0"
for run in $(seq "$runs"); do
  rm -rf "$work/state"
  /usr/bin/time -f "%e %M" -o "$work/time" $pin "$bin" replay --rules "$root/rules" \
    --events "$work/events.pb" --state "$work/state" --net > "$work/net.ndjson" 2> "$work/summary"
  read -r seconds peak_kb < "$work/time"
  read_events=$(grep -oE 'events read [0-9]+' "$work/summary" | grep -oE '[0-9]+$')
  if [ "$run" = 1 ]; then
    echo "input: $read_events events, $((size / 1000000)) MB binary ($employees employees, $days days)"
    tail -1 "$work/summary"
    echo "state on disk: $(du -sm "$work/state" | cut -f1) MiB; standing decisions: $(wc -l < "$work/net.ndjson")"
  fi
  awk -v r="$run" -v n="$read_events" -v s="$seconds" -v kb="$peak_kb" \
    'BEGIN { printf "run %d: %.2f s wall, %.0f events/s, peak RSS %.0f MiB\n", r, s, n / s, kb / 1024 }' |
    tee -a "$work/runs"
done
sort -t, -k2 -n "$work/runs" | awk -F'[ ,]+' '{ rate[NR] = $6 } END {
  printf "replay, median of %d runs: %s events/s\n", NR, rate[int((NR + 1) / 2)] }'
