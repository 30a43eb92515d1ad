#!/usr/bin/env bash
# Golden tests of the demerit command: outputs, messages and exit codes.
# Usage: golden_test.sh DEMERIT_BINARY SOURCE_ROOT   (UPDATE_GOLDEN=1 rewrites the golden files)
. "$(dirname "$0")/lib.sh" "$@"
rules="$root/rules"
sample="$rules/samples/events.ndjson"

# Summary lines carry timings; keep only what is deterministic.
strip_timing() { sed -E 's/; [0-9.]+ s \([0-9]+ events\/s\)//'; }

"$bin" replay --rules "$rules" --events "$sample" > "$work/out" 2> "$work/err"
expect_code "replay sample" 0 $?
check sample.decisions.ndjson "$work/out"
strip_timing < "$work/err" > "$work/err2"
check sample.summary.txt "$work/err2"

"$bin" replay --rules "$rules" --events "$sample" --net > "$work/out" 2> /dev/null
check sample.net.ndjson "$work/out"
"$bin" replay --rules "$rules" --events "$sample" --net --format table > "$work/out" 2> /dev/null
check sample.net.txt "$work/out"
"$bin" replay --rules "$rules" --events "$sample" --format table > "$work/out" 2> /dev/null
check sample.table.txt "$work/out"

# replay --metrics-out: the run's figures in the Prometheus text format
# (timings left out), valid for promtool, with no employee id in any label.
"$bin" replay --rules "$rules" --events "$sample" --metrics-out "$work/metrics.txt" \
  > /dev/null 2>&1
expect_code "replay --metrics-out" 0 $?
grep -v '^#' "$work/metrics.txt" \
  | grep -vE '^demerit_(rule_evaluation|transaction_commit)_seconds' | LC_ALL=C sort > "$work/out"
check sample.metrics.txt "$work/out"
if promtool check metrics < "$work/metrics.txt" > "$work/lint" 2>&1; then pass; else
  fail "promtool check metrics: $(head -3 "$work/lint")"
fi
employees=$(grep -o '"employee_id": *"[^"]*"' "$sample" | sed 's/.*"\([^"]*\)"$/\1/' | sort -u)
[ -n "$employees" ] || fail "no employee ids found in $sample"
for employee in $employees; do
  if grep -qF -- "$employee" "$work/metrics.txt"; then
    fail "employee id $employee in the metrics"
  else
    pass
  fi
done

# A bad event-time bound is a usage error naming the bound.
"$bin" replay --rules "$rules" --events "$sample" --from yesterday > /dev/null 2> "$work/err"
expect_code "replay --from yesterday" 2 $?
expect_grep "replay --from yesterday" '^--from/--to: bad timestamp "yesterday"' "$work/err"
"$bin" replay --rules "$rules" --events "$sample" --to 9999-01-01T00:00:00Z > /dev/null 2> "$work/err"
expect_code "replay --to 9999-01-01" 2 $?
expect_grep "replay --to 9999-01-01: message" '^--from/--to: bad timestamp "9999-01-01T00:00:00Z": outside 1678..2261' "$work/err"
"$bin" replay --rules "$rules" --events "$sample" --from 2026-11-03T00:00:00Z \
  --to 2026-11-04T00:00:00Z > /dev/null 2> "$work/err"
expect_code "replay --from --to" 0 $?
expect_grep "replay --from --to" 'events outside --from/--to' "$work/err"

# Standard input gives the same decisions as the file.
"$bin" replay --rules "$rules" --events - < "$sample" > "$work/out" 2> /dev/null
check sample.decisions.ndjson "$work/out"

# A UTF-8 byte order mark at the start of a file is not part of its first line:
# the same decisions from the events, the same findings from a decision log.
{ printf '\xef\xbb\xbf'; cat "$sample"; } > "$work/bom.ndjson"
"$bin" replay --rules "$rules" --events "$work/bom.ndjson" > "$work/out" 2> "$work/err"
expect_code "replay of a file with a byte order mark" 0 $?
check sample.decisions.ndjson "$work/out"
{ printf '\xef\xbb\xbf'; cat "$work/out"; } > "$work/bom-log.ndjson"
"$bin" audit diff --decisions "$work/bom-log.ndjson" --against "$work/out" > /dev/null 2>&1
expect_code "audit diff of a log with a byte order mark" 0 $?
"$bin" export --rules "$rules" --decisions "$work/bom-log.ndjson" --site jiarun-xinyang \
  --period 2026-11 > "$work/csv" 2> /dev/null
expect_code "export of a log with a byte order mark" 0 $?
check export_sample_jiarun-xinyang_2026-11.csv "$work/csv"
first=$(head -1 "$work/out" | grep -o '"penalty_id":"[^"]*"' | cut -d'"' -f4)
"$bin" explain "$first" --rules "$rules" --decisions "$work/bom-log.ndjson" --events "$work/bom.ndjson" \
  > /dev/null 2> "$work/err"
expect_code "explain of the first decision of a log with a byte order mark" 0 $?
# Only at the start of a file: elsewhere it is a bad line.
{ head -1 "$sample"; printf '\xef\xbb\xbf'; tail -n +2 "$sample"; } > "$work/bom2.ndjson"
"$bin" replay --rules "$rules" --events "$work/bom2.ndjson" > /dev/null 2> "$work/err"
expect_code "replay of a byte order mark on line 2" 1 $?
expect_grep "replay of a byte order mark on line 2: message" "bom2.ndjson: line 2: UNPARSEABLE" "$work/err"

# Every class of bad input is reported with its line number; the run goes on.
"$bin" replay --rules "$rules" --events "$here/bad-events.ndjson" > "$work/out" 2> "$work/err"
expect_code "replay bad events" 1 $?
check bad-events.decisions.ndjson "$work/out"
sed -e "s#$here/##" "$work/err" | strip_timing > "$work/err2"
check bad-events.stderr.txt "$work/err2"

# Binary input: the same workload as NDJSON and as protobuf gives the same bytes.
"$bin" gen --rules "$rules" --employees 20 --days 10 --seed 5 --format ndjson --out "$work/g.ndjson" 2> /dev/null
"$bin" gen --rules "$rules" --employees 20 --days 10 --seed 5 --format pb --out "$work/g.pb" 2> /dev/null
"$bin" replay --rules "$rules" --events "$work/g.ndjson" --net -q > "$work/a"
"$bin" replay --rules "$rules" --events "$work/g.pb" --input-format pb --net -q > "$work/b"
if cmp -s "$work/a" "$work/b" && [ -s "$work/a" ]; then pass; else
  fail "NDJSON and binary input of one workload give different decisions"; fi
# --net reads the standing decisions from memory where it can: with a cache too
# small to keep every employee, the rest come from RocksDB, and the bytes agree.
"$bin" gen --rules "$rules" --employees 400 --days 30 --seed 3 --format pb --out "$work/big.pb" 2> /dev/null
"$bin" replay --rules "$rules" --events "$work/big.pb" --input-format pb --net -q > "$work/a"
"$bin" replay --rules "$rules" --events "$work/big.pb" --input-format pb --net -q --cache-mb 16 > "$work/b"
if [ -s "$work/a" ] && cmp -s "$work/a" "$work/b"; then pass; else
  fail "replay --net with a small cache printed different decisions"; fi
# The generator is deterministic.
"$bin" gen --rules "$rules" --employees 20 --days 10 --seed 5 --format pb --out "$work/g2.pb" 2> /dev/null
if cmp -s "$work/g.pb" "$work/g2.pb"; then pass; else
  fail "gen with one seed wrote different files"; fi

# Binary garbage and a truncated record in binary input.
head -c 300 "$work/g.pb" > "$work/trunc.pb"
"$bin" replay --rules "$rules" --events "$work/trunc.pb" --input-format pb -q > /dev/null 2> "$work/err"
expect_code "replay truncated binary" 1 $?
if grep -q "input ends inside a record" "$work/err"; then pass; else
  fail "truncated binary input not reported"; cat "$work/err"; fi
head -c 4096 /dev/urandom > "$work/garbage.pb" 2>/dev/null || true
"$bin" replay --rules "$rules" --events "$work/garbage.pb" --input-format pb -q > /dev/null 2> "$work/err"
code=$?
if [ "$code" = 1 ] && grep -q "UNPARSEABLE" "$work/err"; then pass; else
  fail "binary garbage: exit $code"; head -5 "$work/err"; fi

# --state keeps the state: a second replay of the same file finds only duplicates.
"$bin" replay --rules "$rules" --events "$sample" --state "$work/state" > /dev/null 2>&1
"$bin" replay --rules "$rules" --events "$sample" --state "$work/state" > "$work/out" 2> "$work/err"
if [ ! -s "$work/out" ] && grep -q "applied 0, duplicates 29, rejected 0" "$work/err"; then
  pass; else fail "--state did not keep the state"; cat "$work/err"; fi

# --net applies events employee by employee: the same counts and the same state
# as a run in input order. The state is compared by what it does: the second
# half of a workload replayed on top of each gives the same bytes in the order
# made (that run is not --net).
"$bin" gen --rules "$rules" --employees 30 --days 20 --seed 9 --format ndjson --out "$work/h.ndjson" 2> /dev/null
half=$(($(wc -l < "$work/h.ndjson") / 2))
head -n "$half" "$work/h.ndjson" > "$work/h1.ndjson"
tail -n +"$((half + 1))" "$work/h.ndjson" > "$work/h2.ndjson"
"$bin" replay --rules "$rules" --events "$work/h1.ndjson" --state "$work/in-order" > /dev/null 2> "$work/e1"
"$bin" replay --rules "$rules" --events "$work/h1.ndjson" --state "$work/grouped" --net > /dev/null 2> "$work/e2"
counts() { grep -o "events read .*reversed [0-9]*" "$1"; }
if [ -n "$(counts "$work/e1")" ] && [ "$(counts "$work/e1")" = "$(counts "$work/e2")" ]; then pass; else
  fail "replay --net counted differently: $(counts "$work/e1") / $(counts "$work/e2")"; fi
"$bin" replay --rules "$rules" --events "$work/h2.ndjson" --state "$work/in-order" > "$work/o1" 2> /dev/null
"$bin" replay --rules "$rules" --events "$work/h2.ndjson" --state "$work/grouped" > "$work/o2" 2> /dev/null
if [ -s "$work/o1" ] && cmp -s "$work/o1" "$work/o2"; then pass; else
  fail "the state of a replay --net differs from the state of a replay in input order"; fi

# Rules: check, errors with file:line:column, tests.
"$bin" rules check "$rules" > "$work/out" 2>&1
expect_code "rules check" 0 $?
"$bin" rules check "$here/bad-rules" > /dev/null 2> "$work/err"
expect_code "rules check bad" 3 $?
sed -e "s#$here/##" "$work/err" > "$work/err2"
check bad-rules.stderr.txt "$work/err2"
"$bin" replay --rules "$here/bad-rules" --events "$sample" > /dev/null 2>&1
expect_code "replay with bad rules" 3 $?

# Usage and I/O errors.
"$bin" replay --rules "$rules" > /dev/null 2>&1
expect_code "replay without --events" 2 $?
"$bin" replay --rules "$rules" --events "$work/does-not-exist" > /dev/null 2> "$work/err"
expect_code "replay of a missing file" 4 $?
"$bin" replay --rules "$rules" --events "$sample" --format html > /dev/null 2>&1
expect_code "replay --format html" 2 $?
# Offset bounds of a replay from Kafka: a bad range is a usage error named before any broker
# is reached (nothing listens on port 9 of 127.0.0.1).
bad_offsets() {  # bad_offsets SPEC MESSAGE
  "$bin" replay --rules "$rules" --bootstrap 127.0.0.1:9 --offsets "$1" -q > /dev/null 2> "$work/err"
  expect_code "replay --offsets $1" 2 $?
  expect_grep "replay --offsets $1: message" "^--offsets \"[^\"]*\": $2 (Hint: PARTITION is a number or \*" "$work/err"
}
bad_offsets calls.events:0:9-3 "FROM 9 is after TO 3"
bad_offsets calls.events:0:5 "no - between FROM and TO"
bad_offsets calls.events:first:1-2 "partition \"first\" is not a number or \*"
bad_offsets calls.events:0:1-ten "offset \"ten\" is not a number"
bad_offsets calls.events "not TOPIC:PARTITION:FROM-TO"
bad_offsets "calls.events:0:1-2,visits.completions:*:-x" "offset \"x\" is not a number"
"$bin" replay --rules "$rules" --events "$sample" --offsets calls.events:0:1-2 > /dev/null 2> "$work/err"
expect_code "replay --events --offsets" 2 $?
expect_grep "replay --events --offsets: message" "bound a replay of the input topics (Hint: --bootstrap" "$work/err"
"$bin" replay --rules "$rules" --events "$sample" --to-committed demerit > /dev/null 2>&1
expect_code "replay --events --to-committed" 2 $?
"$bin" audit diff --decisions "$sample" --against "$sample" --to-committed demerit > /dev/null 2> "$work/err"
expect_code "audit diff --decisions --to-committed" 2 $?
expect_grep "audit diff --decisions --to-committed: message" "to-committed bounds a replay of the input topics" "$work/err"
# audit diff of two files: a broken line stops it (exit 4, naming the line); an id
# issued twice is a log problem and a disagreement (exit 1).
"$bin" replay --rules "$rules" --events "$sample" > "$work/log.ndjson" 2> /dev/null
{ head -3 "$work/log.ndjson"; echo '{"kind":"ISSUE",'; tail -n +4 "$work/log.ndjson"; } > "$work/broken.ndjson"
"$bin" audit diff --decisions "$work/broken.ndjson" --against "$work/log.ndjson" > /dev/null 2> "$work/err"
expect_code "audit diff of a broken log" 4 $?
expect_grep "audit diff of a broken log: message" "broken.ndjson: line 4: not a valid decision" "$work/err"
{ cat "$work/log.ndjson"; head -1 "$work/log.ndjson"; } > "$work/twice.ndjson"
"$bin" audit diff --decisions "$work/twice.ndjson" --against "$work/log.ndjson" > "$work/out" 2>&1
expect_code "audit diff of a log issuing an id twice" 1 $?
expect_grep "audit diff of a log issuing an id twice: problem" "twice.ndjson: line $(($(wc -l < "$work/log.ndjson") + 1)): pen-[0-9a-f]* issued again without a reversal between" "$work/out"
"$bin" audit diff --decisions "$work/log.ndjson" --against "$work/log.ndjson" > /dev/null 2>&1
expect_code "audit diff of a log with itself" 0 $?
# A decision altered after it was made, its penalty_id kept: the id is a hash of
# the content, so the content no longer matches it (tampered), and the pair
# differs in that field. A field outside the hash (the reason) is compared too.
sed '1s/"amount_minor":"2000"/"amount_minor":"200"/' "$work/log.ndjson" > "$work/amount.ndjson"
sed '1s/"action":"NONE"/"action":"WARNING"/' "$work/log.ndjson" > "$work/action.ndjson"
sed '1s/"reason":"Late arrival/"reason":"Very late arrival/' "$work/log.ndjson" > "$work/reason.ndjson"
first_id=$(head -1 "$work/log.ndjson" | cut -d'"' -f4)
for altered in amount action; do
  "$bin" audit diff --decisions "$work/$altered.ndjson" --against "$work/log.ndjson" > "$work/out" 2> "$work/err"
  expect_code "audit diff of a log with an altered $altered" 1 $?
  expect_grep "audit diff of a log with an altered $altered: tampered" "^tampered: " "$work/out"
  expect_grep "audit diff of a log with an altered $altered: line" "$altered.ndjson: line 1: $first_id" "$work/out"
  expect_grep "audit diff of a log with an altered $altered: summary" "DISAGREE: .* 1 tampered" "$work/err"
  "$bin" audit diff --decisions "$work/log.ndjson" --against "$work/$altered.ndjson" --json > "$work/out" 2> /dev/null
  expect_code "audit diff --json against a log with an altered $altered" 1 $?
  expect_grep "audit diff --json against a log with an altered $altered" "\"finding\":\"tampered\"" "$work/out"
done
"$bin" audit diff --decisions "$work/reason.ndjson" --against "$work/log.ndjson" > "$work/out" 2> /dev/null
expect_code "audit diff of a log with an altered reason" 1 $?
expect_grep "audit diff of a log with an altered reason: field" "^    reason: Very late arrival" "$work/out"
"$bin" gen --rules "$rules" --employees 60 --days 30 --seed 4 --out "$work/g4.ndjson" 2> /dev/null
"$bin" replay --rules "$rules" --events "$work/g4.ndjson" -q > "$work/g4.decisions.ndjson"
"$bin" audit diff --decisions "$work/g4.decisions.ndjson" --against "$work/g4.decisions.ndjson" > /dev/null 2> "$work/err"
expect_code "audit diff of a generated log with itself" 0 $?
"$bin" frobnicate > /dev/null 2> "$work/err"
expect_code "unknown command" 2 $?
expect_grep "unknown command: message" "^unknown command \`frobnicate\`" "$work/err"
expect_grep "unknown command: the commands" "replay, rules, gen, process" "$work/err"
# Bounds and dates that cannot be right are usage errors, not empty or rolled-over runs.
"$bin" replay --rules "$rules" --events "$sample" --from 2026-11-05T00:00:00Z --to 2026-11-04T00:00:00Z \
  > /dev/null 2> "$work/err"
expect_code "replay --from after --to" 2 $?
expect_grep "replay --from after --to: message" "^--from 2026-11-05T00:00:00Z is not before --to 2026-11-04T00:00:00Z" "$work/err"
"$bin" audit diff --bootstrap 127.0.0.1:9 \
  --from 2026-11-05T00:00:00Z --to 2026-11-05T00:00:00Z > /dev/null 2> "$work/err"
expect_code "audit diff --from equal to --to" 2 $?
for start in 2026-02-30 2026-13-01 2025-02-29 2026-00-10 2026-04-31; do
  "$bin" gen --rules "$rules" --start "$start" > /dev/null 2> "$work/err"
  expect_code "gen --start $start" 2 $?
  expect_grep "gen --start $start: message" "^--start: \"$start\" is not a date" "$work/err"
done
"$bin" gen --rules "$rules" --start 2028-02-29 --employees 1 --days 1 > /dev/null 2>&1
expect_code "gen --start 2028-02-29" 0 $?
for range in "1999-12-30 --days 5" "2099-12-20 --days 30" "0001-01-01 --days 1" "2026-11-02 --days 100000"; do
  # shellcheck disable=SC2086
  "$bin" gen --rules "$rules" --employees 1 --start $range > /dev/null 2> "$work/err"
  expect_code "gen --start $range" 2 $?
  expect_grep "gen --start $range: message" "outside 2000-01-01..2100-01-01, the times replay accepts" "$work/err"
done
"$bin" export --decisions "$work/log.ndjson" --rules "$rules" --site jiarun-xinyang --period 2026-11 \
  --as-of-line 9999 > /dev/null 2> "$work/err"
expect_code "export --as-of-line past the end" 2 $?
expect_grep "export --as-of-line past the end: message" "^--as-of-line 9999: .* has only $(wc -l < "$work/log.ndjson") lines" "$work/err"
"$bin" export --bootstrap 127.0.0.1:9 --rules "$rules" --site jiarun-xinyang --period 2026-11 \
  --as-of-line 3 > /dev/null 2> "$work/err"
expect_code "export --bootstrap --as-of-line" 2 $?
expect_grep "export --bootstrap --as-of-line: message" "^--as-of-line counts the lines of a decision log file" "$work/err"

finish "cli golden"
