#!/usr/bin/env bash
# Kafka security: a broker that requires SASL/SCRAM over TLS (SASL_SSL, its
# certificate signed by a CA of its own). The right credentials and CA work
# for the processor and every command; wrong credentials, or a CA that does
# not sign the broker's certificate, fail at start-up with a clear message and
# a non-zero exit, never a crash or a silent retry loop; the password appears
# in no log.
. "$(dirname "$0")/lib.sh" "$@"
USER_NAME=demerit
PASSWORD='Sc7am-t3st-p4ss'
start_broker --scram "$USER_NAME:$PASSWORD" --tls
cat > "$WORK/config.yaml" <<YAML
bootstrap: $BOOTSTRAP
rules: $RULES
commit_interval_ms: 100
kafka:
  security.protocol: SASL_SSL
  sasl.mechanism: SCRAM-SHA-512
  session.timeout.ms: "6000"
YAML
CLIENT_ARGS=(--config "$WORK/config.yaml")
export DEMERIT_KAFKA_SASL_USERNAME=$USER_NAME
export DEMERIT_KAFKA_SASL_PASSWORD=$PASSWORD
export DEMERIT_KAFKA_SSL_CA_LOCATION=$KAFKA_DIR/tls/ca.pem

# The right credentials: demerit logs in with them (the processor and the
# commands), and the sample through the SCRAM-secured broker equals the replay.
# (Kafka's own Java client confirms them first, so that a failure below is
# demerit's.)
if timeout 120 bash "$ROOT/ops/kafka/tool.sh" topics --bootstrap-server "$BOOTSTRAP" \
    --command-config "$KAFKA_DIR/client.properties" --list > "$WORK/java.log" 2>&1; then
  pass "the SCRAM credentials are valid (Kafka's Java client)"
else
  fail "the Java client could not log in"; tail -3 "$WORK/java.log" >&2
fi
if "$DEMERIT" topics "${CLIENT_ARGS[@]}" --partitions 2 > "$WORK/topics.log" 2>&1; then
  pass "demerit topics logs in with SCRAM over TLS and creates the topics"
else
  fail "demerit topics with the right credentials: exit $?"; tail -3 "$WORK/topics.log" >&2
fi
if "$DEMERIT" produce "${CLIENT_ARGS[@]}" --events "$RULES/samples/events.ndjson" \
    > "$WORK/produce.log" 2>&1; then
  pass "demerit produce logs in with SCRAM over TLS"
else
  fail "demerit produce with the right credentials: exit $?"; tail -3 "$WORK/produce.log" >&2
fi
"$DEMERIT" process "${CLIENT_ARGS[@]}" --state "$WORK/state-a" --instance-id a \
  --metrics-listen 127.0.0.1:0 >> "$WORK/a.log" 2>&1 &
PROCESSORS[a]=$!
wait_caught_up 120 && pass "the processor logs in with SCRAM over TLS and catches up" \
  || { fail "the processor did not catch up"; grep -v CONFWARN "$WORK/a.log" | tail -5 >&2; }
kill_processor a TERM && pass "the processor stops cleanly on SIGTERM" \
  || fail "the processor did not exit 0 on SIGTERM"
check_against_replay "$RULES/samples/events.ndjson" scram
: > "$WORK/metrics.txt"

# A CA that does not sign the broker's certificate: the TLS handshake fails,
# and so does the command, at once and saying why.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=another CA" \
  -keyout "$WORK/other-ca.key" -out "$WORK/other-ca.pem" 2> /dev/null
start=$SECONDS
DEMERIT_KAFKA_SSL_CA_LOCATION=$WORK/other-ca.pem \
  "$DEMERIT" topics "${CLIENT_ARGS[@]}" --partitions 2 > "$WORK/wrong-ca.log" 2>&1
code=$?
elapsed=$((SECONDS - start))
if [ "$code" = 5 ] && grep -q "certificate verify failed" "$WORK/wrong-ca.log" && [ "$elapsed" -lt 60 ]; then
  pass "an untrusted broker certificate: exit 5 in ${elapsed}s, certificate verify failed"
else
  fail "an untrusted broker certificate: exit $code after ${elapsed}s"; tail -3 "$WORK/wrong-ca.log" >&2
fi

# Wrong password: every command fails at start with a clear message.
export DEMERIT_KAFKA_SASL_PASSWORD='not-the-password'
start=$SECONDS
"$DEMERIT" process "${CLIENT_ARGS[@]}" --state "$WORK/state-b" --instance-id b \
  --metrics-listen 127.0.0.1:0 > "$WORK/wrong-process.log" 2>&1
code=$?
elapsed=$((SECONDS - start))
if [ "$code" = 5 ] && grep -qi "authentication failed" "$WORK/wrong-process.log" && [ "$elapsed" -lt 60 ]; then
  pass "process with a wrong password: exit 5 in ${elapsed}s: $(grep -m1 -io 'authentication failed[^(]*' "$WORK/wrong-process.log" | head -c 120)"
else
  fail "process with a wrong password: exit $code after ${elapsed}s"; tail -5 "$WORK/wrong-process.log" >&2
fi
for cmd in "topics --partitions 2" "lag --total" "tail --exit-at-end"; do
  # shellcheck disable=SC2086
  "$DEMERIT" $cmd "${CLIENT_ARGS[@]}" > "$WORK/wrong.log" 2>&1
  code=$?
  if [ "$code" = 5 ] && grep -qi "authentication failed" "$WORK/wrong.log"; then
    pass "demerit ${cmd%% *} with a wrong password: exit 5, authentication failed"
  else
    fail "demerit ${cmd%% *} with a wrong password: exit $code"; tail -3 "$WORK/wrong.log" >&2
  fi
done
"$DEMERIT" produce "${CLIENT_ARGS[@]}" --events "$RULES/samples/events.ndjson" > "$WORK/wrong.log" 2>&1
code=$?
[ "$code" = 5 ] && grep -qi "authentication failed" "$WORK/wrong.log" \
  && pass "demerit produce with a wrong password: exit 5" || { fail "produce with a wrong password: exit $code"; tail -3 "$WORK/wrong.log" >&2; }

# Secrets never in logs or metrics.
if grep -rl -- "$PASSWORD" "$WORK"/*.log "$WORK/metrics.txt" 2>/dev/null; then
  fail "the password appears in a log or the metrics"
else
  pass "no password in logs or metrics"
fi
finish
