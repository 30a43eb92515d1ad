#!/usr/bin/env bash
# Run one of Kafka's own command-line tools from ops/kafka/lib (no Kafka install needed).
#
# Usage: ops/kafka/tool.sh TOOL [ARGS...]
#   TOOL is one of: topics, console-producer, console-consumer, configs,
#   consumer-groups, storage, or a fully-qualified main class.
# Examples (DIR is the data dir printed by start.sh):
#   ops/kafka/tool.sh topics --bootstrap-server "$(cat DIR/bootstrap)" \
#       --command-config DIR/client.properties --create --topic t --partitions 3
#   ops/kafka/tool.sh console-consumer --bootstrap-server "$(cat DIR/bootstrap)" \
#       --consumer.config DIR/client.properties --topic t --from-beginning --max-messages 3
# Tool logging (WARN and above) goes to stderr.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ $# -ge 1 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
case "$1" in
  topics) cls=org.apache.kafka.tools.TopicCommand ;;
  console-producer) cls=org.apache.kafka.tools.ConsoleProducer ;;
  console-consumer) cls=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  consumer-groups) cls=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  configs) cls=kafka.admin.ConfigCommand ;;
  storage) cls=kafka.tools.StorageTool ;;
  -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
  *) cls="$1" ;;
esac
shift

ensure_java
export DEMERIT_KAFKA_JAVA="$JAVA"
"$KAFKA_OPS_DIR/fetch.sh"

logcfg="$KAFKA_OPS_DIR/tools-log4j2.properties"

# shellcheck disable=SC2086
exec "$JAVA" ${KAFKA_TOOL_HEAP_OPTS:--Xmx256m} -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
  -Djava.awt.headless=true -Dlog4j2.shutdownHookEnabled=false -Dlog4j2.configurationFile="$logcfg" \
  -cp "$KAFKA_LIB_DIR/*" "$cls" "$@"
