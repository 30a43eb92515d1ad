#!/usr/bin/env bash
# Copies the shipped policy (rules/sites.yaml and rules/packs/*.yaml) into the Helm chart
# (helm/demerit/files/rules/), which builds its rules ConfigMap from those copies: a chart can
# only read files inside its own directory. Removes copies of packs that no longer exist.
#   tests/helm/sync-rules.sh           copy
#   tests/helm/sync-rules.sh --check   compare only; exits 1 and lists the differences if the
#                                      copies have drifted from rules/
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
src=$root/rules
dst=$root/helm/demerit/files/rules

mode=copy
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

# The files that make up a rule set (what `demerit rules check DIR` compiles), relative to DIR.
list() {
  (cd "$1" && { [ -f sites.yaml ] && echo sites.yaml; ls packs/*.yaml 2>/dev/null || true; } | LC_ALL=C sort)
}

if [ "$mode" = check ]; then
  status=0
  if [ ! -d "$dst" ]; then
    echo "missing: ${dst#"$root"/} (run tests/helm/sync-rules.sh)"
    exit 1
  fi
  if ! diff <(list "$src") <(list "$dst") >/dev/null; then
    echo "file lists differ between rules/ and ${dst#"$root"/}:"
    diff <(list "$src") <(list "$dst") | sed 's/^/  /' || true
    status=1
  fi
  while read -r f; do
    if [ -f "$dst/$f" ] && ! cmp -s "$src/$f" "$dst/$f"; then
      echo "differs: rules/$f vs ${dst#"$root"/}/$f"
      status=1
    fi
  done < <(list "$src")
  # Anything else under files/rules/ would be silently ignored by the chart: flag it too.
  extra=$(cd "$dst" && find . -type f ! -path './sites.yaml' ! -path './packs/*.yaml' | sed 's#^\./##')
  if [ -n "$extra" ]; then
    echo "unexpected files under ${dst#"$root"/}: $extra"
    status=1
  fi
  if [ $status -ne 0 ]; then
    echo "run tests/helm/sync-rules.sh to update the chart's copies"
  fi
  exit $status
fi

[ -f "$src/sites.yaml" ] || { echo "no $src/sites.yaml" >&2; exit 1; }
mkdir -p "$dst/packs"
cp "$src/sites.yaml" "$dst/sites.yaml"
find "$dst/packs" -type f -name '*.yaml' -delete
for f in "$src"/packs/*.yaml; do
  [ -e "$f" ] || continue
  name=$(basename "$f")
  # ConfigMap keys allow [-._a-zA-Z0-9] only; the chart turns packs/NAME into key packs__NAME.
  if ! [[ "$name" =~ ^[-._a-zA-Z0-9]+$ ]]; then
    echo "pack file name not usable as a ConfigMap key: $name" >&2
    exit 1
  fi
  cp "$f" "$dst/packs/$name"
done
echo "synced $(list "$dst" | wc -l) rule files into ${dst#"$root"/}" >&2
