#!/usr/bin/env bash
# The monitoring files against a real Prometheus scraping a real processor: a Kafka broker, one
# `demerit process` fed the sample events, a generated workload and poison records (so the
# dead-letter panels have data), and Debian's Prometheus (/usr/bin/prometheus) scraping it every
# second with a configuration derived from ops/prometheus/prometheus.yml. Requires that
#   (a) every recording and alert rule of ops/prometheus/{recording,alert}_rules.yml is loaded and
#       evaluates without error (/api/v1/rules: health "ok");
#   (b) every panel query of ops/grafana/dashboards/*.json, Grafana variables substituted, parses
#       and returns a non-empty result (/api/v1/query). $site: each value of
#       label_values(demerit_events_consumed_total, site) in turn, a query passes if one gives
#       data; $instance: the scraped target (regex-escaped as Grafana does); $__rate_interval
#       and $__interval: RATE_WINDOW; $__range: RANGE_WINDOW. The windows are longer than the
#       time Prometheus scrapes before the checks, and hold at least MIN_SCRAPES scrapes.
# Part of the generated workload is held back and produced once Prometheus is scraping, so that
# rates and quantiles see live traffic rather than flat counters only.
# Loopback only; installs prometheus, jq and curl with apt-get if missing.
# Usage: prometheus_test.sh DEMERIT POISON_PRODUCE SOURCE_ROOT
POISON=$2
set -- "$1" "$3"
. "$(dirname "$0")/lib.sh" "$@"

RATE_WINDOW=1m     # $__rate_interval, $__interval
RANGE_WINDOW=1h    # $__range (the dashboards default to 6 h and 24 h)
MIN_SCRAPES=5      # scrapes of the processor in the last minute before the checks
# Panels allowed to return nothing, one "dashboard title<TAB>panel title<TAB>reason" a line.
# Empty: every panel must return data.
EXEMPT_PANELS=""

PROMETHEUS=/usr/bin/prometheus
PROM_DIR="$WORK/prometheus"
PROM_PID=""
PROM_PORT=""
PROM=""
stop_prometheus() {
  [ -n "$PROM_PID" ] || return 0
  kill -TERM "$PROM_PID" 2> /dev/null
  for _ in $(seq 1 100); do
    kill -0 "$PROM_PID" 2> /dev/null || break
    sleep 0.1
  done
  kill -9 "$PROM_PID" 2> /dev/null
  wait "$PROM_PID" 2> /dev/null
  PROM_PID=""
}
trap 'stop_prometheus; cleanup' EXIT

# --- tools ----------------------------------------------------------------------------------
apt_updated=0
apt_install() {  # apt_install PACKAGE
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  if [ "$apt_updated" = 0 ]; then
    $sudo apt-get update -qq > /dev/null || return 1
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$1" > /dev/null
}
for tool in "$PROMETHEUS:prometheus" jq:jq curl:curl promtool:prometheus; do
  if ! command -v "${tool%%:*}" > /dev/null; then
    log "${tool%%:*} missing: installing Debian package ${tool##*:}"
    apt_install "${tool##*:}" || { fail "could not install ${tool##*:}"; finish; exit 1; }
  fi
done

# prom_query EXPR: the JSON answer of an instant query.
prom_query() {
  curl -s -m 10 -G "$PROM/api/v1/query" --data-urlencode "query=$1"
}
# prom_value EXPR: the first value of an instant query's result, or nothing.
prom_value() {
  prom_query "$1" | jq -r '.data.result[0].value[1] // empty' 2> /dev/null
}
# until_true LIMIT COMMAND...: polls COMMAND every 0.5 s for at most LIMIT seconds. Gives up the
# whole test if the work directory (broker data, state, Prometheus' TSDB) has disappeared.
until_true() {
  local limit=$1 start=$SECONDS
  shift
  while [ $((SECONDS - start)) -lt "$limit" ]; do
    [ -d "$WORK" ] || { fail "$WORK was removed while the test ran"; finish; exit 1; }
    "$@" && return 0
    sleep 0.5
  done
  "$@"
}

# --- broker, workload and processor -----------------------------------------------------------
start_broker
write_config
"$DEMERIT" topics --bootstrap "$BOOTSTRAP" --partitions 2 > "$WORK/topics.log" 2>&1 \
  || { fail "topics"; cat "$WORK/topics.log" >&2; finish; exit 1; }
"$POISON" "$BOOTSTRAP" > "$WORK/poison.tsv" || { fail "poison_produce"; finish; exit 1; }
"$DEMERIT" gen --rules "$RULES" --employees 30 --days 10 --out "$WORK/gen.ndjson" 2> /dev/null \
  || { fail "demerit gen"; finish; exit 1; }
# The generator writes employee after employee (sites round robin): the last fifth of the lines
# covers every site. It is the live batch, produced once Prometheus scrapes.
lines=$(wc -l < "$WORK/gen.ndjson")
head -n $((lines - lines / 5)) "$WORK/gen.ndjson" > "$WORK/gen-early.ndjson"
tail -n $((lines / 5)) "$WORK/gen.ndjson" > "$WORK/gen-live.ndjson"
for f in "$RULES/samples/events.ndjson" "$WORK/gen-early.ndjson"; do
  "$DEMERIT" produce --bootstrap "$BOOTSTRAP" --events "$f" 2>> "$WORK/produce.log" \
    || { fail "produce $f"; cat "$WORK/produce.log" >&2; finish; exit 1; }
done
pass "produced $(wc -l < "$WORK/poison.tsv") poison records, the sample and $((lines - lines / 5)) generated events"
start_processor a
wait_caught_up 120 && pass "processor caught up" || fail "processor did not catch up"
metrics_port=$(grep -o 'metrics and health on port [0-9]*' "$WORK/a.log" | grep -o '[0-9]*$' | head -n 1)
if [ -z "$metrics_port" ] || ! curl -sf -m 5 "http://127.0.0.1:$metrics_port/metrics" > "$WORK/metrics.txt"; then
  fail "processor metrics endpoint (port '${metrics_port}')"; cat "$WORK/a.log" >&2; finish; exit 1
fi
TARGET="127.0.0.1:$metrics_port"
pass "processor metrics on $TARGET ($(grep -c '^demerit_' "$WORK/metrics.txt") demerit series)"

# --- Prometheus -----------------------------------------------------------------------------
PROM_SRC=$(cd "$ROOT/ops/prometheus" && pwd)
# The shipped configuration with 1 s intervals, the processor as the target and the repository's
# rule files by absolute path (they are resolved relative to the configuration file).
mkdir -p "$PROM_DIR"
awk -v target="'$TARGET'" -v dir="$PROM_SRC" '
  /^[^ #]/ { in_rules = ($1 == "rule_files:") }
  in_rules && /^ *- / && $2 !~ /^\// { sub(/- /, "- " dir "/") }
  /^  (scrape_interval|scrape_timeout|evaluation_interval):/ { sub(/:.*/, ": 1s") }
  /^ *- targets: .*DEMERIT_TARGETS/ { sub(/\[.*\]/, "[" target "]") }
  { print }' "$ROOT/ops/prometheus/prometheus.yml" > "$PROM_DIR/prometheus.yml"
derived_ok=1
for want in "scrape_interval: 1s" "scrape_timeout: 1s" "evaluation_interval: 1s" \
            "- targets: ['$TARGET']" "- $PROM_SRC/recording_rules.yml" "- $PROM_SRC/alert_rules.yml"; do
  grep -qF -- "$want" "$PROM_DIR/prometheus.yml" || { derived_ok=0; fail "derived configuration lacks '$want'"; }
done
if [ "$derived_ok" = 1 ] && promtool check config "$PROM_DIR/prometheus.yml" > "$PROM_DIR/check.log" 2>&1; then
  pass "configuration derived from ops/prometheus/prometheus.yml (promtool check config)"
else
  fail "derived Prometheus configuration"; cat "$PROM_DIR/check.log" "$PROM_DIR/prometheus.yml" >&2
  finish; exit 1
fi

# A free port outside the kernel's ephemeral range; another one if it was taken meanwhile.
read -r eph_lo eph_hi < /proc/sys/net/ipv4/ip_local_port_range 2> /dev/null || { eph_lo=32768; eph_hi=60999; }
if [ "$eph_lo" -gt 21000 ]; then port_lo=20000; port_hi=$((eph_lo - 1)); else port_lo=$((eph_hi + 1)); port_hi=65000; fi
prom_ready() { curl -sf -m 2 "$PROM/-/ready" > /dev/null; }
prom_ready_or_dead() { prom_ready || ! kill -0 "$PROM_PID" 2> /dev/null; }
for _ in 1 2 3 4 5; do
  PROM_PORT=$((port_lo + (RANDOM * 32768 + RANDOM) % (port_hi - port_lo + 1)))
  (exec 3<> "/dev/tcp/127.0.0.1/$PROM_PORT") 2> /dev/null && continue
  PROM="http://127.0.0.1:$PROM_PORT"
  TZ=UTC "$PROMETHEUS" --config.file="$PROM_DIR/prometheus.yml" --storage.tsdb.path="$PROM_DIR/data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" > "$PROM_DIR/prometheus.log" 2>&1 &
  PROM_PID=$!
  until_true 60 prom_ready_or_dead
  prom_ready && break
  stop_prometheus
  grep -q "address already in use" "$PROM_DIR/prometheus.log" || break
done
if [ -n "$PROM_PID" ] && prom_ready; then
  pass "Prometheus $("$PROMETHEUS" --version 2>&1 | awk 'NR==1 {print $3}') ready on 127.0.0.1:$PROM_PORT"
else
  fail "Prometheus did not start"; tail -n 30 "$PROM_DIR/prometheus.log" >&2; finish; exit 1
fi

# Scrapes of the target within the last minute; up must be 1.
scrapes() { prom_value "count_over_time(up{job=\"demerit\", instance=\"$TARGET\"}[1m])"; }
scraped_at_least() { local n; n=$(scrapes); [ "${n:-0}" -ge "$1" ] && [ "$(prom_value "up{job=\"demerit\"}")" = 1 ]; }
until_true 60 scraped_at_least 2 || { fail "Prometheus did not scrape $TARGET (up: $(prom_value 'up'))"; finish; exit 1; }

# The live batch: the processor applies it while Prometheus scrapes.
"$DEMERIT" produce --bootstrap "$BOOTSTRAP" --events "$WORK/gen-live.ndjson" 2>> "$WORK/produce.log" \
  || fail "produce the live batch"
wait_caught_up 120 && pass "processor applied the live batch of $((lines / 5)) events" \
  || fail "processor did not catch up with the live batch"
caught_up=$(date +%s)
# Two scrapes and a rule evaluation after the processor caught up, and MIN_SCRAPES in the window.
scraped_after() { local t; t=$(prom_value "timestamp(up{job=\"demerit\", instance=\"$TARGET\"})"); [ "${t%.*}" -ge $(($1 + 2)) ] 2> /dev/null; }
until_true 60 scraped_after "$caught_up" && until_true 60 scraped_at_least "$MIN_SCRAPES" \
  && pass "$(scrapes) scrapes in the last minute, the last $(( $(date +%s) - caught_up ))s after catching up" \
  || fail "not enough scrapes after catching up ($(scrapes) in the last minute)"
[ "$(prom_query "increase(demerit_events_consumed_total[$RATE_WINDOW]) > 0" | jq '.data.result | length')" -gt 0 ] \
  && pass "Prometheus saw the live batch (increase over $RATE_WINDOW > 0)" \
  || fail "no increase of demerit_events_consumed_total over $RATE_WINDOW"

# --- (a) rules: every rule of both files loaded and evaluated without error -------------------
rules_file_list() {  # FILE GROUP NAME per rule of the repository's rule files
  local f
  for f in recording_rules.yml alert_rules.yml; do
    awk -v f="$f" '/^ *- name: / {g = $3}
                   /^ *- (record|alert): / {n = $3; gsub(/["\047]/, "", n); print f "\t" g "\t" n}' \
      "$PROM_SRC/$f"
  done | sort
}
rules_api() { curl -s -m 10 "$PROM/api/v1/rules" > "$PROM_DIR/rules.json"; }
evaluated_after() {  # every group last evaluated at or after time $1 (Prometheus runs in UTC)
  rules_api && jq -e --argjson t "$1" \
      '[.data.groups[] | .lastEvaluation | sub("\\.[0-9]+"; "") | fromdateiso8601 < $t] | any | not' \
      "$PROM_DIR/rules.json" > /dev/null 2>&1 \
    && ! jq -e '[.data.groups[].rules[] | select(.health == "unknown")] | length > 0' "$PROM_DIR/rules.json" > /dev/null
}
until_true 60 evaluated_after $((caught_up + 2)) || log "rule groups not all evaluated after catching up"
rules_file_list > "$PROM_DIR/rules.want"
jq -r '.data.groups[] | (.file | split("/") | last) as $f | .name as $g | .rules[] | [$f, $g, .name] | @tsv' \
  "$PROM_DIR/rules.json" | sort > "$PROM_DIR/rules.got"
for f in recording_rules.yml alert_rules.yml; do
  want=$(grep -c "^$f	" "$PROM_DIR/rules.want")
  missing=$(grep "^$f	" "$PROM_DIR/rules.want" | comm -23 - "$PROM_DIR/rules.got" | cut -f2,3 | tr '\t' '/' | tr '\n' ' ')
  if [ "$want" -gt 0 ] && [ -z "$missing" ]; then pass "$f: all $want rules loaded"
  else fail "$f: rules not loaded by Prometheus: ${missing:-the file defines none}"; fi
done
jq -r '.data.groups[] | .name as $g | .rules[] | select(.health != "ok")
       | "\($g)/\(.name): health \(.health) \(.lastError // "")"' "$PROM_DIR/rules.json" > "$PROM_DIR/rules.bad"
nrules=$(jq '[.data.groups[].rules[]] | length' "$PROM_DIR/rules.json")
if [ ! -s "$PROM_DIR/rules.bad" ] && [ "$nrules" -gt 0 ]; then
  pass "all $nrules rules evaluate without error (health ok)"
else
  while IFS= read -r line; do fail "rule $line"; done < "$PROM_DIR/rules.bad"
fi
# Information only: recording rules that produce no series now, alerts that are not inactive.
empty_records=""
for r in $(jq -r '.data.groups[].rules[] | select(.type == "recording") | .name' "$PROM_DIR/rules.json" | sort -u); do
  [ "$(prom_query "count($r)" | jq '.data.result | length')" = 1 ] || empty_records="$empty_records $r"
done
[ -z "$empty_records" ] || log "info: recording rules without series:$empty_records"
active=$(jq -r '[.data.groups[].rules[] | select(.type == "alerting" and .state != "inactive")
                 | "\(.name) (\(.state))"] | join(", ")' "$PROM_DIR/rules.json")
[ -z "$active" ] || log "info: alerts not inactive: $active"

# --- (b) dashboard panels: every query returns data -------------------------------------------
prom_query "group by (site) (demerit_events_consumed_total)" | jq -r '.data.result[].metric.site' | sort > "$PROM_DIR/sites"
SITES=$(tr '\n' ' ' < "$PROM_DIR/sites")
instances=$(prom_query "group by (instance) (demerit_build_info)" | jq -r '.data.result[].metric.instance')
[ -n "$SITES" ] && pass "site values: $SITES" || fail "label_values(demerit_events_consumed_total, site) is empty"
[ "$instances" = "$TARGET" ] && pass "instance value: $instances" \
  || fail "label_values(demerit_build_info, instance) is '$instances', expected $TARGET"
# The shift gauges against the wall clock, computed here with date(1) from each site's zone and
# default shift in rules/sites.yaml (skipped within a minute of a shift's start or end).
shift_checked=0
while read -r site zone start end; do
  now=$(TZ=$zone date +%H%M)
  want=0
  [ "$now" -ge "$start" ] && [ "$now" -lt "$end" ] && want=1
  near=0
  for edge in "$start" "$end"; do
    diff=$(( (10#${now:0:2} * 60 + 10#${now:2:2}) - (10#${edge:0:2} * 60 + 10#${edge:2:2}) ))
    [ "${diff#-}" -le 1 ] && near=1
  done
  [ "$near" = 1 ] && continue
  got=$(prom_value "demerit:site_shift_open{site=\"$site\"}")
  if [ "$got" = "$want" ]; then
    shift_checked=$((shift_checked + 1))
  else
    fail "demerit:site_shift_open{site=\"$site\"} is '$got', expected $want ($zone local $now, shift $start-$end)"
  fi
done < <(awk '/- id:/ {id=$3} /time_zone:/ {zone=$2}
              /default_shift:/ {n = 0; line = $0
                                while (match(line, /[0-9][0-9]:[0-9][0-9]/)) {
                                  t[++n] = substr(line, RSTART, 2) substr(line, RSTART + 3, 2)
                                  line = substr(line, RSTART + RLENGTH)
                                }
                                print id, zone, t[1], t[2]}' "$ROOT/rules/sites.yaml")
[ "$shift_checked" -gt 0 ] && pass "demerit:site_shift_open agrees with date(1) for $shift_checked sites"
# Grafana's regex escaping of a variable value for =~, as a PromQL string: \\ before specials.
regex_escape() { printf '%s' "$1" | sed 's/[][\\.*+?^$(){}|]/\\\\&/g'; }
INSTANCE_VALUE=$(regex_escape "$TARGET")
: > "$PROM_DIR/panels.jsonl"
for d in "$ROOT"/ops/grafana/dashboards/*.json; do
  jq -c --arg rate "$RATE_WINDOW" --arg range "$RANGE_WINDOW" --arg instance "$INSTANCE_VALUE" '
    .title as $board | .panels[] | (., (.panels // [])[]) | select(.type != "row") | . as $p |
    (.targets // [])[] | select((.expr // "") | test("\\S")) |
    {board: $board, title: $p.title, ref: .refId,
     expr: (.expr
       | gsub("\\$__rate_interval|\\$\\{__rate_interval\\}"; $rate)
       | gsub("\\$__interval|\\$\\{__interval\\}"; $rate)
       | gsub("\\$__range|\\$\\{__range\\}"; $range)
       | gsub("\\$\\{?instance(:[a-z]+)?\\}?"; $instance))}' "$d" >> "$PROM_DIR/panels.jsonl" \
    || fail "$(basename "$d"): not valid JSON"
done
npanels=$(jq -s 'map([.board, .title]) | unique | length' "$PROM_DIR/panels.jsonl")
nexprs=$(grep -c . "$PROM_DIR/panels.jsonl")
# check_expr EXPR: 0 when it parses and gives a non-empty result, for some site if it uses $site;
# otherwise 1 and the reason in $reason. NaN-only results count as data; they are listed apart.
check_expr() {
  local expr=$1 site answer candidates=("")
  [[ "$expr" =~ \$\{?site ]] && read -r -a candidates <<< "$SITES"
  reason="empty result"
  for site in "${candidates[@]}"; do
    answer=$(prom_query "$(jq -rn --arg e "$expr" --arg v "$(regex_escape "$site")" \
      '$e | gsub("\\$\\{?site(:[a-z]+)?\\}?"; $v)')")
    if [ "$(jq -r .status <<< "$answer" 2> /dev/null)" != success ]; then
      reason="error: $(jq -r '.error // "no answer"' <<< "$answer" 2> /dev/null || echo "no answer")"
      return 1
    fi
    if [ "$(jq '.data.result | length' <<< "$answer")" -gt 0 ]; then
      jq -e '[.data.result[] | (.value // .values[-1])[1]] | all(. == "NaN")' <<< "$answer" > /dev/null \
        && nan_only=1
      return 0
    fi
  done
  [ "${#candidates[@]}" -gt 1 ] && reason="empty result for every site"
  [ -n "$SITES" ] || [ "${#candidates[@]}" = 1 ] || reason="no site to substitute"
  return 1
}
# run_panel_checks FILE: checks the queries of FILE; failures to panels.failed, NaN-only results
# to panels.nan.
run_panel_checks() {
  local line expr
  : > "$PROM_DIR/panels.failed"
  while IFS= read -r line; do
    expr=$(jq -r .expr <<< "$line")
    nan_only=""
    if check_expr "$expr"; then
      [ -z "$nan_only" ] || jq -c '{board, title, ref}' <<< "$line" >> "$PROM_DIR/panels.nan"
    else
      jq -c --arg reason "$reason" '. + {reason: $reason}' <<< "$line" >> "$PROM_DIR/panels.failed"
    fi
  done < "$1"
  [ ! -s "$PROM_DIR/panels.failed" ]
}
# Queries without data are tried again for a bounded time (recorded series appear one evaluation
# after their inputs).
recheck_failed() {
  log "$(grep -c . "$PROM_DIR/panels.failed") queries without data yet"
  jq -c 'del(.reason)' "$PROM_DIR/panels.failed" > "$PROM_DIR/panels.retry"
  run_panel_checks "$PROM_DIR/panels.retry"
}
: > "$PROM_DIR/panels.nan"
run_panel_checks "$PROM_DIR/panels.jsonl" || until_true 20 recheck_failed
# A panel fails when one of its queries fails, unless it is listed in EXEMPT_PANELS.
while IFS=$'\t' read -r board title; do
  failed=$(jq -r --arg b "$board" --arg t "$title" \
    'select(.board == $b and .title == $t) | "query \(.ref) (\(.reason)): \(.expr)"' "$PROM_DIR/panels.failed")
  exemption=$(awk -F'\t' -v b="$board" -v t="$title" '$1 == b && $2 == t {print $3}' <<< "$EXEMPT_PANELS")
  if [ -z "$failed" ]; then
    PASSES=$((PASSES + 1))
  elif [ -n "$exemption" ]; then
    PASSES=$((PASSES + 1)); log "exempt: $board / $title: $exemption"
  else
    fail "$board / $title: no data"
    sed 's/^/      /' <<< "$failed" >&2
  fi
done < <(jq -r '[.board, .title] | @tsv' "$PROM_DIR/panels.jsonl" | awk '!seen[$0]++')
nfailed=$(jq -s 'map([.board, .title]) | unique | length' "$PROM_DIR/panels.failed")
log "$((npanels - nfailed)) of $npanels panels ($nexprs queries) return data"
if [ -s "$PROM_DIR/panels.nan" ]; then
  log "info: queries whose result is NaN only (no rate in the window):"
  jq -r '"      \(.board) / \(.title) query \(.ref)"' "$PROM_DIR/panels.nan" >&2
fi

stop_prometheus
# A bounded stop: SIGTERM, then SIGKILL after 60 s.
processor_gone() { ! kill -0 "${PROCESSORS[a]}" 2> /dev/null; }
kill -TERM "${PROCESSORS[a]}" 2> /dev/null
until_true 60 processor_gone || fail "processor did not stop within 60 s of SIGTERM"
kill_processor a KILL
finish
