#!/usr/bin/env bash
# jcw-dataset build, check and metrics on parts written by hand
# (docs/dataset.md): two nodes, a copy of two lines in a later part (as a
# kill between a sync and its release leaves), a torn last line, a line
# that is no event; saves, compiles, runs, a cell, a deletion; the same
# starter file saved by two students; a snapshot missing from the store.
# Asserts the report's counts, the rows and their mapping, the code states
# (content-addressed: one directory for the shared file), each compile's
# code state (the version saved before it started, blank before any),
# the filters (--course, --homework, --since/--until), check's verdict,
# and that an output directory that is not empty is refused.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
DS=$BUILD/jcw-dataset
need_bins "$DS"
make_tmp jcw-dataset-build

python3 - "$tmp" <<'EOF'
import json, os, sys
d = sys.argv[1]
S = 1_800_000_000  # unix seconds of the first event
def iso(t):
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(timespec="microseconds")
def line(eid, kind, path, t, body):
    body = dict(body, event_id=eid, timestamp=iso(t))
    return json.dumps({"event_id": eid, "endpoint": kind, "path": path, "time_ns": int(t * 1e9),
                       "body": body}, separators=(",", ":")) + "\n"
def snap(eid, cd, hw, st, f, t, content, deleted=False, store=True, burst=None):
    name = f.replace("/", "@")
    stamp = "%d_%06d" % (t, eid_n(eid))
    ext = os.path.splitext(f)[1]
    if store:
        p = f"{d}/snapshots/{cd}/{hw}/{st}/{name}"
        os.makedirs(p, exist_ok=True)
        open(f"{p}/{stamp}{ext}", "w").write("" if deleted else content)
    return line(eid, "snapshot", f"/api/{cd}/{hw}/{st}/{name.replace('@', '%40')}/{stamp}", t,
                dict({"bytes": 0 if deleted else len(content), "deleted": deleted, "file": f,
                      "snapshot": stamp + ext}, **({} if burst is None else {"burst": burst})))
def eid_n(e):
    return int(e.rsplit("-", 1)[1])
def build(eid, cd, hw, st, t, src, exit_code, diag, errors, warnings):
    return line(eid, "build", f"/api/{cd}/{hw}/{st}/logs/build", t,
                {"exit_code": exit_code, "cmdline": f"gcc {src}", "cwd": f"/home/coder/project/{hw}",
                 "binary_path": "/usr/bin/x86_64-linux-gnu-gcc-12",
                 "target_path": f"/home/coder/project/{hw}/{src}", "duration_ms": 50.0,
                 "diagnostics": diag, "errors": errors, "warnings": warnings, "signal": None})
def run(eid, cd, hw, st, t, target, exit_code, sig=None, head="", cell=None, ptype="binary"):
    b = {"exit_code": exit_code, "cmdline": target, "cwd": f"/home/coder/project/{hw}",
         "target_path": f"/home/coder/project/{hw}/{target}", "process_type": ptype,
         "binary_path": "/usr/bin/python3" if ptype == "python" else f"/home/coder/project/{hw}/{target}",
         "signal": sig, "duration_ms": 10.0, "stderr_head": head, "stderr_tail": "",
         "stderr_bytes": len(head), "stderr_truncated": False, "oom_killed": False}
    if cell is not None:
        b.update(cell=cell, binary_path="ipykernel", cmdline=f"ipykernel cell {cell}")
        for k in ("stderr_head", "stderr_tail", "stderr_bytes", "stderr_truncated"):
            del b[k]
    return line(eid, "run", f"/api/{cd}/{hw}/{st}/logs/run", t, b)

A = ("os-1", "hw1", "202011111")
B = ("ds-2", "hw2", "202022222")
starter = "#include <stdio.h>\n/* starter */\n"
diag1 = ("main.c: In function 'main':\nmain.c:3:5: error: 'n' undeclared (first use in this function)\n"
         "main.c:3:5: note: each undeclared identifier is reported only once\n"
         "main.c:4:1: error: expected ';' before '}' token\n")
n1 = [
    build("bootA-1", *A, S + 0, "main.c", 1, "gcc: fatal error: main.c: No such file or directory\n", 1, 0),
    snap("bootA-3", *A, "main.c", S + 1, "int main(void)\n{\n    n\n}\n"),
    build("bootA-5", *A, S + 2, "main.c", 1, diag1, 2, 0),
    snap("bootA-7", *A, "main.c", S + 3, "int main(void)\n{\n    return 0;\n}\n"),
    build("bootA-9", *A, S + 4, "main.c", 0, "main.c:1:5: warning: unused variable 'x' [-Wunused-variable]\n", 0, 1),
    run("bootA-11", *A, S + 5, "main", 139, sig="SIGSEGV", head="Segmentation fault\n"),
    snap("bootA-13", *A, "lib/starter.h", S + 6, starter),
    snap("bootA-15", *A, "main.c", S + 7, "", deleted=True),
    run("bootA-17", *A, S + 8, "lab.ipynb", 1, cell=2, ptype="python"),
]
n2 = [
    snap("bootB-3", *B, "lib/starter.h", S + 10, starter),
    snap("bootB-5", *B, "gone.py", S + 11, "print(1)\n", store=False),
    run("bootB-7", *B, S + 12, "gone.py", 0, ptype="python"),
    # 50 lines at once on top of the starter (PASTE_LINES 40): a Paste.
    snap("bootB-9", *B, "lib/starter.h", S + 13, starter + "int x;\n" * 50, burst=True),
]
for node, lines in (("n1", n1), ("n2", n2)):
    os.makedirs(f"{d}/ds/parts/{node}", exist_ok=True)
open(f"{d}/ds/parts/n1/20260101T000000Z-1-0.jsonl", "w").write("".join(n1))
# A later part: two lines written again, a line that is no event, and a
# torn last line (its writer died mid-write).
open(f"{d}/ds/parts/n1/20260101T000500Z-2-0.jsonl", "w").write(
    n1[2] + n1[5] + "not json\n" + n1[6][:40])
open(f"{d}/ds/parts/n2/20260101T000000Z-1-0.jsonl", "w").write("".join(n2))
EOF

"$DS" build --events "$tmp/ds" --snapshots "$tmp/snapshots" --out "$tmp/out" 2>"$tmp/build.err" ||
	{ cat "$tmp/build.err"; exit 1; }
cat "$tmp/build.err"
grep -q '17 line(s) read, 2 duplicate(s) dropped, 1 torn and 1 invalid skipped; 13 event(s) in scope' "$tmp/build.err" ||
	{ echo "FAIL: the report's counts"; exit 1; }
grep -q '1 snapshot(s) missing' "$tmp/build.err" || { echo "FAIL: the missing snapshot is not reported"; exit 1; }
"$DS" check "$tmp/out"
"$DS" metrics "$tmp/out" >"$tmp/metrics.csv"
python3 - "$tmp" <<'EOF'
import csv, os, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(f"{d}/out/MainTable.csv", newline="")))
by = {r["EventID"]: r for r in rows}
def check(ok, what):
    if not ok:
        print("FAIL:", what)
        sys.exit(1)
check(len(rows) == 13 + 3 + 1, f"13 events, 3 diagnostics of the second compile, 1 of the third, the driver's of the first: {len(rows)}")
c1, c2, c3 = by["bootA-1"], by["bootA-5"], by["bootA-9"]
check(c1["CompileResult"] == "Error" and c1["CodeStateID"] == "", "a compile before any save has no code state")
check(c2["CompileResult"] == "Error" and c3["CompileResult"] == "Warning", "compile results")
s1, s2 = by["bootA-3"], by["bootA-7"]
check(s1["EventType"] == "File.Create" and s2["EventType"] == "File.Edit" and s2["EditType"] == "GenericEdit", "create, then edit")
check(c2["CodeStateID"] == s1["CodeStateID"] and c3["CodeStateID"] == s2["CodeStateID"], "each compile ran on the version saved before it")
check(open(f"{d}/out/CodeStates/{s1['CodeStateID']}/main.c").read() == "int main(void)\n{\n    n\n}\n", "a code state holds its snapshot")
check(by["bootA-15"]["EventType"] == "File.Delete" and by["bootA-15"]["CodeStateID"] == "", "a deletion")
kids = [r for r in rows if r["ParentEventID"] == "bootA-5"]
check([(r["EventType"], r["SourceLocation"], r["CompileMessageType"]) for r in kids] ==
      [("Compile.Error", "Text:3:5", "'ID' undeclared (first use in this function)"),
       ("Compile.Error", "Text:4:1", "expected ';' before '}' token")], f"diagnostics: {kids}")
drv = [r for r in rows if r["ParentEventID"] == "bootA-1"]
check(len(drv) == 1 and drv[0]["SourceLocation"] == "" and drv[0]["CodeStateSection"] == "main.c", "the driver's error, no line")
w = [r for r in rows if r["ParentEventID"] == "bootA-9"]
check(len(w) == 1 and w[0]["EventType"] == "Compile.Warning", "the warning")
r = by["bootA-11"]
check(r["ExecutionResult"] == "Error" and r["X-Signal"] == "SIGSEGV", "the crash")
check(open(f"{d}/out/{r['ProgramErrorOutput']}").read() == "Segmentation fault\n", "its standard error")
cell = by["bootA-17"]
check(cell["X-Cell"] == "2" and cell["ExecutionResult"] == "Error" and cell["ToolInstances"] == "JCode;ipykernel", "the cell")
sa, sb = by["bootA-13"], by["bootB-3"]
check(sa["CodeStateID"] == sb["CodeStateID"] and sa["SubjectID"] != sb["SubjectID"], "one code state for the same file of two students")
check(len(os.listdir(f"{d}/out/CodeStates")) == 4, "four distinct code states")
p = by["bootB-9"]
check(p["EventType"] == "File.Edit" and p["EditType"] == "Paste" and p["X-Burst"] == "true",
      f"a burst save is a Paste: {p['EditType']} {p.get('X-Burst')}")
check(by["bootB-5"]["CodeStateID"] == "" and by["bootB-7"]["ExecutionResult"] == "Success", "a missing snapshot is unknown")
check(by["bootB-3"]["CourseID"] == "ds" and by["bootB-3"]["CourseSectionID"] == "ds-2" and by["bootB-3"]["AssignmentID"] == "hw2", "course, section, homework")
check(by["bootB-3"]["X-Node"] == "n2" and c1["X-Node"] == "n1", "the node")
orders = [int(r["Order"]) for r in rows if r["SubjectID"] == "202011111"]
check(orders == list(range(1, len(orders) + 1)), f"Order counts A's events in time: {orders}")
check(kids[0]["Order"] == str(int(c2["Order"]) + 1), "a diagnostic follows its compile")
m = list(csv.DictReader(open(f"{d}/metrics.csv")))
ma = [x for x in m if x["SubjectID"] == "202011111"][0]
# compiles: failed (driver), failed (2 errors), warning: pairs (E, E) 8, (E, ok) 0
check(ma["Compiles"] == "3" and abs(float(ma["ErrorQuotient"]) - 4 / 11) < 1e-5 and ma["RepeatedErrorDensity"] == "0",
      f"A's measures: {ma}")
print("dataset rows, code states and measures as expected")
EOF

# Filters: a course, a homework, a time range.
"$DS" build --events "$tmp/ds" --snapshots "$tmp/snapshots" --out "$tmp/os" --course os 2>"$tmp/f.err"
grep -q '9 event(s) in scope' "$tmp/f.err" || { cat "$tmp/f.err"; echo "FAIL: --course os"; exit 1; }
"$DS" build --events "$tmp/ds" --snapshots "$tmp/snapshots" --out "$tmp/hw2" --homework hw2 2>"$tmp/f.err"
grep -q '4 event(s) in scope' "$tmp/f.err" || { cat "$tmp/f.err"; echo "FAIL: --homework hw2"; exit 1; }
"$DS" build --events "$tmp/ds" --snapshots "$tmp/snapshots" --out "$tmp/t" --since 1800000002 \
	--until 2027-01-15T08:00:06Z 2>"$tmp/f.err"
grep -q '4 event(s) in scope' "$tmp/f.err" || { cat "$tmp/f.err"; echo "FAIL: --since/--until"; exit 1; }
"$DS" check "$tmp/t" >/dev/null
# A directory that holds something is never written over.
if "$DS" build --events "$tmp/ds" --snapshots "$tmp/snapshots" --out "$tmp/out" 2>"$tmp/f.err"; then
	echo "FAIL: built over an existing dataset"; exit 1
fi
grep -q 'is not empty' "$tmp/f.err" || { cat "$tmp/f.err"; exit 1; }
# Parts are input: names in them never lead outside the output or the
# store (a segment "..", an event id with "/" in it).
mkdir -p "$tmp/evil/parts/n1" "$tmp/evil-store/os-1"
python3 - "$tmp/evil/parts/n1/p.jsonl" <<'EOF'
import json, sys
def line(eid, kind, path, body):
    body = dict(body, event_id=eid, timestamp="2027-01-15T08:00:00.000000+00:00")
    return json.dumps({"event_id": eid, "endpoint": kind, "path": path, "time_ns": 1800000000000000000,
                       "body": body}) + "\n"
with open(sys.argv[1], "w") as f:
    f.write(line("../../escape-1", "run", "/api/os-1/hw1/202011111/logs/run",
                 {"exit_code": 1, "stderr_head": "x", "target_path": "/home/coder/project/hw1/a"}))
    f.write(line("boot-../..", "build", "/api/os-1/hw1/202011111/logs/build",
                 {"exit_code": 1, "diagnostics": "a.c:1:1: error: x\n",
                  "target_path": "/home/coder/project/hw1/a.c"}))
    f.write(line("boot-3", "snapshot", "/api/os-1/hw1/202011111/%2E%2E/20270115_080000",
                 {"bytes": 1, "deleted": False, "file": "../../../escape.c", "snapshot": "x.c"}))
    f.write(line("boot-5", "snapshot", "/api/%2E%2E/hw1/202011111/a.c/20270115_080000",
                 {"bytes": 1, "deleted": False, "file": "a.c", "snapshot": "../../escape.c"}))
EOF
"$DS" build --events "$tmp/evil" --snapshots "$tmp/evil-store/os-1" --out "$tmp/evil-out/ds" 2>"$tmp/f.err" ||
	{ cat "$tmp/f.err"; echo "FAIL: build of hostile parts"; exit 1; }
[ -z "$(find "$tmp" -name '*escape*' -not -path "$tmp/evil/*")" ] ||
	{ find "$tmp" -name '*escape*'; echo "FAIL: a name in the parts led outside"; exit 1; }
[ "$(find "$tmp/evil-out" -mindepth 1 -maxdepth 1)" = "$tmp/evil-out/ds" ] ||
	{ ls -la "$tmp/evil-out"; echo "FAIL: something was written beside the dataset"; exit 1; }
"$DS" check "$tmp/evil-out/ds" >/dev/null || { "$DS" check "$tmp/evil-out/ds"; echo "FAIL: check"; exit 1; }
echo "FIGURE dataset build: 17 lines of 2 nodes -> 13 events once each, 2 copies, 1 torn and 1 invalid line dropped, filters by course, homework and time"
