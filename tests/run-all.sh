#!/usr/bin/env bash
# Runs the test suites against the binaries in $BUILD and prints one summary
# line, "N passed, N failed, N skipped". Usage: run-all.sh [unit|integration|e2e]...
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit integration e2e)

pass=0 fail=0 skip=0
failed=()

# Each test program or script is one unit of reporting; exit 77 means skipped.
run_one() {
	local name=$1; shift
	local log rc start end
	log=$(mktemp)
	start=$(date +%s.%N)
	"$@" >"$log" 2>&1
	rc=$?
	# A sanitizer report is a failure even where the process exit status
	# hides it (criterion's workers, a daemon killed at the end of a test).
	if [ "$rc" -eq 0 ] && grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
		echo "sanitizer report in the output" >>"$log"
		rc=1
	fi
	end=$(date +%s.%N)
	local secs
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}')
	case $rc in
	0)  pass=$((pass+1)); printf 'PASS  %-40s %6ss\n' "$name" "$secs"
	    grep -E '^(FIGURE|NOTE)' "$log" | sed 's/^/      /' ;;
	77) skip=$((skip+1)); printf 'SKIP  %-40s %s\n' "$name" "$(tail -n1 "$log")" ;;
	*)  fail=$((fail+1)); failed+=("$name"); printf 'FAIL  %-40s %6ss (exit %d)\n' "$name" "$secs" "$rc"
	    sed 's/^/      | /' "$log" | tail -n 60 ;;
	esac
	rm -f "$log"
}

for suite in "${suites[@]}"; do
	case $suite in
	unit)
		# build/tests mirrors tests/unit: forwarder/process/test_student ...
		while IFS= read -r t; do
			run_one "unit/${t#"$BUILD"/tests/}" "$t" --jobs 2
		done < <(find "$BUILD/tests" -type f -name 'test_*' -perm -u+x 2>/dev/null | sort) ;;
	integration|e2e)
		for t in tests/"$suite"/*.sh; do
			[ -f "$t" ] || continue
			run_one "$suite/$(basename "$t" .sh)" timeout 600 bash "$t"
		done ;;
	*) echo "unknown suite: $suite" >&2; exit 2 ;;
	esac
done

echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "${pass} passed, ${fail} failed, ${skip} skipped"
[ "$fail" -eq 0 ]
