#!/usr/bin/env bash
# Kernel cost of the standard error hook (bpf/stderr.bpf.h), as root: BPF
# run time per write(2) (kernel BPF statistics: run_time_ns / run_cnt of
# the stderr_sys_write program at the entry plus stderr_sys_write_exit at
# the exit, where the text is copied) of
#   - an untracked process (another host) to fd 1 and to fd 2: goal < 100 ns;
#   - a tracked process (jcode- host) to fd 1: goal < 200 ns;
#   - a tracked process to fd 2: in its head (a record per write) and past
#     it (the 4 KiB ring, a 64-byte and a 64 KiB write);
# what every write of the node pays in wall time (write(2) of 64 bytes to
# /dev/null by an untracked process, to fd 3 and to fd 2, without the
# collector, with it and the capture off, with it and the capture on:
# fastest of ROUNDS interleaved runs); then what the capture adds to a tracked exec + exit (handle_exec +
# handle_exit with CAPTURE_STDERR all and off, ROUNDS interleaved runs,
# medians): the goal is "unchanged". The collector runs for real
# (--no-socket --record /dev/null). Prints FIGURE lines; exits 77 when not
# root or when BPF cannot run here.
# Usage: bench_write.sh [WRITES [ROUNDS]]   (default 200000 per case, 5 rounds)
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
COLLECTOR=$BUILD/jcw-collector
EXECLOOP=$BUILD/bench/execloop
LOOP=$BUILD/tools/syscall_loop
N=${1:-200000}
ROUNDS=${2:-5}
HEAD=32768           # --stderr-process-bytes of the head case: 2048 writes of 16 bytes
source tests/bench/kbench.sh
kbench_init bench_write "$LOOP" "$EXECLOOP"

figure() {  # figure LABEL "NS_ENTER NS_EXIT RUNS" GOAL
	set -- "$1" $2 "$3"
	echo "FIGURE $1: $(($2 + $3)) ns of BPF per write (entry $2 + exit $3; $4 runs${5:+; goal $5})"
}
write_ids() {  # the entry and exit programs' ids, "ID,ID"
	local a b
	a=$(prog_id stderr_sys_write)
	b=$(prog_id stderr_sys_write_exit)
	[ -n "$a" ] && [ -n "$b" ] ||
		{ cat "$tmp/collector.log"; echo "the write programs of the collector were not found"; exit 1; }
	echo "$a,$b"
}

start_collector
id=$(write_ids)
stats_on
figure "write to fd 1, untracked process" "$(per_run "$id" other "$LOOP" write 1 64 "$N")" "< 100 ns"
figure "write to fd 2, untracked process" "$(per_run "$id" other "$LOOP" write 2 64 "$N")" "< 100 ns"
figure "write to fd 1, tracked process" "$(per_run "$id" student "$LOOP" write 1 64 "$N")" "< 200 ns"
figure "write of 64 B to fd 2, tracked, past its head (ring)" "$(per_run "$id" student "$LOOP" write 2 64 "$N")" ""
figure "write of 64 KiB to fd 2, tracked, past its head (ring, 4 KiB copied)" \
	"$(per_run "$id" student "$LOOP" write 2 65536 "$((N / 20))")" ""
stats_off
stop_collector

start_collector --stderr-process-bytes "$HEAD"
id=$(write_ids)
stats_on
figure "write of 16 B to fd 2, tracked, in its head (a record each)" \
	"$(per_run "$id" student "$LOOP" write 2 16 "$((HEAD / 16))")" ""
stats_off
stop_collector
grep -q '"level":"error"' "$tmp/collector.log" && { cat "$tmp/collector.log"; echo "the collector logged errors"; exit 1; }

# Every write of the node, in wall time: to another descriptor (most
# writes: one compare in BPF) and to fd 2 (the hostname test too).
walltime() {  # walltime FD LABEL
	local fd=$1 without=() off=() on=()
	for _ in $(seq "$ROUNDS"); do
		without+=("$("$LOOP" write "$fd" 64 "$N" 2>/dev/null 3>/dev/null)")
		start_collector --stderr off
		off+=("$("$LOOP" write "$fd" 64 "$N" 2>/dev/null 3>/dev/null)")
		stop_collector
		start_collector --stderr all
		on+=("$("$LOOP" write "$fd" 64 "$N" 2>/dev/null 3>/dev/null)")
		stop_collector
	done
	python3 - "$2" "${without[*]}" "${off[*]}" "${on[*]}" <<'EOF'
import sys
label = sys.argv[1]
b, f, o = [list(map(float, a.split())) for a in sys.argv[2:]]
fmt = lambda v: " ".join("%.0f" % x for x in v)
print(f"FIGURE {label}: {min(o) - min(f):+.0f} ns with the capture "
      f"({min(b):.0f} ns without the collector, {min(f):.0f} with the capture off, {min(o):.0f} on; "
      f"fastest of {len(b)} interleaved runs; all: {fmt(b)} / {fmt(f)} / {fmt(o)})")
EOF
}
walltime 3 "write(2) of 64 B to another fd, any untracked process"
walltime 2 "write(2) of 64 B to fd 2, any untracked process"

# Exec + exit of a tracked process with the capture on and off.
mkdir -p "$tmp/bin"
cp /bin/true "$tmp/bin/true"
on=() off=()
for _ in $(seq "$ROUNDS"); do
	for mode in all off; do
		start_collector --stderr "$mode"
		ie=$(prog_id handle_exec)
		ix=$(prog_id handle_exit)
		stats_on
		read -r ne nx _ < <(per_run "$ie,$ix" student "$EXECLOOP" -n "$((N / 100))" "$tmp/bin/true")
		stats_off
		stop_collector
		if [ $mode = all ]; then on+=($((ne + nx))); else off+=($((ne + nx))); fi
	done
done
median_delta "tracked exec + exit with the capture" "handle_exec + handle_exit per run" \
	"with CAPTURE_STDERR=all" "with off" "${on[*]}" "${off[*]}"
