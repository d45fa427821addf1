#!/usr/bin/env bash
# Students named as Kubernetes names their pods, live, as root: the real BPF
# programs, collector socket, forwarder with snapshots, the recording API.
#   A  jcode-fieldtest-1-202012345-68d58d5b57-bp47r   (a Deployment's pod)
#   B  jcode-fieldtest-2-202099999-0                  (a StatefulSet's pod)
#   C  jcode-fieldtest-x-7                            (the prefix, not a student)
# A and B each save hw1/main.c and hw2/s.py, compile and run main.c (exit 4),
# run s.py. Asserts exactly ten requests: per student one build, two runs and
# two snapshots, every one under that student's class_div and id (never the
# pod suffix, never the other student), snapshots stored in that student's
# directory; C's work is counted as malformed_hostname (exec and file
# events) and logged, and sends nothing. Skips (77) only when not root or
# when the machine cannot run BPF.
set -u
source "$(dirname "$0")/../lib.sh"
FWD=$BUILD/jcw-forwarder
export ALLOW_ROOT=true  # running it unprivileged is privileges_forwarder.sh's subject

need_root "needs root to load BPF programs"
need_bins "$BUILD/jcw-collector" "$FWD"
need_cmds unshare python3 curl gcc

make_tmp jcw-pods
fail() { fail_live "$@"; }

A=jcode-fieldtest-1-202012345-68d58d5b57-bp47r
B=jcode-fieldtest-2-202099999-0
C=jcode-fieldtest-x-7
codes=$tmp/codes
mkdir -p "$codes/fieldtest-1-202012345" "$codes/fieldtest-2-202099999" "$codes/c" \
	"$tmp/snapshots" "$tmp/state"

api_start api || fail "API server did not start"
forwarder_start --watch-root "$codes" --snapshot-base "$tmp/snapshots" || fail "forwarder did not create its socket"
# Only this test's students: other jcode- containers on the machine must not
# reach this API server.
collector_start --socket "$tmp/events.sock" --hostname-prefix jcode-fieldtest- \
	--flush-interval 5ms --heartbeat-interval 1s || fail "collector did not attach"

session='
	set -e
	mkdir -p hw1 hw2
	printf "int main(void) { return 4; }\n" > hw1/main.c
	printf "print(6 * 7)\n" > hw2/s.py
	cd hw1 && gcc main.c -o main && { ./main || echo "main exit $?"; }
	cd ../hw2 && python3 s.py
'
for h in "$A" "$B"; do
	d=$codes/$(echo "$h" | sed -E 's/^jcode-([A-Za-z0-9]+-[0-9]+-[0-9]+).*/\1/')
	student_sh 60 "$h" "$d" "$session" </dev/null >"$tmp/student.log" 2>&1 ||
		{ cat "$tmp/student.log"; fail "session of $h failed"; }
	grep -q "main exit 4" "$tmp/student.log" || fail "$h: main did not exit 4"
done
student_sh 60 "$C" "$codes/c" "$session" </dev/null >"$tmp/student.log" 2>&1 ||
	{ cat "$tmp/student.log"; fail "session of $C failed"; }

requests() { [ -s "$tmp/api.log" ] && wc -l <"$tmp/api.log" || echo 0; }
has_ten() { [ "$(requests)" -ge 10 ]; }
wait_for 20 has_ten || fail "expected 10 requests, got $(requests)"
sleep 1.5  # anything unexpected (and the last debounced saves) would arrive now
curl -sf "http://127.0.0.1:$mport/metrics" >"$tmp/metrics.txt" || fail "no /metrics"

python3 - "$tmp" <<'EOF' || fail "requests, snapshots or metrics not as expected"
import json, os, re, sys
d = sys.argv[1]
reqs = [json.loads(l) for l in open(d + "/api.log")]
fails = []
def check(ok, what):
    if not ok:
        fails.append(what)

students = {"fieldtest-1": "202012345", "fieldtest-2": "202099999"}
check(len(reqs) == 10, f"10 requests, got {len(reqs)}: {[r['path'] for r in reqs]}")
for cls, sid in students.items():
    mine = [r for r in reqs if r["path"].startswith(f"/api/{cls}/")]
    paths = sorted(r["path"] for r in mine)
    check(all(p.startswith((f"/api/{cls}/hw1/{sid}/", f"/api/{cls}/hw2/{sid}/")) for p in paths),
          f"{cls}: every path under its own id {sid}: {paths}")
    builds = [r for r in mine if r["path"] == f"/api/{cls}/hw1/{sid}/logs/build"]
    runs = [r for r in mine if r["path"].endswith("/logs/run")]
    snaps = [r for r in mine if not r["path"].endswith(("/logs/build", "/logs/run"))]
    check(len(builds) == 1 and builds[0]["json"]["exit_code"] == 0, f"{cls}: one build: {paths}")
    kinds = sorted((r["path"].split("/")[3], r["json"]["process_type"], r["json"]["exit_code"]) for r in runs)
    check(kinds == [("hw1", "binary", 4), ("hw2", "python", 0)], f"{cls}: runs {kinds}")
    names = sorted(re.sub(r"/[0-9_.]+$", "", r["path"]) for r in snaps)
    check(names == [f"/api/{cls}/hw1/{sid}/main.c", f"/api/{cls}/hw2/{sid}/s.py"],
          f"{cls}: snapshots {names}")
    for r in snaps:
        ts = r["path"].rsplit("/", 1)[1]
        hw, name = r["path"].split("/")[3], r["path"].split("/")[5]
        ext = os.path.splitext(name)[1]
        f = f"{d}/snapshots/{cls}/{hw}/{sid}/{name}/{ts}{ext}"
        check(os.path.isfile(f) and os.path.getsize(f) == r["json"]["bytes"] > 0,
              f"{cls}: stored {f} of {r['json']['bytes']} bytes")
other = [r["path"] for r in reqs if not r["path"].startswith(tuple(f"/api/{c}/" for c in students))]
check(not other, f"requests under no student of the test: {other}")
stored = sorted(os.path.relpath(os.path.join(r, n), d + "/snapshots")
                for r, _, ns in os.walk(d + "/snapshots") for n in ns)
check(len(stored) == 4 and all(s.split("/")[0] in students for s in stored),
      f"snapshot files: {stored}")

m = {}
for line in open(d + "/metrics.txt"):
    if not line.startswith("#") and " " in line:
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
# C: gcc, main (in hw1 of its own workspace: not a student's), python3 ...
mal = m.get('jcw_pipeline_events_by_reason_total{reason="malformed_hostname"}', 0)
check(mal >= 3, f"malformed_hostname execs counted: {mal}")
fmal = m.get('jcw_snapshot_filtered_total{reason="malformed_hostname"}', 0)
check(fmal >= 2, f"malformed_hostname file events counted: {fmal}")
check(m.get('jcw_pipeline_events_by_reason_total{reason="not_student_host"}', 0) == 0,
      "nothing counted as not_student_host (every host has the prefix)")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
EOF
grep -q 'hostname \\"jcode-fieldtest-x-7\\" has the jcode- prefix but is not' "$tmp/fwd.err" ||
	fail "no warning naming the malformed hostname"
echo "FIGURE pod hostnames: Deployment and StatefulSet pod names -> 10 requests (1 build, 2 runs, 2 snapshots each) under the right class_div and id; a malformed jcode- host counted and logged, nothing sent"
