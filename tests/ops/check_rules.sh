#!/usr/bin/env bash
# Checks the operations monitoring files:
#   - ops/prometheus/prometheus.yml         promtool check config
#   - ops/prometheus/*_rules.yml            promtool check rules; every alert has a severity,
#                                           summary, description and a runbook_url whose anchor
#                                           is a section of ops/RUNBOOK.md
#   - tests/ops/*_test.yml                  promtool test rules; every alert has a case where it
#                                           fires and one where it does not
#   - ops/grafana/dashboards/*.json         valid JSON, the site and instance variables, every
#                                           panel has a PromQL expression; every expression
#                                           parses (promtool check rules on a temporary rules
#                                           file, one recording rule per expression, Grafana
#                                           variables replaced by concrete values)
#   - rules and panels use only metrics of docs/operations-contract.md, `up`, and the
#     recording rules of ops/prometheus/recording_rules.yml
# Installs Debian's prometheus package (promtool) and jq if missing. Runs from any directory:
#   bash tests/ops/check_rules.sh
# Prints one line per check and `ops checks: N passed, M failed`; exits 1 if any failed.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prom=$root/ops/prometheus
dashboards=$root/ops/grafana/dashboards
provisioning=$root/ops/grafana/provisioning
tests=$root/tests/ops
runbook=$root/ops/RUNBOOK.md
contract=$root/docs/operations-contract.md

# --- tools -------------------------------------------------------------------------------------
apt_updated=0
apt_install() {  # apt_install PACKAGE
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  if [ "$apt_updated" -eq 0 ]; then
    $sudo apt-get update -qq || return 1
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$1" >/dev/null
}
if ! command -v promtool >/dev/null; then
  echo "promtool missing: installing Debian package prometheus"
  apt_install prometheus || { echo "could not install prometheus (promtool)"; exit 2; }
fi
if ! command -v jq >/dev/null; then
  echo "jq missing: installing Debian package jq"
  apt_install jq || { echo "could not install jq"; exit 2; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok    $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }
# run DESCRIPTION COMMAND...: one check; prints the command's output only when it fails.
run() {
  local desc=$1; shift
  if "$@" >"$work/out" 2>&1; then pass "$desc"; else fail "$desc"; sed 's/^/      /' "$work/out"; fi
}

# --- Prometheus configuration and rules ----------------------------------------------------------
run "promtool check config ops/prometheus/prometheus.yml" promtool check config "$prom/prometheus.yml"
run "promtool check rules ops/prometheus/recording_rules.yml" promtool check rules "$prom/recording_rules.yml"
run "promtool check rules ops/prometheus/alert_rules.yml" promtool check rules "$prom/alert_rules.yml"
for t in "$tests"/*_test.yml; do
  run "promtool test rules tests/ops/$(basename "$t")" promtool test rules "$t"
done

# Alerts: one block per `- alert:` line; each needs the labels and annotations, a runbook_url
# ops/RUNBOOK.md#<alert name in lower case>, and that section in the runbook.
awk '/^ *- alert: /{name=$3} name!="" {print name "\t" $0}' "$prom/alert_rules.yml" >"$work/alerts"
alerts=$(cut -f1 "$work/alerts" | sort -u)
[ -n "$alerts" ] || fail "alert_rules.yml defines no alert"
for a in $alerts; do
  block=$(awk -F'\t' -v a="$a" '$1==a {print $2}' "$work/alerts")
  anchor=$(echo "$a" | tr '[:upper:]' '[:lower:]')
  missing=""
  echo "$block" | grep -Eq '^ +severity: (critical|warning|info)$' || missing="$missing severity"
  echo "$block" | grep -Eq '^ +summary: ' || missing="$missing summary"
  echo "$block" | grep -Eq '^ +description: ' || missing="$missing description"
  echo "$block" | grep -Fq "runbook_url: \"ops/RUNBOOK.md#$anchor\"" || missing="$missing runbook_url"
  # GitHub anchors: the heading in lower case; alert names have no spaces or punctuation.
  grep -Eq "^#{2,3} $a\$" "$runbook" 2>/dev/null || missing="$missing runbook-section"
  if [ -z "$missing" ]; then pass "alert $a: labels, annotations, runbook section"
  else fail "alert $a: missing$missing"; fi
  # Test cases: at least one expecting the alert and one expecting none.
  cases=$(cat "$tests"/*_test.yml | awk -v a="$a" '
    $1=="alertname:" && $2==a {want=1; next}
    want && $1=="exp_alerts:" {print ($2=="[]" ? "quiet" : "fires"); want=0}')
  if echo "$cases" | grep -qx fires && echo "$cases" | grep -qx quiet; then
    pass "alert $a: tested firing and quiet"
  else
    fail "alert $a: needs a promtool test case where it fires and one where it does not"
  fi
done

# --- Metric names ---------------------------------------------------------------------------------
# Contract metrics (histograms also as _bucket, _count, _sum), `up`, and the recording rules.
# shellcheck disable=SC2016  # the backquotes are literal Markdown
grep -Eo '^\| `demerit_[a-z0-9_]+` \| [a-z]+ ' "$contract" |
  awk -F'`' '{split($3, t, " "); type=t[2]; print $2;
              if (type=="histogram") {print $2 "_bucket"; print $2 "_count"; print $2 "_sum"}}' \
  >"$work/known"
contract_count=$(grep -c . "$work/known")
if [ "$contract_count" -gt 0 ]; then pass "contract lists $contract_count series names"
else fail "no metric found in docs/operations-contract.md"; fi
grep -Eo '^ *- record: [a-zA-Z0-9_:]+' "$prom/recording_rules.yml" | awk '{print $3}' >"$work/recorded"
cat "$work/recorded" >>"$work/known"
echo up >>"$work/known"
# check_names DESCRIPTION FILE: every demerit_/demerit: name, and every name before `{`, is known.
check_names() {
  local unknown
  unknown=$( { grep -Eo '\bdemerit[_:][a-zA-Z0-9_:]*' "$2"
               grep -Eo '\b[a-zA-Z_:][a-zA-Z0-9_:]*\{' "$2" | tr -d '{'; } |
             sort -u | grep -vxFf "$work/known")
  if [ -z "$unknown" ]; then pass "$1: only contract metrics, up and recording rules"
  else fail "$1: unknown metric names: ${unknown//$'\n'/ }"; fi
}
grep -v '^ *#' "$prom/recording_rules.yml" >"$work/rec_exprs"
grep -v '^ *#' "$prom/alert_rules.yml" >"$work/alert_exprs"
check_names "recording_rules.yml" "$work/rec_exprs"
check_names "alert_rules.yml" "$work/alert_exprs"

# --- Grafana provisioning -------------------------------------------------------------------------
ds=$provisioning/datasources/prometheus.yml
if grep -Eq '^ +uid: prometheus$' "$ds" && grep -Eq '^ +type: prometheus$' "$ds"; then
  pass "grafana data source: type prometheus, uid prometheus"
else fail "grafana data source $ds: needs type prometheus and uid prometheus"; fi
dp=$provisioning/dashboards/demerit.yml
if grep -Eq '^ +type: file$' "$dp" && grep -Eq '^ +path: ' "$dp"; then
  pass "grafana dashboard provider: file provider with a path"
else fail "grafana dashboard provider $dp: needs type file and options.path"; fi

# --- Dashboards -----------------------------------------------------------------------------------
shopt -s nullglob
boards=("$dashboards"/*.json)
[ "${#boards[@]}" -ge 2 ] || fail "expected the two dashboards in ops/grafana/dashboards, found ${#boards[@]}"
: >"$work/panel_exprs"
for d in "${boards[@]}"; do
  name=$(basename "$d")
  if ! jq empty "$d" 2>"$work/out"; then fail "$name: invalid JSON"; sed 's/^/      /' "$work/out"; continue; fi
  problems=$(jq -r '
    def panels: .panels[] | (., (.panels // [])[]);
    [ (if (.schemaVersion // 0) < 36 then "schemaVersion \(.schemaVersion) is too old" else empty end),
      (if .uid == null then "no uid" else empty end),
      (.templating.list as $v |
        (if ($v | map(select(.name == "site")) | length) == 0 then "no site variable" else empty end),
        (if ($v | map(select(.name == "site" and
              ((.definition // "") | test("label_values\\(demerit_events_consumed_total, *site\\)")))) | length) == 0
         then "site variable is not label_values(demerit_events_consumed_total, site)" else empty end),
        (if ($v | map(select(.name == "instance")) | length) == 0 then "no instance variable" else empty end)),
      (if ([panels | .id] | length) != ([panels | .id] | unique | length) then "duplicate panel ids" else empty end),
      (panels | select(.type != "row") |
        (if (.targets // []) | length == 0 then "panel \"\(.title)\" has no query" else empty end),
        (if .datasource.uid != "prometheus" then "panel \"\(.title)\" data source uid is not prometheus" else empty end),
        (.title as $t | (.targets // [])[] |
          (if ((.expr // "") | test("\\S") | not) then "panel \"\($t)\" query \(.refId): empty expr" else empty end),
          (if (.datasource.uid // "prometheus") != "prometheus" then "panel \"\($t)\" query \(.refId): data source uid \(.datasource.uid)" else empty end)))
    ] | .[]' "$d")
  npanels=$(jq '[.panels[] | (., (.panels // [])[]) | select(.type != "row")] | length' "$d")
  if [ -z "$problems" ]; then pass "$name: $npanels panels, variables site and instance, data source uid prometheus"
  else fail "$name:"; while IFS= read -r p; do echo "      $p"; done <<<"$problems"; fi
  # Does every dashboard use both variables somewhere in its queries?
  for v in site instance; do
    if jq -r '.panels[] | (., (.panels // [])[]) | (.targets // [])[].expr // empty' "$d" | grep -q "\$$v"; then
      pass "$name: queries use \$$v"
    else fail "$name: no query uses \$$v"; fi
  done
  # Collect expressions, variables replaced by concrete values, tagged with dashboard and title.
  jq -c --arg board "$name" '
    .panels[] | (., (.panels // [])[]) | select(.type != "row") | . as $p |
    (.targets // [])[] | select((.expr // "") | test("\\S")) |
    {board: $board, title: $p.title, ref: .refId,
     expr: (.expr
       | gsub("\\$__rate_interval|\\$\\{__rate_interval\\}"; "1m")
       | gsub("\\$__interval|\\$\\{__interval\\}"; "1m")
       | gsub("\\$__range|\\$\\{__range\\}"; "1h")
       | gsub("\\$\\{?(site|instance)(:[a-z]+)?\\}?"; ".*"))}' "$d" >>"$work/panel_exprs"
done

# Every panel expression parses: one recording rule per expression, all in one file; if that file
# fails, each expression is checked alone to name the panels at fault.
nexpr=$(grep -c . "$work/panel_exprs")
jq -s '{groups: [{name: "panel-check",
        rules: [to_entries[] | {record: "panel:check:\(.key + 1)", expr: .value.expr}]}]}' \
  "$work/panel_exprs" >"$work/panels_rules.json"
if [ "$nexpr" -gt 0 ] && promtool check rules "$work/panels_rules.json" >"$work/out" 2>&1; then
  passed=$((passed + nexpr))
  echo "ok    $nexpr panel expressions parse (promtool check rules, panel:check:1..$nexpr)"
else
  [ "$nexpr" -gt 0 ] || fail "no panel expression found"
  i=0
  while IFS= read -r line; do
    i=$((i + 1))
    echo "$line" | jq '{groups: [{name: "panel-check", rules: [{record: "panel:check", expr: .expr}]}]}' \
      >"$work/one.json"
    desc=$(echo "$line" | jq -r '"\(.board): \"\(.title)\" query \(.ref)"')
    if promtool check rules "$work/one.json" >"$work/out" 2>&1; then passed=$((passed + 1))
    else
      fail "$desc does not parse: $(echo "$line" | jq -r .expr)"
      grep -v '^Checking' "$work/out" | sed 's/^/      /'
    fi
  done <"$work/panel_exprs"
fi
jq -r .expr "$work/panel_exprs" >"$work/panel_expr_text"
check_names "dashboard panels" "$work/panel_expr_text"

echo "ops checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
