#!/usr/bin/env bash
# jcw-collector over its Unix socket, as root with the real BPF programs,
# against a stand-in forwarder that stores the raw byte stream of each
# connection. Checks the connection protocol the forwarder relies on:
#   - the first connection starts with the Hello (seq 1), then frames 2, 3...
#     (the stand-in acknowledges every frame, as format 2 wants);
#   - the forwarder goes away; the collector queues (bounded by
#     --queue-max) and counts what does not fit;
#   - a new forwarder gets an unnumbered Hello (seq 0) whose first_seq is
#     the next frame, the queued frames, then Lost{LOST_COLLECTOR_QUEUE}
#     with exactly the number of frames missing from the sequence;
#   - every frame on the socket is byte-for-byte the one in --record.
set -u
source "$(dirname "$0")/../lib.sh"
COLLECTOR=$BUILD/jcw-collector
CAPDUMP=$BUILD/tools/capdump

need_root "needs root to load BPF programs"
need_bins "$COLLECTOR" "$CAPDUMP"

make_tmp jcw-sock
cpid= lpid=
kill_on_exit lpid cpid

# listen OUTFILE: accept one connection, store everything it sends, and
# acknowledge every frame (format 2: the collector keeps frames until then).
listen() {
	rm -f "$tmp/s.sock"
	/usr/bin/python3 -c '
import socket, struct, sys

def varint(b, i):
    v = s = 0
    while True:
        x = b[i]; i += 1
        v |= (x & 0x7f) << s; s += 7
        if x < 0x80:
            return v, i

def enc(v):
    o = b""
    while v >= 0x80:
        o += bytes([v & 0x7f | 0x80]); v >>= 7
    return o + bytes([v])

def fields(b):
    i = 0
    while i < len(b):
        k, i = varint(b, i)
        t = k & 7
        if t == 0:
            v, i = varint(b, i)
        elif t == 2:
            n, i = varint(b, i); v = b[i:i + n]; i += n
        elif t == 1:
            v = b[i:i + 8]; i += 8
        else:
            v = b[i:i + 4]; i += 4
        yield k >> 3, v

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
buf, boot, top = b"", None, 0
with open(sys.argv[2], "wb", buffering=0) as out:
    while True:
        b = c.recv(65536)
        if not b:
            break
        out.write(b)
        buf += b
        while len(buf) >= 4 and len(buf) >= 4 + struct.unpack(">I", buf[:4])[0]:
            n = struct.unpack(">I", buf[:4])[0]
            for f, v in fields(buf[4:4 + n]):
                if f == 1:
                    top = max(top, v)
                elif f == 10:
                    boot = dict(fields(v)).get(3, boot)
            buf = buf[4 + n:]
        if boot and top:
            ack = b"\x0a" + enc(len(boot)) + boot + b"\x10" + enc(top)
            fr = b"\x82\x01" + enc(len(ack)) + ack
            c.sendall(struct.pack(">I", len(fr)) + fr)
' "$tmp/s.sock" "$1" &
	lpid=$!
	for _ in $(seq 100); do [ -S "$tmp/s.sock" ] && return 0; sleep 0.05; done
	echo "listener did not start"; exit 1
}

# dump CONNFILE: the connection's frames as JSON lines (capture = magic + stream).
dump() {
	{ printf 'JCWCAP\0\1'; cat "$1"; } | "$CAPDUMP" - 2>/dev/null
}

wait_for() { # FILE PATTERN SECONDS
	local i
	for i in $(seq $(( $3 * 20 ))); do
		dump "$1" | grep -q "$2" && return 0
		sleep 0.05
	done
	echo "timed out waiting for $2 in $1"; dump "$1" | tail -n 3; exit 1
}

student() { # COUNT MARKER
	timeout 120 unshare -u sh -c "hostname jcode-os-1-202012345 && i=0 && while [ \$i -lt $1 ]; do /bin/echo $2 >/dev/null; i=\$((i+1)); done"
}

listen "$tmp/conn1"
collector_start --socket "$tmp/s.sock" --record "$tmp/cap" --queue-max 64k \
	--heartbeat-interval 60m || exit 1

student 5 marker-one
wait_for "$tmp/conn1" marker-one 10
sleep 0.3
# The forwarder goes away while nothing is in flight.
kill -TERM "$lpid"; wait "$lpid" 2>/dev/null; lpid=
sleep 0.3
# ~600 execs and exits (~200 KiB of frames) against a 64 KiB queue.
student 600 marker-two
listen "$tmp/conn2"
wait_for "$tmp/conn2" LOST_COLLECTOR_QUEUE 20
student 3 marker-three
wait_for "$tmp/conn2" marker-three 10

kill -INT "$cpid"
crc=0
wait "$cpid" || crc=$?
cpid=
wait "$lpid" 2>/dev/null; lpid=
cat "$tmp/collector.log"
[ "$crc" = 0 ] || { echo "collector exited with $crc"; exit 1; }

dump "$tmp/conn1" >"$tmp/c1.jsonl"
dump "$tmp/conn2" >"$tmp/c2.jsonl"
"$CAPDUMP" "$tmp/cap" >"$tmp/cap.jsonl" || { echo "capture unreadable"; exit 1; }
echo "FIGURE socket: $(wc -l <"$tmp/c1.jsonl") + $(wc -l <"$tmp/c2.jsonl") frames over two connections, $(wc -l <"$tmp/cap.jsonl") in the capture"

/usr/bin/python3 - "$tmp/c1.jsonl" "$tmp/c2.jsonl" "$tmp/cap.jsonl" <<'EOF'
import json, sys

c1, c2, cap = ([json.loads(l) for l in open(p)] for p in sys.argv[1:4])
fails = []

def check(ok, what):
    if not ok:
        fails.append(what)

check(c1 and "hello" in c1[0] and c1[0]["seq"] == 1 and c1[0]["hello"]["first_seq"] == 1,
      "first connection starts with Hello seq 1")
s1 = [f["seq"] for f in c1]
check(s1 == list(range(1, len(s1) + 1)), "first connection: no gap")
check(c2 and "hello" in c2[0] and c2[0]["seq"] == 0, "second connection starts with an unnumbered Hello")
if c2 and len(c2) > 1:
    check(c2[0]["hello"]["first_seq"] == c2[1]["seq"], "Hello.first_seq names the next frame")
    check(c2[0]["hello"]["boot_id"] == c1[0]["hello"]["boot_id"], "same boot id")
s2 = [f["seq"] for f in c2[1:]]
check(all(b > a for a, b in zip(s2, s2[1:])), "second connection: increasing seq")
check(s2 and s2[0] == s1[-1] + 1, "nothing lost between the connections but what the queue refused")
missing = (s2[-1] - s2[0] + 1 - len(s2)) if s2 else 0
lost = [f["lost"] for f in c2 if "lost" in f]
check(len(lost) == 1 and lost[0]["source"] == "LOST_COLLECTOR_QUEUE", f"one Lost frame for the queue: {lost}")
if lost:
    check(lost[0]["count"] == missing and lost[0]["total"] == missing and missing > 0,
          f"Lost.count {lost[0]['count']} == {missing} frames missing from the sequence")
# Byte for byte: the JSON of every frame equals the capture's.
bycap = {f["seq"]: f for f in cap}
check([f["seq"] for f in cap] == list(range(1, len(cap) + 1)), "capture has every frame")
check(all(bycap.get(f["seq"]) == f for f in c1 + c2[1:]), "socket frames equal capture frames")
def argv_has(fs, m):
    return sum(1 for f in fs if "exec" in f and m in f["exec"]["argv"])
check(argv_has(c1, "marker-one") == 5, "all of marker-one on the first connection")
check(argv_has(c2, "marker-three") == 3, "all of marker-three after the reconnect")
check(argv_has(cap, "marker-two") == 600, "all of marker-two in the capture")
for f in fails:
    print("FAIL:", f)
print(f"{len(c1)} + {len(c2)} frames, {missing} refused by the queue, {len(fails)} failed checks")
print(f"FIGURE queue overflow: {missing} frames refused and reported")
sys.exit(1 if fails else 0)
EOF
