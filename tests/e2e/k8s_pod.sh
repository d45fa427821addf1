#!/usr/bin/env bash
# The DaemonSet's pod, run for real without a cluster: "kubectl kustomize
# k8s" renders it, its pod template becomes a Pod, and Debian's podman runs
# it with "podman kube play" (init container, both containers, the emptyDir
# socket, the claims as podman volumes, the ConfigMap, security contexts,
# exec probes). What podman cannot take as it is, or what this machine
# needs, is changed in the copy and printed, each with its reason. A fake
# student container (a Deployment pod's hostname, the workspace claim's
# directory at /home/coder/project) then compiles, runs and saves; the
# build, the runs and the snapshots must reach a recording API with the
# right bodies, the snapshots land in the snapshot claim, and the running
# containers must have the template's users, capabilities and read-only
# roots. Root; skips only where podman cannot run.
set -u
source "$(dirname "$0")/../lib.sh"
need_root "needs root to run podman and BPF"
need_cmds python3 kubectl gcc
python3 -c 'import yaml' 2>/dev/null || { echo "python3-yaml missing (make deps)"; exit 1; }
make_tmp jcw-k8s-pod

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
pkgs=()
command -v podman >/dev/null || pkgs+=(podman)
command -v catatonit >/dev/null || [ -x /usr/libexec/podman/catatonit ] || pkgs+=(catatonit)
command -v debootstrap >/dev/null || pkgs+=(debootstrap)
deb_install "${pkgs[@]}" || { echo "k8s_pod: cannot install ${pkgs[*]}"; exit 77; }
timeout 30 podman info >/dev/null 2>&1 || { echo "k8s_pod: podman does not run here"; exit 77; }

fail() {
	echo "FAIL: $*"
	for c in collector forwarder; do
		echo "--- $c"; podman logs "jcode-watcher-$c" 2>&1 | tail -n 15 | cut -c1-400
	done
	echo "--- api"; cut -c1-300 "$tmp/api.log" 2>/dev/null | tail -n 20
	exit 1
}
for p in jcode-watcher jcode-watcher-unpin; do
	if podman pod exists "$p" 2>/dev/null; then
		echo "k8s_pod: a podman pod $p already exists; not touching it"
		exit 77
	fi
done
on_exit 'podman pod rm -f jcode-watcher >/dev/null 2>&1; podman pod rm -f jcode-watcher-unpin >/dev/null 2>&1; podman volume rm -f jcw-workspace jcw-snapshots >/dev/null 2>&1'
# The pod's collector pins its programs in the node's bpffs, in a directory
# of this test's own, removed at the end whatever happens.
pin=/sys/fs/bpf/jcw-test-k8s-$$
on_exit '"$BUILD/jcw-collector" --unpin --pin-path "$pin" >/dev/null 2>&1'

# This machine's sandbox refuses the RLIMIT_NOFILE/NPROC values podman
# sets by default ("error setting rlimit ... operation not permitted"):
# lower ones, for this test only.
printf '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n' >"$tmp/containers.conf"
export CONTAINERS_CONF=$tmp/containers.conf
echo "NOTE podman's default rlimits lowered to nofile=nproc=4096 for this test (this machine refuses its defaults)"

debian_base_image podman || fail "no base image"
start=$SECONDS
# The context is the source tree as git knows it (tracked and new files, no
# build output), as a fresh clone would be: podman does not read
# compose/Dockerfile.dockerignore, and a host build/ would short-circuit
# make inside the image.
mkdir -p "$tmp/ctx"
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$tmp/ctx" ||
	fail "copying the source tree"
for t in collector forwarder; do
	podman build -f compose/Dockerfile --target $t -t jcw-$t:latest "$tmp/ctx" >"$tmp/build.log" 2>&1 ||
		{ tail -n 20 "$tmp/build.log"; fail "podman build --target $t"; }
done
echo "NOTE both images built with podman in $((SECONDS - start)) s"

gw=$(podman network inspect podman --format '{{range .Subnets}}{{.Gateway}}{{end}}' 2>/dev/null)
[ -n "$gw" ] || fail "no gateway on podman's default network"
# podman creates its bridge (and the gateway address) with the first
# container: listen on every address, reached at the gateway's.
api_start api --host 0.0.0.0 || fail "the recording API did not start"

HOME=$tmp KUBECONFIG=$tmp/none timeout 60 kubectl kustomize k8s >"$tmp/rendered.yaml" || fail "kubectl kustomize k8s"
HOME=$tmp KUBECONFIG=$tmp/none timeout 60 kubectl kustomize k8s/uninstall >"$tmp/uninstall.yaml" ||
	fail "kubectl kustomize k8s/uninstall"
python3 - "$tmp" "http://$gw:${api_url##*:}" "$pin" <<'PY' || fail "converting the DaemonSets"
import json, sys, yaml
tmp, api, pin = sys.argv[1:]
docs = [d for d in yaml.safe_load_all(open(f"{tmp}/rendered.yaml")) if d]
ds = next(d for d in docs if d["kind"] == "DaemonSet")
cm = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("jcode-watcher-config"))
spec = ds["spec"]["template"]["spec"]
pod = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": ds["metadata"]["name"], "labels": ds["spec"]["template"]["metadata"]["labels"]},
       "spec": spec}
changes = []
spec["restartPolicy"] = "OnFailure"
changes.append("restartPolicy OnFailure: podman 4.3 would restart the init container forever under a DaemonSet's Always")
for c in spec["containers"] + spec.get("initContainers", []):
    for e in c.get("env", []):
        if e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName":
            del e["valueFrom"]
            e["value"] = "podman-node"
            changes.append(f"{c['name']}: {e['name']} = podman-node: podman has no node for the downward API's spec.nodeName")
for v in spec["volumes"]:
    if v["name"] == "outbox" and "hostPath" in v:
        v["hostPath"]["path"] = f"{tmp}/outbox"
        changes.append(f"outbox hostPath in the test's directory instead of /var/lib/jcw")
cm["data"]["API_SERVER"] = api
changes.append(f"ConfigMap API_SERVER = {api}: the recording API")
def own_pins(spec):
    for c in spec["containers"] + spec.get("initContainers", []):
        for e in c.get("env", []):
            if e["name"] == "PIN_PATH":
                e["value"] = pin
own_pins(spec)
changes.append(f"PIN_PATH = {pin} in both DaemonSets: this test's own pins")
uds = next(d for d in yaml.safe_load_all(open(f"{tmp}/uninstall.yaml")) if d and d["kind"] == "DaemonSet")
uspec = uds["spec"]["template"]["spec"]
uspec["restartPolicy"] = "OnFailure"
own_pins(uspec)
yaml.safe_dump({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": uds["metadata"]["name"], "labels": uds["spec"]["template"]["metadata"]["labels"]},
                "spec": uspec}, open(f"{tmp}/unpin-pod.yaml", "w"))
# Seccomp profiles older than CAP_BPF allow bpf() only with CAP_SYS_ADMIN.
prof = json.load(open("/usr/share/containers/seccomp.json"))
old = any("bpf" in s["names"] and s["action"] == "SCMP_ACT_ALLOW" and
          s.get("includes", {}).get("caps") == ["CAP_SYS_ADMIN"] for s in prof["syscalls"])
if old:
    col = next(c for c in spec["containers"] if c["name"] == "collector")
    caps = col["securityContext"]["capabilities"]
    assert sorted(caps["add"]) == ["BPF", "PERFMON"], caps
    caps["add"] = ["SYS_ADMIN"]
    changes.append("collector capabilities add SYS_ADMIN instead of BPF, PERFMON: this podman's RuntimeDefault "
                   "seccomp profile (containers-common) allows bpf() only with CAP_SYS_ADMIN")
yaml.safe_dump(pod, open(f"{tmp}/pod.yaml", "w"))
yaml.safe_dump(cm, open(f"{tmp}/configmap.yaml", "w"))
claims = sorted(v["persistentVolumeClaim"]["claimName"] for v in spec["volumes"] if "persistentVolumeClaim" in v)
assert claims == ["jcw-snapshots", "jcw-workspace"], claims
for c in changes:
    print("NOTE changed for podman:", c)
PY
mkdir -p "$tmp/outbox"
for v in jcw-workspace jcw-snapshots; do
	podman volume create "$v" >/dev/null || fail "podman volume create $v"
done
ws=$(podman volume inspect jcw-workspace --format '{{.Mountpoint}}')
snaps=$(podman volume inspect jcw-snapshots --format '{{.Mountpoint}}')
mkdir -p "$ws/os-1-202012345"
timeout 120 podman kube play --configmap "$tmp/configmap.yaml" "$tmp/pod.yaml" >"$tmp/play.log" 2>&1 ||
	{ cat "$tmp/play.log"; fail "podman kube play"; }
wait_for 60 eval 'podman logs jcode-watcher-collector 2>&1 | grep -q "\"attached"' || fail "the collector did not attach"
podman logs jcode-watcher-collector 2>&1 | grep -q "programs loaded and pinned in $pin" ||
	fail "the collector did not pin its programs in the node's bpffs"
wait_for 30 eval 'podman logs jcode-watcher-forwarder 2>&1 | grep -q "hello from node podman-node"' ||
	fail "the collector's stream did not reach the forwarder"
# The init container is gone once done; what it did stays.
[ "$(stat -c %u:%a "$tmp/outbox")" = 10001:750 ] ||
	fail "the prepare-dirs init container did not give the outbox to 10001 (0750): $(stat -c %u:%a "$tmp/outbox")"

pod=jcode-os-1-202012345-68d58d5b57-bp47r
student_sh 60 "$pod" "$ws/os-1-202012345" '
	mkdir -p hw1 && cd hw1 &&
	printf "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 3; }\n" > main.c &&
	gcc main.c -o main && { ./main; echo "exit $?"; } &&
	printf "import sys\nprint(6 * 7)\nsys.stderr.write(\"note: done\" + chr(10))\n" > solve.py &&
	python3 solve.py' >"$tmp/student.out" 2>&1 ||
	{ cat "$tmp/student.out"; fail "the student's commands failed"; }
wait_for 30 eval '[ "$(grep -c "/api/os-1/hw1/202012345/" "$tmp/api.log" 2>/dev/null)" -ge 5 ]' ||
	fail "not all five requests (build, two runs, two snapshots) reached the API"
python3 - "$tmp/api.log" "$snaps" "$ws/os-1-202012345/hw1" <<'PY' || fail "request bodies"
import glob, json, os, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert len(reqs) == 5, [r["path"] for r in reqs]
b = next(r["json"] for r in reqs if r["path"] == "/api/os-1/hw1/202012345/logs/build")
assert b["exit_code"] == 0 and b["cmdline"] == "gcc main.c -o main", b
assert b["target_path"] == "/home/coder/project/hw1/main.c", b
runs = sorted((r["json"] for r in reqs if r["path"] == "/api/os-1/hw1/202012345/logs/run"), key=lambda r: r["process_type"])
assert [(r["process_type"], r["exit_code"]) for r in runs] == [("binary", 3), ("python", 0)], runs
assert runs[1]["target_path"] == "/home/coder/project/hw1/solve.py", runs[1]
# CAPTURE_STDERR=all from the ConfigMap reached both containers.
assert b["diagnostics"] == "" and b["errors"] == 0, b
assert runs[1]["stderr_head"] == "note: done\n" and runs[1]["exception"] is None, runs[1]
for name in ("main.c", "solve.py"):
    stored = glob.glob(os.path.join(sys.argv[2], "os-1/hw1/202012345", name, "*"))
    assert len(stored) == 1, (name, stored)
    assert open(stored[0], "rb").read() == open(os.path.join(sys.argv[3], name), "rb").read(), name
PY
echo "FIGURE the DaemonSet's pod under podman: build, 2 runs and 2 snapshots of $pod reached the API; snapshots in the claim byte for byte"

status() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status"; }
fpid=$(podman inspect jcode-watcher-forwarder --format '{{.State.Pid}}')
cpid_=$(podman inspect jcode-watcher-collector --format '{{.State.Pid}}')
[ "$(status "$fpid" Uid | awk '{print $2}')" = 10001 ] || fail "forwarder is not uid 10001"
[ "$(status "$fpid" CapEff)" = 0000000000000000 ] || fail "forwarder holds capabilities"
for c in collector forwarder; do
	[ "$(podman inspect jcode-watcher-$c --format '{{.HostConfig.ReadonlyRootfs}}')" = true ] ||
		fail "$c root is writable"
done
for set in CapInh CapPrm CapEff CapAmb; do
	[ "$(status "$cpid_" $set)" = 0000000000000000 ] || fail "collector still holds $set after attach"
done
grep -q 10001 <<<"$(status "$cpid_" Groups)" || fail "collector lacks the supplemental group 10001"
podman healthcheck run jcode-watcher-forwarder >/dev/null 2>&1 ||
	fail "the forwarder's exec liveness probe (--check-live) fails"
echo "NOTE forwarder uid 10001, collector uid 0 with no capability left and group 10001, read-only roots, liveness probe passing"

# Uninstalling as docs/deployment.md says: the DaemonSet goes, then k8s/uninstall's
# pod removes the pins on the node.
podman pod rm -f jcode-watcher >/dev/null 2>&1 || fail "removing the deployment's pod"
[ -d "$pin" ] || fail "no pins at $pin after the deployment's pod went"
timeout 120 podman kube play "$tmp/unpin-pod.yaml" >"$tmp/play-unpin.log" 2>&1 ||
	{ cat "$tmp/play-unpin.log"; fail "podman kube play k8s/uninstall"; }
wait_for 60 eval '[ ! -e "$pin" ]' ||
	{ podman logs jcode-watcher-unpin-unpin 2>&1 | tail -n 5; fail "k8s/uninstall left $pin"; }
podman pod rm -f jcode-watcher-unpin >/dev/null 2>&1 || fail "removing the uninstall pod"
echo "NOTE the uninstall path (k8s/uninstall's DaemonSet on the node) left no pin behind"
