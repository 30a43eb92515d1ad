#!/usr/bin/env bash
# The sample events through a real broker give exactly the decisions of
# `demerit replay` on the same file; a clean SIGTERM exits 0.
. "$(dirname "$0")/lib.sh" "$@"
start_broker
write_config
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 3 > "$WORK/topics.log" 2>&1 \
  && pass "topics created" || { fail "topics"; cat "$WORK/topics.log" >&2; }
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 3 > "$WORK/topics2.log" 2>&1 \
  && grep -c '^ok ' "$WORK/topics2.log" | grep -q 8 && pass "topics idempotent" || fail "topics not idempotent"
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 5 > "$WORK/topics3.log" 2>&1
[ $? = 5 ] && grep -q "expected 5" "$WORK/topics3.log" && pass "topics reports a partition mismatch" \
  || fail "topics mismatch not reported"
"$DEMERIT" produce --bootstrap "$BOOTSTRAP" --events "$RULES/samples/events.ndjson" 2> "$WORK/produce.log" \
  && pass "produced the sample" || fail "produce"
start_processor a
wait_caught_up 60 && pass "caught up" || fail "did not catch up"
check_against_replay "$RULES/samples/events.ndjson" golden
# Metrics and health on the port the processor reports.
port=$(grep -o 'metrics and health on port [0-9]*' "$WORK/a.log" | grep -o '[0-9]*$')
curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && pass "/healthz 200" || fail "/healthz"
curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && pass "/readyz 200 once restored" || fail "/readyz"
curl -sf "http://127.0.0.1:$port/metrics" > "$WORK/metrics.txt" || fail "/metrics"
for m in demerit_events_consumed_total demerit_decisions_total demerit_fines_minor_total \
         demerit_transaction_commit_seconds_count demerit_rules_info demerit_punch_offset_seconds_bucket \
         demerit_event_time_lag_seconds_count demerit_state_restore_seconds demerit_build_info; do
  grep -q "^$m" "$WORK/metrics.txt" || { fail "metric $m missing"; continue; }
done
consumed=$(awk '/^demerit_events_consumed_total/ {s += $2} END {print s}' "$WORK/metrics.txt")
dups=$(awk '/^demerit_events_duplicate_total/ {s += $2} END {print s}' "$WORK/metrics.txt")
[ "$consumed" = 28 ] && [ "$dups" = 1 ] && pass "metrics count 28 applied and 1 duplicate" \
  || fail "metrics counted $consumed applied, $dups duplicates"
grep -E '^demerit_[a-z_]+\{[^}]*employee_id' "$WORK/metrics.txt" && fail "an employee label" || pass "no employee labels"
kill_processor a TERM
code=$?
[ "$code" = 0 ] && grep -q "stopped" "$WORK/a.log" && pass "SIGTERM: clean exit 0" \
  || fail "SIGTERM exit code $code"
"$DEMERIT" tail --bootstrap "$BOOTSTRAP" --topic demerit.deadletter --from-beginning --exit-at-end \
  > "$WORK/dead.ndjson" 2> /dev/null
[ ! -s "$WORK/dead.ndjson" ] && pass "no dead letters" || fail "unexpected dead letters"
# Unreachable brokers: exit 5 with a message naming the address.
"$DEMERIT" process --bootstrap 127.0.0.1:1 --rules "$RULES" --state "$WORK/state-y" \
  > "$WORK/y.log" 2>&1
code=$?
[ "$code" = 5 ] && grep -q "cannot reach the Kafka brokers" "$WORK/y.log" \
  && pass "unreachable brokers: exit 5 with a message" || { fail "unreachable brokers: exit $code"; cat "$WORK/y.log" >&2; }
finish
