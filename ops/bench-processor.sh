#!/usr/bin/env bash
# Benchmarks of `demerit process` against a real Kafka broker on 127.0.0.1
# (started and stopped here; every temporary directory is removed). Prints
# figures, never passes or fails on speed.
#   1. throughput with exactly-once: generated events are all produced first,
#      then one processor (and then two in one group) starts; the time from its
#      start until `demerit lag --total` is 0 (polled every 200 ms).
#   2. latency at a fixed rate: with the processor running and caught up,
#      tests/processor_bench latency sends events at 10,000/s for 30 s and times
#      each decision from the send of its triggering event to its receipt by a
#      read_committed reader.
#   3. changelog restore: >= 1,000,000 state records in the changelog, then a
#      processor with an empty state directory; figures from its restore lines.
# Usage: ops/bench-processor.sh [--quick] [--perf] [--build-dir DIR]
#   --quick  smaller sizes (a minute or two)
#   --perf   also profile the single processor of part 1 with `perf record -g`
#            and print the top of the report
# Needs build/services/cli/demerit and build/tests/processor_bench
# (ninja -C build demerit processor_bench; DEMERIT_BENCHMARKS=ON).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
quick=0
profile=0
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --perf) profile=1 ;;
    --build-dir) build=$2; shift ;;
    *) echo "usage: $0 [--quick] [--perf] [--build-dir DIR]" >&2; exit 2 ;;
  esac
  shift
done
demerit="$build/services/cli/demerit"
bench="$build/tests/processor_bench"
for b in "$demerit" "$bench"; do
  if [ ! -x "$b" ]; then
    echo "missing $b (Hint: ninja -C $build demerit processor_bench, with -DDEMERIT_BENCHMARKS=ON)" >&2
    exit 2
  fi
done
rules="$root/rules"

if [ "$quick" = 1 ]; then
  employees=300; days=5; lat_duration=10; lat_employees=300; restore_records=100000
else
  employees=2000; days=10; lat_duration=30; lat_employees=2000; restore_records=1000000
fi
partitions=4
lat_rate=10000

work=$(mktemp -d /tmp/demerit-bench.XXXXXX)
kafka_dir="$work/kafka"
declare -A pids=()
cleanup() {
  for name in "${!pids[@]}"; do kill -9 "${pids[$name]}" 2> /dev/null || true; done
  bash "$root/ops/kafka/stop.sh" "$kafka_dir" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
now() { date +%s.%N; }
secs_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

mkdir -p "$kafka_dir"
bootstrap=$(bash "$root/ops/kafka/start.sh" --data-dir "$kafka_dir" 2> "$work/broker-start.log" | tail -n 1)
if [ -z "$bootstrap" ]; then
  cat "$work/broker-start.log" >&2
  echo "could not start the Kafka broker" >&2
  exit 1
fi
log "broker at $bootstrap"

# write_config NAME APPLICATION_ID TOPIC_PREFIX OUTPUT_PREFIX: $work/NAME.yaml.
# Inputs are "${TOPIC_PREFIX}<default>", outputs "${OUTPUT_PREFIX}<default>".
write_config() {
  local name=$1 app=$2 in=$3 outp=$4
  cat > "$work/$name.yaml" << YAML
bootstrap: $bootstrap
rules: $rules
application_id: $app
commit_interval_ms: 100
topics:
  attendance: ${in}attendance.punches
  calls: ${in}calls.events
  visits: ${in}visits.completions
  callbacks: ${in}callbacks.results
  observations: ${in}observations
  penalties: ${outp}demerit.penalties
  deadletter: ${outp}demerit.deadletter
  changelog: ${outp}demerit.changelog
kafka:
  session.timeout.ms: "6000"
  heartbeat.interval.ms: "1000"
  transaction.timeout.ms: "10000"
YAML
  "$demerit" topics --config "$work/$name.yaml" --partitions "$partitions" > "$work/$name.topics" \
    || { cat "$work/$name.topics" >&2; exit 1; }
}

# start_processor NAME CONFIG: `demerit process` in the background, log in $work/NAME.log.
start_processor() {
  "$demerit" process --config "$work/$2.yaml" --state "$work/state-$1" --instance-id "$1" \
    --metrics-listen 127.0.0.1:0 >> "$work/$1.log" 2>&1 &
  pids[$1]=$!
}
stop_processor() {  # SIGTERM: finishes the open transaction and exits
  kill -TERM "${pids[$1]}" 2> /dev/null || true
  wait "${pids[$1]}" 2> /dev/null || true
  unset "pids[$1]"
}

# wait_lag_zero CONFIG LIMIT LOGS...: polls the group's total lag every 200 ms
# until 0. Sets caught_secs (since $started) and assigned_secs (first time every
# LOG shows "assigned partitions", i.e. the processors joined and restored).
wait_lag_zero() {
  local config=$1 limit=$2 lag=""
  shift 2
  caught_secs=""; assigned_secs=""
  while :; do
    if [ -z "$assigned_secs" ]; then
      local all=1
      for l in "$@"; do grep -q "assigned partitions: [0-9]" "$l" 2> /dev/null || all=0; done
      [ "$all" = 1 ] && assigned_secs=$(secs_since "$started")
    fi
    lag=$("$demerit" lag --config "$work/$config.yaml" --total 2> /dev/null | tail -n 1 || true)
    if [ "$lag" = "0" ]; then caught_secs=$(secs_since "$started"); return 0; fi
    if awk -v s="$(secs_since "$started")" -v l="$limit" 'BEGIN { exit !(s > l) }'; then
      log "still lagging after ${limit}s: $lag"
      return 1
    fi
    sleep 0.2
  done
}

rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "n/a" }'; }

# ---------------------------------------------------------------- 1. throughput
write_config main demerit "" ""
"$demerit" gen --rules "$rules" --employees "$employees" --days "$days" --seed 21 --format pb \
  --out "$work/events.pb" 2> "$work/gen.log"
events=$(grep -oE '[0-9]+' "$work/gen.log" | head -1)
t=$(now)
"$demerit" produce --config "$work/main.yaml" --events "$work/events.pb" 2> "$work/produce.log"
produce_secs=$(secs_since "$t")
log "produced $events events ($employees employees, $days days) to $partitions partitions in ${produce_secs}s"

started=$(now)
start_processor a main
if [ "$profile" = 1 ]; then
  perf record -g -F 499 -o "$work/perf.data" -p "${pids[a]}" > /dev/null 2> "$work/perf.err" &
  perf_pid=$!
fi
wait_lag_zero main 1800 "$work/a.log" || true
tp1_secs=$caught_secs; tp1_assigned=$assigned_secs
if [ "$profile" = 1 ]; then kill -INT "$perf_pid" 2> /dev/null || true; wait "$perf_pid" 2> /dev/null || true; fi
if [ -n "$tp1_secs" ]; then
  tp1_rate=$(rate "$events" "$tp1_secs")
  tp1_steady=$(rate "$events" "$(awk -v a="$tp1_secs" -v b="$tp1_assigned" 'BEGIN { print a - b }')")
  log "1 processor: $events events, lag 0 after ${tp1_secs}s ($tp1_rate events/s; partitions assigned after ${tp1_assigned}s, $tp1_steady events/s after that)"
else
  tp1_rate="did not catch up"; tp1_steady="n/a"; tp1_secs="n/a"
fi

# ---------------------------------------------------------------- 2. latency
# Processor a is running and caught up.
log "latency: $lat_rate events/s for ${lat_duration}s"
"$bench" latency --bootstrap "$bootstrap" --rules "$rules" --rate "$lat_rate" \
  --duration "$lat_duration" --employees "$lat_employees" --start 2026-12-01 --tag "lat-" \
  > "$work/latency.out" 2> "$work/latency.err" || { cat "$work/latency.err" >&2; }
grep -v '^RESULT' "$work/latency.out" >&2 || true
lat_line=$(grep '^RESULT latency' "$work/latency.out" || true)
field() { printf '%s\n' "$lat_line" | grep -oE "$1=[0-9.]+" | cut -d= -f2 || true; }
lat_p50=$(field p50); lat_p90=$(field p90); lat_p99=$(field p99); lat_max=$(field max)
lat_count=$(field count); lat_sent_rate=$(field rate)
stop_processor a
# How the processor spent part 1 and 2: its own transaction and restore lines.
grep -c "aborting" "$work/a.log" > "$work/a.aborts" || true

# ---------------------------------------------------------------- 1b. two processors
# A second group on the same inputs, with its own outputs (so that its restore
# reads an empty changelog).
write_config two demerit-two "" "two."
started=$(now)
start_processor b1 two
start_processor b2 two
wait_lag_zero two 1800 "$work/b1.log" "$work/b2.log" || true
tp2_secs=$caught_secs; tp2_assigned=$assigned_secs
if [ -n "$tp2_secs" ]; then
  tp2_rate=$(rate "$events" "$tp2_secs")
  log "2 processors: lag 0 after ${tp2_secs}s ($tp2_rate events/s; both assigned after ${tp2_assigned}s)"
else
  tp2_rate="did not catch up"; tp2_secs="n/a"
fi
stop_processor b1
stop_processor b2

# ---------------------------------------------------------------- 3. restore
write_config restore demerit-restore "restore." "restore."
"$bench" changelog --bootstrap "$bootstrap" --topic restore.demerit.changelog \
  --records "$restore_records" > "$work/changelog.out" 2> "$work/changelog.err" \
  || { cat "$work/changelog.err" >&2; exit 1; }
cat "$work/changelog.out" >&2
started=$(now)
start_processor r restore
restore_wall=""
for _ in $(seq 1 3000); do
  if grep -q "assigned partitions: [0-9]" "$work/r.log"; then restore_wall=$(secs_since "$started"); break; fi
  if ! kill -0 "${pids[r]}" 2> /dev/null; then break; fi
  sleep 0.2
done
stop_processor r
grep "restored:" "$work/r.log" >&2 || true
read -r restore_n restore_secs < <(sed -n 's/.*restored: \([0-9]*\) changelog records.* in \([0-9.]*\) s$/\1 \2/p' \
  "$work/r.log" | awk '{ n += $1; s += $2 } END { printf "%d %.2f\n", n, s }')
restore_rate=$(rate "$restore_n" "$restore_secs")

# ---------------------------------------------------------------- summary
mode=full; [ "$quick" = 1 ] && mode=quick
echo
echo "demerit process benchmarks ($mode), $(nproc) cores, broker on the same machine, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "git $(git -C "$root" rev-parse --short HEAD 2> /dev/null)$(git -C "$root" diff --quiet 2> /dev/null || echo ' + uncommitted changes')"
printf '%-48s %-46s %s\n' "what" "measured" "target"
printf '%-48s %-46s %s\n' "----" "--------" "------"
printf '%-48s %-46s %s\n' "produce $events events (demerit produce)" "${produce_secs} s, $(rate "$events" "$produce_secs") events/s" ""
printf '%-48s %-46s %s\n' "EOS throughput, 1 processor, start to lag 0" "$tp1_rate events/s ($tp1_secs s)" ">= 100,000 events/s"
printf '%-48s %-46s %s\n' "  same, after partitions assigned (${tp1_assigned:-?} s)" "$tp1_steady events/s" ""
printf '%-48s %-46s %s\n' "EOS throughput, 2 processors, one group" "$tp2_rate events/s ($tp2_secs s)" ">= 100,000 events/s"
printf '%-48s %-46s %s\n' "send to committed decision at ${lat_sent_rate:-?}/s, p99" "${lat_p99:-n/a} ms (p50 ${lat_p50:-?}, p90 ${lat_p90:-?}, max ${lat_max:-?}; n=${lat_count:-0})" "< 250 ms"
printf '%-48s %-46s %s\n' "restore $restore_n changelog records" "$restore_secs s, $restore_rate records/s" "1,000,000 in < 10 s"
printf '%-48s %-46s %s\n' "  processor start to partitions assigned" "${restore_wall:-n/a} s" ""
echo "Latency: from the send of the triggering event (not its broker append) to the decision's"
echo "receipt by a read_committed reader; only issues triggered on arrival of an event of the run"
echo "(decisions exist only for events that trigger a rule). Restore seconds are the sum of the"
echo "processor's per-partition restore lines (partitions restore one after another)."
if [ "$profile" = 1 ] && [ -s "$work/perf.data" ]; then
  echo
  echo "perf (processor of part 1, self time, top entries):"
  perf report -i "$work/perf.data" --no-children --sort dso,symbol --stdio 2> /dev/null \
    | grep -E '^ +[0-9]' | head -40
fi
