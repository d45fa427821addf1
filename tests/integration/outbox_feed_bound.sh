#!/usr/bin/env bash
# With the outbox, delivery holds in memory at most FLOW_FEED_PER_INFLIGHT
# (32) requests per transfer in flight, not QUEUE_MAX_EVENTS: the rest
# wait in the outbox (forwarder/outbox/outbox_flow.h). 1,500 runs of 30
# students are replayed into a slow API (20 ms an answer, 2 in flight):
# jcw_api_queue_depth, sampled while the backlog drains, never passes
# 64 while thousands of events are stored, and every event arrives once.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
use_forwarder
make_tmp jcw-feed-bound

python3 - >"$tmp/runs.spec" <<'EOF'
print("hello boot=feed-boot first_seq=1")
t = 1700000000
for i in range(1500):
    host = "jcode-os-1-2020%05d" % (i % 30)
    print(f"exec tgid={1000 + i} exe=/home/coder/project/hw1/a.out cwd=/home/coder/project/hw1 "
          f"argv=./a.out host={host} time={t + i * 0.001:.3f}")
    print(f"exit tgid={1000 + i} host={host} time={t + i * 0.001 + 0.0005:.4f}")
EOF
"$MK" -o "$tmp/runs.cap" "$tmp/runs.spec"

api_start api --delay 0.02
mport=$(free_port)
"$FWD" --replay "$tmp/runs.cap" --follow --api-server "$api_url" --state-dir "$tmp/state" \
	--max-inflight 2 --queue-max 4096 --student-rate 0 --snapshots=false \
	--metrics-addr 127.0.0.1 --metrics-port "$mport" 2>"$tmp/fwd.err" &
fwd=$!
pids+=($fwd)
metric() { curl -sf "http://127.0.0.1:$mport/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
wait_for 10 metric jcw_api_queue_depth >/dev/null || { cat "$tmp/fwd.err"; exit 1; }
max=0 stored_max=0 samples=0
while :; do
	q=$(metric jcw_api_queue_depth) rows=$(metric jcw_outbox_rows) got=$(metric jcw_api_delivered_total)
	q=${q%.*} rows=${rows%.*} got=${got%.*}
	[ "${q:-0}" -gt "$max" ] && max=$q
	[ "${rows:-0}" -gt "$stored_max" ] && stored_max=$rows
	samples=$((samples + 1))
	[ "${got:-0}" -ge 1500 ] && break
	[ $samples -lt 600 ] || { echo "FAIL: only ${got:-0} of 1500 delivered after $samples samples"; cat "$tmp/fwd.err"; exit 1; }
	sleep 0.1
done
kill -TERM "$fwd"
wait "$fwd" || { echo "forwarder exited $? after SIGTERM"; cat "$tmp/fwd.err"; exit 1; }
[ "$max" -le 64 ] || { echo "FAIL: delivery held $max requests (bound 64 = 32 x 2 in flight)"; exit 1; }
[ "$stored_max" -ge 500 ] || { echo "FAIL: the backlog never waited in the outbox ($stored_max rows at most)"; exit 1; }
n=$(python3 -c 'import json,sys; print(len({json.loads(l)["idempotency_key"] for l in open(sys.argv[1])}))' "$tmp/api.log")
[ "$n" = 1500 ] || { echo "FAIL: $n distinct events at the API, want 1500"; exit 1; }
echo "FIGURE outbox feed bound: delivery held at most $max requests (bound 64) while up to $stored_max waited in the outbox; 1500 events once each"
