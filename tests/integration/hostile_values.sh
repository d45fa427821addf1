#!/usr/bin/env bash
# Hostile values end to end: a capture (mkcapture) whose argv, paths and
# hostnames hold newlines, quotes, backslashes, control characters, invalid
# UTF-8, 4 KiB and 9 KiB names, ".." segments, hostnames with '/' and
# '%2F', a 40-digit student id and symlink-like homework paths, replayed
# through jcw-forwarder with --print and into the recording API server.
# Every event must give either a request with a valid JSON body (strict
# UTF-8) and a path of exactly /api/{class_div}/{hwN}/{student_id}/logs/
# {build|run}, or a counted rejection in /metrics (by reason); nothing
# else reaches the API.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
use_forwarder
make_tmp

# The cases, and what each must give: ("build"|"run", hw, id) or the
# pipeline's reason for sending nothing. Written by Python, so the spec's
# escapes (\xHH) carry any byte to mkcapture.
cat >"$tmp/cases.py" <<'EOF'
P = "/home/coder/project"
H = "jcode-os-1-202012345"
GCC, PY = "/usr/bin/gcc", "/usr/bin/python3"
LONG = "n" * 4096                       # a 4 KiB file name (NAME_MAX is 255,
TOO_LONG = "/".join(["d" * 255] * 36)   # but argv can say anything); 9 KiB
CASES = [
    # argv and paths with every awkward byte: sent, as valid JSON
    ("newline_quote_backslash", H, GCC, P + "/hw1", ["gcc", "-o", 'a"b\\c\nd', "main.c"], ("build", "hw1")),
    ("control_chars", H, GCC, P + "/hw1", ["gcc", "-DX=\x01\x1b[31m\x7f\t\r", "x.c"], ("build", "hw1")),
    ("invalid_utf8", H, PY, P + "/hw2", ["python3", "s\xff\xfe.py", "\xc0\xaf", "\xed\xa0\x80", "caf\xc3\xa9"], ("run", "hw2")),
    ("cwd_with_newline", H, GCC, P + "/hw3/we\nird \"dir\"", ["gcc", "m.c"], ("build", "hw3")),
    ("name_4k", H, GCC, P + "/hw4", ["gcc", LONG + ".c"], ("build", "hw4")),
    ("binary_4k", H, P + "/hw5/" + LONG, P + "/hw5", ["./" + LONG], ("run", "hw5")),
    ("name_9k", H, GCC, P + "/hw1", ["gcc", "/" + TOO_LONG + ".c"], "invalid"),
    # ".." segments: resolved lexically before any matching
    ("dotdot_into_hw", H, GCC, P, ["gcc", "hw9/../hw6/./x.c"], ("build", "hw6")),
    ("dotdot_out_of_hw", H, GCC, P + "/hw1", ["gcc", "../../../../etc/passwd.c"], "source_outside_hw"),
    ("dotdot_to_workspace_root", H, GCC, P + "/hw1", ["gcc", "../x.c"], "source_outside_hw"),
    ("dotdot_above_root", H, PY, "/", ["python3", "../../../../home/coder/project/hw7/s.py"], ("run", "hw7")),
    ("nested_hw", H, GCC, P + "/hw1", ["gcc", "hw2/x.c"], "source_outside_hw"),
    ("hw21", H, GCC, P + "/hw21", ["gcc", "x.c"], "source_outside_hw"),
    ("hw01", H, GCC, P + "/hw01", ["gcc", "x.c"], "source_outside_hw"),
    # A symlinked homework directory pointing outside the workspace. The
    # forwarder never touches the disk for process events (it does not see
    # the container's filesystem): the kernel reports an executable by its
    # resolved path, so a binary reached through hw1/out -> /tmp shows up
    # as /tmp/..., outside any homework (not a target), while argv paths are
    # taken as the student typed them and judged lexically, so
    # hw1/out/x.c counts as hw1 whatever "out" points to.
    ("binary_via_symlink_out", H, "/tmp/outside/a.out", P + "/hw1/out", ["./a.out"], "unclassified"),
    ("source_via_symlink_out", H, GCC, P + "/hw1", ["gcc", "out/x.c"], ("build", "hw1")),
    ("binary_outside_hw", H, P + "/tools/a.out", P, ["./tools/a.out"], "binary_outside_hw"),
    # hostnames a student's namespace can set: never a URL segment. They
    # have the jcode- prefix, so they are counted as malformed, not ignored.
    ("host_slash", "jcode-os/1-2-202012345", GCC, P + "/hw1", ["gcc", "x.c"], "malformed_hostname"),
    ("host_pct2f", "jcode-os%2F1-2-202012345", GCC, P + "/hw1", ["gcc", "x.c"], "malformed_hostname"),
    ("host_dotdot", "jcode-..-1-202012345", GCC, P + "/hw1", ["gcc", "x.c"], "malformed_hostname"),
    ("host_newline", "jcode-os-1-202012345\n", GCC, P + "/hw1", ["gcc", "x.c"], "malformed_hostname"),
    ("host_query", "jcode-os?x=1-1-202012345", GCC, P + "/hw1", ["gcc", "x.c"], "malformed_hostname"),
    ("host_suffix_slash", "jcode-os-1-202012345-a/../b", GCC, P + "/hw1", ["gcc", "x.c"], "malformed_hostname"),
    ("id_40_digits", "jcode-os-1-" + "1" * 40, GCC, P + "/hw1", ["gcc", "x.c"], "malformed_hostname"),
    ("not_jcode", "buildkitsandbox", GCC, P + "/hw1", ["gcc", "x.c"], "not_student_host"),
    ("id_18_digits", "jcode-os-1-" + "9" * 18, GCC, P + "/hw1", ["gcc", "x.c"], ("build", "hw1")),
    # Kubernetes pod names: the student is read from the left
    ("deployment_pod", "jcode-ai-2-7-68d58d5b57-bp47r", GCC, "/workspace/ai-2-7/hw20", ["gcc", "x.c"], ("build", "hw20")),
    ("statefulset_pod", "jcode-ai-2-7-0", PY, P + "/hw3", ["python3", "s.py"], ("run", "hw3")),
    # a course is one word, as the original reads it; workspaces are the student's own
    ("course_with_dash", "jcode-ai-ml-2-7", GCC, P + "/hw1", ["gcc", "x.c"], "malformed_hostname"),
    ("workspace_not_a_student", H, GCC, "/workspace/invalid-format/hw1", ["gcc", "x.c"], "source_outside_hw"),
    ("workspace_of_another", H, GCC, "/workspace/os-1-202012346/hw1", ["gcc", "x.c"], "foreign_workspace"),
]
EOF
python3 - "$tmp" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from cases import CASES
# Python strings stand for raw bytes (latin-1: "\xff" is the byte 0xff);
# the spec writes every byte outside printable ASCII as \xHH.
def v(s):
    return '"' + "".join(chr(x) if 0x21 <= x < 0x7f and chr(x) not in '"\\' else "\\x%02x" % x
                         for x in s.encode("latin-1")) + '"'
with open(sys.argv[1] + "/hostile.spec", "w") as f:
    f.write("hello boot=hv node=n1\n")
    for i, (name, host, exe, cwd, argv, _) in enumerate(CASES):
        f.write(f"# {name}\n")
        f.write(f"exec tgid={100 + i} host={v(host)} exe={v(exe)} cwd={v(cwd)} "
                + " ".join("argv=" + v(a) for a in argv) + "\n")
        f.write(f"exit tgid={100 + i} code={i % 3}\n")
EOF
"$MK" -o "$tmp/hostile.cap" "$tmp/hostile.spec"

# The checks shared by --print and the API: one request per expected
# success, with the exact path, a strict-UTF-8 JSON body and the argv back.
cat >"$tmp/check.py" <<'EOF'
import json, re, sys
from cases import CASES
PATH_RE = re.compile(r"^/api/[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)+/hw(?:[0-9]|1[0-9]|20)/[0-9]{1,18}/logs/(?:build|run)$")

def no_constants(c):
    raise ValueError(f"non-JSON constant {c}")

def strict_json(raw_bytes):
    text = raw_bytes.decode("utf-8")            # strict: no invalid UTF-8
    return json.loads(text, parse_constant=no_constants)

def expected():
    """event_id -> (case, path, argv) for the cases that must be sent; the
    hello frame is seq 1, case i is exec 2i+2 and exit 2i+3."""
    want = {}
    for i, (name, host, exe, cwd, argv, res) in enumerate(CASES):
        if isinstance(res, tuple):
            # read from the left: a pod's suffix is not the id
            cls, sid = re.match(r"jcode-([A-Za-z0-9]+-[0-9]+)-([0-9]+)", host).groups()
            want[f"hv-{2 * i + 3}"] = (name, f"/api/{cls}/{res[1]}/{sid}/logs/{res[0]}", argv)
    return want

def check(events):
    """events: (path, event_id, raw body bytes) of every request made."""
    want = expected()
    seen = set()
    for path, eid, body in events:
        assert PATH_RE.match(path), f"path outside /api/{{class_div}}/{{hw}}/{{id}}/logs/...: {path!r}"
        assert eid in want, f"unexpected request {eid} {path}"
        name, wpath, argv = want[eid]
        assert path == wpath, f"{name}: {path} != {wpath}"
        b = strict_json(body)
        assert isinstance(b, dict) and b["event_id"] == eid, name
        # cmdline is argv joined by spaces, each invalid byte as U+FFFD
        raw = [a.encode("latin-1") for a in argv]
        cmd = " ".join(a.decode("utf-8", "replace") for a in raw)
        assert b["cmdline"] == cmd, f"{name}: cmdline {b['cmdline']!r} != {cmd!r}"
        bad = any(a.decode("utf-8", "replace").encode() != a for a in raw)
        assert b["invalid_utf8"] == bad, f"{name}: invalid_utf8 = {b['invalid_utf8']}"
        assert eid not in seen, f"{eid} twice"
        seen.add(eid)
    missing = sorted(want[e][0] for e in set(want) - seen)
    assert not missing, f"no request for {missing}"
    return len(seen)
EOF

# --- 1. --print: one JSON line per request ----------------------------------
"$FWD" --replay "$tmp/hostile.cap" --print --metrics-port 0 >"$tmp/print.jsonl" 2>"$tmp/print.err" || {
	echo "forwarder --print failed"; tail "$tmp/print.err"; exit 1; }
python3 - "$tmp" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from check import check, strict_json
events = []
for line in open(sys.argv[1] + "/print.jsonl", "rb").read().split(b"\n")[:-1]:
    ev = strict_json(line)
    body = line[line.index(b',"body":') + 8:-1]
    events.append((ev["path"], ev["event_id"], body))
print(f"print: {check(events)} requests, all as expected")
EOF

# --- 2. the same into the recording API server, with /metrics ---------------
api_start api
mport=$(free_port)
want=$(cd "$tmp" && python3 -c "from check import expected; print(len(expected()))")
API_SERVER=$api_url METRICS_PORT=$mport METRICS_ADDR=127.0.0.1 \
	"$FWD" --replay "$tmp/hostile.cap" --follow 2>"$tmp/fwd.err" &
fwd=$!
pids+=($fwd)
delivered() { curl -sf "http://127.0.0.1:$mport/metrics" >"$tmp/metrics.txt" &&
	grep -qx "jcw_api_delivered_total $want" "$tmp/metrics.txt"; }
wait_for 30 delivered || { tail -5 "$tmp/fwd.err"; exit 1; }
kill -TERM "$fwd"
rc=0; wait "$fwd" || rc=$?
[ $rc -eq 0 ] || { echo "forwarder exited $rc after SIGTERM"; tail "$tmp/fwd.err"; exit 1; }

python3 - "$tmp" <<'EOF'
import collections, json, sys
d = sys.argv[1]
sys.path.insert(0, d)
from cases import CASES
from check import check
events = []
for line in open(d + "/api.log"):
    r = json.loads(line)
    h = {k.lower(): v for k, v in r["headers"].items()}
    assert r["method"] == "POST" and h["content-type"] == "application/json", r["path"]
    body = r["body"].encode("utf-8")   # the server decoded it with errors="replace"
    assert int(h["content-length"]) == len(body), f"{r['path']}: body was not valid UTF-8"
    assert r["json"] is not None, r["path"]
    events.append((r["path"], h["idempotency-key"], body))
n = check(events)

# Everything not sent is counted, under the reason each case predicts.
m = {}
for line in open(d + "/metrics.txt"):
    if not line.startswith("#"):
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
reasons = collections.Counter(res for *_, res in CASES if not isinstance(res, tuple))
for reason, count in reasons.items():
    k = f'jcw_pipeline_events_by_reason_total{{reason="{reason}"}}'
    assert m.get(k) == count, f"{k} = {m.get(k)}, want {count}"
res = {r: m[f'jcw_pipeline_events_total{{result="{r}"}}']
       for r in ("success", "filtered", "nontarget", "failure")}
assert res["success"] == n and sum(res.values()) == len(CASES), res
assert m["jcw_api_rejected_total"] == 0 and m["jcw_ratelimited_events_total"] == 0, m
print(f"FIGURE hostile values: {len(CASES)} cases, {n} sent with valid JSON and exact paths, "
      f"{len(CASES) - n} counted by reason ({', '.join(f'{k} {v}' for k, v in sorted(reasons.items()))})")
EOF
