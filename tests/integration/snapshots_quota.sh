#!/usr/bin/env bash
# The total per student on the snapshot volume (SNAPSHOT_STUDENT_TOTAL),
# through the real forwarder: a student who already holds 300 bytes from an
# earlier run saves ten 100-byte files under a cap of 1,000. Asserts:
#   - seven are stored (300 + 700), three are not (over_quota), and the
#     stored ones are exactly the registered ones, each whole;
#   - a deletion is stored even at the cap (an empty snapshot);
#   - another student is not affected;
#   - a second run on the same volume counts what is there: nothing more of
#     that student is stored.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
use_forwarder
make_tmp

ws=$tmp/codes/os-1-202012345
other=$tmp/codes/os-1-202099999
base=$tmp/snapshots
mkdir -p "$ws/hw1" "$other/hw1" "$base/os-1/hw3/202012345/old.c"
head -c 300 /dev/zero | tr '\0' 'o' >"$base/os-1/hw3/202012345/old.c/20231113_000000.c"
for i in $(seq 0 9); do head -c 100 /dev/zero | tr '\0' "$i" >"$ws/hw1/f$i.c"; done
printf 'int x;\n' >"$other/hw1/x.c"

P=/home/coder/project
{
	echo "hello boot=quota node=n1 first_seq=1"
	for i in $(seq 0 9); do
		echo "file kind=close_write host=jcode-os-1-202012345 path=$P/hw1/f$i.c time=1700000000.$i tgid=10"
	done
	echo "file kind=unlink host=jcode-os-1-202012345 path=$P/hw1/gone.c time=1700000001.0 tgid=10"
	echo "file kind=close_write host=jcode-os-1-202099999 path=$P/hw1/x.c time=1700000001.5 tgid=11"
} >"$tmp/q.spec"
"$MK" -o "$tmp/q.cap" "$tmp/q.spec"

run() {  # run OUT: replay the capture with --print, metrics in OUT.metrics
	WATCH_ROOT=$tmp/codes SNAPSHOT_BASE=$base SNAPSHOT_STUDENT_TOTAL=1000 \
		"$FWD" --replay "$tmp/q.cap" --print --metrics-port 0 >"$1" 2>"$1.err" ||
		{ cat "$1.err"; exit 1; }
}
run "$tmp/one.jsonl"
run "$tmp/two.jsonl"

python3 - "$tmp" <<'EOF'
import json, os, sys
d = sys.argv[1]
base = d + "/snapshots/os-1"
def regs(name):
    return [json.loads(l) for l in open(f"{d}/{name}")]
one = regs("one.jsonl")
mine = [r for r in one if "/202012345/" in r["path"]]
saved = [r for r in mine if not r["body"]["deleted"]]
assert len(saved) == 7, [r["path"] for r in mine]
assert any(r["body"]["deleted"] and "/gone.c/" in r["path"] for r in mine), "deletion not stored"
assert any("/202099999/" in r["path"] for r in one), "the other student was refused"
files = {}
for root, _, names in os.walk(base + "/hw1/202012345"):
    for n in names:
        files[os.path.relpath(os.path.join(root, n), base + "/hw1/202012345")] = os.path.getsize(os.path.join(root, n))
stored = {k: v for k, v in files.items() if not k.startswith("gone.c/")}
assert len(stored) == 7 and set(stored.values()) == {100}, stored
want = sorted(r["path"].split("/")[5] for r in saved)
assert sorted(k.split("/")[0] for k in stored) == want, (sorted(stored), want)
err = open(d + "/one.jsonl.err").read()
refused = err.count("not stored: they hold")
assert refused == 3 and "SNAPSHOT_STUDENT_TOTAL is 1000" in err and "they hold 1000 bytes" in err, err
two = regs("two.jsonl")
assert not [r for r in two if "/202012345/" in r["path"] and not r["body"]["deleted"]], \
    "stored again over the total after a restart"
print(f"FIGURE snapshot total: 300 bytes held + {len(saved)} of 10 saves of 100 stored under a cap "
      f"of 1000, {refused} over_quota, deletion stored, other student unaffected; a restart counts the disk")
EOF
