#!/usr/bin/env bash
# Issue 4, test 1: the API answers 503 for 3 seconds, then recovers, under a
# steady event stream (fakecollector, 100 events/s). Every event arrives
# (the judge: apiserver's log of committed event_ids), per student in order,
# and while the API is down the forwarder backs off to its cap instead of
# hammering it: failed attempts stay few, and the first success comes within
# about one cap period of the recovery.
source "$(dirname "$0")/../tools/faultlib.sh"

outage=3 cap=0.3 n=600
start_api --fail-for "$outage"
t0=$(date +%s.%N)
start_fwd --retry-max "${cap}s"
start_fake --events "$n" --rate 100 --students 7 --timeout 40
wait_fake
wait_for 30 metric_is jcw_outbox_rows 0
retries=$(metric jcw_outbox_retries_total)
stop_fwd
judge --boot "$(fake_field boot)" --events "$n" --label "api 503 for ${outage}s"
python3 - "$tmp/api.log" "$cap" "$outage" "$retries" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
cap, outage, retries = float(sys.argv[2]), float(sys.argv[3]), int(float(sys.argv[4]))
failed = [r for r in reqs if r["response"] == 503]
ok = [r for r in reqs if r["response"] == 200]
assert failed, "the outage produced no failed attempts"
# The circuit opens after 5 failures; then one probe per cap period (plus
# the attempts already in flight): far fewer than one per event.
budget = 5 + 8 + outage / cap * 2
assert len(failed) <= budget, f"{len(failed)} failed attempts during a {outage}s outage (budget {budget:.0f})"
gap = min(r["time"] for r in ok) - max(r["time"] for r in failed)
assert gap <= cap + 0.5, f"first success {gap:.2f}s after the last failure (cap {cap}s)"
# Every failed attempt is retried, and nothing else is: the retries the
# forwarder counts are the 503s the API gave (less those still in flight
# when an answer came, API_MAX_INFLIGHT 8).
assert len(failed) - 8 <= retries <= len(failed), \
    f"jcw_outbox_retries_total {retries} for {len(failed)} failed attempts"
print(f"FIGURE api outage: {len(failed)} failed attempts in {outage}s, first success {gap:.2f}s after the last 503 (cap {cap}s); jcw_outbox_retries_total {retries}")
PY
