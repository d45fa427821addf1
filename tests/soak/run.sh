#!/usr/bin/env bash
# make soak: a class on one node for SOAK_MINUTES (60), live, as root, with
# the real collector and forwarder at their default settings and a recording
# API (tests/tools/apiserver.py) that answers like a real service: a few ms
# of jitter per answer, a 5xx spell, a slow spell and a restart.
# SOAK_STUDENTS (250) student containers (namespaces; tests/soak/student.sh)
# cycle edit -> save -> compile (some with errors) -> run (some crash, some
# write to standard error, some loop until a timeout kills them, some are
# Python), one in ten also runs notebooks, and one student floods in two
# spells. On schedule, all in the first half (the second half is the steady
# state the growth checks read; docs/soak.md says why): the 5xx spell, a
# flood, a collector restart (SIGTERM, pinned programs, 2 s without one), the
# slow spell, a forwarder kill -9, an API restart, a second flood.
# Every SOAK_SAMPLE_SECS (60; 10 for runs of 10 minutes or less)
# tests/soak/sample.py takes both daemons' RSS, fds and CPU, the BPF run
# time, the kernel maps' fill and the forwarder's tables. At the end
# tests/soak/report.py accounts every compile, run, cell and save of every
# student against the API's log, checks growth and latency, and writes
# $SOAK_OUT (BUILD/soak): report.md, samples.jsonl, soak.svg. Exit 0 when
# every check holds, 1 otherwise, 77 when BPF cannot run here.
#
#   SOAK_MINUTES  SOAK_STUDENTS  SOAK_CYCLE_SECS (40, a student's mean cycle)
#   SOAK_SAMPLE_SECS  SOAK_OUT  BUILD (binaries; make soak: the optimized ones)
#   SOAK_P99_MS (50), SOAK_RSS_FLOOR (KiB/h, 1024), SOAK_CPU_MAX (0.05 of a
#   core): report.py's bounds, loosened by the short run in make test
#   (tests/e2e/soak_short.sh says why)
set -u
source "$(dirname "$0")/../lib.sh"
MINUTES=${SOAK_MINUTES:-60}
STUDENTS=${SOAK_STUDENTS:-250}
CYCLE=${SOAK_CYCLE_SECS:-40}
if [ "$MINUTES" -le 10 ]; then SAMPLE=${SOAK_SAMPLE_SECS:-10}; else SAMPLE=${SOAK_SAMPLE_SECS:-60}; fi
OUT=${SOAK_OUT:-$BUILD/soak}
PY=/usr/bin/python3   # Debian's, which has nbclient and ipykernel
need_root "needs root to load BPF programs and make namespaces"
need_bins "$BUILD/jcw-collector" "$BUILD/jcw-forwarder"
need_cmds unshare python3 curl gcc bpftool gnuplot timeout
"$PY" -c 'import ipykernel, nbclient, nbformat' 2>/dev/null ||
	{ echo "missing python3-ipykernel / python3-nbclient for $PY (make deps)"; exit 1; }
[ "$STUDENTS" -ge 20 ] || { echo "SOAK_STUDENTS must be at least 20"; exit 2; }
make_tmp jcw-soak
export ALLOW_ROOT=true
fail() { fail_live "$@"; }
own_pins soak
mkdir -p "$OUT"
rm -f "$OUT"/report.md "$OUT"/samples.jsonl "$OUT"/soak.svg

# Per-program run time for the CPU figure, restored at the end.
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
on_exit 'sysctl -qw kernel.bpf_stats_enabled=$stats_was'
sysctl -qw kernel.bpf_stats_enabled=1

# --- the class --------------------------------------------------------------
T=$((MINUTES * 60))
t0=$(date +%s)
START=$((t0 + 5)) END=$((t0 + 5 + T))
codes=$tmp/codes truth=$tmp/truth ctl=$tmp/ctl
mkdir -p "$codes" "$truth" "$ctl" "$tmp/snapshots"
sid() { printf '2026%05d' "$1"; }
flooder=$STUDENTS
for n in $(seq "$STUDENTS"); do
	d=$codes/soak-1-$(sid "$n")
	mkdir -p "$d/hw1"
	if [ $((n % 10)) = 0 ]; then
		mkdir -p "$d/.ipython/profile_default/startup"
		cp contrib/jupyter/99-jcw-cell.py "$d/.ipython/profile_default/startup/"
	fi
done

# The schedule, in seconds after START: each fault once, spaced through the
# first half, each lasting D (a tenth of the half, 10 to 60 s).
D=$((T / 20)); [ "$D" -lt 10 ] && D=10; [ "$D" -gt 60 ] && D=60
at() { echo $((START + T * $1 / 100)); }
s_fail=$(at 6) s_flood1=$(at 12) s_crestart=$(at 18) s_slow=$(at 24)
s_kill=$(at 30) s_apirestart=$(at 36) s_flood2=$(at 42)
python3 - "$tmp/spells.json" "$s_fail" "$s_slow" "$D" <<'PY'
import json, sys
path, f, s, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
json.dump([{"kind": "fail", "start": f, "end": f + d},
           {"kind": "slow", "start": s, "end": s + d, "delay": 0.4}], open(path, "w"))
PY
faults=$tmp/faults.tsv   # kind, start, end (Unix s): what report.py leaves out of the p99
: >"$faults"
fault() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$faults"; }
fault api_5xx "$s_fail" $((s_fail + D))
fault api_slow "$s_slow" $((s_slow + D))

port=$(free_port)
# The API stands in for a server on another machine: here it shares two
# CPUs with 250 students' compilers, so it runs at a higher priority, or its
# queueing would be counted as the monitor's latency. The monitor's own
# daemons run at the students' priority, as a DaemonSet's would.
api() {
	api_start api --port "$port" --spells "$tmp/spells.json" --jitter 0.004 || return 1
	renice -n -10 -p "$api_pid" >/dev/null 2>&1 ||
		echo "NOTE soak: could not raise the API's priority; its queueing counts as latency"
}
api || fail "API server did not start"
fwd_pid=
fwd() {
	forwarder_start --watch-root "$codes" --snapshot-base "$tmp/snapshots" || return 1
	fwd_pid=${pids[-1]}
}
fwd || fail "forwarder did not create its socket"
col() { collector_start --socket "$tmp/events.sock" --pin-path "$pin" --hostname-prefix jcode-soak-; }
col || fail "collector did not attach"

echo "NOTE soak: $STUDENTS students for $MINUTES min, a sample every $SAMPLE s, faults of $D s"
for n in $(seq "$STUDENTS"); do
	kind=normal
	[ $((n % 10)) = 0 ] && kind=notebook
	[ "$n" = "$flooder" ] && kind=flood
	student_sh $((T + 300)) "jcode-soak-1-$(sid "$n")" "$codes/soak-1-$(sid "$n")" \
		'source "$SCRIPT"' SCRIPT="$PWD/tests/soak/student.sh" ID="$n" KIND="$kind" \
		TRUTH="$truth/$(sid "$n")" END="$END" CYCLE="$CYCLE" CTL="$ctl" PY="$PY" \
		IPYTHONDIR=/home/coder/project/.ipython JUPYTER_RUNTIME_DIR=/tmp/jupyter \
		>"$truth/$(sid "$n").out" 2>&1 &
	pids+=($!)
done

# --- the run: faults on schedule, a sample every SAMPLE s --------------------
sample() {
	python3 tests/soak/sample.py --t0 "$START" --collector-pid "${cpid:-0}" \
		--forwarder-pid "${fwd_pid:-0}" --metrics "http://127.0.0.1:$mport/metrics" \
		--pin "$pin" >>"$OUT/samples.jsonl"
}
step() {  # step NOW: the scheduled actions due at NOW
	local now=$1
	case $now in
	"$s_flood1"|"$s_flood2")
		touch "$ctl/flood"; fault flood "$now" $((now + D)) ;;
	$((s_flood1 + D))|$((s_flood2 + D)))
		rm -f "$ctl/flood" ;;
	"$s_crestart")
		kill -TERM "$cpid"; wait "$cpid" 2>/dev/null; cpid=
		mv "$tmp/collector.log" "$tmp/collector.1.log"
		sleep 2
		col || fail "the collector did not start again"
		fault collector_restart "$now" "$(date +%s)" ;;
	"$s_kill")
		kill -KILL "$fwd_pid"; wait "$fwd_pid" 2>/dev/null; fwd_pid=
		mv "$tmp/fwd.err" "$tmp/fwd.1.err"
		sleep 1
		fwd || fail "the forwarder did not start again after kill -9"
		fault forwarder_kill9 "$now" "$(date +%s)" ;;
	"$s_apirestart")
		api_stop; sleep 5
		api || fail "the API did not start again"
		fault api_restart "$now" "$(date +%s)" ;;
	esac
}
next=$START last=$START
while [ "$(date +%s)" -lt "$END" ]; do
	now=$(date +%s)
	# Every second since the last turn, so an action is never skipped.
	for ((s = last + 1; s <= now; s++)); do step "$s"; done
	last=$now
	if [ "$now" -ge "$next" ]; then sample; next=$((next + SAMPLE)); fi
	sleep 0.5
done
sample
# The students' last cycles, then what is still on its way.
for p in "${pids[@]}"; do
	[ "$p" = "$fwd_pid" ] && continue
	wait "$p" 2>/dev/null
done
wait_for 120 eval '[ "$(curl -s "http://127.0.0.1:$mport/metrics" | awk '\''$1 == "jcw_outbox_rows" { print $2 }'\'')" = 0 ]' ||
	echo "NOTE the outbox did not drain in 120 s"
sleep 5
sample
curl -s "http://127.0.0.1:$mport/metrics" >"$OUT/metrics-end.txt"

python3 tests/soak/report.py --api-log "$tmp/api.log" --truth "$truth" \
	--samples "$OUT/samples.jsonl" --faults "$faults" --start "$START" --end "$END" \
	--students "$STUDENTS" --flooder "$(sid "$flooder")" --sample-secs "$SAMPLE" \
	--out "$OUT" --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	--p99-ms "${SOAK_P99_MS:-50}" --rss-floor "${SOAK_RSS_FLOOR:-1024}" --cpu-max "${SOAK_CPU_MAX:-0.05}" \
	|| fail "the soak's checks (report: $OUT/report.md)"
