#!/bin/sh
# Runs every libFuzzer target in $FUZZ_BIN for $FUZZ_SECONDS each, $FUZZ_JOBS
# at a time, over its committed seeds (tests/fuzz/corpus/<name>, read only)
# and its working corpus $FUZZ_OUT/corpus/<name>, where new inputs are kept.
# A crash or broken invariant is saved under $FUZZ_OUT/artifacts/ and makes
# the run fail; each target's log is $FUZZ_OUT/logs/<name>.log. Prints one
# FIGURE line per target: run time, executions, corpus size.
#   FUZZ_TARGETS="frame json"   only these targets
set -u
: "${FUZZ_BIN:?directory of the fuzz_<name> binaries}"
: "${FUZZ_OUT:?output directory}"
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_JOBS=${FUZZ_JOBS:-1}
seeds=$(dirname "$0")/corpus

targets=${FUZZ_TARGETS:-$(for b in "$FUZZ_BIN"/fuzz_*; do [ -x "$b" ] && basename "$b" | sed 's/^fuzz_//'; done)}
[ -n "$targets" ] || { echo "run.sh: no fuzz targets in $FUZZ_BIN" >&2; exit 1; }
mkdir -p "$FUZZ_OUT/artifacts" "$FUZZ_OUT/logs" || exit 1

# One target: libFuzzer writes new inputs to the first corpus directory only.
run_one() {
	t=$1
	mkdir -p "$FUZZ_OUT/corpus/$t"
	start=$(date +%s)
	"$FUZZ_BIN/fuzz_$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$FUZZ_OUT/artifacts/$t-" \
		"$FUZZ_OUT/corpus/$t" "$seeds/$t" >"$FUZZ_OUT/logs/$t.log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$FUZZ_OUT/logs/$t.log" | tail -n1)
	size=$(find "$FUZZ_OUT/corpus/$t" "$seeds/$t" -type f 2>/dev/null | wc -l)
	if [ "$rc" -eq 0 ]; then
		echo "FIGURE fuzz_$t: ${secs}s, ${runs:-?} runs, corpus $size inputs, no finding"
	else
		echo "FAIL fuzz_$t (exit $rc) after ${secs}s: see $FUZZ_OUT/logs/$t.log"
		grep -m3 -E 'ERROR|invariant broken|SUMMARY|Test unit written' "$FUZZ_OUT/logs/$t.log" | sed 's/^/    /'
	fi
	return "$rc"
}

fail=0
running=0
pids=
for t in $targets; do
	run_one "$t" &
	pids="$pids $!"
	running=$((running + 1))
	if [ "$running" -ge "$FUZZ_JOBS" ]; then
		for p in $pids; do wait "$p" || fail=1; done
		pids=
		running=0
	fi
done
for p in $pids; do wait "$p" || fail=1; done
exit "$fail"
