#!/usr/bin/env python3
"""The arithmetic of tests/bench/run.sh, one subcommand per figure kind.

  calc.py bpfsnap ID...            one JSON object {name: [run_time_ns, run_cnt]}
                                   of these BPF programs (bpftool prog show -j)
  calc.py bpfcost S0 S1 S2 NU NT   per-program mean run time: untracked from
                                   S0->S1 (NU untracked execs), tracked from
                                   S1->S2 (NT tracked execs); prints TSV lines
                                   "name untracked_ns tracked_ns runs_u runs_t bg"
  calc.py ratios FILE [COL]        FILE: "pair phase cond seconds..." lines,
                                   COL (default 4) the column compared;
                                   prints "cond median_pct min_pct max_pct pairs
                                   fastest_pct" (fastest on vs fastest off)
  calc.py sum FILE...              execloop JSON lines: "execs seconds rate failed"
  calc.py get FILE KEY...          values of (nested, dotted) keys of one JSON
                                   object, one per line ("n/a" when missing)
  calc.py median N...              the median of the numbers
  calc.py agesplit M0 M1           two scrapes of the forwarder's /metrics:
                                   jcw_event_age_seconds between them, per
                                   stage; prints total_ms= (mean exit to API)
                                   and note= (means and bucket p99 per stage)
"""
import json
import statistics
import subprocess
import sys


def bpfsnap(ids):
    progs = json.loads(subprocess.run(["bpftool", "prog", "show", "-j"], check=True,
                                      capture_output=True, text=True).stdout)
    want = {int(i) for i in ids}
    out = {}
    for p in progs:
        if p.get("id") in want:
            out[p["name"]] = [p.get("run_time_ns", 0), p.get("run_cnt", 0)]
    print(json.dumps(out))


def bpfcost(s0, s1, s2, nu, nt):
    """The tracked interval also holds the machine's background execs
    (untracked, other users): their count is the runs beyond the NT we
    made, and their cost is taken out at the untracked mean."""
    a, b, c = (json.load(open(f)) for f in (s0, s1, s2))
    nu, nt = int(nu), int(nt)
    for name in sorted(c):
        if name not in a or name not in b:
            continue
        du_t, du_n = b[name][0] - a[name][0], b[name][1] - a[name][1]
        dt_t, dt_n = c[name][0] - b[name][0], c[name][1] - b[name][1]
        if du_n <= 0 or dt_n <= 0:
            continue
        u_mean = du_t / du_n
        bg = max(0, dt_n - nt)
        t_mean = (dt_t - bg * u_mean) / (dt_n - bg) if dt_n > bg else dt_t / dt_n
        print("%s\t%.0f\t%.0f\t%d\t%d\t%d" % (name, u_mean, t_mean, du_n, dt_n, bg))


def ratios(path, col=4):
    """Slowdown of 'on' against 'off' within each pair, per condition."""
    runs = {}
    for line in open(path):
        f = line.split()
        pair, phase, cond = f[:3]
        runs.setdefault(cond, {}).setdefault(pair, {})[phase] = float(f[col - 1])
    for cond in sorted(runs):
        both = [r for r in runs[cond].values() if "on" in r and "off" in r and r["off"] > 0]
        pct = [(r["on"] / r["off"] - 1) * 100 for r in both]
        if pct:
            # also the fastest run of each state against each other: on a
            # loaded machine the minimum is the run least disturbed
            fast = (min(r["on"] for r in both) / min(r["off"] for r in both) - 1) * 100
            print("%s\t%.2f\t%.2f\t%.2f\t%d\t%.2f" % (cond, statistics.median(pct), min(pct),
                                                     max(pct), len(pct), fast))


def total(paths):
    execs = failed = 0
    secs = 0.0
    for p in paths:
        for line in open(p):
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                execs += r["execs"]
                failed += r["failed"]
                secs = max(secs, r["seconds"])
    print("%d\t%.3f\t%.0f\t%d" % (execs, secs, execs / secs if secs else 0, failed))


def get(path, keys):
    try:
        obj = json.load(open(path))
    except (OSError, ValueError):
        obj = {}
    for k in keys:
        v = obj
        for part in k.split("."):
            v = v.get(part) if isinstance(v, dict) else None
        print("n/a" if v is None else v)


def age_hist(path):
    """{stage: {"sum": s, "count": n, "le": {bound: cumulative}}}"""
    out = {}
    for line in open(path):
        if not line.startswith("jcw_event_age_seconds"):
            continue
        name, value = line.rsplit(None, 1)
        stage = name.split('stage="', 1)[1].split('"', 1)[0]
        h = out.setdefault(stage, {"sum": 0.0, "count": 0.0, "le": {}})
        if name.startswith("jcw_event_age_seconds_sum"):
            h["sum"] = float(value)
        elif name.startswith("jcw_event_age_seconds_count"):
            h["count"] = float(value)
        elif name.startswith("jcw_event_age_seconds_bucket"):
            le = name.split('le="', 1)[1].split('"', 1)[0]
            h["le"][float("inf") if le == "+Inf" else float(le)] = float(value)
    return out


def agesplit(m0, m1):
    a, b = age_hist(m0), age_hist(m1)
    stats = {}
    for stage in ("received", "delivered"):
        h0 = a.get(stage, {"sum": 0.0, "count": 0.0, "le": {}})
        h1 = b.get(stage)
        if not h1 or h1["count"] - h0["count"] <= 0:
            sys.exit(f"agesplit: no {stage} logs between the scrapes")
        n = h1["count"] - h0["count"]
        mean = (h1["sum"] - h0["sum"]) / n * 1e3
        p99 = next(le for le in sorted(h1["le"]) if h1["le"][le] - h0["le"].get(le, 0) >= 0.99 * n)
        stats[stage] = (mean, p99 * 1e3, n)
    r, d = stats["received"], stats["delivered"]
    print(f"total_ms={d[0]:.2f}")
    print(f"note=mean {d[0]:.2f} ms from exit to the API's answer: {r[0]:.2f} ms to reach the forwarder "
          f"(kernel, ring buffer, the collector's drain, socket), {d[0] - r[0]:.2f} ms in the forwarder "
          f"(join, outbox commit, HTTP); p99 <= {r[1]:g} ms received, <= {d[1]:g} ms delivered "
          f"(histogram buckets); {d[2]:.0f} logs")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "bpfsnap":
        bpfsnap(args)
    elif cmd == "bpfcost":
        bpfcost(*args)
    elif cmd == "ratios":
        ratios(args[0], int(args[1]) if len(args) > 1 else 4)
    elif cmd == "sum":
        total(args)
    elif cmd == "get":
        get(args[0], args[1:])
    elif cmd == "agesplit":
        agesplit(*args)
    elif cmd == "median":
        print(statistics.median(float(x) for x in args))
    else:
        sys.exit("calc.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
