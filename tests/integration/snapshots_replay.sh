#!/usr/bin/env bash
# File snapshots end to end from a capture: FileEvent frames (mkcapture) on
# files made in a temporary WATCH_ROOT, replayed into jcw-forwarder with the
# recording API server. Asserts the snapshot files on disk, the
# registrations and the jcw_snapshot_* metrics exactly:
#   three quick saves -> one snapshot; temp file + mv -> the temp name is
#   filtered (extension), the target saved; rm -> an empty snapshot; a
#   rename -> an empty snapshot of the old name and a save of the new;
#   .hidden.c, venv/lib/x.py, a file outside any hw dir, another host's
#   file -> filtered; a 100 KiB file -> too_large; a symlink -> refused;
#   content equal to the newest snapshot -> unchanged.
# Then a second replay on the same SNAPSHOT_BASE (a restart) stores only the
# one file changed since, under a same-second ".1" suffix.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
use_forwarder
make_tmp

# --- the student's workspace as the forwarder sees it ----------------------
ws=$tmp/codes/os-1-202012345
base=$tmp/snapshots
mkdir -p "$ws/hw1/venv/lib" "$ws/hw1/src/app" "$ws/hw2" "$base"
printf 'int main(void) { return 3; }\n' >"$ws/hw1/main.c"
printf '#include "util.h"\nint twice(int x) { return 2 * x; }\n' >"$ws/hw1/util.c"
printf 'int hidden;\n' >"$ws/hw1/.hidden.c"
printf 'import os\n' >"$ws/hw1/venv/lib/x.py"
head -c 102400 /dev/zero | tr '\0' 'x' >"$ws/hw2/big.c"
printf 'notes\n' >"$ws/notes.c"
printf 'print("same")\n' >"$ws/hw2/same.py"
printf 'int main() { return 0; }\n' >"$ws/hw1/src/app/main.cpp"
ln -s /etc/passwd "$ws/hw2/link.c"
printf 'renamed\n' >"$ws/hw1/b.c"
# Snapshots from an earlier session: old.c and a.c had content, same.py
# holds what the file still holds.
seed() { mkdir -p "$base/os-1/$1/202012345/$2"; printf '%b' "$3" >"$base/os-1/$1/202012345/$2/20231113_000000$4"; }
seed hw1 old.c 'old\n' .c
seed hw1 a.c 'a\n' .c
seed hw2 same.py 'print("same")\n' .py

# --- the capture: 1700000000 = 2023-11-14T22:13:20Z ------------------------
P=/home/coder/project
cat >"$tmp/files.spec" <<EOF
hello boot=snap-boot node=node-1 first_seq=1
defaults host=jcode-os-1-202012345
file kind=close_write path=$P/hw1/main.c time=1700000000.0 tgid=10 comm=bash exe=/usr/bin/bash
file kind=close_write path=$P/hw1/main.c time=1700000000.2 tgid=10 comm=node exe=/usr/lib/code-server/lib/node
file kind=close_write path=$P/hw1/main.c time=1700000000.4 tgid=10 comm=node exe=/usr/lib/code-server/lib/node
file kind=close_write path=$P/hw1/util.c.tmp time=1700000002.0 tgid=11 comm=node exe=/usr/lib/code-server/lib/node
file kind=rename old_path=$P/hw1/util.c.tmp path=$P/hw1/util.c time=1700000002.1 tgid=11 comm=mv exe=/usr/bin/mv
file kind=unlink path=$P/hw1/old.c time=1700000004.0 tgid=12
file kind=close_write path=$P/hw1/.hidden.c time=1700000006.0 tgid=13
file kind=close_write path=$P/hw1/venv/lib/x.py time=1700000006.1 tgid=13
file kind=close_write path=$P/hw2/big.c time=1700000006.2 tgid=13
file kind=close_write path=$P/notes.c time=1700000006.3 tgid=13
file kind=close_write path=$P/hw2/same.py time=1700000008.0 tgid=14
file kind=close_write path=$P/hw1/src/app/main.cpp time=1700000010.0 tgid=15
file kind=close_write path=$P/hw2/link.c time=1700000012.0 tgid=16
file kind=close_write path=$P/hw1/main.c host=buildbox time=1700000014.0 tgid=17
file kind=rename old_path=$P/hw1/a.c path=$P/hw1/b.c time=1700000016.0 tgid=18
EOF
"$MK" -o "$tmp/files.cap" "$tmp/files.spec"

# --- 1. delivery to the recording API server, live timer at the end ---------
api_start api
mport=$(free_port)
API_SERVER=$api_url METRICS_PORT=$mport METRICS_ADDR=127.0.0.1 \
	WATCH_ROOT=$tmp/codes SNAPSHOT_BASE=$base \
	"$FWD" --replay "$tmp/files.cap" --follow 2>"$tmp/fwd.err" &
fwd=$!
pids+=($fwd)
# The last two wait for the quiet window on the loop's timer (--follow never
# ends the capture), then all six are delivered.
done6() { curl -sf "http://127.0.0.1:$mport/metrics" >"$tmp/metrics.txt" &&
	grep -qx 'jcw_api_delivered_total 6' "$tmp/metrics.txt" &&
	grep -qx 'jcw_snapshot_pending_files 0' "$tmp/metrics.txt"; }
wait_for 20 done6 || { cat "$tmp/fwd.err"; grep -E "snapshot|api_" "$tmp/metrics.txt"; cat "$tmp/api.log"; exit 1; }
kill -TERM "$fwd"
rc=0; wait "$fwd" || rc=$?
[ $rc -eq 0 ] || { echo "forwarder exited $rc after SIGTERM"; cat "$tmp/fwd.err"; exit 1; }

python3 - "$tmp" <<'EOF'
import hashlib, json, os, re, sys
d = sys.argv[1]
base = d + "/snapshots"
main_c = b'int main(void) { return 3; }\n'
util_c = b'#include "util.h"\nint twice(int x) { return 2 * x; }\n'
main_cpp = b'int main() { return 0; }\n'
b_c = b'renamed\n'
# (path, event_id, bytes, deleted, timestamp) in the order they were taken.
want = [
    ("/api/os-1/hw1/202012345/main.c/20231114_221320", "snap-boot-4", len(main_c), False,
     "2023-11-14T22:13:20.400000+00:00"),
    ("/api/os-1/hw1/202012345/util.c/20231114_221322", "snap-boot-6", len(util_c), False,
     "2023-11-14T22:13:22.100000+00:00"),
    ("/api/os-1/hw1/202012345/old.c/20231114_221324", "snap-boot-7", 0, True,
     "2023-11-14T22:13:24.000000+00:00"),
    ("/api/os-1/hw1/202012345/src%40app%40main.cpp/20231114_221330", "snap-boot-13", len(main_cpp), False,
     "2023-11-14T22:13:30.000000+00:00"),
    ("/api/os-1/hw1/202012345/a.c/20231114_221336", "snap-boot-16-old", 0, True,
     "2023-11-14T22:13:36.000000+00:00"),
    ("/api/os-1/hw1/202012345/b.c/20231114_221336", "snap-boot-16", len(b_c), False,
     "2023-11-14T22:13:36.000000+00:00"),
]
reqs = [json.loads(l) for l in open(d + "/api.log")]
got = [r["path"] for r in reqs]
assert got == [w[0] for w in want], f"registrations: {got}"
for r, (path, eid, n, deleted, ts) in zip(reqs, want):
    assert r["method"] == "POST", r
    h = {k.lower(): v for k, v in r["headers"].items()}
    assert h["idempotency-key"] == eid and h["content-type"] == "application/json", h
    name, stamp = path.split("/")[5].replace("%40", "@"), path.split("/")[6]
    body = {"bytes": n, "event_id": eid, "deleted": deleted, "timestamp": ts,
            "file": name.replace("@", "/"), "snapshot": stamp + os.path.splitext(name)[1]}
    if eid == "snap-boot-4":
        body["saves"] = 3   # the three quick saves of main.c, folded into one
    # Who wrote it: the last save's writer (the editor, after a shell's
    # first write), a rename's renamer; the kernel named nobody else here.
    body["writer"] = {"snap-boot-4": {"comm": "node", "exe": "/usr/lib/code-server/lib/node", "kind": "editor"},
                      "snap-boot-6": {"comm": "mv", "exe": "/usr/bin/mv", "kind": "copy"}}.get(
                          eid, {"comm": "", "exe": None, "kind": "other"})
    if not deleted:
        # Each is its file's first version: every line added, none before.
        content = {"snap-boot-4": main_c, "snap-boot-6": util_c, "snap-boot-13": main_cpp,
                   "snap-boot-16": b_c}[eid]
        body.update(sha256=hashlib.sha256(content).hexdigest(),
                    sha256_normalized=hashlib.sha256(re.sub(rb"\s", b"", content)).hexdigest(),
                    lines_added=content.count(b"\n"), lines_removed=0,
                    seconds_since_previous=None, burst=False)
    assert r["json"] == body, (r["json"], body)
print("api: %d registrations as expected" % len(reqs))

files = {}
for root, dirs, names in os.walk(base):
    for n in names:
        p = os.path.join(root, n)
        files[os.path.relpath(p, base)] = open(p, "rb").read()
want_files = {
    "os-1/hw1/202012345/main.c/20231114_221320.c": main_c,
    "os-1/hw1/202012345/util.c/20231114_221322.c": util_c,
    "os-1/hw1/202012345/old.c/20231113_000000.c": b"old\n",
    "os-1/hw1/202012345/old.c/20231114_221324.c": b"",
    "os-1/hw1/202012345/src@app@main.cpp/20231114_221330.cpp": main_cpp,
    "os-1/hw1/202012345/a.c/20231113_000000.c": b"a\n",
    "os-1/hw1/202012345/a.c/20231114_221336.c": b"",
    "os-1/hw1/202012345/b.c/20231114_221336.c": b_c,
    "os-1/hw2/202012345/same.py/20231113_000000.py": b'print("same")\n',
}
assert files == want_files, "snapshot files:\n  " + "\n  ".join(sorted(files))
print("disk: %d snapshot files as expected, no temporary file left" % len(files))

samples = {}
for line in open(d + "/metrics.txt"):
    if line.startswith("jcw_snapshot_") or line.startswith("jcw_frames_received_total"):
        k, v = line.rsplit(" ", 1)
        samples[k] = float(v)
expect = {
    'jcw_snapshot_events_total{result="stored"}': 6,
    'jcw_snapshot_events_total{result="unchanged"}': 1,
    'jcw_snapshot_events_total{result="too_large"}': 1,
    'jcw_snapshot_events_total{result="filtered"}': 6,
    'jcw_snapshot_events_total{result="read_error"}': 1,
    'jcw_snapshot_events_total{result="store_error"}': 0,
    'jcw_snapshot_filtered_total{reason="extension"}': 2,
    'jcw_snapshot_filtered_total{reason="hidden"}': 1,
    'jcw_snapshot_filtered_total{reason="virtualenv"}': 1,
    'jcw_snapshot_filtered_total{reason="outside_hw"}': 1,
    'jcw_snapshot_filtered_total{reason="not_student_host"}': 1,
    'jcw_snapshot_filtered_total{reason="lib_dir"}': 0,
    'jcw_snapshot_read_errors_total{reason="symlink"}': 1,
    'jcw_snapshot_read_errors_total{reason="missing"}': 0,
    'jcw_snapshot_debounced_total': 2,
    'jcw_snapshot_forced_total': 0,
    'jcw_snapshot_stored_bytes_total': len(main_c) + len(util_c) + len(main_cpp) + len(b_c),
    'jcw_snapshot_pending_files': 0,
    'jcw_frames_received_total{type="file"}': 15,
}
for k, v in expect.items():
    assert samples.get(k) == v, f"{k} = {samples.get(k)}, want {v}"
print("metrics: snapshot counters as expected")
EOF
grep -q '"snapshot of .*hw2/link.c not taken: symlink' "$tmp/fwd.err" || {
	echo "the refused symlink was not logged"; cat "$tmp/fwd.err"; exit 1; }
if command -v promtool >/dev/null; then
	promtool check metrics <"$tmp/metrics.txt"
fi

# --- 2. a restart on the same SNAPSHOT_BASE: only main.c changed -------------
printf 'int main(void) { return 4; }\n' >"$ws/hw1/main.c"
WATCH_ROOT=$tmp/codes SNAPSHOT_BASE=$base \
	"$FWD" --replay "$tmp/files.cap" --print --metrics-port 0 >"$tmp/print.jsonl" 2>"$tmp/print.err" || {
	echo "forwarder --print failed"; cat "$tmp/print.err"; exit 1; }
python3 - "$tmp" <<'EOF'
import json, sys
d = sys.argv[1]
lines = open(d + "/print.jsonl").read().splitlines()
assert len(lines) == 1, f"{len(lines)} lines: {lines}"
ev = json.loads(lines[0])
assert ev["path"] == "/api/os-1/hw1/202012345/main.c/20231114_221320.1", ev
assert ev["body"]["bytes"] == 29 and ev["event_id"] == "snap-boot-4", ev
# Against the version before (the same second): its one line changed.
b = ev["body"]
assert (b["lines_added"], b["lines_removed"], b["seconds_since_previous"]) == (1, 1, 0), b
p = d + "/snapshots/os-1/hw1/202012345/main.c/"
assert open(p + "20231114_221320.1.c", "rb").read() == b'int main(void) { return 4; }\n'
assert open(p + "20231114_221320.c", "rb").read() == b'int main(void) { return 3; }\n'
print("restart: unchanged files skipped, the one changed stored as 20231114_221320.1.c")
EOF
echo "FIGURE snapshots replay: 15 file events -> 6 snapshots stored and registered exactly, 6 filtered, 1 unchanged, 1 too large, 1 symlink refused; restart dedupe ok"
