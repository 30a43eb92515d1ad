#!/usr/bin/env bash
# What the operator's commands say about a cluster that is not as demerit
# wants it: lag against missing topics and for a group that never committed,
# topics whose replication factor is too low, tail of every kind of topic,
# and /readyz of an instance without partitions or without brokers.
. "$(dirname "$0")/lib.sh" "$@"
start_broker
write_config

# lag before the topics exist: exit 5, naming them.
"$DEMERIT" lag --bootstrap "$BOOTSTRAP" > "$WORK/lag0.out" 2> "$WORK/lag0.err"
code=$?
[ "$code" = 5 ] && grep -q "missing topics: attendance.punches, calls.events" "$WORK/lag0.err" \
  && pass "lag without topics: exit 5 naming them" \
  || { fail "lag without topics: exit $code"; cat "$WORK/lag0.out" "$WORK/lag0.err" >&2; }

"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 2 > "$WORK/topics.log" 2>&1 \
  || { fail "topics"; cat "$WORK/topics.log" >&2; }
# The broker is alone: every topic has one replica.
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 2 --replication 3 > "$WORK/topics3.log" 2>&1
code=$?
wrong=$(grep -c '^WRONG .*replication factor 1, expected at least 3' "$WORK/topics3.log")
[ "$code" = 5 ] && [ "$wrong" = 8 ] && pass "topics --replication 3: each of 8 topics reported" \
  || { fail "topics --replication 3: exit $code, $wrong reported"; cat "$WORK/topics3.log" >&2; }
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 2 > "$WORK/topics1.log" 2>&1 \
  && grep -q '^ok      demerit.changelog: 2 partitions, replication factor 1, compacted' "$WORK/topics1.log" \
  && pass "topics: ok with the replication factor" \
  || { fail "topics after creation"; cat "$WORK/topics1.log" >&2; }

"$DEMERIT" produce --bootstrap "$BOOTSTRAP" --events "$RULES/samples/events.ndjson" 2> "$WORK/produce.log" \
  || fail "produce"
# A group that never committed: its lag counts from the start, and it says so.
"$DEMERIT" lag --bootstrap "$BOOTSTRAP" > "$WORK/lag1.out" 2> "$WORK/lag1.err"
code=$?
total=$(tail -n 1 "$WORK/lag1.out")
[ "$code" = 0 ] && [ "$total" = 29 ] && grep -q "group demerit has committed no offsets" "$WORK/lag1.err" \
  && pass "lag of a group without offsets: the 29 events from the start, said so" \
  || { fail "lag of a group without offsets: exit $code, total $total"; cat "$WORK/lag1.out" "$WORK/lag1.err" >&2; }

# tail of an input topic: its events as NDJSON that replay reads.
"$DEMERIT" tail --bootstrap "$BOOTSTRAP" --topic attendance.punches --from-beginning --exit-at-end \
  > "$WORK/punches.ndjson" 2> "$WORK/punches.err"
code=$?
lines=$(grep -c '^{"attendance": *{' "$WORK/punches.ndjson")
[ "$code" = 0 ] && [ "$lines" = 13 ] && ! grep -qi 'protobuf\|not a decision' "$WORK/punches.err" \
  && pass "tail of an input topic: 13 events as NDJSON" \
  || { fail "tail of an input topic: exit $code, $lines events"; head -5 "$WORK/punches.ndjson" "$WORK/punches.err" >&2; }
"$DEMERIT" replay --rules "$RULES" --events "$WORK/punches.ndjson" -q > /dev/null 2> "$WORK/punches.replay" \
  && pass "replay reads what tail printed" || { fail "replay of tail's events"; cat "$WORK/punches.replay" >&2; }
# The changelog and topics that are not demerit's are refused, saying why.
"$DEMERIT" tail --bootstrap "$BOOTSTRAP" --topic demerit.changelog --from-beginning --exit-at-end \
  > "$WORK/changelog.out" 2> "$WORK/changelog.err"
code=$?
[ "$code" = 2 ] && [ ! -s "$WORK/changelog.out" ] && grep -q "demerit.changelog holds" "$WORK/changelog.err" \
  && pass "tail of the changelog: refused" \
  || { fail "tail of the changelog: exit $code"; head -5 "$WORK/changelog.out" "$WORK/changelog.err" >&2; }
"$DEMERIT" tail --bootstrap "$BOOTSTRAP" --topic some.other --exit-at-end > /dev/null 2> "$WORK/other.err"
code=$?
[ "$code" = 2 ] && grep -q "some.other is not one of demerit's topics" "$WORK/other.err" \
  && pass "tail of a topic not demerit's: refused" || { fail "tail some.other: exit $code"; cat "$WORK/other.err" >&2; }

# /readyz: three instances for two partitions; the one without a partition is not ready.
# The group's default session timeout (45 s), so that brokers gone do not
# show as partitions revoked first.
sed -i 's/session.timeout.ms: "6000"/session.timeout.ms: "45000"/; s/heartbeat.interval.ms: "1000"/heartbeat.interval.ms: "3000"/' \
  "$WORK/config.yaml"
for name in a b c; do start_processor "$name"; done
port_of() { grep -o 'metrics and health on port [0-9]*' "$WORK/$1.log" | grep -o '[0-9]*$'; }
ready() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(port_of "$1")/readyz"; }
assigned_of() {
  curl -s "http://127.0.0.1:$(port_of "$1")/metrics" | awk '/^demerit_assigned_partitions / {print $2}'
}
# Until each has had an assignment (its log says so) and the group is settled:
# two partitions given out, one instance with none.
idle=""
for _ in $(seq 1 240); do
  idle=""
  counts=""
  for name in a b c; do
    grep -q 'assigned partitions:' "$WORK/$name.log" 2> /dev/null || { counts=""; break; }
    n=$(assigned_of "$name")
    counts="$counts ${n:-?}"
    [ "$n" = 0 ] && idle=$name
  done
  sorted=$(echo $counts | tr ' ' '\n' | sort | tr '\n' ' ')
  [ "$sorted" = "0 1 1 " ] && break
  idle=""
  sleep 0.5
done
if [ -z "$idle" ]; then
  fail "no instance without a partition"
else
  busy=""
  for name in a b c; do [ "$name" != "$idle" ] && busy="$busy $name"; done
  codes=""
  for name in $busy; do codes="$codes $(ready "$name")"; done
  [ "$(ready "$idle")" = 503 ] && [ "$codes" = " 200 200" ] \
    && curl -sf "http://127.0.0.1:$(port_of "$idle")/healthz" > /dev/null \
    && pass "/readyz: 503 without a partition, 200 with; /healthz 200" \
    || fail "/readyz: $idle (no partition) $(ready "$idle"), the others$codes"
fi
# Without brokers: not ready (well before the group would revoke the
# partitions), still alive.
bash "$ROOT/ops/kafka/stop.sh" "$KAFKA_DIR" --keep > /dev/null 2>&1
name=${busy# }; name=${name%% *}
code=""
for _ in $(seq 1 60); do
  code=$(ready "$name")
  [ "$code" = 503 ] && break
  sleep 0.5
done
[ "$code" = 503 ] && curl -sf "http://127.0.0.1:$(port_of "$name")/healthz" > /dev/null \
  && pass "/readyz 503 without brokers, /healthz 200" || fail "/readyz without brokers: $code"
# The broker back on its port: ready again.
bash "$ROOT/ops/kafka/start.sh" --data-dir "$KAFKA_DIR" --port "${BOOTSTRAP##*:}" > /dev/null \
  2>> "$WORK/broker-start.log" || fail "broker restart"
for _ in $(seq 1 120); do
  code=$(ready "$name")
  [ "$code" = 200 ] && break
  sleep 0.5
done
[ "$code" = 200 ] && pass "/readyz 200 once the broker is back" || fail "/readyz after the broker came back: $code"
finish
