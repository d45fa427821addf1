#!/usr/bin/env bash
# jcw-dataset similar on a dataset the forwarder wrote itself (issue 30,
# docs/dataset.md): three students of os-1 hw1 all keep the course's
# starter header; A and B save the same main.c, B's with other comments
# and indentation; C saves other code; A and C each save a file of
# comments only. The capture of their saves is replayed into jcw-forwarder
# (outbox, PROGSNAP2_DIR, the recording API server), the dataset built
# from its parts, and `similar` must report exactly the pair A, B with
# main.c, A first. With --common 4 the starter header (3 students) is a
# group too; a dataset without the hash column is refused.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
use_forwarder
DS=$BUILD/jcw-dataset
need_bins "$DS"
make_tmp jcw-dataset-similar

codes=$tmp/codes
base=$tmp/snapshots
mkdir -p "$base"
starter='/* CS101 homework 1: do not change */
#define N 10
int helper(int x);
'
for s in 202011111 202022222 202033333; do
	mkdir -p "$codes/os-1-$s/hw1"
	printf '%s' "$starter" >"$codes/os-1-$s/hw1/starter.h"
done
cat >"$codes/os-1-202011111/hw1/main.c" <<'EOF'
#include <stdio.h>
#include "starter.h"

/* Sums 1..N. */
int main(void)
{
	int s = 0;
	for (int i = 1; i <= N; i++)
		s += i;
	printf("%d\n", s);
	return 0;
}
EOF
cat >"$codes/os-1-202022222/hw1/main.c" <<'EOF'
#include <stdio.h>
#include "starter.h"
// my own solution!!
int main(void) {
    int s = 0;   // the total
    for (int i = 1; i <= N; i++) s += i;
    printf("%d\n", s);  /* print it */
    return 0;
}
EOF
cat >"$codes/os-1-202033333/hw1/main.c" <<'EOF'
#include <stdio.h>
#include "starter.h"
int main(void)
{
	printf("%d\n", N * (N + 1) / 2);
	return 0;
}
EOF
printf '/* notes to self */\n' >"$codes/os-1-202011111/hw1/notes.c"
printf '// todo\n\n' >"$codes/os-1-202033333/hw1/notes.c"

P=/home/coder/project
{
	echo "hello boot=sim-boot node=n1 first_seq=1"
	t=1800000000
	for s in 202011111 202022222 202033333; do
		echo "file kind=close_write path=$P/hw1/starter.h time=$t host=jcode-os-1-$s tgid=10"
		t=$((t + 10))
	done
	echo "file kind=close_write path=$P/hw1/main.c time=$((t + 10)) host=jcode-os-1-202011111 tgid=11"
	echo "file kind=close_write path=$P/hw1/main.c time=$((t + 20)) host=jcode-os-1-202033333 tgid=12"
	echo "file kind=close_write path=$P/hw1/main.c time=$((t + 30)) host=jcode-os-1-202022222 tgid=13"
	echo "file kind=close_write path=$P/hw1/notes.c time=$((t + 40)) host=jcode-os-1-202011111 tgid=14"
	echo "file kind=close_write path=$P/hw1/notes.c time=$((t + 50)) host=jcode-os-1-202033333 tgid=15"
} >"$tmp/saves.spec"
"$MK" -o "$tmp/saves.cap" "$tmp/saves.spec"

api_start api
mport=$(free_port)
METRICS_PORT=$mport METRICS_ADDR=127.0.0.1 WATCH_ROOT=$codes SNAPSHOT_BASE=$base \
	"$FWD" --replay "$tmp/saves.cap" --follow --api-server "$api_url" --state-dir "$tmp/state" \
	--progsnap2-dir "$tmp/ds" --node-name n1 2>"$tmp/fwd.err" &
fwd=$!
pids+=($fwd)
written() { curl -sf "http://127.0.0.1:$mport/metrics" >"$tmp/metrics.txt" &&
	grep -qx 'jcw_api_delivered_total 8' "$tmp/metrics.txt" &&
	grep -qx 'jcw_dataset_queue_rows 0' "$tmp/metrics.txt"; }
wait_for 30 written || { cat "$tmp/fwd.err"; grep -E "snapshot|api_|dataset" "$tmp/metrics.txt"; exit 1; }
kill -TERM "$fwd"
wait "$fwd" || { echo "forwarder exited $? after SIGTERM"; cat "$tmp/fwd.err"; exit 1; }

"$DS" build --events "$tmp/ds" --snapshots "$base" --out "$tmp/out" 2>"$tmp/build.err" ||
	{ cat "$tmp/build.err"; exit 1; }
"$DS" similar "$tmp/out" >"$tmp/similar.csv" 2>"$tmp/similar.err" ||
	{ cat "$tmp/similar.err"; exit 1; }
"$DS" similar "$tmp/out" --common 4 >"$tmp/similar4.csv" 2>/dev/null
python3 - "$tmp" <<'EOF'
import csv, sys
d = sys.argv[1]
def rows(name):
    return list(csv.DictReader(open(f"{d}/{name}", newline="")))
got = [(r["CourseID"], r["AssignmentID"], r["Students"], r["SubjectID"], r["CodeStateSection"])
       for r in rows("similar.csv")]
want = [("os", "hw1", "2", "202011111", "main.c"), ("os", "hw1", "2", "202022222", "main.c")]
assert got == want, f"similar: {got}"
r = rows("similar.csv")
assert r[0]["Sha256Normalized"] == r[1]["Sha256Normalized"] and len(r[0]["Sha256Normalized"]) == 64, r
assert r[0]["FirstTime"] < r[1]["FirstTime"], "A had it first"
groups = {}
for x in rows("similar4.csv"):
    groups.setdefault(x["Sha256Normalized"], []).append((x["SubjectID"], x["CodeStateSection"]))
sizes = sorted(len(v) for v in groups.values())
assert sizes == [2, 3], f"--common 4: the starter (3) and the pair (2): {groups}"
big = [v for v in groups.values() if len(v) == 3][0]
assert {f for _, f in big} == {"starter.h"}, big
print("similar: exactly the pair A, B with main.c; the starter header only with --common 4")
EOF
grep -q '1 group(s), 2 student line(s)' "$tmp/similar.err" || { cat "$tmp/similar.err"; exit 1; }
# A dataset without the forwarder's hash column is refused by name.
mkdir -p "$tmp/plain"
printf 'EventType,SubjectID,CourseID,AssignmentID,CodeStateSection,ServerTimestamp\n' >"$tmp/plain/MainTable.csv"
if "$DS" similar "$tmp/plain" 2>"$tmp/plain.err"; then echo "FAIL: no hash column accepted"; exit 1; fi
grep -q 'no column X-Sha256Normalized' "$tmp/plain.err" || { cat "$tmp/plain.err"; exit 1; }
if "$DS" similar "$tmp/out" --common 1 2>/dev/null; then echo "FAIL: --common 1 accepted"; exit 1; fi
echo "FIGURE dataset similar: 3 students, 8 saves -> 1 group (the pair), starter code left out"
