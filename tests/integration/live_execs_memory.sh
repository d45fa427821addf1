#!/usr/bin/env bash
# The forwarder's memory is bounded by bytes, not by counts (issue 27). The
# collector (fakecollector, the real protocol) sends 2,000 execs that never
# exit, each of 4,096 one-byte arguments (the largest argv the collector's
# default ARGS_MAX_BYTES sends; ~190 KiB each once decoded, 12 KiB packed),
# over 4 students, then 200 ordinary compiles and runs. Asserts:
#   - the forwarder's peak RSS (VmHWM) stays under 64 MiB, half its
#     container's limit (k8s/daemonset.yaml: 128Mi); under AddressSanitizer
#     (make test's build), with its quarantine of freed memory off, under
#     96 MiB: its shadow memory and redzones add about a third;
#   - what it could not keep is counted: execs held plus those dropped for
#     their container's share (JOIN_CONTAINER_BYTES) or the table's bound
#     (JOIN_MAX_BYTES) are all 2,000, and the bytes held stay within it;
#   - every ordinary event arrives;
#   - after a kill -9 the restarted forwarder restores the waiting execs
#     from its outbox within the same bound.
source "$(dirname "$0")/../tools/faultlib.sh"
BOUND_MB=64
if nm -D "$FWD" 2>/dev/null | grep __asan_init >/dev/null; then
	BOUND_MB=96
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0
fi
BOUND_KB=$((BOUND_MB * 1024))
N=2000

hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$fwd_pid/status"; }
start_api
start_fwd
start_fake --live "$N" --live-args 4096 --events 200 --students 4 --timeout 120
wait_fake || exit 1
wait_for 30 eval '[ "$(grep -c "\"/api/" "$tmp/api.log")" -ge 200 ]' ||
	{ echo "FAIL: $(grep -c '"/api/' "$tmp/api.log") of the 200 ordinary events arrived"; exit 1; }
peak=$(hwm)
held=$(metric jcw_join_entries) share=$(metric jcw_join_evicted_share_total)
full=$(metric jcw_join_evicted_total) bytes=$(metric jcw_join_bytes)
echo "NOTE before the kill: VmHWM $peak KiB; $held execs held ($bytes bytes), $share dropped for their container's share, $full for the table's bound"
[ "$peak" -lt "$BOUND_KB" ] || { echo "FAIL: forwarder peak RSS $peak KiB, bound $BOUND_KB KiB"; exit 1; }
[ $((held + share + full)) -eq "$N" ] ||
	{ echo "FAIL: $held held + $share + $full dropped is not the $N live execs"; exit 1; }
[ "$share" -gt 0 ] || { echo "FAIL: nothing was dropped for a container's share"; exit 1; }
[ "$bytes" -le $((32 << 20)) ] || { echo "FAIL: $bytes bytes held past JOIN_MAX_BYTES"; exit 1; }

stop_fwd KILL
start_fwd
wait_for 20 metric_ge jcw_join_entries 1 || { echo "FAIL: nothing restored"; exit 1; }
sleep 1
peak2=$(hwm) held2=$(metric jcw_join_entries)
echo "NOTE after kill -9 and restart: VmHWM $peak2 KiB; $held2 execs restored"
[ "$peak2" -lt "$BOUND_KB" ] || { echo "FAIL: restarted forwarder peak RSS $peak2 KiB, bound $BOUND_KB KiB"; exit 1; }
[ "$held2" -le "$held" ] || { echo "FAIL: $held2 execs restored, more than the $held held"; exit 1; }
stop_fwd
echo "FIGURE live execs of 4,096 arguments: $N sent, $held held, $((share + full)) dropped and counted; forwarder peak RSS $((peak / 1024)) MiB, $((peak2 / 1024)) MiB after kill -9 and restart (bound $BOUND_MB MiB)"
