#!/usr/bin/env bash
# Per-student rate limit through the real forwarder: a replayed
# `while true; do ./a.out; done` loop (600 runs in under a second) gets the
# burst plus the rate, another student's runs in the middle of it all go
# out, and every refused event is in the per-student summary log line, so
# sent + summarised = all. Then --student-rate 0 sends everything.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
use_forwarder
make_tmp

# Event times are the kernel's (the limiter runs on them): one run per
# millisecond for the looping student, 5 runs of another student among them.
{
	echo "hello boot=rl node=n1"
	echo "defaults cwd=/home/coder/project/hw1"
	for i in $(seq 1 600); do
		echo "exec tgid=$((1000 + i)) host=jcode-os-1-1001 exe=/home/coder/project/hw1/a.out argv=./a.out time=+0.0005"
		echo "exit tgid=$((1000 + i)) code=0 time=+0.0005"
		if [ $((i % 120)) -eq 0 ]; then
			echo "exec tgid=$((5000 + i)) host=jcode-os-1-2002 exe=/home/coder/project/hw2/b.out argv=./b.out time=+0.0001"
			echo "exit tgid=$((5000 + i)) code=0 time=+0.0001"
		fi
	done
} >"$tmp/flood.spec"
"$MK" -o "$tmp/flood.cap" "$tmp/flood.spec"

"$FWD" --replay "$tmp/flood.cap" --print --metrics-port 0 --student-rate 20 --student-burst 200 \
	>"$tmp/limited.jsonl" 2>"$tmp/limited.err" || { cat "$tmp/limited.err"; exit 1; }
STUDENT_RATE_LIMIT=0 "$FWD" --replay "$tmp/flood.cap" --print --metrics-port 0 \
	>"$tmp/all.jsonl" 2>"$tmp/all.err" || { cat "$tmp/all.err"; exit 1; }

python3 - "$tmp" <<'EOF'
import collections, json, sys
d = sys.argv[1]
def sent(name):
    c = collections.Counter()
    for line in open(f"{d}/{name}"):
        c[json.loads(line)["path"].split("/")[4]] += 1
    return c
lim, full = sent("limited.jsonl"), sent("all.jsonl")
assert full == {"1001": 600, "2002": 5}, full
assert lim["2002"] == 5, f"the other student lost events: {lim}"
# 200 at once, then 20/s over the loop's 0.6 s (12 more, give or take one)
assert 200 + 11 <= lim["1001"] <= 200 + 13, lim
logs = [json.loads(l) for l in open(f"{d}/limited.err")]
summ = [l for l in logs if "ratelimited" in l]
assert len(summ) == 1 and summ[0]["student"] == "os-1/1001", summ
assert summ[0]["ratelimited"] == summ[0]["ratelimited_total"] == 600 - lim["1001"], summ[0]
assert summ[0]["level"] in ("warn", "warning"), summ[0]
assert not any("ratelimited" in json.loads(l) for l in open(f"{d}/all.err"))
print(f"FIGURE loop of 600 runs: {lim['1001']} sent, {summ[0]['ratelimited']} summarised; "
      f"other student {lim['2002']}/5 sent")
EOF
