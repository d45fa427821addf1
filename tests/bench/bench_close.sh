#!/usr/bin/env bash
# Kernel cost of the file-event programs (bpf/file.bpf.h), as root:
#   - BPF run time per close (kernel.bpf_stats_enabled accounting, the
#     file_close program's run_time_ns / run_cnt) for a process of another
#     host (untracked: hostname test only), and for a student's process
#     (hostname jcode-...): a written .c file (path walk + ring buffer
#     record), a written .o file (dropped by the extension filter) and a
#     .c file open read-only (dropped by the mode test);
#   - the same with --file-hooks raw (raw_tp/sys_enter+sys_exit, the
#     fallback without tracefs): BPF ns per run of each program, i.e. per
#     syscall of any process on the node (the loop's and everyone else's);
#   - what the per-container kernel budget (bpf/budget.bpf.h) adds to a
#     recorded close: budget on (at a rate nothing reaches) and off, ROUNDS
#     interleaved runs each, medians;
#   - what each costs every OTHER system call of the node: getppid() with
#     the collector attached (events, raw) and without, ROUNDS
#     interleaved runs each, the fastest of each kept (wall time: on a
#     loaded machine only the minimum means anything).
# The collector runs for real (--no-socket --record /dev/null). Prints FIGURE
# lines; exits 77 when not root or when BPF cannot run here.
# Usage: bench_close.sh [CLOSES [ROUNDS]]   (default 200000 per case, 5 rounds)
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
COLLECTOR=$BUILD/jcw-collector
LOOP=$BUILD/tools/syscall_loop
N=${1:-200000}
ROUNDS=${2:-5}
NSYS=$((N * 5))
source tests/bench/kbench.sh
kbench_init bench_close "$LOOP"

start_hooks() {  # start_hooks HOOKS [COLLECTOR ARGS]: file events on those hooks
	local hooks=$1; shift
	start_collector --file-hooks "$hooks" "$@"
	grep -qE 'file events (syscall events|raw syscalls)' "$tmp/collector.log" ||
		{ cat "$tmp/collector.log"; echo "file events are off"; exit 1; }
}
figure() {  # figure LABEL "NS RUNS"
	set -- "$1" $2
	echo "FIGURE $1: $2 ns of BPF per close ($3 runs)"
}
# ns of BPF per run of programs $1 (sys_enter) and $2 (sys_exit) while
# running the rest of the arguments
raw_cost() {
	local e=$1 x=$2 ne nx n; shift 2
	read -r ne nx n < <(per_run "$e,$x" "$@") || return 1
	echo "$ne ns per sys_enter run, $nx per sys_exit run ($n syscalls)"
}

: >"$tmp/x.c"
: >"$tmp/x.o"

start_hooks events
id=$(prog_id file_close)
[ -n "$id" ] || { echo "file_close program of the collector not found"; exit 1; }
stats_on

figure "close, untracked process" "$(per_run "$id" other "$LOOP" open-close-write "$tmp/x.c" "$N")"
figure "close, tracked process, written .c (record sent)" \
	"$(per_run "$id" student "$LOOP" open-close-write "$tmp/x.c" "$N")"
figure "close, tracked process, written .o (extension filter)" \
	"$(per_run "$id" student "$LOOP" open-close-write "$tmp/x.o" "$N")"
figure "close, tracked process, .c read-only (mode filter)" \
	"$(per_run "$id" student "$LOOP" open-close-read "$tmp/x.c" "$N")"

stats_off
stop_collector
grep -q '"level":"error"' "$tmp/collector.log" && { cat "$tmp/collector.log"; echo "the collector logged errors"; exit 1; }

# The budget's cost: the same recorded close with it on and off, interleaved.
on=() off=()
for _ in $(seq "$ROUNDS"); do
	for mode in on off; do
		if [ $mode = on ]; then
			start_hooks events --container-rate 10000000 --container-burst 100000000
		else
			start_hooks events
		fi
		id=$(prog_id file_close)
		stats_on
		read -r ns _ < <(per_run "$id" student "$LOOP" open-close-write "$tmp/x.c" "$((N / 4))")
		stats_off
		stop_collector
		if [ $mode = on ]; then on+=("$ns"); else off+=("$ns"); fi
	done
done
median_delta "kernel budget per recorded record" "close of a written .c, tracked" \
	"with the budget" "without" "${on[*]}" "${off[*]}"

start_hooks raw
ide=$(prog_id file_sys_enter)
idx=$(prog_id file_sys_exit)
[ -n "$ide" ] && [ -n "$idx" ] || { echo "raw programs of the collector not found"; exit 1; }
stats_on
echo "FIGURE raw hooks, any syscall while an untracked process opens and closes .c files: $(raw_cost "$ide" "$idx" other "$LOOP" open-close-write "$tmp/x.c" "$N")"
echo "FIGURE raw hooks, any syscall while a tracked process writes .c files: $(raw_cost "$ide" "$idx" student "$LOOP" open-close-write "$tmp/x.c" "$N")"
stats_off
stop_collector

without=() events=() raw=()
for _ in $(seq "$ROUNDS"); do
	without+=("$("$LOOP" getppid "$NSYS")")
	start_hooks events
	events+=("$("$LOOP" getppid "$NSYS")")
	stop_collector
	start_hooks raw
	raw+=("$("$LOOP" getppid "$NSYS")")
	stop_collector
done
python3 - "${without[*]}" "${events[*]}" "${raw[*]}" <<'EOF'
import sys
b, e, r = [list(map(float, a.split())) for a in sys.argv[1:]]
fmt = lambda v: " ".join("%.0f" % x for x in v)
print(f"FIGURE getppid, any process: {min(b):.0f} ns without the collector, {min(e):.0f} with "
      f"syscall events ({min(e) - min(b):+.0f}), {min(r):.0f} with raw hooks ({min(r) - min(b):+.0f}); "
      f"fastest of {len(b)} interleaved runs (all: {fmt(b)} / {fmt(e)} / {fmt(r)})")
EOF
