#!/usr/bin/env bash
# The per-student storage budget, from a capture replayed into the
# forwarder (SNAPSHOT_STUDENT_BURST 20, SNAPSHOT_STUDENT_FILES 600 a minute):
# student A saves main.c 30 times in 0.3 s, then 499 other files in half a
# second; student B, on the same node, saves 5 files meanwhile. Asserts:
#   - B's 5 snapshots are all stored and registered: A's flood costs B nothing;
#   - A's first burst of main.c is one snapshot registered with "saves": 30;
#   - A never has more stored than the budget allows for the time elapsed,
#     and every one of A's 500 files is either stored or still waiting
#     (unread) for the budget: none is lost, and jcw_snapshot_deferred_total
#     counts the waits;
#   - stored files and registrations match one to one, byte for byte.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
use_forwarder
make_tmp

A=$tmp/codes/os-1-202012345 B=$tmp/codes/os-1-202099999 base=$tmp/snapshots
mkdir -p "$A/hw1" "$B/hw1" "$base"
P=/home/coder/project
{
	echo "hello boot=budget node=node-1 first_seq=1"
	printf 'int main(void) { return 0; }\n' >"$A/hw1/main.c"
	for i in $(seq 0 29); do
		printf 'file kind=close_write path=%s/hw1/main.c time=1700000000.%02d tgid=10 host=jcode-os-1-202012345\n' "$P" "$i"
	done
	for i in $(seq 1 499); do
		printf 'int f%d;\n' "$i" >"$A/hw1/f$i.c"
		printf 'file kind=close_write path=%s/hw1/f%d.c time=%d.%03d tgid=11 host=jcode-os-1-202012345\n' \
			"$P" "$i" $((1700000001 + i / 1000)) $((i % 1000))
		if [ $((i % 100)) = 50 ]; then
			printf 'int b%d;\n' "$i" >"$B/hw1/b$i.c"
			printf 'file kind=close_write path=%s/hw1/b%d.c time=%d.%03d tgid=20 host=jcode-os-1-202099999\n' \
				"$P" "$i" $((1700000001 + i / 1000)) $((i % 1000))
		fi
	done
} >"$tmp/flood.spec"
"$MK" -o "$tmp/flood.cap" "$tmp/flood.spec"

api_start api
mport=$(free_port)
API_SERVER=$api_url METRICS_PORT=$mport METRICS_ADDR=127.0.0.1 WATCH_ROOT=$tmp/codes SNAPSHOT_BASE=$base \
	"$FWD" --replay "$tmp/flood.cap" --follow --snapshot-student-burst 20 \
	--snapshot-student-files 600 2>"$tmp/fwd.err" &
fwd=$!
pids+=($fwd)
b_done() { [ "$(grep -c '/api/os-1/hw1/202099999/' "$tmp/api.log" 2>/dev/null)" -ge 5 ]; }
wait_for 20 b_done || { cat "$tmp/fwd.err"; echo "FAIL: B's snapshots did not all arrive"; exit 1; }
sleep 3
# One scrape: the loop serves it between two stages, so the counts agree.
curl -sf "http://127.0.0.1:$mport/metrics" >"$tmp/metrics.txt"
kill -TERM "$fwd"; wait "$fwd" || true
elapsed=$SECONDS   # since the script started: the budget had no longer
m() { awk -v m="$1" '$1 == m { print $2; exit }' "$tmp/metrics.txt"; }
stored=$(m 'jcw_snapshot_events_total{result="stored"}')
pending=$(m jcw_snapshot_pending_files)
inflight=$(m jcw_snapshot_io_queue)
deferred=$(m jcw_snapshot_deferred_total)

python3 - "$tmp" "$stored" "$pending" "$deferred" "$elapsed" "$inflight" <<'PY'
import json, os, sys
d, stored, pending, deferred, elapsed = sys.argv[1], int(float(sys.argv[2])), int(float(sys.argv[3])), \
    int(float(sys.argv[4])), int(sys.argv[5])
inflight = int(float(sys.argv[6]))   # at the worker: read or stored, not counted yet
reqs = [json.loads(l) for l in open(d + "/api.log")]
a = [r for r in reqs if "/202012345/" in r["path"]]
b = [r for r in reqs if "/202099999/" in r["path"]]
assert len(b) == 5, [r["path"] for r in b]
main = [r for r in a if "/main.c/" in r["path"]]
assert len(main) == 1 and main[0]["json"].get("saves") == 30, main
# A: the burst, plus 10 a second for the time the budget had (with slack).
assert 20 <= len(a) <= 20 + 10 * (elapsed + 2), (len(a), elapsed)
# At the scrape, every file saved was stored, waiting unread, or at the
# worker: none lost.
assert stored + pending + inflight == 505, (stored, pending, inflight)
# Each waiting file wakes at its own turn: about one wait per file.
assert pending <= deferred <= 2 * 500, (deferred, pending)
# One file on disk per registration, with the workspace's bytes.
disk = {}
for root, dirs, names in os.walk(d + "/snapshots"):
    for n in names:
        disk[os.path.relpath(os.path.join(root, n), d + "/snapshots")] = open(os.path.join(root, n), "rb").read()
assert len(disk) == len(reqs), (len(disk), len(reqs))
for rel, data in disk.items():
    cls, hw, sid, fname, _ = rel.split("/")
    src = os.path.join(d, "codes", f"{cls}-{sid}", hw, fname.replace("@", "/"))
    assert open(src, "rb").read() == data, rel
print(f"FIGURE snapshot budget: A's flood of 500 files -> {len(a)} stored in {elapsed} s "
      f"(burst 20 + 10/s); at one scrape {stored} stored + {pending} waiting unread + {inflight} at the worker = 505, {deferred} waits; "
      f"B's 5 all stored; {len(disk)} files = {len(reqs)} registrations")
PY
