#!/usr/bin/env python3
"""Writes a mkcapture spec (tests/tools/mkcapture.c) of N mixed events for
the forwarder benchmarks: one event is one process, an Exec frame and, eight
processes later, its Exit frame (so the join table always holds a few).

The mix, per 20 events, is a class at work: 8 compiles in a homework dir
(gcc with several sources, g++ failing, clang), 5 runs of the student's
binary, 3 python scripts, 1 binary killed by SIGSEGV, 1 compile outside any
homework dir and 1 `ls` (both filtered), 1 process on a jcode- host that is
no student (not a target): 17 of 20 become API requests. 100 students
(two sections), hw1..hw5, argv of realistic length.

Usage: mixspec.py N [SEED] > spec
"""
import random
import sys

INFLIGHT = 8
TGIDS = 64  # mkcapture remembers the last exec per tgid; a small pool is fast

W = "/home/coder/project"


def kinds():
    k = ["build"] * 6 + ["build_fail", "build_clang"] + ["run"] * 5 + ["python"] * 3
    return k + ["segv", "filtered_gcc", "filtered_ls", "nontarget"]


def exec_line(kind, ev, rnd):
    """(exec fields, exit fields) of one event."""
    student = 202012000 + ev % 100
    host = "jcode-os-%d-%d" % (1 + (ev // 100) % 2, student)
    hw = "%s/hw%d" % (W, 1 + (ev // 7) % 5)
    code, extra = 0, ""
    if kind == "build":
        f = "exe=/usr/bin/x86_64-linux-gnu-gcc-12 cwd=%s argv=gcc argv=-Wall argv=-O2 " \
            "argv=-g argv=-o argv=main argv=main.c argv=util.c argv=list.c" % hw
    elif kind == "build_fail":
        f = "exe=/usr/bin/x86_64-linux-gnu-g++-12 cwd=%s argv=g++ argv=-std=c++17 " \
            "argv=-o argv=app argv=src/app.cpp" % hw
        code = 1
    elif kind == "build_clang":
        f = "exe=/usr/lib/llvm-14/bin/clang cwd=%s argv=clang argv=-o argv=prog argv=prog.c" % hw
    elif kind == "run":
        f = "exe=%s/main cwd=%s argv=./main argv=input%d.txt" % (hw, hw, rnd.randrange(10))
        code = rnd.choice([0, 0, 0, 1])
    elif kind == "python":
        f = "exe=/usr/bin/python3.11 cwd=%s argv=python3 argv=-u argv=solve.py " \
            "argv=--n argv=%d" % (hw, rnd.randrange(1000))
    elif kind == "segv":
        f = "exe=%s/crash cwd=%s argv=./crash" % (hw, hw)
        extra = " signal=11 core=1"
    elif kind == "filtered_gcc":
        f = "exe=/usr/bin/gcc-12 cwd=/tmp argv=gcc argv=scratch.c"
    elif kind == "filtered_ls":
        f = "exe=/usr/bin/ls cwd=%s argv=ls argv=--color=auto" % hw
    else:
        host = "jcode-proxy-system"
        f = "exe=/usr/bin/bash cwd=/ argv=bash argv=-c argv=true"
    return "host=%s %s" % (host, f), ("code=%d" % code if not extra else extra.strip())


def main():
    n = int(sys.argv[1])
    rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
    mix = kinds()
    out = sys.stdout
    out.write("hello boot=bench-boot node=bench-node first_seq=1\n")
    out.write("defaults uid=1000 ppid=50\n")
    pending = []
    for ev in range(n):
        tgid = 1000 + ev % TGIDS
        fields, exit_fields = exec_line(mix[ev % len(mix)], ev, rnd)
        out.write("exec tgid=%d time=+0.001 %s\n" % (tgid, fields))
        pending.append((tgid, exit_fields))
        if len(pending) > INFLIGHT:
            t, x = pending.pop(0)
            out.write("exit tgid=%d time=+0.001 %s\n" % (t, x))
    for t, x in pending:
        out.write("exit tgid=%d time=+0.001 %s\n" % (t, x))


if __name__ == "__main__":
    main()
