# Shared helpers for ops/kafka/*.sh. Sourced, not run.
# shellcheck shell=bash

KAFKA_OPS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_LIB_DIR="$KAFKA_OPS_DIR/lib"
KAFKA_MARKER="$KAFKA_LIB_DIR/.complete"

log() { printf 'demerit-kafka: %s\n' "$*" >&2; }
die() { printf 'demerit-kafka: error: %s\n' "$*" >&2; exit 1; }

# Run a command as root (directly when root, else through sudo).
as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* by hand"
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 \
    || die "apt-get install $* failed"
}

# A random Kafka cluster id: 16 random bytes, URL-safe base64 without padding
# (what `kafka-storage random-uuid` prints), never starting with '-'.
random_cluster_id() {
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    case "$id" in -*|AAAAAAAAAAAAAAAAAAAAA*) ;; *) echo "$id"; return 0 ;; esac
  done
}

# Major version of the java binary $1 (8 for 1.8.x), or 0.
java_major() {
  local v
  v="$("$1" -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n1)"
  case "$v" in
    1.*) v="${v#1.}" ;;
  esac
  v="${v%%[!0-9]*}"
  echo "${v:-0}"
}

# Sets JAVA to a java >= 17 binary, installing default-jdk-headless if none is found.
ensure_java() {
  local cand
  if [ -n "${DEMERIT_KAFKA_JAVA:-}" ] && [ -x "$DEMERIT_KAFKA_JAVA" ]; then
    JAVA="$DEMERIT_KAFKA_JAVA"   # already checked by a calling script
    return 0
  fi
  for cand in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java 2>/dev/null || true)" /usr/lib/jvm/*/bin/java; do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    if [ "$(java_major "$cand")" -ge 17 ]; then
      JAVA="$cand"
      return 0
    fi
  done
  log "no Java 17+ found; installing default-jdk-headless"
  if ! command -v mvn >/dev/null 2>&1 && ! lib_complete; then
    apt_install default-jdk-headless maven   # fetch.sh will need maven too: one apt run
  else
    apt_install default-jdk-headless
  fi
  for cand in "$(command -v java 2>/dev/null || true)" /usr/lib/jvm/*/bin/java; do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    if [ "$(java_major "$cand")" -ge 17 ]; then
      JAVA="$cand"
      return 0
    fi
  done
  die "Kafka 4.x needs Java 17+, and none could be installed"
}

ensure_maven() {
  command -v mvn >/dev/null 2>&1 && return 0
  log "maven not found; installing maven"
  apt_install maven
  command -v mvn >/dev/null 2>&1 || die "maven could not be installed"
}

pom_sum() { sha256sum "$KAFKA_OPS_DIR/pom.xml" | cut -d' ' -f1; }

# True when lib/ holds every jar recorded for the current pom.xml.
lib_complete() {
  [ -f "$KAFKA_MARKER" ] || return 1
  [ "$(head -n1 "$KAFKA_MARKER")" = "$(pom_sum)" ] || return 1
  local jar n=0
  while IFS= read -r jar; do
    [ -s "$KAFKA_LIB_DIR/$jar" ] || return 1
    n=$((n + 1))
  done < <(tail -n +2 "$KAFKA_MARKER")
  [ "$n" -gt 0 ]
}

# proc_alive PID: true if PID exists and is not a zombie.
proc_alive() {
  local stat
  read -r stat 2>/dev/null < "/proc/$1/stat" || return 1
  stat="${stat##*) }"
  [ -n "$stat" ] && [ "${stat%% *}" != Z ]
}

# broker_pid_matches DIR PID: true if PID is alive and is the broker started from DIR.
broker_pid_matches() {
  local -a args=()
  local a
  mapfile -d "" args 2>/dev/null < "/proc/$2/cmdline" || return 1
  for a in "${args[@]}"; do
    if [ "$a" = "$1/server.properties" ]; then
      proc_alive "$2"
      return
    fi
  done
  return 1
}

# broker_pids DIR: pids of live brokers started from DIR (found by command line).
broker_pids() {
  local d p
  for d in /proc/[0-9]*; do
    p="${d#/proc/}"
    if broker_pid_matches "$1" "$p"; then echo "$p"; fi
  done
}
