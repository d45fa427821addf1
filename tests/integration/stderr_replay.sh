#!/usr/bin/env bash
# Standard error through the forwarder, from a made-up capture (no root):
#   - a gcc build whose helpers write: cc1 an error, ld (under collect2)
#     an undefined reference, gcc its own summary: one build log with all of
#     it in order, and no log for a helper;
#   - a run that wrote past the kernel's head: its tail piece gives the end
#     (the exception) and the total;
#   - a shell's text (no reported owner) dropped; a piece lost on the way
#     (a hole) still gives valid fields; a re-exec starts the text again;
#   - the metrics count each text's fate; CAPTURE_STDERR=off adds nothing.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
use_forwarder
make_tmp

cat >"$tmp/s.spec" <<'EOF'
hello boot=err-boot node=node-1 first_seq=1
defaults host=jcode-os-1-202012345 uid=1000 ppid=50 cwd=/home/coder/project/hw1
exec tgid=300 exe=/usr/bin/bash argv=bash
stderr tgid=300 data="coder@jcode:~$ "
exec tgid=201 ppid=300 exe=/usr/bin/gcc argv=gcc argv=main.c argv=util.c
exec tgid=202 ppid=201 exe=/usr/lib/gcc/x86_64-linux-gnu/12/cc1 argv=cc1 argv=main.c
stderr tgid=202 data="main.c: In function 'main':\n"
stderr tgid=202 data="main.c:3:9: error: 'y' undeclared (first use in this function)\n"
exit tgid=202 code=1
exec tgid=204 ppid=201 exe=/usr/lib/gcc/x86_64-linux-gnu/12/collect2 argv=collect2
exec tgid=205 ppid=204 exe=/usr/bin/x86_64-linux-gnu-ld.bfd argv=ld
stderr tgid=205 data="/usr/bin/ld: /tmp/cc.o: in function `main':\nutil.c:(.text+0x5): undefined reference to `sqrt'\n"
exit tgid=205 code=1
exit tgid=204 code=1
stderr tgid=201 data="collect2: error: ld returned 1 exit status\n"
exit tgid=201 code=1
exec tgid=301 ppid=300 exe=/usr/bin/python3.11 argv=python3 argv=loop.py
stderr tgid=301 data="first line of noise\n"
stderr tgid=301 tail=1 total=100000 data="  File \"/home/coder/project/hw1/loop.py\", line 9, in <module>\nIndexError: list index out of range\n"
exit tgid=301 code=1
exec tgid=302 ppid=300 exe=/home/coder/project/hw1/a.out argv=./a.out
stderr tgid=302 data="part one "
stderr tgid=302 offset=500 data="after a hole\n"
exit tgid=302 code=2
exec tgid=303 ppid=300 start=303000 exe=/usr/bin/python3.11 argv=python3 argv=wrap.py
stderr tgid=303 data="from the wrapper\n"
exec tgid=303 ppid=300 start=303000 exe=/home/coder/project/hw1/prog argv=./prog
stderr tgid=303 offset=0 data="from prog\n"
exit tgid=303 code=0
exit tgid=300 code=0
EOF
"$MK" -o "$tmp/s.cap" "$tmp/s.spec"

replay_metrics "$tmp/s.cap" 4 || exit 1

CAPTURE_STDERR=off "$FWD" --replay "$tmp/s.cap" --print --metrics-port 0 --snapshots=false \
	>"$tmp/off.jsonl" 2>"$tmp/off.err"

python3 - "$tmp" <<'PYEOF'
import json, sys
d = sys.argv[1]
out = [json.loads(l) for l in open(d + "/out.jsonl")]
fails = []
def check(ok, what):
    if not ok:
        fails.append(what)
by = {r["body"]["cmdline"]: r["body"] for r in out}
check(sorted(by) == ["./a.out", "./prog", "gcc main.c util.c", "python3 loop.py"],
      f"one log each for gcc, loop.py, a.out and prog, none for helpers or bash: {sorted(by)}")

b = by.get("gcc main.c util.c", {})
check(b.get("diagnostics") == "main.c: In function 'main':\n"
      "main.c:3:9: error: 'y' undeclared (first use in this function)\n"
      "/usr/bin/ld: /tmp/cc.o: in function `main':\n"
      "util.c:(.text+0x5): undefined reference to `sqrt'\n"
      "collect2: error: ld returned 1 exit status\n", f"build: the helpers' text in order: {b.get('diagnostics')!r}")
check(b.get("errors") == 2 and b.get("undefined_references") == 1, f"build: cc1's error and ld's reference: {b.get('errors')}")
check(b.get("first_error") == {"file": "main.c", "path": "/home/coder/project/hw1/main.c", "line": 3,
                               "column": 9, "message": "'y' undeclared (first use in this function)"},
      f"build: first_error: {b.get('first_error')}")

r = by.get("python3 loop.py", {})
check(r.get("stderr_bytes") == 100000 and r.get("stderr_truncated") is True, f"run: total from the tail piece: {r.get('stderr_bytes')}")
check(r.get("stderr_head") == "first line of noise\n", f"run: head: {r.get('stderr_head')!r}")
check(r.get("stderr_tail", "").endswith("IndexError: list index out of range\n"), f"run: tail: {r.get('stderr_tail')!r}")
check(r.get("exception") == {"kind": "python", "type": "IndexError", "message": "list index out of range",
                             "file": "loop.py", "path": "/home/coder/project/hw1/loop.py", "line": 9},
      f"run: exception: {r.get('exception')}")

r = by.get("./a.out", {})
check(r.get("stderr_head") == "part one " and r.get("stderr_tail") == "after a hole\n"
      and r.get("stderr_truncated") is True and r.get("stderr_bytes") == 513, f"hole: {r}")

r = by.get("./prog", {})
check(r.get("stderr_head") == "from prog\n", f"re-exec: only the new program's text: {r.get('stderr_head')!r}")

m = {}
for line in open(d + "/metrics.txt"):
    if line.startswith("jcw_stderr"):
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
check(m.get('jcw_stderr_texts_total{fate="logged"}') == 4, f"logged 4: {m}")
check(m.get('jcw_stderr_texts_total{fate="handed"}') == 2, f"handed 2 (cc1, and ld past collect2): {m}")
check(m.get('jcw_stderr_texts_total{fate="dropped"}') == 1, f"dropped 1 (bash): {m}")
check(m.get("jcw_stderr_pieces_total") == 11, f"11 pieces: {m}")
check(m.get("jcw_stderr_processes") == 0, f"nothing left waiting: {m}")

for r in (json.loads(l) for l in open(d + "/off.jsonl")):
    check(not any(k in r["body"] for k in ("diagnostics", "stderr_head", "exception")), "off: no fields")
if fails:
    print("FAIL:\n  " + "\n  ".join(fails))
    sys.exit(1)
print("FIGURE stderr replay: 4 logs with their standard error, 2 helper texts handed to the build, 1 dropped")
PYEOF
