#!/usr/bin/env bash
# An open transaction on the penalties topic (as an instance leaves behind when
# it stops mid-transaction) holds the committed end back. Reading to the end
# waits for it and says why; then it reads what the transaction committed, or
# skips what it aborted, and never cuts off what was committed after it.
# Usage: open_transaction_test.sh DEMERIT TXN_HOLD SOURCE_ROOT
HOLD=$2
set -- "$1" "$3"
. "$(dirname "$0")/lib.sh" "$@"
start_broker
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 1 > /dev/null

# wait_for FILE PATTERN SECONDS: until a line of FILE matches.
wait_for() {
  local deadline=$((SECONDS + $3))
  until grep -q "$2" "$1" 2> /dev/null; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
}

# run_case commit|abort HELD_EXPECTED: 3 records in a transaction held open,
# 2 committed after it, then the held transaction ends with commit or abort.
run_case() {
  local outcome=$1 held_expected=$2
  mkfifo "$WORK/$outcome.in"
  "$HOLD" "$BOOTSTRAP" demerit.penalties "held-$outcome" 3 < "$WORK/$outcome.in" \
    > "$WORK/$outcome.hold" 2>&1 &
  local hold=$!
  exec 3> "$WORK/$outcome.in"
  wait_for "$WORK/$outcome.hold" "^open" 60 || { fail "$outcome: transaction not opened"; return; }
  echo commit | "$HOLD" "$BOOTSTRAP" demerit.penalties "after-$outcome" 2 > "$WORK/$outcome.after" 2>&1 \
    || { fail "$outcome: records after the open transaction not committed"; return; }
  "$DEMERIT" tail --bootstrap "$BOOTSTRAP" --from-beginning --exit-at-end \
    > "$WORK/$outcome.tail" 2> "$WORK/$outcome.tail.err" &
  local reader=$!
  wait_for "$WORK/$outcome.tail.err" "an open transaction holds offsets" 60 \
    && pass "$outcome: the reader says an open transaction holds the end back" \
    || fail "$outcome: no word of the open transaction ($(cat "$WORK/$outcome.tail.err"))"
  kill -0 "$reader" 2> /dev/null && pass "$outcome: the reader waits for it" \
    || fail "$outcome: the reader stopped at the open transaction"
  echo "$outcome" >&3
  exec 3>&-
  wait "$hold" || fail "$outcome: txn_hold failed: $(cat "$WORK/$outcome.hold")"
  wait "$reader"
  local code=$?
  [ "$code" = 0 ] && pass "$outcome: the reader ends with exit 0" \
    || fail "$outcome: the reader exited $code"
  local held after
  held=$(grep -c "\"held-$outcome-" "$WORK/$outcome.tail")
  after=$(grep -c "\"after-$outcome-" "$WORK/$outcome.tail")
  [ "$held" = "$held_expected" ] && pass "$outcome: $held of the held transaction's records read" \
    || fail "$outcome: $held of the held transaction's records read, want $held_expected"
  [ "$after" = 2 ] && pass "$outcome: the records committed after it are read" \
    || fail "$outcome: $after of the 2 records committed after it read"
}

run_case commit 3
run_case abort 0
finish
