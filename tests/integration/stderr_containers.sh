#!/usr/bin/env bash
# A helper's standard error never crosses containers (issue 27), from a
# made-up capture (no root). A helper (not reported itself) gives its text
# to its nearest reported ancestor, found through ppid in the join table;
# pids are node-wide and reused, so a dead ancestor's pid can name another
# student's build:
#   - the grandparent case: student A's shell dies, B's gcc gets its pid,
#     A's helper (child of A's sh, child of the dead shell) ends: the pid
#     names a process started after the helper's parent, not an ancestor;
#   - the container case: a process of B with A's ancestor's pid and an
#     earlier start (as a pinned capture across a pid namespace could
#     show it): another UTS namespace and hostname, not an ancestor;
#   - the same chain within one container still reaches its build.
# B's build log must carry B's own text alone, A's text is dropped and
# counted, and A's own build gets its helper's.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
use_forwarder
make_tmp

A=jcode-os-1-202011111
B=jcode-os-1-202022222
cat >"$tmp/s.spec" <<EOF
hello boot=pidreuse-boot node=node-1 first_seq=1
defaults uid=1000 cwd=/home/coder/project/hw1
# 1. the grandparent's pid reused by B's build
exec tgid=600 ppid=1 host=$A uts=11 exe=/usr/bin/bash argv=bash
exec tgid=601 ppid=600 host=$A uts=11 exe=/usr/bin/sh argv=sh argv=build.sh
exit tgid=600 code=0
exec tgid=600 ppid=1 host=$B uts=22 exe=/usr/bin/gcc argv=gcc argv=b.c
exec tgid=602 ppid=601 host=$A uts=11 exe=/usr/lib/gcc/x86_64-linux-gnu/12/cc1 argv=cc1 argv=a.c
stderr tgid=602 data="a.c:1:1: error: text of student A\n"
exit tgid=602 code=1
stderr tgid=600 data="b.c:2:2: error: text of student B\n"
exit tgid=600 code=1
exit tgid=601 code=1
# 2. another container's process with an earlier start
exec tgid=700 ppid=1 host=$B uts=22 start=100 exe=/usr/bin/gcc argv=gcc argv=c.c
exec tgid=701 ppid=700 host=$A uts=11 start=200 exe=/usr/lib/gcc/x86_64-linux-gnu/12/cc1 argv=cc1 argv=a.c
stderr tgid=701 data="a.c:3:3: error: more text of student A\n"
exit tgid=701 start=200 code=1
stderr tgid=700 start=100 data="c.c:4:4: error: more text of student B\n"
exit tgid=700 start=100 code=1
# 3. within one container the chain reaches the build
exec tgid=800 ppid=1 host=$A uts=11 exe=/usr/bin/gcc argv=gcc argv=d.c
exec tgid=801 ppid=800 host=$A uts=11 exe=/usr/lib/gcc/x86_64-linux-gnu/12/collect2 argv=collect2
exec tgid=802 ppid=801 host=$A uts=11 exe=/usr/bin/ld argv=ld
stderr tgid=802 data="d.c:(.text+0x5): undefined reference to \`f'\n"
exit tgid=802 code=1
exit tgid=801 code=1
exit tgid=800 code=1
EOF
"$MK" -o "$tmp/s.cap" "$tmp/s.spec"

replay_metrics "$tmp/s.cap" 3 || exit 1

python3 - "$tmp" "$A" "$B" <<'PYEOF'
import json, sys
d, A, B = sys.argv[1:4]
out = [json.loads(l) for l in open(d + "/out.jsonl")]
fails = []
def check(ok, what):
    if not ok:
        fails.append(what)
by = {r["body"]["cmdline"]: r for r in out}
check(sorted(by) == ["gcc b.c", "gcc c.c", "gcc d.c"], f"the three builds, nothing else: {sorted(by)}")
for cmd, student, text in (("gcc b.c", B[-9:], "b.c:2:2: error: text of student B\n"),
                           ("gcc c.c", B[-9:], "c.c:4:4: error: more text of student B\n")):
    r = by.get(cmd, {"path": "", "body": {}})
    check(f"/{student}/logs/build" in r["path"], f"{cmd}: B's log: {r['path']}")
    check(r["body"].get("diagnostics") == text, f"{cmd}: B's own text alone: {r['body'].get('diagnostics')!r}")
    check(r["body"].get("errors") == 1, f"{cmd}: one error, B's: {r['body'].get('errors')}")
r = by.get("gcc d.c", {"path": "", "body": {}})
check(f"/{A[-9:]}/logs/build" in r["path"] and r["body"].get("undefined_references") == 1,
      f"one container: ld's text reaches A's build: {r['body'].get('diagnostics')!r}")
m = {}
for line in open(d + "/metrics.txt"):
    if line.startswith("jcw_stderr_texts_total"):
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
check(m.get('jcw_stderr_texts_total{fate="handed"}') == 1, f"handed 1 (ld, within A): {m}")
check(m.get('jcw_stderr_texts_total{fate="dropped"}', 0) >= 2, f"A's two helper texts dropped, not handed across: {m}")
if fails:
    print("FAIL:\n  " + "\n  ".join(fails))
    sys.exit(1)
print("FIGURE stderr_containers: 2 helper texts kept from another student's build under pid reuse, 1 handed within its container")
PYEOF
