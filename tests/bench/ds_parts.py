#!/usr/bin/env python3
"""Writes N events as a node's dataset parts would hold them (docs/dataset.md),
for figure 10 of make bench: DIR/parts/node-K/part-0.jsonl over 4 nodes.
A semester's mix: 40% compiles (a third with one or two diagnostics), 40%
runs (a tenth crashing, with standard error), 20% saves; 400 students of
4 sections, 20 homework directories. Snapshot files are not written (the
figure is the table's work; a missing file is an unknown code state).

Usage: ds_parts.py N DIR"""
import os
import random
import sys

n, out = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(7)
T0 = 1_790_000_000_000_000_000
files = []
for k in range(4):
    os.makedirs(f"{out}/parts/node-{k}", exist_ok=True)
    files.append(open(f"{out}/parts/node-{k}/part-0.jsonl", "w", buffering=1 << 20))
DIAG = [
    "",
    "main.c:5:9: error: 'count' undeclared (first use in this function)\\n",
    "main.c:7:1: error: expected ';' before '}' token\\nmain.c:3:6: warning: unused variable 'x' [-Wunused-variable]\\n",
]
for i in range(n):
    st = 202000000 + rnd.randrange(400)
    cd = f"os-{st % 4 + 1}"
    hw = f"hw{rnd.randrange(20)}"
    t = T0 + i * 3_000_000_000
    ts = "2026-09-21T12:00:%02d.%06d+00:00" % (i % 60, i % 1000000)
    eid = f"boot{st % 4}-{2 * i + 3}"
    r = rnd.random()
    base = f'"event_id":"{eid}","timestamp":"{ts}","cwd":"/home/coder/project/{hw}"'
    if r < 0.4:
        d = DIAG[0 if rnd.random() < 0.67 else rnd.randrange(1, 3)]
        ex = 1 if "error" in d else 0
        line = (f'{{"event_id":"{eid}","endpoint":"build","path":"/api/{cd}/{hw}/{st}/logs/build",'
                f'"time_ns":{t},"body":{{{base},"exit_code":{ex},"cmdline":"gcc -Wall main.c -o main",'
                f'"binary_path":"/usr/bin/x86_64-linux-gnu-gcc-12","target_path":"/home/coder/project/{hw}/main.c",'
                f'"duration_ms":84.125,"cpu_ms":61.2,"max_rss_kb":21344,"signal":null,"diagnostics":"{d}",'
                f'"errors":{d.count("error:")},"warnings":{d.count("warning:")}}}}}\n')
    elif r < 0.8:
        crash = rnd.random() < 0.1
        sig = '"SIGSEGV"' if crash else "null"
        head = "Segmentation fault\\n" if crash else ""
        line = (f'{{"event_id":"{eid}","endpoint":"run","path":"/api/{cd}/{hw}/{st}/logs/run",'
                f'"time_ns":{t},"body":{{{base},"exit_code":{139 if crash else 0},"cmdline":"./main",'
                f'"target_path":"/home/coder/project/{hw}/main","process_type":"binary",'
                f'"binary_path":"/home/coder/project/{hw}/main","duration_ms":3.5,"cpu_ms":1.2,'
                f'"signal":{sig},"stderr_head":"{head}","stderr_tail":"",'
                f'"stderr_bytes":{19 if crash else 0},"stderr_truncated":false}}}}\n')
    else:
        stamp = "20260921_1200%02d.%d" % (i % 60, i)
        line = (f'{{"event_id":"{eid}","endpoint":"snapshot","path":"/api/{cd}/{hw}/{st}/main.c/{stamp}",'
                f'"time_ns":{t},"body":{{"bytes":412,"event_id":"{eid}","deleted":false,'
                f'"timestamp":"{ts}","file":"main.c","snapshot":"{stamp}.c"}}}}\n')
    files[st % 4].write(line)
for f in files:
    f.close()
