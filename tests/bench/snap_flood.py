#!/usr/bin/env python3
"""What a student's flood costs the forwarder, with and without the limits
that refuse it.

Saves: one student saves N distinct files in one homework directory within
N/1000 seconds (as a Python loop can), replayed (--replay --print) with the
default snapshot budget (forwarder/snapshot/snap_budget.h) and with it off.
Runs: the same student runs a program N times in N/1000 seconds, replayed
with the default per-student event limit (delivery/ratelimit.h) and with it
off. For each run: the forwarder's CPU time per save or run (user + system,
from getrusage of the child, start-up included), the wall time, and what
came out.

Usage: snap_flood.py FORWARDER MKCAPTURE N TMPDIR
Prints "FIGURE name: value unit ..." lines.
"""
import os
import resource
import shutil
import subprocess
import sys
import time


def run(fwd, cap, codes, snaps, extra):
    """CPU s, wall s, snapshot files written, lines printed."""
    shutil.rmtree(snaps, ignore_errors=True)
    os.makedirs(snaps)
    env = dict(os.environ, ALLOW_ROOT="true", HEALTH_FILE="")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    out = subprocess.run([fwd, "--replay", cap, "--print", "--metrics-port", "0",
                          "--watch-root", codes, "--snapshot-base", snaps] + extra,
                         env=env, capture_output=True, check=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stored = sum(len(f) for _, _, f in os.walk(snaps))
    return cpu, wall, stored, out.stdout.count(b"\n")


def main():
    fwd, mk, n, tmp = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    codes = os.path.join(tmp, "codes")
    hw = os.path.join(codes, "os-1-202012345", "hw1")
    os.makedirs(hw, exist_ok=True)
    spec = os.path.join(tmp, "flood.spec")
    with open(spec, "w") as f:
        f.write("hello boot=flood node=n first_seq=1\ndefaults host=jcode-os-1-202012345\n")
        for i in range(n):
            with open(os.path.join(hw, f"f{i}.c"), "w") as src:
                src.write(f"int f{i};\n")
            f.write(f"file kind=close_write path=/home/coder/project/hw1/f{i}.c "
                    f"time={1700000000 + i // 1000}.{i % 1000:03d} tgid=11\n")
    cap = os.path.join(tmp, "flood.cap")
    subprocess.run([mk, "-o", cap, spec], check=True)
    snaps = os.path.join(tmp, "snaps")
    for name, extra in (("with the budget", []),
                        ("without the budget", ["--snapshot-student-files", "0",
                                                "--snapshot-student-bytes", "0"])):
        cpu, wall, stored, regs = run(fwd, cap, codes, snaps, extra)
        print(f"FIGURE flood of {n} saves, {name}: {cpu / n * 1e6:.1f} us CPU per save, "
              f"{wall:.2f} s wall, {stored} snapshots written, {regs} registrations")

    spec = os.path.join(tmp, "runs.spec")
    with open(spec, "w") as f:
        f.write("hello boot=runs node=n first_seq=1\ndefaults host=jcode-os-1-202012345 "
                "cwd=/home/coder/project/hw1\n")
        for i in range(n):
            t = f"{1700000000 + i // 1000}.{i % 1000:03d}"
            f.write(f"exec tgid={1000 + i % 3000} exe=/home/coder/project/hw1/a.out argv=./a.out "
                    f"time={t}\nexit tgid={1000 + i % 3000} code=0 time={t}\n")
    cap = os.path.join(tmp, "runs.cap")
    subprocess.run([mk, "-o", cap, spec], check=True)
    for name, extra in (("with the limit", []), ("without the limit", ["--student-rate", "0"])):
        cpu, wall, _, sent = run(fwd, cap, codes, snaps, extra + ["--snapshots=false"])
        print(f"FIGURE flood of {n} runs, {name}: {cpu / n * 1e6:.1f} us CPU per run, "
              f"{wall:.2f} s wall, {sent} sent, {n - sent} refused")


main()
