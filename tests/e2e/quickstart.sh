#!/usr/bin/env bash
# The README's quick start: `make run` (tests/tools/run.sh) shows the events
# of a student session, printed as JSON lines without API_SERVER and sent to
# the API with it. As root with BPF it is the live demo; otherwise the
# replayed capture. Either way: gcc in hw1, the program run, python3 in hw2.
set -u
source "$(dirname "$0")/../lib.sh"
need_bins "$BUILD/jcw-forwarder" "$BUILD/tools/mkcapture"
need_cmds python3
make_tmp jcw-quickstart

BUILD=$BUILD timeout 120 tests/tools/run.sh >"$tmp/printed.jsonl" 2>"$tmp/run.err" ||
	{ cat "$tmp/run.err"; echo "make run failed"; exit 1; }
python3 - "$tmp/printed.jsonl" <<'PY' || { cat "$tmp/run.err"; exit 1; }
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
paths = [e["path"] for e in ev]
assert paths == ["/api/os-1/hw1/202012345/logs/build", "/api/os-1/hw1/202012345/logs/run",
                 "/api/os-1/hw2/202012345/logs/run"], paths
assert all(e["body"]["event_id"] == e["event_id"] for e in ev)
PY
mode=$(grep -o 'live\|replay' "$tmp/run.err" | head -n1)

api_start api || exit 1
API_SERVER=$api_url BUILD=$BUILD timeout 120 tests/tools/run.sh >/dev/null 2>"$tmp/run2.err" ||
	{ cat "$tmp/run2.err"; echo "make run with API_SERVER failed"; exit 1; }
# The same three requests reach the API: method, path, key and body fields.
python3 - "$tmp/api.log" <<'PY' || { cat "$tmp/run2.err"; exit 1; }
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
paths = [r["path"] for r in reqs]
assert paths == ["/api/os-1/hw1/202012345/logs/build", "/api/os-1/hw1/202012345/logs/run",
                 "/api/os-1/hw2/202012345/logs/run"], paths
for r in reqs:
    b = r["json"]
    assert r["method"] == "POST", r
    assert r["idempotency_key"] == b["event_id"], r
    assert b["timestamp"].endswith("+00:00") and b["cwd"].startswith("/home/coder/project/hw"), b
b, run, py = (r["json"] for r in reqs)
assert b["exit_code"] == 0 and b["target_path"].endswith("/hw1/hello.c") and "binary_path" in b, b
assert run["process_type"] == "binary" and py["process_type"] == "python", (run, py)
assert py["target_path"].endswith("/hw2/solve.py"), py
PY
echo "FIGURE quick start ($mode): 3 events printed, and the same 3 sent with API_SERVER, field by field"
if [ "$mode" = replay ]; then
	echo "NOTE quick start ran as a replay of its capture: the live demo needs root and BPF"
fi
