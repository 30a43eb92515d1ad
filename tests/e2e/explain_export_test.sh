#!/usr/bin/env bash
# Golden tests of `demerit explain` and `demerit export`, and export totals checked against
# figures computed by hand from the policy catalog (POLICY_CATALOG.md, rules/).
# Usage: explain_export_test.sh DEMERIT_BINARY SOURCE_ROOT   (UPDATE_GOLDEN=1 rewrites the golden files)
. "$(dirname "$0")/lib.sh" "$@"
fixture="$here/fixtures/export-events.ndjson"
cd "$root" || exit 1  # paths in the outputs are relative to the source root

expect_csv() {  # expect_csv NAME FILE: FILE must hold exactly the CSV on standard input (LF -> CRLF)
  local name=$1 file=$2
  sed 's/$/\r/' > "$work/want.csv"
  if cmp -s "$work/want.csv" "$file"; then
    pass
  else
    fail "$name: the export is not the hand-computed one:"
    diff -u <(tr -d '\r' < "$work/want.csv") <(tr -d '\r' < "$file") | head -20
    cmp "$work/want.csv" "$file" | head -2
  fi
}

# The decision log of the sample, as replay prints it.
log="$work/sample.decisions.ndjson"
"$bin" replay --rules rules --events rules/samples/events.ndjson -q > "$log"
expect_code "replay sample" 0 $?

explain() {  # explain NAME ARGS...: text and JSON, both compared with golden files
  local name=$1
  shift
  "$bin" explain "$@" --decisions "$log" --rules rules --events rules/samples/events.ndjson \
    > "$work/out" 2> "$work/err"
  expect_code "explain $name" 0 $?
  sed -e "s#$work/##g" "$work/out" > "$work/out2"
  check "explain_$name.txt" "$work/out2"
  "$bin" explain "$@" --decisions "$log" --rules rules --events rules/samples/events.ndjson \
    --json > "$work/out" 2> "$work/err"
  expect_code "explain $name --json" 0 $?
  sed -e "s#$work/##g" "$work/out" > "$work/out2"
  check "explain_$name.json" "$work/out2"
}

# A fine held back by the monthly cap, with a history: issued (line 10), reversed when
# a-008-fix re-ranked the month (13), re-issued at another amount (14), reversed when the late
# ob-000 arrived (15), and issued again as at first (17). It stands.
explain capped-reranked pen-9a16022cbea3c31bdcce6dd850db776b
# The 3rd step of a ladder shared by the rules of a pack: 200 CNY and a NOTICE.
explain ladder-step-3 pen-374d34c866d1b202f16c4b443e179b28
# A fine of a site where fines are not allowed: 0, marked, a WARNING instead.
explain fines-not-allowed pen-4593d70882bd7d75e8f5b6e993d83a70
# Asked by the id of a reversal: the DISMISSAL_REVIEW of the 5th lateness, withdrawn when the
# punch a-008 was corrected; ranks 1 to 4 skipped by the ladder come from its evidence.
explain reversed-by-correction rev-e65f296d8926627b8c905a8f63c2ab72

# Without --events the explanation still stands on the log and the rules.
"$bin" explain pen-374d34c866d1b202f16c4b443e179b28 --decisions "$log" --rules rules > "$work/out" 2>&1
expect_code "explain without --events" 0 $?
if grep -q "^  c-101  occurrence 1$" "$work/out"; then pass; else
  fail "explain without --events lists no evidence"; fi

# Errors: an id not in the log, an unreadable log, an unreadable event file, no id.
"$bin" explain pen-00000000000000000000000000000000 --decisions "$log" --rules rules > "$work/out" 2> "$work/err"
expect_code "explain unknown id" 1 $?
if [ ! -s "$work/out" ] && grep -q "no decision with this id" "$work/err"; then
  pass; else fail "explain unknown id: wrong messages"; cat "$work/err"; fi
"$bin" explain pen-374d34c866d1b202f16c4b443e179b28 --decisions "$work/missing" --rules rules > /dev/null 2>&1
expect_code "explain of a missing log" 4 $?
"$bin" explain pen-374d34c866d1b202f16c4b443e179b28 --decisions "$log" --rules rules --events "$work/missing" > /dev/null 2>&1
expect_code "explain with a missing event file" 4 $?
"$bin" explain pen-374d34c866d1b202f16c4b443e179b28 --decisions - --rules rules < /dev/null > /dev/null 2>&1
expect_code "explain of an empty standard input" 1 $?
"$bin" explain 9a16022cbea3c31bdcce6dd850db776b --decisions "$log" --rules rules > /dev/null 2> "$work/err"
expect_code "explain of an id without its prefix" 1 $?
expect_grep "explain of an id without its prefix: hint" "Hint: an issue's id starts with pen-" "$work/err"

# The issue that a re-ranking reversed, and that was not issued again: its history shows the
# reversal (line 15, caused by the late ob-000) and the issue decided in its place (line 17).
"$bin" explain pen-6a05756def9df17c3909200be5a91968 --decisions "$log" --rules rules > "$work/out" 2>&1
expect_code "explain a re-ranked issue" 0 $?
expect_grep "re-ranked issue: does not stand" "^pen-6a05756def9df17c3909200be5a91968: does not stand" "$work/out"
expect_grep "re-ranked issue: its reversal" "line 15  REVERSAL  \*  rev-6739571c14759ada949666506906f1cf  reverses pen-6a05756def9df17c3909200be5a91968 .*cause: ob-000" "$work/out"
expect_grep "re-ranked issue: the issue in its place" "line 17  ISSUE        pen-9a16022cbea3c31bdcce6dd850db776b" "$work/out"
expect_grep "re-ranked issue: the count" "issued 1 time, reversed 1 time" "$work/out"

# Lines that are not decisions are reported with their line numbers and skipped: the
# explanation is printed, with a note, and the exit code is 1. Line 4 is not JSON, line 11 is
# cut short, the last line has a bad kind.
{ head -3 "$log"; echo 'garbage'; sed -n 4,9p "$log"; sed -n 10p "$log" | cut -c1-80; sed -n '11,$p' "$log"
  echo '{"penalty_id":"pen-9a16022cbea3c31bdcce6dd850db776b","employee_id":"li.wei","kind":"NOT_A_KIND"}'
} > "$work/bad.ndjson"
last=$(wc -l < "$work/bad.ndjson")
"$bin" explain pen-9a16022cbea3c31bdcce6dd850db776b --decisions "$work/bad.ndjson" --rules rules > "$work/out" 2> "$work/err"
expect_code "explain of a log with bad lines" 1 $?
expect_grep "explain of a log with bad lines: explained" "^pen-9a16022cbea3c31bdcce6dd850db776b: stands" "$work/out"
expect_grep "explain of a log with bad lines: note" "note .*3 lines of .*bad.ndjson are not decisions and were skipped (lines 4, 11, $last)" "$work/out"
for line in 4 11 "$last"; do
  expect_grep "bad line $line reported" "bad.ndjson: line $line: not a valid decision: .* (skipped)" "$work/err"
done
"$bin" explain pen-9a16022cbea3c31bdcce6dd850db776b --decisions "$work/bad.ndjson" --rules rules --json > "$work/out" 2> /dev/null
expect_code "explain --json of a log with bad lines" 1 $?
expect_grep "explain --json of a log with bad lines: note" '"3 lines of .*bad.ndjson are not decisions' "$work/out"
echo '{"penalty_id":"pen-374d34c866d1b202f16c4b443e179b28","kind":"NOT_A_KIND"}' > "$work/bad1.ndjson"
"$bin" explain pen-374d34c866d1b202f16c4b443e179b28 --decisions "$work/bad1.ndjson" --rules rules > "$work/out" 2> "$work/err"
expect_code "explain of an id found only on a bad line" 1 $?
expect_grep "an id found only on a bad line: the line" "bad1.ndjson: line 1: " "$work/err"
expect_grep "an id found only on a bad line: not found" "no decision with this id" "$work/err"
"$bin" explain --decisions "$log" > /dev/null 2>&1
expect_code "explain without an id" 2 $?

# Export of the sample: li.wei and chen.jie at jiarun-xinyang in November.
"$bin" export --decisions "$log" --rules rules --site jiarun-xinyang --period 2026-11 > "$work/out" 2> "$work/err"
expect_code "export sample" 0 $?
check export_sample_jiarun-xinyang_2026-11.csv "$work/out"
# By hand (POLICY_CATALOG.md, jiarun-aftersales, cap 20000 a local month), li.wei's standing
# November in ranking order: off-post ob-000 2000, late a-001 2000, early a-004 2000, late a-005
# 2000 (+ its missing-punch WARNING 0), late a-006 2000, vehicle-not-clean cb-001 5000, gaming
# ob-001 5000 = 20000; gaming ob-002 (2nd: 10000) finds the cap full: 0, capped 10000. a-008 was
# corrected to an on-time punch, so neither its late fine nor the 5th-lateness review stands.
# 9 decisions, 1 warning. chen.jie: the 3rd unanswered supervisor call of Nov 3rd, 5000.
expect_csv "export sample by hand" "$work/out" <<'EOF'
employee_id,site_id,period,currency,fines_minor,capped_minor,decisions,warnings,notices,dismissal_reviews,dismissals
chen.jie,jiarun-xinyang,2026-11,CNY,5000,0,1,0,0,0,0
li.wei,jiarun-xinyang,2026-11,CNY,20000,10000,9,1,0,0,0
EOF

# The hand-computed fixture (tests/e2e/fixtures/export-events.ndjson), jiarun-xinyang
# (Asia/Shanghai, UTC+8; shift 09:00-18:00 = 01:00Z-10:00Z; cap 20000 fen a local month):
# - qian.lei clocks in at 09:10 local (late) on November 2nd to 12th: 11 late arrivals, and
#   out at 18:00 (on time) except on the 6th, whose missing clock-out is a WARNING once his
#   next punch passes 22:00 local. On December 1st 07:30 local (November 30th 23:30Z) he is
#   found off post: 2000 in December. Last line of the file: the punch of the 3rd is voided.
# - 'hu, "xiao" bo' (a name that needs CSV quoting): no badge on October 31st 23:00 local (1000,
#   October), off post on November 1st 07:00 local = October 31st 23:00Z (2000, November), online
#   gaming on November 10th, 11th, 12th: 5000, 10000, then DISMISSAL with 0.
# - sun.yu's late punch of November 5th is replaced by an on-time one: nothing stands, no row.
# - zhao.jun at huawei-shenzhen (no cap): uniform missing three times, one yearly ladder
#   5000, 10000, 20000 + NOTICE; a call with 90 s on hold: call-centre long-hold WARNING.
fixlog="$work/fixture.decisions.ndjson"
"$bin" replay --rules rules --events "$fixture" -q > "$fixlog"
expect_code "replay fixture" 0 $?

# Before the correction (the log as it was before the void arrived): qian.lei, November:
#   late arrivals 1..10: 10 x 2000 = 20000 = the cap; the 11th (2000) finds it full: 0, capped
#   2000. fines_minor 20000, capped_minor 2000.
#   lateness-limit: the 5th to 11th late arrivals = 7 DISMISSAL_REVIEWs (0 each).
#   decisions 11 late + 7 reviews + 1 missing-punch WARNING = 19; warnings 1.
# hu, "xiao" bo, November: 2000 + 5000 + 10000 + 0 = 17000 (under the cap); 4 decisions,
#   1 dismissal.
head -n -1 "$fixture" > "$work/before.ndjson"
"$bin" replay --rules rules --events "$work/before.ndjson" -q > "$work/before.decisions.ndjson"
lines_before=$(wc -l < "$work/before.decisions.ndjson")
"$bin" export --decisions "$work/before.decisions.ndjson" --rules rules --site jiarun-xinyang \
  --period 2026-11 > "$work/before.csv"
expect_code "export before the correction" 0 $?
expect_csv "export before the correction, by hand" "$work/before.csv" <<'EOF'
employee_id,site_id,period,currency,fines_minor,capped_minor,decisions,warnings,notices,dismissal_reviews,dismissals
"hu, ""xiao"" bo",jiarun-xinyang,2026-11,CNY,17000,0,4,0,0,0,1
qian.lei,jiarun-xinyang,2026-11,CNY,20000,2000,19,1,0,7,0
EOF
# --as-of-line on the full log reproduces that export byte for byte: the decisions of a prefix
# of the events are a prefix of the log.
"$bin" export --decisions "$fixlog" --rules rules --site jiarun-xinyang --period 2026-11 \
  --as-of-line "$lines_before" > "$work/asof.csv"
expect_code "export --as-of-line" 0 $?
if cmp -s "$work/before.csv" "$work/asof.csv"; then pass; else
  fail "--as-of-line $lines_before does not reproduce the export made before the correction"
  diff "$work/before.csv" "$work/asof.csv" | head; fi

# After the correction, appended at the end of the log, counted in November where it belongs:
#   qian.lei: 10 late arrivals x 2000 = 20000, exactly the cap, nothing held back: capped 0;
#   reviews for the 5th to 10th = 6; decisions 10 + 6 + 1 = 17.
"$bin" export --decisions "$fixlog" --rules rules --site jiarun-xinyang --period 2026-11 \
  --out "$work/after.csv" > "$work/out"
expect_code "export after the correction" 0 $?
if [ ! -s "$work/out" ]; then pass; else
  fail "export --out also wrote to standard output"; fi
expect_csv "export after the correction, by hand" "$work/after.csv" <<'EOF'
employee_id,site_id,period,currency,fines_minor,capped_minor,decisions,warnings,notices,dismissal_reviews,dismissals
"hu, ""xiao"" bo",jiarun-xinyang,2026-11,CNY,17000,0,4,0,0,0,1
qian.lei,jiarun-xinyang,2026-11,CNY,20000,0,17,1,0,6,0
EOF
check export_fixture_jiarun-xinyang_2026-11.csv "$work/after.csv"

# Local months: November 30th 23:30Z is December at the site; October 31st 15:00Z is October.
"$bin" export --decisions "$fixlog" --rules rules --site jiarun-xinyang --period 2026-12 > "$work/out"
expect_csv "export December, by hand" "$work/out" <<'EOF'
employee_id,site_id,period,currency,fines_minor,capped_minor,decisions,warnings,notices,dismissal_reviews,dismissals
qian.lei,jiarun-xinyang,2026-12,CNY,2000,0,1,0,0,0,0
EOF
"$bin" export --decisions - --rules rules --site jiarun-xinyang --period 2026-10 < "$fixlog" > "$work/out"
expect_csv "export October from standard input, by hand" "$work/out" <<'EOF'
employee_id,site_id,period,currency,fines_minor,capped_minor,decisions,warnings,notices,dismissal_reviews,dismissals
"hu, ""xiao"" bo",jiarun-xinyang,2026-10,CNY,1000,0,1,0,0,0,0
EOF
# zhao.jun: 5000 + 10000 + 20000 = 35000; 4 decisions, 1 warning, 1 notice.
"$bin" export --decisions "$fixlog" --rules rules --site huawei-shenzhen --period 2026-11 > "$work/out"
expect_csv "export huawei-shenzhen, by hand" "$work/out" <<'EOF'
employee_id,site_id,period,currency,fines_minor,capped_minor,decisions,warnings,notices,dismissal_reviews,dismissals
zhao.jun,huawei-shenzhen,2026-11,CNY,35000,0,4,1,1,0,0
EOF
# A month with nothing: the header alone.
"$bin" export --decisions "$fixlog" --rules rules --site jiarun-xinyang --period 2027-01 > "$work/out"
expect_csv "export of an empty month" "$work/out" <<'EOF'
employee_id,site_id,period,currency,fines_minor,capped_minor,decisions,warnings,notices,dismissal_reviews,dismissals
EOF

# Errors.
"$bin" export --decisions "$fixlog" --rules rules --site nowhere --period 2026-11 > /dev/null 2> "$work/err"
expect_code "export unknown site" 2 $?
if grep -q "jiarun-xinyang" "$work/err"; then pass; else
  fail "export unknown site does not name the known sites"; cat "$work/err"; fi
for bad in 2026-13 2026-1 26-11 2026-11-01 november; do
  "$bin" export --decisions "$fixlog" --rules rules --site jiarun-xinyang --period "$bad" > /dev/null 2>&1
  expect_code "export --period $bad" 2 $?
done
"$bin" export --decisions "$fixlog" --rules rules --site jiarun-xinyang --period 2026-11 \
  --as-of 2026-11-20T00:00:00Z > /dev/null 2> "$work/err"
expect_code "export --as-of a time" 2 $?
"$bin" export --decisions "$fixlog" --rules rules --site jiarun-xinyang --period 2026-11 --as-of-line 0 > /dev/null 2>&1
expect_code "export --as-of-line 0" 2 $?
"$bin" export --decisions "$work/missing" --rules rules --site jiarun-xinyang --period 2026-11 > /dev/null 2>&1
expect_code "export of a missing log" 4 $?
echo 'not json' > "$work/bad-export.ndjson"
"$bin" export --decisions "$work/bad-export.ndjson" --rules rules --site jiarun-xinyang --period 2026-11 > /dev/null 2>&1
expect_code "export of a log that is not decisions" 4 $?
"$bin" export --decisions "$fixlog" --rules rules --site jiarun-xinyang --period 2026-11 --out "$work/no/such/dir.csv" > /dev/null 2>&1
expect_code "export to an unwritable file" 4 $?
# A log whose reversal names no standing issue is reported; the export is still written.
grep -v '"kind":"ISSUE"' "$fixlog" | head -1 > "$work/orphan.ndjson"
"$bin" export --decisions "$work/orphan.ndjson" --rules rules --site jiarun-xinyang --period 2026-11 > "$work/out" 2> "$work/err"
code=$?
if [ "$code" = 1 ] && grep -q "which does not stand" "$work/err" && [ -s "$work/out" ]; then
  pass; else fail "orphan reversal: exit $code"; cat "$work/err"; fi

# Cells a spreadsheet would take for a formula (=, +, -, @, a tab or a carriage
# return first) are text: a ' before them (OWASP's advice on CSV injection).
# Only text cells: a negative fines_minor stays a number.
one=$(grep -m1 '"kind":"ISSUE".*"site_id":"jiarun-xinyang".*"occurred_at":"2026-11' "$log" \
  | sed 's/"amount_minor":"[0-9]*"/"amount_minor":"-2000"/')
before=${one%%\"employee_id\"*}
after=${one#*\"employee_id\":\"*\"}
n=0
for employee in '=HYPERLINK(\"http://x\")' '+1+2' '-3' '@SUM(A1)' '\tx' '\ry' 'plain'; do
  n=$((n + 1))
  printf '%s"employee_id":"%s"%s\n' "$before" "$employee" "$after" \
    | sed "s/\"penalty_id\":\"[^\"]*\"/\"penalty_id\":\"pen-$n\"/"
done > "$work/injection.ndjson"
"$bin" export --decisions "$work/injection.ndjson" --rules rules --site jiarun-xinyang --period 2026-11 \
  > "$work/out" 2> "$work/err"
expect_code "export of formula-like names" 0 $?
row=",jiarun-xinyang,2026-11,CNY,-2000,0,1,0,0,0,0"
{
  printf 'employee_id,site_id,period,currency,fines_minor,capped_minor,decisions,warnings,notices,dismissal_reviews,dismissals\r\n'
  printf '%s%s\r\n' "$(printf "'\tx")" "$row" "\"'"$'\r'"y\"" "$row" "'+1+2" "$row" "'-3" "$row" \
    "\"'=HYPERLINK(\"\"http://x\"\")\"" "$row" "'@SUM(A1)" "$row" plain "$row"
} > "$work/want.csv"
if cmp -s "$work/want.csv" "$work/out"; then pass; else
  fail "export of formula-like names:"; diff <(od -c "$work/want.csv") <(od -c "$work/out") | head -20; fi
# --excel: a UTF-8 byte order mark first, for spreadsheets that otherwise read the
# file in a legacy code page; the rest is the same bytes.
"$bin" export --decisions "$log" --rules rules --site jiarun-xinyang --period 2026-11 --excel \
  > "$work/excel.csv" 2> /dev/null
expect_code "export --excel" 0 $?
"$bin" export --decisions "$log" --rules rules --site jiarun-xinyang --period 2026-11 > "$work/plain.csv" 2> /dev/null
if cmp -s "$work/excel.csv" <(printf '\xef\xbb\xbf'; cat "$work/plain.csv"); then pass; else
  fail "export --excel is not a byte order mark and the CSV"; head -c 16 "$work/excel.csv" | od -c | head -2; fi

finish "explain/export"
