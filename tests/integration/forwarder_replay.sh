#!/usr/bin/env bash
# Replays a made-up student session (mkcapture) through jcw-forwarder:
# --print output, then delivery to the recording API server with exact
# method/path/headers/bodies, /metrics counting the filtered ones (and a
# format check of the exposition), /healthz and /readyz.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
use_forwarder
make_tmp

cat >"$tmp/session.spec" <<'EOF'
# One student session: build and run in hw1, python in hw2, gcc outside any
# hw dir (filtered), a SIGSEGV, a process on a non-student host (nontarget),
# an exit without exec, collector losses and a heartbeat.
hello boot=it-boot node=node-1 first_seq=1
defaults host=jcode-os-1-202012345 uid=1000 ppid=50
exec tgid=101 exe=/usr/bin/gcc cwd=/home/coder/project/hw1 argv=gcc argv=-o argv=hello argv=hello.c time=1700000000.5
exit tgid=101 code=0 time=1700000000.75
exec tgid=102 exe=/home/coder/project/hw1/hello cwd=/home/coder/project/hw1 argv=./hello argv="two words" time=1700000001
exit tgid=102 code=3 time=1700000001.01
exec tgid=103 exe=/usr/bin/python3.11 cwd=/home/coder/project/hw2 argv=python3 argv=solve.py argv="caf\xc3\xa9\xff" time=1700000002
exit tgid=103 code=0 time=1700000002.5
exec tgid=104 exe=/usr/bin/gcc cwd=/home/coder/project argv=gcc argv=scratch.c time=1700000003
exit tgid=104 code=1 time=1700000003.2
exec tgid=105 exe=/home/coder/project/hw1/crash cwd=/home/coder/project/hw1 argv=./crash time=1700000004
exit tgid=105 signal=11 core=1 time=1700000004.3
exec tgid=106 exe=/usr/bin/gcc cwd=/home/coder/project/hw1 host=buildbox argv=gcc argv=a.c time=1700000005
exit tgid=106 time=1700000005.1
exit tgid=999 start=5 time=1700000006
lost source=kernel_ringbuf count=2
lost source=collector_queue count=5
heartbeat queue_frames=3 queue_bytes=100 time=1700000007
EOF
"$MK" -o "$tmp/session.cap" "$tmp/session.spec"

# The expected requests; event_id = {boot_id}-{seq of the exit frame}.
cat >"$tmp/expected.py" <<'EOF'
EXPECTED = [
    ("/api/os-1/hw1/202012345/logs/build", "it-boot-3", {
        "timestamp": "2023-11-14T22:13:20.750000+00:00", "exit_code": 0,
        "cmdline": "gcc -o hello hello.c", "cwd": "/home/coder/project/hw1",
        "binary_path": "/usr/bin/gcc", "target_path": "/home/coder/project/hw1/hello.c",
        "event_id": "it-boot-3", "signal": None, "core_dumped": False, "duration_ms": 250}),
    ("/api/os-1/hw1/202012345/logs/run", "it-boot-5", {
        "timestamp": "2023-11-14T22:13:21.010000+00:00", "exit_code": 3,
        "cmdline": "./hello two words", "cwd": "/home/coder/project/hw1",
        "target_path": "/home/coder/project/hw1/hello", "process_type": "binary",
        "event_id": "it-boot-5", "signal": None, "core_dumped": False, "duration_ms": 10}),
    ("/api/os-1/hw2/202012345/logs/run", "it-boot-7", {
        "timestamp": "2023-11-14T22:13:22.500000+00:00", "exit_code": 0,
        "cmdline": "python3 solve.py caf\u00e9\ufffd", "cwd": "/home/coder/project/hw2",
        "target_path": "/home/coder/project/hw2/solve.py", "process_type": "python",
        "event_id": "it-boot-7", "signal": None, "core_dumped": False, "duration_ms": 500}),
    ("/api/os-1/hw1/202012345/logs/run", "it-boot-11", {
        "timestamp": "2023-11-14T22:13:24.300000+00:00", "exit_code": 139,
        "cmdline": "./crash", "cwd": "/home/coder/project/hw1",
        "target_path": "/home/coder/project/hw1/crash", "process_type": "binary",
        "event_id": "it-boot-11", "signal": "SIGSEGV", "core_dumped": True, "duration_ms": 300}),
]

def check_body(body, want, where):
    for k, v in want.items():
        assert k in body, f"{where}: no {k!r} in {body}"
        assert body[k] == v, f"{where}: {k} = {body[k]!r}, want {v!r}"
EOF

# --- 1. --print ------------------------------------------------------------
"$FWD" --replay "$tmp/session.cap" --print --metrics-port 0 >"$tmp/print.jsonl" 2>"$tmp/print.err" || {
	echo "forwarder --print failed"; cat "$tmp/print.err"; exit 1; }
python3 - "$tmp" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[1])
from expected import EXPECTED, check_body
lines = open(sys.argv[1] + "/print.jsonl", "rb").read().decode("utf-8").splitlines()
assert len(lines) == len(EXPECTED), f"{len(lines)} lines: {lines}"
for line, (path, eid, want) in zip(lines, EXPECTED):
    ev = json.loads(line)
    assert list(ev) == ["method", "path", "event_id", "body"], list(ev)
    assert ev["method"] == "POST" and ev["path"] == path and ev["event_id"] == eid, ev
    check_body(ev["body"], want, eid)
print("print: %d events as expected" % len(lines))
EOF

# --- 2. delivery to the recording API server, /metrics ---------------------
api_start api
mport=$(free_port)
API_SERVER=$api_url METRICS_PORT=$mport METRICS_ADDR=127.0.0.1 \
	"$FWD" --replay "$tmp/session.cap" --follow 2>"$tmp/fwd.err" &
fwd=$!
pids+=($fwd)
api_lines() { [ -f "$tmp/api.log" ] && [ "$(wc -l <"$tmp/api.log")" -ge "$1" ]; }
wait_for 20 api_lines 4
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$mport/healthz"
# The server logs a request when it arrives; the answer is counted after.
delivered() { curl -sf "http://127.0.0.1:$mport/metrics" >"$tmp/metrics.txt" &&
	grep -qx 'jcw_api_delivered_total 4' "$tmp/metrics.txt"; }
wait_for 10 delivered
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/readyz")" = 200 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/nope")" = 404 ]
kill -TERM "$fwd"
rc=0; wait "$fwd" || rc=$?
[ $rc -eq 0 ] || { echo "forwarder exited $rc after SIGTERM"; cat "$tmp/fwd.err"; exit 1; }
sleep 0.2   # nothing more may arrive

python3 - "$tmp" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[1])
from expected import EXPECTED, check_body
d = sys.argv[1]
reqs = [json.loads(l) for l in open(d + "/api.log")]
assert len(reqs) == len(EXPECTED), f"{len(reqs)} requests: {[r['path'] for r in reqs]}"
printed = open(d + "/print.jsonl", "rb").read().decode("utf-8").splitlines()
for r, (path, eid, want), pline in zip(reqs, EXPECTED, printed):
    assert r["method"] == "POST" and r["path"] == path, r
    h = {k.lower(): v for k, v in r["headers"].items()}
    assert h["content-type"] == "application/json", h
    assert h["idempotency-key"] == eid, h
    assert int(h["content-length"]) == len(r["body"].encode("utf-8")), h
    check_body(r["json"], want, eid)
    # Byte for byte what --print showed as "body".
    raw = pline[pline.index(',"body":') + 8:-1]
    assert r["body"] == raw, (r["body"], raw)
print("api: %d requests as expected" % len(reqs))

# /metrics: the exposition is well formed, and the counts are right.
import re
txt = open(d + "/metrics.txt").read()
name_re = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
sample_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$')
help_, type_, samples = {}, {}, {}
for line in txt.splitlines():
    if line.startswith("# HELP "):
        n = line.split(" ", 3)[2]; assert n not in help_, f"two HELP for {n}"; help_[n] = 1
    elif line.startswith("# TYPE "):
        _, _, n, t = line.split(" ")
        assert n in help_ and n not in type_, f"TYPE of {n} without HELP or twice"
        assert t in ("counter", "gauge", "histogram"), t
        type_[n] = t
        if t == "counter": assert n.endswith("_total"), f"counter {n} lacks _total"
    else:
        m = sample_re.match(line); assert m, f"bad sample line {line!r}"
        name, labels, val = m.group(1), m.group(2) or "", m.group(3)
        float(val.replace("+Inf", "inf"))
        fam = re.sub(r"_(bucket|sum|count)$", "", name) if re.sub(r"_(bucket|sum|count)$", "", name) in type_ and type_[re.sub(r"_(bucket|sum|count)$", "", name)] == "histogram" else name
        assert fam in type_, f"sample {name} before its TYPE"
        key = name + labels; assert key not in samples, f"duplicate series {key}"
        samples[key] = float(val.replace("+Inf", "inf"))
for n, t in type_.items():
    if t != "histogram": continue
    for k, v in samples.items():
        if k.startswith(n + "_count"):
            lab = k[len(n) + 6:]
            inner = lab[1:-1] + "," if lab else ""
            assert samples[n + '_bucket{' + inner + 'le="+Inf"}'] == v, f"{n}: +Inf bucket != count"
def val(key):
    assert key in samples, f"{key} missing from /metrics"
    return samples[key]
want = {
    'jcw_pipeline_events_total{result="success"}': 4,
    'jcw_pipeline_events_total{result="filtered"}': 1,
    'jcw_pipeline_events_total{result="nontarget"}': 1,
    'jcw_pipeline_events_total{result="failure"}': 0,
    'jcw_pipeline_events_by_reason_total{reason="source_outside_hw"}': 1,
    'jcw_pipeline_events_by_reason_total{reason="not_student_host"}': 1,
    'jcw_pipeline_events_by_type_total{process_type="c_compiler"}': 1,
    'jcw_pipeline_events_by_type_total{process_type="binary"}': 2,
    'jcw_pipeline_events_by_type_total{process_type="python"}': 1,
    'jcw_frames_received_total{type="hello"}': 1,
    'jcw_frames_received_total{type="exec"}': 6,
    'jcw_frames_received_total{type="exit"}': 7,
    'jcw_frames_received_total{type="lost"}': 2,
    'jcw_frames_received_total{type="heartbeat"}': 1,
    'jcw_join_unmatched_exits_total': 1,
    'jcw_join_entries': 0,
    'jcw_lost_records_total{source="kernel_ringbuf"}': 2,
    'jcw_lost_records_total{source="collector_queue"}': 5,
    'jcw_sequence_gaps_total': 0,
    'jcw_collector_queue_frames': 3,
    'jcw_api_requests_total{endpoint="build",code="200"}': 1,
    'jcw_api_requests_total{endpoint="run",code="200"}': 3,
    'jcw_api_delivered_total': 4,
    'jcw_api_rejected_total': 0,
    'jcw_api_request_duration_seconds_count{endpoint="run"}': 3,
}
for k, v in want.items():
    assert val(k) == v, f"{k} = {val(k)}, want {v}"
for k in ("process_resident_memory_bytes", "process_open_fds",
          "process_start_time_seconds", "jcw_last_frame_timestamp_seconds",
          "jcw_last_heartbeat_timestamp_seconds"):
    assert val(k) > 0, k
# CPU time comes in clock ticks: a short replay of an optimised build may
# not have used a whole one yet.
assert val("process_cpu_seconds_total") >= 0, "process_cpu_seconds_total"
assert any(k.startswith("jcw_build_info{version=") for k in samples)
print("metrics: %d families, %d series, counts as expected" % (len(type_), len(samples)))
EOF
if command -v promtool >/dev/null; then
	promtool check metrics <"$tmp/metrics.txt"
	echo "promtool check metrics: ok"
fi
grep -q '"msg":"shutting down: SIGTERM"' "$tmp/fwd.err"
echo "FIGURE forwarder replay: 4 events printed and delivered exactly, 2 not sent (filtered, nontarget) counted"
