# kbench: what the kernel benchmarks (bench_close.sh, bench_write.sh,
# bench_breakdown.sh) share: the root check, a temp dir and a cleanup that
# leaves nothing attached and the BPF statistics as they were, the real
# collector (--no-socket --record /dev/null, no kernel budget: the records
# are the measure, not a flood), its programs' ids and run statistics, and
# the two hosts a process can run in. Sourced; NAME is the script's.
# Needs COLLECTOR set; sets tmp, cpid, stats_was.
kbench_init() {  # kbench_init NAME BINARY...
	local name=$1 b; shift
	if [ "$(id -u)" != 0 ]; then
		echo "$name: needs root to load BPF programs and enable BPF statistics"
		exit 77
	fi
	for b in "$COLLECTOR" "$@"; do
		[ -x "$b" ] || { echo "missing $b (build first)"; exit 1; }
	done
	command -v bpftool >/dev/null || { echo "missing bpftool (make deps)"; exit 1; }
	export PIN_PATH=   # nothing left attached (collector/pin.h)
	KBENCH_NAME=$name
	tmp=$(mktemp -d "/tmp/jcw-$name.XXXXXX")
	cpid=
	stats_was=$(sysctl -n kernel.bpf_stats_enabled)
	trap kbench_cleanup EXIT
}
kbench_cleanup() {
	[ -n "$cpid" ] && kill -KILL "$cpid" 2>/dev/null
	wait 2>/dev/null
	sysctl -q kernel.bpf_stats_enabled="$stats_was"
	rm -rf "$tmp"
}
start_collector() {  # start_collector [COLLECTOR ARGS]
	"$COLLECTOR" --no-socket --record /dev/null --container-rate 0 "$@" \
		--log-level info 2>"$tmp/collector.log" &
	cpid=$!
	for _ in $(seq 200); do
		grep -q '"attached' "$tmp/collector.log" && return 0
		if ! kill -0 "$cpid" 2>/dev/null; then
			cat "$tmp/collector.log"
			cpid=
			if grep -qE 'not root|no kernel BTF|too old' "$tmp/collector.log"; then
				echo "$KBENCH_NAME: BPF unavailable here"
				exit 77
			fi
			echo "collector failed to start"
			exit 1
		fi
		sleep 0.05
	done
	echo "collector did not attach"
	exit 1
}
stop_collector() {
	kill -INT "$cpid"
	wait "$cpid" 2>/dev/null
	cpid=
}
stats_on() { sysctl -q kernel.bpf_stats_enabled=1; }
stats_off() { sysctl -q kernel.bpf_stats_enabled="$stats_was"; }
# The collector's own program named $1 (others may run beside it): from
# the prog ids of its descriptors.
prog_id() {
	local id
	for id in $(grep -h '^prog_id:' /proc/"$cpid"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un); do
		bpftool -j prog show id "$id" 2>/dev/null | grep -q "\"name\":\"$1\"" && { echo "$id"; return; }
	done
}
# "run_time_ns run_cnt" of each program id, one line each
prog_stats() {
	local id
	for id; do
		bpftool -j prog show id "$id" |
			python3 -c 'import json,sys; p=json.load(sys.stdin); print(p.get("run_time_ns",0), p.get("run_cnt",0))'
	done
}
# per_run ID[,ID...] CMD...: the ns per run of each program while CMD
# runs, then the first one's run count ("NS [NS...] RUNS")
per_run() {
	local ids a b
	IFS=, read -ra ids <<<"$1"; shift
	a=$(prog_stats "${ids[@]}" | tr '\n' ' ')
	"$@" >/dev/null 2>&1 || return 1
	b=$(prog_stats "${ids[@]}" | tr '\n' ' ')
	python3 -c '
import sys
n = len(sys.argv[1:]) // 2
a, b = list(map(int, sys.argv[1:1 + n])), list(map(int, sys.argv[1 + n:]))
runs = [b[i + 1] - a[i + 1] for i in range(0, n, 2)]
print(" ".join("%.0f" % ((b[i] - a[i]) / max(b[i + 1] - a[i + 1], 1)) for i in range(0, n, 2)), runs[0])' $a $b
}
# median_delta LABEL WHAT ON_NAME OFF_NAME "ON NS..." "OFF NS...": a FIGURE
# line of the difference of the medians of interleaved runs with and
# without something
median_delta() {
	python3 - "$@" <<'EOF'
import statistics as st, sys
label, what, on_name, off_name = sys.argv[1:5]
on, off = [list(map(float, a.split())) for a in sys.argv[5:7]]
fmt = lambda v: " ".join("%.0f" % x for x in v)
print(f"FIGURE {label}: {st.median(on) - st.median(off):+.0f} ns ({what}: median {st.median(on):.0f} ns "
      f"{on_name}, {st.median(off):.0f} {off_name}; {len(on)} interleaved runs each: {fmt(on)} / {fmt(off)})")
EOF
}
student() { unshare -u sh -c 'hostname jcode-bench-1 && exec "$@"' sh "$@"; }  # a tracked process
other() { unshare -u sh -c 'hostname other-host-1 && exec "$@"' sh "$@"; }     # an untracked one
