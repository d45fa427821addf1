#!/usr/bin/env python3
"""One sample of the soak (tests/soak/run.sh): prints one JSON line.

  sample.py --t0 T --collector-pid P --forwarder-pid P --metrics URL --pin DIR

Fields: t (seconds since T), per daemon its pid, rss_kb (VmRSS), hwm_kb
(VmHWM), fds (open descriptors) and cpu_s (utime + stime, cumulative for
that pid); bpf_ns (run_time_ns summed over the node's tracing programs,
kernel.bpf_stats_enabled on); the kernel maps' fill (entries of the pinned
"tracked" and "budgets" maps, bpftool); and the forwarder's gauges named in
GAUGES (its /metrics; a labelled family is summed over its series). A value
that cannot be read is null, never a guess.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

# SQLite's own memory is a page cache that fills to its fixed size and
# stays there, so it is judged apart from the tables (tests/soak/report.py).
SQLITE_KEY = "sqlite_memory_bytes"
SQLITE_SERIES = 'jcw_table_memory_bytes{table="sqlite"}'
GAUGES = ["jcw_outbox_rows", "jcw_join_entries", "jcw_stderr_processes",
          "jcw_input_lanes", "jcw_api_queue_depth", "jcw_snapshot_pending_files",
          "jcw_table_memory_bytes", "jcw_sequence_gaps_total",
          "jcw_ratelimited_events_total", SQLITE_KEY]
TICK = os.sysconf("SC_CLK_TCK")


def proc(pid):
    out = {"pid": pid, "rss_kb": None, "hwm_kb": None, "fds": None, "cpu_s": None}
    if not pid:
        return out
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k == "VmRSS":
                    out["rss_kb"] = int(v.split()[0])
                elif k == "VmHWM":
                    out["hwm_kb"] = int(v.split()[0])
        out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
        with open(f"/proc/{pid}/stat") as f:
            # Fields after the parenthesised comm: utime and stime are 14, 15.
            rest = f.read().rsplit(")", 1)[1].split()
        out["cpu_s"] = (int(rest[11]) + int(rest[12])) / TICK
    except (OSError, ValueError, IndexError):
        pass
    return out


def bpftool(*args):
    try:
        r = subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True, timeout=20)
        return json.loads(r.stdout) if r.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def bpf_ns():
    progs = bpftool("prog", "show")
    if progs is None:
        return None
    # This node's tracing programs are the monitor's (systemd's are cgroup ones).
    return sum(p.get("run_time_ns", 0) for p in progs
               if p.get("type") in ("tracepoint", "tracing", "raw_tracepoint"))


def map_fill(pin, name):
    d = bpftool("map", "dump", "pinned", os.path.join(pin, name))
    return len(d) if isinstance(d, list) else None


def metrics(url):
    out = {g: None for g in GAUGES}
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return out
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series = line.rsplit(" ", 1)[0]
        name = SQLITE_KEY if series == SQLITE_SERIES else series.split("{", 1)[0]
        if name in out:
            out[name] = (out[name] or 0) + float(line.rsplit(" ", 1)[1])
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--t0", type=float, required=True)
    p.add_argument("--collector-pid", type=int, default=0)
    p.add_argument("--forwarder-pid", type=int, default=0)
    p.add_argument("--metrics", required=True)
    p.add_argument("--pin", required=True)
    a = p.parse_args()
    s = {"t": round(time.time() - a.t0, 1),
         "collector": proc(a.collector_pid), "forwarder": proc(a.forwarder_pid),
         "bpf_ns": bpf_ns(),
         "tracked": map_fill(a.pin, "tracked"), "budgets": map_fill(a.pin, "budgets")}
    s.update(metrics(a.metrics))
    json.dump(s, sys.stdout)
    print()


if __name__ == "__main__":
    main()
