#!/usr/bin/env bash
# A student cannot report as another student (root, real BPF programs, the
# real collector -> socket -> forwarder as nobody, --print).
#
# Inside a fake student container (fresh UTS + mount + pid namespace named
# jcode-os-1-202012345, workspace bound on /home/coder/project), the
# student compiles and runs own.c, then makes a user + UTS namespace of
# their own (unshare -U -u --map-root-user), names it jcode-os-1-999999999
# and compiles and runs forged.c there.
#   - default --uts-policy init-userns: 202012345's build and run are
#     reported; nothing for 999999999 and nothing of forged.c at all, in the
#     capture or from the forwarder; the collector's Heartbeat counts the
#     forged execs (forged_hostname_total) and the forwarder shows the same
#     number as jcw_forged_hostname_total;
#   - the same with --uts-policy any: 999999999's build and run ARE
#     reported (still counted as forged_hostname_total, which counts
#     untrusted UTS namespaces whatever the policy): the policy is what
#     stops the forgery.
# Skips (77) only when not root or when the machine cannot run BPF.
set -u
source "$(dirname "$0")/../lib.sh"
COLLECTOR=$BUILD/jcw-collector
FWD=$BUILD/jcw-forwarder
CAPDUMP=$BUILD/tools/capdump
HOST=jcode-os-1-202012345
FORGED=jcode-os-1-999999999
NOBODY=65534

need_root "needs root to load BPF programs"
need_bins "$COLLECTOR" "$FWD" "$CAPDUMP"
need_cmds gcc unshare setpriv curl python3

make_tmp jcw-forge
cpid= fpid=
kill_on_exit cpid fpid
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

mkdir -p "$tmp/proj/hw1"
echo 'int main(void) { return 0; }' >"$tmp/proj/hw1/own.c"
echo 'int main(void) { return 7; }' >"$tmp/proj/hw1/forged.c"
install -d -o $NOBODY -g $NOBODY -m 0750 "$tmp/sock" "$tmp/state"
sock=$tmp/sock/events.sock
mport=$(free_port)

# The forwarder as in production: unprivileged, the collector (uid 0
# without capabilities once attached) reaching its socket through the group.
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- sh -c 'umask 0007; exec "$@"' sh \
	env SNAPSHOTS_ENABLED=false "$FWD" --print --socket "$sock" --allowed-uids 0 \
	--state-dir "$tmp/state" --metrics-port "$mport" --metrics-addr 127.0.0.1 --student-rate 0 \
	>"$tmp/events.jsonl" 2>"$tmp/fwd.err" &
fpid=$!
wait_for 20 grep -q '"seccomp filter installed' "$tmp/fwd.err" || { cat "$tmp/fwd.err"; echo "forwarder did not start"; exit 1; }

# start_collector NAME ARGS...
start_collector() {
	local name=$1; shift
	setpriv --groups=$NOBODY -- "$COLLECTOR" --socket "$sock" --record "$tmp/$name.cap" \
		--flush-interval 5ms --heartbeat-interval 200ms "$@" 2>"$tmp/$name.log" &
	cpid=$!
	for _ in $(seq 300); do
		grep -q '"connected to the forwarder' "$tmp/$name.log" && return 0
		if ! kill -0 "$cpid" 2>/dev/null; then
			wait "$cpid"; cpid=
			cat "$tmp/$name.log"
			if grep -qE 'not root|no kernel BTF|too old' "$tmp/$name.log"; then
				echo "identity_forging: BPF unavailable here"
				exit 77
			fi
			echo "collector ($name) failed to start"
			exit 1
		fi
		sleep 0.05
	done
	cat "$tmp/$name.log"; echo "collector ($name) did not connect in 15 s"; exit 1
}

stop_collector() {
	local rc=0
	kill -INT "$cpid"; wait "$cpid" || rc=$?; cpid=
	[ $rc = 0 ] || { cat "$tmp/$1.log"; fail "$1: collector exit status $rc"; }
	"$CAPDUMP" "$tmp/$1.cap" >"$tmp/$1.jsonl" || fail "$1: capdump"
}

# student TAG: the session; TAG names the outputs of the forged half.
student() {
	student_sh 120 "$HOST" "$tmp/proj" '
		set -u
		cd hw1 && gcc own.c -o own && ./own
		echo "own exit $?"
		unshare -U -u --map-root-user sh -c "hostname $FORGED && hostname && gcc forged.c -o forged-$TAG && ./forged-$TAG; echo forged exit \$?"
		' FORGED="$FORGED" TAG="$1" </dev/null >"$tmp/student-$1.log" 2>&1
	cat "$tmp/student-$1.log"
	grep -qx "$FORGED" "$tmp/student-$1.log" || fail "$1: the student could not set the forged hostname"
	grep -qx "forged exit 7" "$tmp/student-$1.log" || fail "$1: forged.c did not build and run"
}

metric() { curl -sf "http://127.0.0.1:$mport/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
printed() { grep -c "\"path\":\"$1\"" "$tmp/events.jsonl"; }
# Re-counted on every try of wait_for.
printed_some() { [ "$(printed "$1")" -ge 1 ]; }

# --- 1. the default policy -------------------------------------------------
start_collector trusted
student a
wait_for 20 printed_some /api/os-1/hw1/202012345/logs/run || fail "trusted: 202012345's run not printed"
sleep 0.5   # two heartbeats: the counter has reached the forwarder
stop_collector trusted
forged=$(python3 - "$tmp/trusted.jsonl" "$HOST" "$FORGED" <<'EOF'
import json, sys
frames = [json.loads(l) for l in open(sys.argv[1])]
host, forged = sys.argv[2], sys.argv[3]
execs = [f["exec"] for f in frames if "exec" in f]
hb = [f["heartbeat"] for f in frames if "heartbeat" in f]
# Other tests may run students of their own meanwhile: look at ours only.
# (The unshare that starts the forged half is the student's own, rightly.)
bad = [e for e in execs if e["hostname"] == forged or e["argv"][:1] == ["./forged-a"]
       or (e["argv"][:1] == ["gcc"] and "forged.c" in e["argv"])]
assert not bad, f"forged execs in the capture: {bad}"
assert any(e["hostname"] == host and e["argv"] == ["./own"] for e in execs), "./own is in the capture"
n = hb[-1]["forged_hostname_total"]
# sh, hostname, hostname, gcc and its cc1/as/collect2/ld, ./forged-a
assert n >= 5, f"forged_hostname_total {n}"
print(n)
EOF
) || fail "trusted: capture"
echo "NOTE init-userns policy: forged_hostname_total $forged in the last Heartbeat"
[ "$(printed /api/os-1/hw1/202012345/logs/build)" -ge 1 ] || fail "trusted: 202012345's build not printed"
grep -q 999999999 "$tmp/events.jsonl" && fail "trusted: something was printed for 999999999"
python3 - "$tmp/events.jsonl" <<'EOF' || fail "trusted: forged.c was reported under another name"
import json, sys
for l in open(sys.argv[1]):
    b = json.loads(l)["body"]
    assert not b.get("cmdline", "").startswith(("gcc forged.c", "./forged-a")), b
EOF
m=$(metric jcw_forged_hostname_total)
[ -n "$forged" ] && [ "$m" = "$forged" ] || fail "jcw_forged_hostname_total is '$m', the Heartbeat says '$forged'"

# --- 2. the same with --uts-policy any -------------------------------------
start_collector any --uts-policy any
student b
wait_for 20 printed_some /api/os-1/hw1/999999999/logs/run ||
	fail "any: the forged student's run was not printed (the policy should be all that stops it)"
sleep 0.5
stop_collector any
python3 - "$tmp/any.jsonl" "$FORGED" <<'EOF' || fail "any: capture"
import json, sys
frames = [json.loads(l) for l in open(sys.argv[1])]
execs = [f["exec"] for f in frames if "exec" in f]
hb = [f["heartbeat"] for f in frames if "heartbeat" in f]
assert any(e["hostname"] == sys.argv[2] and e["argv"] == ["./forged-b"] for e in execs), \
    "./forged-b under the forged hostname"
assert hb[-1]["forged_hostname_total"] >= 5, hb[-1]
EOF
[ "$(printed /api/os-1/hw1/999999999/logs/build)" -ge 1 ] || fail "any: the forged student's build not printed"

kill -TERM "$fpid"; rc=0; wait "$fpid" || rc=$?; fpid=
[ $rc = 0 ] || { tail -n 5 "$tmp/fwd.err"; fail "forwarder exit status $rc"; }

[ $fails = 0 ] || exit 1
echo "FIGURE identity forging: $forged forged execs refused and counted under init-userns (capture and jcw_forged_hostname_total), the same session reported with --uts-policy any"
