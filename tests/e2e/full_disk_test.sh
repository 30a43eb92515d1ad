#!/usr/bin/env bash
# replay --state on a nearly full file system (a small tmpfs): exit 4 with a
# message naming the state directory and the full disk, never an abort.
# Mounting takes root; without it the test is skipped (exit 77).
# Usage: full_disk_test.sh DEMERIT_BINARY SOURCE_ROOT
. "$(dirname "$0")/lib.sh" "$@"
disk="$work/disk"
mkdir -p "$disk"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=4m tmpfs "$disk" 2> "$work/mount.err"; then
  echo "full_disk_test: skipped, cannot mount a tmpfs ($(cat "$work/mount.err" 2> /dev/null))"
  exit 77
fi
trap 'umount "$disk" 2> /dev/null; rm -rf "$work"' EXIT

# About 390,000 events: state of some 40 MiB, written in bulk parts.
"$bin" gen --employees 1500 --days 30 --rules "$root/rules" --format pb --out "$work/events.pb" \
  2> /dev/null
# Sizes at which the disk fills in the first bulk part, in a later part
# (budget commits of a 16 MiB cache) and at the end.
for size in 4m 24m; do
  for cache in 16 1024; do
    umount "$disk" && mount -t tmpfs -o "size=$size" tmpfs "$disk" || { fail "remount $size"; continue; }
    "$bin" replay --rules "$root/rules" --events "$work/events.pb" --state "$disk/state" \
      --cache-mb "$cache" -q > /dev/null 2> "$work/err"
    code=$?
    expect_code "replay on a full $size disk, --cache-mb $cache" 4 "$code"
    expect_grep "replay on a full $size disk, --cache-mb $cache" \
      "^state directory $disk/state: no space left on device (.*Hint: " "$work/err"
  done
done
finish full_disk_test
