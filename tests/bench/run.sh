#!/usr/bin/env bash
# make bench: what the monitor costs the node and how fast it delivers.
# Measures the six figures of issue 7, prints them as a Markdown table
# (with the target of each beside it; nothing passes or fails) and writes
# the same figures to $BENCH_OUT/results.json (machine, date, value, unit,
# method of each). Uses the optimized binaries in $BUILD (default build/).
#
#   1 kernel cost: mean BPF run time per program run (bpf_stats_enabled=1,
#     bpftool), for execs in a tracked and an untracked container
#   2 exec overhead: fork+exec+wait of a static tiny binary with the monitor
#     running vs not, ratio of interleaved runs, tracked and untracked
#   3 storm: parallel exec loops in tracked containers, losses at the
#     default ring buffer, smallest ring buffer without loss
#   4 forwarder throughput on a replayed capture of mixed events: --print,
#     delivery to tests/bench/httpsink (libev, keep-alive), with the outbox
#   5 latency from process exit (kernel time in the body) to arrival at
#     the sink, at 100 and 1,000 exits/s
#   6 peak RSS (VmHWM) of collector and forwarder during 3 and 4, and with
#     1M events waiting in the outbox
#   7 what the notebook hook (contrib/jupyter/99-jcw-cell.py) adds to a
#     cell: tests/bench/notebook_hook.py, with Debian's python3
#   8 a flood of saves by one student, replayed with and without the
#     per-student snapshot budget: forwarder CPU per save, snapshots written,
#     registrations (tests/bench/snap_flood.py)
#   9 a bystander's latency under a neighbour's flood (tests/e2e/noisy_neighbour.sh)
#  10 the ProgSnap2 dataset: what PROGSNAP2_DIR adds to the forwarder's CPU
#     per event (figure 4's outbox replay with and without it, interleaved),
#     and jcw-dataset build over a generated semester (tests/bench/ds_parts.py)
#
# Root is needed for 1, 2, 3, 5 (BPF, namespaces); without it they are
# reported as n/a. Figures needing the durable outbox (--state-dir) are n/a
# until the forwarder has it. tests/bench/bench_close.sh (the per-close
# cost, when file capture exists) is run if present: its "FIGURE name:
# value unit ..." lines become figure 1 rows.
#
# Environment (defaults for the full run; BENCH_SMOKE=1 makes every size
# tiny, for the smoke test in make test):
#   BUILD               binaries (build)
#   BENCH_OUT           results.json, results.md (BUILD/bench)
#   BENCH_EXEC_N        execs per condition, figure 1 (4000)
#   BENCH_PAIRS         on/off pairs, figure 2 (10)
#   BENCH_PAIR_N        execs per run, figure 2 (1000)
#   BENCH_STORM_SECS    storm length (30); BENCH_STORM_JOBS parallel loops (4)
#   BENCH_SEARCH_SECS   length of each ring-size trial (8)
#   BENCH_RING_SIZES    sizes tried downwards from the default (2m 512k 128k 64k;
#                       64k is the collector's smallest)
#   BENCH_EVENTS        events in the replayed capture, figure 4 (100000)
#   BENCH_REPS          repetitions of each figure 4 run, median kept (3)
#   BENCH_LAT_SECS      length of each latency run (15)
#   BENCH_OUTBOX_EVENTS events left waiting in the outbox (1000000)
#   BENCH_HOOK_CELLS    cells timed per outcome, figure 7 (2000)
#   BENCH_FLOOD_SAVES   saves in the flood, figure 8 (20000)
#   BENCH_DATASET_EVENTS events of the generated semester, figure 10 (5000000)
#   BENCH_FWD_ARGS, BENCH_COL_ARGS  more options for every forwarder and collector
#                       started (compare settings: "--commit-interval 1ms")
#   BENCH_FIGS          figures to measure (1 2 3 4 5 6 7 8 9 10; 6's storm RSS needs 3)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
BUILD=$(cd "$BUILD" && pwd) || { echo "run.sh: no build directory $BUILD (make first)" >&2; exit 1; }
OUT=${BENCH_OUT:-$BUILD/bench}
SMOKE=${BENCH_SMOKE:-0}
if [ "$SMOKE" = 1 ]; then
	d_exec=200 d_pairs=1 d_pair_n=100 d_storm=2 d_jobs=2 d_search=1 d_sizes="64k"
	d_events=3000 d_reps=1 d_lat=1 d_outbox=3000 d_pipe=0.2 d_dataset=20000 scale=smoke
else
	d_exec=4000 d_pairs=10 d_pair_n=1000 d_storm=30 d_jobs=4 d_search=8 d_sizes="2m 512k 128k 64k"
	d_events=100000 d_reps=3 d_lat=15 d_outbox=1000000 d_pipe=2 d_dataset=5000000 scale=full
fi
EXEC_N=${BENCH_EXEC_N:-$d_exec}
PAIRS=${BENCH_PAIRS:-$d_pairs}
PAIR_N=${BENCH_PAIR_N:-$d_pair_n}
STORM_SECS=${BENCH_STORM_SECS:-$d_storm}
STORM_JOBS=${BENCH_STORM_JOBS:-$d_jobs}
SEARCH_SECS=${BENCH_SEARCH_SECS:-$d_search}
RING_SIZES=${BENCH_RING_SIZES:-$d_sizes}
EVENTS=${BENCH_EVENTS:-$d_events}
REPS=${BENCH_REPS:-$d_reps}
LAT_SECS=${BENCH_LAT_SECS:-$d_lat}
OUTBOX_EVENTS=${BENCH_OUTBOX_EVENTS:-$d_outbox}
PIPE_SECS=$d_pipe
DATASET_EVENTS=${BENCH_DATASET_EVENTS:-$d_dataset}
FIGS=" ${BENCH_FIGS:-1 2 3 4 5 6 7 8 9 10} "
want() { [[ $FIGS == *" $1 "* ]]; }

COLLECTOR=$BUILD/jcw-collector
# Each measured collector loads its own programs and leaves none pinned.
export PIN_PATH=
FWD=$BUILD/jcw-forwarder
DATASET=$BUILD/jcw-dataset
MK=$BUILD/tools/mkcapture
SINK=$BUILD/bench/httpsink
EXECLOOP=$BUILD/bench/execloop
RUNSTAT=$BUILD/bench/runstat
PIPEBENCH=$BUILD/bench/bench_pipeline
BPFSTATS=$BUILD/bench/bpfstats
WAKEFLOOR=$BUILD/bench/wakefloor
CALC="python3 $HERE/calc.py"
STUDENT=jcode-os-9-209912345
OTHER=bench-other-host
for b in "$COLLECTOR" "$FWD" "$DATASET" "$MK" "$SINK" "$EXECLOOP" "$RUNSTAT" "$PIPEBENCH" "$BPFSTATS"; do
	[ -x "$b" ] || { echo "run.sh: missing $b (make first)" >&2; exit 1; }
done
mkdir -p "$OUT"

tmp=$(mktemp -d /tmp/jcw-bench.XXXXXX)
t_start=$SECONDS
# Only children not yet reaped (jobs -p): their pids cannot have been reused.
cleanup() {
	local p left
	left=$(jobs -p)
	if [ -n "$left" ]; then
		kill -TERM $left 2>/dev/null
		sleep 0.5
		kill -KILL $left 2>/dev/null
		wait 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

RES=$tmp/results.tsv
: >"$RES"
# result ID FIG WHAT VALUE UNIT TARGET METHOD [NOTE]
result() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "${8:-}" >>"$RES"
	printf '  %-34s %s %s%s\n' "$1" "$4" "$5" "${8:+  ($8)}" >&2
}
say() { printf '== [%3ds] %s\n' $((SECONDS - t_start)) "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for SECONDS COMMAND...
	local end=$((SECONDS + $1)); shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}
# wait_alive PID SECONDS COMMAND...: wait_for, giving up as soon as PID is gone.
wait_alive() {
	local pid=$1 end=$((SECONDS + $2)); shift 2
	until "$@"; do
		kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}
div() {  # div A B [M]: M*A/B, n/a unless both are numbers and B > 0
	awk -v a="$1" -v b="$2" -v m="${3:-1}" 'BEGIN{
		if (a ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ && b ~ /^[0-9.]+([eE][-+]?[0-9]+)?$/ && b > 0)
			printf "%.3f", m * a / b; else print "n/a" }'
}
hwm_kb() { awk '/^VmHWM:/{print $2}' "/proc/$1/status" 2>/dev/null || echo n/a; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
CLK_TCK=$(getconf CLK_TCK)

IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1
FWD_HELP=$("$FWD" --help 2>&1)
has_fwd_opt() { grep -q -- "--$1 " <<<"$FWD_HELP"; }
HAS_OUTBOX=0
has_fwd_opt state-dir && HAS_OUTBOX=1
# Options every forwarder of the benchmarks takes: no per-student rate limit
# (a benchmark is one student flooding), no snapshots volume.
FWD_ARGS=(--student-rate 0 --snapshots=false --log-level WARNING)
# BENCH_FWD_ARGS / BENCH_COL_ARGS: more options for every forwarder and
# collector the harness starts (to compare settings, e.g. intervals).
read -ra _extra <<<"${BENCH_FWD_ARGS:-}" && FWD_ARGS+=("${_extra[@]}")
read -ra COL_ARGS <<<"${BENCH_COL_ARGS:-}"
[ $IS_ROOT = 1 ] && has_fwd_opt allow-root && FWD_ARGS+=(--allow-root)
OUTBOX_MAX_OPT=$(grep -oE -- '--outbox-max[a-z-]*' <<<"$FWD_HELP" | head -n1)

# --- processes -------------------------------------------------------------
# The sink: start_sink NAME [ARGS] sets SINK_PID and SINK_URL.
start_sink() {
	local name=$1; shift
	rm -f "$tmp/$name.port"
	"$SINK" --port-file "$tmp/$name.port" "$@" 2>"$tmp/$name.err" &
	SINK_PID=$!
	wait_for 10 test -s "$tmp/$name.port" || { cat "$tmp/$name.err" >&2; return 1; }
	SINK_URL=http://127.0.0.1:$(cat "$tmp/$name.port")
}
# stop_pid PID: SIGTERM, and SIGKILL if it is still there 15 s later (a
# daemon stuck in its start or its shutdown must not outlive the harness).
stop_pid() {
	local i
	kill -TERM "$1" 2>/dev/null
	for i in $(seq 150); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# The monitor as deployed: forwarder delivering to $SINK_URL (through its
# durable outbox, in a fresh state directory, when it has one), collector
# connected to it over the Unix socket, tracing the hostname $STUDENT.
# start_monitor [COLLECTOR ARGS]; NO_OUTBOX=1 start_monitor: no outbox.
MON_N=0
fwd_metric() {  # fwd_metric 'NAME{LABELS}' -> value (0 when absent)
	curl -sf "http://127.0.0.1:$MPORT/metrics" 2>/dev/null |
		awk -v k="$1" '$1 == k {v = $2} END {print v == "" ? 0 : v}'
}
start_monitor() {
	MON_N=$((MON_N + 1))
	local sock=$tmp/mon$MON_N.sock log=$tmp/mon$MON_N state=()
	[ $HAS_OUTBOX = 1 ] && state=(--state-dir "$tmp/mon$MON_N.state")
	[ -n "${NO_OUTBOX:-}" ] && state=(--state-dir "")
	MPORT=$(free_port)
	"$FWD" "${FWD_ARGS[@]}" "${state[@]}" --socket "$sock" --api-server "$SINK_URL" \
		--metrics-port "$MPORT" --metrics-addr 127.0.0.1 2>"$log.fwd.err" &
	FPID=$!
	if ! wait_alive "$FPID" 15 curl -sf -o /dev/null "http://127.0.0.1:$MPORT/healthz"; then
		cat "$log.fwd.err" >&2
		return 1
	fi
	# Only this harness's student: other tests' jcode- containers on a
	# shared machine would otherwise reach this sink (and skew figure 5).
	"$COLLECTOR" --socket "$sock" --hostname-prefix "$STUDENT" --log-level info "${COL_ARGS[@]}" "$@" \
		2>"$log.col.err" &
	CPID=$!
	if ! wait_alive "$CPID" 30 grep -qs '"attached' "$log.col.err" ||
	   ! wait_alive "$CPID" 10 test "$(fwd_metric jcw_connections_active)" = 1; then
		cat "$log.col.err" >&2
		return 1
	fi
	COL_LOG=$log.col.err
}
stop_monitor() {
	stop_pid "$CPID"
	stop_pid "$FPID"
}

# A student (or other) container: fresh UTS + mount + pid namespace named
# HOST whose /home/coder/project is $tmp/proj; CMD runs in hw1.
in_container() {  # in_container HOST CMD...
	local host=$1; shift
	unshare -u -m -p --fork --mount-proc env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOST="$host" PROJ="$tmp/proj" bash -c '
		hostname "$HOST" && mount --make-rprivate / && mount -t tmpfs tmpfs /home &&
		mkdir -p /home/coder/project && mount --bind "$PROJ" /home/coder/project &&
		cd /home/coder/project/hw1 && exec "$@"' container "$@"
}
TINY=/home/coder/project/hw1/exit0
mkdir -p "$tmp/proj/hw1"
# A static tiny binary (exec without dynamic loading: the worst case for the
# monitor's share); /bin/true when no static libc is installed.
TINY_KIND="static exit0 (tests/bench/tiny/exit0.c)"
if ! ${CC:-cc} -O2 -static -o "$tmp/proj/hw1/exit0" "$HERE/tiny/exit0.c" 2>"$tmp/cc.err"; then
	cp /bin/true "$tmp/proj/hw1/exit0"
	TINY_KIND="/bin/true (no static libc)"
fi

# BPF usable? Start the collector once; n/a for figures 1, 2, 3, 5 if not.
BPF_OK=0 BPF_WHY="not root"
if [ $IS_ROOT = 1 ]; then
	for t in unshare bpftool curl; do
		command -v $t >/dev/null || { echo "run.sh: missing $t (make deps)" >&2; exit 1; }
	done
	"$COLLECTOR" --no-socket --record /dev/null 2>"$tmp/probe.err" &
	p=$!
	if wait_alive $p 30 grep -qs '"attached' "$tmp/probe.err"; then
		BPF_OK=1
	else
		BPF_WHY="collector did not start: $(grep -o '"msg":"[^"]*"' "$tmp/probe.err" | tail -n1)"
	fi
	stop_pid $p
fi
export BENCH_LOAD_START
BENCH_LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
MONITOR="collector (--hostname-prefix $STUDENT) + forwarder delivering to httpsink$([ $HAS_OUTBOX = 1 ] && echo " through the durable outbox")"
say "scale $scale, build $BUILD, BPF $([ $BPF_OK = 1 ] && echo yes || echo "no: $BPF_WHY"), outbox $([ $HAS_OUTBOX = 1 ] && echo yes || echo no)"

# --- figure 1: kernel cost ---------------------------------------------------
M1="mean run_time_ns/run_cnt of the collector's programs (bpftool prog show -j, statistics on as with kernel.bpf_stats_enabled=1, held by tests/bench/bpfstats) over $EXEC_N fork+exec+wait of $TINY_KIND in an untracked, then a tracked container; the tracked interval's background runs (beyond our execs) are taken out at the untracked mean"
fig1() {
	start_sink fig1 && start_monitor || return 1
	local ids i
	ids=$(for f in /proc/$CPID/fdinfo/*; do awk '/^prog_id:/{print $2}' "$f" 2>/dev/null; done | sort -u)
	# statistics on through a BPF_ENABLE_STATS descriptor, not the sysctl
	# that another benchmark on the machine may switch off meanwhile
	"$BPFSTATS" >"$tmp/bpfstats.on" &
	STATS_PID=$!
	wait_alive "$STATS_PID" 10 test -s "$tmp/bpfstats.on" || return 1
	$CALC bpfsnap $ids >"$tmp/s0.json"
	in_container "$OTHER" "$EXECLOOP" -n "$EXEC_N" "$TINY" >"$tmp/f1u.json"
	$CALC bpfsnap $ids >"$tmp/s1.json"
	in_container "$STUDENT" "$EXECLOOP" -n "$EXEC_N" "$TINY" >"$tmp/f1t.json"
	$CALC bpfsnap $ids >"$tmp/s2.json"
	stop_pid "$STATS_PID"
	stop_monitor
	stop_pid "$SINK_PID"
	$CALC bpfcost "$tmp/s0.json" "$tmp/s1.json" "$tmp/s2.json" "$EXEC_N" "$EXEC_N" >"$tmp/f1.tsv"
	local tu=0 tt=0 name u t nu nt bg target
	while IFS=$'\t' read -r name u t nu nt bg; do
		case $name in
		handle_exec|handle_exit|handle_signal) ;;
		*) continue ;;
		esac
		target=
		[ "$name" != handle_signal ] && target="< 100 ns untracked"
		result "1.$name.untracked" 1 "$name, untracked container" "$u" ns/run "$target" "$M1" "$nu runs"
		result "1.$name.tracked" 1 "$name, tracked container" "$t" ns/run "" "$M1" "$nt runs, $bg background"
		tu=$((tu + u)) tt=$((tt + t))
	done <"$tmp/f1.tsv"
	if [ ! -s "$tmp/f1.tsv" ]; then
		result 1.handle_exec.untracked 1 "handle_exec, untracked container" n/a ns/run "< 100 ns untracked" "$M1" \
			"the programs' run counts did not move: no BPF statistics"
		return 0
	fi
	result 1.per_exec.untracked 1 "BPF time per fork+exec+exit, untracked" "$tu" ns "" "$M1" "handle_exec + handle_exit + handle_signal"
	result 1.per_exec.tracked 1 "BPF time per fork+exec+exit, tracked" "$tt" ns "" "$M1" "handle_exec + handle_exit + handle_signal"
}
# fig1_script SCRIPT KEY WHAT [SMOKE ARGS]: the FIGURE lines of a kernel
# benchmark script (tests/bench/bench_close.sh, bench_write.sh,
# bench_breakdown.sh) as results 1.KEY.*; "goal X" in a line becomes its
# target. Smoke sizes: SMOKE ARGS, or "2000 1".
fig1_script() {
	local f=$HERE/$1 key=$2 what=$3 smoke=${4:-2000 1} line name value unit goal n=0
	if [ ! -f "$f" ]; then
		result "1.$key" 1 "$what" n/a "" "" "tests/bench/$1" "$1 not present"
		return
	fi
	local args=()
	[ "$SMOKE" = 1 ] && read -ra args <<<"$smoke"
	BUILD=$BUILD timeout 600 bash "$f" "${args[@]}" >"$tmp/$key.out" 2>&1
	# "FIGURE name: value unit ...": the value is the first number, the
	# whole sentence goes to the note.
	while read -r line; do
		line=${line#FIGURE }
		name=${line%%:*}
		read -r value unit _ <<<"${line#*:}"
		case $unit in ns|us|ms|%) ;; *) unit= ;; esac
		goal=$(grep -oE 'goal [^;)]*' <<<"$line" | sed 's/^goal //')
		n=$((n + 1))
		result "1.$key.$(tr -c 'a-zA-Z0-9_\n' _ <<<"$name" | tr -s _ | sed 's/_*$//')" 1 "$name" "$value" "$unit" \
			"$goal" "tests/bench/$1" "${line#*: }"
	done < <(grep '^FIGURE ' "$tmp/$key.out")
	[ $n -gt 0 ] || result "1.$key" 1 "$what" n/a "" "" \
		"tests/bench/$1" "$1 printed no FIGURE line: $(tail -n1 "$tmp/$key.out")"
}

# --- figure 2: exec overhead ------------------------------------------------
M2="$PAIRS pairs of runs with the monitor ($MONITOR) off and on, in ABBA order; each run is $PAIR_N fork+exec+wait of $TINY_KIND in a tracked and in an untracked container (both orders alternate); slowdown = on/off - 1 within a pair, median over pairs"
fig2() {
	local p phase order cond conds secs cpu
	start_sink fig2 || return 1
	# one run not counted: the first execs of the binary pay for cold caches
	in_container "$STUDENT" "$EXECLOOP" -n "$PAIR_N" "$TINY" >/dev/null || return 1
	: >"$tmp/f2.txt"
	for p in $(seq 1 "$PAIRS"); do
		order="off on"
		[ $((p % 2)) = 0 ] && order="on off"
		for phase in $order; do
			if [ $phase = on ]; then start_monitor || return 1; fi
			conds="$STUDENT $OTHER"
			[ $((p % 2)) = 0 ] && conds="$OTHER $STUDENT"
			for cond in $conds; do
				in_container "$cond" "$EXECLOOP" -n "$PAIR_N" "$TINY" >"$tmp/f2.json" || return 1
				read -r secs cpu < <($CALC get "$tmp/f2.json" seconds cpu_s | paste -sd' ')
				echo "$p $phase $([ $cond = "$STUDENT" ] && echo tracked || echo untracked) $secs $cpu" >>"$tmp/f2.txt"
			done
			if [ $phase = on ]; then stop_monitor; fi
		done
	done
	stop_pid "$SINK_PID"
	local med lo hi n rate
	rate=$(awk '$2 == "off" {n += '"$PAIR_N"'; s += $4} END {if (s) printf "%.0f", n / s}' "$tmp/f2.txt")
	while IFS=$'\t' read -r cond med lo hi n fast; do
		local target="< 5 %"
		[ "$cond" = untracked ] && target="< 1 %"
		result "2.slowdown.$cond" 2 "exec slowdown, $cond container" "$med" % "$target" "$M2" \
			"range $lo .. $hi over $n pairs, fastest on vs fastest off $fast %; $rate execs/s without the monitor"
	done < <($CALC ratios "$tmp/f2.txt" 4)
	# The same on the loop's CPU time (its own and its children's: the BPF
	# programs run in the execing and exiting processes): other work on a
	# shared machine moves it far less than the wall time.
	while IFS=$'\t' read -r cond med lo hi n fast; do
		result "2.cpu_slowdown.$cond" 2 "exec CPU-time increase, $cond container" "$med" % "" "$M2" \
			"CPU time (user+sys) of the loop and its children instead of wall time; range $lo .. $hi, fastest vs fastest $fast %"
	done < <($CALC ratios "$tmp/f2.txt" 5)
}

# --- figure 3: storm --------------------------------------------------------
# storm SECONDS: STORM_JOBS exec loops in tracked containers at once, while
# the monitor runs; sets STORM_EXECS STORM_RATE STORM_LOST STORM_QLOST.
storm() {
	local secs=$1 j lp=()
	for j in $(seq 1 "$STORM_JOBS"); do
		in_container "$STUDENT" "$EXECLOOP" -t "$secs" "$TINY" >"$tmp/storm.$j.json" &
		lp+=($!)
	done
	for j in "${lp[@]}"; do wait "$j"; done
	# Losses are reported when the collector drains (every few ms) and
	# reach the forwarder's metrics as Lost frames.
	sleep 0.5
	read -r STORM_EXECS _ STORM_RATE _ < <($CALC sum "$tmp"/storm.*.json)
	STORM_LOST=$(fwd_metric 'jcw_lost_records_total{source="kernel_ringbuf"}')
	STORM_QLOST=$(fwd_metric 'jcw_lost_records_total{source="collector_queue"}')
	STORM_FRAMES=$(fwd_metric 'jcw_frames_received_total{type="exec"}')
	rm -f "$tmp"/storm.*.json
}
M3="$STORM_JOBS fork+exec+wait loops of $TINY_KIND in parallel tracked containers for $STORM_SECS s with the monitor running ($MONITOR; default ring buffer, no kernel budget); losses from the forwarder's jcw_lost_records_total (Lost frames the collector sends for failed ring-buffer reservations)"
M3S="the same storm for $SEARCH_SECS s per size, sizes tried downwards ($RING_SIZES) until one loses records (upwards from the default when the default loses); smallest size without loss reported"
# The storm measures the monitor's capacity: the kernel budget, which would
# cut each loop to its container's rate, is off.
fig3() {
	start_sink fig3 && start_monitor --container-rate 0 || return 1
	storm "$STORM_SECS"
	COL_HWM_STORM=$(hwm_kb "$CPID") FWD_HWM_STORM=$(hwm_kb "$FPID")
	# The ring buffer is mapped into the collector: its pages count in RSS
	# (as shared memory) though the kernel owns them.
	COL_RSS_PARTS=$(awk '/^(RssAnon|RssFile|RssShmem):/{printf "%s%s %d KiB", n++ ? ", " : "", $1, $2}' "/proc/$CPID/status")
	# BPF map mappings (the ring buffer: its data pages are mapped twice)
	COL_MAP_KB=$(awk '/^[0-9a-f]+-[0-9a-f]+ / {m = ($NF == "anon_inode:bpf-map")} m && /^Rss:/ {s += $2} END {print s + 0}' "/proc/$CPID/smaps")
	stop_monitor
	result 3.storm_rate 3 "max exec rate, tracked containers" "$STORM_RATE" execs/s "" "$M3" \
		"$STORM_EXECS execs; $STORM_FRAMES exec frames received"
	result 3.storm_lost 3 "records lost, default ring buffer (8 MiB)" "$STORM_LOST" records "0" "$M3" \
		"collector queue losses: $STORM_QLOST"
	# Downwards while no record is lost (the default is the largest known
	# good size); upwards from the default when even it loses records.
	local s best=8m sizes=$RING_SIZES dir=down note=""
	if [ "$STORM_LOST" != 0 ]; then
		best=n/a sizes="32m 128m" dir=up note="the default lost records: searched upwards; "
	fi
	for s in $sizes; do
		start_monitor --ringbuf-size "$s" --container-rate 0 || return 1
		storm "$SEARCH_SECS"
		stop_monitor
		note="$note$s: $STORM_LOST lost at $STORM_RATE/s; "
		if [ "$STORM_LOST" = 0 ]; then
			best=$s
			[ $dir = up ] && break
		else
			[ $dir = down ] && break
		fi
	done
	stop_pid "$SINK_PID"
	local bytes=n/a
	[ "$best" != n/a ] && bytes=$(numfmt --from=iec "${best^^}")
	result 3.min_ring_bytes 3 "smallest ring buffer without loss" "$bytes" bytes "" "$M3S" "${note%; }"
}

# --- figure 4: forwarder throughput ---------------------------------------
M4="replay of a capture of $EVENTS mixed events (tests/bench/mixspec.py: one event = one process's Exec + Exit, 85% become API requests) with jcw-forwarder --replay, wall time and CPU (user+sys) of the forwarder process from wait4 (tests/bench/runstat), median of $REPS runs"
# replay_run MODE REP [ARGS]: one run; prints "wall cpu maxrss sink_cpu_pct delivered"
replay_run() {
	local mode=$1 rep=$2; shift 2
	local rs=$tmp/rs.$mode.$rep.json t0 t1 w u y rss sinkpct=n/a got=n/a
	if [ "$mode" = print ]; then
		"$RUNSTAT" -o "$rs" "$FWD" "${FWD_ARGS[@]}" --metrics-port 0 --replay "$tmp/mix.cap" \
			--print "$@" >/dev/null 2>"$tmp/rs.err" || { tail -n3 "$tmp/rs.err" >&2; return 1; }
	else
		curl -sf -o /dev/null "$SINK_URL/_reset"
		t0=$(cpu_ticks "$SINK_PID")
		timeout 600 "$RUNSTAT" -o "$rs" "$FWD" "${FWD_ARGS[@]}" --metrics-port 0 --replay "$tmp/mix.cap" \
			--api-server "$SINK_URL" "$@" 2>"$tmp/rs.err" || { tail -n3 "$tmp/rs.err" >&2; return 1; }
		t1=$(cpu_ticks "$SINK_PID")
		got=$(curl -sf "$SINK_URL/_stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
	fi
	read -r w u y rss < <($CALC get "$rs" wall_s user_s sys_s maxrss_kb | paste -sd' ')
	[ "$mode" != print ] && sinkpct=$(awk -v a=$((t1 - t0)) -v t="$CLK_TCK" -v w="$w" 'BEGIN{printf "%.0f", 100 * a / t / w}')
	echo "$w $(awk -v u="$u" -v y="$y" 'BEGIN{print u + y}') $rss $sinkpct $got"
}
fig4_mode() {  # fig4_mode MODE ID WHAT TARGET [ARGS]
	local mode=$1 id=$2 what=$3 target=$4; shift 4
	local r line best rate cpu rss=0 sinkpct got note
	: >"$tmp/f4.$mode"
	for r in $(seq 1 "$REPS"); do
		line=$(replay_run "$mode" "$r" "$@") || return 1
		echo "$line" >>"$tmp/f4.$mode"
	done
	# the median run by wall time
	line=$(sort -n "$tmp/f4.$mode" | sed -n "$(( (REPS + 1) / 2 ))p")
	read -r best cpu rss sinkpct got <<<"$line"
	rss=$(awk '$3 > m {m = $3} END {print m}' "$tmp/f4.$mode")
	rate=$(div "$EVENTS" "$best")
	note="forwarder at $(awk -v c="$cpu" -v w="$best" 'BEGIN{printf "%.0f", 100 * c / w}')% of a core"
	[ "$mode" != print ] && note="$note; $got requests reached the sink; httpsink (libev C, keep-alive) used $sinkpct% of a core"
	result "4.$id.rate" 4 "$what" "${rate%.*}" events/s "$target" "$M4" "$note"
	result "4.$id.cpu" 4 "$what, CPU per event" "$(div "$cpu" "$EVENTS" 1000000)" "us/event" "${F4_CPU_TARGET:-}" "$M4" ""
	result "6.fwd_rss.$id" 6 "forwarder peak RSS, figure 4 $id" "$(div "$rss" 1024)" MiB "< 24 MiB" \
		"ru_maxrss of the forwarder (runstat), largest of $REPS runs" ""
}
fig4() {
	say "figure 4: capture of $EVENTS events"
	python3 "$HERE/mixspec.py" "$EVENTS" | "$MK" -o "$tmp/mix.cap" || return 1
	local out pr
	out=$("$PIPEBENCH" "$PIPE_SECS" 2>&1)
	pr=$(sed -n 's/^FIGURE pipeline_process: \([0-9]*\) events\/s.*/\1/p' <<<"$out")
	result 4.pipeline_process 4 "pipeline only (pipeline_process, in process)" "${pr:-n/a}" events/s "> 200k events/s" \
		"build/bench/bench_pipeline: pipeline_process over a synthetic mix in a loop for $PIPE_SECS s (no I/O)" \
		"$(grep -E '^FIGURE (join|lanes)' <<<"$out" | sed 's/^FIGURE //' | paste -sd';' | sed 's/;/; /g')"
	fig4_mode print a_print "(a) pipeline only, --print > /dev/null" "> 200k events/s" || return 1
	start_sink fig4 || return 1
	fig4_mode http b_http "(b) delivery to httpsink, keep-alive" "" || return 1
	# (b) holds up to --queue-max requests in memory while the replay reads
	# ahead of delivery: the same with a short queue shows what that costs
	fig4_mode http_q1k b_http_q1k "(b) with --queue-max 1000" "" --queue-max 1000 || return 1
	if [ $HAS_OUTBOX = 1 ]; then
		fig4_mode_outbox || return 1
	else
		result 4.c_outbox.rate 4 "(c) delivery with the durable outbox" n/a events/s ">= 30k events/s" "$M4" "n/a (outbox not available)"
		result 6.fwd_rss.c_outbox 6 "forwarder peak RSS, figure 4 c_outbox" n/a MiB "< 24 MiB" "ru_maxrss of the forwarder (runstat)" "n/a (outbox not available)"
	fi
	stop_pid "$SINK_PID"
}
# With the outbox each run needs an empty state directory: a wrapper
# script clears it, so replay_run's runs stay identical otherwise.
fig4_mode_outbox() {
	cat >"$tmp/fwd-outbox" <<EOF
#!/bin/sh
rm -rf "$tmp/state" && mkdir -p "$tmp/state" && exec "$FWD" "\$@" --state-dir "$tmp/state"
EOF
	chmod +x "$tmp/fwd-outbox"
	local FWD_SAVED=$FWD
	FWD=$tmp/fwd-outbox
	F4_CPU_TARGET="< 30 us/event" fig4_mode outbox c_outbox "(c) delivery with the durable outbox" ">= 30k events/s"
	local rc=$?
	FWD=$FWD_SAVED
	return $rc
}

# --- figure 5: latency ------------------------------------------------------
M5="exits of $TINY_KIND in hw1 of a tracked container at a fixed rate (two tests/bench/execloop -r loops at half the rate each) for $LAT_SECS s, monitor running with default settings ($MONITOR; 5 ms drain); httpsink takes each run log's arrival time (CLOCK_REALTIME) minus its body timestamp (the kernel's exit time, us precision)"
# latency_run RATE ID_SUFFIX WHAT_SUFFIX: one rate against the running monitor.
latency_run() {
	local rate=$1 sfx=$2 wsfx=$3 n p50 p99 mx got t99="" split
	curl -sf -o /dev/null "$SINK_URL/_reset"
	curl -sf "http://127.0.0.1:$MPORT/metrics" >"$tmp/f5.m0" || return 1
	# two loops at half the rate each: one loop alone cannot keep
	# 1,000 fork+exec+wait a second on a loaded core
	in_container "$STUDENT" bash -c '"$1" -r "$2" -t "$3" "$4" & "$1" -r "$2" -t "$3" "$4"; wait' \
		loops "$EXECLOOP" "$(div "$rate" 2)" "$LAT_SECS" "$TINY" >"$tmp/f5.json" || return 1
	sleep 1
	curl -sf "$SINK_URL/_stats" >"$tmp/f5.stats"
	read -r n p50 p99 mx < <($CALC get "$tmp/f5.stats" latency_us.n latency_us.p50 latency_us.p99 latency_us.max | paste -sd' ')
	read -r _ _ got _ < <($CALC sum "$tmp/f5.json")
	curl -sf "http://127.0.0.1:$MPORT/metrics" >"$tmp/f5.m1" || return 1
	split=$($CALC agesplit "$tmp/f5.m0" "$tmp/f5.m1") || return 1
	[ "$rate$sfx" = 1000 ] && t99="< 10 ms"
	[ "$rate$sfx" = 1000.fast ] && t99="< 5 ms"
	result "5.p50.$rate$sfx" 5 "latency p50 at $rate exits/s$wsfx" "$(div "$p50" 1000)" ms "" "$M5" "$n samples, $got exits/s achieved"
	result "5.p99.$rate$sfx" 5 "latency p99 at $rate exits/s$wsfx" "$(div "$p99" 1000)" ms "$t99" "$M5" ""
	result "5.max.$rate$sfx" 5 "latency max at $rate exits/s$wsfx" "$(div "$mx" 1000)" ms "" "$M5" ""
	result "5.stages.$rate$sfx" 5 "where the time goes at $rate exits/s$wsfx" \
		"$(sed -n 's/^total_ms=//p' <<<"$split")" ms "" "$M5S" "$(sed -n 's/^note=//p' <<<"$split")"
}
M5S="the forwarder's jcw_event_age_seconds histogram over the run (exit to the forwarder's input: kernel, ring buffer, the collector's drain, the socket; exit to the API's answer): means from _sum/_count, p99 as the bucket holding it"
# The monitor's whole cost per student event at 1,000 exits/s: the BPF run
# time of all the collector's programs (every process's execs, exits and
# closes on the node, statistics on through bpfstats) plus the collector's
# and the forwarder's CPU (utime + stime), over the events delivered.
M5N="the same 1,000 exits/s for $LAT_SECS s with BPF statistics on: (sum of run_time_ns of the collector's programs + collector and forwarder utime+stime from /proc/PID/stat) / run logs delivered"
node_cost_run() {  # node_cost_run [ID_SUFFIX WHAT_SUFFIX]
	local sfx=${1:-} wsfx=${2:-} ids clk c0 c1 f0 f1 n spid
	clk=$(getconf CLK_TCK)
	ids=$(for f in /proc/$CPID/fdinfo/*; do awk '/^prog_id:/{print $2}' "$f" 2>/dev/null; done | sort -u)
	"$BPFSTATS" >"$tmp/nstats.on" &
	spid=$!
	wait_alive "$spid" 10 test -s "$tmp/nstats.on" || return 1
	curl -sf -o /dev/null "$SINK_URL/_reset"
	$CALC bpfsnap $ids >"$tmp/n0.json"
	c0=$(cpu_ticks "$CPID") f0=$(cpu_ticks "$FPID")
	in_container "$STUDENT" bash -c '"$1" -r "$2" -t "$3" "$4" & "$1" -r "$2" -t "$3" "$4"; wait' \
		loops "$EXECLOOP" 500 "$LAT_SECS" "$TINY" >/dev/null || { stop_pid "$spid"; return 1; }
	sleep 1
	c1=$(cpu_ticks "$CPID") f1=$(cpu_ticks "$FPID")
	$CALC bpfsnap $ids >"$tmp/n1.json"
	stop_pid "$spid"
	curl -sf "$SINK_URL/_stats" >"$tmp/n.stats"
	n=$($CALC get "$tmp/n.stats" latency_us.n)
	read -r total bpf col fwd < <(python3 - "$tmp/n0.json" "$tmp/n1.json" "$clk" "$c0" "$c1" "$f0" "$f1" "$n" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
clk, c0, c1, f0, f1, n = (float(x) for x in sys.argv[3:9])
bpf = sum(v[0] - a.get(k, [0, 0])[0] for k, v in b.items()) / 1e3
col, fwd = (c1 - c0) * 1e6 / clk, (f1 - f0) * 1e6 / clk
n = max(n, 1)
print(f"{(bpf + col + fwd) / n:.1f} {bpf / n:.1f} {col / n:.1f} {fwd / n:.1f}")
PY
)
	# The latency setting may cost at most twice the default's CPU.
	local target="<= 40 us"
	if [ -z "$sfx" ]; then
		NODE_CPU_DEFAULT=$total
	elif [ -n "${NODE_CPU_DEFAULT:-}" ]; then
		target="<= $(python3 -c "print(round(2 * $NODE_CPU_DEFAULT, 1))") us"
	else
		target=""
	fi
	result "5.node_cpu.1000$sfx" 5 "the monitor's whole CPU per student event at 1000 exits/s$wsfx" "$total" us "$target" "$M5N" \
		"BPF $bpf us + collector $col us + forwarder $fwd us, over $n events delivered (CPU ticks of 1/$clk s)"
}
# The floor under the figure above: what this machine charges for the
# wake-ups and the HTTP exchange an event needs, with none of the
# monitor's code (tests/bench/wakefloor.c).
M5F="tests/bench/wakefloor for $LAT_SECS s: a timerfd every 5 ms that does nothing (tick); then at each tick 5 HTTP/1.1 POSTs of a run log's size, one after the other on one keep-alive loopback TCP connection to a forked server, each answer awaited in epoll_wait; then the same POSTs made by libcurl's multi interface on that epoll loop (one reused handle, the forwarder's options); the process's CPU (CLOCK_PROCESS_CPUTIME_ID) per tick and per request"
floor_run() {
	local tick per srv curl ltick lper lcurl lpid
	"$WAKEFLOOR" -r 1000 -b 5 -t "$LAT_SECS" >"$tmp/floor.json" || return 1
	read -r tick per srv curl < <($CALC get "$tmp/floor.json" tick_us per_request_us server_per_request_us curl_per_request_us | paste -sd' ')
	# Again beside figure 5's student (its two exec loops, no monitor):
	# the floor on CPUs that the student's processes also want. The loops
	# outlast wakefloor's three runs and end by themselves.
	in_container "$STUDENT" bash -c '"$1" -r "$2" -t "$3" "$4" & "$1" -r "$2" -t "$3" "$4"; wait' \
		loops "$EXECLOOP" 500 "$((3 * LAT_SECS + 2))" "$TINY" >/dev/null &
	lpid=$!
	sleep 1
	"$WAKEFLOOR" -r 1000 -b 5 -t "$LAT_SECS" >"$tmp/floor.load.json" || { wait "$lpid"; return 1; }
	wait "$lpid"
	read -r ltick lper lcurl < <($CALC get "$tmp/floor.load.json" tick_us per_request_us curl_per_request_us | paste -sd' ')
	result 5.floor.tick 5 "one wake-up of a process asleep between ticks (every 5 ms)" "$tick" us "" "$M5F" \
		"the collector drains on such a tick; $ltick us beside the student's exec loops"
	result 5.floor.exchange 5 "the least CPU per event at 1000 exits/s: a tick's fifth and one HTTP exchange" "$per" us "" "$M5F" \
		"no monitor code; the server's side (not the monitor's): $srv us per request"
	result 5.floor.curl 5 "the least CPU per event at 1000 exits/s with libcurl: a tick's fifth and one exchange made by libcurl multi" "$curl" us "" "$M5F" \
		"no monitor code: what the forwarder's HTTP library adds to the exchange above"
	result 5.floor.exchange.loaded 5 "the same exchange beside the student's exec loops (1000 execs/s, no monitor)" "$lper" us "" "$M5F" \
		"figure 5's load without the monitor: the other processes on the same two CPUs"
	result 5.floor.curl.loaded 5 "the same libcurl exchange beside the student's exec loops (1000 execs/s, no monitor)" "$lcurl" us "" "$M5F" \
		"the least a forwarder that sends each event as one libcurl request pays on this machine under figure 5's load"
}
fig5() {
	start_sink fig5 && start_monitor || return 1
	latency_run 100 "" "" || return 1
	latency_run 1000 "" "" || return 1
	node_cost_run || return 1
	stop_monitor
	floor_run || return 1
	# What the outbox's group commit (and its fsync) adds: the same
	# without it (STATE_DIR empty: events only in memory).
	if [ $HAS_OUTBOX = 1 ]; then
		NO_OUTBOX=1 start_monitor || return 1
		latency_run 1000 .no_outbox ", no outbox" || return 1
		stop_monitor
		# The setting that trades CPU for latency (docs/performance.md):
		# the collector drains every 1 ms. Events do not wait for the
		# outbox's commits, so its interval stays the default.
		local fast=", FLUSH_INTERVAL 1ms"
		start_monitor --flush-interval 1ms || return 1
		latency_run 1000 .fast "$fast" || return 1
		node_cost_run .fast "$fast" || return 1
		stop_monitor
	fi
	stop_pid "$SINK_PID"
}

# --- figure 6: memory with the outbox full ---------------------------------
M6O="forwarder replaying a capture of $OUTBOX_EVENTS events with the API unreachable (a closed port) and --state-dir: VmHWM once every event is read and stored (jcw_outbox_rows stable)"
fig6_outbox() {
	if [ $HAS_OUTBOX = 0 ]; then
		result 6.fwd_rss.outbox_1m 6 "forwarder peak RSS, 1M events waiting in the outbox" n/a MiB "< 24 MiB" "$M6O" "n/a (outbox not available)"
		return 0
	fi
	say "figure 6: capture of $OUTBOX_EVENTS events into the outbox"
	python3 "$HERE/mixspec.py" "$OUTBOX_EVENTS" | "$MK" -o "$tmp/big.cap" || return 1
	local dead mport fpid rows prev=-1 stable=0 end extra=()
	dead=$(free_port)
	mport=$(free_port)
	[ -n "$OUTBOX_MAX_OPT" ] && extra=("$OUTBOX_MAX_OPT" 64g)
	mkdir -p "$tmp/bigstate"
	"$FWD" "${FWD_ARGS[@]}" --replay "$tmp/big.cap" --state-dir "$tmp/bigstate" "${extra[@]}" \
		--api-server "http://127.0.0.1:$dead" --metrics-port "$mport" --metrics-addr 127.0.0.1 \
		2>"$tmp/big.err" &
	fpid=$!
	MPORT=$mport
	end=$((SECONDS + 600))
	while [ $SECONDS -lt $end ] && kill -0 "$fpid" 2>/dev/null; do
		sleep 1
		rows=$(fwd_metric jcw_outbox_rows)
		if [ "$rows" = "$prev" ] && [ "$rows" != 0 ]; then
			stable=$((stable + 1))
			[ $stable -ge 3 ] && break
		else
			stable=0
		fi
		prev=$rows
	done
	local hwm
	hwm=$(hwm_kb "$fpid")
	stop_pid "$fpid"
	result 6.fwd_rss.outbox_1m 6 "forwarder peak RSS, $OUTBOX_EVENTS events read into the outbox" "$(div "$hwm" 1024)" MiB "< 24 MiB" "$M6O" \
		"$rows rows waiting; outbox $(du -sh "$tmp/bigstate" | cut -f1)"
	rm -rf "$tmp/bigstate" "$tmp/big.cap"
}

# --- figure 7: the notebook hook ------------------------------------------------
# "FIGURE hook per ok cell: 950 us median, p99 1400 us, 2000 cells"
fig7() {
	local n=${BENCH_HOOK_CELLS:-2000} line label med p99
	[ "$SMOKE" = 1 ] && n=50
	/usr/bin/python3 "$HERE/notebook_hook.py" "$ROOT/contrib/jupyter/99-jcw-cell.py" "$n" >"$tmp/hook.out" 2>&1 ||
		{ cat "$tmp/hook.out" >&2; return 1; }
	while read -r line; do
		label=$(sed -n 's/^FIGURE hook per \([a-z]*\) cell: .*/\1/p' <<<"$line")
		med=$(sed -n 's/.*: \([0-9]*\) us median.*/\1/p' <<<"$line")
		p99=$(sed -n 's/.* p99 \([0-9]*\) us.*/\1/p' <<<"$line")
		[ -n "$label" ] && [ -n "$med" ] || return 1
		# ids of the kind N.error mean a failed figure: name the cells apart.
		result "7.hook.${label/error/failed}_cell" 7 "notebook hook per $label cell, median" "$med" us "< 2000 us" \
			"tests/bench/notebook_hook.py: pre_run_cell + post_run_cell (marker start and reap)" \
			"p99 $p99 us over $n cells"
	done < <(grep '^FIGURE hook per' "$tmp/hook.out")
	grep -q '^7.hook.failed_cell' "$RES"
}

# --- figure 8: a student's flood ------------------------------------------
# "FIGURE flood of 20000 saves, with the budget: 15.7 us CPU per save, ..."
# "FIGURE flood of 20000 runs, with the limit: 3.1 us CPU per run, ..."
fig8() {
	local n=${BENCH_FLOOD_SAVES:-20000} line id cpu what target
	[ "$SMOKE" = 1 ] && n=2000
	mkdir -p "$tmp/flood"
	python3 "$HERE/snap_flood.py" "$FWD" "$MK" "$n" "$tmp/flood" >"$tmp/flood.out" 2>&1 ||
		{ cat "$tmp/flood.out" >&2; return 1; }
	while read -r line; do
		target=""
		case $line in
		*"saves, with the budget"*) id=8.flood.budget what="per save, one student's flood of saves, budget" target="near 0" ;;
		*"saves, without the budget"*) id=8.flood.no_budget what="per save, one student's flood of saves, no budget" ;;
		*"runs, with the limit"*) id=8.runs.limit what="per run, one student's flood of runs, event limit" target="near 0" ;;
		*"runs, without the limit"*) id=8.runs.no_limit what="per run, one student's flood of runs, no limit" ;;
		*) continue ;;
		esac
		cpu=$(sed -n 's/.*: \([0-9.]*\) us CPU per [a-z]*,.*/\1/p' <<<"$line")
		[ -n "$cpu" ] || return 1
		result "$id" 8 "forwarder CPU $what" "$cpu" us "$target" \
			"tests/bench/snap_flood.py: replay --print, getrusage, start-up included" \
			"${line#*us CPU per * }"
	done < <(grep '^FIGURE flood' "$tmp/flood.out")
	rm -rf "$tmp/flood"
	grep -q '^8.flood.no_budget' "$RES" && grep -q '^8.runs.no_limit' "$RES"
}

# --- figure 9: a bystander under a flood -------------------------------------
# tests/e2e/noisy_neighbour.sh, live: "FIGURE noisy neighbour: ... p50 10.2 ms, p99 21.9 ms, ..."
fig9() {
	local line p50 p99
	BUILD=$BUILD bash "$ROOT/tests/e2e/noisy_neighbour.sh" >"$tmp/noisy.out" 2>&1 ||
		{ cat "$tmp/noisy.out" >&2; return 1; }
	line=$(grep '^FIGURE noisy neighbour' "$tmp/noisy.out") || return 1
	p50=$(sed -n 's/.* p50 \([0-9.]*\) ms.*/\1/p' <<<"$line")
	p99=$(sed -n 's/.* p99 \([0-9.]*\) ms.*/\1/p' <<<"$line")
	[ -n "$p50" ] && [ -n "$p99" ] || return 1
	local m="tests/e2e/noisy_neighbour.sh: one student saves 3,000 files and runs a program 1,000 times while another compiles and runs 20 times; monitor as deployed (collector + forwarder, outbox); each of the bystander's 40 events: API arrival minus its body timestamp"
	result 9.bystander.p50 9 "bystander's exit-to-API p50 under a neighbour's flood" "$p50" ms "" "$m" ""
	result 9.bystander.p99 9 "bystander's exit-to-API p99 under a neighbour's flood" "$p99" ms "< 50 ms" "$m" "${line#*while }"
}

# --- figure 10: the ProgSnap2 dataset -----------------------------------------
# (a) Figure 4's outbox replay with and without PROGSNAP2_DIR, interleaved:
# the difference of the medians is what the dataset costs per event (its
# line in the group commit, the writer's appends and fdatasyncs, the flush
# at the end). (b) jcw-dataset build over a generated semester.
fig10_writer() {
	local r a b ca=() cb=() med_a med_b n FWD_SAVED=$FWD
	cat >"$tmp/fwd-ds" <<EOF
#!/bin/sh
rm -rf "$tmp/state" "$tmp/ds" && mkdir -p "$tmp/state" "$tmp/ds" &&
exec "$FWD" "\$@" --state-dir "$tmp/state" \$DS_ARGS
EOF
	chmod +x "$tmp/fwd-ds"
	start_sink fig10 || return 1
	FWD=$tmp/fwd-ds
	for r in $(seq 1 "$REPS"); do
		a=$(DS_ARGS= replay_run http ds0.$r) || break
		b=$(DS_ARGS="--progsnap2-dir $tmp/ds --node-name bench" replay_run http ds1.$r) || break
		ca+=("$(awk '{print $2}' <<<"$a")")
		cb+=("$(awk '{print $2}' <<<"$b")")
	done
	FWD=$FWD_SAVED
	stop_pid "$SINK_PID"
	[ "${#cb[@]}" = "$REPS" ] || return 1
	n=$(cat "$tmp"/ds/parts/bench/*.jsonl | wc -l)
	med_a=$(printf '%s\n' "${ca[@]}" | sort -n | sed -n "$(( (REPS + 1) / 2 ))p")
	med_b=$(printf '%s\n' "${cb[@]}" | sort -n | sed -n "$(( (REPS + 1) / 2 ))p")
	result 10.writer.cpu 10 "forwarder CPU the dataset adds per event (PROGSNAP2_DIR)" \
		"$(awk -v a="$med_a" -v b="$med_b" -v n="$EVENTS" 'BEGIN{printf "%.2f", (b - a) * 1e6 / n}')" \
		us/event "< 5 us/event" \
		"figure 4 (c)'s replay through the outbox to httpsink, $REPS interleaved pairs without and with --progsnap2-dir, forwarder CPU (user+sys, runstat), median of each; the difference over the $EVENTS replayed events" \
		"CPU $med_a s without, $med_b s with; $n lines in the last run's part"
}
fig10_build() {
	local rs=$tmp/rs.dataset.json w u y rss steps
	local m10="tests/bench/ds_parts.py: a semester of $DATASET_EVENTS events (40% compiles, a third with diagnostics; 40% runs, a tenth crashing; 20% saves without their files) in 4 nodes' parts, then jcw-dataset build (runstat: wall, CPU, ru_maxrss)"
	rm -rf "$tmp/dsparts" "$tmp/dsout"
	mkdir -p "$tmp/dssnap"
	python3 "$HERE/ds_parts.py" "$DATASET_EVENTS" "$tmp/dsparts" || return 1
	"$RUNSTAT" -o "$rs" "$DATASET" build --events "$tmp/dsparts" --snapshots "$tmp/dssnap" \
		--out "$tmp/dsout" 2>"$tmp/dsbuild.err" || { cat "$tmp/dsbuild.err" >&2; return 1; }
	read -r w u y rss < <($CALC get "$rs" wall_s user_s sys_s maxrss_kb | paste -sd' ')
	steps=$(sed -n 's/.*; \(parts .*\)$/\1/p' "$tmp/dsbuild.err")
	result 10.build.wall 10 "jcw-dataset build of $DATASET_EVENTS events, wall time" \
		"$(awk -v w="$w" 'BEGIN{printf "%.1f", w}')" s "minutes, not hours" "$m10" \
		"$steps; CPU $(awk -v u="$u" -v y="$y" 'BEGIN{printf "%.0f s user + %.0f s sys", u, y}')"
	result 10.build.rss 10 "jcw-dataset build peak RSS, $DATASET_EVENTS events" "$(div "$rss" 1024)" MiB \
		"bounded: SQLite's 16 MiB page cache" "$m10" ""
	rm -rf "$tmp/dsparts" "$tmp/dsout"
}
fig10() {
	[ -s "$tmp/mix.cap" ] || python3 "$HERE/mixspec.py" "$EVENTS" | "$MK" -o "$tmp/mix.cap" || return 1
	if [ $HAS_OUTBOX = 1 ]; then
		fig10_writer || return 1
	else
		result 10.writer.cpu 10 "forwarder CPU the dataset adds per event (PROGSNAP2_DIR)" n/a us/event "< 5 us/event" "" "n/a (outbox not available)"
	fi
	say "figure 10: jcw-dataset build over $DATASET_EVENTS generated events"
	fig10_build
}

# --- run ---------------------------------------------------------------------
# After a figure failed half-way: stop what it left running.
failed() {  # failed ID FIG WHAT
	local p
	for p in $(jobs -p); do stop_pid "$p"; done
	result "$1" "$2" "$3" n/a "" "" "" "failed, see the log above"
}
na_root() {  # na_root ID FIG WHAT UNIT TARGET
	result "$1" "$2" "$3" n/a "$4" "$5" "" "n/a ($BPF_WHY)"
}
if [ $BPF_OK = 1 ]; then
	if want 1; then
		say "figure 1: kernel cost per program run"
		fig1 || failed 1.error 1 "figure 1"
		fig1_script bench_close.sh close "per close() of a written file"
		fig1_script bench_write.sh write "per write(2), the standard error hook"
		fig1_script bench_breakdown.sh breakdown "where handle_exec's and handle_exit's time goes" "100 1"
	fi
	if want 2; then
		say "figure 2: exec overhead ($PAIRS pairs)"
		fig2 || failed 2.error 2 "figure 2"
	fi
	if want 3; then
		say "figure 3: storm ($STORM_SECS s, $STORM_JOBS loops) and ring buffer sizes"
		fig3 || failed 3.error 3 "figure 3"
	fi
else
	want 1 && na_root 1.handle_exec.untracked 1 "handle_exec, untracked container" ns/run "< 100 ns untracked"
	want 1 && na_root 1.per_exec.tracked 1 "BPF time per fork+exec+exit, tracked" ns ""
	want 2 && na_root 2.slowdown.tracked 2 "exec slowdown, tracked container" % "< 5 %"
	want 2 && na_root 2.slowdown.untracked 2 "exec slowdown, untracked container" % "< 1 %"
	want 3 && na_root 3.storm_rate 3 "max exec rate, tracked containers" execs/s ""
	want 3 && na_root 3.storm_lost 3 "records lost, default ring buffer (8 MiB)" records "0"
fi
if want 4; then
	say "figure 4: forwarder throughput"
	fig4 || failed 4.error 4 "figure 4"
fi
if [ $BPF_OK = 1 ]; then
	if want 5; then
		say "figure 5: latency"
		fig5 || failed 5.error 5 "figure 5"
	fi
	if want 6 && want 3; then
		result 6.col_rss.storm 6 "collector peak RSS, storm (figure 3)" "$(div "${COL_HWM_STORM:-n/a}" 1024)" MiB "< 8 MiB" "VmHWM of the collector at the end of the storm" "at the end: ${COL_RSS_PARTS:-}; ${COL_MAP_KB:-?} KiB of it is the mapped BPF ring buffer (8 MiB mapped twice)"
		result 6.col_rss_own.storm 6 "collector peak RSS without the ring buffer mapping" "$(div "$(( ${COL_HWM_STORM:-0} - ${COL_MAP_KB:-0} ))" 1024)" MiB "< 8 MiB" "VmHWM minus the Rss of the anon_inode:bpf-map mappings (/proc/PID/smaps) at the end of the storm" "the ring buffer is kernel memory allocated at load whatever the load"
		result 6.fwd_rss.storm 6 "forwarder peak RSS, storm (figure 3)" "$(div "${FWD_HWM_STORM:-n/a}" 1024)" MiB "< 24 MiB" "VmHWM of the forwarder at the end of the storm" ""
	fi
else
	want 5 && na_root 5.p99.1000 5 "latency p99 at 1000 exits/s" ms "< 10 ms"
	want 6 && na_root 6.col_rss.storm 6 "collector peak RSS, storm (figure 3)" MiB "< 8 MiB"
fi
if want 6; then
	fig6_outbox || failed 6.error 6 "figure 6"
fi
if want 7; then
	say "figure 7: notebook hook per cell"
	fig7 || failed 7.error 7 "figure 7"
fi
if want 8; then
	say "figure 8: a student's flood of saves and of runs, with and without the limits"
	fig8 || failed 8.error 8 "figure 8"
fi
if want 9; then
	if [ $BPF_OK = 1 ]; then
		say "figure 9: a bystander's latency under a neighbour's flood"
		fig9 || failed 9.error 9 "figure 9"
	else
		na_root 9.bystander.p99 9 "bystander's exit-to-API p99 under a neighbour's flood" ms "< 50 ms"
	fi
fi
if want 10; then
	say "figure 10: the ProgSnap2 dataset"
	fig10 || failed 10.error 10 "figure 10"
fi
say "done in $((SECONDS - t_start)) s"
export BENCH_VERSION
BENCH_VERSION=$(git describe --always --dirty 2>/dev/null || echo unknown)
python3 "$HERE/report.py" "$RES" "$OUT/results.json" "$scale" | tee "$OUT/results.md"
# Non-zero when a figure could not be measured for a reason other than a
# missing privilege or feature (a harness or daemon failure).
! grep -q '^[0-9].error' "$RES"
