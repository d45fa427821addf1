#!/usr/bin/env bash
# Issue 4, test 3: the collector/forwarder connection breaks again and again
# (fakecollector drops it about every 0.05 s while streaming 5,000 events a
# second: the forwarder acknowledges within a few ms of reading, so only
# frequent breaks at such a rate catch frames read but not yet acknowledged).
# After each reconnect the collector resends from the first unacknowledged
# frame; the forwarder drops what it already has by sequence number. Zero
# sequence gaps, every event delivered, resends seen and dropped as
# duplicates.
source "$(dirname "$0")/../tools/faultlib.sh"

n=10000
start_api
start_fwd
start_fake --events "$n" --rate 5000 --students 9 --disconnect-every 0.05 --timeout 40
wait_fake
wait_for 30 metric_is jcw_outbox_rows 0
gaps=$(metric jcw_sequence_gaps_total) resends=$(metric jcw_outbox_resends_total)
dups=$(metric jcw_outbox_duplicate_frames_total) conns=$(fake_field connects)
stop_fwd
judge --boot "$(fake_field boot)" --events "$n" --label "reconnects" --max-dups 0
[ "$gaps" = 0 ] || { echo "FAIL: $gaps sequence gaps"; exit 1; }
[ "$conns" -ge 4 ] || { echo "FAIL: only $conns connections"; exit 1; }
# Reconnects resent what was unacknowledged, and the forwarder dropped what
# it had already: at least one of each, and never more dropped than resent
# (a resent frame the broken connection had not delivered is no duplicate).
resent=$(fake_field resent)
[ "$resends" -ge 1 ] || { echo "FAIL: no connection began by resending"; exit 1; }
[ "$dups" -ge 1 ] || { echo "FAIL: no resent frame was dropped as a duplicate"; exit 1; }
[ "$dups" -le "$resent" ] || { echo "FAIL: $dups duplicates dropped, only $resent frames resent"; exit 1; }
echo "FIGURE reconnects: $conns connections, $resends resending, $dups resent frames dropped, 0 gaps (collector resent $(fake_field resent) frames)"
