#!/usr/bin/env bash
# Issue 4, test 5: the outbox on a 1 MiB tmpfs fills up (the API is down,
# so nothing leaves). Group commits fail with SQLITE_FULL: the forwarder
# stops acknowledging (jcw_outbox_acked_seq stands still), counts it
# (jcw_outbox_disk_full_total rises, jcw_outbox_disk_full is 1), stops
# reading, and the collector keeps its frames. Then space returns (remount
# at 256 MiB) and the API comes back: every event arrives.
source "$(dirname "$0")/../tools/faultlib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "fault_enospc: needs root to mount a tmpfs"
	exit 77
fi
mkdir -p "$state"
if ! mount -t tmpfs -o size=1m,mode=0700 jcw-enospc "$state" 2>"$tmp/mount.err"; then
	echo "fault_enospc: cannot mount a tmpfs here: $(cat "$tmp/mount.err")"
	exit 77
fi
extra_cleanup='umount -l '"$state"

n=2500
start_fwd --outbox-max-bytes 1g
start_fake --events "$n" --rate 0 --students 5 --pad 1500 --timeout 50
wait_for 30 metric_ge jcw_outbox_disk_full_total 1
metric_is jcw_outbox_disk_full 1
acked=$(metric jcw_outbox_acked_seq)
sleep 1
[ "$(metric jcw_outbox_acked_seq)" = "$acked" ] || { echo "FAIL: acknowledgements went on with a full disk"; exit 1; }
full=$(metric jcw_outbox_disk_full_total)
stored=$(metric jcw_outbox_rows)
df -k "$state" | tail -1
# Space returns, and the API.
mount -o remount,size=256m "$state"
start_api
wait_fake
wait_for 30 metric_is jcw_outbox_rows 0
metric_is jcw_outbox_disk_full 0
stop_fwd
judge --boot "$(fake_field boot)" --events "$n" --label "disk full"
frames=$(fake_field frames)
[ "$acked" -lt "$frames" ] || { echo "FAIL: acks reached seq $acked of $frames with a full disk"; exit 1; }
[ "$stored" -ge 1 ] && [ "$full" -ge 1 ] ||
	{ echo "FAIL: $stored events stored and $full failed commits with a full disk"; exit 1; }
echo "FIGURE disk full: acks stopped at seq $acked of $frames with $stored events stored, $full failed commit(s) counted, nothing lost after the remount"
