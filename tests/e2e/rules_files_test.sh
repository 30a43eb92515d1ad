#!/usr/bin/env bash
# Command-line tests of rule and configuration files: duplicate keys, .yml packs, rules edited in
# place (rules check --previous), and the processor's configuration checks.
# Usage: rules_files_test.sh DEMERIT_BINARY SOURCE_ROOT
. "$(dirname "$0")/lib.sh" "$@"

# rules_dir DIR AMOUNT [EFFECTIVE_FROM_LINE]: a one-site, one-pack rules directory with one test.
rules_dir() {
  mkdir -p "$1/packs" "$1/tests"
  cat > "$1/sites.yaml" <<YAML
sites:
  - id: s1
    time_zone: Asia/Shanghai
    currency: CNY
    packs: [p]
YAML
  cat > "$1/packs/p.yaml" <<YAML
pack: p
title: T
rules:
  - id: late
    title: Late
    clause: c1
    stream: attendance
    when: {kind: CLOCK_IN, late_seconds: {gt: 0}}
    window: month
    ladder: [{amount: {CNY: $2}}]
${3:-}
YAML
  cat > "$1/tests/p.yaml" <<YAML
cases:
  - name: on time
    events:
      - attendance: {event_id: a1, site_id: s1, employee_id: e1, occurred_at: "2026-11-02T01:00:00Z", kind: CLOCK_IN}
    expect: []
YAML
}

# ---- Duplicate keys are errors with file:line:column, in packs, sites and rule tests.
rules_dir "$work/dup" 2000
printf 'rules:\n  - id: again\n' >> "$work/dup/packs/p.yaml"
"$bin" rules check "$work/dup" > /dev/null 2> "$work/err"
expect_code "rules check: duplicate rules block" 3 $?
expect_grep "rules check: duplicate rules block: message" \
  "^$work/dup/packs/p.yaml:12:1: duplicate key \"rules\", first at line 3 column 1" "$work/err"
rules_dir "$work/duptest" 2000
printf '    expect: [{rule: p/late}]\n' >> "$work/duptest/tests/p.yaml"
"$bin" rules test "$work/duptest" > "$work/out" 2> "$work/err"
expect_code "rules test: duplicate expect" 3 $?
expect_grep "rules test: duplicate expect: message" \
  "^$work/duptest/tests/p.yaml:6:5: duplicate key \"expect\", first at line 5 column 5" "$work/err"

# ---- A pack in a .yml file is loaded like one in a .yaml file.
rules_dir "$work/yml" 2000
mv "$work/yml/packs/p.yaml" "$work/yml/packs/p.yml"
"$bin" rules check "$work/yml" > "$work/out" 2> "$work/err"
expect_code "rules check: .yml pack" 0 $?
expect_grep "rules check: .yml pack: loaded" "^  pack p: 1 rules" "$work/out"

# ---- rules check --previous: a rule in force edited without a new effective_from.
rules_dir "$work/old" 2000
rules_dir "$work/same" 2000
"$bin" rules check "$work/same" --previous "$work/old" > "$work/out" 2> "$work/err"
expect_code "rules check --previous: unchanged" 0 $?
rules_dir "$work/edited" 3000
"$bin" rules check "$work/edited" --previous "$work/old" > "$work/out" 2> "$work/err"
expect_code "rules check --previous: edited in place" 7 $?
expect_grep "rules check --previous: edited in place: names the rule and both versions" \
  "rule p/late (in force always) changed in place: version [0-9a-f]\{12\} ($work/old/packs/p.yaml:4) is now [0-9a-f]\{12\} ($work/edited/packs/p.yaml:4)" \
  "$work/err"
expect_grep "rules check --previous: edited in place: hint" "Hint: keep the version in force" \
  "$work/err"
# A new version with its own effective_from, the old one kept: no warning.
rules_dir "$work/versioned" 2000 "  - id: late
    title: Late
    clause: c1
    effective_from: 2027-01-01
    stream: attendance
    when: {kind: CLOCK_IN, late_seconds: {gt: 0}}
    window: month
    ladder: [{amount: {CNY: 3000}}]"
"$bin" rules check "$work/versioned" --previous "$work/old" > "$work/out" 2> "$work/err"
expect_code "rules check --previous: a new version with its own effective_from" 0 $?
"$bin" rules check "$work/old" --previous "$work/does-not-exist" > /dev/null 2> "$work/err"
expect_code "rules check --previous: a missing directory" 3 $?

# ---- The processor's configuration.
"$bin" process --config "$work/does-not-exist.yaml" > /dev/null 2> "$work/err"
expect_code "process: a missing configuration file" 4 $?
expect_grep "process: a missing configuration file: message" \
  "does-not-exist.yaml: cannot read the configuration file" "$work/err"
printf 'brokers: x\nbootstrap: y\nzone: z\nbootstrap: w\n' > "$work/bad.yaml"
"$bin" process --config "$work/bad.yaml" > /dev/null 2> "$work/err"
expect_code "process: bad configuration" 2 $?
expect_grep "process: bad configuration: first unknown key" "bad.yaml:1:1: unknown key \"brokers\"" "$work/err"
expect_grep "process: bad configuration: second unknown key" "bad.yaml:3:1: unknown key \"zone\"" "$work/err"
expect_grep "process: bad configuration: duplicate key" "bad.yaml:4:1: duplicate key \"bootstrap\"" "$work/err"
for ms in -5 0 600001; do
  "$bin" process --commit-interval-ms "$ms" --rules "$work/old" --state "$work/state" \
    --metrics-listen 127.0.0.1:0 --bootstrap 127.0.0.1:1 > /dev/null 2> "$work/err"
  expect_code "process --commit-interval-ms $ms" 2 $?
  expect_grep "process --commit-interval-ms $ms: the allowed range" "not in range 1 to 60000" "$work/err"
done

finish "rules files"
