# Shared by tests/integration/fault_*.sh (sourced, not run): a temp dir
# cleaned up on exit, the recording API server, jcw-forwarder on a Unix
# socket with a state dir, fakecollector, metric reads and the judge.
# Everything on loopback, free ports, bounded waits.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FWD=$BUILD/jcw-forwarder
FAKE=$BUILD/tools/fakecollector
for b in "$FWD" "$FAKE"; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done

tmp=$(mktemp -d /tmp/jcw-fault.XXXXXX)
chmod 755 "$tmp"
sock=$tmp/events.sock
state=$tmp/state
api_pid= fwd_pid= fake_pid=
extra_cleanup=:
cleanup() {
	local p
	for p in $fake_pid $fwd_pid $api_pid; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	$extra_cleanup
	[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
# The daemons need no root; when the tests run as root, say it is meant.
export ALLOW_ROOT=true

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for SECONDS CMD...: polls CMD every 50 ms
	local end=$((SECONDS + $1)); shift
	until "$@"; do
		[ $SECONDS -lt $end ] || { echo "timed out waiting for: $*"; return 1; }
		sleep 0.05
	done
}
api_port=$(free_port)
mport=$(free_port)

# start_api [apiserver options]: on api_port, appending to $tmp/api.log.
start_api() {
	rm -f "$tmp/api.port"
	python3 tests/tools/apiserver.py --log "$tmp/api.log" --port "$api_port" \
		--port-file "$tmp/api.port" "$@" &
	api_pid=$!
	wait_for 10 test -s "$tmp/api.port"
}
stop_api() { kill -TERM "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; api_pid=; }

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
