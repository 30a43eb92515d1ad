#!/usr/bin/env bash
# The broker restarts mid-run; the processor rides it out (or, restarted like
# an orchestrator would, resumes); the committed decisions equal the replay.
. "$(dirname "$0")/lib.sh" "$@"
start_broker
port=${BOOTSTRAP##*:}
write_config
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 3 > /dev/null
"$DEMERIT" gen --rules "$RULES" --employees 150 --days 30 --seed 13 --format pb \
  --out "$WORK/events.pb" 2> /dev/null
"$DEMERIT" produce --bootstrap "$BOOTSTRAP" --events "$WORK/events.pb" 2> /dev/null
start_processor a
# Mid-run: the processor has committed some of the input.
for i in $(seq 1 300); do committed_on && break; sleep 0.2; done
committed_on && pass "processing before the restart" || fail "nothing committed before the restart"
bash "$ROOT/ops/kafka/stop.sh" "$KAFKA_DIR" --keep > /dev/null 2>&1 && log "broker stopped"
bash "$ROOT/ops/kafka/start.sh" --data-dir "$KAFKA_DIR" --port "$port" > /dev/null 2>> "$WORK/broker-start.log" \
  && pass "broker restarted on $port" || fail "broker restart"
restarts=0
for i in $(seq 1 3); do
  if wait_caught_up 240; then break; fi
  if ! kill -0 "${PROCESSORS[a]}" 2>/dev/null; then
    wait "${PROCESSORS[a]}"; log "processor exited with $?; restarting it"
    restarts=$((restarts + 1))
    start_processor a
  fi
done
wait_caught_up 10 && pass "caught up after the broker restart ($restarts processor restarts)" \
  || fail "did not catch up"
kill_processor a TERM
check_against_replay "$WORK/events.pb" broker-restart
finish
