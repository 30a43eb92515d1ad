#!/usr/bin/env bash
# Builds librdkafka from its upstream source into a prefix and prints the
# prefix as the last line. Debian 12's librdkafka (2.0.2) cannot log in with
# SASL/SCRAM to Kafka 3.7.2 and later (their stricter SCRAM nonce check for
# CVE-2024-56128; fixed in librdkafka 2.6.1), so demerit builds a current one.
# The source is the librdkafka release tree that the rdkafka-sys crate
# bundles. Cargo, the Rust registry's own client, fetches the crate
# (ops/librdkafka/Cargo.toml names the exact version); the registry keeps
# every published file immutable, and the crate file is pinned here by its
# SHA-256, checked against the registry's index entry and the file itself.
# Usage: ops/librdkafka/build.sh [PREFIX]
#   PREFIX defaults to $DEMERIT_LIBRDKAFKA_PREFIX, else .deps/librdkafka-VERSION.
# Nothing is done when PREFIX already holds this build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
version=2.12.1
crate=rdkafka-sys-4.10.0+$version
sha256=e234cf318915c1059d4921ef7f75616b5219b10b46e9f3a511a15eb4b56a3f77
prefix=${1:-${DEMERIT_LIBRDKAFKA_PREFIX:-$root/.deps/librdkafka-$version}}

stamp="$prefix/.demerit-build"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sha256" ]; then
  echo "$prefix"
  exit 0
fi

cargo=$(command -v cargo || true)
[ -n "$cargo" ] || [ ! -x "$HOME/.cargo/bin/cargo" ] || cargo=$HOME/.cargo/bin/cargo
if [ -z "$cargo" ]; then
  echo "librdkafka: cargo (Rust's package client, 1.68 or later) is needed to fetch the" \
       "$crate crate; install it with rustup" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "librdkafka $version: fetching the $crate crate with cargo" >&2
# A throw-away package that depends on the crate; a private CARGO_HOME keeps
# the download apart from the user's.
mkdir -p "$work/fetch/src" "$work/cargo-home"
cp "$here/Cargo.toml" "$work/fetch/Cargo.toml"
: > "$work/fetch/src/lib.rs"
export CARGO_HOME="$work/cargo-home"
(cd "$work/fetch" && "$cargo" generate-lockfile -q && "$cargo" fetch -q --locked) >&2 \
  || { echo "librdkafka: cargo could not fetch $crate" >&2; exit 1; }
grep -A3 "^name = \"rdkafka-sys\"" "$work/fetch/Cargo.lock" | grep -q "^checksum = \"$sha256\"" \
  || { echo "librdkafka: the registry's checksum of $crate is not the pinned SHA-256" >&2; exit 1; }
file=$(find "$CARGO_HOME/registry/cache" -name "$crate.crate" | head -n 1)
[ -n "$file" ] || { echo "librdkafka: cargo fetched no $crate.crate" >&2; exit 1; }
echo "$sha256  $file" | sha256sum -c --quiet - >&2 \
  || { echo "librdkafka: $crate.crate does not match its pinned SHA-256" >&2; exit 1; }
cp "$file" "$work/src.crate"
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
