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
# The first part of the events, processed; then the rest, not yet.
head -n 3000 "$WORK/events.ndjson" > "$WORK/first.ndjson"
tail -n +3001 "$WORK/events.ndjson" > "$WORK/rest.ndjson"
"$DEMERIT" produce --bootstrap "$BOOTSTRAP" --events "$WORK/first.ndjson" 2> /dev/null
start_processor a
wait_caught_up 120 && pass "processor caught up with the first part" || fail "processor"
# The ends of the input partitions now: the first part, as offsets.
first_offsets=$("$DEMERIT" lag --bootstrap "$BOOTSTRAP" \
  | awk -F'\t' 'NF == 5 { split($4, end, " "); printf "%s%s:%s:-%s", sep, $1, $2, end[2]; sep = "," }')
kill_processor a TERM
"$DEMERIT" produce --bootstrap "$BOOTSTRAP" --events "$WORK/rest.ndjson" 2> /dev/null

# Bounded by offsets: exactly the decisions of a file replay of the first part.
"$DEMERIT" replay --rules "$RULES" --events "$WORK/first.ndjson" --net -q > "$WORK/first.net"
"$DEMERIT" replay --rules "$RULES" --bootstrap "$BOOTSTRAP" --offsets "$first_offsets" --net -q > "$WORK/offsets.net"
if cmp -s "$WORK/offsets.net" "$WORK/first.net" && [ -s "$WORK/first.net" ]; then
  pass "replay --offsets ${first_offsets:0:60}... prints the bytes of a replay of the first part ($(wc -l < "$WORK/first.net") standing)"
else
  fail "replay --offsets differs from a replay of the first part"
fi
# Half of one partition: other decisions.
calls_end=$(echo "$first_offsets" | tr , '\n' | grep '^calls.events:1:' | cut -d- -f2)
half=$((calls_end / 2))
split=$(echo "$first_offsets" | tr , '\n' | grep -v '^calls.events:1:' | paste -sd,)
"$DEMERIT" replay --rules "$RULES" --bootstrap "$BOOTSTRAP" --offsets "$split" \
  --offsets "calls.events:1:0-$half" --net -q > "$WORK/half.net"
code=$?
if [ "$code" = 0 ] && [ "$half" -gt 0 ] && [ -s "$WORK/half.net" ] && ! cmp -s "$WORK/half.net" "$WORK/first.net"; then
  pass "half a partition gives other decisions (calls partition 1 up to $half of $calls_end)"
else
  fail "--offsets FROM-TO did not bound the read (exit $code, half $half)"
fi
# Up to the processor's committed offsets: the state it had when it stopped.
"$DEMERIT" replay --rules "$RULES" --bootstrap "$BOOTSTRAP" --to-committed demerit --net -q > "$WORK/committed.net"
cmp -s "$WORK/committed.net" "$WORK/first.net" \
  && pass "replay --to-committed demerit prints the bytes of a replay of the first part" \
  || fail "replay --to-committed differs from a replay of what the processor consumed"
"$DEMERIT" audit diff --bootstrap "$BOOTSTRAP" --rules "$RULES" --to-committed demerit > "$WORK/diff-committed.out" 2> "$WORK/diff-committed.err"
[ $? = 0 ] && grep -q "^agree" "$WORK/diff-committed.err" && pass "audit diff --to-committed with unread input: $(tail -n 1 "$WORK/diff-committed.err")" \
  || { fail "audit diff --to-committed disagrees"; head "$WORK/diff-committed.out" "$WORK/diff-committed.err" >&2; }
"$DEMERIT" audit diff --bootstrap "$BOOTSTRAP" --rules "$RULES" > "$WORK/diff-unbounded.out" 2> /dev/null
[ $? = 1 ] && grep -q "^missing" "$WORK/diff-unbounded.out" && pass "without --to-committed, the unread input shows as missing" \
  || fail "audit diff without --to-committed found no missing decisions"
# Bounds the brokers refuse: exit 2 and a message naming the bound.
refused() {  # refused NAME MESSAGE ARGS...
  local name=$1 message=$2
  shift 2
  "$DEMERIT" replay --rules "$RULES" --bootstrap "$BOOTSTRAP" -q "$@" > /dev/null 2> "$WORK/refused.err"
  local code=$?
  [ "$code" = 2 ] && grep -q -- "$message" "$WORK/refused.err" && pass "$name: exit 2, $(cat "$WORK/refused.err")" \
    || { fail "$name: exit $code"; cat "$WORK/refused.err" >&2; }
}
refused "unknown topic" 'demerit.nope is not an input topic (Hint: attendance.punches, callbacks.results' --offsets demerit.nope:0:-5
refused "unknown partition" 'calls.events has no partition 7 (Hint: it has 3 partitions, 0 to 2)' --offsets calls.events:7:-5
refused "past the end" 'calls.events partition 0 ends at offset' --offsets calls.events:0:0-99999999
refused "bounded twice" 'partition 2 is bounded twice' --offsets calls.events:*:0-0,calls.events:2:0-0
refused "a group without offsets" '"nobody" has committed no offset' --to-committed nobody

start_processor a
wait_caught_up 120 && pass "processor caught up with the rest" || fail "processor"

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
