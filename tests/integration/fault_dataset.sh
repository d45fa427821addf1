#!/usr/bin/env bash
# The dataset output and the API never wait for each other, and neither
# loses the other's events (issue 29, docs/dataset.md).
#
# 1. PROGSNAP2_DIR is a 64 KiB tmpfs that fills up: every event still
#    reaches the API (all acknowledged), the writer's failures are counted
#    (jcw_dataset_write_errors_total, jcw_dataset_failing 1) and the lines
#    wait in the outbox (jcw_dataset_queue_rows); no part ends in half a
#    line. Space returns (remount at 64 MiB): the queue drains.
# 2. kill -9 the forwarder three times while a second stream flows and
#    the API is down: after the last start both outputs have everything.
# Then jcw-dataset build keeps one row per event (the copies a kill left
# are dropped) and check passes. Needs root for the tmpfs (else 77).
source "$(dirname "$0")/../tools/faultlib.sh"
DS=$BUILD/jcw-dataset
need_bins "$DS"
if [ "$(id -u)" != 0 ]; then
	echo "fault_dataset: needs root to mount a tmpfs"
	exit 77
fi
ds=$tmp/ds
mkdir -p "$ds" "$tmp/snapshots"
if ! mount -t tmpfs -o size=64k,mode=0755 jcw-dataset "$ds" 2>"$tmp/mount.err"; then
	echo "fault_dataset: cannot mount a tmpfs here: $(cat "$tmp/mount.err")"
	exit 77
fi
extra_cleanup='umount -l '"$ds"
dsopts=(--progsnap2-dir "$ds" --node-name n1)

n1=1500
start_api
start_fwd "${dsopts[@]}"
start_fake --events "$n1" --rate 0 --students 5 --pad 300 --timeout 50 --boot first
wait_fake   # every frame acknowledged: the full dataset disk held nothing up
wait_for 30 metric_is jcw_outbox_rows 0
judge --boot first --events "$n1" --label "dataset disk full"
wait_for 10 metric_ge jcw_dataset_write_errors_total 1
metric_is jcw_dataset_failing 1
queued=$(metric jcw_dataset_queue_rows)
[ "$queued" -ge 1 ] || { echo "FAIL: no line waits for the full dataset disk"; exit 1; }
for p in "$ds"/parts/n1/*.jsonl; do
	[ ! -s "$p" ] || [ "$(tail -c1 "$p" | od -An -c | tr -d ' ')" = '\n' ] ||
		{ echo "FAIL: $p ends in half a line after a failed write"; exit 1; }
done
mount -o remount,size=64m "$ds"
wait_for 60 metric_is jcw_dataset_queue_rows 0
metric_is jcw_dataset_failing 0
errors=$(metric jcw_dataset_write_errors_total)

n2=1000
api_stop
mv "$tmp/api.log" "$tmp/api-first.log"   # the judge reads one stream
start_fake --events "$n2" --rate 300 --students 5 --timeout 50 --boot second
for i in 1 2 3; do
	sleep 0.7
	stop_fwd KILL
	start_fwd "${dsopts[@]}"
done
start_api
wait_fake
wait_for 30 metric_is jcw_outbox_rows 0
wait_for 30 metric_is jcw_dataset_queue_rows 0
stop_fwd
judge --boot second --events "$n2" --label "kill -9 with a dataset" --max-dups 48

"$DS" build --events "$ds" --snapshots "$tmp/snapshots" --out "$tmp/out" 2>"$tmp/build.err" ||
	{ cat "$tmp/build.err"; exit 1; }
"$DS" check "$tmp/out" || exit 1
python3 - "$tmp/out/MainTable.csv" "$n1" "$n2" "$tmp/build.err" <<'EOF'
import csv, re, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
n1, n2 = int(sys.argv[2]), int(sys.argv[3])
ids = [r["EventID"] for r in rows if not r["ParentEventID"]]
want = {f"first-{2 * i + 3}" for i in range(n1)} | {f"second-{2 * i + 3}" for i in range(n2)}
assert len(ids) == len(set(ids)), "an event twice in MainTable"
assert set(ids) == want, f"missing {len(want - set(ids))}, extra {len(set(ids) - want)}"
rep = open(sys.argv[4]).read()
dups = int(re.search(r"(\d+) duplicate", rep).group(1))
torn = int(re.search(r"(\d+) torn", rep).group(1))
print(f"FIGURE dataset faults: {len(ids)} events each once in MainTable; {dups} copies from the kills dropped, {torn} torn line(s) skipped")
EOF
echo "FIGURE dataset disk full: the API got all $n1 events while $queued line(s) waited; $errors failed write(s), then the queue drained"
