#!/usr/bin/env bash
# Notebook cells, live, as root: Debian's ipykernel runs a notebook headless
# (nbclient) in a fake student container with contrib/jupyter/99-jcw-cell.py
# as an IPython startup file. A notebook of five code cells (and a markdown
# cell), the third raising ZeroDivisionError, must give exactly five run
# logs: cells 1-5, exit codes 0 0 1 0 0, the exception's type and message,
# the notebook as target_path, hw1 from it. No body may hold anything of the
# cells' source. A notebook outside a homework directory is filtered like a
# script there. With the collector stopped, the notebook still runs to the
# same outputs and nothing is sent. Skips (77) only when not root or when
# the machine cannot run BPF.
set -u
source "$(dirname "$0")/../lib.sh"
use_forwarder
need_root "needs root to load BPF programs"
need_bins "$BUILD/jcw-collector"
need_cmds unshare python3 curl
# Debian's ipykernel belongs to Debian's python, not to the python3 on PATH.
PY=/usr/bin/python3
"$PY" -c 'import ipykernel, nbclient, nbformat' 2>/dev/null ||
	{ echo "missing python3-ipykernel / python3-nbclient for $PY (make deps)"; exit 1; }
make_tmp jcw-notebook
fail() { fail_live "$@"; }

ws=$tmp/ws
host=jcode-ds-2-202012345-7f9c6d5b8-x2x9q
startup=$ws/.ipython/profile_default/startup
mkdir -p "$ws/hw1" "$ws/notes" "$startup"
cp contrib/jupyter/99-jcw-cell.py "$startup/"
"$PY" - "$ws" <<'PY'
import sys, nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
ws = sys.argv[1]
lab = new_notebook(cells=[
    new_code_cell("x = 6 * 7  # SECRET_SOURCE_TOKEN\nprint(x)"),
    new_markdown_cell("Not code: no run."),
    new_code_cell("y = [i * i for i in range(10)]\nprint(sum(y))"),
    new_code_cell("1 / 0"),
    new_code_cell("print('after the error', x)"),
    new_code_cell("import math\nprint(round(math.pi, 3))"),
])
nbformat.write(lab, f"{ws}/hw1/lab.ipynb")
nbformat.write(new_notebook(cells=[new_code_cell("print(1)"), new_code_cell("print(2)")]),
               f"{ws}/notes/scratch.ipynb")
PY

api_start api || fail "API server did not start"
forwarder_start --snapshots=false || fail "forwarder did not create its socket"
collector_start --socket "$tmp/events.sock" || fail "collector did not attach"

# run_nb NOTEBOOK-DIR NAME: executes it headless as Jupyter Server would
# start its kernel (in the notebook's directory, JPY_SESSION_NAME set);
# prints the code cells' outputs, one line per cell.
run_nb() {
	student_sh 120 "$host" "$ws" '
		cd "$NBDIR" && "$PY" - "$NBNAME" <<"EOF"
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
for c in nb.cells:
    if c.cell_type == "code":
        outs = c.get("outputs", [])
        print("|".join(o.get("text", o.get("ename", "")).strip() for o in outs))
EOF' NBDIR="/home/coder/project/$1" NBNAME="$2" PY="$PY" \
		IPYTHONDIR=/home/coder/project/.ipython JUPYTER_RUNTIME_DIR=/tmp/jupyter \
		JPY_SESSION_NAME="/home/coder/project/$1/$2"
}

run_nb hw1 lab.ipynb >"$tmp/lab.out" 2>"$tmp/lab.err" || { cat "$tmp/lab.err"; fail "the notebook did not run"; }
printf '42\n285\nZeroDivisionError\nafter the error 42\n3.142\n' | cmp -s - "$tmp/lab.out" ||
	{ cat "$tmp/lab.out" "$tmp/lab.err"; fail "the notebook's outputs changed with the hook installed"; }
wait_for 20 eval '[ "$(grep -c "/logs/run" "$tmp/api.log" 2>/dev/null)" -ge 5 ]' ||
	fail "fewer than 5 cell runs reached the API"
run_nb notes scratch.ipynb >"$tmp/notes.out" 2>"$tmp/notes.err" || { cat "$tmp/notes.err"; fail "the notes notebook did not run"; }
# Both notes cells must have been seen and filtered before counting.
outside_hw() {
	curl -s "http://127.0.0.1:$mport/metrics" |
		awk '/^jcw_pipeline_events_by_reason_total\{reason="source_outside_hw"\}/ { n = $2 } END { exit !(n >= 2) }'
}
wait_for 20 outside_hw ||
	fail "the two cells of notes/scratch.ipynb were not filtered as outside a homework directory"
sleep 0.5
python3 - "$tmp/api.log" <<'PY' || fail "cell run logs"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
cells = [r for r in reqs if r["json"].get("binary_path") == "ipykernel"]
assert len(cells) == 5, [r["path"] for r in reqs]
for r in reqs:
    assert "SECRET_SOURCE_TOKEN" not in r["body"], r["body"]
    assert "notes" not in r["json"].get("target_path", ""), r
got = [(b["cell"], b["exit_code"]) for b in (r["json"] for r in cells)]
assert sorted(got) == [(1, 0), (2, 0), (3, 1), (4, 0), (5, 0)], got
for r in cells:
    b = r["json"]
    assert r["path"] == "/api/ds-2/hw1/202012345/logs/run", r["path"]
    assert b["process_type"] == "python" and b["target_path"] == "/home/coder/project/hw1/lab.ipynb", b
    assert b["cwd"] == "/home/coder/project/hw1" and b["cmdline"] == f"ipykernel cell {b['cell']}", b
    assert b["duration_ms"] >= 0 and b["signal"] is None, b
    if b["cell"] == 3:
        assert b["exception"] == {"type": "ZeroDivisionError", "message": "division by zero"}, b
    else:
        assert b["exception"] is None, b
PY
echo "FIGURE notebook of 5 code cells (one raising): exactly 5 run logs, outcomes, cells and exception right; none of the source sent; notes/ filtered"

# Without a collector the hook is an ordinary process start: the notebook
# runs the same and nothing more arrives.
kill -TERM "$cpid"; wait "$cpid" 2>/dev/null; cpid=
before=$(wc -l <"$tmp/api.log")
run_nb hw1 lab.ipynb >"$tmp/lab2.out" 2>"$tmp/lab2.err" || { cat "$tmp/lab2.err"; fail "the notebook did not run without a collector"; }
cmp -s "$tmp/lab.out" "$tmp/lab2.out" || { cat "$tmp/lab2.out"; fail "outputs differ without a collector"; }
grep -qiE 'jcw|traceback.*hook' "$tmp/lab2.err" && { cat "$tmp/lab2.err"; fail "the hook printed something"; }
sleep 1
[ "$(wc -l <"$tmp/api.log")" = "$before" ] || fail "requests arrived with no collector running"
echo "NOTE with the collector stopped the notebook ran to the same outputs and nothing was sent"
