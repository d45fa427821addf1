# Shared by tests/integration/fault_*.sh (sourced, not run), on top of
# tests/lib.sh: the recording API server on a fixed free port, jcw-forwarder
# on a Unix socket with a state dir, fakecollector, metric reads and the judge.
# Everything on loopback, free ports, bounded waits.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
FWD=$BUILD/jcw-forwarder
FAKE=$BUILD/tools/fakecollector
need_bins "$FWD" "$FAKE"

make_tmp jcw-fault
sock=$tmp/events.sock
state=$tmp/state
fwd_pid= fake_pid=
kill_on_exit fake_pid fwd_pid
extra_cleanup=:   # a test's own undoing, after the processes are gone
on_exit '$extra_cleanup'
# The daemons need no root; when the tests run as root, say it is meant.
export ALLOW_ROOT=true

api_port=$(free_port)
mport=$(free_port)

# start_api [apiserver options]: on api_port, appending to $tmp/api.log.
start_api() { api_start api --port "$api_port" "$@"; }

# start_fwd [forwarder options]: socket mode, outbox in $state, logs appended
# to $tmp/fwd.err; waits until /readyz answers.
start_fwd() {
	SNAPSHOTS_ENABLED=false "$FWD" --api-server "http://127.0.0.1:$api_port" \
		--socket "$sock" --allowed-uids "$(id -u)" --state-dir "$state" \
		--metrics-port "$mport" --metrics-addr 127.0.0.1 --student-rate 0 \
		--retry-base 20ms --retry-max 200ms --api-timeout 2 "$@" 2>>"$tmp/fwd.err" &
	fwd_pid=$!
	wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$mport/readyz" || {
		tail -n 20 "$tmp/fwd.err"; return 1; }
}
stop_fwd() {  # stop_fwd [SIGNAL]: default TERM, exit status must be 0 for TERM
	local sig=${1:-TERM} rc=0
	kill -"$sig" "$fwd_pid" 2>/dev/null || true
	wait "$fwd_pid" 2>/dev/null || rc=$?
	fwd_pid=
	if [ "$sig" = TERM ] && [ $rc -ne 0 ]; then
		echo "forwarder exited $rc on SIGTERM"; tail -n 20 "$tmp/fwd.err"; return 1
	fi
	return 0
}

# start_fake [fakecollector options]: summary line to $tmp/fake.out.
start_fake() {
	"$FAKE" --socket "$sock" "$@" >"$tmp/fake.out" 2>>"$tmp/fake.err" &
	fake_pid=$!
}
wait_fake() {  # wait_fake: its exit status must be 0 (everything acknowledged)
	local rc=0
	wait "$fake_pid" || rc=$?
	fake_pid=
	[ $rc -eq 0 ] || { echo "fakecollector exited $rc: $(cat "$tmp/fake.out")"; tail -n 5 "$tmp/fake.err"; return 1; }
}
fake_field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" "$tmp/fake.out"; }

metrics() { curl -sf "http://127.0.0.1:$mport/metrics"; }
metric() {  # metric NAME: its value (first sample with exactly this name+labels)
	metrics | awk -v n="$1" '$1 == n && !done { print $2; done = 1 }'
}
metric_is() { [ "$(metric "$1")" = "$2" ]; }
metric_ge() { local v; v=$(metric "$1"); [ -n "$v" ] && awk -v a="$v" -v b="$2" 'BEGIN{exit !(a >= b)}'; }

judge() { python3 tests/tools/judge.py --log "$tmp/api.log" "$@"; }
