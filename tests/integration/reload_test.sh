#!/usr/bin/env bash
# Rules reload: a change under the rules directory (or SIGHUP) reloads the
# rules; an invalid rule set is refused with a logged error and the old one
# stays in force; decisions made after a valid reload use the new rules.
. "$(dirname "$0")/lib.sh" "$@"
start_broker
cp -r "$RULES" "$WORK/rules"
RULES="$WORK/rules"
write_config
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 2 > /dev/null
start_processor a
for i in $(seq 1 100); do grep -q "assigned partitions" "$WORK/a.log" && break; sleep 0.2; done
port=$(grep -o 'metrics and health on port [0-9]*' "$WORK/a.log" | grep -o '[0-9]*$')
version=$(grep -o 'rules [0-9a-f]\{12\}' "$WORK/a.log" | head -1 | cut -d' ' -f2)

wait_for_log() {  # wait_for_log PATTERN: bounded wait for a log line
  for i in $(seq 1 100); do grep -q "$1" "$WORK/a.log" && return 0; sleep 0.1; done
  return 1
}
# An invalid rule set: refused, the old version stays.
sed -i 's/window: month/window: fortnight/' "$RULES/packs/jiarun-aftersales.yaml"
wait_for_log "rules reload refused" && pass "invalid rules refused: $(grep -m1 -o 'fortnight.*' "$WORK/a.log" | head -c 80)" \
  || fail "invalid rules not refused"
grep -q "keeping rules $version" "$WORK/a.log" && pass "the old rules ($version) stay in force" || fail "old rules not kept"
curl -sf "http://127.0.0.1:$port/metrics" | grep -q 'demerit_rules_reload_total{result="failed"} 1' \
  && pass "reload failure counted" || fail "reload failure not counted"
# A valid change: the private-call fine goes from 100 to 150 CNY.
sed -i 's/window: fortnight/window: month/' "$RULES/packs/jiarun-aftersales.yaml"
sed -i 's/{amount: {CNY: 10000}}/{amount: {CNY: 15000}}/' "$RULES/packs/jiarun-aftersales.yaml"
wait_for_log "rules reloaded: version" && pass "$(grep -m1 -o 'rules reloaded: version [0-9a-f]*' "$WORK/a.log")" \
  || fail "valid rules not reloaded"
echo '{"call": {"event_id": "pc-1", "site_id": "jiarun-xinyang", "employee_id": "e9", "occurred_at": "2026-11-02T02:00:00Z", "line": "OFFICE", "private": true}}' > "$WORK/private.ndjson"
"$DEMERIT" produce --bootstrap "$BOOTSTRAP" --events "$WORK/private.ndjson" 2> /dev/null
wait_caught_up 60
"$DEMERIT" tail --bootstrap "$BOOTSTRAP" --from-beginning --exit-at-end > "$WORK/tail.ndjson" 2> /dev/null
grep -q '"rule_id":"private-call".*"amount_minor":"15000"' "$WORK/tail.ndjson" \
  && pass "decisions after the reload use the new amount (150.00 CNY)" || { fail "new rules not applied"; cat "$WORK/tail.ndjson" >&2; }
# That change kept effective_from: a replay of the past now disagrees with what
# was committed. A warning names the rule and both versions; a metric counts it.
edited='WARN rule jiarun-aftersales/private-call (in force from 2020-01-01) changed in place: version [0-9a-f]\{12\} ([^)]*jiarun-aftersales.yaml:141) is now [0-9a-f]\{12\}'
wait_for_log "$edited" && pass "a rule edited in place is named with both versions" \
  || { fail "no warning for a rule edited in place"; grep WARN "$WORK/a.log" >&2; }
curl -sf "http://127.0.0.1:$port/metrics" \
  | grep -q 'demerit_rules_edited_in_place_total{pack="jiarun-aftersales",rule="private-call"} 1' \
  && pass "the edit in place is counted" || fail "the edit in place is not counted"
# SIGHUP reloads too (nothing changed: the same version, no error).
kill -HUP "${PROCESSORS[a]}"
kill -0 "${PROCESSORS[a]}" && pass "SIGHUP handled, still running" || fail "SIGHUP killed the processor"
kill_processor a TERM
# An edit in place while the processor is down is reported when it starts: the
# state directory records the rule versions last loaded.
sed -i 's/{amount: {CNY: 15000}}/{amount: {CNY: 16000}}/' "$RULES/packs/jiarun-aftersales.yaml"
start_processor a
for i in $(seq 1 100); do [ "$(grep -c "$edited" "$WORK/a.log")" = 2 ] && break; sleep 0.1; done
[ "$(grep -c "$edited" "$WORK/a.log")" = 2 ] && pass "an edit in place while stopped is reported at start" \
  || fail "no warning at start for a rule edited while stopped"
kill_processor a TERM
finish
