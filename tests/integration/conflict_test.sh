#!/usr/bin/env bash
# Conflicting input through a real broker: a second record of an event_id with
# other content, two corrections of one punch and a correction of another
# stream are dead-lettered (the earlier record of each conflict too, late), and
# the committed decisions, reversals applied, equal `demerit replay` of the
# same file, whatever order the processor saw the input topics in.
. "$(dirname "$0")/lib.sh" "$@"
events="$ROOT/tests/e2e/fixtures/conflicts.ndjson"
start_broker
write_config
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 2 > "$WORK/topics.log" 2>&1 \
  && pass "topics created" || { fail "topics"; cat "$WORK/topics.log" >&2; }
"$DEMERIT" produce --bootstrap "$BOOTSTRAP" --events "$events" 2> "$WORK/produce.log" \
  && pass "produced the conflicts" || fail "produce"
start_processor a
wait_caught_up 60 && pass "caught up" || fail "did not catch up"
check_against_replay "$events" conflicts
port=$(grep -o 'metrics and health on port [0-9]*' "$WORK/a.log" | grep -o '[0-9]*$')
curl -sf "http://127.0.0.1:$port/metrics" > "$WORK/metrics.txt" || fail "/metrics"
# Three records of k-001 (the first withdrawn late), k-002-fix-a withdrawn by
# k-002-fix-b, and the calls-stream correction of a punch.
for want in CONFLICTING_DUPLICATE:3 CONFLICTING_CORRECTION:1 INVALID_CORRECTION:1; do
  reason=${want%:*}
  got=$(awk -v r="reason=\"$reason\"" 'index($0, "demerit_events_deadlettered_total{") == 1 && index($0, r) { s += $2 } END { print s + 0 }' "$WORK/metrics.txt")
  [ "$got" = "${want#*:}" ] && pass "$reason: $got dead letters" \
    || fail "$reason: $got dead letters, expected ${want#*:}"
done
kill_processor a TERM
finish
