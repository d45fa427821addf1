#!/usr/bin/env bash
# The Compose deployment on a real container engine, as a new user on
# Debian 12 would run it: Debian's docker.io (Docker 20.10) and
# docker-compose (1.29), a debian:bookworm-slim base image made with
# debootstrap (no registry is reachable), both images built with the
# commands of docs/deployment.md, the deployment up with its Compose command
# (the file that fits the engine's version), and a student container
# (gcc, python3, a Deployment pod's hostname, the workspace bound at
# /home/coder/project) whose build, run and saved file must reach a
# recording API on the host with the right bodies. Then the running
# containers: forwarder uid 10001 on a read-only root, collector uid 0 with
# no capability left after attach, one socket volume shared by both; and a
# collector started without capabilities, whose error names the remedy.
# Everything it started (containers, network, volumes, dockerd) is removed;
# the images stay as a cache for the next run. Root; skips only where no
# engine can run.
set -u
source "$(dirname "$0")/../lib.sh"
need_root "needs root to install and run a container engine"
need_cmds python3 curl
make_tmp jcw-containers

# The engine's own client: a newer docker CLI earlier on PATH would need
# buildx for BuildKit, which Debian's docker.io does not ship.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
pkgs=()
command -v dockerd >/dev/null || pkgs+=(docker.io)
command -v docker-compose >/dev/null || pkgs+=(docker-compose)
command -v debootstrap >/dev/null || pkgs+=(debootstrap)
deb_install "${pkgs[@]}" || { echo "containers: cannot install ${pkgs[*]}"; exit 77; }

fail() {
	echo "FAIL: $*"
	for s in collector forwarder; do
		echo "--- $s"; docker logs "jcw_${s}_1" 2>&1 | tail -n 15
	done
	echo "--- api"; cut -c1-300 "$tmp/api.log" 2>/dev/null | tail -n 20
	exit 1
}

# The engine: the running one, or one started here (and stopped at exit).
dockerd_pid=
if ! timeout 10 docker info >/dev/null 2>&1; then
	# Not a job of this shell: the exit trap waits for its jobs before the
	# on_exit commands, and those need the engine (it is stopped last).
	dockerd >"$tmp/dockerd.log" 2>&1 &
	dockerd_pid=$!
	disown "$dockerd_pid"
	if ! wait_for 30 eval 'timeout 5 docker info >/dev/null 2>&1'; then
		tail -n 5 "$tmp/dockerd.log"
		kill -TERM "$dockerd_pid" 2>/dev/null
		echo "containers: dockerd does not start on this machine"
		exit 77
	fi
fi
engine=$(docker version --format '{{.Server.Version}}')
# Engines before 23 do not know CAP_BPF: docs/deployment.md's rule for the file.
if [ "${engine%%.*}" -ge 23 ] 2>/dev/null; then
	file=compose/docker-compose.yml
else
	file=compose/docker-compose.docker20.yml
fi
echo "NOTE engine Docker $engine, $(docker-compose version --short 2>/dev/null | sed 's/^/Compose /'), using $file"

# Another deployment of project jcw on this host is not ours to replace.
if [ -n "$(docker ps -aq --filter label=com.docker.compose.project=jcw)" ]; then
	echo "containers: a Compose project 'jcw' already exists on this engine; not touching it"
	exit 77
fi
# The deployed collector pins its programs in the host's bpffs, as in
# production, in a directory of this test's own (JCW_PIN_PATH), removed at
# the end whatever happens; other collectors' pins are not touched.
export JCW_PIN_PATH=/sys/fs/bpf/jcw-test-containers-$$
on_exit '"$BUILD/jcw-collector" --unpin --pin-path "$JCW_PIN_PATH" >/dev/null 2>&1'
export JCW_WORKSPACE_DIR=$tmp/workspace
compose() { docker-compose -p jcw -f "$file" "$@"; }
on_exit 'compose down -v --remove-orphans >/dev/null 2>&1'
on_exit 'docker rm -f jcw-e2e-student jcw-e2e-nocaps >/dev/null 2>&1'
[ -z "$dockerd_pid" ] ||
	on_exit 'kill -TERM $dockerd_pid 2>/dev/null; for _ in $(seq 150); do kill -0 $dockerd_pid 2>/dev/null || break; sleep 0.1; done'

# The base image, as docs/deployment.md's offline section makes it; kept as a
# cache once made.
debian_base_image docker || fail "no base image"

# The image commands of docs/deployment.md, word for word (checked against it),
# then its Compose command for this engine.
export DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1
build_cmds=(
	"docker build -f compose/Dockerfile --target collector -t jcw-collector:dev ."
	"docker build -f compose/Dockerfile --target forwarder -t jcw-forwarder:dev ."
)
up_cmd="docker-compose -p jcw -f $file up --build -d"
for c in "${build_cmds[@]}" "$up_cmd"; do
	grep -qF -- "$c" docs/deployment.md || fail "docs/deployment.md does not show the command this test runs: $c"
done
start=$SECONDS
for c in "${build_cmds[@]}"; do
	$c >"$tmp/build.log" 2>&1 || { tail -n 20 "$tmp/build.log"; fail "$c"; }
done
echo "NOTE both images built in $((SECONDS - start)) s"

# The recording API, on the host address containers reach as
# host.docker.internal: host-gateway is the default bridge's address.
gw=$(ip -4 -o addr show dev docker0 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
[ -n "$gw" ] || fail "no IPv4 address on docker0, the default bridge"
api_start api --host "$gw" || fail "the recording API did not start"
port=${api_url##*:}
export API_SERVER=http://host.docker.internal:$port
mkdir -p "$JCW_WORKSPACE_DIR/os-1-202012345"
$up_cmd >"$tmp/up.log" 2>&1 || { tail -n 20 "$tmp/up.log"; fail "$up_cmd"; }
wait_for 60 eval 'docker logs jcw_collector_1 2>&1 | grep -q "\"attached"' ||
	fail "the collector did not attach"
docker logs jcw_collector_1 2>&1 | grep -q "programs loaded and pinned in $JCW_PIN_PATH" ||
	fail "the collector did not pin its programs in the host's bpffs"
wait_for 30 eval 'docker logs jcw_forwarder_1 2>&1 | grep -q "hello from node"' ||
	fail "the collector's stream did not reach the forwarder"

# The student's container: what code-server's terminal would run.
if ! docker image inspect jcw-e2e-student:bookworm >/dev/null 2>&1; then
	mkdir -p "$tmp/student"
	printf '%s\n' 'FROM debian:bookworm-slim' \
		'RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev python3 && rm -rf /var/lib/apt/lists/*' \
		>"$tmp/student/Dockerfile"
	docker build -q -t jcw-e2e-student:bookworm "$tmp/student" >"$tmp/build.log" 2>&1 ||
		{ tail -n 20 "$tmp/build.log"; fail "student image build failed"; }
fi
pod=jcode-os-1-202012345-68d58d5b57-bp47r
docker run --name jcw-e2e-student --hostname "$pod" \
	-v "$JCW_WORKSPACE_DIR/os-1-202012345:/home/coder/project" -w /home/coder/project \
	jcw-e2e-student:bookworm bash -c '
	mkdir -p hw1 && cd hw1 &&
	printf "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 3; }\n" > main.c &&
	gcc main.c -o main && { ./main; echo "exit $?"; } &&
	printf "import sys\nprint(6 * 7)\nsys.stderr.write(\"note: done\" + chr(10))\n" > solve.py &&
	python3 solve.py' >"$tmp/student.out" 2>&1 ||
	{ cat "$tmp/student.out"; fail "the student's commands failed"; }
grep -qx 'exit 3' "$tmp/student.out" && grep -qx 42 "$tmp/student.out" ||
	{ cat "$tmp/student.out"; fail "unexpected output in the student container"; }
wait_for 30 eval '[ "$(grep -c "/api/os-1/hw1/202012345/" "$tmp/api.log" 2>/dev/null)" -ge 5 ]' ||
	fail "not all five requests (build, two runs, two snapshots) reached the API"
snapdir=$(docker volume inspect jcw-snapshots --format '{{.Mountpoint}}')
python3 - "$tmp/api.log" "$snapdir" "$JCW_WORKSPACE_DIR/os-1-202012345/hw1" <<'PY' || fail "request bodies"
import glob, json, os, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
logs = {r["path"]: r["json"] for r in reqs if "/logs/" in r["path"]}
snaps = sorted(r["path"] for r in reqs if "/logs/" not in r["path"])
assert len(reqs) == 5, [r["path"] for r in reqs]
b = logs["/api/os-1/hw1/202012345/logs/build"]
assert b["exit_code"] == 0 and b["target_path"] == "/home/coder/project/hw1/main.c", b
assert b["cwd"] == "/home/coder/project/hw1" and b["cmdline"] == "gcc main.c -o main", b
assert "gcc" in b["binary_path"] and b["source_files"] == ["/home/coder/project/hw1/main.c"], b
runs = [r["json"] for r in reqs if r["path"] == "/api/os-1/hw1/202012345/logs/run"]
assert len(runs) == 2, runs
c, py = sorted(runs, key=lambda r: r["process_type"])
assert c["process_type"] == "binary" and c["exit_code"] == 3 and c["cmdline"] == "./main", c
assert py["process_type"] == "python" and py["exit_code"] == 0, py
assert py["target_path"] == "/home/coder/project/hw1/solve.py" and py["cmdline"] == "python3 solve.py", py
# CAPTURE_STDERR=all from the compose file reached both services: the
# write hook is loaded in the collector's container, the fields are written.
assert b["diagnostics"] == "" and b["errors"] == 0 and b["first_error"] is None, b
assert py["stderr_head"] == "note: done\n" and py["exception"] is None, py
for r in reqs:
    assert r["method"] == "POST" and r["idempotency_key"], r
assert [s.rsplit("/", 2)[1] for s in snaps] == ["main.c", "solve.py"], snaps
for name in ("main.c", "solve.py"):
    stored = glob.glob(os.path.join(sys.argv[2], "os-1/hw1/202012345", name, "*"))
    assert len(stored) == 1, (name, stored)
    assert open(stored[0], "rb").read() == open(os.path.join(sys.argv[3], name), "rb").read(), name
PY
echo "FIGURE student container $pod: build, 2 runs and 2 snapshots reached the API; snapshots stored byte for byte"

# The running containers, from the host's /proc.
status() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status"; }
fpid=$(docker inspect -f '{{.State.Pid}}' jcw_forwarder_1)
cpid_=$(docker inspect -f '{{.State.Pid}}' jcw_collector_1)
[ "$(status "$fpid" Uid | awk '{print $2}')" = 10001 ] || fail "forwarder is not uid 10001: $(status "$fpid" Uid)"
[ "$(status "$fpid" CapEff)" = 0000000000000000 ] || fail "forwarder holds capabilities"
[ "$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}}' jcw_forwarder_1)" = true ] || fail "forwarder root is writable"
docker exec jcw_forwarder_1 /bin/sh -c 'echo x > /usr/local/bin/x' 2>/dev/null && fail "forwarder could write its root"
[ "$(status "$cpid_" Uid | awk '{print $2}')" = 0 ] || fail "collector is not uid 0"
for set in CapInh CapPrm CapEff CapAmb; do
	[ "$(status "$cpid_" $set)" = 0000000000000000 ] || fail "collector still holds $set $(status "$cpid_" $set) after attach"
done
[ "$(status "$cpid_" NoNewPrivs)" = 1 ] || fail "collector lacks no_new_privs"
# The bounding set can only shrink with CAP_SETPCAP, which no deployment
# grants: it may keep the granted set (SYS_ADMIN, bit 21; or BPF+PERFMON,
# bits 38-39), never more, and with no_new_privs it is out of reach.
bnd=$((16#$(status "$cpid_" CapBnd)))
[ $((bnd & ~(1 << 21 | 1 << 38 | 1 << 39))) -eq 0 ] || fail "collector bounding set $(status "$cpid_" CapBnd) exceeds what was granted"
vol() { docker inspect -f '{{range .Mounts}}{{if eq .Destination "/run/jcw"}}{{.Name}}{{end}}{{end}}' "$1"; }
[ -n "$(vol jcw_collector_1)" ] && [ "$(vol jcw_collector_1)" = "$(vol jcw_forwarder_1)" ] ||
	fail "the socket volume is not shared: '$(vol jcw_collector_1)' vs '$(vol jcw_forwarder_1)'"
echo "NOTE forwarder uid 10001 on a read-only root; collector uid 0, effective/permitted/inheritable/ambient empty, bounding $(status "$cpid_" CapBnd); socket volume $(vol jcw_collector_1) shared"

# Without capabilities the collector says what to add, for each deployment.
docker run --name jcw-e2e-nocaps --cap-drop ALL --network none jcw-collector:dev --no-socket --record /dev/null \
	>"$tmp/nocaps.log" 2>&1 && fail "the collector started without capabilities"
grep -q 'missing CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN).*docker-compose.docker20.yml.*securityContext.capabilities.add: \[BPF, PERFMON\].*AmbientCapabilities' \
	"$tmp/nocaps.log" || { cat "$tmp/nocaps.log"; fail "the collector's error does not name the remedy"; }
echo "NOTE without capabilities the collector names what to add for compose, Kubernetes and systemd"

# Uninstalling as docs/deployment.md says: the unpin service removes the pins, and
# with "down" the programs detach.
unpin_cmd="docker-compose -p jcw -f $file --profile uninstall run --rm unpin"
grep -qF -- "$unpin_cmd" docs/deployment.md || fail "docs/deployment.md does not show the command this test runs: $unpin_cmd"
[ -d "$JCW_PIN_PATH" ] || fail "no pins at $JCW_PIN_PATH before the uninstall"
$unpin_cmd >"$tmp/unpin.log" 2>&1 || { cat "$tmp/unpin.log"; fail "$unpin_cmd"; }
[ ! -e "$JCW_PIN_PATH" ] || fail "the unpin service left $JCW_PIN_PATH"
compose down >/dev/null 2>&1 || fail "compose down"
echo "NOTE the uninstall path (the unpin service, then down) left no pin behind"
