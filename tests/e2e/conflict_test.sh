#!/usr/bin/env bash
# Conflicting input through `demerit replay`: a second record of an event_id
# with other content, two corrections of one punch and a correction of another
# stream are each reported with their line and reason, what they withdrew is
# reversed, and the standing decisions are the same in any order of the lines.
# Usage: conflict_test.sh DEMERIT_BINARY SOURCE_ROOT
. "$(dirname "$0")/lib.sh" "$@"
rules="$root/rules"
events="$here/fixtures/conflicts.ndjson"

"$bin" replay --rules "$rules" --events "$events" --net --metrics-out "$work/metrics.txt" \
  > "$work/net" 2> "$work/err"
expect_code "replay conflicts" 1 $?
expect_grep "conflicting duplicate" \
  "conflicts.ndjson: line 4: CONFLICTING_DUPLICATE: event_id k-001 of employee li.wei came before with other content (modified: attendance.occurred_at" \
  "$work/err"
expect_grep "conflicting duplicate, the first side" \
  "conflicts.ndjson: line 4, an earlier record: CONFLICTING_DUPLICATE: event_id k-001 of employee li.wei: withdrawn" \
  "$work/err"
expect_grep "second correction wins by event_id" \
  "conflicts.ndjson: line 6, an earlier record: CONFLICTING_CORRECTION: correction k-002-fix-a of k-002: withdrawn, k-002 is now corrected by k-002-fix-b" \
  "$work/err"
expect_grep "correction of another stream" \
  "conflicts.ndjson: line 7: INVALID_CORRECTION: correction k-003-fix names k-003, attendance at site jiarun-xinyang, but is calls" \
  "$work/err"
expect_grep "a third copy of a conflicting id" \
  "conflicts.ndjson: line 8: CONFLICTING_DUPLICATE: event_id k-001 of employee li.wei came before with other content: no record" \
  "$work/err"
expect_grep "summary" \
  "^events read 8, applied 5, duplicates 0, rejected 3 (conflicting 3), withdrawn later 2; decisions issued" \
  "$work/err"
for reason in CONFLICTING_DUPLICATE CONFLICTING_CORRECTION INVALID_CORRECTION; do
  expect_grep "metric $reason" "^demerit_events_deadlettered_total{.*reason=\"$reason\"" "$work/metrics.txt"
done
# k-001 conflicts (no late fine); k-002-fix-b (on time) wins over k-002-fix-a
# (late); k-003 stands late, its call-stream "correction" does not count.
jq -r '[.rule_id, .evidence_event_ids[0]] | join(" ")' < "$work/net" > "$work/brief"
printf '%s\n' "missing-punch k-002-fix-b" "late-arrival k-003" > "$work/want"
if diff -u "$work/want" "$work/brief" > "$work/diff"; then pass; else
  fail "standing decisions:"
  cat "$work/diff"
fi

# Any order of the same lines: the same standing decisions.
for order in tac "sort" "sort -r" "shuf --random-source=$events" "shuf --random-source=$rules/sites.yaml"; do
  $order < "$events" > "$work/events"
  "$bin" replay --rules "$rules" --events "$work/events" --net > "$work/out" 2> /dev/null
  expect_code "replay in order '$order'" 1 $?
  if cmp -s "$work/net" "$work/out"; then pass; else fail "order '$order' stands otherwise"; fi
done
finish conflict_test
