#!/usr/bin/env bash
# One student must not blind the monitor (issue 27), live, as root. Student
# A runs the rename-and-exit loop 3,000 times:
#     unshare -U -u --map-root-user sh -c 'hostname x'
# unshare is exec'd (and tracked) in A's container, moves itself into a UTS
# namespace of its own, execs sh there (a forged hostname, not recorded)
# and exits under the hostname "x". Before, each such exit left its entry
# in the `tracked` map for good: at ~300 a second the map is full in a
# minute, and from then on no exit of anybody on the node is recorded.
# Meanwhile student B compiles (with an error) and runs programs that
# print to standard error. Asserts:
#   - the `tracked` map is back at its baseline afterwards;
#   - every exec of A that was recorded has its exit recorded (the capture
#     holds both), so every one of A's processes is accounted for, and the
#     forged execs are counted (forged_hostname_total);
#   - every build and run log of B arrives with its standard error.
# The programs are pinned in this test's own PIN_PATH (so that the map can
# be dumped) and unpinned at its end. Skips (77) only when not root or when
# BPF cannot run here.
set -u
source "$(dirname "$0")/../lib.sh"
live_test escape unshare python3 curl gcc bpftool
need_bins "$BUILD/tools/capdump"
own_pins escape
N=${ESCAPE_LOOPS:-3000}
A=jcode-esc-1-202011111 B=jcode-esc-1-202022222
codes=$tmp/codes
mkdir -p "$codes/esc-1-202011111/hw1" "$codes/esc-1-202022222/hw1"
bdir=$codes/esc-1-202022222/hw1
printf '#include <stdio.h>\nint main(void) { fputs("B: cannot open input\\n", stderr); return 3; }\n' >"$bdir/ok.c"
printf 'int main(void) { return }\n' >"$bdir/bad.c"

tracked() { bpftool -j map dump pinned "$pin/tracked" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

api_start api || fail "API server did not start"
STUDENT_RATE_LIMIT=0 forwarder_start --watch-root "$codes" --snapshots=false ||
	fail "forwarder did not create its socket"
collector_start --socket "$tmp/events.sock" --record "$tmp/cap" --pin-path "$pin" \
	--hostname-prefix jcode-esc- --container-rate 0 || fail "collector did not attach"
base=$(tracked) || fail "cannot dump $pin/tracked"

student_sh 300 "$A" "$codes/esc-1-202011111" '
	i=0; while [ $i -lt '"$N"' ]; do
		unshare -U -u --map-root-user sh -c "hostname x" || exit 1
		i=$((i + 1))
	done' >"$tmp/a.out" 2>&1 &
apid=$!
student_sh 300 "$B" "$codes/esc-1-202022222" '
	cd hw1
	for i in 1 2 3 4 5; do
		gcc bad.c -o bad 2>/dev/null
		gcc ok.c -o ok && ./ok
		sleep 0.5
	done
	true' >"$tmp/b.out" 2>&1 || { cat "$tmp/b.out"; fail "B's session failed"; }
wait "$apid" || { tail "$tmp/a.out"; fail "A's loop failed"; }

b_events() {
	local n
	n=$(grep -c '"/api/esc-1/hw1/202022222/logs/' "$tmp/api.log" 2>/dev/null)
	echo "${n:-0}"
}
b_all() { [ "$(b_events)" -ge 15 ]; }
wait_for 60 b_all || fail "only $(b_events) of B's 15 logs arrived"
sleep 1
after=$(tracked)
[ "$after" -le "$base" ] || fail "the tracked map holds $after entries after the loop, $base before"
curl -s "http://127.0.0.1:$mport/metrics" >"$tmp/metrics.txt"
kill -INT "$cpid"; wait "$cpid"; cpid=
"$BUILD/tools/capdump" "$tmp/cap" >"$tmp/cap.jsonl" || fail "capdump failed"

python3 - "$tmp" "$A" "$N" <<'PY' || fail "checks"
import json, sys
tmp, A, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
fails = []
def check(ok, what):
    if not ok:
        fails.append(what)
execs, exits = {}, set()
forged = 0
for line in open(f"{tmp}/cap.jsonl"):
    f = json.loads(line)
    if "exec" in f and f["exec"].get("hostname") == A:
        e = f["exec"]
        execs[(e["tgid"], e["start_boottime_ns"])] = e.get("exe_path", "")
    elif "exit" in f:
        x = f["exit"]
        exits.add((x["tgid"], x["start_boottime_ns"]))
    elif "heartbeat" in f:
        forged = max(forged, f["heartbeat"].get("forged_hostname_total", 0))
unshares = [k for k, exe in execs.items() if exe.endswith("/unshare")]
missing = [k for k in execs if k not in exits]
check(len(unshares) == n, f"{n} execs of unshare recorded in A's container, found {len(unshares)}")
check(not missing, f"{len(missing)} of A's {len(execs)} recorded execs have no exit: {missing[:5]}")
check(forged >= n, f"the {n} forged execs of sh counted: forged_hostname_total {forged}")

logs = [json.loads(l) for l in open(f"{tmp}/api.log")]
b = [r for r in logs if "/api/esc-1/hw1/202022222/logs/" in r["path"]]
builds = [r["json"] for r in b if r["path"].endswith("/build")]
runs = [r["json"] for r in b if r["path"].endswith("/run")]
check(len(builds) == 10 and len(runs) == 5, f"B: 10 builds and 5 runs, got {len(builds)} and {len(runs)}")
bad = [x for x in builds if x["target_path"].endswith("/bad.c")]
check(len(bad) == 5 and all(x.get("errors") == 1 and "expected expression" in x.get("diagnostics", "") for x in bad),
      f"B: every failed build has its diagnostics: {[x.get('diagnostics', '')[:60] for x in bad]}")
check(all(r.get("stderr_head") == "B: cannot open input\n" and r.get("exit_code") == 3 for r in runs),
      f"B: every run has its standard error: {[r.get('stderr_head') for r in runs]}")
if fails:
    print("FAIL:\n  " + "\n  ".join(fails))
    sys.exit(1)
print(f"FIGURE tracked_escape: {n} escapes, {len(execs)} execs of A each with its exit, {forged} forged execs counted; "
      f"B's {len(builds)} builds and {len(runs)} runs arrived with their standard error")
PY
echo "NOTE tracked map: $base entries before, $after after"
