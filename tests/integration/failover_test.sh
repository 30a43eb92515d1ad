#!/usr/bin/env bash
# Scale-out and failover: two processors in one group share the partitions
# and the events that arrive; one is killed once it has committed work of its
# own; the survivor restores its partitions' state from the changelog and
# finishes. The committed decisions equal the replay.
. "$(dirname "$0")/lib.sh" "$@"
start_broker
write_config
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 4 > /dev/null
"$DEMERIT" gen --rules "$RULES" --employees 120 --days 30 --seed 5 --format pb \
  --out "$WORK/events.pb" 2> /dev/null
start_processor a
start_processor b
# Both hold partitions once the group settles.
for i in $(seq 1 100); do
  grep -q "assigned partitions: [0-9]" "$WORK/a.log" 2>/dev/null && \
    grep -q "assigned partitions: [0-9]" "$WORK/b.log" 2>/dev/null && break
  sleep 0.2
done
grep -q "assigned partitions: [0-9]" "$WORK/b.log" && grep -q "assigned partitions: [0-9]" "$WORK/a.log" \
  && pass "partitions shared: a:$(grep 'assigned partitions' "$WORK/a.log" | tail -1 | sed 's/.*partitions://'), b:$(grep 'assigned partitions' "$WORK/b.log" | tail -1 | sed 's/.*partitions://')" \
  || fail "partitions not shared"
# The events arrive once both run, so that b processes its share.
"$DEMERIT" produce --bootstrap "$BOOTSTRAP" --events "$WORK/events.pb" 2> /dev/null
# b dies once the group has committed input offsets on one of b's partitions.
b_parts=$(grep 'assigned partitions' "$WORK/b.log" | tail -1 | sed 's/.*partitions: //')
for i in $(seq 1 300); do committed_on "$b_parts" && break; sleep 0.2; done
committed_on "$b_parts" && pass "b committed work of its own" || fail "b committed nothing"
# What a logs after the kill (a may have held every partition before b joined).
lines=$(wc -l < "$WORK/a.log")
since_kill() { tail -n "+$((lines + 1))" "$WORK/a.log"; }
kill_processor b KILL
log "b killed"
# The survivor takes over b's partitions after the session timeout.
for i in $(seq 1 300); do since_kill | grep -q "assigned partitions: 0 1 2 3" && break; sleep 0.2; done
since_kill | grep -q "assigned partitions: 0 1 2 3" && pass "survivor took over every partition" \
  || fail "survivor did not take over"
wait_caught_up 300 && pass "survivor caught up" || fail "survivor did not catch up"
since_kill | grep -q "restored: [1-9]" && pass "survivor restored b's state from the changelog" \
  || fail "no restore from the changelog"
kill_processor a TERM
check_against_replay "$WORK/events.pb" failover
finish
