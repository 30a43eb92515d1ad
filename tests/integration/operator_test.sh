#!/usr/bin/env bash
# What the operator's commands say about a cluster that is not as demerit
# wants it: topics whose replication factor is too low.
. "$(dirname "$0")/lib.sh" "$@"
start_broker
write_config

"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 2 > "$WORK/topics.log" 2>&1 \
  || { fail "topics"; cat "$WORK/topics.log" >&2; }
# The broker is alone: every topic has one replica.
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 2 --replication 3 > "$WORK/topics3.log" 2>&1
code=$?
wrong=$(grep -c '^WRONG .*replication factor 1, expected at least 3' "$WORK/topics3.log")
[ "$code" = 5 ] && [ "$wrong" = 8 ] && pass "topics --replication 3: each of 8 topics reported" \
  || { fail "topics --replication 3: exit $code, $wrong reported"; cat "$WORK/topics3.log" >&2; }
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 2 > "$WORK/topics1.log" 2>&1 \
  && grep -q '^ok      demerit.changelog: 2 partitions, replication factor 1, compacted' "$WORK/topics1.log" \
  && pass "topics: ok with the replication factor" \
  || { fail "topics after creation"; cat "$WORK/topics1.log" >&2; }
finish
