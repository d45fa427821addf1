#!/usr/bin/env bash
# kill -9 of a forwarder that is behind: the collector (fakecollector, as
# fast as its queue takes frames, 40 students) keeps the forwarder's
# containers' lanes (input/fairq.h) full, and the forwarder is killed
# mid-stream again and again. Frames read into a lane but not processed
# were never acknowledged, so the next forwarder gets them again: after the
# last restart every event the collector produced arrives. Asserts that the
# lanes were in use (jcw_input_lane_frames seen above 0 at a scrape), no
# event lost, duplicates only within what a kill can undo, and an
# undamaged outbox.
source "$(dirname "$0")/../tools/faultlib.sh"

n=30000 rounds=${ROUNDS:-5}
start_api
start_fake --events "$n" --rate 0 --students 40 --timeout 120
lanes_seen=0
lanes_used() {
	local v
	v=$(metric jcw_input_lane_frames)
	[ -n "$v" ] && [ "${v%.*}" -gt 0 ] && lanes_seen=$v
}
for i in $(seq "$rounds"); do
	start_fwd
	# A kill while frames wait in the lanes (or after 2 s if none did).
	for _ in $(seq 40); do lanes_used && break; sleep 0.05; done
	stop_fwd KILL
	sleep 0.1
done
start_fwd
wait_fake
wait_for 60 metric_is jcw_outbox_rows 0
stop_fwd
[ "$lanes_seen" != 0 ] || { echo "FAIL: the lanes were never in use (the forwarder never fell behind)"; exit 1; }
# Every forwarder was connected to, and the frames read ahead that a kill
# undid came again.
[ "$(fake_field connects)" -ge $((rounds + 1)) ] || { echo "FAIL: $(fake_field connects) connections for $((rounds + 1)) forwarders"; exit 1; }
[ "$(fake_field resent)" -gt 0 ] || { echo "FAIL: nothing was resent after $rounds kills with full lanes"; exit 1; }
# A kill undoes at most the requests in flight (8) and the deletions of one
# group commit (512 writes).
judge --boot "$(fake_field boot)" --events "$n" --label "kill -9 behind x$rounds" --max-dups $((rounds * (8 + 512)))
echo "FIGURE lanes and kill -9: $rounds kills with up to $lanes_seen frames waiting in the lanes, collector connections $(fake_field connects), frames resent $(fake_field resent)"
[ ! -d "$state/quarantine" ] || { echo "FAIL: a kill -9 damaged the outbox"; exit 1; }
