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
export PIN_PATH=   # nothing left attached (pin.h)
LOOP=$BUILD/tools/syscall_loop
N=${1:-200000}
ROUNDS=${2:-5}
NSYS=$((N * 5))

if [ "$(id -u)" != 0 ]; then
	echo "bench_close: needs root to load BPF programs and enable BPF statistics"
	exit 77
fi
for b in "$COLLECTOR" "$LOOP"; do
	[ -x "$b" ] || { echo "missing $b (build first)"; exit 1; }
done
command -v bpftool >/dev/null || { echo "missing bpftool (make deps)"; exit 1; }

tmp=$(mktemp -d /tmp/jcw-bench-close.XXXXXX)
cpid=
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	[ -n "$cpid" ] && kill -KILL "$cpid" 2>/dev/null
	wait 2>/dev/null
	sysctl -q kernel.bpf_stats_enabled="$stats_was"
	rm -rf "$tmp"
}
trap cleanup EXIT

start_collector() {  # start_collector HOOKS [COLLECTOR ARGS]: no kernel budget unless given
	local hooks=$1; shift
	# 200,000 records of one container are the measure here, not a flood.
	"$COLLECTOR" --no-socket --record /dev/null --file-hooks "$hooks" --container-rate 0 "$@" \
		--log-level info 2>"$tmp/collector.log" &
	cpid=$!
	for _ in $(seq 200); do
		grep -q '"attached' "$tmp/collector.log" && break
		if ! kill -0 "$cpid" 2>/dev/null; then
			cat "$tmp/collector.log"
			cpid=
			if grep -qE 'not root|no kernel BTF|too old' "$tmp/collector.log"; then
				echo "bench_close: BPF unavailable here"
				exit 77
			fi
			echo "collector failed to start"
			exit 1
		fi
		sleep 0.05
	done
	grep -qE 'file events (syscall events|raw syscalls)' "$tmp/collector.log" || { cat "$tmp/collector.log"; echo "file events are off"; exit 1; }
}
stop_collector() {
	kill -INT "$cpid"
	wait "$cpid" 2>/dev/null
	cpid=
}

# The collector's own program named $1 (others may run beside it): from
# the prog ids of its descriptors.
prog_id() {
	local id
	for id in $(grep -h '^prog_id:' /proc/"$cpid"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un); do
		bpftool -j prog show id "$id" 2>/dev/null | grep -q "\"name\":\"$1\"" && { echo "$id"; return; }
	done
}
# "run_time_ns run_cnt" of program $1
prog_stats() {
	bpftool -j prog show id "$1" | python3 -c 'import json,sys; p=json.load(sys.stdin); print(p.get("run_time_ns",0), p.get("run_cnt",0))'
}
# ns per run of program $1 while running the rest of the arguments
per_run() {
	local id=$1; shift
	local a b
	a=$(prog_stats "$id")
	"$@" >/dev/null || return 1
	b=$(prog_stats "$id")
	python3 -c 'import sys; t0,c0,t1,c1=map(int,sys.argv[1:]); print("%.0f %d" % ((t1-t0)/max(c1-c0,1), c1-c0))' $a $b
}
figure() {  # figure LABEL "NS RUNS"
	set -- "$1" $2
	echo "FIGURE $1: $2 ns of BPF per close ($3 runs)"
}
# ns of BPF per run of programs $1 (sys_enter) and $2 (sys_exit) while
# running the rest of the arguments
raw_cost() {
	local e=$1 x=$2; shift 2
	local a b c d
	a=$(prog_stats "$e"); b=$(prog_stats "$x")
	"$@" >/dev/null || return 1
	c=$(prog_stats "$e"); d=$(prog_stats "$x")
	python3 -c '
import sys
t0, c0, u0, d0, t1, c1, u1, d1 = map(int, sys.argv[1:])
print("%.0f ns per sys_enter run, %.0f per sys_exit run (%d syscalls)" %
      ((t1 - t0) / max(c1 - c0, 1), (u1 - u0) / max(d1 - d0, 1), c1 - c0))' $a $b $c $d
}

: >"$tmp/x.c"
: >"$tmp/x.o"
student() {  # a process of a student container: only its hostname matters
	unshare -u sh -c 'hostname jcode-bench-1 && exec "$@"' sh "$@"
}
other() {
	unshare -u sh -c 'hostname other-host-1 && exec "$@"' sh "$@"
}

start_collector events
id=$(prog_id file_close)
[ -n "$id" ] || { echo "file_close program of the collector not found"; exit 1; }
sysctl -q kernel.bpf_stats_enabled=1

figure "close, untracked process" "$(per_run "$id" other "$LOOP" open-close-write "$tmp/x.c" "$N")"
figure "close, tracked process, written .c (record sent)" \
	"$(per_run "$id" student "$LOOP" open-close-write "$tmp/x.c" "$N")"
figure "close, tracked process, written .o (extension filter)" \
	"$(per_run "$id" student "$LOOP" open-close-write "$tmp/x.o" "$N")"
figure "close, tracked process, .c read-only (mode filter)" \
	"$(per_run "$id" student "$LOOP" open-close-read "$tmp/x.c" "$N")"

sysctl -q kernel.bpf_stats_enabled="$stats_was"
stop_collector
grep -q '"level":"error"' "$tmp/collector.log" && { cat "$tmp/collector.log"; echo "the collector logged errors"; exit 1; }

# The budget's cost: the same recorded close with it on and off, interleaved.
on=() off=()
for _ in $(seq "$ROUNDS"); do
	for mode in on off; do
		if [ $mode = on ]; then
			start_collector events --container-rate 10000000 --container-burst 100000000
		else
			start_collector events
		fi
		id=$(prog_id file_close)
		sysctl -q kernel.bpf_stats_enabled=1
		read -r ns _ < <(per_run "$id" student "$LOOP" open-close-write "$tmp/x.c" "$((N / 4))")
		sysctl -q kernel.bpf_stats_enabled="$stats_was"
		stop_collector
		if [ $mode = on ]; then on+=("$ns"); else off+=("$ns"); fi
	done
done
python3 - "${on[*]}" "${off[*]}" <<'EOF'
import statistics, sys
on, off = [list(map(float, a.split())) for a in sys.argv[1:]]
print(f"FIGURE kernel budget per recorded record: {statistics.median(on) - statistics.median(off):+.0f} ns "
      f"(close of a written .c, tracked: median {statistics.median(on):.0f} ns with the budget, "
      f"{statistics.median(off):.0f} without; {len(on)} interleaved runs each: "
      f"{' '.join('%.0f' % x for x in on)} / {' '.join('%.0f' % x for x in off)})")
EOF

start_collector raw
ide=$(prog_id file_sys_enter)
idx=$(prog_id file_sys_exit)
[ -n "$ide" ] && [ -n "$idx" ] || { echo "raw programs of the collector not found"; exit 1; }
sysctl -q kernel.bpf_stats_enabled=1
echo "FIGURE raw hooks, any syscall while an untracked process opens and closes .c files: $(raw_cost "$ide" "$idx" other "$LOOP" open-close-write "$tmp/x.c" "$N")"
echo "FIGURE raw hooks, any syscall while a tracked process writes .c files: $(raw_cost "$ide" "$idx" student "$LOOP" open-close-write "$tmp/x.c" "$N")"
sysctl -q kernel.bpf_stats_enabled="$stats_was"
stop_collector

without=() events=() raw=()
for _ in $(seq "$ROUNDS"); do
	without+=("$("$LOOP" getppid "$NSYS")")
	start_collector events
	events+=("$("$LOOP" getppid "$NSYS")")
	stop_collector
	start_collector raw
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
