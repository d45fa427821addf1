#!/usr/bin/env bash
# Fair input through the real forwarder: a collector's stream sent into the
# socket at once leaves the forwarder behind, which is when the containers'
# lanes (input/fairq.h) work. Student A's 4,000 runs come first in the
# stream, then student B's 5, then 1,000 more of A's. With one queue B's
# runs would come out after all 4,000 of A's; with the lanes each of B's
# waits at most a round of the lanes once read, so they come out while A's
# backlog is still being worked off. Asserts, with the limit off:
#   - B's 5 runs come out before A's 3,500th (A's first 4,000 minus what
#     the lanes read ahead);
#   - nothing is lost or doubled: 5,005 events, A's and B's each in their
#     own order;
#   - the same through the durable outbox, whose boot position ends at the
#     stream's last seq (every frame processed, none skipped).
# A replay of the same capture keeps the stream's order (no lanes).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
use_forwarder
make_tmp

run() {  # run N FIRST_TGID HOST EXE (pids come round again, as on a node)
	local i
	for i in $(seq 1 "$1"); do
		echo "exec tgid=$(($2 + i % 2000)) host=$3 exe=$4 argv=./x time=+0.0001"
		echo "exit tgid=$(($2 + i % 2000)) code=0 time=+0.0001"
	done
}
{
	echo "hello boot=fair node=n1"
	echo "defaults cwd=/home/coder/project/hw1"
	run 4000 100000 jcode-os-1-1001 /home/coder/project/hw1/a.out
	run 5 900000 jcode-os-1-2002 /home/coder/project/hw1/b.out
	run 1000 200000 jcode-os-1-1001 /home/coder/project/hw1/a.out
} >"$tmp/fair.spec"
"$MK" -o "$tmp/fair.cap" "$tmp/fair.spec"

# The capture is the stream after its magic: a collector's frames.
send() { python3 -c '
import socket, sys
data = open(sys.argv[2], "rb").read()[8:]
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(data)
s.shutdown(socket.SHUT_WR)
s.recv(1)   # the forwarder closes once it has read it all
' "$1" "$tmp/fair.cap"; }
lines() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
stop() { kill -TERM "$1"; local rc=0; wait "$1" || rc=$?; [ $rc -eq 0 ] || { echo "forwarder exited $rc"; cat "$2"; exit 1; }; }

STUDENT_RATE_LIMIT=0 "$FWD" --socket "$tmp/p.sock" --print --metrics-port 0 \
	>"$tmp/out.jsonl" 2>"$tmp/out.err" &
fwd=$!; pids+=($fwd)
wait_for 10 test -S "$tmp/p.sock" || { cat "$tmp/out.err"; exit 1; }
send "$tmp/p.sock"
wait_for 60 lines "$tmp/out.jsonl" 5005 || { cat "$tmp/out.err"; exit 1; }
stop "$fwd" "$tmp/out.err"

api_start api
mkdir -p "$tmp/state"
STUDENT_RATE_LIMIT=0 API_SERVER=$api_url STATE_DIR=$tmp/state "$FWD" --socket "$tmp/o.sock" \
	--metrics-port 0 2>"$tmp/ob.err" &
fwd=$!; pids+=($fwd)
wait_for 10 test -S "$tmp/o.sock" || { cat "$tmp/ob.err"; exit 1; }
send "$tmp/o.sock"
wait_for 60 lines "$tmp/api.log" 5005 || { cat "$tmp/ob.err"; exit 1; }
stop "$fwd" "$tmp/ob.err"

STUDENT_RATE_LIMIT=0 "$FWD" --replay "$tmp/fair.cap" --print --metrics-port 0 \
	>"$tmp/replay.jsonl" 2>"$tmp/replay.err" || { cat "$tmp/replay.err"; exit 1; }

python3 - "$tmp" <<'EOF'
import json, sys
d = sys.argv[1]
def order(rows):
    a, b, first_b_at = [], [], []
    for r in rows:
        if "/1001/" in r["path"]:
            a.append(r["event_id"])
        elif "/2002/" in r["path"]:
            b.append(r["event_id"])
            first_b_at.append(len(a))
    return a, b, first_b_at
def seqs(ids):
    return [int(i.rsplit("-", 1)[1]) for i in ids]

a, b, at = order(json.loads(l) for l in open(d + "/out.jsonl"))
assert len(a) == 5000 and len(b) == 5, (len(a), len(b))
assert len(set(a)) == 5000 and len(set(b)) == 5, "an event came out twice"
assert seqs(a) == sorted(seqs(a)) and seqs(b) == sorted(seqs(b)), "a student's order changed"
assert max(at) < 3500, f"B's runs came out after A's {at} (one queue: 4000)"
print(f"socket: B's 5 runs after A's {at[0]}..{at[-1]} of 4000 ahead in the stream; 5005 events, each once, in order")
a, b, at = order(json.loads(l) for l in open(d + "/replay.jsonl"))
assert at == [4000] * 5 and len(a) == 5000, at
print("replay: the stream's order")

reqs = [json.loads(l) for l in open(d + "/api.log")]
ids = [r["headers"].get("Idempotency-Key") or r["headers"].get("idempotency-key") for r in reqs]
assert len(ids) == 5005 and len(set(ids)) == 5005, (len(ids), len(set(ids)))
import sqlite3
db = sqlite3.connect(d + "/state/outbox.db")
boots = db.execute("SELECT boot_id, last_seq FROM boot").fetchall()
assert boots == [("fair", 10011)], boots   # Hello 1, then 2 * 5005 frames
print("outbox: 5005 delivered once each; the boot's position is seq 10011, the last frame")
EOF
