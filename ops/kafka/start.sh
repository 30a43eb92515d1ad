#!/usr/bin/env bash
# Start a single-node Apache Kafka broker (KRaft, combined broker+controller) for
# development and tests, listening on 127.0.0.1 only.
#
# Usage: ops/kafka/start.sh [--data-dir DIR] [--port PORT] [--scram USER:PASSWORD [--tls]]
#                           [--timeout SECONDS]
#   --data-dir DIR   keep the broker's files here (created if missing; an already
#                    formatted DIR is reused, data and all). Default: a new mktemp -d.
#   --port PORT      client port. Default: a free port (the previous one when DIR
#                    was used before and that port is still free).
#   --scram U:P      clients must authenticate with SASL/SCRAM-SHA-256 or -512 as
#                    user U, password P (SASL_PLAINTEXT on PORT). U and P must not
#                    contain , [ ] " \ = or whitespace; U must not contain ':'.
#   --tls            with --scram: SASL_SSL instead of SASL_PLAINTEXT, with a
#                    certificate for 127.0.0.1 signed by a CA made for the
#                    broker (DIR/tls/ca.pem: what clients must trust).
#   --timeout S      how long to wait for the broker to come up (default 120).
#
# The last line of stdout is the bootstrap address, 127.0.0.1:PORT; everything
# else goes to stderr. DIR holds: bootstrap (the address), broker.pid, broker.log,
# server.properties, client.properties (for Kafka's Java tools), cluster.id,
# tls/ (with --tls).
# Stop with: ops/kafka/stop.sh DIR [--keep]
# Environment: KAFKA_HEAP_OPTS (default -Xms256m -Xmx512m), KAFKA_JVM_OPTS (extra).
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2; }

data_dir=""
port=""
scram=""
tls=""
timeout=120
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) [ $# -ge 2 ] || die "--data-dir needs a value"; data_dir="$2"; shift 2 ;;
    --data-dir=*) data_dir="${1#*=}"; shift ;;
    --port) [ $# -ge 2 ] || die "--port needs a value"; port="$2"; shift 2 ;;
    --port=*) port="${1#*=}"; shift ;;
    --scram) [ $# -ge 2 ] || die "--scram needs USER:PASSWORD"; scram="$2"; shift 2 ;;
    --scram=*) scram="${1#*=}"; shift ;;
    --tls) tls=1; shift ;;
    --timeout) [ $# -ge 2 ] || die "--timeout needs a value"; timeout="$2"; shift 2 ;;
    --timeout=*) timeout="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage; die "unknown argument: $1" ;;
  esac
done

if [ -n "$port" ]; then
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "bad --port: $port"
fi
[[ "$timeout" =~ ^[0-9]+$ ]] && [ "$timeout" -gt 0 ] || die "bad --timeout: $timeout"
[ -z "$tls" ] || [ -n "$scram" ] || die "--tls needs --scram"

scram_user=""
scram_pass=""
if [ -n "$scram" ]; then
  case "$scram" in *:*) ;; *) die "--scram wants USER:PASSWORD" ;; esac
  scram_user="${scram%%:*}"
  scram_pass="${scram#*:}"
  [ -n "$scram_user" ] && [ -n "$scram_pass" ] || die "--scram wants a non-empty USER and PASSWORD"
  bad='[],"\\=[:space:][:cntrl:][]'
  if [[ "$scram_user" =~ $bad ]] || [[ "$scram_user" == *:* ]]; then
    die "--scram user must not contain : , [ ] \" \\ = or whitespace"
  fi
  if [[ "$scram_pass" =~ $bad ]]; then
    die "--scram password must not contain , [ ] \" \\ = or whitespace"
  fi
fi

ensure_java
export DEMERIT_KAFKA_JAVA="$JAVA"
"$KAFKA_OPS_DIR/fetch.sh"

# ---------------------------------------------------------------- data dir
created_dir=0
if [ -z "$data_dir" ]; then
  data_dir="$(mktemp -d "${TMPDIR:-/tmp}/demerit-kafka.XXXXXX")"
  created_dir=1
else
  mkdir -p "$data_dir"
  data_dir="$(cd "$data_dir" && pwd -P)"
  if [ ! -f "$data_dir/.demerit-kafka-data" ] && [ -n "$(ls -A "$data_dir")" ]; then
    die "$data_dir is not empty and was not made by start.sh; give a new or empty --data-dir"
  fi
fi
touch "$data_dir/.demerit-kafka-data"   # lets stop.sh know it may delete this dir

pid_matches() { broker_pid_matches "$data_dir" "$1"; }

running="$(broker_pids "$data_dir")"
if [ -n "$running" ]; then
  die "a broker is already running from $data_dir (pid ${running//$'\n'/ }); stop it with $KAFKA_OPS_DIR/stop.sh $data_dir"
fi
rm -f "$data_dir/broker.pid" "$data_dir/bootstrap"

# ---------------------------------------------------------------- ports
port_in_use() { # something accepts connections, or (when ss exists) a live socket uses it
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
  if command -v ss >/dev/null 2>&1; then
    # TIME-WAIT leftovers of a stopped broker do not stop a new one binding the port.
    [ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null | grep -v TIME-WAIT)" ] && return 0
  fi
  return 1
}

# Random ports come from 20000-60000 minus the kernel's ephemeral range, so that
# no outgoing connection can be holding the port we pick.
read -r eph_lo eph_hi < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || { eph_lo=32768; eph_hi=60999; }
if [ "$eph_lo" -gt 21000 ]; then
  range_lo=20000; range_hi=$((eph_lo - 1))
elif [ "$eph_hi" -lt 59000 ]; then
  range_lo=$((eph_hi + 1)); range_hi=60000
else
  range_lo=20000; range_hi=60000
fi

taken=" "
pick_port() { # pick_port [PREFERRED]: prints a free port not already picked
  local p
  if [ -n "${1:-}" ] && [[ " $taken " != *" $1 "* ]] && ! port_in_use "$1"; then
    taken="$taken$1 "; echo "$1"; return 0
  fi
  for _ in $(seq 1 500); do
    p=$((range_lo + (RANDOM * 32768 + RANDOM) % (range_hi - range_lo + 1)))
    [[ "$taken" == *" $p "* ]] && continue
    port_in_use "$p" && continue
    taken="$taken$p "; echo "$p"; return 0
  done
  die "no free TCP port found in $range_lo-$range_hi"
}

prev_port="" prev_cport="" prev_iport=""
if [ -s "$data_dir/ports" ]; then
  read -r prev_port prev_cport prev_iport < "$data_dir/ports" || true
fi

choose_ports() {
  taken=" "
  if [ -n "$port" ]; then
    port_in_use "$port" && die "port $port on 127.0.0.1 is in use"
    taken=" $port "
    client_port="$port"
  else
    client_port="$(pick_port "$prev_port")"; taken="$taken$client_port "
  fi
  controller_port="$(pick_port "$prev_cport")"; taken="$taken$controller_port "
  internal_port=""
  if [ -n "$scram" ]; then
    internal_port="$(pick_port "$prev_iport")"; taken="$taken$internal_port "
  fi
}

# ---------------------------------------------------------------- config files
write_configs() {
  local listeners advertised inter
  local sasl=SASL_PLAINTEXT sasl_name=sasl_plaintext
  if [ -n "$tls" ]; then sasl=SASL_SSL; sasl_name=sasl_ssl; fi
  if [ -n "$scram" ]; then
    listeners="$sasl://127.0.0.1:$client_port,INTERNAL://127.0.0.1:$internal_port,CONTROLLER://127.0.0.1:$controller_port"
    advertised="$sasl://127.0.0.1:$client_port,INTERNAL://127.0.0.1:$internal_port"
    inter=INTERNAL
  else
    listeners="PLAINTEXT://127.0.0.1:$client_port,CONTROLLER://127.0.0.1:$controller_port"
    advertised="PLAINTEXT://127.0.0.1:$client_port"
    inter=PLAINTEXT
  fi
  cat > "$data_dir/server.properties" <<EOF
# Written by demerit ops/kafka/start.sh: single-node KRaft test broker.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
controller.listener.names=CONTROLLER
listeners=$listeners
advertised.listeners=$advertised
inter.broker.listener.name=$inter
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
log.dirs=$data_dir/logs

# Small machine, single node.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4

# Topics: explicit creation only; everything replicated once.
auto.create.topics.enable=false
delete.topic.enable=true
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Consumer groups: no join delay, allow short session timeouts in tests.
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000

# Transactions: abort timed-out transactions quickly.
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
transaction.remove.expired.transaction.cleanup.interval.ms=60000
transaction.max.timeout.ms=900000

# Storage: small segments; no broker-wide retention, because tests replay events
# with old CreateTime timestamps that time-based retention would delete. Topics
# that want retention set retention.ms/retention.bytes themselves; it is checked often.
log.segment.bytes=16777216
log.retention.ms=-1
log.retention.bytes=-1
log.retention.check.interval.ms=5000
log.segment.delete.delay.ms=1000
log.cleaner.backoff.ms=1000
EOF
  if [ -n "$scram" ]; then
    cat >> "$data_dir/server.properties" <<EOF

# Clients authenticate with SASL/SCRAM on $sasl; the inter-broker and
# controller listeners stay PLAINTEXT on their own loopback ports.
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
listener.name.$sasl_name.sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
listener.name.$sasl_name.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.$sasl_name.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
  fi
  if [ -n "$tls" ]; then
    cat >> "$data_dir/server.properties" <<EOF
# TLS on the client listener: a PEM key and certificate chain (tls/broker.pem).
listener.name.$sasl_name.ssl.keystore.type=PEM
listener.name.$sasl_name.ssl.keystore.location=$data_dir/tls/broker.pem
EOF
  fi

  {
    echo "bootstrap.servers=127.0.0.1:$client_port"
    if [ -n "$scram" ]; then
      echo "security.protocol=$sasl"
      if [ -n "$tls" ]; then
        echo "ssl.truststore.type=PEM"
        echo "ssl.truststore.location=$data_dir/tls/ca.pem"
      fi
      echo "sasl.mechanism=SCRAM-SHA-256"
      echo "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$scram_user\" password=\"$scram_pass\";"
    else
      echo "security.protocol=PLAINTEXT"
    fi
  } > "$data_dir/client.properties"
  chmod 600 "$data_dir/client.properties"

  cat > "$data_dir/log4j2.properties" <<EOF
status = warn
name = demerit-kafka-broker
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = $data_dir/broker.log
appender.file.filePattern = $data_dir/broker.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 64MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 2
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
EOF
}

# ---------------------------------------------------------------- cleanup on failure
broker_pid=""
ok=0
on_exit() {
  [ "$ok" = 1 ] && return 0
  if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
    kill -KILL "$broker_pid" 2>/dev/null || true
  fi
  rm -f "$data_dir/broker.pid" "$data_dir/bootstrap"
  if [ "$created_dir" = 1 ] && [ -z "${DEMERIT_KAFKA_KEEP_FAILED:-}" ]; then
    rm -rf "$data_dir"
  elif [ "$created_dir" = 1 ]; then
    log "kept $data_dir (DEMERIT_KAFKA_KEEP_FAILED is set)"
  fi
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tools_java() { # run a Kafka tool class quietly (its stdout goes to stderr)
  "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dlog4j2.configurationFile="$KAFKA_OPS_DIR/tools-log4j2.properties" \
    -cp "$KAFKA_LIB_DIR/*" "$@"
}

show_logs() {
  local f
  for f in broker.out broker.log; do
    if [ -s "$data_dir/$f" ]; then
      printf -- '----- last lines of %s -----\n' "$data_dir/$f" >&2
      tail -n 40 "$data_dir/$f" >&2
    fi
  done
}

# ---------------------------------------------------------------- TLS material
# With --tls: a CA and a certificate for 127.0.0.1 signed by it, made once per DIR.
make_tls() {
  local d="$data_dir/tls"
  [ -s "$d/broker.pem" ] && [ -s "$d/ca.pem" ] && return 0
  command -v openssl > /dev/null || die "--tls needs openssl"
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=demerit test broker CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2> /dev/null || die "cannot make the test CA"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$d/broker.key" -out "$d/broker.csr" 2> /dev/null || die "cannot make the broker key"
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$d/san.ext"
  openssl x509 -req -in "$d/broker.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -days 3650 -extfile "$d/san.ext" -out "$d/broker.crt" 2> /dev/null \
    || die "cannot sign the broker certificate"
  # Kafka's PEM key store: the unencrypted PKCS#8 key, then the certificate chain.
  openssl pkcs8 -topk8 -nocrypt -in "$d/broker.key" -out "$d/broker.p8" 2> /dev/null \
    || die "cannot convert the broker key"
  cat "$d/broker.p8" "$d/broker.crt" "$d/ca.pem" > "$d/broker.pem"
  chmod 600 "$d/ca.key" "$d/broker.key" "$d/broker.p8" "$d/broker.pem"
}

# ---------------------------------------------------------------- format + start
[ -z "$tls" ] || make_tls
heap_opts="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
max_attempts=1
[ -z "$port" ] && max_attempts=5   # ports we picked ourselves may be lost to a race
attempt=0
while :; do
  attempt=$((attempt + 1))
  choose_ports
  write_configs
  echo "$client_port $controller_port $internal_port" > "$data_dir/ports"

  if [ ! -f "$data_dir/logs/meta.properties" ]; then
    cluster_id="$(random_cluster_id)"
    fmt_args=(format --config "$data_dir/server.properties" --cluster-id "$cluster_id")
    if [ -n "$scram" ]; then
      fmt_args+=(--add-scram "SCRAM-SHA-256=[name=$scram_user,password=$scram_pass]"
                 --add-scram "SCRAM-SHA-512=[name=$scram_user,password=$scram_pass]")
    fi
    log "formatting $data_dir/logs (cluster id $cluster_id${scram:+, SCRAM user $scram_user})"
    tools_java kafka.tools.StorageTool "${fmt_args[@]}" >&2 || die "kafka-storage format failed"
    echo "$cluster_id" > "$data_dir/cluster.id"
    printf '%s\n' "$scram_user" > "$data_dir/scram.user"
  else
    log "reusing formatted storage in $data_dir/logs (cluster id $(cat "$data_dir/cluster.id" 2>/dev/null || echo '?'))"
    if [ -n "$scram" ] && [ "$(cat "$data_dir/scram.user" 2>/dev/null)" != "$scram_user" ]; then
      die "$data_dir was formatted without SCRAM user $scram_user; use a fresh --data-dir"
    fi
  fi

  for f in broker.log broker.out; do
    if [ -f "$data_dir/$f" ]; then mv -f "$data_dir/$f" "$data_dir/$f.prev"; fi
  done
  log "starting broker on 127.0.0.1:$client_port (controller 127.0.0.1:$controller_port${internal_port:+, internal 127.0.0.1:$internal_port}), data dir $data_dir"
  # shellcheck disable=SC2086
  setsid "$JAVA" $heap_opts \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$data_dir/log4j2.properties" \
    -Dkafka.logs.dir="$data_dir" \
    ${KAFKA_JVM_OPTS:-} \
    -cp "$KAFKA_LIB_DIR/*" kafka.Kafka "$data_dir/server.properties" \
    < /dev/null > "$data_dir/broker.out" 2>&1 &
  broker_pid=$!
  disown "$broker_pid" 2>/dev/null || true   # no "Killed" job notices from bash
  echo "$broker_pid" > "$data_dir/broker.pid"

  # Ready = the broker logged that it started (KRaft brokers log this once
  # unfenced) and the client port accepts connections.
  deadline=$((SECONDS + timeout))
  state=waiting
  while :; do
    if ! proc_alive "$broker_pid"; then
      state=died; break
    fi
    if grep -q 'Kafka Server started' "$data_dir/broker.log" 2>/dev/null \
       && (exec 3<>"/dev/tcp/127.0.0.1/$client_port") 2>/dev/null; then
      state=up; break
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      state=timeout; break
    fi
    sleep 0.2
  done

  if [ "$state" = up ]; then
    break
  fi
  if [ "$state" = timeout ]; then
    show_logs
    die "broker did not come up within ${timeout}s"
  fi
  # died
  if [ "$attempt" -lt "$max_attempts" ] \
     && grep -qs 'Address already in use' "$data_dir/broker.log" "$data_dir/broker.out"; then
    log "a port was taken meanwhile; retrying with other ports"
    prev_port="" prev_cport="" prev_iport=""
    continue
  fi
  show_logs
  die "broker exited during startup"
done

echo "127.0.0.1:$client_port" > "$data_dir/bootstrap"
ok=1
log "broker up after ${SECONDS}s, pid $broker_pid"
log "data dir: $data_dir  (stop with: $KAFKA_OPS_DIR/stop.sh $data_dir)"
echo "127.0.0.1:$client_port"
