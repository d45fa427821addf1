#!/usr/bin/env python3
"""The judge of the fault tests: reads apiserver.py's request log and checks
that a fakecollector stream arrived whole.

  judge.py --log FILE --boot ID --events N [--label NAME] [--exclude ID,...]
           [--subset] [--no-order] [--max-dups N]

Expected events are {boot}-{2i+1} for i = 1..N (fakecollector's numbering).
Checks, each a failure when broken:
  - every expected event was committed by the server at least once
    ("nothing lost": every sequence number from the first to the last),
    except those in --exclude (e.g. a poison event); with --subset only
    the events that arrived must be expected ones (a salvaged outbox);
  - nothing else arrived;
  - every request carried an Idempotency-Key equal to its body's event_id,
    so a repeated request is recognisable as the same event;
  - per student, events were first committed in sequence order
    (unless --no-order);
  - at most --max-dups events were committed more than once (default: any).
Prints one FIGURE line: events sent, delivered (unique), duplicated,
requests, time to drain (first request to last commit). Exit 0 or 1.
"""

import argparse
import json
import sys
from collections import defaultdict


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--log", required=True)
    p.add_argument("--boot", required=True)
    p.add_argument("--events", type=int, required=True)
    p.add_argument("--label", default="judge")
    p.add_argument("--exclude", default="")
    p.add_argument("--subset", action="store_true")
    p.add_argument("--no-order", action="store_true")
    p.add_argument("--max-dups", type=int, default=None)
    a = p.parse_args()

    reqs = []
    with open(a.log, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                reqs.append(json.loads(line))
    excluded = {x for x in a.exclude.split(",") if x}
    expected = {f"{a.boot}-{2 * i + 1}" for i in range(1, a.events + 1)} - excluded
    fails = []

    commits = defaultdict(int)
    first_commit = {}
    student_of = {}
    bad_keys = 0
    for idx, r in enumerate(reqs):
        body = r.get("json") or {}
        eid = body.get("event_id")
        if r.get("idempotency_key") != eid or eid is None:
            bad_keys += 1
        if r.get("committed"):
            commits[eid] += 1
            if eid not in first_commit:
                # Line order is arrival order (the server's seq restarts
                # with the server).
                first_commit[eid] = (r["time"], idx)
                # /api/{class}/{hw}/{student}/logs/...: the student is segment 4.
                parts = r["path"].split("/")
                student_of[eid] = (parts[2], parts[4]) if len(parts) > 4 else None

    got = set(commits)
    missing = sorted(expected - got, key=lambda e: int(e.rsplit("-", 1)[1]))
    unexpected = sorted(got - expected - excluded)
    dups = {e: n for e, n in commits.items() if n > 1}
    if a.subset:
        if not got:
            fails.append("nothing arrived")
    elif missing:
        fails.append(f"{len(missing)} event(s) never arrived, e.g. {missing[:5]}")
    if unexpected:
        fails.append(f"{len(unexpected)} unexpected event(s), e.g. {unexpected[:5]}")
    if bad_keys:
        fails.append(f"{bad_keys} request(s) whose Idempotency-Key is not their event_id")
    if a.max_dups is not None and len(dups) > a.max_dups:
        fails.append(f"{len(dups)} event(s) committed more than once (at most {a.max_dups})")
    if not a.no_order:
        by_student = defaultdict(list)
        for e, (t, s) in first_commit.items():
            by_student[student_of.get(e)].append((s, int(e.rsplit("-", 1)[1]), e))
        for st, evs in by_student.items():
            evs.sort()
            seqs = [n for _, n, _ in evs]
            if seqs != sorted(seqs):
                bad = next(i for i in range(1, len(seqs)) if seqs[i] < seqs[i - 1])
                fails.append(f"student {st}: event seq {seqs[bad]} committed after "
                             f"{seqs[bad - 1]}")
                break

    times = [r["time"] for r in reqs]
    commit_times = [t for t, _ in first_commit.values()]
    drain = (max(commit_times) - min(times)) if commit_times else 0.0
    print(f"FIGURE {a.label}: events sent {a.events}, delivered {len(got & expected)}, "
          f"duplicated {len(dups)} ({sum(dups.values()) - len(dups)} extra), "
          f"requests {len(reqs)}, time to drain {drain:.2f} s")
    for f_ in fails:
        print("FAIL:", f_)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
