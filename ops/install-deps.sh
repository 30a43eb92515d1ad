#!/usr/bin/env bash
# Installs the Debian 12 packages that building, running and testing demerit
# need. Runs apt-get only for what is missing; uses sudo when not root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  clang-format                            # the formatting of .clang-format
  libprotobuf-dev protobuf-compiler       # schemas
  librocksdb-dev                          # state
  libssl-dev zlib1g-dev libzstd-dev liblz4-dev curl ca-certificates  # librdkafka from source (ops/librdkafka/)
  prometheus-cpp-dev                      # metrics
  libyaml-cpp-dev                         # rule files
  libhowardhinnant-date-dev tzdata        # IANA time zones (date/tz.h on the system tz database)
  libcli11-dev                            # command line
  libjemalloc-dev                         # allocator for the engine's many small objects
  nlohmann-json3-dev                      # YAML test cases to JSON events
  libgtest-dev libgmock-dev libbenchmark-dev
  time                                    # /usr/bin/time for peak memory in benchmarks
  default-jdk-headless maven openssl      # the test broker (Apache Kafka, ops/kafka/; TLS material)
  prometheus jq curl                      # promtool, and a real Prometheus for the metric checks
  python3-venv                            # the offline Kubernetes schema validator (chart checks)
  clang-16 libclang-rt-16-dev llvm-16     # libFuzzer, its sanitizers and symbolizer (ops/fuzz.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
