#!/usr/bin/env python3
"""What contrib/jupyter/99-jcw-cell.py adds to every notebook cell.

Loads the hook as IPython would (a startup file executed with get_ipython()
defined), with a stand-in for the kernel's event registry, then times
pre_run_cell + post_run_cell for N successful and N failed cells: the
process start and reap of the marker is the whole cost. No ipykernel is
needed: the hook touches nothing of IPython but events.register, user_ns
and the ExecutionResult fields it reads.

Usage: notebook_hook.py HOOK N   prints "FIGURE name: value us ..." lines.
"""
import statistics
import sys
import time


class Events:
    def __init__(self):
        self.cb = {}

    def register(self, name, fn):
        self.cb[name] = fn


class Shell:
    def __init__(self):
        self.events = Events()
        self.user_ns = {}


class Info:
    silent = False


class Result:
    def __init__(self, count, err):
        self.execution_count = count
        self.info = Info()
        self.error_before_exec = None
        self.error_in_exec = err
        self.success = err is None


def main():
    hook, n = sys.argv[1], int(sys.argv[2])
    shell = Shell()
    code = compile(open(hook).read(), hook, "exec")
    exec(code, {"get_ipython": lambda: shell, "__name__": "__main__"})
    pre, post = shell.events.cb["pre_run_cell"], shell.events.cb["post_run_cell"]
    for label, err in (("ok", None), ("error", ZeroDivisionError("division by zero"))):
        times = []
        for i in range(n):
            res = Result(i + 1, err)
            t0 = time.perf_counter_ns()
            pre(None)
            post(res)
            times.append((time.perf_counter_ns() - t0) / 1000)
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"FIGURE hook per {label} cell: {statistics.median(times):.0f} us median, "
              f"p99 {p99:.0f} us, {n} cells")


main()
