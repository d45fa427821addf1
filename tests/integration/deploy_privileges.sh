#!/usr/bin/env bash
# The deployments' privilege arrangement, live (as root, real BPF): the
# forwarder as uid/gid 10001 with no capability and umask 0007 in a 0750
# socket directory; the collector as uid 0 whose bounding set holds only
# CAP_BPF and CAP_PERFMON, in supplementary group 10001 (what compose's
# group_add, the pod's supplementalGroups and the unit's SupplementaryGroups
# give it). Checks that the collector loads and attaches with just those two
# capabilities, holds none afterwards, reaches the 0660 socket through the
# group, that a compile in a student namespace comes out of the forwarder,
# that uid 0 without capabilities and without the group is kept out, and
# that neither capability alone is enough (the set is minimal).
# Skips (77) when not root, when a daemon is not built, or when this machine
# cannot run BPF at all.
set -u
source "$(dirname "$0")/../lib.sh"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
HOST=jcode-os-1-202012345
ID=10001

need_root "needs root to load BPF programs and switch users"
for d in jcw-collector jcw-forwarder; do
	[ -x "$BUILD/$d" ] || { echo "$BUILD/$d not built yet"; exit 77; }
done
need_cmds setpriv unshare gcc curl python3

make_tmp jcw-deploy
fpid= cpid=
kill_on_exit cpid fpid
fail() { echo "FAIL: $*"; for f in "$tmp"/*.log; do echo "--- $f"; tail -n 20 "$f"; done; exit 1; }

install -d -o $ID -g $ID -m 0750 "$tmp/run"
sock=$tmp/run/events.sock
port=$(free_port)

# Forwarder: unprivileged, as in every deployment.
setpriv --reuid=$ID --regid=$ID --clear-groups --bounding-set=-all --inh-caps=-all --no-new-privs -- \
	sh -c 'umask 0007; exec "$@"' sh "$BUILD/jcw-forwarder" --print --socket "$sock" --allowed-uids 0 \
	--metrics-addr 127.0.0.1 --metrics-port "$port" >"$tmp/events.jsonl" 2>"$tmp/forwarder.log" &
fpid=$!
wait_for 5 test -S "$sock" || fail "forwarder did not create its socket"
[ "$(stat -c '%a %u %g' "$sock")" = "660 $ID $ID" ] || fail "socket is $(stat -c '%a %u:%g' "$sock"), want 660 $ID:$ID"

# uid 0 with no capability and without the group: kept out by the mode.
if setpriv --clear-groups --bounding-set=-all --inh-caps=-all -- python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except PermissionError:
    sys.exit(0)
sys.exit(1)' "$sock"; then
	echo "NOTE uid 0 without capabilities and group $ID: connection refused by the socket's mode"
else
	fail "uid 0 without capabilities nor group $ID could connect"
fi

# Both capabilities are needed: with either one alone the collector refuses
# to start, naming the other and what to add in each deployment.
declare -A other=([bpf]=PERFMON [perfmon]=BPF)
for one in bpf perfmon; do
	if timeout 20 setpriv --bounding-set=-all,+$one --inh-caps=-all -- "$BUILD/jcw-collector" \
		--no-socket --record /dev/null </dev/null >/dev/null 2>"$tmp/only-$one.log"; then
		fail "collector ran with CAP_${one^^} alone: the documented set is not minimal"
	fi
	grep -q "missing CAP_${other[$one]} (or CAP_SYS_ADMIN).*docker-compose.docker20.yml.*securityContext.capabilities.add.*AmbientCapabilities" \
		"$tmp/only-$one.log" || fail "collector with CAP_${one^^} alone failed for another reason"
done
echo "NOTE CAP_BPF alone and CAP_PERFMON alone are each refused, with the remedy named"

# Collector: uid 0, bounding set BPF+PERFMON, supplementary group 10001.
setpriv --groups=$ID --bounding-set=-all,+bpf,+perfmon --inh-caps=-all -- \
	"$BUILD/jcw-collector" --socket "$sock" --flush-interval 5ms --heartbeat-interval 1s \
	2>"$tmp/collector.log" &
cpid=$!
for _ in $(seq 200); do
	grep -q '"attached' "$tmp/collector.log" && break
	if ! kill -0 "$cpid" 2>/dev/null; then
		cpid=
		if grep -qE 'no kernel BTF|too old' "$tmp/collector.log"; then
			echo "BPF unavailable here: $(tail -n1 "$tmp/collector.log")"; exit 77
		fi
		fail "collector did not start with only CAP_BPF and CAP_PERFMON"
	fi
	sleep 0.05
done
grep -q '"attached' "$tmp/collector.log" || fail "collector did not attach in 10 s"
caps=$(awk '/^Cap(Prm|Eff|Inh|Amb):/ { printf "%s ", $2 }' "/proc/$cpid/status")
[ "$caps" = "0000000000000000 0000000000000000 0000000000000000 0000000000000000 " ] ||
	fail "collector still holds capabilities after attach: $caps"
echo "NOTE collector attached with CAP_BPF+CAP_PERFMON, holds none after attach"

for _ in $(seq 100); do
	curl -s "http://127.0.0.1:$port/metrics" | grep -q '^jcw_connections_accepted_total 1' && break
	sleep 0.05
done
curl -s "http://127.0.0.1:$port/metrics" | grep -q '^jcw_connections_accepted_total 1' ||
	fail "forwarder did not accept the collector (group $ID on a 0660 socket, ALLOWED_UIDS=0)"
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || fail "forwarder not ready"

# A student compiles in hw1: the build log must come out of the forwarder.
mkdir -p "$tmp/proj/hw1"
echo 'int main(void) { return 0; }' >"$tmp/proj/hw1/test.c"
student_sh 60 "$HOST" "$tmp/proj" '
	cd hw1 && gcc test.c -o test_program && ./test_program' \
	</dev/null >"$tmp/student.log" 2>&1 || fail "student commands failed"
for _ in $(seq 100); do
	grep -q '/api/os-1/hw1/202012345/logs/run' "$tmp/events.jsonl" && break
	sleep 0.05
done
grep -q '/api/os-1/hw1/202012345/logs/build' "$tmp/events.jsonl" || fail "no build log for the compile"
grep -q '/api/os-1/hw1/202012345/logs/run' "$tmp/events.jsonl" || fail "no run log for ./test_program"
echo "compile and run in $HOST reported through the unprivileged forwarder"
