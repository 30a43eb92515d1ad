#!/usr/bin/env bash
# Fetch the test Kafka broker's jars (named by pom.xml) into ops/kafka/lib/.
# Installs Java 17+ and Maven with apt-get when they are missing.
# Idempotent: does nothing when lib/ already matches pom.xml (see lib/.complete).
# Usage: ops/kafka/fetch.sh [--force]
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

force=0
case "${1:-}" in
  --force) force=1 ;;
  "") ;;
  -h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
  *) die "unknown argument: $1" ;;
esac

ensure_java

if [ "$force" = 0 ] && lib_complete; then
  exit 0
fi

mkdir -p "$KAFKA_LIB_DIR"
# Serialise concurrent fetches (e.g. two start.sh at once).
exec 9>"$KAFKA_LIB_DIR/.lock"
flock 9
if [ "$force" = 0 ] && lib_complete; then
  exit 0
fi

ensure_maven
JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")"
export JAVA_HOME

log "fetching Kafka jars from Maven Central into $KAFKA_LIB_DIR (pom: $KAFKA_OPS_DIR/pom.xml)"
started=$SECONDS
rm -f "$KAFKA_MARKER"
staging="$KAFKA_LIB_DIR/.staging"
rm -rf "$staging"
# The goal is named in full (same plugin version as pom.xml) so that Maven need not
# look the "dependency:" prefix up in Central's plugin-group metadata.
if ! mvn -B -q -f "$KAFKA_OPS_DIR/pom.xml" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime \
      -DoutputDirectory="$staging" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2; then
  rm -rf "$staging"
  die "mvn dependency:copy-dependencies failed"
fi
find "$KAFKA_LIB_DIR" -maxdepth 1 -name '*.jar' -delete
mv "$staging"/*.jar "$KAFKA_LIB_DIR"/
rmdir "$staging"

{
  pom_sum
  (cd "$KAFKA_LIB_DIR" && ls -1 -- *.jar)
} > "$KAFKA_MARKER.tmp"
mv "$KAFKA_MARKER.tmp" "$KAFKA_MARKER"
lib_complete || die "lib/ incomplete after fetch"
log "fetched $(($(wc -l < "$KAFKA_MARKER") - 1)) jars in $((SECONDS - started))s"
