#!/usr/bin/env bash
# The forwarder's command line: --help, --version, the table of docs/configuration.md, refusal
# to start without an output, bad values naming their variable (exit 2),
# JSON logs and the rotating log file, a truncated capture that is reported
# but not fatal, and a capture that is not one (exit 1).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
use_forwarder
make_tmp
# Nothing from the caller's environment may change the cases.
unset API_SERVER API_TIMEOUT METRICS_PORT METRICS_ADDR LOG_LEVEL LOG_FILE_PATH LOG_MAX_BYTES \
	LOG_BACKUP_COUNT SOCKET_PATH ALLOWED_UIDS RULES_FILE API_MAX_INFLIGHT QUEUE_MAX_EVENTS \
	JOIN_TTL JOIN_MAX_ENTRIES 2>/dev/null || true

"$FWD" --help >"$tmp/help"
for w in --api-server API_SERVER --print --replay --follow METRICS_PORT LOG_BACKUP_COUNT ALLOWED_UIDS; do
	grep -q -- "$w" "$tmp/help" || { echo "--help does not mention $w"; exit 1; }
done
"$FWD" --version | grep -q '^jcw-forwarder '
"$FWD" --print-options-markdown >"$tmp/md"
head -1 "$tmp/md" | grep -q '^| flag | environment | default | meaning |$'
grep -q '^| `--api-timeout` | `API_TIMEOUT` | `5` |' "$tmp/md"

expect_fail() {  # expect_fail STATUS NEEDLE CMD...: fails with STATUS, stderr names NEEDLE
	local want=$1 needle=$2 rc=0; shift 2
	"$@" >/dev/null 2>"$tmp/err" || rc=$?
	[ $rc -eq "$want" ] || { echo "'$*' exited $rc, want $want"; cat "$tmp/err"; exit 1; }
	grep -q -- "$needle" "$tmp/err" || { echo "'$*' error does not name $needle:"; cat "$tmp/err"; exit 1; }
	python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$tmp/err"
}
expect_fail 2 API_SERVER "$FWD"
expect_fail 2 METRICS_PORT env METRICS_PORT=abc "$FWD" --print
expect_fail 2 API_TIMEOUT env API_TIMEOUT=-3 API_SERVER=http://127.0.0.1:1 "$FWD"
expect_fail 2 LOG_LEVEL env LOG_LEVEL=chatty "$FWD" --print
expect_fail 2 ALLOWED_UIDS env ALLOWED_UIDS=root "$FWD" --print
expect_fail 2 --metrics-port "$FWD" --print --metrics-port 99999
expect_fail 2 --bogus "$FWD" --print --bogus
expect_fail 2 LOG_FILE_PATH env LOG_FILE_PATH=/nonexistent/dir/f.log "$FWD" --print

# A capture cut inside its last frame: the events before it still come out.
"$MK" -o "$tmp/s.cap" <<'EOF'
hello boot=cfg-boot
exec tgid=1 host=jcode-os-1-202012345 exe=/usr/bin/python3 cwd=/home/coder/project/hw1 argv=python3 argv=a.py
exit tgid=1
exec tgid=2 host=jcode-os-1-202012345 exe=/usr/bin/python3 cwd=/home/coder/project/hw1 argv=python3 argv=b.py
EOF
head -c -3 "$tmp/s.cap" >"$tmp/cut.cap"
LOG_FILE_PATH=$tmp/fwd.log LOG_LEVEL=debug "$FWD" --replay "$tmp/cut.cap" --print --metrics-port 0 \
	>"$tmp/out" 2>"$tmp/err"
[ "$(wc -l <"$tmp/out")" = 1 ]
grep -q 'truncated capture' "$tmp/err"
cmp -s "$tmp/err" "$tmp/fwd.log" || { echo "log file differs from stderr"; exit 1; }
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    assert list(r)[:4] == ["ts", "level", "daemon", "msg"] and r["daemon"] == "jcw-forwarder", r
' "$tmp/fwd.log"

# Not a capture at all.
printf 'hello world, not a capture' >"$tmp/bad.cap"
expect_fail 1 'bad magic' "$FWD" --replay "$tmp/bad.cap" --print --metrics-port 0
expect_fail 1 'nonexistent' "$FWD" --replay "$tmp/nonexistent.cap" --print --metrics-port 0
echo "FIGURE forwarder config: 8 bad settings refused with their name, truncated capture reported"
