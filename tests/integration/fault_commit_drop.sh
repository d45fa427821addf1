#!/usr/bin/env bash
# Issue 4, test 7: the API stores a request and then drops the connection
# before answering (5 times). The forwarder cannot know it was stored: it
# retries, and the retry carries the same Idempotency-Key (= event_id), so
# the API can recognise it. Every event arrives; the only duplicates are
# exactly the dropped answers.
source "$(dirname "$0")/../tools/faultlib.sh"

n=200 drops=5
start_api --commit-then-drop "$drops"
start_fwd
start_fake --events "$n" --rate 0 --students 4 --timeout 30
wait_fake
wait_for 30 metric_is jcw_outbox_rows 0
stop_fwd
judge --boot "$(fake_field boot)" --events "$n" --label "commit then drop x$drops" --max-dups "$drops"
python3 - "$tmp/api.log" "$drops" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
dropped = [r for r in reqs if r["response"] == "drop" and r["committed"]]
assert len(dropped) == int(sys.argv[2]), f"{len(dropped)} commit-then-drop answers"
for d in dropped:
    again = [r for r in reqs if r["seq"] > d["seq"] and r["idempotency_key"] == d["idempotency_key"]
             and r["response"] == 200]
    assert again, f"{d['idempotency_key']} was not retried with the same Idempotency-Key"
    assert again[0]["body"] == d["body"], "the retry's body differs"
print(f"FIGURE commit then drop: {len(dropped)} stored-but-unanswered requests retried with the same key and body")
PY
