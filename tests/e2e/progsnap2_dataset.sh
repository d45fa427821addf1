#!/usr/bin/env bash
# The ProgSnap2 dataset end to end (issue 29, docs/dataset.md), live, as
# root: the real BPF programs, the forwarder with PROGSNAP2_DIR, the
# recording API server; then jcw-dataset build, check and metrics, and
# Debian's pandas reading the tables.
#
# Student A (os-1-202011111) saves main.c with two errors and a warning,
# compiles (gcc's standard error kept in a hidden log), fixes it, compiles
# (a warning), runs it; saves and compiles crash.c, which dies of SIGSEGV;
# runs a Python script that raises; runs a loop that `timeout` stops; and
# deletes a file. Then the API goes down, student B (os-1-202022222)
# compiles with errors X, X, Y and then none (a save between each), and
# runs a notebook of three cells, one raising; the forwarder is killed
# with kill -9 with those events waiting for the API; A runs main again
# while no forwarder runs; the forwarder comes back, then the API.
#
# Asserts: every event the API has is in MainTable.csv exactly once (and
# nothing else); every Compile.Error is one of the compiler's error lines
# (file, line, column, message) for its compile, and every error line has
# its row; every code state holds exactly its stored snapshot, and a
# compile's is the version saved before it; `check` passes; `metrics`
# gives A and B their values (B: EQ (1 + 8/11 + 0) / 3, RED 1/2); pandas
# reads the tables with the right row counts. Skips (77) only when not
# root or when BPF cannot run here.
set -u
source "$(dirname "$0")/../lib.sh"
live_test progsnap2 unshare gcc timeout curl /usr/bin/python3
need_bins "$BUILD/jcw-dataset"
PY=/usr/bin/python3
"$PY" -c 'import pandas, ipykernel, nbclient, nbformat' 2>/dev/null ||
	{ echo "missing python3-pandas / python3-ipykernel / python3-nbclient for $PY (make deps)"; exit 1; }
own_pins progsnap2
A=jcode-os-1-202011111 B=jcode-os-1-202022222
wsa=$tmp/codes/os-1-202011111 wsb=$tmp/codes/os-1-202022222
mkdir -p "$wsa/hw1" "$wsb/hw2/.ipython/profile_default/startup" "$tmp/snapshots" "$tmp/ds"
cp contrib/jupyter/99-jcw-cell.py "$wsb/hw2/.ipython/profile_default/startup/"
printf 'print("old")\n' >"$wsa/hw1/old.py"
"$PY" - "$wsb/hw2/lab.ipynb" <<'PY'
import sys, nbformat
from nbformat.v4 import new_code_cell, new_notebook
nbformat.write(new_notebook(cells=[new_code_cell("x = 6 * 7"), new_code_cell("1 / 0"),
                                   new_code_cell("print(x)")]), sys.argv[1])
PY

fwd_up() {
	forwarder_start --progsnap2-dir "$tmp/ds" --node-name node-a --watch-root "$tmp/codes" \
		--snapshot-base "$tmp/snapshots" --debounce-window 0.2 --debounce-max-wait 1 \
		--retry-base 0.2 --retry-max 1 --log-level info || fail "forwarder did not start"
	fwd=${pids[-1]}
}
metric() { curl -sf "http://127.0.0.1:$mport/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
api_events() { "$PY" -c 'import json,sys; print(len({json.loads(l)["idempotency_key"] for l in open(sys.argv[1])}))' "$tmp/api.log" 2>/dev/null || echo 0; }

api_start api || fail "API server did not start"
api_port=${api_url##*:}
fwd_up
collector_start --socket "$tmp/events.sock" --pin-path "$pin" --flush-interval 5ms ||
	fail "collector did not attach"

# The sources the students save, one version per file.
src=$tmp/src
mkdir -p "$src"
cat >"$src/main1.c" <<'C'
#include <stdio.h>
int main(void)
{
	int unused;
	printf("%d\n", count)
	return 0;
}
C
cat >"$src/main2.c" <<'C'
#include <stdio.h>
int main(void)
{
	int unused;
	printf("hello\n");
	return 0;
}
C
printf 'int main(void)\n{\n\tint *p = 0;\n\treturn *p;\n}\n' >"$src/crash.c"
printf 'def f():\n    raise ValueError("bad")\nf()\n' >"$src/calc.py"
printf 'int main(void) { for (;;); }\n' >"$src/loop.c"
printf 'int main(void)\n{\n\treturn foo;\n}\n' >"$src/x1.c"
printf 'int main(void)\n{\n\tint a = 1;\n\treturn foo + a;\n}\n' >"$src/x2.c"
printf 'int main(void)\n{\n\tint a = 1\n\treturn a;\n}\n' >"$src/x3.c"
printf 'int main(void)\n{\n\tint a = 1;\n\treturn a - 1;\n}\n' >"$src/x4.c"

# A: every step a second apart, so that each saved version is its own
# snapshot (the debounce) and each compile follows its save.
student_sh 120 "$A" "$wsa" '
	cd hw1; mkdir -p .logs
	cat "$SRC/main1.c" > main.c; sleep 1
	gcc -Wall main.c -o main 2> .logs/c1.txt
	cat "$SRC/main2.c" > main.c; sleep 1
	gcc -Wall main.c -o main 2> .logs/c2.txt
	./main
	cat "$SRC/crash.c" > crash.c; sleep 1
	gcc crash.c -o crash 2> .logs/c3.txt
	./crash
	cat "$SRC/calc.py" > calc.py; sleep 1
	python3 calc.py
	cat "$SRC/loop.c" > loop.c; sleep 1
	gcc loop.c -o loop 2> .logs/c4.txt
	timeout 0.5 ./loop
	rm old.py
	sleep 1
	' SRC="$src" </dev/null >"$tmp/a1.log" 2>&1
# 5 saves, 1 deletion, 4 compiles, 4 runs
wait_for 30 eval '[ "$(api_events)" -ge 14 ]' || fail "A's 14 events did not reach the API ($(api_events))"

# The API goes down; B's events wait in the outbox, and the dataset has them.
api_stop
ds_before=$(metric jcw_dataset_lines_total)
student_sh 120 "$B" "$wsb" '
	cd hw2; mkdir -p .logs
	for i in 1 2 3 4; do
		cat "$SRC/x$i.c" > x.c; sleep 1
		gcc x.c -o x 2> .logs/b$i.txt
	done
	IPYTHONDIR=$PWD/.ipython JUPYTER_RUNTIME_DIR=/tmp/jupyter JPY_SESSION_NAME=$PWD/lab.ipynb \
		"$PY" -c "
import nbformat
from nbclient import NotebookClient
nb = nbformat.read(\"lab.ipynb\", as_version=4)
NotebookClient(nb, timeout=60, kernel_name=\"python3\", allow_errors=True).execute()
"
	' SRC="$src" PY="$PY" </dev/null >"$tmp/b.log" 2>&1
# B: 4 saves, 4 compiles, 3 cells: 11 events, in the dataset without the API
wait_for 30 eval '[ "$(( $(metric jcw_dataset_lines_total) - ds_before ))" -ge 11 ]' ||
	fail "B's 11 events did not reach the dataset while the API was down ($(metric jcw_dataset_lines_total) - $ds_before)"

# kill -9 with B's events undelivered; A goes on with no forwarder.
kill -9 "$fwd"
wait "$fwd" 2>/dev/null
student_sh 60 "$A" "$wsa" 'cd hw1 && ./main' </dev/null >"$tmp/a2.log" 2>&1
sleep 0.5
fwd_up
sleep 1
api_start api --port "$api_port" || fail "the API did not come back"
# 14 + 11 + 1
wait_for 60 eval '[ "$(api_events)" -ge 26 ] && [ "$(metric jcw_dataset_queue_rows)" = 0 ]' ||
	fail "not every event reached the API and the dataset ($(api_events) at the API, $(metric jcw_dataset_queue_rows) queued)"
sleep 1
kill -INT "$cpid"; wait "$cpid" 2>/dev/null; cpid=
kill -TERM "$fwd"; wait "$fwd" 2>/dev/null || fail "forwarder failed at SIGTERM"

parts=$(find "$tmp/ds/parts/node-a" -name '*.jsonl' | wc -l)
[ "$parts" -ge 2 ] || fail "a part per forwarder process expected, found $parts"
"$BUILD/jcw-dataset" build --events "$tmp/ds" --snapshots "$tmp/snapshots" --out "$tmp/out" \
	2>"$tmp/build.err" || { cat "$tmp/build.err"; fail "jcw-dataset build failed"; }
cat "$tmp/build.err"
"$BUILD/jcw-dataset" check "$tmp/out" >"$tmp/check.out" 2>&1 || { cat "$tmp/check.out"; fail "jcw-dataset check failed"; }
"$BUILD/jcw-dataset" metrics "$tmp/out" >"$tmp/metrics.csv" || fail "jcw-dataset metrics failed"
cat "$tmp/metrics.csv"
# A broken dataset is refused, with its problem named.
cp -r "$tmp/out" "$tmp/bad"
echo 'File.Edit,dup-1,1,202011111,JCode,,2026-01-01 00:00,os,os-1,hw1,nope,a.c,,,,,,,' >>"$tmp/bad/MainTable.csv"
if "$BUILD/jcw-dataset" check "$tmp/bad" >"$tmp/bad.out" 2>&1; then fail "check passed a broken dataset"; fi
grep -q 'ServerTimestamp "2026-01-01 00:00" is not a valid Timestamp' "$tmp/bad.out" &&
	grep -q 'ParentEventID nope is no event' "$tmp/bad.out" &&
	grep -q 'File.Edit without EditType' "$tmp/bad.out" ||
	{ cat "$tmp/bad.out"; fail "check did not name the problems of the broken dataset"; }

"$PY" - "$tmp" <<'PYEOF' || fail "the dataset"
import glob, json, os, re, sys
import pandas as pd
d = sys.argv[1]
out = d + "/out"
fails = []
def check(ok, what):
    if not ok:
        fails.append(what)
api = {}
for l in open(d + "/api.log"):
    r = json.loads(l)
    api[r["json"]["event_id"]] = r
mt = pd.read_csv(out + "/MainTable.csv", dtype=str, keep_default_na=False)
meta = pd.read_csv(out + "/DatasetMetadata.csv", dtype=str, keep_default_na=False)
check(dict(zip(meta.Property, meta.Value))["Version"] == "1.0", "Version 1.0")
top = mt[mt.ParentEventID == ""]
check(len(top) == len(api) == 26, f"26 events at the API and as many in MainTable: {len(api)}, {len(top)}")
check(set(top.EventID) == set(api), f"the same events: {set(top.EventID) ^ set(api)}")
check(mt.EventID.is_unique, "every EventID once")
kinds = top.EventType.value_counts().to_dict()
check(kinds == {"Compile": 8, "Run.Program": 8, "File.Create": 5, "File.Edit": 4, "File.Delete": 1},
      f"event types: {kinds}")
# Every diagnostic is one of gcc's lines, and every error line has its row.
loc = re.compile(r"^([^:\s]+):(\d+):(\d+): (error|warning): (.*)$")
def compiles(subject):
    c = top[(top.EventType == "Compile") & (top.SubjectID == subject)]
    return c.sort_values("Order", key=lambda s: s.astype(int))
for subject, logs in (("202011111", ["os-1-202011111/hw1/.logs/c%d.txt" % i for i in (1, 2, 3, 4)]),
                      ("202022222", ["os-1-202022222/hw2/.logs/b%d.txt" % i for i in (1, 2, 3, 4)])):
    cs = compiles(subject)
    check(len(cs) == 4, f"{subject}: 4 compiles, found {len(cs)}")
    for (_, c), log in zip(cs.iterrows(), logs):
        want = sorted((m[4], m[1], "Text:%s:%s" % (m[2], m[3]), m[5])
                      for m in (loc.match(x) for x in open(d + "/codes/" + log).read().splitlines()) if m)
        rows = mt[mt.ParentEventID == c.EventID]
        got = sorted((("error" if r.EventType == "Compile.Error" else "warning"), r.CodeStateSection,
                      r.SourceLocation, r.CompileMessageData) for _, r in rows.iterrows())
        check(got == want, f"{log}: rows {got} != compiler {want}")
        check(c.CompileResult == ("Error" if any(w[0] == "error" for w in want) else
                                  "Warning" if want else "Success"), f"{log}: CompileResult {c.CompileResult}")
# Code states: each is exactly its stored snapshot; a compile's is the version saved before it.
snaps = top[top.EventType.str.startswith("File.")]
for _, r in snaps.iterrows():
    if r.EventType == "File.Delete":
        check(r.CodeStateID == "", "a deletion has no code state")
        continue
    st = r.CodeStateSection
    stored = f"{d}/snapshots/{r.CourseSectionID}/{r.AssignmentID}/{r.SubjectID}/{st.replace('/', '@')}/{r['X-Snapshot']}"
    state = f"{out}/CodeStates/{r.CodeStateID}/{st}"
    check(os.path.exists(state) and open(state, "rb").read() == open(stored, "rb").read(),
          f"code state {r.CodeStateID} is the snapshot {stored}")
a = compiles("202011111")
first = a.iloc[0]
check(open(f"{out}/CodeStates/{first.CodeStateID}/main.c").read().count("count") == 1,
      "A's first compile ran on the version with the error")
check(open(f"{out}/CodeStates/{a.iloc[1].CodeStateID}/main.c").read().count("hello") == 1,
      "A's second compile ran on the fixed version")
runs = top[top.EventType == "Run.Program"]
def run(subject, target):
    r = runs[(runs.SubjectID == subject) & (runs["X-TargetPath"].str.endswith(target))]
    return r
check(list(run("202011111", "/main").ExecutionResult) == ["Success", "Success"], "main ran twice, fine")
crash = run("202011111", "/crash")
check(list(crash.ExecutionResult) == ["Error"] and list(crash["X-Signal"]) == ["SIGSEGV"], "crash: Error, SIGSEGV")
loop = run("202011111", "/loop")
check(list(loop.ExecutionResult) == ["Timeout"] and list(loop["X-TimeoutCause"]) == ["timeout"],
      f"loop: Timeout by a timeout: {loop[['ExecutionResult', 'X-TimeoutCause']].values.tolist()}")
py = run("202011111", "/calc.py")
check(len(py) == 1 and py.iloc[0].ExecutionResult == "Error", "calc.py: Error")
if len(py) == 1:
    err = open(out + "/" + py.iloc[0].ProgramErrorOutput).read()
    check(err.rstrip().endswith('ValueError: bad'), f"calc.py's standard error under Resources/: {err!r}")
cells = runs[runs["X-Cell"] != ""]
check(sorted(zip(cells["X-Cell"], cells.ExecutionResult)) == [("1", "Success"), ("2", "Error"), ("3", "Success")],
      f"the notebook's cells: {cells[['X-Cell', 'ExecutionResult']].values.tolist()}")
check(set(cells.CodeStateSection) == {"lab.ipynb"}, f"cells' section: {set(cells.CodeStateSection)}")
m = pd.read_csv(d + "/metrics.csv", dtype={"SubjectID": str})
ma = m[m.SubjectID == "202011111"].iloc[0]
mb = m[m.SubjectID == "202022222"].iloc[0]
check(ma.Compiles == 4 and abs(ma.FailedShare - 0.25) < 1e-6 and ma.ErrorQuotient == 0 and
      ma.RepeatedErrorDensity == 0, f"A's measures: {ma.to_dict()}")
check(mb.Compiles == 4 and abs(mb.FailedShare - 0.75) < 1e-6 and
      abs(mb.ErrorQuotient - (1 + 8 / 11) / 3) < 1e-5 and abs(mb.RepeatedErrorDensity - 0.5) < 1e-6,
      f"B's measures: {mb.to_dict()}")
if fails:
    print("FAIL:\n  " + "\n  ".join(fails))
    sys.exit(1)
print(f"FIGURE progsnap2 dataset: {len(api)} events through kill -9 and an API outage, each once in "
      f"{len(mt)} rows; every diagnostic matches gcc; every code state its snapshot; "
      f"B's EQ {mb.ErrorQuotient:.4f}, RED {mb.RepeatedErrorDensity}")
PYEOF
