#!/usr/bin/env bash
# Builds librdkafka from its upstream source into a prefix and prints the
# prefix as the last line. Debian 12's librdkafka (2.0.2) cannot log in with
# SASL/SCRAM to Kafka 3.7.2 and later (their stricter SCRAM nonce check for
# CVE-2024-56128; fixed in librdkafka 2.6.1), so demerit builds a current one.
# The source is the librdkafka release tree that the rdkafka-sys crate
# bundles: crates.io keeps every published file immutable, and the crate file
# is pinned here by its SHA-256.
# Usage: ops/librdkafka/build.sh [PREFIX]
#   PREFIX defaults to $DEMERIT_LIBRDKAFKA_PREFIX, else .deps/librdkafka-VERSION.
# Nothing is done when PREFIX already holds this build.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
version=2.12.1
crate=rdkafka-sys-4.10.0+$version
sha256=e234cf318915c1059d4921ef7f75616b5219b10b46e9f3a511a15eb4b56a3f77
url="https://static.crates.io/crates/rdkafka-sys/$crate.crate"
prefix=${1:-${DEMERIT_LIBRDKAFKA_PREFIX:-$root/.deps/librdkafka-$version}}

stamp="$prefix/.demerit-build"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sha256" ]; then
  echo "$prefix"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "librdkafka $version: downloading $url" >&2
curl -fsSL --retry 3 -o "$work/src.crate" "$url"
echo "$sha256  $work/src.crate" | sha256sum -c --quiet - >&2 \
  || { echo "librdkafka: $crate.crate does not match its pinned SHA-256" >&2; exit 1; }
tar -xzf "$work/src.crate" -C "$work"
src="$work/$crate/librdkafka"
[ -f "$src/CMakeLists.txt" ] || { echo "librdkafka: no source tree in $crate.crate" >&2; exit 1; }

echo "librdkafka $version: building into $prefix" >&2
# SCRAM and OAUTHBEARER on OpenSSL; no Cyrus SASL (GSSAPI), no libcurl.
cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
  -DRDKAFKA_BUILD_EXAMPLES=OFF -DRDKAFKA_BUILD_TESTS=OFF \
  -DWITH_SSL=ON -DWITH_SASL=OFF -DWITH_SASL_SCRAM=ON -DWITH_SASL_OAUTHBEARER=ON \
  -DWITH_ZLIB=ON -DWITH_ZSTD=ON -DENABLE_LZ4_EXT=ON -DWITH_CURL=OFF > "$work/configure.log" 2>&1 \
  || { cat "$work/configure.log" >&2; exit 1; }
cmake --build "$work/build" -j 2 > "$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }
rm -rf "$prefix"
cmake --install "$work/build" > /dev/null
echo "$sha256" > "$stamp"
echo "$prefix"
