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
n=$(wc -l <"$tmp/api.log")
[ "$n" -eq 3 ] || { cat "$tmp/run2.err"; echo "API_SERVER got $n requests, want 3"; exit 1; }
echo "FIGURE quick start ($mode): 3 events printed, and 3 sent with API_SERVER"
