#!/usr/bin/env bash
# Checks the Helm chart helm/demerit, offline apart from the Go module proxy and PyPI:
#   - the chart's copies of the rules are identical to rules/ (tests/helm/sync-rules.sh --check)
#   - helm lint --strict with the default and the production example values
#   - helm template with default, production and variant values; every rendered resource is
#     validated against the Kubernetes JSON schemas of K8S_VERSIONS (strict: unknown fields are
#     errors), CRD kinds (ServiceMonitor) structurally
#   - key properties of the renders (tests/helm/check_render.py): non-root, read-only root,
#     probes on /healthz and /readyz, one PVC per pod, PDB, ServiceMonitor, rules mounted
#     without subPath and byte-identical to rules/, checksum/config not covering the rules
#   - values.schema.json rejects bad values; rendering fails when replicaCount exceeds
#     kafka.inputPartitions
# Prints `chart checks: N passed, M failed`; exits 1 if any check failed, 2 if the tools could
# not be installed. Runnable from any directory.
#
# Tools (installed once into $DEMERIT_HELM_TOOLS, default build/helm-tools/, and reused):
#   helm       HELM_VERSION, built from source with `go install` (Go module proxy); an existing
#              $DEMERIT_HELM_TOOLS/bin/helm or $(go env GOPATH)/bin/helm of that version is reused
#   kubernetes-validate  KUBERNETES_VALIDATE_VERSION from PyPI into a venv; it bundles the
#              Kubernetes JSON schemas (1.25 to 1.37), so validation needs no network
set -uo pipefail

HELM_VERSION=${HELM_VERSION:-v3.21.4}
KUBERNETES_VALIDATE_VERSION=${KUBERNETES_VALIDATE_VERSION:-1.37.0}
# Kubernetes versions to validate against (comma-separated); the chart needs >= 1.25.
K8S_VERSIONS=${K8S_VERSIONS:-1.29.0,1.33.0}
# The version helm template/lint render for (Capabilities.KubeVersion).
KUBE_VERSION=${KUBE_VERSION:-1.29.0}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$root/tests/helm
chart=$root/helm/demerit
tools=${DEMERIT_HELM_TOOLS:-$root/build/helm-tools}
start=$SECONDS

work=$(mktemp -d "${TMPDIR:-/tmp}/demerit-chart.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Keep helm's config, cache and data out of $HOME.
export HELM_CONFIG_HOME=$work/helm/config HELM_CACHE_HOME=$work/helm/cache HELM_DATA_HOME=$work/helm/data

log() { echo "check_chart: $*" >&2; }

# ---------------------------------------------------------------------------------------------
# Tools

helm_version_of() { # prints the helm module version a binary was built from, if any
  local bin=$1 v=""
  [ -x "$bin" ] || return 0
  if command -v go >/dev/null; then
    v=$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" && $2 == "helm.sh/helm/v3" {print $3}')
  fi
  if [ -z "$v" ]; then
    v=$("$bin" version --template '{{.Version}}' 2>/dev/null || true)
  fi
  echo "$v"
}

install_helm() {
  local candidates=("$tools/bin/helm") gopath
  if command -v go >/dev/null; then
    gopath=$(go env GOPATH 2>/dev/null | cut -d: -f1)
    [ -n "$gopath" ] && candidates+=("$gopath/bin/helm")
  fi
  candidates+=("$HOME/go/bin/helm")
  for c in "${candidates[@]}"; do
    if [ "$(helm_version_of "$c")" = "$HELM_VERSION" ]; then
      HELM=$c
      log "helm $HELM_VERSION: $HELM (cached)"
      return 0
    fi
  done
  if ! command -v go >/dev/null; then
    log "helm $HELM_VERSION is not installed and there is no Go toolchain to build it"
    return 1
  fi
  log "building helm $HELM_VERSION with go install (Go module proxy) into $tools/bin ..."
  local t=$SECONDS
  mkdir -p "$tools/bin"
  # Build it as helm's Makefile builds releases: static (CGO_ENABLED=0), the version by -X
  # (else `helm version` says only v3.21), and the default Kubernetes version of
  # `helm template`/`lint` from the client-go it uses (else v1.20, which the chart's
  # kubeVersion refuses when --kube-version is not given).
  local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" gomod minor
  gomod=$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" 2>/dev/null |
            sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  minor=$(awk '$1 == "k8s.io/client-go" {split($2, v, "."); print v[2]}' "${gomod:-/dev/null}" 2>/dev/null)
  if [[ "$minor" =~ ^[0-9]+$ ]]; then
    local p
    for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
      ldflags+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$minor"
    done
  fi
  if ! CGO_ENABLED=0 GOBIN=$tools/bin go install -trimpath -ldflags "$ldflags" \
      "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2; then
    log "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION failed"
    return 1
  fi
  HELM=$tools/bin/helm
  log "helm $HELM_VERSION built in $((SECONDS - t)) s"
}

install_validator() {
  local venv=$tools/venv
  local probe="import sys, kubernetes_validate.version as v; sys.exit(v.__version__ != '$KUBERNETES_VALIDATE_VERSION')"
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$probe" 2>/dev/null; then
    PY=$venv/bin/python
    log "kubernetes-validate $KUBERNETES_VALIDATE_VERSION: $venv (cached)"
    return 0
  fi
  local t=$SECONDS
  log "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION from PyPI into $venv ..."
  rm -rf "$venv"
  mkdir -p "$tools"
  if python3 -m venv "$venv" >&2 &&
      "$venv/bin/python" -m pip install -q "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2 &&
      "$venv/bin/python" -c "$probe"; then
    PY=$venv/bin/python
    log "kubernetes-validate installed in $((SECONDS - t)) s"
    return 0
  fi
  log "kubernetes-validate could not be installed into a venv (python3-venv missing?)"
  return 1
}

if ! command -v python3 >/dev/null; then
  log "python3 is required"
  echo "chart checks: 0 passed, 1 failed"
  exit 2
fi
if ! install_helm || ! install_validator; then
  echo "chart checks: 0 passed, 1 failed (tools could not be installed)"
  exit 2
fi
tools_time=$((SECONDS - start))

# ---------------------------------------------------------------------------------------------
# Checks

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { # NAME [DETAIL FILE]
  failed=$((failed + 1))
  echo "not ok - $1"
  if [ -n "${2:-}" ] && [ -s "$2" ]; then sed -e 's/^/    /' "$2" | head -n 40; fi
}

# expect_ok NAME CMD...: CMD succeeds
expect_ok() {
  local name=$1; shift
  if "$@" >"$work/out" 2>&1; then ok "$name"; else not_ok "$name" "$work/out"; fi
}

# expect_fail NAME PATTERN CMD...: CMD fails and its output matches the extended regex PATTERN
expect_fail() {
  local name=$1 pattern=$2; shift 2
  if "$@" >"$work/out" 2>&1; then
    echo "(succeeded although it should fail)" >>"$work/out"
    not_ok "$name" "$work/out"
  elif grep -Eq -- "$pattern" "$work/out"; then
    ok "$name"
  else
    echo "(failed, but the output does not match /$pattern/)" >>"$work/out"
    not_ok "$name" "$work/out"
  fi
}

# py NAME ARGS...: runs check_render.py and counts its ok / not ok lines
py() {
  local name=$1; shift
  "$PY" "$here/check_render.py" "$@" >"$work/py.out" 2>&1
  local rc=$? n_ok n_fail
  cat "$work/py.out"
  n_ok=$(grep -c '^ok - ' "$work/py.out")
  n_fail=$(grep -c '^not ok - ' "$work/py.out")
  passed=$((passed + n_ok))
  failed=$((failed + n_fail))
  if [ $rc -ne 0 ] && [ "$n_fail" -eq 0 ]; then not_ok "$name: check_render.py exited $rc"; fi
  if [ $rc -eq 0 ] && [ "$n_ok" -eq 0 ]; then not_ok "$name: no checks ran"; fi
}

render() { # OUT CHART ARGS...: helm template into OUT
  local out=$1 dir=$2; shift 2
  "$HELM" template demerit "$dir" --namespace demerit --kube-version "$KUBE_VERSION" "$@" >"$out"
}

prod=$chart/examples/values-production.yaml
variant=(--set kafka.credentials.create=true --set kafka.credentials.username=demerit
         --set kafka.credentials.password=secret --set rules.existingConfigMap=my-rules
         --set 'rules.existingConfigMapPacks={a.yaml,b.yaml}'
         --set persistence.retentionPolicy.whenScaled=Delete)

echo "== chart files"
expect_ok "chart rules are identical to rules/ (sync-rules.sh --check)" "$here/sync-rules.sh" --check
expect_ok "Chart.yaml: apiVersion v2" grep -q '^apiVersion: v2$' "$chart/Chart.yaml"
expect_ok "Chart.yaml: appVersion 0.1.0" grep -Eq '^appVersion: "?0\.1\.0"?$' "$chart/Chart.yaml"
expect_ok "values.yaml: every value documented by a comment" "$PY" - "$chart/values.yaml" <<'EOF'
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
stack, bad, prev = [], [], ""
for i, line in enumerate(lines, 1):
    s = line.strip()
    if not s:
        continue
    m = re.match(r"^( *)([A-Za-z0-9_.\"-]+):(.*)$", line)
    if m and not s.startswith("#"):
        indent, key, rest = len(m.group(1)), m.group(2), m.group(3)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        documented = prev.startswith("#") or "#" in rest or (stack and stack[-1][1])
        leaf = rest.strip() not in ("",) and not rest.strip().startswith("#")
        if leaf and not documented:
            bad.append(f"line {i}: {key}")
        stack.append((indent, documented))
    prev = s
if bad:
    print("undocumented values:", *bad, sep="\n  ")
    sys.exit(1)
EOF
expect_ok "image user matches the chart's runAsUser (10001)" grep -Eq '^USER 10001(:10001)?$' "$root/Dockerfile"

echo "== helm lint --strict"
expect_ok "helm lint --strict (default values)" \
  "$HELM" lint --strict --kube-version "$KUBE_VERSION" "$chart"
expect_ok "helm lint --strict (examples/values-production.yaml)" \
  "$HELM" lint --strict --kube-version "$KUBE_VERSION" "$chart" -f "$prod"
expect_ok "helm lint --strict (created Secret, existing rules ConfigMap)" \
  "$HELM" lint --strict --kube-version "$KUBE_VERSION" "$chart" "${variant[@]}"

echo "== helm template"
expect_ok "helm template (default values)" render "$work/default.yaml" "$chart"
expect_ok "helm template (production values)" render "$work/production.yaml" "$chart" -f "$prod"
expect_ok "helm template (variant values)" render "$work/variant.yaml" "$chart" "${variant[@]}"
expect_ok "helm template with replicaCount == kafka.inputPartitions" \
  render "$work/equal.yaml" "$chart" --set replicaCount=3 --set kafka.inputPartitions=3
expect_fail "helm template FAILS with replicaCount > kafka.inputPartitions" 'exceeds kafka\.inputPartitions' \
  render "$work/x.yaml" "$chart" --set replicaCount=4 --set kafka.inputPartitions=3
expect_fail "production values with replicaCount 13 > 12 partitions fail" 'exceeds kafka\.inputPartitions' \
  render "$work/x.yaml" "$chart" -f "$prod" --set replicaCount=13
expect_fail "schema rejects replicaCount 0" 'replicaCount' \
  render "$work/x.yaml" "$chart" --set replicaCount=0
expect_fail "schema rejects a non-integer replicaCount (1.5)" 'replicaCount' \
  render "$work/x.yaml" "$chart" --set replicaCount=1.5
expect_fail "schema rejects a string replicaCount" 'replicaCount' \
  render "$work/x.yaml" "$chart" --set-string replicaCount=two
expect_fail "schema rejects kafka.inputPartitions 0" 'inputPartitions' \
  render "$work/x.yaml" "$chart" --set kafka.inputPartitions=0
expect_fail "schema rejects an unknown value (typo replicaCont)" 'replicaCont' \
  render "$work/x.yaml" "$chart" --set replicaCont=2
expect_fail "schema rejects an unknown topic key" 'topics|additional' \
  render "$work/x.yaml" "$chart" --set config.topics.penalty=x
expect_fail "schema rejects a password in kafka.properties" 'properties|not' \
  render "$work/x.yaml" "$chart" --set 'kafka.properties.sasl\.password=x'
expect_fail "created Secret without a password fails" 'password' \
  render "$work/x.yaml" "$chart" --set kafka.credentials.create=true --set kafka.credentials.username=u
expect_fail "existing rules ConfigMap without its packs fails" 'existingConfigMapPacks' \
  render "$work/x.yaml" "$chart" --set rules.existingConfigMap=my-rules
if render "$work/nosm.yaml" "$chart" --set metrics.serviceMonitor.enabled=false 2>"$work/out" &&
    ! grep -q '^kind: ServiceMonitor' "$work/nosm.yaml" && grep -q '^kind: ServiceMonitor' "$work/default.yaml"; then
  ok "ServiceMonitor on by default, off with metrics.serviceMonitor.enabled=false"
else
  not_ok "ServiceMonitor on by default, off with metrics.serviceMonitor.enabled=false" "$work/out"
fi

echo "== Kubernetes schemas ($K8S_VERSIONS, offline, kubernetes-validate $KUBERNETES_VALIDATE_VERSION)"
py "validate" validate "$K8S_VERSIONS" "$work/default.yaml" "$work/production.yaml" "$work/variant.yaml"

echo "== properties of the renders"
py "default" properties default "$work/default.yaml" "$root"
py "production" properties production "$work/production.yaml" "$root"
py "variant" properties variant "$work/variant.yaml" "$root"

echo "== rules reload live, config rolls the pods"
# A copy of the chart whose rules differ in one pack: only the rules ConfigMap may change.
cp -r "$chart" "$work/chart-rules-changed"
pack=$(ls "$work/chart-rules-changed/files/rules/packs/"*.yaml | head -n 1)
printf '# a rule change\n' >>"$pack"
if render "$work/rules-changed.yaml" "$work/chart-rules-changed" 2>"$work/out"; then
  py "rules-live" rules-live "$work/default.yaml" "$work/rules-changed.yaml"
else
  not_ok "helm template of the chart with changed rules" "$work/out"
fi
if render "$work/config-changed.yaml" "$chart" --set config.commitIntervalMs=250 2>"$work/out"; then
  py "config-rolls" config-rolls "$work/default.yaml" "$work/config-changed.yaml"
else
  not_ok "helm template with a changed config" "$work/out"
fi

total=$((SECONDS - start))
log "helm: $HELM ($HELM_VERSION); validator: kubernetes-validate $KUBERNETES_VALIDATE_VERSION ($PY)"
log "time: ${total} s in all, ${tools_time} s of it installing tools"
echo "chart checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
