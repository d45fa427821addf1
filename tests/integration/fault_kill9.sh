#!/usr/bin/env bash
# Issue 4, test 2: kill -9 the forwarder at random moments, many times,
# while events flow, and for part of the run while the API is down too.
# The collector (fakecollector: the real outq/link code) keeps every frame
# until acknowledged and resends after each reconnect; the forwarder acks
# only what its outbox made durable. After the last restart every event
# the collector produced arrives; duplicates are only events that were in
# flight at a kill, and every request carries its event_id as the key.
source "$(dirname "$0")/../tools/faultlib.sh"

n=1500 rounds=${ROUNDS:-10}
start_api
start_fake --events "$n" --rate 150 --students 6 --timeout 50
rnd() { python3 -c "import random; print(round(random.uniform($1, $2), 2))"; }
for i in $(seq "$rounds"); do
	# Rounds 4-6: the API is down as well.
	[ "$i" = 4 ] && api_stop
	[ "$i" = 7 ] && start_api
	start_fwd
	sleep "$(rnd 0.2 1.0)"
	stop_fwd KILL
	sleep "$(rnd 0 0.3)"
done
start_fwd
wait_fake
wait_for 30 metric_is jcw_outbox_rows 0
stop_fwd
# A kill can only undo what no commit made durable: the requests in flight
# (API_MAX_INFLIGHT, 8) and the events of the batch on the disk and the one
# being staged, answered or not (their frames come again): two commit
# intervals at 150 events/s, each delivered twice with its own key.
commit_ms=$("$FWD" --help | sed -n 's/^ *--commit-interval .*(default: \([0-9]*\)ms)$/\1/p')
[ -n "$commit_ms" ] || { echo "FAIL: no --commit-interval default in ms in $FWD --help"; exit 1; }
per_kill=$((8 + 150 * 2 * commit_ms / 1000 + 1))
judge --boot "$(fake_field boot)" --events "$n" --label "kill -9 x$rounds" --max-dups $((rounds * per_kill))
connects=$(fake_field connects) resent=$(fake_field resent)
echo "FIGURE kill -9: $rounds kills, collector connections $connects, frames resent $resent, quarantined $(ls "$state/quarantine" 2>/dev/null | wc -l) file(s)"
[ ! -d "$state/quarantine" ] || { echo "FAIL: a kill -9 damaged the outbox"; exit 1; }
# The kills were felt: the collector reconnected and sent again what the
# killed forwarder had not acknowledged (else the test proved nothing).
[ "$connects" -ge 2 ] || { echo "FAIL: $connects connection(s): no kill reached the collector"; exit 1; }
[ "$resent" -ge 1 ] || { echo "FAIL: no frame was resent after $rounds kills"; exit 1; }
