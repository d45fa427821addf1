#!/usr/bin/env bash
# The kernel's budget per container (bpf/budget.bpf.h), live, as root. With
# a budget of 50 records a second and a burst of 300, student A runs a
# program 1,000 times as fast as a shell can while student B compiles and
# runs 10 times. Asserts:
#   - every one of B's 20 events arrives (B stays within the budget);
#   - A's runs that were recorded all arrive, and they are no more than the
#     burst plus the rate over the time A ran;
#   - what was not recorded is counted, exactly: the forwarder's
#     jcw_lost_records_total{source="container_budget"} equals the kernel's
#     count, and A's recorded runs plus its drops account for all 1,000;
#   - the collector names A's container, and only A's, in its report.
# The forwarder's own per-student limit is off, so what arrives is what the
# kernel recorded. Skips (77) only when not root or when BPF cannot run.
set -u
source "$(dirname "$0")/../lib.sh"
live_test budget unshare python3 curl gcc

codes=$tmp/codes
A=jcode-bud-1-202011111 B=jcode-bud-1-202022222
mkdir -p "$codes/bud-1-202011111/hw1" "$codes/bud-1-202022222/hw1"
printf 'int main(void) { return 0; }\n' >"$codes/bud-1-202011111/hw1/prog.c"
gcc -o "$codes/bud-1-202011111/hw1/prog" "$codes/bud-1-202011111/hw1/prog.c"

api_start api || fail "API server did not start"
STUDENT_RATE_LIMIT=0 forwarder_start --watch-root "$codes" || fail "forwarder did not create its socket"
collector_start --socket "$tmp/events.sock" --hostname-prefix jcode-bud- \
	--container-rate 50 --container-burst 300 || fail "collector did not attach"

# A's loop: the shell's builtins only, so every exec is one of prog's.
student_sh 120 "$A" "$codes/bud-1-202011111" '
	cd hw1
	t0=$EPOCHREALTIME
	i=0; while [ $i -lt 1000 ]; do ./prog; i=$((i + 1)); done
	echo "A_SECS $t0 $EPOCHREALTIME"' >"$tmp/a.out" 2>&1 &
apid=$!
student_sh 120 "$B" "$codes/bud-1-202022222" '
	cd hw1
	for i in 1 2 3 4 5 6 7 8 9 10; do
		printf "int main(void) { return %d; }\n" $((i % 3)) > m$i.c
		gcc m$i.c -o m$i && ./m$i || true
		sleep 0.2
	done' >"$tmp/b.out" 2>&1 || { cat "$tmp/b.out"; fail "B's session failed"; }
wait "$apid" || { cat "$tmp/a.out"; fail "A's loop failed"; }

b_events() { grep -c '"/api/bud-1/hw1/202022222/logs/' "$tmp/api.log" 2>/dev/null || echo 0; }
b_all() { [ "$(b_events)" -ge 20 ]; }
wait_for 60 b_all || fail "only $(b_events) of B's 20 events arrived"
lost_seen() { curl -s "http://127.0.0.1:$mport/metrics" >"$tmp/metrics.txt" &&
	grep -q '^jcw_lost_records_total{source="container_budget"} [1-9]' "$tmp/metrics.txt"; }
wait_for 20 lost_seen || fail "no container_budget loss reached the forwarder"
sleep 2   # the last recorded exits, and the collector's next report
curl -s "http://127.0.0.1:$mport/metrics" >"$tmp/metrics.txt"
python3 - "$tmp/api.log" "$tmp/metrics.txt" "$tmp/a.out" "$tmp/collector.log" <<'PY' || fail "checks"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
m = {}
for l in open(sys.argv[2]):
    if l and not l.startswith("#"):
        k, _, v = l.rstrip().rpartition(" ")
        m[k] = float(v)
secs = next(l.split() for l in open(sys.argv[3]) if l.startswith("A_SECS"))
elapsed = float(secs[2]) - float(secs[1])
b = [r for r in reqs if "/202022222/logs/" in r["path"]]
a = [r for r in reqs if "/202011111/logs/run" in r["path"]]
assert len(b) == 20, len(b)
assert len(set(r["idempotency_key"] for r in a)) == len(a), "an event twice"
bound = 300 + 50 * elapsed + 5
assert 0 < len(a) <= bound, (len(a), bound)
lost = m['jcw_lost_records_total{source="container_budget"}']
reports = [json.loads(l) for l in open(sys.argv[4]) if "over their container's budget" in l]
assert reports, "the collector did not report"
last = reports[-1]["msg"]
assert "jcode-bud-1-202011111: " in last and "202022222" not in last, last
kernel = int(last.split(" in all)")[0].rsplit("(", 1)[1])
assert lost == kernel, (lost, kernel)
dropped_a = int(last.split("jcode-bud-1-202011111: ")[1].split()[0].rstrip(","))
assert len(a) + dropped_a == 1000, (len(a), dropped_a)
print(f"FIGURE container budget: A ran 1000 times in {elapsed:.2f} s, {len(a)} recorded and sent "
      f"(at most {bound:.0f}), {dropped_a} not recorded and counted; B's 20 events all arrived")
PY
