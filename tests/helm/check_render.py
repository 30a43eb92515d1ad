#!/usr/bin/env python3
"""Checks of rendered demerit chart manifests (`helm template` output), for check_chart.sh.

Runs in the venv that check_chart.sh creates (PyYAML and kubernetes-validate). Each check prints
one line, `ok - NAME` or `not ok - NAME: DETAIL`; check_chart.sh counts them. Exit status 1 when
any check failed.

  check_render.py validate VERSIONS FILE...     every resource against the Kubernetes schemas of
                                                each version (comma-separated, e.g. 1.29.0,1.33.0),
                                                strict (unknown fields are errors); CRD kinds
                                                (ServiceMonitor) are checked structurally instead
  check_render.py properties PROFILE FILE REPO  key properties of one render; PROFILE is default,
                                                production or variant (see check_chart.sh)
  check_render.py rules-live A B                A and B differ only in a rules file: the rules
                                                ConfigMap differs, the StatefulSet (pod template,
                                                checksum annotations) is byte-identical
  check_render.py config-rolls A B              A and B differ in a config value: the
                                                checksum/config annotation differs
"""

import os
import re
import sys

import yaml

FAILED = 0
CRD_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}
CONFIG_KEYS = {"bootstrap", "rules", "state", "metrics_listen", "application_id", "instance_id",
               "commit_interval_ms", "topics", "kafka"}
TOPIC_KEYS = {"attendance", "calls", "visits", "callbacks", "observations", "penalties",
              "deadletter", "changelog"}


def report(name, ok, detail=""):
    global FAILED
    if ok:
        print(f"ok - {name}")
    else:
        FAILED += 1
        print(f"not ok - {name}: {detail}")


def check(name, fn):
    """Runs fn(); a falsy result, an AssertionError or any exception is a failure."""
    try:
        result = fn()
        if result is None or result is True:
            report(name, True)
        else:
            report(name, False, str(result))
    except AssertionError as e:
        report(name, False, str(e) or "assertion failed")
    except Exception as e:  # a crash in a check is a failed check, not a crashed run
        report(name, False, f"{type(e).__name__}: {e}")


def load(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def find(docs, kind, name_suffix=None):
    found = [d for d in docs if d.get("kind") == kind and
             (name_suffix is None or d["metadata"]["name"].endswith(name_suffix))]
    return found


def one(docs, kind, name_suffix=None):
    found = find(docs, kind, name_suffix)
    assert len(found) == 1, f"expected one {kind}{' *' + name_suffix if name_suffix else ''}, found {len(found)}"
    return found[0]


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


# ---------------------------------------------------------------------------------------------
def cmd_validate(versions, files):
    import kubernetes_validate.utils as kv

    for path in files:
        docs = load(path)
        label = os.path.basename(path)
        check(f"{label}: renders resources", lambda: len(docs) > 0 or "no documents")
        for d in docs:
            kind, api = d.get("kind"), d.get("apiVersion")
            name = (d.get("metadata") or {}).get("name")
            res = f"{label}: {kind}/{name}"

            def basic():
                assert api and kind, "apiVersion or kind missing"
                assert name, "metadata.name missing"
                assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", name) and len(name) <= 253, \
                    f"invalid name {name!r}"
            check(f"{res} has apiVersion, kind, metadata.name", basic)

            if (api, kind) in CRD_KINDS:
                check(f"{res} ServiceMonitor structure", lambda d=d: servicemonitor_structure(d, docs))
                continue
            for v in versions:
                def validate(d=d, v=v):
                    try:
                        kv.validate(d, v, strict=True)
                    except kv.ValidationError as e:
                        where = ".".join(str(p) for p in e.path)
                        return f"{where}: {e.message}"
                    except kv.SchemaNotFoundError as e:
                        return e.message
                check(f"{res} valid against Kubernetes {v} schema (strict)", validate)


def servicemonitor_structure(sm, docs):
    spec = sm.get("spec") or {}
    eps = spec.get("endpoints") or []
    assert eps, "no endpoints"
    for ep in eps:
        assert ep.get("port") == "metrics", f"endpoint port {ep.get('port')!r}, want 'metrics'"
        assert ep.get("path", "/metrics") == "/metrics", "endpoint path is not /metrics"
        for k in ("interval", "scrapeTimeout"):
            if k in ep:
                assert re.fullmatch(r"([0-9]+(ms|s|m|h))+", str(ep[k])), f"{k} {ep[k]!r} is no duration"
    sel = (spec.get("selector") or {}).get("matchLabels") or {}
    assert sel, "no selector.matchLabels"
    services = [s for s in find(docs, "Service") if selects(sel, s["metadata"].get("labels") or {})]
    assert len(services) == 1, \
        f"selector must match exactly the metrics Service, matches {[s['metadata']['name'] for s in services]}"
    svc = services[0]
    assert svc["spec"].get("clusterIP") != "None", "selects the headless Service"
    assert any(p.get("name") == "metrics" for p in svc["spec"]["ports"]), "Service has no port 'metrics'"
    assert sm["metadata"].get("namespace"), "no namespace"


# ---------------------------------------------------------------------------------------------
def container_of(sts):
    cs = sts["spec"]["template"]["spec"]["containers"]
    assert len(cs) == 1, f"{len(cs)} containers"
    return cs[0]


def port_number(container, port):
    if isinstance(port, int):
        return port
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return p["containerPort"]
    raise AssertionError(f"no container port named {port!r}")


def quantity(q):
    """Kubernetes quantity to a float (cpu cores or bytes)."""
    q = str(q)
    units = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
             "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", q)
    assert m, f"bad quantity {q!r}"
    return float(m.group(1)) * units.get(m.group(2), 1)


def rule_files(repo):
    """The rule set as the processor reads it: sites.yaml and packs/*.yaml, relative paths."""
    rules = os.path.join(repo, "rules")
    files = {"sites.yaml": open(os.path.join(rules, "sites.yaml"), "rb").read()}
    for n in sorted(os.listdir(os.path.join(rules, "packs"))):
        if n.endswith(".yaml"):
            files[f"packs/{n}"] = open(os.path.join(rules, "packs", n), "rb").read()
    return files


def cmd_properties(profile, path, repo):
    docs = load(path)
    label = f"{profile}"
    sts = one(docs, "StatefulSet")
    pod = sts["spec"]["template"]["spec"]
    c = container_of(sts)
    pod_labels = sts["spec"]["template"]["metadata"]["labels"]
    ann = sts["spec"]["template"]["metadata"].get("annotations") or {}
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts") or []}
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    config_cm = one(docs, "ConfigMap", "-config")
    env = {e["name"]: e for e in c.get("env") or []}

    def p(name, fn):
        check(f"{label}: {name}", fn)

    # --- the workload
    def selector():
        sel = sts["spec"]["selector"]["matchLabels"]
        assert selects(sel, pod_labels), "selector does not match the pod labels"
    p("StatefulSet selector matches its pods", selector)
    p("podManagementPolicy Parallel",
      lambda: sts["spec"].get("podManagementPolicy") == "Parallel" or f"{sts['spec'].get('podManagementPolicy')}")

    def headless():
        svc = one(docs, "Service", "-headless")
        assert sts["spec"]["serviceName"] == svc["metadata"]["name"], "serviceName is not the headless Service"
        assert svc["spec"].get("clusterIP") == "None", "headless Service has a clusterIP"
        assert selects(svc["spec"]["selector"], pod_labels), "headless Service does not select the pods"
    p("headless Service governs the StatefulSet", headless)

    def args():
        a = c.get("args") or []
        cmd = (c.get("command") or []) + a
        assert cmd[:1] == ["process"], f"args {a}: expected `process` (ENTRYPOINT is demerit)"
        assert "--config" in a and a[a.index("--config") + 1] == "/etc/demerit/config.yaml", "no --config /etc/demerit/config.yaml"
        assert "--instance-id" in a and a[a.index("--instance-id") + 1] == "$(POD_NAME)", "--instance-id is not $(POD_NAME)"
        ref = (env.get("POD_NAME") or {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        assert ref == "metadata.name", f"POD_NAME is not from the downward API metadata.name ({ref})"
        names = [e["name"] for e in c.get("env") or []]
        assert names.index("POD_NAME") == 0, "POD_NAME must be defined before use"
    p("--instance-id from the pod name (downward API)", args)

    # --- security
    def security():
        psc, sc = pod.get("securityContext") or {}, c.get("securityContext") or {}
        eff = dict(psc, **sc)
        assert eff.get("runAsNonRoot") is True, "runAsNonRoot is not true"
        assert eff.get("runAsUser") == 10001, f"runAsUser {eff.get('runAsUser')}"
        assert sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem is not true"
        assert sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation is not false"
        assert sc.get("privileged") in (None, False), "privileged"
        assert "ALL" in ((sc.get("capabilities") or {}).get("drop") or []), "capabilities do not drop ALL"
        assert not (sc.get("capabilities") or {}).get("add"), "capabilities added"
        assert (eff.get("seccompProfile") or {}).get("type") == "RuntimeDefault", "seccompProfile is not RuntimeDefault"
        assert psc.get("fsGroup") == 10001, "fsGroup is not 10001 (state volume not writable)"
        assert pod.get("automountServiceAccountToken") is False, "service account token mounted"
        assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC"), "host namespaces"
    p("restrictive securityContext (non-root 10001, read-only root, no escalation, drop ALL, RuntimeDefault)", security)

    def tmp():
        m = mounts.get("/tmp")
        assert m, "nothing mounted at /tmp"
        assert "emptyDir" in volumes[m["name"]], "/tmp is not an emptyDir"
    p("emptyDir at /tmp", tmp)

    # --- probes
    def probe(kind, path):
        def f():
            pr = c.get(kind) or {}
            g = pr.get("httpGet") or {}
            assert g.get("path") == path, f"{kind} path {g.get('path')!r}"
            assert port_number(c, g.get("port")) == metrics_port(), f"{kind} not on the metrics port"
        return f

    def metrics_port():
        cfg = yaml.safe_load(config_cm["data"]["config.yaml"])
        return int(cfg["metrics_listen"].rsplit(":", 1)[1])
    p("liveness probe GET /healthz on the metrics port", probe("livenessProbe", "/healthz"))
    p("readiness probe GET /readyz on the metrics port", probe("readinessProbe", "/readyz"))

    def resources():
        r = c.get("resources") or {}
        for k in ("requests", "limits"):
            for res in ("cpu", "memory"):
                assert res in (r.get(k) or {}), f"no {k}.{res}"
        assert quantity(r["requests"]["memory"]) <= quantity(r["limits"]["memory"]), "memory request above limit"
        assert quantity(r["requests"]["cpu"]) <= quantity(r["limits"]["cpu"]), "cpu request above limit"
    p("resource requests and limits (cpu, memory)", resources)

    p("terminationGracePeriodSeconds >= 60 (finish the transaction)",
      lambda: (pod.get("terminationGracePeriodSeconds") or 0) >= 60 or f"{pod.get('terminationGracePeriodSeconds')}")

    # --- state volume
    def pvc():
        vcts = sts["spec"].get("volumeClaimTemplates") or []
        assert len(vcts) == 1, f"{len(vcts)} volumeClaimTemplates"
        v = vcts[0]
        m = mounts.get("/var/lib/demerit")
        assert m and m["name"] == v["metadata"]["name"], "the claim template is not mounted at /var/lib/demerit"
        assert m["name"] not in volumes, "a pod volume shadows the claim template"
        assert "ReadWriteOnce" in v["spec"]["accessModes"] or "ReadWriteOncePod" in v["spec"]["accessModes"], "not RWO"
        assert quantity(v["spec"]["resources"]["requests"]["storage"]) > 0, "no storage request"
    p("one PVC per pod (volumeClaimTemplates) at /var/lib/demerit", pvc)

    # --- config
    def config():
        m = mounts.get("/etc/demerit/config.yaml")
        assert m, "nothing at /etc/demerit/config.yaml"
        assert volumes[m["name"]].get("configMap", {}).get("name") == config_cm["metadata"]["name"], "not from the config ConfigMap"
        cfg = yaml.safe_load(config_cm["data"]["config.yaml"])
        unknown = set(cfg) - CONFIG_KEYS
        assert not unknown, f"unknown config keys (errors for the processor): {sorted(unknown)}"
        assert "instance_id" not in cfg, "instance_id in the shared config (must be per pod)"
        assert cfg["rules"] == "/etc/demerit/rules", f"rules: {cfg['rules']}"
        assert cfg["state"] == "/var/lib/demerit", f"state: {cfg['state']}"
        assert cfg.get("bootstrap"), "no bootstrap"
        assert set(cfg.get("topics") or {}) <= TOPIC_KEYS, "unknown topic keys"
        for k, v in (cfg.get("kafka") or {}).items():
            assert isinstance(v, str), f"kafka.{k} is not a string"
            assert "password" not in k, f"kafka.{k}: a secret in the ConfigMap"
        assert metrics_port() == port_number(c, "metrics"), "metrics_listen port is not the container port"
    p("config file at /etc/demerit/config.yaml from the config ConfigMap, known keys only", config)

    # --- rules
    rules_mount = mounts.get("/etc/demerit/rules")
    rules_vol = volumes.get((rules_mount or {}).get("name"), {})

    def rules_mount_ok():
        assert rules_mount, "nothing at /etc/demerit/rules"
        assert "subPath" not in rules_mount and "subPathExpr" not in rules_mount, \
            "rules mounted with subPath: ConfigMap changes would never reach the pod"
        assert "configMap" in rules_vol, "rules volume is not a ConfigMap"
        assert rules_vol["configMap"]["name"] != config_cm["metadata"]["name"], "rules in the config ConfigMap"
        for m in c.get("volumeMounts") or []:
            if m["name"] == rules_mount["name"]:
                assert "subPath" not in m, f"rules volume also mounted with subPath at {m['mountPath']}"
        items = rules_vol["configMap"].get("items") or []
        paths = [i["path"] for i in items]
        assert "sites.yaml" in paths, "no sites.yaml"
        assert len(set(paths)) == len(paths), "duplicate paths"
        for i in items:
            assert i["key"] == i["path"].replace("/", "__"), f"key {i['key']} -> path {i['path']}"
            assert re.fullmatch(r"sites\.yaml|packs/[-._a-zA-Z0-9]+\.yaml", i["path"]), f"unexpected path {i['path']}"
    p("rules ConfigMap mounted as a directory at /etc/demerit/rules, no subPath, packs__X -> packs/X", rules_mount_ok)

    def checksum():
        cs = {k: v for k, v in ann.items() if k.startswith("checksum/")}
        assert "checksum/config" in cs, "no checksum/config annotation"
        assert re.fullmatch(r"[0-9a-f]{64}", cs["checksum/config"]), "checksum/config is not a sha256"
        extra = set(cs) - {"checksum/config", "checksum/secret"}
        assert not extra, f"other checksum annotations {sorted(extra)} (must not cover the rules)"
        assert not any("rule" in k for k in ann), "an annotation about the rules on the pod template"
    p("pod template checksum/config annotation present, nothing for the rules", checksum)

    if profile in ("default", "production"):
        def rules_content():
            cm = one(docs, "ConfigMap", "-rules")
            assert rules_vol["configMap"]["name"] == cm["metadata"]["name"], "mounts another ConfigMap"
            want = rule_files(repo)
            data = cm.get("data") or {}
            keys = {p.replace("/", "__"): p for p in want}
            assert set(data) == set(keys), f"keys {sorted(set(data) ^ set(keys))} differ from rules/"
            for k, pth in keys.items():
                assert data[k].encode("utf-8") == want[pth], f"{k} differs from rules/{pth}"
            items = {i["key"]: i["path"] for i in rules_vol["configMap"]["items"]}
            assert items == keys, "mounted items differ from the ConfigMap's keys"
            size = sum(len(v.encode()) for v in data.values())
            assert size < 900 * 1024, f"{size} bytes: near the 1 MiB ConfigMap limit"
        p("rules ConfigMap holds rules/sites.yaml and rules/packs/*.yaml byte for byte, all mounted", rules_content)

    # --- services, monitoring, disruption budget
    def metrics_service():
        svc = one(docs, "Service", "-metrics")
        ports = svc["spec"]["ports"]
        assert any(pt.get("name") == "metrics" and pt.get("port") == 9464 for pt in ports), f"ports {ports}"
        assert selects(svc["spec"]["selector"], pod_labels), "does not select the pods"
        assert port_number(c, "metrics") == 9464, "container port metrics is not 9464"
    p("metrics Service port 9464 named metrics", metrics_service)

    def pdb():
        b = one(docs, "PodDisruptionBudget")
        assert b["apiVersion"] == "policy/v1", b["apiVersion"]
        assert b["spec"].get("maxUnavailable") == 1, f"maxUnavailable {b['spec'].get('maxUnavailable')}"
        assert selects(b["spec"]["selector"]["matchLabels"], pod_labels), "does not select the pods"
    p("PodDisruptionBudget maxUnavailable 1", pdb)

    p("ServiceMonitor (monitoring.coreos.com/v1) present",
      lambda: len(find(docs, "ServiceMonitor")) == 1 or "missing")

    def names():
        for d in docs:
            n = d["metadata"]["name"]
            assert len(n) <= 63 or d["kind"] in ("ConfigMap", "Secret"), f"{d['kind']}/{n} longer than 63"
        assert len(sts["metadata"]["name"]) <= 52, "StatefulSet name too long for pod/revision names"
    p("resource names fit DNS label limits", names)

    # --- credentials per profile
    def creds(secret_name):
        def f():
            for var, key in (("DEMERIT_KAFKA_SASL_USERNAME", "username"), ("DEMERIT_KAFKA_SASL_PASSWORD", "password")):
                ref = (env.get(var) or {}).get("valueFrom", {}).get("secretKeyRef")
                assert ref, f"{var} not from a Secret"
                assert ref["name"] == secret_name or ref["name"].endswith(secret_name), f"{var} from {ref['name']}"
                assert "value" not in env[var], f"{var} has a literal value"
        return f

    if profile == "default":
        p("no credentials by default (no SASL env, no Secret)",
          lambda: ("DEMERIT_KAFKA_SASL_USERNAME" not in env and not find(docs, "Secret")) or "credentials present")
        p("replicas 1", lambda: sts["spec"]["replicas"] == 1 or f"replicas {sts['spec']['replicas']}")
    elif profile == "production":
        cfg = yaml.safe_load(config_cm["data"]["config.yaml"])
        p("3 replicas", lambda: sts["spec"]["replicas"] == 3 or f"replicas {sts['spec']['replicas']}")
        p("SASL_SSL with SCRAM-SHA-512 in the config",
          lambda: (cfg["kafka"].get("security.protocol") == "SASL_SSL" and
                   cfg["kafka"].get("sasl.mechanism") == "SCRAM-SHA-512") or f"kafka: {cfg.get('kafka')}")
        p("credentials from the existing Secret, none created",
          lambda: creds("demerit-kafka")() or (not find(docs, "Secret")) or "a Secret is rendered")
        p("storage class set on the claim template",
          lambda: bool(sts["spec"]["volumeClaimTemplates"][0]["spec"].get("storageClassName")) or "no storageClassName")
        p("CA bundle mounted and DEMERIT_KAFKA_SSL_CA_LOCATION points into it",
          lambda: (env["DEMERIT_KAFKA_SSL_CA_LOCATION"]["value"].startswith(
              mounts["/etc/demerit/kafka-ca"]["mountPath"] + "/")) or "mismatch")
    elif profile == "variant":
        # created Secret, existing rules ConfigMap
        def created_secret():
            s = one(docs, "Secret")
            creds(s["metadata"]["name"])()
            assert set(s["data"]) == {"username", "password"}, f"keys {sorted(s['data'])}"
            assert "checksum/secret" in ann, "no checksum/secret annotation for the created Secret"
        p("created Secret feeds DEMERIT_KAFKA_SASL_USERNAME/PASSWORD", created_secret)

        def existing_rules():
            assert not find(docs, "ConfigMap", "-rules"), "chart rules ConfigMap rendered too"
            assert rules_vol["configMap"]["name"] == "my-rules", rules_vol["configMap"]["name"]
            paths = sorted(i["path"] for i in rules_vol["configMap"]["items"])
            assert paths == ["packs/a.yaml", "packs/b.yaml", "sites.yaml"], paths
        p("existing rules ConfigMap mounted with the listed packs", existing_rules)


# ---------------------------------------------------------------------------------------------
def sts_text(path):
    """The StatefulSet document of a render, as text (byte comparison)."""
    text = open(path, encoding="utf-8").read()
    parts = [p for p in re.split(r"^---\s*$", text, flags=re.M) if re.search(r"^kind: StatefulSet$", p, re.M)]
    assert len(parts) == 1, f"{len(parts)} StatefulSets in {path}"
    return parts[0]


def cmd_rules_live(a, b):
    def f():
        da, db = load(a), load(b)
        ra, rb = one(da, "ConfigMap", "-rules"), one(db, "ConfigMap", "-rules")
        assert ra["data"] != rb["data"], "the rules change did not reach the rules ConfigMap"
        ta, tb = sts_text(a), sts_text(b)
        if ta != tb:
            return "StatefulSet changed with the rules (the pods would restart on every rule change)"
        ca, cb = one(da, "ConfigMap", "-config"), one(db, "ConfigMap", "-config")
        assert ca == cb, "config ConfigMap changed with the rules"
    check("a rules-only change leaves the StatefulSet (pod template, checksums) byte-identical", f)


def cmd_config_rolls(a, b):
    def f():
        ga = one(load(a), "StatefulSet")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        gb = one(load(b), "StatefulSet")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        assert ga != gb, "checksum/config unchanged although the config changed"
    check("a config change changes checksum/config (pods roll)", f)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "validate":
        cmd_validate([v for v in argv[2].split(",") if v], argv[3:])
    elif cmd == "properties":
        try:
            cmd_properties(argv[2], argv[3], argv[4])
        except AssertionError as e:  # e.g. no StatefulSet at all
            report(f"{argv[2]}: render has the expected resources", False, str(e))
    elif cmd == "rules-live":
        cmd_rules_live(argv[2], argv[3])
    elif cmd == "config-rolls":
        cmd_config_rolls(argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
