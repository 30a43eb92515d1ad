#!/usr/bin/env bash
# `demerit replay --net` of any permutation of an event set, with any
# duplication, prints the same bytes (here: 12 orders of a generated set).
# Usage: permutation_test.sh DEMERIT_BINARY SOURCE_ROOT
set -u
bin=$1
root=$2
rules="$root/rules"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" gen --rules "$rules" --employees 30 --days 45 --seed 11 --out "$work/events.ndjson" 2> /dev/null
"$bin" replay --rules "$rules" --events "$work/events.ndjson" --net -q > "$work/reference"
lines=$(wc -l < "$work/reference")
if [ "$lines" -lt 100 ]; then echo "FAIL: only $lines standing decisions"; exit 1; fi
failures=0
for seed in 1 2 3 4 5 6 7 8 9 10 11 12; do
  # A seeded shuffle, with a seeded tenth of the lines duplicated.
  awk -v s="$seed" 'BEGIN { srand(s) } { print rand() "\t" $0; if (rand() < 0.1) print rand() "\t" $0 }' \
    "$work/events.ndjson" | sort -k1,1 -s | cut -f2- > "$work/shuffled"
  "$bin" replay --rules "$rules" --events "$work/shuffled" --net -q > "$work/net"
  if ! cmp -s "$work/reference" "$work/net"; then
    echo "FAIL: order $seed gives different standing decisions"
    diff "$work/reference" "$work/net" | head -5
    failures=$((failures + 1))
  fi
done
echo "permutations: $((12 - failures)) passed, $failures failed ($lines standing decisions)"
[ "$failures" = 0 ]
