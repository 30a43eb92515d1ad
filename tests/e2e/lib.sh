# Shared by the command-line tests: the binary, a scratch directory removed at
# the end, and checks that count passes and failures.
# Usage: . lib.sh DEMERIT_BINARY SOURCE_ROOT   (UPDATE_GOLDEN=1 rewrites the golden files)
set -u
bin=$1
root=$2
here="$root/tests/e2e"
golden="$here/golden"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
passes=0

pass() { passes=$((passes + 1)); }
fail() {  # fail MESSAGE...: counts a failure and prints it
  echo "FAIL: $*"
  failures=$((failures + 1))
}

check() {  # check NAME FILE: compare FILE with golden/NAME
  local name=$1 file=$2
  if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
    cp "$file" "$golden/$name"
  fi
  if diff -u "$golden/$name" "$file" > "$work/diff"; then
    pass
  else
    fail "$name differs from the golden file:"
    head -40 "$work/diff"
  fi
}

expect_code() {  # expect_code NAME WANT GOT
  if [ "$2" = "$3" ]; then pass; else fail "$1: exit code $3, expected $2"; fi
}

expect_grep() {  # expect_grep NAME PATTERN FILE: FILE has a line matching PATTERN
  if grep -q -- "$2" "$3"; then pass; else
    fail "$1: no line matches \"$2\":"
    head -10 "$3"
  fi
}

finish() {  # finish NAME: the counts; the exit status of the test
  echo "$1: $passes passed, $failures failed"
  [ "$failures" = 0 ]
}
