#!/usr/bin/env bash
# What the operator's commands say about a cluster that is not as demerit
# wants it: lag against missing topics and for a group that never committed,
# topics whose replication factor is too low.
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

finish
