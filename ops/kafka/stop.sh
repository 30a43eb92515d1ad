#!/usr/bin/env bash
# Stop a broker started by ops/kafka/start.sh and delete its data dir.
#
# Usage: ops/kafka/stop.sh DATADIR [--keep] [--timeout SECONDS]
#   --keep         keep DATADIR (start.sh --data-dir DATADIR restarts on the same data).
#   --timeout S    how long to wait after SIGTERM before SIGKILL (default 30).
# Idempotent: a DATADIR that is gone or whose broker is not running is fine.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; }

dir=""
keep=0
timeout=30
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1; shift ;;
    --timeout) [ $# -ge 2 ] || die "--timeout needs a value"; timeout="$2"; shift 2 ;;
    --timeout=*) timeout="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) usage; die "unknown argument: $1" ;;
    *) [ -z "$dir" ] || die "only one DATADIR, please"; dir="$1"; shift ;;
  esac
done
[ -n "$dir" ] || { usage; die "DATADIR missing"; }
[[ "$timeout" =~ ^[0-9]+$ ]] || die "bad --timeout: $timeout"

if [ ! -d "$dir" ]; then
  log "$dir does not exist; nothing to stop"
  exit 0
fi
dir="$(cd "$dir" && pwd -P)"

# The pid file's process, if it is still this dir's broker, plus any other broker
# whose command line names this dir (e.g. a start.sh killed before writing the pid).
pids=""
if [ -s "$dir/broker.pid" ]; then
  p="$(cat "$dir/broker.pid")"
  if [[ "$p" =~ ^[0-9]+$ ]] && broker_pid_matches "$dir" "$p"; then pids="$p"; fi
fi
for p in $(broker_pids "$dir"); do
  case " $pids " in *" $p "*) ;; *) pids="$pids $p" ;; esac
done

wait_gone() { # wait_gone SECONDS PID...: true when all are gone in time
  local deadline=$((SECONDS + $1)) p alive
  shift
  while :; do
    alive=0
    for p in "$@"; do
      if proc_alive "$p"; then alive=1; fi
    done
    [ "$alive" = 0 ] && return 0
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.1
  done
}

if [ -n "${pids// /}" ]; then
  # shellcheck disable=SC2086
  set -- $pids
  log "stopping broker pid $* ($dir)"
  kill -TERM "$@" 2>/dev/null || true
  if ! wait_gone "$timeout" "$@"; then
    log "broker still running after ${timeout}s; sending SIGKILL"
    kill -KILL "$@" 2>/dev/null || true
    wait_gone 10 "$@" || die "broker pid $* did not exit after SIGKILL"
  fi
  log "broker stopped"
else
  log "no broker running from $dir"
fi
rm -f "$dir/broker.pid" "$dir/bootstrap"

if [ "$keep" = 1 ]; then
  log "kept $dir"
  exit 0
fi
if [ ! -f "$dir/.demerit-kafka-data" ]; then
  die "refusing to delete $dir: it was not made by ops/kafka/start.sh (no .demerit-kafka-data)"
fi
rm -rf -- "$dir"
log "removed $dir"
