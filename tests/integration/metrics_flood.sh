#!/usr/bin/env bash
# The metrics port under hostile clients, in two phases.
# 1. A client sends a request one byte a second (slowloris): the head
#    deadline (2 s) closes it, counted as timed_out.
# 2. 2,000 connections from 250 loopback addresses (127.0.1.1 ...
#    127.0.1.250, 8 each), half idle, half sending part of a request and
#    stopping, each reopened as soon as the forwarder closes it. Meanwhile,
#    from 127.0.0.1, /metrics and /healthz are fetched every second for 30 s:
#    every answer must be a 200 within one second, the exec probe
#    (jcw-forwarder --check-live, as the DaemonSet runs it) must report the
#    forwarder live every second, and the forwarder's counts must show the
#    flood shed (evicted).
# The per-source cap, which a flood from few addresses meets, is covered by
# tests/unit/forwarder/observe/test_httpd.c.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
use_forwarder
make_tmp
ulimit -n 8192 2>/dev/null || { echo "metrics_flood: cannot raise the open-file limit"; exit 77; }
port=$(free_port)
# The flood opens some 400,000 connections in 30 s. Where netfilter's
# connection tracking is loaded (a container engine loads it), its table
# fills and the kernel drops the scrapes' SYNs before the forwarder sees
# them: a node's limit, not the forwarder's. Exempt this port's loopback
# traffic from tracking for the test, or make the table large enough.
if [ -r /proc/sys/net/netfilter/nf_conntrack_max ] && [ "$(id -u)" = 0 ]; then
	if command -v iptables >/dev/null &&
	   iptables -t raw -I OUTPUT -o lo -p tcp --dport "$port" -j CT --notrack 2>/dev/null; then
		iptables -t raw -I OUTPUT -o lo -p tcp --sport "$port" -j CT --notrack
		on_exit "iptables -t raw -D OUTPUT -o lo -p tcp --dport $port -j CT --notrack; iptables -t raw -D OUTPUT -o lo -p tcp --sport $port -j CT --notrack"
		echo "NOTE connection tracking is loaded: loopback traffic of port $port exempted (iptables raw NOTRACK)"
	else
		ct_max=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
		echo 2097152 >/proc/sys/net/netfilter/nf_conntrack_max
		on_exit "echo $ct_max >/proc/sys/net/netfilter/nf_conntrack_max"
		echo "NOTE connection tracking is loaded: its table raised from $ct_max to 2097152 entries for the test"
	fi
fi
"$FWD" --socket "$tmp/s.sock" --print --metrics-addr 0.0.0.0 --metrics-port "$port" \
	>/dev/null 2>"$tmp/err" &
pids+=($!)
served() { curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; }
wait_for 10 served || { cat "$tmp/err"; echo "forwarder did not serve"; exit 1; }

python3 - "$port" "${FLOOD_SECONDS:-30}" "$FWD" "$tmp/scrapes" <<'EOF'
import selectors, socket, subprocess, sys, threading, time, urllib.request
port, secs, fwd, scrapes_file = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
sel = selectors.DefaultSelector()
opened = 0

def open_one(i):
    global opened
    s = socket.socket()
    s.setblocking(False)
    s.bind((f"127.0.1.{1 + i % 250}", 0))
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, i)
    opened += 1

def flood():
    for i in range(2000):
        open_one(i)
    while time.monotonic() < stop:
        for key, ev in sel.select(0.2):
            s, i = key.fileobj, key.data
            if ev & selectors.EVENT_WRITE:
                if i % 2:
                    try:
                        s.send(b"GET /metr")   # half a request, then nothing
                    except OSError:
                        pass
                sel.modify(s, selectors.EVENT_READ, i)
            elif ev & selectors.EVENT_READ:
                try:
                    gone = s.recv(4096) == b""
                except OSError:
                    gone = True
                if gone:   # closed by the forwarder: come back at once
                    sel.unregister(s)
                    s.close()
                    open_one(i)

def slowloris(result):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(1.5)
    req = b"GET /metrics HTTP/1.1\r\n\r\n"
    for b in req:
        try:
            s.send(bytes([b]))
            time.sleep(1)
            if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                result.append("closed")
                return
        except BlockingIOError:
            continue
        except OSError:
            result.append("closed")
            return
    result.append("answered")

slow = []
slowloris(slow)
print(f"NOTE a client sending one byte a second was {slow[0]}")
if slow != ["closed"]:
    sys.exit(1)
stop = time.monotonic() + secs
threading.Thread(target=flood, daemon=True).start()
time.sleep(1)
worst, n, probes, fails = 0.0, 0, 0, []
while time.monotonic() < stop:
    for path in ("/metrics", "/healthz"):
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as r:
                ok = r.status == 200 and r.read()
        except Exception as e:
            ok, why = False, repr(e)
        dt = time.monotonic() - t0
        worst = max(worst, dt)
        n += 1
        if not ok or dt > 1:
            fails.append(f"{path} at {n}: {'%.3f s' % dt} {'' if ok else why}")
    probe = subprocess.run([fwd, "--check-live"], capture_output=True, text=True, timeout=5)
    probes += 1
    if probe.returncode != 0:
        fails.append(f"--check-live at {n}: {probe.stdout.strip()}")
    time.sleep(max(0, 1 - (time.monotonic() - t0)))
time.sleep(0.5)
print(f"FIGURE metrics flood: {n} scrapes of /metrics and /healthz in {secs:.0f} s beside "
      f"2000 hostile connections ({opened} opened in all): worst {worst * 1000:.0f} ms, "
      f"{probes} exec liveness probes, {len(fails)} failed")
for f in fails[:10]:
    print("FAIL:", f)
open(scrapes_file, "w").write(f"{n}\n")
if fails:
    sys.exit(1)
EOF
curl -sf "http://127.0.0.1:$port/metrics" >"$tmp/m"
python3 - "$tmp/m" "$(cat "$tmp/scrapes")" <<'EOF'
import sys
scrapes = int(sys.argv[2])
m = {}
for l in open(sys.argv[1]):
    if l.startswith("jcw_metrics_http_connections_total{"):
        k, v = l.rsplit(" ", 1)
        m[k.split('"')[1]] = float(v)
print("NOTE metrics port connections:", ", ".join(f"{k} {int(v)}" for k, v in m.items()))
for k in ("evicted", "timed_out"):
    assert m.get(k, 0) >= 1, f"no {k} connection counted: {m}"
# every scrape of the flood phase, and the readiness check before it
assert m.get("served", 0) >= scrapes + 1, f"{scrapes} scrapes answered, served counts {m}"
EOF
