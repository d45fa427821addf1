#!/usr/bin/env bash
# Kernel cost of the file-event programs (bpf/file.bpf.h), as root:
#   - BPF run time per close (kernel.bpf_stats_enabled accounting, the
#     file_close program's run_time_ns / run_cnt) for a process of another
#     host (untracked: hostname test only), and for a student's process
#     (hostname jcode-...): a written .c file (path walk + ring buffer
#     record), a written .o file (dropped by the extension filter) and a
#     .c file open read-only (dropped by the mode test);
#   - what enabling the syscall events costs every OTHER system call of the
#     node: getppid() with and without the collector attached, ROUNDS
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

start_collector() {
	"$COLLECTOR" --no-socket --record /dev/null --log-level info 2>"$tmp/collector.log" &
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
	grep -q 'file events on' "$tmp/collector.log" || { cat "$tmp/collector.log"; echo "file events are off"; exit 1; }
}
stop_collector() {
	kill -INT "$cpid"
	wait "$cpid" 2>/dev/null
	cpid=
}

# The collector's own file_close program (others may run beside it): the
# prog ids of its descriptors.
prog_id() {
	local id
	for id in $(grep -h '^prog_id:' /proc/"$cpid"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un); do
		bpftool -j prog show id "$id" 2>/dev/null | grep -q '"name":"file_close"' && { echo "$id"; return; }
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

: >"$tmp/x.c"
: >"$tmp/x.o"
student() {  # a process of a student container: only its hostname matters
	unshare -u sh -c 'hostname jcode-bench-1 && exec "$@"' sh "$@"
}
other() {
	unshare -u sh -c 'hostname other-host-1 && exec "$@"' sh "$@"
}

start_collector
id=$(prog_id)
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

without=() with=()
for _ in $(seq "$ROUNDS"); do
	without+=("$("$LOOP" getppid "$NSYS")")
	start_collector
	with+=("$("$LOOP" getppid "$NSYS")")
	stop_collector
done
python3 - "${without[*]}" "${with[*]}" <<'EOF'
import sys
b, w = [list(map(float, a.split())) for a in sys.argv[1:]]
print(f"FIGURE getppid, any process, collector attached vs not: {min(w):.0f} vs {min(b):.0f} ns per call "
      f"({min(w) - min(b):+.0f} ns, fastest of {len(b)} interleaved runs; all: "
      f"{' '.join('%.0f' % x for x in w)} vs {' '.join('%.0f' % x for x in b)})")
EOF
