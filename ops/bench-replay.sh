#!/usr/bin/env bash
# Replay benchmark: generates a binary file of about 1,000,000 events and
# replays it on one core (taskset -c 0) with RocksDB state, printing events
# per second and peak memory for each run and the median of the runs (a
# shared machine varies from run to run). Then replays the same file under a
# rule set whose one rule matches no event: the fixed cost of an event
# (reading, checking, deduplicating and keeping it, its employee's clock, the
# facts of its stream), which no rule work can go below.
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

pin=""
command -v taskset > /dev/null && pin="taskset -c 0"

# replay_runs LABEL RULES: runs the replay $runs times; prints each run and the median.
replay_runs() {
  local label=$1 rules=$2
  : > "$work/runs"
  for run in $(seq "$runs"); do
    rm -rf "$work/state"
    /usr/bin/time -f "%e %M" -o "$work/time" $pin "$bin" replay --rules "$rules" \
      --events "$work/events.pb" --state "$work/state" --net > "$work/net.ndjson" 2> "$work/summary"
    read -r seconds peak_kb < "$work/time"
    read_events=$(grep -oE 'events read [0-9]+' "$work/summary" | grep -oE '[0-9]+$')
    if [ "$run" = 1 ]; then
      echo "$label:"
      tail -1 "$work/summary"
      echo "state on disk: $(du -sm "$work/state" | cut -f1) MiB; standing decisions: $(wc -l < "$work/net.ndjson")"
    fi
    awk -v r="$run" -v n="$read_events" -v s="$seconds" -v kb="$peak_kb" \
      'BEGIN { printf "run %d: %.2f s wall, %.0f events/s, peak RSS %.0f MiB\n", r, s, n / s, kb / 1024 }' |
      tee -a "$work/runs"
  done
  sort -t, -k2 -n "$work/runs" | awk -F'[ ,]+' -v label="$label" '{ rate[NR] = $6 } END {
    printf "%s, median of %d runs: %s events/s\n", label, NR, rate[int((NR + 1) / 2)] }'
}

echo "input: $(stat -c %s "$work/events.pb" | awk '{ printf "%d MB", $1 / 1000000 }') binary ($employees employees, $days days)"
replay_runs "replay" "$root/rules"

# The shipped sites, each with one pack whose one rule matches no event.
mkdir -p "$work/fixed-rules/packs"
sed -E 's/^( *)packs: \[.*\]/\1packs: [fixed-cost]/' "$root/rules/sites.yaml" > "$work/fixed-rules/sites.yaml"
cat > "$work/fixed-rules/packs/fixed-cost.yaml" <<'YAML'
pack: fixed-cost
title: A rule that matches no event, to measure what an event costs before any rule work
source: ops/bench-replay.sh
rules:
  - id: never
    title: Never matches
    clause: none
    effective_from: 2020-01-01
    stream: calls
    when: {rings_before_answer: {gt: 1000000}}
    window: none
    ladder:
      - {action: WARNING}
YAML
"$bin" rules check "$work/fixed-rules" > /dev/null
replay_runs "fixed cost (no rule matches)" "$work/fixed-rules"
