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
N=${1:-2000}
ROUNDS=${2:-3}
source tests/bench/kbench.sh
kbench_init bench_breakdown "$EXECLOOP"

mkdir -p "$tmp/bin"
cp /bin/true "$tmp/bin/true"

# measure VARIANT WHO: appends "VARIANT WHO exec_ns exit_ns" to results
measure() {
	local v=$1 who=$2 ie ix ne nx
	if [ "$v" = whole ]; then
		start_collector --hostname-prefix jcode-bench
	else
		start_collector --hostname-prefix jcode-bench --bench-skip "$v"
	fi
	ie=$(prog_id handle_exec)
	ix=$(prog_id handle_exit)
	stats_on
	read -r ne nx _ < <(per_run "$ie,$ix" "$who" "$EXECLOOP" -n "$N" "$tmp/bin/true")
	stats_off
	stop_collector
	echo "$v $who $ne $nx" >>"$tmp/results"
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
