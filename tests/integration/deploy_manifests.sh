#!/usr/bin/env bash
# Offline validation of the deployment manifests (compose/, k8s/): every YAML
# file parses, the Kubernetes objects have the shape the deployment relies on
# (security contexts, probes, volumes, downward API, Service and
# ServiceMonitor wiring), kustomization.yaml lists exactly the files that
# exist, "kubectl kustomize" renders them without a cluster, and the compose
# files keep the collector to BPF+PERFMON and the forwarder unprivileged.
# No cluster and no Docker daemon needed: "kubectl apply --dry-run=client"
# still asks a server for its API list, so the schema-free checks below and
# "kubectl kustomize" (fully offline) are what runs here.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v python3 >/dev/null || { echo "python3 missing (make deps)"; exit 77; }
python3 -c 'import yaml' 2>/dev/null || { echo "python3-yaml missing (make deps)"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rendered=""
if command -v kubectl >/dev/null; then
	# kustomize needs no cluster; HOME and KUBECONFIG point nowhere so that
	# nothing of the user's configuration is read.
	if ! HOME=$tmp KUBECONFIG=$tmp/none timeout 60 kubectl kustomize k8s >"$tmp/rendered.yaml" 2>"$tmp/kustomize.err"; then
		echo "kubectl kustomize k8s failed:"; cat "$tmp/kustomize.err"; exit 1
	fi
	rendered=$tmp/rendered.yaml
	echo "NOTE kubectl kustomize: $(grep -c '^kind:' "$rendered") objects rendered"
else
	echo "NOTE kubectl not installed: kustomize rendering not checked (make deps installs kubernetes-client)"
fi

# Compose itself, v2 and/or v1, where installed (tests/e2e/containers.sh
# installs v1 and runs the docker20 file for real).
composes=()
command -v docker >/dev/null && timeout 10 docker compose version >/dev/null 2>&1 && composes+=("docker compose")
command -v docker-compose >/dev/null && composes+=("docker-compose")
for dc in "${composes[@]}"; do
	for f in "compose/docker-compose.yml" "compose/docker-compose.docker20.yml" \
		 "compose/docker-compose.yml -f compose/docker-compose.student.yml"; do
		# shellcheck disable=SC2086
		timeout 60 $dc -p jcw -f $f config -q || { echo "$dc config failed for: $f"; exit 1; }
	done
	echo "NOTE $dc config: all three file sets valid"
done
[ ${#composes[@]} -gt 0 ] || echo "NOTE no Compose installed: compose files checked structurally only"

python3 - "$rendered" <<'PY'
import glob, os, sys, yaml

errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)

def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]

# 1. every YAML file parses
docs = {}
for path in sorted(glob.glob("k8s/*.yaml") + glob.glob("k8s/*.yml") +
                   glob.glob("compose/*.yml") + glob.glob("compose/*.yaml")):
    try:
        docs[path] = load_all(path)
    except yaml.YAMLError as e:
        errors.append(f"{path}: does not parse: {e}")
check(docs, "no manifests found")

# 2. kustomization lists exactly the k8s files that exist
kust = docs.get("k8s/kustomization.yaml", [{}])[0]
res = kust.get("resources", [])
for r in res:
    check(os.path.isfile(os.path.join("k8s", r)), f"kustomization lists missing file {r}")
for path in glob.glob("k8s/*.yaml"):
    name = os.path.basename(path)
    check(name == "kustomization.yaml" or name in res, f"{path} exists but is not in kustomization resources")
cm_gen = {g["name"]: dict(l.split("=", 1) for l in g.get("literals", []))
          for g in kust.get("configMapGenerator", [])}

objs = []
for r in res:
    objs += [(r, d) for d in docs.get(os.path.join("k8s", r), [])]
by_kind = {}
for r, o in objs:
    check("apiVersion" in o and "kind" in o and "name" in o.get("metadata", {}),
          f"{r}: object without apiVersion/kind/metadata.name")
    by_kind.setdefault(o.get("kind"), []).append(o)
for kind in ("Namespace", "ServiceAccount", "DaemonSet", "Service", "ServiceMonitor", "PersistentVolumeClaim",
             "NetworkPolicy"):
    check(kind in by_kind, f"no {kind} in the kustomization")

# 3. the DaemonSet
ds = by_kind.get("DaemonSet", [{}])[0]
spec = ds.get("spec", {})
pod = spec.get("template", {}).get("spec", {})
tlabels = spec.get("template", {}).get("metadata", {}).get("labels", {})
sel = spec.get("selector", {}).get("matchLabels", {})
check(sel and all(tlabels.get(k) == v for k, v in sel.items()), "DaemonSet selector does not match its template labels")
check(not pod.get("hostPID") and not pod.get("hostNetwork") and not pod.get("hostIPC"),
      "pod must not use hostPID/hostNetwork/hostIPC")
check({"operator": "Exists"} in pod.get("tolerations", []), "pod must tolerate every taint (run on every node)")
check(pod.get("automountServiceAccountToken") is False, "service account token must not be mounted")
sa = pod.get("serviceAccountName")
check(sa in [o["metadata"]["name"] for o in by_kind.get("ServiceAccount", [])], f"serviceAccountName {sa} not defined")

vols = {v["name"]: v for v in pod.get("volumes", [])}
check("emptyDir" in vols.get("socket", {}), "socket volume must be an emptyDir")
outbox = vols.get("outbox", {})
check(outbox.get("hostPath", {}).get("path") == "/var/lib/jcw" and outbox.get("hostPath", {}).get("type") == "DirectoryOrCreate"
      or "persistentVolumeClaim" in outbox, "outbox must be hostPath /var/lib/jcw (DirectoryOrCreate) or a PVC")
pvc_names = [o["metadata"]["name"] for o in by_kind.get("PersistentVolumeClaim", [])]
for v in ("workspace", "snapshots"):
    claim = vols.get(v, {}).get("persistentVolumeClaim", {}).get("claimName")
    check(claim in pvc_names, f"volume {v} must use a PVC of the kustomization (got {claim})")
check(vols.get("workspace", {}).get("persistentVolumeClaim", {}).get("readOnly") is True, "workspace claim must be readOnly")
for o in by_kind.get("PersistentVolumeClaim", []):
    check(o["spec"].get("storageClassName") == "longhorn", f"PVC {o['metadata']['name']} is not on longhorn")
forbidden = ("/lib/modules", "/usr/src", "/sys/kernel/debug", "/sys/kernel/tracing", "/proc", "/")
# One exception: the node's tracefs, read-only and for the collector only
# (syscall tracepoint ids for the file hooks; not debugfs, no kernel files).
TRACEFS = "/sys/kernel/tracing"
for name, v in vols.items():
    hp = v.get("hostPath", {}).get("path")
    if hp is not None and hp.rstrip("/") == TRACEFS:
        users = [(c["name"], m) for c in pod.get("initContainers", []) + pod.get("containers", [])
                 for m in c.get("volumeMounts", []) if m["name"] == name]
        check(users and all(cn == "collector" and m.get("readOnly") is True for cn, m in users),
              f"hostPath {TRACEFS} may only be mounted read-only into the collector")
        continue
    check(hp is None or hp.rstrip("/") not in forbidden and not hp.startswith(forbidden[:4]),
          f"hostPath {hp} is not allowed (CO-RE needs no host kernel files)")

all_ctrs = pod.get("initContainers", []) + pod.get("containers", [])
ctrs = {c["name"]: c for c in pod.get("containers", [])}
check(set(ctrs) == {"collector", "forwarder"}, f"pod containers must be collector and forwarder, got {sorted(ctrs)}")
for c in all_ctrs:
    sc = c.get("securityContext", {})
    check(sc.get("privileged") is not True, f"{c['name']}: privileged")
    check(sc.get("allowPrivilegeEscalation") is False, f"{c['name']}: allowPrivilegeEscalation must be false")
    check(sc.get("readOnlyRootFilesystem") is True, f"{c['name']}: readOnlyRootFilesystem must be true")
    check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{c['name']}: must drop ALL capabilities")
    r = c.get("resources", {})
    for k in ("cpu", "memory"):
        check(k in r.get("requests", {}) and k in r.get("limits", {}), f"{c['name']}: {k} request and limit required")
    for m in c.get("volumeMounts", []):
        check(m["name"] in vols, f"{c['name']}: mounts undefined volume {m['name']}")

col = ctrs.get("collector", {})
csc = col.get("securityContext", {})
check(sorted(csc.get("capabilities", {}).get("add", [])) == ["BPF", "PERFMON"],
      "collector must add exactly BPF and PERFMON")
cenv = {e["name"]: e for e in col.get("env", [])}
check(cenv.get("MY_NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName",
      "collector MY_NODE_NAME must come from the downward API (spec.nodeName)")
check(sorted(m["mountPath"] for m in col.get("volumeMounts", [])) == ["/run/jcw", "/sys/fs/bpf", "/sys/kernel/tracing"],
      "collector mounts only the socket volume, the node's tracefs and its bpffs (the pins)")
check(cenv.get("PIN_PATH", {}).get("value", "").startswith("/sys/fs/bpf/"),
      "collector PIN_PATH must be below the bpffs volume")

fwd = ctrs.get("forwarder", {})
fsc = fwd.get("securityContext", {})
check(fsc.get("runAsNonRoot") is True and isinstance(fsc.get("runAsUser"), int) and fsc["runAsUser"] > 0,
      "forwarder must run as a non-root numeric uid")
check("add" not in fsc.get("capabilities", {}), "forwarder must add no capability")
seccomp = fsc.get("seccompProfile") or pod.get("securityContext", {}).get("seccompProfile") or {}
check(seccomp.get("type") == "RuntimeDefault", "forwarder seccompProfile must be RuntimeDefault")
ports = {p.get("name"): p.get("containerPort") for p in fwd.get("ports", [])}
check(ports.get("metrics") == 3000, "forwarder must expose port 3000 named metrics")
# exec probes reading HEALTH_FILE: no load on the metrics port can fail them
for probe, action in (("livenessProbe", "--check-live"), ("readinessProbe", "--check-ready")):
    e = fwd.get(probe, {}).get("exec", {}).get("command", [])
    check(e[-1:] == [action] and e[0].endswith("jcw-forwarder") and "httpGet" not in fwd.get(probe, {}),
          f"forwarder {probe} must exec jcw-forwarder {action}: {fwd.get(probe)}")
fmounts = {m["mountPath"]: m for m in fwd.get("volumeMounts", [])}
check(fmounts.get("/watcher/codes", {}).get("readOnly") is True, "workspace must be mounted read-only at /watcher/codes")
for p in ("/run/jcw", "/var/lib/jcw", "/watcher/snapshots", "/tmp"):
    check(p in fmounts and not fmounts[p].get("readOnly"), f"forwarder needs a writable mount at {p}")
fenv = {e["name"]: e for e in fwd.get("env", [])}
check("API_SERVER" in fenv, "forwarder needs API_SERVER")
for c in (col, fwd):
    for e in c.get("env", []):
        ref = e.get("valueFrom", {}).get("configMapKeyRef")
        if ref:
            check(ref["name"] in cm_gen and ref["key"] in cm_gen[ref["name"]],
                  f"{c.get('name')}: env {e['name']} refers to {ref} which the configMapGenerator does not make")
# the socket paths agree, and the collector's uid is allowed by the forwarder
check(cenv.get("SOCKET_PATH", {}).get("value") == fenv.get("SOCKET_PATH", {}).get("value", "/run/jcw/events.sock"),
      "collector and forwarder SOCKET_PATH differ")
cuid = str(csc.get("runAsUser", 0))
check(cuid in fenv.get("ALLOWED_UIDS", {}).get("value", "0").split(","), f"collector uid {cuid} not in forwarder ALLOWED_UIDS")
check(fsc.get("runAsGroup") in pod.get("securityContext", {}).get("supplementalGroups", []),
      "the collector must share the forwarder's group (pod supplementalGroups) to reach the 0660 socket")

# 4. Service and ServiceMonitor select what they should
svc = by_kind.get("Service", [{}])[0]
check(all(tlabels.get(k) == v for k, v in svc.get("spec", {}).get("selector", {}).items()) and svc.get("spec", {}).get("selector"),
      "Service selector does not match the DaemonSet pods")
check(any(p.get("targetPort") in ("metrics", 3000) and p.get("name") == "metrics" for p in svc.get("spec", {}).get("ports", [])),
      "Service must expose the metrics port")
sm = by_kind.get("ServiceMonitor", [{}])[0]
smsel = sm.get("spec", {}).get("selector", {}).get("matchLabels", {})
slabels = svc.get("metadata", {}).get("labels", {})
check(smsel and all(slabels.get(k) == v for k, v in smsel.items()), "ServiceMonitor does not select the Service")
check(any(e.get("port") == "metrics" and e.get("path") == "/metrics" for e in sm.get("spec", {}).get("endpoints", [])),
      "ServiceMonitor must scrape /metrics on port metrics")

# The NetworkPolicy: the DaemonSet's pods, ingress only to the metrics port
# from one namespace, egress limited too.
np = by_kind.get("NetworkPolicy", [{}])[0].get("spec", {})
npsel = np.get("podSelector", {}).get("matchLabels", {})
check(npsel and all(tlabels.get(k) == v for k, v in npsel.items()),
      f"NetworkPolicy does not select the DaemonSet's pods: {npsel}")
check(set(np.get("policyTypes", [])) == {"Ingress", "Egress"}, "NetworkPolicy must restrict ingress and egress")
ing = np.get("ingress", [])
check(len(ing) == 1 and [p.get("port") for p in ing[0].get("ports", [])] == ["metrics"] and
      all("namespaceSelector" in f for f in ing[0].get("from", [])) and ing[0].get("from"),
      f"NetworkPolicy ingress must be the metrics port from a namespace only: {ing}")
check(np.get("egress") and all(r.get("to") and r.get("ports") for r in np.get("egress", [])),
      "NetworkPolicy egress must name its destinations and ports")

# 5. kubectl kustomize rendered every object, in the namespace
rendered = sys.argv[1]
if rendered:
    out = load_all(rendered)
    got = {(o["kind"], o["metadata"]["name"]) for o in out}
    want = {(o["kind"], o["metadata"]["name"]) for _, o in objs}
    check(want <= got, f"kustomize output lacks {sorted(want - got)}")
    for o in out:
        if o["kind"] != "Namespace":
            check(o["metadata"].get("namespace") == kust.get("namespace"), f"rendered {o['kind']} not in namespace")
    rds = [o for o in out if o["kind"] == "DaemonSet"][0]
    images = {c["image"] for c in rds["spec"]["template"]["spec"]["containers"]}
    check(all(":" in i for i in images), f"kustomize images did not tag {images}")

# 6. compose: two deployment files, one per engine generation, each the
# shared services.yml plus the capabilities its engine knows (Compose's
# extends: the file's own keys win, cap_add lists are concatenated).
shared = docs.get("compose/services.yml", [{}])[0].get("services", {})
check(not any(s.get("cap_add") for s in shared.values()), "compose/services.yml must grant no capability")
def resolve(path):
    out = {}
    for name, s in (docs.get(path, [{}])[0].get("services") or {}).items():
        ext = s.get("extends") or {}
        base = dict(shared.get(ext.get("service"), {})) if ext.get("file") == "services.yml" else {}
        check(base, f"{path} {name}: must extend services.yml")
        base.update({k: v for k, v in s.items() if k != "extends"})
        out[name] = base
    return out
CAPS = {"compose/docker-compose.yml": ["BPF", "PERFMON"], "compose/docker-compose.docker20.yml": ["SYS_ADMIN"]}
for path, caps in CAPS.items():
    svcs = resolve(path)
    check(set(svcs) == {"collector", "forwarder", "unpin"},
          f"{path}: services must be collector, forwarder and unpin, got {sorted(svcs)}")
    c, f, u = svcs.get("collector", {}), svcs.get("forwarder", {}), svcs.get("unpin", {})
    check(u.get("profiles") == ["uninstall"] and u.get("command") == ["--unpin"] and
          u.get("cap_drop") == ["ALL"] and not u.get("cap_add") and u.get("restart") == "no",
          f"{path} unpin: --unpin under the uninstall profile only, no capability, never restarted")
    check(u.get("environment", {}).get("PIN_PATH") == c.get("environment", {}).get("PIN_PATH"),
          f"{path} unpin: the collector's PIN_PATH")
    for name in ("collector", "forwarder"):
        check(svcs.get(name, {}).get("mem_limit"), f"{path} {name}: a memory limit")
    check(c.get("cap_drop") == ["ALL"] and sorted(c.get("cap_add", [])) == caps,
          f"{path} collector: cap_drop ALL, cap_add exactly {caps}")
    check(f.get("cap_drop") == ["ALL"] and not f.get("cap_add"), f"{path} forwarder: cap_drop ALL and no cap_add")
    check("name" not in docs[path][0], f"{path}: a top-level name: is refused by Compose v1")
    check(docs[path][0].get("volumes", {}).get("snapshots", {}).get("name") == "jcw-snapshots",
          f"{path}: the snapshot volume must be named jcw-snapshots")
    for name, s in svcs.items():
        check("ulimits" not in s, f"{path} {name}: ulimits (memlock) is neither needed on kernels >= 5.11 nor settable by every engine")
svcs = resolve("compose/docker-compose.yml")
c, f = svcs.get("collector", {}), svcs.get("forwarder", {})
for name, s in svcs.items():
    check(not s.get("privileged"), f"compose {name}: privileged")
    check(s.get("read_only") is True, f"compose {name}: read_only root filesystem")
    check("no-new-privileges:true" in s.get("security_opt", []), f"compose {name}: no-new-privileges")
    check(s.get("pid") != "host", f"compose {name}: pid host")
    for v in s.get("volumes", []):
        src = str(v).split(":")[0]
        check(not src.startswith(("/lib/modules", "/usr/src", "/sys/kernel/debug", "/proc")), f"compose {name}: mounts {src}")
        if src == TRACEFS:
            check(name == "collector" and str(v).endswith(":ro"),
                  f"compose {name}: {TRACEFS} only read-only in the collector")
user = str(f.get("user", "0")).split(":")[0]
check(user.isdigit() and int(user) > 0, "compose forwarder must run as a non-root uid")
check(str(f.get("environment", {}).get("API_SERVER", "")).startswith("${API_SERVER:-"), "compose API_SERVER must be a variable with a default")
fv = f.get("volumes", [])
check(any(str(v).endswith(":/watcher/codes:ro") for v in fv), "compose workspace must be mounted read-only")
for p in ("/run/jcw", "/var/lib/jcw", "/watcher/snapshots"):
    check(any(str(v).split(":")[1] == p and not str(v).endswith(":ro") for v in fv), f"compose forwarder needs writable {p}")
check(any(str(v).split(":")[1] == "/run/jcw" for v in c.get("volumes", [])), "compose collector must share the socket volume")
check(str(f.get("environment", {}).get("ALLOWED_UIDS")) in ("0",) and not c.get("user"),
      "compose: the collector runs as uid 0 and ALLOWED_UIDS must be 0")
check(user in [str(g) for g in c.get("group_add", [])] or str(f.get("user")).split(":")[-1] in [str(g) for g in c.get("group_add", [])],
      "compose collector must be in the forwarder's group (group_add) to reach the 0660 socket")
stud = docs.get("compose/docker-compose.student.yml", [{}])[0].get("services", {}).get("student", {})
check(stud.get("hostname") == "jcode-class-1-202012345" and stud.get("container_name") == "jcode-class-1-202012345",
      "student container must be jcode-class-1-202012345 (name and hostname)")
check(any(str(v).endswith(":/home/coder/project") for v in stud.get("volumes", [])), "student workspace must be /home/coder/project")

errors = [e for e in errors if e]
for e in errors:
    print("FAIL:", e)
if errors:
    sys.exit(1)
print(f"NOTE {sum(len(v) for v in docs.values())} YAML documents in {len(docs)} files checked")
PY
