#!/usr/bin/env bash
# The whole system, live, as root: the real BPF programs in jcw-collector,
# its socket to jcw-forwarder (with its durable outbox), HTTP to the
# recording API server. A student in a fresh UTS + mount + pid namespace
# named jcode-os-1-202012345, workspace bound onto /home/coder/project:
#   hw1: gcc main.c -o main; ./main (exits 3)      -> build + run logs
#   hw1: gcc segv.c -o segv; ./segv (SIGSEGV)      -> build + run (139, SIGSEGV)
#   hw2: python3 solve.py                           -> run log (python)
#   scratch/: gcc x.c (outside any hw dir)          -> filtered, counted
# Asserts exactly these five requests (method, path, headers, container-side
# paths, exit codes) and the filtered count in /metrics. Skips (77) only
# when not root or when the machine cannot run BPF.
set -u
source "$(dirname "$0")/../lib.sh"
COLLECTOR=$BUILD/jcw-collector
FWD=$BUILD/jcw-forwarder
HOST=jcode-os-1-202012345
export ALLOW_ROOT=true  # running it unprivileged is privileges_forwarder.sh's subject

need_root "needs root to load BPF programs"
need_bins "$COLLECTOR" "$FWD"
need_cmds unshare python3 curl gcc

make_tmp jcw-system
fail() { fail_live "$@"; }

ws=$tmp/ws
mkdir -p "$ws/hw1" "$ws/hw2" "$ws/scratch" "$tmp/state"
printf 'int main(void) { return 3; }\n' >"$ws/hw1/main.c"
printf 'int main(void) { volatile int *p = 0; return *p; }\n' >"$ws/hw1/segv.c"
printf 'print(sum(range(10)))\n' >"$ws/hw2/solve.py"
printf 'int main(void) { return 0; }\n' >"$ws/scratch/x.c"

api_start api || fail "API server did not start"
forwarder_start --snapshots=false || fail "forwarder did not create its socket"

# Only this test's student: other jcode- containers on the machine (a
# benchmark, another test) must not reach this API server.
collector_start --socket "$tmp/events.sock" --hostname-prefix "$HOST" --files=false \
	--heartbeat-interval 1s || fail "collector did not attach"

student_sh 60 "$HOST" "$ws" '
	cd hw1 && gcc main.c -o main && { ./main; echo "main exit $?"; }
	gcc segv.c -o segv && { ./segv; echo "segv exit $?"; }
	cd ../hw2 && python3 solve.py
	cd ../scratch && gcc x.c -o x
' || fail "student session failed ($?)"

requests() { [ -s "$tmp/api.log" ] && wc -l <"$tmp/api.log" || echo 0; }
has_five() { [ "$(requests)" -ge 5 ]; }
wait_for 20 has_five || fail "expected 5 requests, got $(requests)"
sleep 1  # anything unexpected would arrive now
curl -sf "http://127.0.0.1:$mport/metrics" >"$tmp/metrics.txt" || fail "no /metrics"

python3 - "$tmp/api.log" "$tmp/metrics.txt" <<'EOF' || fail "requests or metrics not as expected"
import json, re, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
P = "/home/coder/project"
want = [
    ("/api/os-1/hw1/202012345/logs/build", {"exit_code": 0, "cmdline": "gcc main.c -o main",
      "cwd": P + "/hw1", "target_path": P + "/hw1/main.c"}),
    ("/api/os-1/hw1/202012345/logs/run", {"exit_code": 3, "cmdline": "./main", "cwd": P + "/hw1",
      "target_path": P + "/hw1/main", "process_type": "binary", "signal": None}),
    ("/api/os-1/hw1/202012345/logs/build", {"exit_code": 0, "cmdline": "gcc segv.c -o segv",
      "cwd": P + "/hw1", "target_path": P + "/hw1/segv.c"}),
    ("/api/os-1/hw1/202012345/logs/run", {"exit_code": 139, "signal": "SIGSEGV", "cmdline": "./segv",
      "target_path": P + "/hw1/segv", "process_type": "binary"}),
    ("/api/os-1/hw2/202012345/logs/run", {"exit_code": 0, "cmdline": "python3 solve.py",
      "cwd": P + "/hw2", "target_path": P + "/hw2/solve.py", "process_type": "python"}),
]
assert len(reqs) == len(want), f"{len(reqs)} requests: {[r['path'] for r in reqs]}"
ts = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")
for r, (path, fields) in zip(reqs, want):   # one student: delivered in order
    assert r["method"] == "POST" and r["path"] == path, (r["method"], r["path"], path)
    assert r["headers"].get("Content-Type") == "application/json", r["headers"]
    b = r["json"]
    assert r["idempotency_key"] == b["event_id"], (r["idempotency_key"], b["event_id"])
    assert ts.match(b["timestamp"]), b["timestamp"]
    for k, v in fields.items():
        assert b.get(k) == v, f"{path}: {k} = {b.get(k)!r}, want {v!r}"
    if path.endswith("/build"):
        assert re.search(r"/(x86_64-linux-gnu-)?gcc(-\d+)?$", b["binary_path"]), b["binary_path"]
m = {}
for line in open(sys.argv[2]):
    if line and line[0] != "#":
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
assert m['jcw_pipeline_events_by_reason_total{reason="source_outside_hw"}'] >= 1, "scratch gcc not counted"
assert m['jcw_pipeline_events_total{result="success"}'] == 5, m['jcw_pipeline_events_total{result="success"}']
assert m["jcw_api_delivered_total"] == 5
# Every log's age was taken when it arrived and when the API took it,
# and none was older than a minute (the histogram's last bound).
for stage in ("received", "delivered"):
    assert m['jcw_event_age_seconds_count{stage="%s"}' % stage] == 5, stage
    assert m['jcw_event_age_seconds_bucket{stage="%s",le="60"}' % stage] == 5, stage
print("5 requests exactly as expected; scratch compile filtered (source_outside_hw); ages observed")
EOF
echo "FIGURE system: gcc/run/segv/python in a jcode- namespace -> 5 API requests through collector, socket, outbox and HTTP; outside-hw compile filtered"
