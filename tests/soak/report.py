#!/usr/bin/env python3
"""The judge and the report of the soak (tests/soak/run.sh; docs/soak.md).

  report.py --api-log F --truth DIR --samples F --faults F --start T --end T
            --students N --flooder ID --sample-secs S --out DIR [--commit C]
            [--p99-ms 50] [--grace 40] [--rss-floor KIB_PER_H] [--cpu-max SHARE]

Checks, each a failure when broken:
  1 every student's ground truth (DIR/<id>: save, build, run, cell lines
    written by tests/soak/student.sh) is at the API exactly once: every
    compile, run and cell as one event with the exit status the shell saw,
    every save as one registration with the content's SHA-256; nothing
    arrives that no student did (the flooder is only counted);
  2 a resend of one event (same Idempotency-Key, committed again: a request
    in flight at a kill) happens only around a fault, at most 16 per
    forwarder kill and API restart (two windows of API_MAX_INFLIGHT, 8);
  3 nothing grows in the second half of the run (GROWTH, below);
  4 each student's exit-to-API p99 (first arrival of the event minus the
    exit time in its body) is under --p99-ms for exits outside the fault
    windows (a fault's start to --grace seconds after its end: the retry
    delay, API_RETRY_MAX 30 s, plus 10 s to drain); one that exited inside
    a window arrives at most 2 s after that window (its end plus --grace);
  5 the monitor's CPU (BPF + collector + forwarder) over the second half
    stays under CPU_SHARE_MAX of one core;
  6 no forwarder saw a sequence gap (a frame the collector lost), and the
    flood was felt: the flooder's runs over the per-student limit were
    counted (else the flood proved nothing).
Writes DIR/report.md and DIR/soak.svg (gnuplot); prints FIGURE lines.
Exit 0, or 1 with one FAIL line per broken check.
"""

import argparse
import datetime
import json
import math
import os
import subprocess
import sys
from collections import defaultdict

# Growth allowed over the second half, per series: the least-squares slope
# must stay under the floor (per hour) or be within 3 standard errors of
# zero (noise, not growth). Floors and why:
#   RSS 1 MiB/h: one allocator arena step (132 KiB) or SQLite's page cache
#     settling is noise; a leak of one 64-byte object per event at this
#     class's ~15 events/s is 3.3 MiB/h, so it fails.
#   fds, map entries, tables, outbox rows: 0. They mirror a stationary
#     workload; any trend that is not noise is a leak.
#   SQLite memory 1 MiB/h, as RSS: its page cache (512 KiB at most) fills
#     as the outbox's rows pass through it, in steps at each API fault.
MIB = 1024
GROWTH = [  # (label, sample key path, floor per hour, unit shown)
    ("collector RSS", ("collector", "rss_kb"), 1 * MIB, "KiB"),
    ("forwarder RSS", ("forwarder", "rss_kb"), 1 * MIB, "KiB"),
    ("collector fds", ("collector", "fds"), 0, ""),
    ("forwarder fds", ("forwarder", "fds"), 0, ""),
    ("tracked map entries", ("tracked",), 0, ""),
    ("budgets map entries", ("budgets",), 0, ""),
    ("join entries", ("jcw_join_entries",), 0, ""),
    ("stderr processes", ("jcw_stderr_processes",), 0, ""),
    ("input lanes", ("jcw_input_lanes",), 0, ""),
    ("outbox rows", ("jcw_outbox_rows",), 0, ""),
    ("delivery queue", ("jcw_api_queue_depth",), 0, ""),
    ("snapshots waiting", ("jcw_snapshot_pending_files",), 0, ""),
    ("table memory", ("jcw_table_memory_bytes",), 0, "B"),
    ("SQLite memory", ("sqlite_memory_bytes",), 1024 * 1024, "B"),
]
# A node runs the monitor beside hundreds of students; 5 % of one core is
# what a class of this size may cost it (docs/soak.md).
CPU_SHARE_MAX = 0.05
INFLIGHT = 8


def ts(s):
    return datetime.datetime.fromisoformat(s).timestamp()


def read_truth(d, flooder):
    truth = {}
    for name in sorted(os.listdir(d)):
        if name.endswith(".out") or name == flooder:
            continue
        want = defaultdict(list)
        for line in open(os.path.join(d, name), encoding="utf-8"):
            f = line.rstrip("\n").split(" ")
            if f[0] == "save":
                want[("save", f[1], f[2])].append(None)
            elif f[0] in ("build", "run"):
                want[(f[0], " ".join(f[1:-1]))].append(int(f[-1]))
            elif f[0] == "cell":
                want[("cell", f[1], int(f[2]))].append(int(f[3]))
        truth[name] = want
    return truth


def read_api(path):
    """events[student][event key] = dict(key, first arrival, commits, body)"""
    events = defaultdict(dict)
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        parts = r["path"].split("/")   # /api/{class}/{hw}/{student}/...
        if len(parts) < 6 or parts[1] != "api":
            continue
        body = r.get("json") or {}
        if parts[5] == "logs":
            kind = parts[6]
            if body.get("cell") is not None:
                key = ("cell", body.get("target_path"), body.get("cell"))
            else:
                key = (kind, body.get("cmdline"))
        else:
            key = ("save", parts[3] + "/" + parts[5], body.get("sha256"))
        eid = r.get("idempotency_key") or body.get("event_id")
        e = events[parts[4]].setdefault(eid, {"key": key, "first": r["time"], "commits": 0,
                                             "body": body, "commit_times": []})
        e["first"] = min(e["first"], r["time"])
        if r.get("committed"):
            e["commits"] += 1
            e["commit_times"].append(r["time"])
    return events


def account(truth, events, fails):
    lost = doubled = unexpected = wrong = 0
    examples = []
    for st, want in truth.items():
        got = defaultdict(list)
        for eid, e in events.get(st, {}).items():
            if e["commits"]:
                got[e["key"]].append(e)
        for key, exits in want.items():
            have = got.pop(key, [])
            if len(have) < len(exits):
                lost += len(exits) - len(have)
                examples.append(f"{st} lost {key}")
            elif len(have) > len(exits):
                doubled += len(have) - len(exits)
                examples.append(f"{st} doubled {key}")
            for x, e in zip(sorted(x for x in exits if x is not None), sorted(
                    e["body"].get("exit_code") for e in have if e["body"].get("exit_code") is not None)):
                if x != e:
                    wrong += 1
                    examples.append(f"{st} {key}: exit {e}, the shell saw {x}")
        for key, es in got.items():
            unexpected += len(es)
            examples.append(f"{st} unexpected {key}")
    for what, n in (("lost", lost), ("doubled", doubled), ("unexpected", unexpected),
                    ("with a wrong exit status", wrong)):
        if n:
            fails.append(f"{n} event(s) {what}, e.g. {[x for x in examples if what.split()[0] in x][:3]}")
    return lost, doubled, unexpected, wrong


def pctl(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, math.ceil(q * len(xs)) - 1))] if xs else float("nan")


def slope(pts):
    """Least-squares slope (per second) and its standard error."""
    n = len(pts)
    if n < 3:
        return 0.0, float("inf")
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    if sxx == 0:
        return 0.0, float("inf")
    b = sum((x - mx) * (y - my) for x, y in pts) / sxx
    res = sum((y - my - b * (x - mx)) ** 2 for x, y in pts)
    return b, math.sqrt(res / (n - 2) / sxx)


def get(s, path):
    for k in path:
        s = s.get(k) if isinstance(s, dict) else None
    return s


def main():
    p = argparse.ArgumentParser()
    for a in ("--api-log", "--truth", "--samples", "--faults", "--flooder", "--out"):
        p.add_argument(a, required=True)
    p.add_argument("--start", type=float, required=True)
    p.add_argument("--end", type=float, required=True)
    p.add_argument("--students", type=int, required=True)
    p.add_argument("--sample-secs", type=float, required=True)
    p.add_argument("--commit", default="unknown")
    p.add_argument("--p99-ms", type=float, default=50.0)
    p.add_argument("--grace", type=float, default=40.0)
    p.add_argument("--rss-floor", type=float, default=None, help="KiB/h (GROWTH's otherwise)")
    p.add_argument("--cpu-max", type=float, default=CPU_SHARE_MAX)
    a = p.parse_args()
    fails = []
    T = a.end - a.start

    truth = read_truth(a.truth, a.flooder)
    events = read_api(a.api_log)
    want_n = sum(len(v) for w in truth.values() for v in w.values())
    lost, doubled, unexpected, wrong = account(truth, events, fails)

    faults = []
    for line in open(a.faults):
        k, s, e = line.split("\t")
        faults.append((k, float(s), float(e)))
    kills = sum(1 for k, _, _ in faults if k in ("forwarder_kill9", "api_restart"))

    def window_end(t):
        """The end (grace included) of the last fault window holding t, or None."""
        ends = [e + a.grace for _, s, e in faults if s - 1 <= t <= e + a.grace]
        return max(ends) if ends else None

    def in_fault(t):
        return window_end(t) is not None

    resends = 0
    outside_resends = 0
    lat_out = defaultdict(list)
    lat_in = []
    overdue = []   # (seconds after its window, event key) of events that exited in one
    rows = []      # every judged event, for latency.tsv
    per_interval = defaultdict(list)
    delivered_times = []
    for st, evs in events.items():
        for e in evs.values():
            if not e["commits"]:
                continue
            delivered_times.append(min(e["commit_times"]))
            if e["commits"] > 1:
                resends += e["commits"] - 1
                if not any(in_fault(t) for t in e["commit_times"]):
                    outside_resends += 1
            if st == a.flooder or e["key"][0] == "save" or "timestamp" not in e["body"]:
                continue
            exit_t = ts(e["body"]["timestamp"])
            lat = e["first"] - exit_t
            per_interval[int((exit_t - a.start) // a.sample_secs)].append(lat)
            end = window_end(exit_t)
            rows.append((exit_t - a.start, st, e["key"][0], lat, end is not None))
            if end is not None:
                lat_in.append(lat)
                if e["first"] > end + 2.0:
                    overdue.append((e["first"] - end, e["key"]))
            else:
                lat_out[st].append(lat)
    if resends > 16 * kills:
        fails.append(f"{resends} resends, more than 16 per forwarder kill or API restart ({kills})")
    if outside_resends:
        fails.append(f"{outside_resends} event(s) resent away from any fault")
    judged = [x for v in lat_out.values() for x in v]
    worst = max(lat_out.items(), key=lambda kv: pctl(kv[1], 0.99), default=(None, []))
    worst_p99 = pctl(worst[1], 0.99) * 1000 if worst[0] else float("nan")
    if not judged:
        fails.append("no event outside the fault windows to judge the latency by")
    elif worst_p99 > a.p99_ms:
        fails.append(f"student {worst[0]}'s exit-to-API p99 is {worst_p99:.1f} ms outside the faults "
                     f"(bound {a.p99_ms:g} ms)")
    if overdue:
        late, key = max(overdue)
        fails.append(f"{len(overdue)} event(s) that exited in a fault window arrived more than 2 s "
                     f"after it (its end plus {a.grace:g} s), the latest {late:.1f} s after: {key}")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "latency.tsv"), "w") as f:
        f.write("# exit_s student kind latency_ms in_fault\n")
        for r in sorted(rows):
            f.write(f"{r[0]:.3f}\t{r[1]}\t{r[2]}\t{r[3] * 1000:.2f}\t{int(r[4])}\n")

    samples = [json.loads(l) for l in open(a.samples) if l.strip()]
    gaps = max((s["jcw_sequence_gaps_total"] or 0 for s in samples), default=0)
    limited = max((s["jcw_ratelimited_events_total"] or 0 for s in samples), default=0)
    if gaps:
        fails.append(f"{gaps:.0f} sequence gap(s): frames the collector lost")
    if not limited:
        fails.append("the flood was not felt: no run over the per-student limit was counted")
    half = [s for s in samples if T / 2 <= s["t"] <= T + a.sample_secs]
    growth = []
    for label, path, floor, unit in GROWTH:
        if unit == "KiB" and a.rss_floor is not None:
            floor = a.rss_floor
        pts = [(s["t"], get(s, path)) for s in half if get(s, path) is not None]
        b, se = slope(pts)
        per_h = b * 3600
        grows = per_h > floor and b > 3 * se
        first = pts[0][1] if pts else None
        last = pts[-1][1] if pts else None
        growth.append((label, first, last, per_h, se * 3600, floor, unit, grows))
        if len(pts) < 3:
            fails.append(f"{label}: fewer than 3 samples in the second half")
        elif grows:
            fails.append(f"{label} grows in the second half: {per_h:+.1f} {unit}/h "
                         f"(floor {floor} {unit}/h, ± {se * 3600:.1f})")

    # CPU of the second half, each daemon's cumulative figure per pid.
    def cpu_between(s0, s1, key):
        if key == "bpf":
            return (s1["bpf_ns"] - s0["bpf_ns"]) / 1e9 if None not in (s0["bpf_ns"], s1["bpf_ns"]) else None
        a0, a1 = s0[key], s1[key]
        if None in (a0["cpu_s"], a1["cpu_s"]) or a0["pid"] != a1["pid"]:
            return None
        return a1["cpu_s"] - a0["cpu_s"]
    cpu = {}
    if len(half) >= 2:
        for k in ("bpf", "collector", "forwarder"):
            cpu[k] = cpu_between(half[0], half[-1], k)
        span = half[-1]["t"] - half[0]["t"]
        n_ev = sum(1 for t in delivered_times
                   if a.start + half[0]["t"] <= t <= a.start + half[-1]["t"])
    if not cpu or None in cpu.values() or span <= 0:
        fails.append("no CPU figure for the second half")
        share = per_event = float("nan")
    else:
        total = sum(cpu.values())
        share = total / span
        per_event = total / n_ev * 1e6 if n_ev else float("nan")
        if share > a.cpu_max:
            fails.append(f"the monitor used {share * 100:.2f} % of a core in the second half "
                         f"(bound {a.cpu_max * 100:g} %)")

    figures = [
        f"FIGURE soak: {a.students} students, {T / 60:.0f} min: {want_n} expected events, "
        f"lost {lost}, doubled {doubled}, unexpected {unexpected}, wrong exit {wrong}, "
        f"resends {resends} ({kills} kills/restarts)",
        f"FIGURE soak latency: {len(judged)} events outside faults, p50 {pctl(judged, 0.5) * 1000:.1f} ms, "
        f"p99 {pctl(judged, 0.99) * 1000:.1f} ms, worst student p99 {worst_p99:.1f} ms; "
        f"inside faults max {max(lat_in, default=0):.1f} s",
        f"FIGURE soak cost: second half {share * 100:.3f} % of a core "
        f"(BPF {cpu.get('bpf') or 0:.1f} s, collector {cpu.get('collector') or 0:.1f} s, "
        f"forwarder {cpu.get('forwarder') or 0:.1f} s), {per_event:.0f} us per delivered event",
    ]
    for f_ in figures:
        print(f_)
    write_report(a, T, samples, per_interval, growth, faults, figures, fails)
    for f_ in fails:
        print("FAIL:", f_)
    return 1 if fails else 0


def write_report(a, T, samples, per_interval, growth, faults, figures, fails):
    os.makedirs(a.out, exist_ok=True)
    prev = {}
    rows = []
    for s in samples:
        i = int(s["t"] // a.sample_secs) - 1
        lats = per_interval.get(i, [])
        row = [s["t"] / 60]
        for k in ("collector", "forwarder"):
            row += [(s[k]["rss_kb"] or 0) / 1024, s[k]["fds"] or 0]
        row += [s["tracked"] or 0, s["budgets"] or 0, s["jcw_join_entries"] or 0,
                s["jcw_stderr_processes"] or 0, s["jcw_input_lanes"] or 0, s["jcw_outbox_rows"] or 0,
                pctl(lats, 0.99) * 1000 if lats else float("nan")]
        dt = s["t"] - prev["t"] if prev else 0
        for k in ("collector", "forwarder"):
            c0, c1 = (prev.get(k) or {}), s[k]
            ok = dt > 0 and c0.get("pid") == c1["pid"] and None not in (c0.get("cpu_s"), c1["cpu_s"])
            row.append((c1["cpu_s"] - c0["cpu_s"]) / dt * 100 if ok else float("nan"))
        ok = dt > 0 and None not in (prev.get("bpf_ns"), s["bpf_ns"])
        row.append((s["bpf_ns"] - prev["bpf_ns"]) / 1e9 / dt * 100 if ok else float("nan"))
        rows.append(row)
        prev = s
    tsv = os.path.join(a.out, "samples.tsv")
    with open(tsv, "w") as f:
        f.write("# min col_rss_mib col_fds fwd_rss_mib fwd_fds tracked budgets join stderr lanes "
                "outbox p99_ms col_cpu_pct fwd_cpu_pct bpf_cpu_pct\n")
        for r in rows:
            f.write("\t".join("nan" if isinstance(x, float) and math.isnan(x) else f"{x:.4g}" for x in r) + "\n")
    err = plot(a, tsv, faults)
    if err:
        fails.append(err)
    with open(os.path.join(a.out, "report.md"), "w") as f:
        f.write(f"# Soak: {a.students} students, {T / 60:.0f} minutes\n\n")
        f.write(f"Commit {a.commit}, machine {os.uname().nodename} ({os.uname().release}, "
                f"{os.cpu_count()} CPUs), {datetime.datetime.fromtimestamp(a.start):%Y-%m-%d %H:%M} "
                f"local time. Result: **{'PASS' if not fails else 'FAIL'}**.\n\n")
        for fig in figures:
            f.write(f"- {fig[len('FIGURE '):]}\n")
        f.write("\n## Faults (seconds after the start)\n\n| fault | from | to |\n|---|---|---|\n")
        for k, s, e in faults:
            f.write(f"| {k} | {s - a.start:.0f} | {e - a.start:.0f} |\n")
        f.write("\n## Growth in the second half\n\n| series | first | last | slope per hour | ± | floor | grows |\n"
                "|---|---|---|---|---|---|---|\n")
        for label, first, last, per_h, se, floor, unit, grows in growth:
            f.write(f"| {label} | {first} | {last} | {per_h:+.1f} {unit} | {se:.1f} | {floor} {unit} | "
                    f"{'**yes**' if grows else 'no'} |\n")
        if fails:
            f.write("\n## Failures\n\n" + "".join(f"- {x}\n" for x in fails))


def plot(a, tsv, faults):
    svg = os.path.join(a.out, "soak.svg")
    marks = "".join(f"set arrow from {(s - a.start) / 60:.2f}, graph 0 to {(s - a.start) / 60:.2f}, graph 1 "
                    f"nohead dt 3 lc rgb 'gray'\n" for _, s, _ in faults)
    gp = f"""set terminal svg size 900,1100 dynamic font 'sans,10'
set output '{svg}'
set datafile missing 'nan'
set multiplot layout 5,1 title 'jcw soak: {a.students} students (dotted lines: scheduled faults)'
set xlabel 'minutes'
set key outside right
{marks}
set ylabel 'MiB'; plot '{tsv}' u 1:2 w l t 'collector RSS', '' u 1:4 w l t 'forwarder RSS'
set ylabel 'fds'; plot '{tsv}' u 1:3 w l t 'collector fds', '' u 1:5 w l t 'forwarder fds'
set ylabel 'entries'; plot '{tsv}' u 1:6 w l t 'tracked map', '' u 1:7 w l t 'budgets map', '' u 1:8 w l t 'join', '' u 1:9 w l t 'stderr', '' u 1:10 w l t 'lanes', '' u 1:11 w l t 'outbox rows'
set ylabel 'ms'; set logscale y; plot '{tsv}' u 1:12 w lp pt 7 ps 0.3 t 'exit-to-API p99'
unset logscale y
set ylabel '% of a core'; plot '{tsv}' u 1:13 w l t 'collector', '' u 1:14 w l t 'forwarder', '' u 1:15 w l t 'BPF'
unset multiplot
"""
    r = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True)
    return f"gnuplot: {r.stderr.strip()[-300:]}" if r.returncode != 0 else None


if __name__ == "__main__":
    sys.exit(main())
