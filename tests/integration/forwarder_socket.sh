#!/usr/bin/env bash
# The live input: jcw-forwarder listens on a Unix socket (a stale socket file
# is replaced, mode 0660), a client sends frames with a sequence gap, the
# event is printed and the gap counted; an oversized frame closes only that
# connection; a peer whose uid is not allowed is refused (when root, so the
# client can run as another uid); SIGTERM stops it with exit 0 and removes
# the socket.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
use_forwarder
make_tmp
send() {  # send FILE: writes the bytes to the socket like a collector would
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(open(sys.argv[2], "rb").read())
s.shutdown(socket.SHUT_WR)
s.settimeout(5)
try:
    s.recv(1)
except OSError:
    pass
' "$sock" "$1"
}

sock=$tmp/run/jcw/events.sock
mkdir -p "$(dirname "$sock")"
# A stale socket file left by a previous run: bound, nobody listening.
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock"

"$MK" --no-magic -o "$tmp/frames.bin" <<'EOF'
hello boot=sock-boot first_seq=1
exec tgid=7 host=jcode-os-1-202012345 exe=/usr/bin/gcc cwd=/home/coder/project/hw3 argv=gcc argv=x.c time=1700000000
exit tgid=7 seq=5 time=1700000001
EOF
printf '\x00\x20\x00\x00' >"$tmp/oversize.bin"   # announces 2 MiB

mport=$(free_port)
ALLOWED_UIDS=$(id -u) SOCKET_PATH=$sock METRICS_PORT=$mport METRICS_ADDR=127.0.0.1 \
	"$FWD" --print >"$tmp/out.jsonl" 2>"$tmp/fwd.err" &
fwd=$!
pids+=($fwd)
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$mport/readyz"
[ "$(stat -c %a "$sock")" = 660 ] || { echo "socket mode $(stat -c %a "$sock")"; exit 1; }
grep -q 'removed stale socket' "$tmp/fwd.err"

send "$tmp/frames.bin"
wait_for 10 test -s "$tmp/out.jsonl"
send "$tmp/oversize.bin"

metric() { curl -sf "http://127.0.0.1:$mport/metrics" | grep -x "$1" >/dev/null; }
wait_for 10 metric 'jcw_frame_errors_total{reason="oversize"} 1'
metric 'jcw_sequence_gaps_total 2'
metric 'jcw_connections_accepted_total 2'
metric 'jcw_pipeline_events_total{result="success"} 1'
python3 - "$tmp/out.jsonl" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
ev = json.loads(lines[0])
assert ev["path"] == "/api/os-1/hw3/202012345/logs/build" and ev["event_id"] == "sock-boot-5", ev
assert ev["body"]["target_path"] == "/home/coder/project/hw3/x.c", ev
EOF

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && [ -x /usr/bin/python3 ]; then
	# Let uid 65534 reach the socket, so SO_PEERCRED is what refuses it.
	chmod 0666 "$sock"
	setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
assert s.recv(1) == b"", "not closed"
' "$sock"
	wait_for 10 metric 'jcw_connections_rejected_total{reason="uid"} 1'
	grep -q 'uid 65534 is not in ALLOWED_UIDS' "$tmp/fwd.err"
	echo "NOTE peer uid check exercised as uid 65534"
fi

curl -sf "http://127.0.0.1:$mport/healthz" >/dev/null
kill -TERM "$fwd"
rc=0; wait "$fwd" || rc=$?
[ $rc -eq 0 ] || { echo "forwarder exited $rc"; cat "$tmp/fwd.err"; exit 1; }
[ ! -e "$sock" ] || { echo "socket file left behind"; exit 1; }
echo "FIGURE forwarder socket: gap of 2 frames counted, oversize frame closed its connection only"
