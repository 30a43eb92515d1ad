#!/usr/bin/env bash
# Failures a command must not hide: outputs that cannot be written (a full
# disk, a closed pipe), inputs that are not files, and interruptions, which
# must leave no temporary state behind.
# Usage: failures_test.sh DEMERIT_BINARY SOURCE_ROOT
. "$(dirname "$0")/lib.sh" "$@"
rules="$root/rules"
sample="$rules/samples/events.ndjson"

"$bin" replay --rules "$rules" --events "$sample" -q > "$work/log.ndjson"
penalty=$(grep -o '"penalty_id":"pen-[0-9a-f]*"' "$work/log.ndjson" | head -1 | cut -d'"' -f4)
[ -n "$penalty" ] || fail "no penalty_id in the sample's decisions"

# Every command that writes, to a full disk: /dev/full fails every write with
# ENOSPC. Both --out /dev/full and > /dev/full exit 4, naming the output.
full() {  # full NAME COMMAND...: COMMAND, its standard output /dev/full
  local name=$1
  shift
  "$@" > /dev/full 2> "$work/err"
  expect_code "$name" 4 $?
  expect_grep "$name: message" "^cannot write .*: No space left on device" "$work/err"
}
for format in ndjson table; do
  for net in "" --net; do
    replay=("$bin" replay --rules "$rules" --events "$sample" -q --format "$format" $net)
    full "replay --format $format $net --out /dev/full" "${replay[@]}" --out /dev/full
    full "replay --format $format $net > /dev/full" "${replay[@]}"
  done
done
"$bin" replay --rules "$rules" --events "$sample" -q --out "$work/o" --metrics-out /dev/full \
  2> "$work/err"
expect_code "replay --metrics-out /dev/full" 4 $?
expect_grep "replay --metrics-out /dev/full: message" "^cannot write /dev/full: No space left on device" "$work/err"
for json in "" --json; do
  full "explain $json > /dev/full" \
    "$bin" explain "$penalty" --rules "$rules" --decisions "$work/log.ndjson" $json
done
export_args=(--rules "$rules" --decisions "$work/log.ndjson" --site jiarun-xinyang --period 2026-11)
full "export --out /dev/full" "$bin" export "${export_args[@]}" --out /dev/full
full "export > /dev/full" "$bin" export "${export_args[@]}"
for size in "--employees 1 --days 1" "--employees 50 --days 10"; do
  # shellcheck disable=SC2086
  full "gen $size --out /dev/full" "$bin" gen --rules "$rules" $size --out /dev/full
  # shellcheck disable=SC2086
  full "gen $size > /dev/full" "$bin" gen --rules "$rules" $size
done
head -5 "$work/log.ndjson" > "$work/head.ndjson"
for json in "" --json; do
  full "audit diff $json > /dev/full" \
    "$bin" audit diff --decisions "$work/log.ndjson" --against "$work/head.ndjson" $json
done

# A directory is not an event file.
"$bin" replay --rules "$rules" --events "$work" > /dev/null 2> "$work/err"
expect_code "replay --events DIR" 4 $?
expect_grep "replay --events DIR: message" "^cannot open events file $work: Is a directory (Hint: " "$work/err"
# A read that fails (standard input is a directory: every read fails with EISDIR)
# is an error, not the end of the input.
"$bin" replay --rules "$rules" --events - < "$work" > /dev/null 2> "$work/err"
expect_code "replay --events - < DIR" 4 $?
expect_grep "replay --events - < DIR: message" "^cannot read -: Is a directory" "$work/err"
"$bin" explain "$penalty" --rules "$rules" --decisions "$work/log.ndjson" --events "$work" \
  > /dev/null 2> "$work/err"
expect_code "explain --events DIR" 4 $?
expect_grep "explain --events DIR: message" "^cannot open events file $work: Is a directory" "$work/err"
for command in "export ${export_args[*]:0:2} --site jiarun-xinyang --period 2026-11" "audit diff --against $work/log.ndjson"; do
  # shellcheck disable=SC2086
  "$bin" $command --decisions "$work" > /dev/null 2> "$work/err"
  expect_code "${command%% *} --decisions DIR" 4 $?
  expect_grep "${command%% *} --decisions DIR: message" "$work: Is a directory" "$work/err"
done

# Interrupted replays remove their temporary state. The input is a pipe held
# open by the test, so the replay is still running when the signal comes; the
# pipe is closed after the signal, so that a replay that ignores it still ends.
# Job control on: a background job's SIGINT is then not ignored.
set -m
"$bin" gen --rules "$rules" --employees 200 --days 10 --out "$work/big.ndjson" 2> /dev/null
await_state() {  # await_state DIR PID: until a state directory appears in DIR (or PID ends)
  local i
  for ((i = 0; i < 600; i++)); do
    compgen -G "$1/demerit-state-*" > /dev/null && return 0
    kill -0 "$2" 2> /dev/null || return 1
    sleep 0.05
  done
  return 1
}
for signal in INT TERM; do
  tmp="$work/tmp-$signal"
  mkdir "$tmp"
  rm -f "$work/fifo"
  mkfifo "$work/fifo"
  TMPDIR="$tmp" "$bin" replay --rules "$rules" --events - < "$work/fifo" > /dev/null 2> "$work/err" &
  pid=$!
  exec 3> "$work/fifo"
  cat "$work/big.ndjson" >&3 &
  writer=$!
  if await_state "$tmp" "$pid"; then pass; else fail "replay (SIG$signal): no state directory"; fi
  kill -"$signal" "$pid"
  kill "$writer" 2> /dev/null
  wait "$writer" 2> /dev/null
  exec 3>&-
  wait "$pid"
  code=$?
  want=$((128 + $(kill -l "$signal")))
  expect_code "replay stopped by SIG$signal" "$want" "$code"
  if [ -z "$(ls -A "$tmp")" ]; then pass; else
    fail "replay stopped by SIG$signal left $(ls "$tmp")"; fi
done
set +m
# A reader that goes away: gen stops at once (a year of 2,000 employees would
# take minutes), quietly.
timeout 60 "$bin" gen --rules "$rules" --employees 2000 --days 365 2> "$work/err" | head -1 > "$work/out"
code=${PIPESTATUS[0]}
expect_code "gen | head -1" 141 "$code"
if [ ! -s "$work/err" ]; then pass; else fail "gen | head -1 said: $(head -3 "$work/err")"; fi
# A reader that goes away: the replay stops quietly and removes its state.
tmp="$work/tmp-pipe"
mkdir "$tmp"
TMPDIR="$tmp" "$bin" replay --rules "$rules" --events "$work/big.ndjson" -q 2> "$work/err" | head -1 > "$work/out"
code=${PIPESTATUS[0]}
expect_code "replay | head -1" 141 "$code"
if [ "$(wc -l < "$work/out")" = 1 ]; then pass; else fail "replay | head -1 printed no line"; fi
if [ ! -s "$work/err" ]; then pass; else fail "replay | head -1 said: $(head -3 "$work/err")"; fi
if [ -z "$(ls -A "$tmp")" ]; then pass; else fail "replay | head -1 left $(ls "$tmp")"; fi

# Commands that print with std::cout are checked at exit.
for cmd in "rules check $rules" "rules test $rules"; do
  $bin $cmd > /dev/full 2> "$work/err"
  expect_code "$cmd > /dev/full" 4 $?
  expect_grep "$cmd > /dev/full" "cannot write standard output: No space left on device" "$work/err"
done

# A --config file that cannot be read is an input file that could not be used
# (exit 4) for every command that takes one, and names the file.
for cmd in "replay --rules $rules" "audit diff --rules $rules --to-committed demerit" "lag" "tail"; do
  $bin $cmd --config "$work/no-such.yaml" > /dev/null 2> "$work/err"
  expect_code "$cmd --config missing" 4 $?
  expect_grep "$cmd --config missing" "no-such.yaml: cannot read the configuration file" "$work/err"
done

finish "cli failures"
