#!/usr/bin/env bash
# Audit against the log: `replay --bootstrap` of the input topics gives the
# decisions `replay --events` gives for the same events; `audit diff
# --bootstrap` finds the committed decisions and a replay in agreement, and
# finds a decision removed, added or altered on one side.
. "$(dirname "$0")/lib.sh" "$@"
start_broker
write_config
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 3 > /dev/null
"$DEMERIT" gen --rules "$RULES" --employees 40 --days 35 --seed 77 --out "$WORK/events.ndjson" 2> /dev/null
"$DEMERIT" produce --bootstrap "$BOOTSTRAP" --events "$WORK/events.ndjson" 2> /dev/null
start_processor a
wait_caught_up 120 && pass "processor caught up" || fail "processor"

"$DEMERIT" replay --rules "$RULES" --bootstrap "$BOOTSTRAP" --net -q > "$WORK/kafka.net"
"$DEMERIT" replay --rules "$RULES" --events "$WORK/events.ndjson" --net -q > "$WORK/file.net"
if cmp -s "$WORK/kafka.net" "$WORK/file.net" && [ -s "$WORK/file.net" ]; then
  pass "replay --bootstrap prints the bytes replay --events prints ($(wc -l < "$WORK/file.net") standing)"
else
  fail "replay from Kafka differs from replay from the file"
fi
"$DEMERIT" audit diff --bootstrap "$BOOTSTRAP" --rules "$RULES" > "$WORK/diff.out" 2> "$WORK/diff.err"
[ $? = 0 ] && grep -q "^agree" "$WORK/diff.err" && pass "audit diff --bootstrap: $(cat "$WORK/diff.err")" \
  || { fail "audit diff --bootstrap disagrees"; head "$WORK/diff.out" "$WORK/diff.err" >&2; }
# Bounded by event time: November 2026 (UTC) on both sides.
"$DEMERIT" audit diff --bootstrap "$BOOTSTRAP" --rules "$RULES" --from 2026-11-01T00:00:00Z \
  --to 2026-12-01T00:00:00Z > /dev/null 2> "$WORK/diff-nov.err"
[ $? = 0 ] && pass "audit diff --bootstrap --from --to: $(cat "$WORK/diff-nov.err")" || fail "bounded audit diff"

# Tampering on one side is found.
"$DEMERIT" tail --bootstrap "$BOOTSTRAP" --from-beginning --exit-at-end > "$WORK/committed.ndjson" 2> /dev/null
"$DEMERIT" replay --rules "$RULES" --events "$WORK/events.ndjson" -q > "$WORK/replay.ndjson"
issue=$(grep -m1 '"kind":"ISSUE".*"amount_minor":"[1-9]' "$WORK/file.net")
id=$(echo "$issue" | grep -o '"penalty_id":"[^"]*"' | cut -d'"' -f4)
# Removed: a reversal of a standing decision appended to the committed side.
echo "$issue" | sed -e 's/"kind":"ISSUE"/"kind":"REVERSAL"/' -e "s/\"reverses_penalty_id\":\"\"/\"reverses_penalty_id\":\"$id\"/" \
  -e 's/"penalty_id":"pen-/"penalty_id":"rev-x/' > "$WORK/reversal.ndjson"
cat "$WORK/committed.ndjson" "$WORK/reversal.ndjson" > "$WORK/removed.ndjson"
"$DEMERIT" audit diff --decisions "$WORK/removed.ndjson" --against "$WORK/replay.ndjson" > "$WORK/t1" 2>&1
[ $? = 1 ] && grep -q "^missing" "$WORK/t1" && grep -q "$id" "$WORK/t1" && pass "a removed decision is reported missing ($id)" \
  || { fail "removed decision not found"; head "$WORK/t1" >&2; }
# Added: a decision that no event justifies.
echo "$issue" | sed -e 's/"penalty_id":"pen-/"penalty_id":"pen-f0/' -e 's/"employee_id":"[^"]*"/"employee_id":"ghost"/' > "$WORK/extra.ndjson"
cat "$WORK/committed.ndjson" "$WORK/extra.ndjson" > "$WORK/added.ndjson"
"$DEMERIT" audit diff --decisions "$WORK/added.ndjson" --against "$WORK/replay.ndjson" --json > "$WORK/t2" 2>&1
[ $? = 1 ] && grep -q '"finding":"extra"' "$WORK/t2" && pass "an added decision is reported extra (--json)" \
  || { fail "added decision not found"; head "$WORK/t2" >&2; }
# Altered: the same occurrence with another amount.
sed -e "/$id/s/\"amount_minor\":\"[0-9]*\"/\"amount_minor\":\"1\"/" -e "/$id/s/\"penalty_id\":\"$id\"/\"penalty_id\":\"pen-altered\"/" \
  "$WORK/committed.ndjson" > "$WORK/altered.ndjson"
"$DEMERIT" audit diff --decisions "$WORK/altered.ndjson" --against "$WORK/replay.ndjson" > "$WORK/t3" 2>&1
[ $? = 1 ] && grep -q "^different" "$WORK/t3" && grep -q "amount_minor" "$WORK/t3" \
  && pass "an altered decision is reported different, with the field" || { fail "altered decision not found"; head "$WORK/t3" >&2; }
# explain and export from the topic.
"$DEMERIT" explain "$id" --bootstrap "$BOOTSTRAP" --rules "$RULES" > "$WORK/explain.txt" 2> /dev/null
[ $? = 0 ] && grep -q "stands" "$WORK/explain.txt" && pass "explain --bootstrap finds $id" || fail "explain --bootstrap"
site=$(echo "$issue" | grep -o '"site_id":"[^"]*"' | cut -d'"' -f4)
"$DEMERIT" export --bootstrap "$BOOTSTRAP" --rules "$RULES" --site "$site" --period 2026-11 > "$WORK/export-topic.csv" 2> /dev/null
"$DEMERIT" export --decisions "$WORK/replay.ndjson" --rules "$RULES" --site "$site" --period 2026-11 > "$WORK/export-file.csv"
cmp -s "$WORK/export-topic.csv" "$WORK/export-file.csv" && [ "$(wc -l < "$WORK/export-file.csv")" -gt 1 ] \
  && pass "export from the topic equals export from a replay ($site, $(($(wc -l < "$WORK/export-file.csv") - 1)) employees)" \
  || fail "export from the topic differs"
# --as-of: a rerun later reproduces the earlier export exactly.
as_of=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
"$DEMERIT" gen --rules "$RULES" --employees 40 --days 35 --seed 78 --out "$WORK/more.ndjson" 2> /dev/null
sed -i -e 's/"event_id":"emp-/"event_id":"late-emp-/' -e 's/"employee_id":"emp-/"employee_id":"late-emp-/' "$WORK/more.ndjson"
"$DEMERIT" produce --bootstrap "$BOOTSTRAP" --events "$WORK/more.ndjson" 2> "$WORK/more-produce.log" || fail "produce of the later events"
wait_caught_up 120
"$DEMERIT" export --bootstrap "$BOOTSTRAP" --rules "$RULES" --site "$site" --period 2026-11 > "$WORK/export-now.csv" 2> /dev/null
"$DEMERIT" export --bootstrap "$BOOTSTRAP" --rules "$RULES" --site "$site" --period 2026-11 --as-of "$as_of" \
  > "$WORK/export-asof.csv" 2> /dev/null
if cmp -s "$WORK/export-asof.csv" "$WORK/export-topic.csv" && ! cmp -s "$WORK/export-now.csv" "$WORK/export-topic.csv"; then
  pass "export --as-of $as_of reproduces the earlier export; without it, the new decisions count"
else
  fail "export --as-of does not reproduce the earlier export"
fi
kill_processor a TERM
finish
