#!/usr/bin/env bash
# Where handle_exec's and handle_exit's time goes (issue 17: profile first),
# as root: the programs are loaded in variants that each leave one part out
# (the collector's --bench-skip, JCW_PROF_* in bpf/records.h; the verifier
# removes the tests in a deployed collector), and each variant's BPF run
# time per run (kernel BPF statistics) is compared with the whole's:
#   part cost = median(whole) - median(variant without the part)
# over ROUNDS rounds in which every variant runs once, interleaved, EXECS
# fork+exec+wait of /bin/true in a tracked container each (and, for the
# whole, in an untracked one). The parts: the program's entry (a variant
# that returns at once), the hostname filter, the container budget, the
# identity fields, the argv copy, the tracked map, the executable and cwd
# path walks, the ring buffer; for exit the live/hostname tests, the CPU,
# I/O and memory figures, the ring buffer and the tracked map delete. What
# the parts do not explain is printed as "rest" (parts interact: a part
# left out can leave a cache line cold for the next). Prints FIGURE lines;
# exits 77 when not root or when BPF cannot run here.
# Usage: bench_breakdown.sh [EXECS [ROUNDS]]   (default 2000 execs, 3 rounds)
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
COLLECTOR=$BUILD/jcw-collector
EXECLOOP=$BUILD/bench/execloop
export PIN_PATH=
N=${1:-2000}
ROUNDS=${2:-3}

if [ "$(id -u)" != 0 ]; then
	echo "bench_breakdown: needs root to load BPF programs and enable BPF statistics"
	exit 77
fi
for b in "$COLLECTOR" "$EXECLOOP"; do
	[ -x "$b" ] || { echo "missing $b (build first)"; exit 1; }
done
command -v bpftool >/dev/null || { echo "missing bpftool (make deps)"; exit 1; }

tmp=$(mktemp -d /tmp/jcw-bench-breakdown.XXXXXX)
cpid=
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	[ -n "$cpid" ] && kill -KILL "$cpid" 2>/dev/null
	wait 2>/dev/null
	sysctl -q kernel.bpf_stats_enabled="$stats_was"
	rm -rf "$tmp"
}
trap cleanup EXIT

start_collector() {  # start_collector [COLLECTOR ARGS]
	"$COLLECTOR" --no-socket --record /dev/null --container-rate 0 --hostname-prefix jcode-bench \
		"$@" --log-level info 2>"$tmp/collector.log" &
	cpid=$!
	for _ in $(seq 200); do
		grep -q '"attached' "$tmp/collector.log" && return 0
		if ! kill -0 "$cpid" 2>/dev/null; then
			cat "$tmp/collector.log"
			cpid=
			if grep -qE 'not root|no kernel BTF|too old' "$tmp/collector.log"; then
				echo "bench_breakdown: BPF unavailable here"
				exit 77
			fi
			echo "collector failed to start"
			exit 1
		fi
		sleep 0.05
	done
	echo "collector did not attach"; exit 1
}
stop_collector() {
	kill -INT "$cpid"
	wait "$cpid" 2>/dev/null
	cpid=
}
prog_id() {
	local id
	for id in $(grep -h '^prog_id:' /proc/"$cpid"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un); do
		bpftool -j prog show id "$id" 2>/dev/null | grep -q "\"name\":\"$1\"" && { echo "$id"; return; }
	done
}
stats() {  # stats ID...: "time count" per id
	local id
	for id; do
		bpftool -j prog show id "$id" | python3 -c 'import json,sys; p=json.load(sys.stdin); print(p.get("run_time_ns",0), p.get("run_cnt",0))'
	done
}
student() { unshare -u sh -c 'hostname jcode-bench-1 && exec "$@"' sh "$@"; }
other() { unshare -u sh -c 'hostname other-host-1 && exec "$@"' sh "$@"; }
mkdir -p "$tmp/bin"
cp /bin/true "$tmp/bin/true"

# measure VARIANT WHO: appends "VARIANT WHO exec_ns exit_ns" to results
measure() {
	local v=$1 who=$2 ie ix a b
	if [ "$v" = whole ]; then start_collector; else start_collector --bench-skip "$v"; fi
	ie=$(prog_id handle_exec)
	ix=$(prog_id handle_exit)
	sysctl -q kernel.bpf_stats_enabled=1
	a=$(stats "$ie" "$ix" | tr '\n' ' ')
	"$who" "$EXECLOOP" -n "$N" "$tmp/bin/true" >/dev/null
	b=$(stats "$ie" "$ix" | tr '\n' ' ')
	sysctl -q kernel.bpf_stats_enabled="$stats_was"
	stop_collector
	python3 -c '
import sys
v, who = sys.argv[1:3]
t0, c0, u0, d0, t1, c1, u1, d1 = map(int, sys.argv[3:])
print(v, who, "%.1f" % ((t1 - t0) / max(c1 - c0, 1)), "%.1f" % ((u1 - u0) / max(d1 - d0, 1)))' \
		"$v" "$who" $a $b >>"$tmp/results"
}

VARIANTS="whole exec-bare exec-filter exec-budget exec-fill exec-args exec-track exec-exe exec-cwd exec-output exit-bare exit-filter exit-fill exit-output exit-untrack"
for _ in $(seq "$ROUNDS"); do
	for v in $VARIANTS; do
		measure "$v" student
	done
	measure whole other
done
grep -q '"level":"error"' "$tmp/collector.log" && { cat "$tmp/collector.log"; echo "the collector logged errors"; exit 1; }

python3 - "$tmp/results" "$N" "$ROUNDS" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
n, rounds = sys.argv[2], sys.argv[3]
def med(v, who, col):
    xs = [float(r[col]) for r in rows if r[0] == v and r[1] == who]
    return statistics.median(xs)
ex = lambda v: med(v, "student", 2)
xt = lambda v: med(v, "student", 3)
method = f"median of {rounds} interleaved runs of {n} execs per variant"

whole = ex("whole")
parts = [("program entry and statistics", ex("exec-bare"), None),
         ("hostname filter and trust", ex("exec-filter") - ex("exec-bare"), None),
         ("container budget", whole - ex("exec-budget"), None),
         ("identity fields (ids, namespaces, creds, fd kinds, comm, hostname)", whole - ex("exec-fill"), None),
         ("argv copy (one read of the argument area)", whole - ex("exec-args"), None),
         ("tracked map lookup and update", whole - ex("exec-track"), None),
         ("executable path walk", whole - ex("exec-exe"), None),
         ("cwd path walk", whole - ex("exec-cwd"), None),
         ("ring buffer output (copy of the record)", whole - ex("exec-output"), None)]
print(f"FIGURE handle_exec, tracked, whole: {whole:.0f} ns ({method})")
for name, v, _ in parts:
    print(f"FIGURE handle_exec part, {name}: {v:.0f} ns ({method})")
print(f"FIGURE handle_exec part, rest (not explained by the parts): {whole - sum(v for _, v, _ in parts):.0f} ns ({method})")
print(f"FIGURE handle_exec, untracked: {med('whole', 'other', 2):.0f} ns "
      f"(program entry {ex('exec-bare'):.0f} + hostname test {med('whole', 'other', 2) - ex('exec-bare'):.0f}; {method})")

whole = xt("whole")
parts = [("program entry and statistics", xt("exit-bare")),
         ("live and hostname tests", xt("exit-filter") - xt("exit-bare")),
         ("CPU, I/O and memory figures", whole - xt("exit-fill")),
         ("ring buffer reserve and submit", whole - xt("exit-output")),
         ("tracked map delete", whole - xt("exit-untrack"))]
print(f"FIGURE handle_exit, tracked, whole: {whole:.0f} ns ({method})")
for name, v in parts:
    print(f"FIGURE handle_exit part, {name}: {v:.0f} ns ({method})")
print(f"FIGURE handle_exit part, rest (tracked map lookup, record fields): {whole - sum(v for _, v in parts):.0f} ns ({method})")
print(f"FIGURE handle_exit, untracked: {med('whole', 'other', 3):.0f} ns "
      f"(program entry {xt('exit-bare'):.0f} + live and hostname tests {med('whole', 'other', 3) - xt('exit-bare'):.0f}; {method})")
EOF
