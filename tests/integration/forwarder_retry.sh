#!/usr/bin/env bash
# Delivery faults seen from the forwarder: a 503 is retried, a dropped
# connection is retried, a 422 is not (counted as rejected); every attempt
# carries the same Idempotency-Key.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
use_forwarder
make_tmp

# Two events: a build in hw1 and a python run in hw2 (its body names hw2).
"$MK" -o "$tmp/s.cap" <<'EOF'
hello boot=rt-boot first_seq=1
defaults host=jcode-os-1-202012345
exec tgid=1 exe=/usr/bin/gcc cwd=/home/coder/project/hw1 argv=gcc argv=main.c time=1700000000
exit tgid=1 time=1700000001
exec tgid=2 exe=/usr/bin/python3 cwd=/home/coder/project/hw2 argv=python3 argv=a.py time=1700000002
exit tgid=2 time=1700000003
EOF

# run NAME [apiserver fault options]: replays the capture against a fresh
# server; the forwarder exits by itself once delivery has settled.
run() {
	local name=$1; shift
	api_start "$name" "$@"
	API_SERVER=$api_url timeout 60 "$FWD" --replay "$tmp/s.cap" \
		--metrics-port 0 --retry-base 50ms --retry-max 200ms --api-timeout 2 \
		2>"$tmp/$name.err" || { echo "$name: forwarder failed"; cat "$tmp/$name.err"; return 1; }
	api_stop
}

check() {  # check NAME PYTHON-EXPR-over-reqs
	python3 - "$tmp/$1.log" "$2" <<'EOF'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
seq = [(r["path"].rsplit("/", 1)[1], r["response"], r["idempotency_key"], r["committed"]) for r in reqs]
ok = eval(sys.argv[2], {"seq": seq, "reqs": reqs})
assert ok, f"{sys.argv[1]}: {seq}"
EOF
}

run fail503 --fail-first 1
check fail503 'seq == [("build", 503, "rt-boot-3", False), ("build", 200, "rt-boot-3", True), ("run", 200, "rt-boot-5", True)]'
grep -q '"delivery finished: 2 delivered, 0 rejected' "$tmp/fail503.err"

run drop --drop-first 1
check drop 'seq == [("build", "drop", "rt-boot-3", False), ("build", 200, "rt-boot-3", True), ("run", 200, "rt-boot-5", True)]'
grep -q '"delivery finished: 2 delivered, 0 rejected' "$tmp/drop.err"

run reject --reject-marker hw2
check reject 'seq == [("build", 200, "rt-boot-3", True), ("run", 422, "rt-boot-5", False)]'
grep -q '"delivery finished: 1 delivered, 1 rejected' "$tmp/reject.err"
# API down: the end of a replay waits for delivery; SIGTERM then gives it
# SHUTDOWN_GRACE and the rest is abandoned (counted), exit 0.
port=$(free_port)
API_SERVER=http://127.0.0.1:$port "$FWD" --replay "$tmp/s.cap" --metrics-port 0 --retry-base 50ms \
	--retry-max 100ms --shutdown-grace 300ms 2>"$tmp/down.err" &
fwd=$!
pids+=($fwd)
wait_for 10 grep -q 'waiting for delivery to finish' "$tmp/down.err"
sleep 0.5
kill -0 "$fwd" || { echo "replay ended while the API was down"; cat "$tmp/down.err"; exit 1; }
kill -TERM "$fwd"
rc=0; wait "$fwd" || rc=$?
[ $rc -eq 0 ] || { echo "forwarder exited $rc"; cat "$tmp/down.err"; exit 1; }
grep -q '"delivery finished: 0 delivered, 0 rejected, 0 dropped, 2 abandoned' "$tmp/down.err"

echo "FIGURE forwarder retry: 503 and dropped connection retried once, 422 not retried"
