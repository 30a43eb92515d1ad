#!/usr/bin/env bash
# At least 100,000 generated events; the processor is killed with SIGKILL at
# random moments six times and restarted. Afterwards the committed decisions,
# reversals applied, equal `demerit replay --net` of the same events, and no
# penalty_id was issued twice without a reversal between.
. "$(dirname "$0")/lib.sh" "$@"
RANDOM=20261129
start_broker
write_config
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 4 > /dev/null
"$DEMERIT" gen --rules "$RULES" --employees 420 --days 30 --seed 21 --format pb \
  --out "$WORK/events.pb" 2> "$WORK/gen.log"
count=$(grep -oE '[0-9]+' "$WORK/gen.log" | head -1)
[ "$count" -ge 100000 ] && pass "$count events generated" || fail "only $count events"
"$DEMERIT" produce --bootstrap "$BOOTSTRAP" --events "$WORK/events.pb" 2> "$WORK/produce.log" \
  && pass "produced" || fail "produce"
kills=0
for round in 1 2 3 4 5 6; do
  start_processor a
  # A random moment 3 to 7 s after the start (joining the group and restoring included).
  sleep "$((RANDOM % 5 + 3)).$((RANDOM % 10))"
  lag=$("$DEMERIT" lag --bootstrap "$BOOTSTRAP" --total 2> /dev/null | tail -n 1)
  kill_processor a KILL
  kills=$((kills + 1))
  log "round $round: SIGKILL with $lag records left"
done
[ "$kills" -ge 5 ] && pass "$kills SIGKILLs" || fail "only $kills kills"
start_processor a
wait_caught_up 600 && pass "caught up after the kills" || fail "did not catch up"
kill_processor a TERM
check_against_replay "$WORK/events.pb" crash
grep -c "aborting\|restored" "$WORK/a.log" > /dev/null
finish
