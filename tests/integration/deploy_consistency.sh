#!/usr/bin/env bash
# The deployment files stay in step with the daemons: every environment
# variable and every flag that compose/, k8s/, the systemd units, their
# /etc/default files and the Dockerfile give a daemon must be one that the
# daemon's --help documents, and every variable a daemon documents must be
# set in the Kubernetes DaemonSet or be listed below as deliberately left to
# its default (with the reason). Skips only while a daemon is not built.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

for d in jcw-collector jcw-forwarder; do
	[ -x "$BUILD/$d" ] || { echo "$BUILD/$d not built yet: nothing to compare the deployment files with"; exit 77; }
done
python3 -c 'import yaml' 2>/dev/null || { echo "python3-yaml missing (make deps)"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for d in jcw-collector jcw-forwarder; do
	timeout 20 "$BUILD/$d" --help >"$tmp/$d.help" 2>&1 || { echo "$d --help failed:"; cat "$tmp/$d.help"; exit 1; }
done

python3 - "$tmp" "$BUILD" <<'PY'
import glob, os, re, shlex, subprocess, sys, yaml

tmp, build = sys.argv[1], sys.argv[2]

# Variables the DaemonSet deliberately leaves to the daemon's default. Each
# must still be documented by the daemon (a stale entry fails too).
OMITTED = {
    "jcw-collector": {
        "RECORD_FILE": "captures are a debugging tool, not for production",
        "UTS_POLICY": "the default trusts only hostnames of UTS namespaces owned by the initial user namespace",
        "ARGS_MAX_BYTES": "tuning: the default argv bound",
        "RINGBUF_BYTES": "tuning; if raised, raise the collector's memory limit with it",
        "NO_SOCKET": "only for recording captures without a forwarder",
        "TRACKED_MAX": "tuning: processes tracked at once",
        "TRACKED_PER_CONTAINER": "the default fits real use (docs/security.md)",
        "CONTAINER_RECORD_RATE": "the default fits real use (docs/security.md)",
        "CONTAINER_RECORD_BURST": "the default fits real use (docs/security.md)",
        "FLUSH_INTERVAL": "tuning: latency versus wake-ups, measured by the benchmarks",
        "HEARTBEAT_INTERVAL": "tuning",
        "RUN_AS_USER": "the collector keeps uid 0 without capabilities, which ALLOWED_UIDS=0 admits",
        "SECCOMP": "on by default; turned off only for debugging",
        "STDERR_PROCESS_BYTES": "tuning: the default covers DIAG_MAX_BYTES",
    },
    "jcw-forwarder": {
        "METRICS_ADDR": "the default (all addresses) is what the Service needs (the probes are exec probes)",
        "HEALTH_FILE": "the default is on the forwarder's /tmp emptyDir, where the exec probes read it",
        "LOG_FILE_PATH": "the kubelet collects stderr",
        "LOG_MAX_BYTES": "only with LOG_FILE_PATH",
        "LOG_BACKUP_COUNT": "only with LOG_FILE_PATH",
        "RULES_FILE": "built-in classification rules; mount a ConfigMap and set it to override",
        "WRITER_RULES_FILE": "built-in writer kinds (code-server's Node is the editor); mount a ConfigMap and set it to add rules",
        "PASTE_LINES": "the default's reasoning is in docs/api.md; a course that saves rarely raises it",
        "API_MAX_INFLIGHT": "tuning",
        "QUEUE_MAX_EVENTS": "tuning",
        "PROGSNAP2_QUEUE_MAX_BYTES": "the default (1 GiB in the node's outbox volume) rides out a day of a full dataset volume",
        "API_RETRY_BASE": "tuning",
        "API_RETRY_MAX": "tuning",
        "JOIN_TTL": "tuning",
        "JOIN_MAX_ENTRIES": "tuning",
        "JOIN_MAX_BYTES": "the default fits the forwarder's memory limit (docs/security.md)",
        "JOIN_CONTAINER_BYTES": "the default fits real use (docs/security.md)",
        "DIAG_MAX_BYTES": "tuning: the default fits a page of compiler errors",
        "STDERR_HEAD_BYTES": "tuning",
        "STDERR_TAIL_BYTES": "tuning",
        "OUTBOX_COMMIT_INTERVAL": "tuning: latency to the API against CPU per event (docs/performance.md)",
        "MAX_FRAME_BYTES": "the collector's frames are far below the default bound",
        "SNAPSHOTS_ENABLED": "on by default; snapshots are half of what the watcher is for",
        "MAX_CAPTURABLE_FILE_SIZE": "the original's 64 KiB is the default",
        "DEBOUNCE_WINDOW": "the original's 0.6 s is the default",
        "DEBOUNCE_MAX_WAIT": "the original's 3 s is the default",
        "SNAPSHOT_STUDENT_FILES": "the defaults fit real use (docs/api.md, Snapshots)",
        "SNAPSHOT_STUDENT_BURST": "the defaults fit real use (docs/api.md, Snapshots)",
        "SNAPSHOT_STUDENT_BYTES": "the defaults fit real use (docs/api.md, Snapshots)",
        "SNAPSHOT_STUDENT_BYTES_BURST": "the defaults fit real use (docs/api.md, Snapshots)",
        "SNAPSHOT_STUDENT_TOTAL": "the defaults fit real use (docs/api.md, Snapshots)",
        "SECCOMP": "on by default; turned off only for debugging",
        "ALLOW_ROOT": "the forwarder runs as uid 10001 (runAsNonRoot)",
    },
}

def parse_help(path):
    flags, envs = set(), set()
    for line in open(path):
        m = re.match(r"^\s+--([a-z0-9][a-z0-9-]*)(?: (?:STR|N|\[BOOL\]|SIZE|SECS))?(?:\s+(.*))?$", line.rstrip("\n"))
        if not m:
            continue
        flags.add(m.group(1))
        desc = re.sub(r"\s*\(default: [^)]*\)$", "", m.group(2) or "")
        e = re.search(r"\[([A-Z][A-Z0-9_]*)\]$", desc)
        if e:
            envs.add(e.group(1))
    return flags, envs

known = {d: parse_help(os.path.join(tmp, d + ".help")) for d in ("jcw-collector", "jcw-forwarder")}
for d, (fl, ev) in known.items():
    if "help" not in fl or not ev:
        sys.exit(f"could not read the option table of {d} --help")

errors = []
used = []  # (daemon, kind, name, where)
# The values each place gives a daemon, checked by the daemon's own parser:
# (daemon, where) -> {variable: value}.
values = {}

def set_value(daemon, where, name, value):
    if value is not None:
        values.setdefault((daemon, where), {})[name] = str(value)

def compose_value(v):
    # ${X:-default} is what compose substitutes when X is unset.
    if v is None:
        return None
    v = str(v)
    v = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", v)
    return None if "$" in v else v

def flags_in(words, daemon, where):
    for w in words or []:
        for tok in shlex.split(str(w)):
            if tok.startswith("--"):
                used.append((daemon, "flag", tok[2:].split("=", 1)[0], where))

def env_names(env):
    if isinstance(env, dict):
        return list(env)
    return [str(e).split("=", 1)[0] for e in env or []]

# compose
for path in sorted(glob.glob("compose/*.yml")):
    for svc, s in (yaml.safe_load(open(path)).get("services") or {}).items():
        daemon = {"collector": "jcw-collector", "forwarder": "jcw-forwarder"}.get(svc)
        if not daemon:
            continue
        env = s.get("environment") or {}
        if not isinstance(env, dict):
            env = dict(str(e).split("=", 1) if "=" in str(e) else (str(e), None) for e in env)
        for n, v in env.items():
            used.append((daemon, "env", n, f"{path} service {svc}"))
            set_value(daemon, f"{path} service {svc}", n, compose_value(v))
        cmd = s.get("command")
        flags_in(cmd if isinstance(cmd, list) else [cmd] if cmd else [], daemon, f"{path} service {svc}")

# k8s
ds_env = {"jcw-collector": set(), "jcw-forwarder": set()}
kust = yaml.safe_load(open("k8s/kustomization.yaml"))
cms = {g["name"]: dict(l.split("=", 1) for l in g.get("literals", [])) for g in kust.get("configMapGenerator", [])}
for path in sorted(glob.glob("k8s/*.yaml")):
    for doc in yaml.safe_load_all(open(path)):
        if not doc or doc.get("kind") not in ("DaemonSet", "Deployment", "StatefulSet", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        for c in pod.get("containers", []):
            daemon = {"collector": "jcw-collector", "forwarder": "jcw-forwarder"}.get(c["name"])
            if not daemon:
                errors.append(f"{path}: unexpected container {c['name']}")
                continue
            where = f"{path} container {c['name']}"
            for e in c.get("env", []):
                used.append((daemon, "env", e["name"], where))
                vf = e.get("valueFrom", {})
                if "value" in e:
                    set_value(daemon, where, e["name"], e["value"])
                elif "configMapKeyRef" in vf:
                    r = vf["configMapKeyRef"]
                    set_value(daemon, where, e["name"], cms.get(r["name"], {}).get(r["key"]))
                elif "fieldRef" in vf:
                    set_value(daemon, where, e["name"], "node-1")
                if doc["kind"] == "DaemonSet":
                    ds_env[daemon].add(e["name"])
            flags_in(c.get("command", []) + c.get("args", []), daemon, where)

# systemd units and their settings files
for daemon in ("jcw-collector", "jcw-forwarder"):
    unit = f"compose/systemd/{daemon}.service.in"
    for line in open(unit):
        line = line.strip()
        if line.startswith("Environment="):
            for tok in shlex.split(line[len("Environment="):]):
                used.append((daemon, "env", tok.split("=", 1)[0], unit))
                set_value(daemon, unit, *tok.split("=", 1))
        elif line.startswith("ExecStart="):
            flags_in(shlex.split(line[len("ExecStart="):])[1:], daemon, unit)
    dflt = f"compose/systemd/{daemon}.default"
    for line in open(dflt):
        m = re.match(r"^#?([A-Z][A-Z0-9_]*)=(.*)$", line.rstrip("\n"))
        if m:
            used.append((daemon, "env", m.group(1), dflt))
            # Each example must be valid once uncommented; empty means unset.
            if m.group(2):
                set_value(daemon, f"{dflt} ({m.group(1)})", m.group(1), m.group(2))

# Dockerfile: ENV and ENTRYPOINT/CMD flags of each runtime stage
stage = None
text = re.sub(r"\\\n", " ", open("compose/Dockerfile").read())
for line in text.splitlines():
    line = line.strip()
    m = re.match(r"(?i)^FROM\s+\S+(?:\s+AS\s+(\S+))?", line)
    if m:
        stage = {"collector": "jcw-collector", "forwarder": "jcw-forwarder"}.get((m.group(1) or "").lower())
        continue
    if not stage:
        continue
    if re.match(r"(?i)^ENV\s", line):
        for tok in shlex.split(line[4:]):
            used.append((stage, "env", tok.split("=", 1)[0], "compose/Dockerfile"))
            set_value(stage, f"compose/Dockerfile stage {stage}", *tok.split("=", 1))
    m = re.match(r"(?i)^(ENTRYPOINT|CMD)\s+(\[.*\])$", line)
    if m:
        flags_in(yaml.safe_load(m.group(2))[1:], stage, "compose/Dockerfile")

for daemon, kind, name, where in used:
    fl, ev = known[daemon]
    if name not in (fl if kind == "flag" else ev):
        errors.append(f"{where}: {'--' if kind == 'flag' else ''}{name} is not an option of {daemon} (see {daemon} --help)")

# The daemon parses every variable before acting on --help, so a value it
# would reject at start makes "--help" fail too.
for (daemon, where), env in sorted(values.items()):
    if not set(env) <= known[daemon][1]:
        continue  # already reported above
    full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=0"), **env}
    r = subprocess.run([os.path.join(build, daemon), "--help"], env=full, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=20)
    if r.returncode != 0:
        errors.append(f"{where}: {daemon} rejects its values: {r.stderr.strip()}")

for daemon, (fl, ev) in known.items():
    for n in sorted(ev - ds_env[daemon] - set(OMITTED[daemon])):
        errors.append(f"{daemon} documents {n}: set it in k8s/daemonset.yaml or list it in OMITTED in deploy_consistency.sh with a reason")
    for n in sorted(set(OMITTED[daemon]) - ev):
        errors.append(f"deploy_consistency.sh lists {n} as omitted for {daemon}, but {daemon} has no such variable")
    for n in sorted(set(OMITTED[daemon]) & ds_env[daemon]):
        errors.append(f"{n} is both set in the DaemonSet and listed as omitted for {daemon}")

for e in errors:
    print("FAIL:", e)
if errors:
    sys.exit(1)
print(f"NOTE {len(used)} uses of {len({(d, k, n) for d, k, n, _ in used})} distinct options checked against --help, "
      f"values of {len(values)} places accepted by the daemons")
for d, (fl, ev) in known.items():
    print(f"NOTE {d}: {len(ev)} variables, {len(ds_env[d])} set in the DaemonSet, {len(OMITTED[d])} left to defaults")
PY
