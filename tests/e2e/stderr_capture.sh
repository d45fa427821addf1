#!/usr/bin/env bash
# End to end, as root, with the real BPF programs and real compilers: a
# student in a jcode- namespace builds and runs things that fail, the
# collector records, the forwarder replays the capture with --print, and
# each log must carry what went wrong (docs/api.md "Standard error"):
#   - gcc: a syntax error, a -Wall warning only, an undefined reference
#     (the linker's, written by ld, a helper of gcc), colours forced on,
#     two files with an error each; g++ and clang syntax errors;
#   - runs: Python raising in a function of a second student file, an
#     assert() that aborts, an -fsanitize=address overflow, a program that
#     writes 200 KiB to stderr before its traceback (head, tail, total), one
#     writing binary garbage, one whose stderr pipe is closed (EPIPE), one
#     writing a gigabyte; a compile of 200 files with an error each (the
#     build's budget);
#   - stdout is never captured; helpers (cc1, as, ld) have no log of their
#     own; CAPTURE_STDERR=builds keeps the build's fields only;
#   - the raw syscall fallback (--file-hooks raw) captures the same.
# Skips (77) only when not root or when the machine cannot run BPF.
set -u
source "$(dirname "$0")/../lib.sh"
COLLECTOR=$BUILD/jcw-collector
FWD=$BUILD/jcw-forwarder
HOST=jcode-os-1-202012345

need_root "needs root to load BPF programs"
need_bins "$COLLECTOR" "$FWD"
need_cmds gcc g++ clang unshare /usr/bin/python3

make_tmp jcw-e2e-stderr
cpid=
kill_on_exit cpid

mkdir -p "$tmp/proj/hw1" "$tmp/proj/hw2"
cd "$tmp/proj/hw1"
printf 'int main(void) { return }\n' >syntax.c
printf 'int main(void) { int unused; return 0; }\n' >warn.c
printf 'void missing_fn(void);\nint main(void) { missing_fn(); return 0; }\n' >undef.c
printf 'int main(void) { return }\n' >color.c
printf 'int f(void) { return x; }\n' >two_a.c
printf 'int g(void) { return y; }\nint main(void) { return 0; }\n' >two_b.c
printf 'int main() { return }\n' >cxx.cpp
printf 'int main(void) { return }\n' >clang.c
cat >assert.c <<'EOF'
#include <assert.h>
int main(void) { int n = 1; assert(n == 2); return 0; }
EOF
cat >asan.c <<'EOF'
#include <stdlib.h>
int main(void) { int *a = malloc(4 * sizeof(int)); a[5] = 1; int r = a[0]; free(a); return r; }
EOF
cat >helper.py <<'EOF'
def parse(s):
    return int(s)
EOF
cat >main.py <<'EOF'
import helper
print("STDOUT-MARKER never captured")
helper.parse("twelve")
EOF
cat >noisy.py <<'EOF'
import sys
for i in range(5000):
    sys.stderr.write("noise line %05d ........................\n" % i)
def fail():
    raise RuntimeError("after the noise")
fail()
EOF
cat >garbage.py <<'EOF'
import os
os.write(2, bytes(range(256)) * 4 + b"\x1b[31mred\x1b[0m \xff\xfe end\n")
raise SystemExit(3)
EOF
cat >gigabyte.py <<'EOF'
import os
block = b"x" * (1 << 20)
for _ in range(1024):
    os.write(2, block)
raise ValueError("after a gigabyte")
EOF
mkdir many
for i in $(seq -w 1 200); do printf 'int f%s(void) { return undeclared_%s; }\n' "$i" "$i" >many/m$i.c; done
cat >epipe.py <<'EOF'
import sys, time
time.sleep(0.2)
sys.stderr.write("to a closed pipe\n" * 100)
sys.stderr.flush()
EOF
cd - >/dev/null

collector_start --no-socket --record "$tmp/cap" --flush-interval 5ms --heartbeat-interval 1s \
	--pin-path= --log-level info || exit 1

student_sh 180 "$HOST" "$tmp/proj" '
	cd hw1
	gcc syntax.c -o syntax
	gcc -Wall warn.c -o warn
	gcc undef.c -o undef
	gcc -fdiagnostics-color=always color.c -o color
	gcc two_a.c two_b.c -o two
	g++ cxx.cpp -o cxx
	clang clang.c -o clangout
	gcc assert.c -o assert_prog && ./assert_prog
	gcc -fsanitize=address -g asan.c -o asan_prog && ./asan_prog
	python3 main.py
	python3 noisy.py
	python3 garbage.py
	python3 epipe.py 2>&1 | true
	python3 gigabyte.py 2>/dev/null
	gcc -c many/*.c 2>/dev/null
	true' </dev/null >"$tmp/student.log" 2>&1
sleep 0.3
kill -INT "$cpid"
wait "$cpid" || { cat "$tmp/collector.log"; echo "collector failed"; exit 1; }
cpid=

# The raw fallback (no tracefs): the same hook through raw_tp/sys_enter.
collector_start --no-socket --record "$tmp/raw.cap" --flush-interval 5ms --file-hooks raw \
	--pin-path= --log-level info || exit 1
grep -q 'raw syscalls' "$tmp/collector.log" || { cat "$tmp/collector.log"; echo "not on raw hooks"; exit 1; }
student_sh 60 "$HOST" "$tmp/proj" 'cd hw1 && gcc syntax.c -o syntax' </dev/null >/dev/null 2>&1
sleep 0.3
kill -INT "$cpid"
wait "$cpid" || { cat "$tmp/collector.log"; echo "collector failed"; exit 1; }
cpid=
"$FWD" --replay "$tmp/raw.cap" --print --metrics-port 0 --snapshots=false --allow-root \
	>"$tmp/raw.jsonl" 2>"$tmp/fwd.err" || { cat "$tmp/fwd.err"; exit 1; }
grep -q '"first_error":{"file":"syntax.c"' "$tmp/raw.jsonl" ||
	{ cat "$tmp/raw.jsonl"; echo "raw hooks: the build's error is missing"; exit 1; }

run_fwd() {
	"$FWD" --replay "$tmp/cap" --print --metrics-port 0 --snapshots=false --allow-root "$@" 2>"$tmp/fwd.err"
}
run_fwd >"$tmp/all.jsonl" || { cat "$tmp/fwd.err"; echo "replay failed"; exit 1; }
CAPTURE_STDERR=builds run_fwd >"$tmp/builds.jsonl" || { cat "$tmp/fwd.err"; exit 1; }
CAPTURE_STDERR=off run_fwd >"$tmp/off.jsonl" || { cat "$tmp/fwd.err"; exit 1; }

/usr/bin/python3 - "$tmp" <<'PYEOF'
import json, sys
tmp = sys.argv[1]
fails = []
def check(ok, what):
    if not ok:
        fails.append(what)

def load(name):
    out = []
    for line in open(f"{tmp}/{name}", encoding="utf-8"):
        out.append(json.loads(line))   # every line must be JSON
    return out

logs = load("all.jsonl")
# 10 builds (the 7 compiler cases, assert.c, asan.c, the 200 files) and 7
# runs: nothing else, nothing twice (clang's -cc1, a helper).
check(len(logs) == 17, f"17 logs, found {len(logs)}: {[r['body']['cmdline'][:40] for r in logs]}")
def find(kind, target_end, cmd_has=None):
    m = [r["body"] for r in logs if r["path"].endswith("/logs/" + kind)
         and r["body"]["target_path"].endswith(target_end)
         and (cmd_has is None or cmd_has in r["body"]["cmdline"])]
    check(len(m) == 1, f"one {kind} log of {target_end} {cmd_has or ''} (found {len(m)})")
    return m[0] if m else {}

b = find("build", "/syntax.c")
fe = b.get("first_error") or {}
check(b.get("errors") == 1 and b.get("warnings") == 0, f"syntax: 1 error, 0 warnings: {b.get('errors')}, {b.get('warnings')}")
check(fe.get("file") == "syntax.c" and fe.get("path") == "/home/coder/project/hw1/syntax.c",
      f"syntax: first_error file and path: {fe}")
check(fe.get("line") == 1 and fe.get("column") == 25 and "expected expression" in fe.get("message", ""),
      f"syntax: line 1, column 25, message: {fe}")
check("syntax.c:1:25: error:" in b.get("diagnostics", ""), "syntax: diagnostics has the line")
check(b.get("diagnostics_truncated") is False, "syntax: not truncated")

b = find("build", "/warn.c")
check(b.get("exit_code") == 0 and b.get("errors") == 0 and b.get("warnings") == 1 and b.get("first_error") is None,
      f"warn: exit 0, 0 errors, 1 warning, no first_error: {b.get('errors')} {b.get('warnings')}")
check("-Wunused-variable" in b.get("diagnostics", ""), "warn: the warning's flag")

b = find("build", "/undef.c")
fe = b.get("first_error") or {}
check(b.get("undefined_references") == 1 and b.get("errors") >= 1,
      f"undef: 1 undefined reference (from ld, a helper of gcc): {b.get('undefined_references')}, {b.get('diagnostics')!r}")
check("missing_fn" in fe.get("message", ""), f"undef: first_error names the symbol: {fe}")

b = find("build", "/color.c")
check("\x1b" not in b.get("diagnostics", "x") and b.get("errors") == 1, "color: no escape codes, 1 error")

b = find("build", "/two_a.c")
fe = b.get("first_error") or {}
check(b.get("errors") == 2 and fe.get("file") == "two_a.c", f"two files: 2 errors, first in two_a.c: {b.get('errors')}, {fe}")
check("two_b.c:" in b.get("diagnostics", ""), "two files: the second file's error")

b = find("build", "/cxx.cpp")
check(b.get("errors") == 2 and (b.get("first_error") or {}).get("file") == "cxx.cpp", f"g++: its 2 errors, the first in cxx.cpp: {b.get('errors')} {b.get('diagnostics')!r}")
b = find("build", "/clang.c")
check(b.get("errors") == 1 and (b.get("first_error") or {}).get("line") == 1, f"clang: 1 error at line 1: {b.get('first_error')}")

r = find("run", "/assert_prog")
ex = r.get("exception") or {}
check(r.get("signal") == "SIGABRT" and ex.get("kind") == "assert", f"assert: SIGABRT and an assert report: {ex}")
check(ex.get("file") == "assert.c" and ex.get("line") == 2, f"assert: at assert.c:2: {ex}")

r = find("run", "/asan_prog")
ex = r.get("exception") or {}
check(ex.get("kind") == "asan" and ex.get("type") == "heap-buffer-overflow", f"asan: heap-buffer-overflow: {ex}")

r = find("run", "/main.py")
ex = r.get("exception") or {}
check(ex.get("kind") == "python" and ex.get("type") == "ValueError" and "twelve" in ex.get("message", ""),
      f"python: ValueError: {ex}")
check(ex.get("file") == "helper.py" and ex.get("line") == 2 and ex.get("path") == "/home/coder/project/hw1/helper.py",
      f"python: raised in helper.py line 2: {ex}")
check(r.get("exit_code") == 1, "python: exit 1")

r = find("run", "/noisy.py")
ex = r.get("exception") or {}
check(r.get("stderr_bytes", 0) > 200000 and r.get("stderr_truncated") is True, f"noisy: total and truncated: {r.get('stderr_bytes')}")
check(r.get("stderr_head", "").startswith("noise line 00000") and len(r["stderr_head"]) <= 2048, "noisy: head from the start, <= 2 KiB")
check(r.get("stderr_tail", "").rstrip().endswith("RuntimeError: after the noise") and len(r["stderr_tail"]) <= 2048,
      "noisy: tail ends with the exception, <= 2 KiB")
check(ex.get("type") == "RuntimeError" and ex.get("file") == "noisy.py" and ex.get("line") == 5, f"noisy: exception found at its end: {ex}")

r = find("run", "/garbage.py")
check(r.get("exit_code") == 3 and "end" in r.get("stderr_head", "") and "\x1b" not in r.get("stderr_head", "x")
      and "\ufffd" in r.get("stderr_head", ""), "garbage: valid text, colour codes gone, bad bytes replaced")

r = find("run", "/epipe.py")
check(r.get("stderr_bytes", 0) >= 1700 and r.get("stderr_head", "").startswith("to a closed pipe"),
      f"epipe: what it tried to write is counted: {r.get('stderr_bytes')}")

r = find("run", "/gigabyte.py")
ex = r.get("exception") or {}
check((1 << 30) < r.get("stderr_bytes", 0) < (1 << 30) + 1024 and ex.get("type") == "ValueError" and ex.get("line") == 5,
      f"a gigabyte and its traceback: counted, the exception found at the end: {r.get('stderr_bytes')} {ex}")
check(len(r.get("stderr_head", "")) <= 2048 and len(r.get("stderr_tail", "")) <= 2048, "a gigabyte: 2 KiB each")

b = find("build", "/many/m001.c")
check(len(b.get("diagnostics", "")) <= 8192 and b.get("diagnostics_truncated") is True,
      f"200 files: diagnostics within DIAG_MAX_BYTES, truncated: {len(b.get('diagnostics', ''))}")
check(b.get("errors", 0) >= 20 and (b.get("first_error") or {}).get("file") == "many/m001.c",
      f"200 files: errors counted from what was kept, the first in many/m001.c: {b.get('errors')} {b.get('first_error')}")

check(all("STDOUT-MARKER" not in json.dumps(r) for r in logs), "stdout never captured")
helpers = [r for r in logs if r["body"].get("binary_path", "").rsplit("/", 1)[-1] in ("cc1", "cc1plus", "as", "ld", "collect2")
           or " -cc1" in r["body"].get("cmdline", "")]
check(not helpers, f"helpers have no log of their own: {[h['body']['binary_path'] for h in helpers]}")

for r in load("builds.jsonl"):
    b = r["body"]
    if r["path"].endswith("/logs/run"):
        check("stderr_head" not in b and "exception" not in b, "builds: no stderr in run logs")
    else:
        check("diagnostics" in b, "builds: build logs keep their diagnostics")
for r in load("off.jsonl"):
    check("diagnostics" not in r["body"] and "stderr_head" not in r["body"], "off: no stderr fields")

# The Analytics API's models (docs/api.md): pydantic BaseModels of the
# contract's fields, which ignore the fields they do not know. Every body,
# with every extension, must validate as the service would take it.
from datetime import datetime
import pydantic
class BuildLog(pydantic.BaseModel):
    binary_path: str
    cmdline: str
    exit_code: int
    cwd: str
    target_path: str
    timestamp: datetime
class RunLog(pydantic.BaseModel):
    cmdline: str
    exit_code: int
    cwd: str
    target_path: str
    process_type: str
    timestamp: datetime
accepted = 0
for r in logs + load("builds.jsonl"):
    model = BuildLog if r["path"].endswith("/logs/build") else RunLog
    try:
        model.parse_obj(r["body"])
        accepted += 1
    except pydantic.ValidationError as e:
        check(False, f"the API's model refuses {r['path']}: {e}")

print(f"FIGURE stderr_capture: {len(logs)} logs checked, {accepted} bodies accepted by the API's pydantic models")
if fails:
    print("FAIL:\n  " + "\n  ".join(fails))
    sys.exit(1)
PYEOF
