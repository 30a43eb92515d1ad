#!/usr/bin/env bash
# Benchmarks of `demerit process` against a real Kafka broker on 127.0.0.1
# (started and stopped here; every temporary directory is removed). Prints
# figures, never passes or fails on speed.
#   1. throughput with exactly-once: generated events are all produced first,
#      then one processor starts (then two in one group, on the same inputs);
#      the time from the start until `demerit lag --total` is 0, polled every
#      200 ms. A lag that goes down by fewer than 100 records in 30 s is
#      reported as a stall.
#   2. latency at a fixed rate: a processor on topics of its own is started
#      and caught up; tests/processor_bench latency then sends generated events
#      at 10,000/s for 30 s and times each decision from the send of its
#      triggering event to its receipt by a read_committed reader.
#   3. changelog restore: 1,000,000 state records written transactionally to a
#      changelog, then a processor with an empty state directory; the figures
#      come from its "partition N restored: ..." lines.
# Usage: ops/bench-processor.sh [--quick] [--perf] [--kafka KEY=VALUE]...
#                               [--commit-interval-ms N] [--build-dir DIR]
#   --quick      smaller sizes (about a minute)
#   --perf       profile the single processor of part 1 (perf record -e cpu-clock,
#                DWARF call graphs) and print where its main thread spends its time
#   --kafka K=V  a librdkafka property for every processor (the kafka: section of
#                its configuration), e.g. --kafka fetch.wait.max.ms=10
#   --commit-interval-ms N  the processors' commit_interval_ms (default 100)
# Needs build/services/cli/demerit and build/tests/processor_bench
# (ninja -C build demerit processor_bench, configured with -DDEMERIT_BENCHMARKS=ON).
# KEEP=1 keeps the work directory (logs, configurations) for inspection.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
quick=0
profile=0
extra_kafka=()
commit_ms=100
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --perf) profile=1 ;;
    --kafka) extra_kafka+=("$2"); shift ;;
    --commit-interval-ms) commit_ms=$2; shift ;;
    --build-dir) build=$2; shift ;;
    *) echo "usage: $0 [--quick] [--perf] [--kafka KEY=VALUE]... [--commit-interval-ms N] [--build-dir DIR]" >&2; exit 2 ;;
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
if [ "$profile" = 1 ] && ! command -v perf > /dev/null; then
  echo "--perf needs perf (Debian: linux-perf)" >&2
  exit 2
fi
rules="$root/rules"

if [ "$quick" = 1 ]; then
  employees=300; days=5; lat_duration=10; lat_employees=300; restore_records=100000
else
  employees=2000; days=10; lat_duration=30; lat_employees=2000; restore_records=1000000
fi
partitions=4
lat_rate=10000
stall_secs=30

work=$(mktemp -d /tmp/demerit-bench.XXXXXX)
kafka_dir="$work/kafka"
# Copies, so that a rebuild during the run does not change what is measured.
mkdir -p "$work/bin"
binary_note="demerit built $(date -u -r "$demerit" +%Y-%m-%dT%H:%M:%SZ)"
git_note="git $(git -C "$root" rev-parse --short HEAD 2> /dev/null || echo '?')$(git -C "$root" diff --quiet HEAD -- services 2> /dev/null || echo ' + uncommitted changes under services/') at the start"
cp "$demerit" "$bench" "$work/bin/"
demerit="$work/bin/demerit"
bench="$work/bin/processor_bench"
declare -A pids=()
perf_pid=""
cleanup() {
  [ -n "$perf_pid" ] && kill -INT "$perf_pid" 2> /dev/null
  for name in "${!pids[@]}"; do kill -9 "${pids[$name]}" 2> /dev/null || true; done
  bash "$root/ops/kafka/stop.sh" "$kafka_dir" > /dev/null 2>&1 || true
  if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
now() { date +%s.%N; }
secs_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s + 0 > 0) printf "%.0f", n / s; else print "n/a" }'; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
load_start=$(load_avg)

mkdir -p "$kafka_dir"
bootstrap=$(bash "$root/ops/kafka/start.sh" --data-dir "$kafka_dir" 2> "$work/broker-start.log" | tail -n 1)
if [ -z "$bootstrap" ]; then
  cat "$work/broker-start.log" >&2
  echo "could not start the Kafka broker" >&2
  exit 1
fi
log "broker at $bootstrap"

# write_config NAME APPLICATION_ID INPUT_PREFIX OUTPUT_PREFIX: $work/NAME.yaml,
# and its topics created. Topics are the default names with the prefixes.
write_config() {
  local name=$1 app=$2 in=$3 outp=$4
  {
    cat << YAML
bootstrap: $bootstrap
rules: $rules
application_id: $app
commit_interval_ms: $commit_ms
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
    for kv in "${extra_kafka[@]}"; do printf '  %s: "%s"\n' "${kv%%=*}" "${kv#*=}"; done
  } > "$work/$name.yaml"
  "$demerit" topics --config "$work/$name.yaml" --partitions "$partitions" > "$work/$name.topics" \
    || { cat "$work/$name.topics" >&2; exit 1; }
}

# start_processor NAME CONFIG: `demerit process` in the background, log in $work/NAME.log.
start_processor() {
  "$demerit" process --config "$work/$2.yaml" --state "$work/state-$1" --instance-id "$1" \
    --metrics-listen 127.0.0.1:0 >> "$work/$1.log" 2>&1 &
  pids[$1]=$!
}
stop_processor() {  # SIGTERM (finishes the open transaction), SIGKILL after 20 s
  local pid=${pids[$1]}
  kill -TERM "$pid" 2> /dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2> /dev/null; then
    log "$1 did not stop within 20 s of SIGTERM: SIGKILL"
    kill -9 "$pid" 2> /dev/null || true
  fi
  wait "$pid" 2> /dev/null || true
  unset "pids[$1]"
}
# metrics NAME: the processor's /metrics (its port is in its log).
metrics() {
  local port
  port=$(sed -n 's/.* on port \([0-9]*\) .*/\1/p' "$work/$1.log" | sed -n 1p)
  [ -n "$port" ] && curl -s --max-time 5 "http://127.0.0.1:$port/metrics" || true
}
metric() {  # metric TEXT NAME: the sample's value (first match; reads all, no SIGPIPE)
  printf '%s\n' "$1" | awk -v n="$2" '$1 == n && v == "" { v = $2 } END { print v }'
}

# wait_lag_zero CONFIG LIMIT LOGS...: polls the group's total lag every 200 ms
# until it is 0. Sets caught_secs (since $started; empty if not caught up),
# assigned_secs (when every LOG first showed "assigned partitions", i.e. the
# processors had joined and restored) and final_lag; stalled=1 when, once
# assigned, the lag went down by fewer than 100 records in $stall_secs.
wait_lag_zero() {
  local config=$1 limit=$2 lag="" window_lag="" window_start
  shift 2
  caught_secs=""; assigned_secs=""; stalled=0; final_lag=""
  window_start=$(now)
  while :; do
    if [ -z "$assigned_secs" ]; then
      local all=1
      for l in "$@"; do grep -q "assigned partitions: [0-9]" "$l" 2> /dev/null || all=0; done
      [ "$all" = 1 ] && assigned_secs=$(secs_since "$started")
    fi
    lag=$("$demerit" lag --config "$work/$config.yaml" --total 2> /dev/null | tail -n 1 || true)
    final_lag=$lag
    if [ "$lag" = "0" ]; then caught_secs=$(secs_since "$started"); return 0; fi
    if [ -z "$assigned_secs" ] || [ -z "$window_lag" ] || ! [[ $lag =~ ^[0-9]+$ ]]; then
      window_lag=${lag//[^0-9]/}; window_start=$(now)
    elif awk -v s="$(secs_since "$window_start")" -v l="$stall_secs" 'BEGIN { exit !(s > l) }'; then
      if [ $((window_lag - lag)) -lt 100 ]; then
        stalled=1
        log "stalled: lag went from $window_lag to $lag in ${stall_secs}s ($(secs_since "$started")s after the start)"
        return 1
      fi
      window_lag=$lag; window_start=$(now)
    fi
    if awk -v s="$(secs_since "$started")" -v l="$limit" 'BEGIN { exit !(s > l) }'; then
      log "still lagging after ${limit}s: $lag"
      return 1
    fi
    sleep 0.2
  done
}
# schedstat PID: "on-cpu-ns runqueue-wait-ns" of the process's main thread.
schedstat() { cut -d' ' -f1-2 "/proc/$1/task/$1/schedstat" 2> /dev/null || echo "0 0"; }

# ---------------------------------------------------------------- 1. throughput
write_config main demerit "" ""
"$demerit" gen --rules "$rules" --employees "$employees" --days "$days" --seed 21 --format pb \
  --out "$work/events.pb" 2> "$work/gen.log"
events=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { print $i; exit } }' "$work/gen.log")
t=$(now)
"$demerit" produce --config "$work/main.yaml" --events "$work/events.pb" 2> "$work/produce.log"
produce_secs=$(secs_since "$t")
log "produced $events events ($employees employees, $days days) to $partitions partitions in ${produce_secs}s"

started=$(now)
start_processor a main
if [ "$profile" = 1 ]; then
  perf record -e cpu-clock -F 299 --call-graph dwarf,32768 -o "$work/perf.data" -p "${pids[a]}" \
    > /dev/null 2> "$work/perf.err" &
  perf_pid=$!
fi
read -r cpu0 wait0 < <(schedstat "${pids[a]}")
wait_lag_zero main 1800 "$work/a.log" || true
read -r cpu1 wait1 < <(schedstat "${pids[a]}")
tp1_wall=$(secs_since "$started")
if [ -n "$perf_pid" ]; then kill -INT "$perf_pid" 2> /dev/null || true; wait "$perf_pid" 2> /dev/null || true; perf_pid=""; fi
m=$(metrics a)
tp1_txns=$(metric "$m" 'demerit_transactions_total{result="committed"}')
tp1_commit_sum=$(metric "$m" demerit_transaction_commit_seconds_sum)
tp1_eval_sum=$(metric "$m" demerit_rule_evaluation_seconds_sum)
tp1_thread=$(awk -v c="$((cpu1 - cpu0))" -v w="$((wait1 - wait0))" -v t="$tp1_wall" \
  'BEGIN { printf "main thread: %.0f%% on a CPU, %.0f%% runnable waiting for a CPU, %.0f%% blocked", 100*c/1e9/t, 100*w/1e9/t, 100 - 100*(c+w)/1e9/t }')
tp1_txn_note="${tp1_txns:-?} transactions committed, $(awk -v s="${tp1_commit_sum:-0}" 'BEGIN { printf "%.2f", s }') s in commit_transaction, $(awk -v s="${tp1_eval_sum:-0}" 'BEGIN { printf "%.2f", s }') s applying events (the processor's metrics)"
if [ -n "$caught_secs" ]; then
  tp1_secs=$caught_secs; tp1_assigned=$assigned_secs
  tp1_rate=$(rate "$events" "$tp1_secs")
  tp1_steady=$(rate "$events" "$(awk -v a="$tp1_secs" -v b="${tp1_assigned:-0}" 'BEGIN { print a - b }')")
  tp1_result="$tp1_rate events/s ($tp1_secs s)"
  log "1 processor: $events events, lag 0 after ${tp1_secs}s ($tp1_rate events/s; partitions assigned after ${tp1_assigned}s, $tp1_steady events/s after that)"
else
  tp1_assigned=$assigned_secs; tp1_steady="n/a"
  tp1_result="no: lag $final_lag of $events after $tp1_wall s$([ "$stalled" = 1 ] && echo ", stalled")"
fi
log "1 processor: $tp1_txn_note; $tp1_thread"
stop_processor a

# ---------------------------------------------------------------- 1b. two processors
# A second group on the same inputs, with outputs of its own (so that its
# restore reads an empty changelog).
write_config two demerit-two "" "two."
started=$(now)
start_processor b1 two
start_processor b2 two
wait_lag_zero two 1800 "$work/b1.log" "$work/b2.log" || true
if [ -n "$caught_secs" ]; then
  tp2_result="$(rate "$events" "$caught_secs") events/s ($caught_secs s)"
  log "2 processors: lag 0 after ${caught_secs}s (both assigned after ${assigned_secs}s)"
else
  tp2_result="no: lag $final_lag of $events after $(secs_since "$started") s$([ "$stalled" = 1 ] && echo ", stalled")"
fi
stop_processor b1
stop_processor b2

# ---------------------------------------------------------------- 2. latency
# A processor on topics of its own, caught up (nothing to read), then events at
# a fixed rate.
write_config lat demerit-lat "lat." "lat."
start_processor l lat
started=$(now)
wait_lag_zero lat 120 "$work/l.log" || true
while ! grep -q "assigned partitions: [0-9]" "$work/l.log"; do
  if awk -v s="$(secs_since "$started")" 'BEGIN { exit !(s > 120) }'; then break; fi
  sleep 0.2
done
log "latency: $lat_rate events/s for ${lat_duration}s"
m=$(metrics l)
lat_txn0=$(metric "$m" 'demerit_transactions_total{result="committed"}')
lat_commit0=$(metric "$m" demerit_transaction_commit_seconds_sum)
lat_t0=$(now)
"$bench" latency --bootstrap "$bootstrap" --rules "$rules" --rate "$lat_rate" \
  --duration "$lat_duration" --employees "$lat_employees" --start 2026-12-01 --tag "lat-" \
  --topic-prefix lat. > "$work/latency.out" 2> "$work/latency.err" || cat "$work/latency.err" >&2
grep -v '^RESULT' "$work/latency.out" >&2 || true
lat_line=$(grep '^RESULT latency' "$work/latency.out" || true)
field() { printf '%s\n' "$lat_line" | grep -oE "$1=[0-9.]+" | cut -d= -f2 || true; }
lat_p50=$(field p50); lat_p90=$(field p90); lat_p99=$(field p99); lat_max=$(field max)
lat_count=$(field count); lat_sent_rate=$(field rate)
lat_in=$(grep '^input: send to readable' "$work/latency.out" | grep -oE 'p50 +[0-9.]+|p99 +[0-9.]+' | tr -s ' ' | tr '\n' ' ' || true)
lat_lag=$("$demerit" lag --config "$work/lat.yaml" --total 2> /dev/null | tail -n 1 || true)
m=$(metrics l)
lat_txn_note=$(awk -v n0="${lat_txn0:-0}" -v n1="$(metric "$m" 'demerit_transactions_total{result="committed"}')" \
  -v c0="${lat_commit0:-0}" -v c1="$(metric "$m" demerit_transaction_commit_seconds_sum)" -v t="$(secs_since "$lat_t0")" \
  'BEGIN { n = n1 - n0; if (n > 0) printf "%d transactions in %.0f s (one every %.0f ms), commit_transaction %.1f ms on average", n, t, 1000 * t / n, 1000 * (c1 - c0) / n }')
log "latency: processor: ${lat_txn_note:-no metrics}"
log "latency: lag of the processor after the run: $lat_lag"
stop_processor l

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
echo "$git_note, $binary_note; load average $load_start at the start, $(load_avg) at the end"
echo "processor settings: commit_interval_ms $commit_ms$([ ${#extra_kafka[@]} -gt 0 ] && printf ', kafka %s' "${extra_kafka[*]}")"
printf '%-50s %-50s %s\n' "what" "measured" "target"
printf '%-50s %-50s %s\n' "----" "--------" "------"
printf '%-50s %-50s %s\n' "produce $events events (demerit produce)" "${produce_secs} s, $(rate "$events" "$produce_secs") events/s" ""
printf '%-50s %-50s %s\n' "EOS throughput, 1 processor, start to lag 0" "$tp1_result" ">= 100,000 events/s"
printf '%-50s %-50s %s\n' "  same, from partitions assigned (${tp1_assigned:-?} s)" "$tp1_steady events/s" ""
printf '%-50s %-50s %s\n' "EOS throughput, 2 processors in one group" "$tp2_result" ">= 100,000 events/s"
printf '%-50s %-50s %s\n' "send to committed decision at ${lat_sent_rate:-?}/s, p99" "${lat_p99:-n/a} ms (p50 ${lat_p50:-?}, p90 ${lat_p90:-?}, max ${lat_max:-?}; n=${lat_count:-0})" "< 250 ms"
printf '%-50s %-50s %s\n' "  send to event readable (input side only)" "${lat_in:-n/a}ms" ""
printf '%-50s %-50s %s\n' "restore $restore_n changelog records" "$restore_secs s, $restore_rate records/s" "1,000,000 in < 10 s"
printf '%-50s %-50s %s\n' "  processor start to partitions assigned" "${restore_wall:-n/a} s" ""
echo "1 processor: $tp1_txn_note; $tp1_thread."
echo "Latency run, processor: ${lat_txn_note:-no metrics}; its lag after the run: ${lat_lag:-?}."
echo "Latency: from the send of the triggering event (Producer::Produce, linger.ms 1; not its broker"
echo "append) to the decision's receipt by a read_committed reader, for issues made on the arrival"
echo "of an event of the run (decisions exist only for events that trigger a rule; timer rules, which"
echo "fire on a later event, are shown apart above). Restore seconds are the sum of the processor's"
echo "per-partition restore lines (partitions restore one after another)."
if [ "$profile" = 1 ] && [ -s "$work/perf.data" ]; then
  echo
  echo "perf, processor of part 1 (cpu-clock samples): share per thread"
  perf report -i "$work/perf.data" --no-children --sort comm --stdio -g none 2> /dev/null \
    | grep -E '^ +[0-9]' | head -8 || true
  echo "main thread, inclusive (children) share of all samples, >= 2%:"
  perf report -i "$work/perf.data" --children --comm demerit --sort sym --stdio -g none \
    --percent-limit 2 2> /dev/null | grep -E '^ +[0-9]' | grep -vE '_start|libc_start|main$|RunProcess|\(inlined\)' \
    | cut -c1-140 | head -45 || true
fi
