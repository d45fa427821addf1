#!/usr/bin/env bash
# Fuzz smoke test: builds the libFuzzer targets (make fuzz-build, clang with
# ASan and UBSan, in build/fuzz) and runs each for a few seconds over its
# committed seed corpus. Any crash, sanitizer report or broken invariant
# fails the test. The long runs are "make fuzz FUZZ_SECONDS=600".
set -euo pipefail
cd "$(dirname "$0")/../.."
CLANG=${CLANG:-clang}
SECS=${FUZZ_SMOKE_SECONDS:-3}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Skip only when clang or its fuzzer runtime is missing (make deps installs
# both: clang and libclang-rt-14-dev).
if ! command -v "$CLANG" >/dev/null; then
	echo "skipped: no $CLANG (make deps installs it)"
	exit 77
fi
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$tmp/probe.c"
if ! "$CLANG" -fsanitize=fuzzer,address,undefined -o "$tmp/probe" "$tmp/probe.c" 2>"$tmp/probe.err"; then
	echo "skipped: $CLANG has no libFuzzer runtime ($(head -n1 "$tmp/probe.err")); install libclang-rt-14-dev"
	exit 77
fi

# A make of its own: not the jobserver or variables of a make that runs us.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -j2 fuzz-build >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log"; echo "make fuzz-build failed"; exit 1; }

# The seeds stay read-only; what the short runs find goes to $tmp.
FUZZ_BIN=build/fuzz/bin FUZZ_OUT="$tmp/out" FUZZ_SECONDS=$SECS FUZZ_JOBS=2 tests/fuzz/run.sh || {
	for l in "$tmp"/out/logs/*.log; do
		grep -q -E 'ERROR|invariant broken' "$l" && { echo "== $l"; tail -n 40 "$l"; }
	done
	exit 1
}
n=$(ls build/fuzz/bin/fuzz_* | wc -l)
[ "$n" -ge 8 ] || { echo "expected at least 8 fuzz targets, found $n"; exit 1; }
