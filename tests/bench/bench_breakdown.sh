#!/usr/bin/env bash
# Where handle_exec's and handle_exit's time goes (issue 17: profile first),
# as root. The programs are loaded in prefix variants: each runs the real
# program up to one stage and returns there (the collector's --bench-skip
# with every later part left out; JCW_PROF_* in bpf/records.h, removed by
# the verifier in a deployed collector). A stage costs
#   median(prefix through it) - median(prefix through the stage before)
# so the stages add up to the whole program exactly, and no stage is
# measured with a later one's cache misses taken away (leave-one-out
# variants did that, and gave negative parts). Each variant's BPF run time
# per run (kernel BPF statistics) is taken over ROUNDS rounds in which every
# variant runs once, interleaved, EXECS fork+exec+wait of /bin/true in a
# tracked container each (and, for the whole, in an untracked one).
# handle_exec's stages: the program's entry, the hostname filter and trust,
# the scratch slot with the task's mm and fs (and the container budget,
# which these runs turn off, --container-rate 0, so that 2,000 execs a
# second are all recorded), the identity fields, the argv copy, the
# tracked map, the executable and cwd path walks, the ring buffer. handle_exit's
# (measured with the whole handle_exec, so its processes are tracked): the
# entry, the live and hostname tests with the tracked lookup, the stale and
# alive tests and the record's fixed fields, the CPU, I/O and memory
# figures, the tracked map delete with the container's share,
# the ring buffer. Prints FIGURE lines; exits 77 when not root or when BPF
# cannot run here.
# Usage: bench_breakdown.sh [EXECS [ROUNDS]]   (default 2000 execs, 4 rounds)
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
COLLECTOR=$BUILD/jcw-collector
EXECLOOP=$BUILD/bench/execloop
N=${1:-2000}
ROUNDS=${2:-4}
source tests/bench/kbench.sh
kbench_init bench_breakdown "$EXECLOOP"

mkdir -p "$tmp/bin"
cp /bin/true "$tmp/bin/true"

# Prefix variants: NAME=SKIPS (the parts left out, --bench-skip).
# prefixes STAGE...: the stages in program order; a prefix through each but
# the last leaves out every stage after it (the last is the whole).
prefixes() {
	local s=("$@") i
	for ((i = 0; i < ${#s[@]} - 1; i++)); do
		echo "${s[i]}=$(IFS=,; echo "${s[*]:i+1}")"
	done
}
VARIANTS="whole= exec-bare=exec-bare exec-filter=exec-filter
$(prefixes exec-budget exec-fill exec-args exec-track exec-exe exec-cwd exec-output)
exit-bare=exit-bare exit-filter=exit-filter
$(prefixes exit-lookup exit-fill exit-untrack exit-output)"

# measure NAME SKIPS WHO: appends "NAME WHO exec_ns exit_ns" to results
measure() {
	local v=$1 skips=$2 who=$3 ie ix ne nx
	# The whole programs as deployed; a variant is bpf/breakdown.bpf.h's
	# bench_exec and bench_exit, loaded instead of them.
	if [ -z "$skips" ]; then
		start_collector --hostname-prefix jcode-bench
		ie=$(prog_id handle_exec)
		ix=$(prog_id handle_exit)
	else
		start_collector --hostname-prefix jcode-bench --bench-skip "$skips"
		ie=$(prog_id bench_exec)
		ix=$(prog_id bench_exit)
	fi
	stats_on
	read -r ne nx _ < <(per_run "$ie,$ix" "$who" "$EXECLOOP" -n "$N" "$tmp/bin/true")
	stats_off
	stop_collector
	echo "$v $who $ne $nx" >>"$tmp/results"
}

for _ in $(seq "$ROUNDS"); do
	for v in $VARIANTS; do
		measure "${v%%=*}" "${v#*=}" student
	done
	measure whole "" other
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

def stages(col, names):
    """(label, cost) of each stage: prefix through it minus the one before."""
    out, prev = [], 0.0
    for label, v in names:
        cur = col(v)
        out.append((label, cur - prev))
        prev = cur
    return out

for prog, col, who_col, names in (
    ("handle_exec", ex, 2, [
        ("program entry and statistics", "exec-bare"),
        ("hostname filter and trust", "exec-filter"),
        ("the scratch slot, argc, the mm and fs pointers (the container budget is off here)", "exec-budget"),
        ("identity fields (ids, namespaces, creds, fd kinds, comm, hostname)", "exec-fill"),
        ("argv copy (one read of the argument area)", "exec-args"),
        ("tracked map lookup and update, the container's share", "exec-track"),
        ("executable path walk", "exec-exe"),
        ("cwd path walk", "exec-cwd"),
        ("ring buffer output (copy of the record)", "whole")]),
    ("handle_exit", xt, 3, [
        ("program entry and statistics", "exit-bare"),
        ("live and hostname tests, tracked lookup", "exit-filter"),
        ("stale and alive tests, the record's fixed fields", "exit-lookup"),
        ("CPU, I/O and memory figures", "exit-fill"),
        ("tracked map delete and the container's share", "exit-untrack"),
        ("ring buffer reserve and submit", "whole")])):
    print(f"FIGURE {prog}, tracked, whole: {col('whole'):.0f} ns ({method})")
    for label, v in stages(col, names):
        print(f"FIGURE {prog} part, {label}: {v:.0f} ns ({method})")
    other = med("whole", "other", who_col)
    print(f"FIGURE {prog}, untracked: {other:.0f} ns (goal < 100 ns; program entry {col(names[0][1]):.0f} + "
          f"the tests that turn it away {other - col(names[0][1]):.0f}; {method})")
both = ex("whole") + xt("whole")
print(f"FIGURE handle_exec + handle_exit, tracked: {both:.0f} ns (goal < 2000 ns; {method})")
EOF
