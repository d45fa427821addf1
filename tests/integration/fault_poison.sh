#!/usr/bin/env bash
# Issue 4, test 6: one poison event (the API answers 422) among good ones.
# It goes to the outbox's dead_letter table with the status and the API's
# answer, is counted (jcw_outbox_dead_letters_total), and never blocks the
# rest: every other event arrives, including the same student's later ones.
source "$(dirname "$0")/../tools/faultlib.sh"

n=300 poison=17
start_api --reject-marker poison-marker
start_fwd
start_fake --events "$n" --rate 0 --students 3 --poison "$poison" --timeout 30
wait_fake
boot=$(fake_field boot)
wait_for 30 metric_is jcw_outbox_rows 0
wait_for 10 metric_is jcw_outbox_dead_letters_total 1
metric_is jcw_outbox_dead_letter_rows 1
metric_is 'jcw_outbox_deliveries_total{outcome="rejected"}' 1
stop_fwd
judge --boot "$boot" --events "$n" --exclude "$boot-$((2 * poison + 1))" --label "poison 422"
python3 - "$state/outbox.db" "$boot-$((2 * poison + 1))" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
rows = db.execute("SELECT event_id, status, response, body FROM dead_letter").fetchall()
assert len(rows) == 1, rows
eid, status, resp, body = rows[0]
assert eid == sys.argv[2] and status == 422, (eid, status)
assert "value is not a valid integer" in resp, resp
assert b"poison-marker" in bytes(body), "the dead letter keeps the body"
assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
print(f"FIGURE poison: {eid} in dead_letter with HTTP {status} and the API's answer; the other events delivered")
PY
