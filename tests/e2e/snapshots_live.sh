#!/usr/bin/env bash
# File snapshots end to end, live, as root: the real BPF programs in
# jcw-collector, its socket to jcw-forwarder, the recording API server.
# A student in a fresh UTS + mount + pid namespace named
# jcode-os-1-202012345 whose workspace (a temp dir) is bound onto
# /home/coder/project; the forwarder sees the same directory as
# WATCH_ROOT/os-1-202012345. The student:
#   echo > hw1/main.c, then two more quick saves    -> one snapshot (the last)
#   hw1/util.c.tmp + mv onto hw1/util.c (an editor) -> util.c saved
#   rm hw1/old.c                                     -> an empty snapshot
#   rm hw1/legacy.c (never snapshotted)              -> an empty snapshot too
#   hw1/.hidden.c, hw1/venv/lib/x.py, notes.c        -> filtered
#   hw2/big.c of 100 KiB                             -> too large
#   a save under another hostname                    -> not seen at all
# Asserts the snapshot files, the registrations and the jcw_snapshot_*
# counters exactly, once with each kind of file hook (--file-hooks events,
# then raw). Skips (77) only when not root or when the machine cannot run
# BPF (no BTF, kernel too old).
set -u
source "$(dirname "$0")/../lib.sh"
if [ -z "${SNAP_HOOKS:-}" ]; then
	for m in events raw; do
		SNAP_HOOKS=$m "$0" || exit $?
	done
	exit 0
fi
echo "--- --file-hooks $SNAP_HOOKS"
case $SNAP_HOOKS in events) want_mode="syscall events" ;; *) want_mode="raw syscalls" ;; esac
COLLECTOR=$BUILD/jcw-collector
FWD=$BUILD/jcw-forwarder
# The forwarder refuses root unless told; running it unprivileged is
# tests/e2e/privileges_forwarder.sh's subject, not this one's.
export ALLOW_ROOT=true
HOST=jcode-os-1-202012345

need_root "needs root to load BPF programs"
need_bins "$COLLECTOR" "$FWD"
need_cmds unshare python3 curl

make_tmp jcw-snap-e2e
dump() {
	echo "--- collector"; cat "$tmp/collector.log"
	echo "--- forwarder"; cat "$tmp/fwd.err"
	echo "--- api"; cat "$tmp/api.log" 2>/dev/null
	echo "--- metrics"; grep -E '^jcw_(snapshot|frames|api)' "$tmp/metrics.txt" 2>/dev/null
}

ws=$tmp/codes/os-1-202012345
base=$tmp/snapshots
mkdir -p "$ws/hw1/venv/lib" "$ws/hw2" "$base" "$tmp/outbox"
# Made outside the namespace (not an event): old.c with a snapshot from an
# earlier session, legacy.c with none (older than the monitor); the student
# removes both, and both deletions are recorded.
printf 'int old;\n' >"$ws/hw1/old.c"
printf 'int legacy;\n' >"$ws/hw1/legacy.c"
mkdir -p "$base/os-1/hw1/202012345/old.c"
printf 'int old;\n' >"$base/os-1/hw1/202012345/old.c/20231113_000000.c"

api_start api || exit 1
mport=$(free_port)
ALLOW_ROOT=true ALLOWED_UIDS=0 SOCKET_PATH=$tmp/events.sock STATE_DIR=$tmp/outbox \
	API_SERVER=$api_url METRICS_PORT=$mport METRICS_ADDR=127.0.0.1 \
	WATCH_ROOT=$tmp/codes SNAPSHOT_BASE=$base LOG_LEVEL=debug \
	"$FWD" 2>"$tmp/fwd.err" &
fwd=$!
pids+=($fwd)
wait_for 10 test -S "$tmp/events.sock" || { cat "$tmp/fwd.err"; exit 1; }

collector_start --socket "$tmp/events.sock" --file-hooks "$SNAP_HOOKS" --flush-interval 5ms \
	--heartbeat-interval 1s --log-level info || { dump; exit 1; }
grep -q "file events $want_mode" "$tmp/collector.log" || { dump; echo "file events are not traced by $want_mode"; exit 1; }

# Not a student: the same kind of save under another hostname.
timeout 30 unshare -u sh -c "hostname other-host-1 && echo 'int x;' >'$ws/hw2/other.c'"

t0=$(date -u +%s)
student_sh 60 "$HOST" "$ws" '
	set -eu
	echo "int main(void) { return 1; }" > hw1/main.c
	echo "int main(void) { return 2; }" > hw1/main.c
	echo "int main(void) { return 3; }" > hw1/main.c
	printf "int twice(int x) { return 2 * x; }\n" > hw1/util.c.tmp
	mv hw1/util.c.tmp hw1/util.c
	rm hw1/old.c hw1/legacy.c
	echo "int hidden;" > hw1/.hidden.c
	echo "import os" > hw1/venv/lib/x.py
	head -c 102400 /dev/zero | tr "\0" x > hw2/big.c
	echo "notes" > notes.c
	' </dev/null >"$tmp/student.log" 2>&1 || { cat "$tmp/student.log"; dump; echo "student session failed"; exit 1; }
t1=$(date -u +%s)

# Four registrations (main.c, util.c, old.c, legacy.c), then nothing left waiting.
done4() { curl -sf "http://127.0.0.1:$mport/metrics" >"$tmp/metrics.txt" &&
	grep -qx 'jcw_api_delivered_total 4' "$tmp/metrics.txt" &&
	grep -qx 'jcw_snapshot_pending_files 0' "$tmp/metrics.txt" &&
	grep -qx 'jcw_snapshot_events_total{result="too_large"} 1' "$tmp/metrics.txt"; }
wait_for 20 done4 || { dump; exit 1; }
sleep 1 # anything late would show up now
curl -sf "http://127.0.0.1:$mport/metrics" >"$tmp/metrics.txt"

kill -INT "$cpid"
crc=0
wait "$cpid" || crc=$?
[ "$crc" = 0 ] || { dump; echo "collector exited with $crc after SIGINT"; exit 1; }
kill -TERM "$fwd"
frc=0
wait "$fwd" || frc=$?
[ "$frc" = 0 ] || { dump; echo "forwarder exited with $frc after SIGTERM"; exit 1; }

python3 - "$tmp" "$t0" "$t1" <<'EOF' || { dump; exit 1; }
import json, os, sys, time
d, t0, t1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
base = d + "/snapshots"
fails = []
def check(ok, what):
    if not ok:
        fails.append(what)

main_c = b"int main(void) { return 3; }\n"
util_c = b"int twice(int x) { return 2 * x; }\n"
# (hw, encoded name, extension, content, deleted)
want = [("hw1", "main.c", ".c", main_c, False),
        ("hw1", "util.c", ".c", util_c, False),
        ("hw1", "old.c", ".c", b"", True),
        ("hw1", "legacy.c", ".c", b"", True)]
earlier = "os-1/hw1/202012345/old.c/20231113_000000.c"

stamps = {time.strftime("%Y%m%d_%H%M%S", time.gmtime(t)) for t in range(t0, t1 + 1)}

files = {}
for root, dirs, names in os.walk(base):
    for n in names:
        p = os.path.join(root, n)
        files[os.path.relpath(p, base)] = open(p, "rb").read()
check(files.pop(earlier, None) == b"int old;\n", "the earlier snapshot of old.c is untouched")
reqs = [json.loads(l) for l in open(d + "/api.log")]
check(len(files) == len(want), f"snapshot files: {sorted(files)}")
check(len(reqs) == len(want), f"registrations: {[r['path'] for r in reqs]}")
for hw, name, ext, content, deleted in want:
    pre = f"os-1/{hw}/202012345/{name}/"
    mine = [(k, v) for k, v in files.items() if k.startswith(pre)]
    check(len(mine) == 1, f"one snapshot of {hw}/{name}: {sorted(files)}")
    if len(mine) != 1:
        continue
    k, v = mine[0]
    ts = k[len(pre):-len(ext)]
    check(k.endswith(ext) and ts in stamps, f"{k}: a timestamp of the session ({sorted(stamps)})")
    check(v == content, f"{k} holds {v!r}, want {content!r}")
    path = f"/api/os-1/{hw}/202012345/{name}/{ts}"
    rs = [r for r in reqs if r["path"] == path]
    check(len(rs) == 1, f"one registration {path}")
    for r in rs:
        check(r["method"] == "POST", f"{path}: {r['method']}")
        body = r["json"]
        check(body.get("bytes") == len(content) and body.get("deleted") == deleted,
              f"{path}: body {body}")
        check(body.get("timestamp", "").startswith(time.strftime("%Y-%m-%dT", time.gmtime(t0))),
              f"{path}: event time {body.get('timestamp')}")

samples = {}
for line in open(d + "/metrics.txt"):
    if line.startswith(("jcw_snapshot_", "jcw_frames_received_total")):
        k, v = line.rsplit(" ", 1)
        samples[k] = float(v)
expect = {
    'jcw_snapshot_events_total{result="stored"}': 4,
    'jcw_snapshot_events_total{result="unchanged"}': 0,
    'jcw_snapshot_events_total{result="too_large"}': 1,
    'jcw_snapshot_events_total{result="read_error"}': 0,
    'jcw_snapshot_events_total{result="store_error"}': 0,
    # A redirected builtin (echo > f) closes f twice: bash's close() of
    # the opened descriptor once it is dup2'ed onto 1, and the dup2 that
    # restores stdout. So two events each for .hidden.c, x.py, notes.c.
    'jcw_snapshot_filtered_total{reason="hidden"}': 2,
    'jcw_snapshot_filtered_total{reason="virtualenv"}': 2,
    'jcw_snapshot_filtered_total{reason="outside_hw"}': 2,
    # the temp name, deleted by the rename (its own close is filtered in the kernel)
    'jcw_snapshot_filtered_total{reason="extension"}': 1,
    'jcw_snapshot_filtered_total{reason="not_student_host"}': 0,
    'jcw_snapshot_filtered_total{reason="lib_dir"}': 0,
    'jcw_snapshot_stored_bytes_total': len(main_c) + len(util_c),
    'jcw_snapshot_pending_files': 0,
}
for k, v in expect.items():
    check(samples.get(k) == v, f"{k} = {samples.get(k)}, want {v}")
filtered = sum(v for k, v in samples.items() if k.startswith("jcw_snapshot_filtered_total"))
nf = samples.get('jcw_snapshot_events_total{result="filtered"}')
check(nf == filtered, f"filtered = {nf}, reasons sum to {filtered}")
# Every file action ends in one result or is merged into a later one; a
# rename is two actions. So frames + renames = results + debounced.
results = sum(v for k, v in samples.items() if k.startswith("jcw_snapshot_events_total"))
frames = samples.get('jcw_frames_received_total{type="file"}', 0)
deb = samples.get("jcw_snapshot_debounced_total", 0)
check(deb >= 2, f"the three quick saves of main.c were merged (debounced {deb})")
check(frames + 1 == results + deb, f"{frames} file frames + 1 rename = {results} results + {deb} debounced")

for f in fails:
    print("FAIL:", f)
if fails:
    sys.exit(1)
print(f"{len(reqs)} snapshots stored and registered exactly; {int(frames)} file frames, {int(deb)} debounced")
EOF
echo "FIGURE snapshots live ($want_mode): student session -> $(grep -c . "$tmp/api.log") snapshots (main.c after 3 saves, util.c via temp+mv, old.c and the never-snapshotted legacy.c deleted); hidden, venv, outside hw filtered; 100 KiB too large"
