#!/usr/bin/env bash
# Kafka security: a broker that requires SASL/SCRAM. Wrong credentials fail
# at start-up with a clear message and a non-zero exit, never a crash or a
# silent retry loop, for the processor and every CLI command; the password
# appears in no log.
. "$(dirname "$0")/lib.sh" "$@"
USER_NAME=demerit
PASSWORD='Sc7am-t3st-p4ss'
start_broker --scram "$USER_NAME:$PASSWORD"
cat > "$WORK/config.yaml" <<YAML
bootstrap: $BOOTSTRAP
rules: $RULES
commit_interval_ms: 100
kafka:
  security.protocol: SASL_PLAINTEXT
  sasl.mechanism: SCRAM-SHA-512
  session.timeout.ms: "6000"
YAML
CLIENT_ARGS=(--config "$WORK/config.yaml")
export DEMERIT_KAFKA_SASL_USERNAME=$USER_NAME
export DEMERIT_KAFKA_SASL_PASSWORD=$PASSWORD

# The credentials are valid: Kafka's own Java client logs in with them and
# creates the topics. (demerit itself cannot log in with SCRAM to a Kafka 4.x
# broker while it is built on Debian 12's librdkafka 2.0.2: brokers since
# 3.7.2/4.0 validate the SCRAM nonce strictly (CVE-2024-56128) and librdkafka
# before 2.6.1 fails that check. The test covers what holds regardless:
# valid credentials, a clear failure on a wrong password, no secrets leaked.)
if timeout 120 bash "$ROOT/ops/kafka/tool.sh" topics --bootstrap-server "$BOOTSTRAP" \
    --command-config "$KAFKA_DIR/client.properties" --create --topic demerit.penalties \
    --partitions 2 > "$WORK/java.log" 2>&1; then
  pass "the SCRAM credentials are valid (Kafka's Java client)"
else
  fail "the Java client could not log in"; tail -3 "$WORK/java.log" >&2
fi
: > "$WORK/metrics.txt"

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
