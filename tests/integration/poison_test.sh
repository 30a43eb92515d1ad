#!/usr/bin/env bash
# Poison records on every input topic (garbage bytes, another stream's
# message, an unknown site, an absurd timestamp) each land on the dead-letter
# topic with their reason and source; the partitions keep flowing.
# Usage: poison_test.sh DEMERIT POISON_PRODUCE SOURCE_ROOT
POISON=$2
set -- "$1" "$3"
. "$(dirname "$0")/lib.sh" "$@"
start_broker
write_config
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 2 > /dev/null
"$POISON" "$BOOTSTRAP" > "$WORK/expected.tsv" || { fail "poison_produce"; finish; exit 1; }
"$DEMERIT" produce --bootstrap "$BOOTSTRAP" --events "$RULES/samples/events.ndjson" 2> /dev/null
start_processor a
wait_caught_up 60 && pass "caught up past the poison" || fail "stuck on poison"
check_against_replay "$RULES/samples/events.ndjson" poison
"$DEMERIT" tail --bootstrap "$BOOTSTRAP" --topic demerit.deadletter --from-beginning --exit-at-end \
  > "$WORK/dead.ndjson" 2> /dev/null
# Each dead letter names its source topic and reason; compare as sorted lists.
sed -E 's/.*"reason":"([A-Z_]+)".*"source_topic":"([^"]+)".*/\2\t\1/' "$WORK/dead.ndjson" | sort > "$WORK/got.tsv"
sort "$WORK/expected.tsv" > "$WORK/want.tsv"
if diff "$WORK/want.tsv" "$WORK/got.tsv" > "$WORK/dead.diff"; then
  pass "$(wc -l < "$WORK/got.tsv") dead letters, each with its reason and source topic"
else
  fail "dead letters differ from the poison produced"; cat "$WORK/dead.diff" >&2
fi
grep -q '"source_offset"' "$WORK/dead.ndjson" || grep -q '"source_partition"' "$WORK/dead.ndjson" \
  && pass "dead letters carry partition and offset" || fail "no source partition/offset"
kill_processor a TERM
finish
