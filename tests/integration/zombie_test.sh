#!/usr/bin/env bash
# A fenced zombie: a second processor with the same transactional id fences the
# first, which stops with a clear message and exit code 6; nothing is duplicated.
. "$(dirname "$0")/lib.sh" "$@"
start_broker
write_config
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 2 > /dev/null
"$DEMERIT" gen --rules "$RULES" --employees 40 --days 20 --seed 8 --out "$WORK/events.ndjson" 2> /dev/null
head -n 3000 "$WORK/events.ndjson" > "$WORK/first.ndjson"
tail -n +3001 "$WORK/events.ndjson" > "$WORK/rest.ndjson"
"$DEMERIT" produce --bootstrap "$BOOTSTRAP" --events "$WORK/first.ndjson" 2> /dev/null
start_processor z
wait_caught_up 60 && pass "first processor caught up" || fail "first processor"
zombie=${PROCESSORS[z]}
# The same instance id (transactional id), another state directory.
"$DEMERIT" process --config "$WORK/config.yaml" --state "$WORK/state-z2" --instance-id z \
  >> "$WORK/z2.log" 2>&1 &
PROCESSORS[z2]=$!
for i in $(seq 1 100); do grep -q "started as" "$WORK/z2.log" && break; sleep 0.2; done
"$DEMERIT" produce --bootstrap "$BOOTSTRAP" --events "$WORK/rest.ndjson" 2> /dev/null
# The zombie notices at its next transaction and stops.
for i in $(seq 1 300); do kill -0 "$zombie" 2>/dev/null || break; sleep 0.2; done
wait "$zombie" 2>/dev/null
code=$?
unset "PROCESSORS[z]"
[ "$code" = 6 ] && grep -q "fenced" "$WORK/z.log" && pass "zombie stopped: exit 6, \"$(grep -m1 -o 'fatal transaction error[^:]*' "$WORK/z.log")\"" \
  || { fail "zombie exit code $code"; tail -5 "$WORK/z.log" >&2; }
wait_caught_up 120 && pass "new processor caught up" || fail "new processor"
kill_processor z2 TERM
check_against_replay "$WORK/events.ndjson" zombie
finish
