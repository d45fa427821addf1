#!/usr/bin/env bash
# A slow disk must not slow events down: every fsync of the forwarder takes
# 600 ms more (tests/tools/preload/slowsync.c, as a disk shared with busy
# neighbours can), while fakecollector streams 40 events at 20 a second.
# Events go to the API as soon as they are staged (forwarder/outbox/
# outbox.h), so each arrives within 0.4 s of its schedule, counted from the
# first arrival; had they waited for their commit they would queue behind
# the 600 ms commits. The commits really were that slow (their histogram),
# the frames were acknowledged all the same, and nothing is lost or doubled.
source "$(dirname "$0")/../tools/faultlib.sh"
SHIM=$BUILD/tools/slowsync.so
need_bins "$SHIM"

n=40 rate=20 slow_ms=600
start_api
SLOWSYNC_MS=$slow_ms LD_PRELOAD=$SHIM ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	start_fwd
start_fake --events "$n" --rate "$rate" --students 4 --timeout 40
wait_fake
wait_for 30 metric_is jcw_outbox_rows 0
metrics >"$tmp/metrics.txt"
stop_fwd
judge --boot "$(fake_field boot)" --events "$n" --label "slow fsync" --max-dups 0
python3 - "$tmp/api.log" "$tmp/metrics.txt" "$n" "$rate" "$slow_ms" <<'PY'
import json, sys
log, mfile, n, rate, slow_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
first = {}
for line in open(log):
    r = json.loads(line)
    k = r["idempotency_key"]
    if r["response"] == 200 and k not in first:
        first[k] = r["time"]
# fakecollector's event i (1-based) is {boot}-{2i+1}, sent at (i-1)/rate
arrivals = sorted((int(k.rsplit("-", 1)[1]) // 2, t) for k, t in first.items())
assert len(arrivals) == n, len(arrivals)
t0 = arrivals[0][1]
late = [(i, t - t0 - (i - 1) / rate) for i, t in arrivals if t - t0 - (i - 1) / rate > 0.4]
assert not late, f"events waited for their commit: {late[:5]}"
m = {}
for line in open(mfile):
    if line and not line.startswith("#"):
        k, _, v = line.rstrip().rpartition(" ")
        m[k] = float(v)
slow = m["jcw_outbox_commit_duration_seconds_count"] - m['jcw_outbox_commit_duration_seconds_bucket{le="0.25"}']
assert slow >= 1, "no commit took over 0.25 s: the shim did not act"
worst = max(t - t0 - (i - 1) / rate for i, t in arrivals)
print(f"FIGURE slow fsync: {n} events with every fsync {slow_ms} ms slower, {int(slow)} commits over 0.25 s, "
      f"each event at most {worst * 1000:.0f} ms behind its schedule")
PY
