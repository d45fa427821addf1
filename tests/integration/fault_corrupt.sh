#!/usr/bin/env bash
# Issue 4, test 4: a damaged outbox file. 1000 events are stored while the
# API is down, the forwarder stops (SIGTERM: they stay), then the file is
# damaged two ways, each on its own copy: (a) one 4 KiB page in the middle
# overwritten with garbage, (b) the last 40% cut off. The forwarder must
# start anyway, move the file to STATE_DIR/quarantine/, count it, salvage
# the readable rows into a fresh outbox and deliver exactly those.
source "$(dirname "$0")/../tools/faultlib.sh"

n=1000
start_fwd
start_fake --events "$n" --rate 0 --students 5 --pad 200 --timeout 30
wait_fake
boot=$(fake_field boot)
metric_is jcw_outbox_rows "$n"
stop_fwd
[ ! -e "$state/outbox.db-wal" ] || { echo "FAIL: WAL left after a clean stop"; exit 1; }
cp -a "$state" "$tmp/stored"
pages=$(( $(stat -c %s "$state/outbox.db") / 4096 ))

for how in flip cut; do
	rm -rf "$state" "$tmp/api.log"
	cp -a "$tmp/stored" "$state"
	if [ $how = flip ]; then
		python3 -c 'import os,sys; f=os.open(sys.argv[1], os.O_RDWR); os.pwrite(f, b"\xa5"*4096, int(sys.argv[2])*4096)' \
			"$state/outbox.db" $((pages / 2))
	else
		truncate -s $((pages * 6 / 10 * 4096)) "$state/outbox.db"
	fi
	start_api
	start_fwd
	wait_for 20 metric_is jcw_outbox_rows 0
	metric_is jcw_outbox_quarantined_files_total 1
	salvaged=$(metric jcw_outbox_salvaged_rows_total)
	errors=$(metric jcw_outbox_salvage_read_errors_total)
	stop_fwd
	api_stop
	grep -q '"outbox .* is damaged' "$tmp/fwd.err" || { echo "FAIL: no log line about the damage"; exit 1; }
	ls "$state"/quarantine/outbox-*Z.db >/dev/null
	delivered=$(python3 -c 'import json,sys; print(len({json.loads(l)["idempotency_key"] for l in open(sys.argv[1]) if json.loads(l)["committed"]}))' "$tmp/api.log")
	[ "$salvaged" -gt 0 ] && [ "$salvaged" -lt "$n" ] || { echo "FAIL ($how): salvaged $salvaged of $n"; exit 1; }
	[ "$delivered" = "$salvaged" ] || { echo "FAIL ($how): delivered $delivered, salvaged $salvaged"; exit 1; }
	judge --boot "$boot" --events "$n" --subset --max-dups 0 --label "damaged outbox ($how)"
	echo "FIGURE damaged outbox ($how): $salvaged of $n stored events salvaged and delivered, $errors read error(s), 1 file quarantined"
	: >"$tmp/fwd.err"
done
