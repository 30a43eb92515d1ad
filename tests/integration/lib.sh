# Shared by the broker tests: a real Kafka broker, processors as child
# processes, and checks against `demerit replay`.
# Usage: . lib.sh DEMERIT_BINARY SOURCE_ROOT
set -u
DEMERIT=$1
ROOT=$2
RULES="$ROOT/rules"
WORK=$(mktemp -d /tmp/demerit-it.XXXXXX)
KAFKA_DIR="$WORK/kafka"
BOOTSTRAP=""
declare -A PROCESSORS=()
CLIENT_ARGS=()  # extra flags for the CLI's Kafka commands (e.g. --config with SASL settings)
FAILURES=0
PASSES=0

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

cleanup() {
  for name in "${!PROCESSORS[@]}"; do kill -9 "${PROCESSORS[$name]}" 2>/dev/null; done
  bash "$ROOT/ops/kafka/stop.sh" "$KAFKA_DIR" > /dev/null 2>&1
  if [ "$FAILURES" = 0 ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$WORK"; else log "kept $WORK for inspection"; fi
}
trap cleanup EXIT

pass() { PASSES=$((PASSES + 1)); log "ok: $*"; }
fail() { FAILURES=$((FAILURES + 1)); log "FAIL: $*"; }

start_broker() {
  mkdir -p "$KAFKA_DIR"
  BOOTSTRAP=$(bash "$ROOT/ops/kafka/start.sh" --data-dir "$KAFKA_DIR" "$@" 2> "$WORK/broker-start.log" | tail -n 1)
  if [ -z "$BOOTSTRAP" ]; then
    cat "$WORK/broker-start.log" >&2
    echo "could not start the Kafka broker" >&2
    exit 1
  fi
  log "broker at $BOOTSTRAP"
}

# A configuration with fast failure detection for tests.
write_config() {
  cat > "$WORK/config.yaml" <<YAML
bootstrap: $BOOTSTRAP
rules: $RULES
commit_interval_ms: 100
kafka:
  session.timeout.ms: "6000"
  heartbeat.interval.ms: "1000"
  transaction.timeout.ms: "30000"
YAML
}

# start_processor NAME [extra args]: runs `demerit process` in the background.
start_processor() {
  local name=$1
  shift
  "$DEMERIT" process --config "$WORK/config.yaml" --state "$WORK/state-$name" \
    --instance-id "$name" --metrics-listen 127.0.0.1:0 "$@" >> "$WORK/$name.log" 2>&1 &
  PROCESSORS[$name]=$!
}

kill_processor() {  # kill_processor NAME SIGNAL
  kill "-$2" "${PROCESSORS[$1]}" 2>/dev/null
  wait "${PROCESSORS[$1]}" 2>/dev/null
  local code=$?
  unset "PROCESSORS[$1]"
  return $code
}

# Waits until the group has consumed every input record (bounded).
wait_caught_up() {
  local limit=${1:-180} start=$SECONDS lag
  while [ $((SECONDS - start)) -lt "$limit" ]; do
    lag=$("$DEMERIT" lag --bootstrap "$BOOTSTRAP" "${CLIENT_ARGS[@]}" --total 2> /dev/null | tail -n 1)
    if [ "$lag" = "0" ]; then return 0; fi
    sleep 0.5
  done
  log "still lagging after ${limit}s: $lag"
  return 1
}

# committed_on [PARTITIONS]: the group has committed input offsets on one of
# PARTITIONS (space-separated numbers; any partition when none are given).
committed_on() {
  "$DEMERIT" lag --bootstrap "$BOOTSTRAP" "${CLIENT_ARGS[@]}" 2> /dev/null \
    | awk -v parts=" ${1:-} " '$3 == "committed" && $4 > 0 && (parts == "  " || index(parts, " " $2 " ")) { found = 1 }
                               END { exit !found }'
}

# check_against_replay EVENTS NAME: the committed decisions, reversals applied,
# equal `demerit replay` of the same events; no id issued twice without a reversal.
check_against_replay() {
  local events=$1 name=$2
  "$DEMERIT" tail --bootstrap "$BOOTSTRAP" "${CLIENT_ARGS[@]}" --from-beginning --exit-at-end \
    > "$WORK/$name.committed.ndjson" 2> "$WORK/$name.tail.log"
  "$DEMERIT" replay --rules "$RULES" --events "$events" -q > "$WORK/$name.replay.ndjson"
  if "$DEMERIT" audit diff --decisions "$WORK/$name.committed.ndjson" \
      --against "$WORK/$name.replay.ndjson" > "$WORK/$name.diff" 2>&1; then
    pass "$name: committed decisions equal the replay ($(tail -n 1 "$WORK/$name.diff"))"
  else
    fail "$name: committed decisions differ from the replay"
    head -30 "$WORK/$name.diff" >&2
  fi
}

finish() {
  echo "$(basename "$0" .sh): $PASSES passed, $FAILURES failed"
  [ "$FAILURES" = 0 ]
}
