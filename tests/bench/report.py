#!/usr/bin/env python3
"""Turns the figures collected by tests/bench/run.sh into the table it
prints (Markdown, ready for docs/performance.md) and results.json.

Usage: report.py RESULTS.tsv OUT.json SCALE

RESULTS.tsv: one figure per line, tab-separated:
  id, figure number, what, value ("n/a" when not measured), unit, target,
  method, note
The JSON holds the machine (cpu model, cores, kernel, date, load average at
the start), the scale of the run and every figure keyed by id:
  {"value": 123.4 | null, "unit", "target", "method", "note"}
so two runs can be compared key by key, plus "bound" ({"op", "limit"},
read from a target that starts with a comparison: "< 5 us/event",
">= 30k events/s", "0") and "missed" (true when the value is outside its
bound, null without a bound or a value). The table marks each missed
target, and the last line counts them. Nothing fails on a miss: a
benchmark reports.
"""
import re
import datetime
import json
import os
import platform
import sys


def machine():
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "os": platform.platform(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "load_avg_start": os.environ.get("BENCH_LOAD_START", ""),
        "load_avg_end": " ".join("%.2f" % x for x in os.getloadavg()),
    }


def num(s):
    try:
        v = float(s)
    except ValueError:
        return None
    return int(v) if v.is_integer() and abs(v) < 1e15 else v


BOUND = re.compile(r"^\s*(<=|>=|<|>|=)?\s*([0-9]+(?:\.[0-9]+)?)\s*([kM]?)(?:\s|$)")


def bound(target):
    """The machine-readable bound of a target, or None ("near 0", free text)."""
    m = BOUND.match(target or "")
    if not m:
        return None
    op, limit, mult = m.group(1) or "=", float(m.group(2)), m.group(3)
    limit *= {"": 1, "k": 1e3, "M": 1e6}[mult]
    return {"op": op, "limit": limit}


def missed(v, b):
    if v is None or b is None:
        return None
    op, lim = b["op"], b["limit"]
    ok = {"<": v < lim, "<=": v <= lim, ">": v > lim, ">=": v >= lim, "=": v == lim}[op]
    return not ok


def fmt(v, unit):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        v = round(v, 2 if abs(v) < 10 else 1 if abs(v) < 1000 else 0)
        if float(v).is_integer():
            v = int(v)
    return "%s %s" % ("{:,}".format(v), unit) if unit else "{:,}".format(v)


def main():
    tsv, out, scale = sys.argv[1], sys.argv[2], sys.argv[3]
    figs = {}
    rows = []
    for line in open(tsv, encoding="utf-8"):
        parts = line.rstrip("\n").split("\t")
        if len(parts) < 7:
            continue
        fid, fno, what, value, unit, target, method = parts[:7]
        note = parts[7] if len(parts) > 7 else ""
        v = num(value)
        b = bound(target)
        miss = missed(v, b)
        figs[fid] = {"figure": int(fno), "what": what, "value": v, "unit": unit,
                     "target": target, "bound": b, "missed": miss, "method": method,
                     "note": note}
        rows.append((fno, what, fmt(v, unit) + (" **missed**" if miss else ""), target, note))
    m = machine()
    doc = {"machine": m, "scale": scale, "version": os.environ.get("BENCH_VERSION", ""),
           "figures": figs}
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("JCode Watcher benchmarks (%s run), %s" % (scale, m["date"]))
    print("machine: %s, %s cores, kernel %s, load average %s at the start" % (
        m["cpu_model"], m["cores"], m["kernel"], m["load_avg_start"] or "?"))
    print()
    print("| fig | what | value | target | notes |")
    print("|---|---|---|---|---|")
    rows.sort(key=lambda r: int(r[0]))  # stable: each figure's rows in run order
    for fno, what, val, target, note in rows:
        print("| %s | %s | %s | %s | %s |" % (fno, what, val, target or "", note.replace("|", "/")))
    print()
    judged = [k for k, f in figs.items() if f["missed"] is not None]
    miss = sorted(k for k in judged if figs[k]["missed"])
    print("targets: %d with a bound measured, %d missed%s" % (
        len(judged), len(miss), (": " + ", ".join(miss)) if miss else ""))
    print("figures as JSON: %s" % out)


if __name__ == "__main__":
    main()
