#!/usr/bin/env bash
# Quick start (`make run`): shows the JSON events of a short student session.
#
# - As root with BPF available: the live demo. jcw-collector and jcw-forwarder
#   run for real; a student session is played in a fresh UTS + mount + pid
#   namespace named jcode-os-1-202012345 with a temp dir as
#   /home/coder/project: gcc in hw1, the program run, python3 in hw2.
# - Otherwise: the same session as a generated capture (mkcapture), replayed
#   through the forwarder.
# Without API_SERVER the forwarder prints each event as one JSON line
# ({"method","path","event_id","body"}) on stdout; with API_SERVER set the
# events are sent there instead. JCW_DEMO=replay skips the live demo.
# Always ends by itself.
set -u
source "$(dirname "$0")/../lib.sh"
FWD=$BUILD/jcw-forwarder
COLLECTOR=$BUILD/jcw-collector
MK=$BUILD/tools/mkcapture
HOST=jcode-os-1-202012345

say() { printf '== %s\n' "$*" >&2; }
[ -x "$FWD" ] && [ -x "$MK" ] || { say "build first: make"; exit 1; }

make_tmp jcw-run
fpid= cpid=
kill_on_exit cpid fpid
trap 'exit 130' INT TERM

if [ -n "${API_SERVER:-}" ]; then
	# A demo keeps no durable outbox (STATE_DIR would default to
	# /var/lib/jcw, which the unprivileged forwarder cannot write);
	# what is sent is flushed at the end.
	out_args=(--state-dir=)
	say "sending events to API_SERVER=$API_SERVER"
else
	out_args=(--print)
	say "no API_SERVER set: printing events as JSON lines"
fi

# The forwarder needs no privilege and refuses to run as root: as root, run
# it as nobody (umask 0007: its socket is 0660, and the collector, uid 0
# without capabilities once attached, connects through the group).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	as_fwd=(setpriv --reuid=65534 --regid=65534 --clear-groups -- sh -c 'umask 0007; exec "$@"' sh)
	as_coll=(setpriv --groups=65534 --)
	install -d -o 65534 -g 65534 -m 0750 "$tmp/sock"
elif [ "$(id -u)" = 0 ]; then
	as_fwd=(env ALLOW_ROOT=true) as_coll=()
	mkdir "$tmp/sock"
else
	as_fwd=() as_coll=()
	mkdir "$tmp/sock"
fi

wait_log() {  # wait_log FILE PATTERN PID SECONDS: 0 when PATTERN shows up
	local i
	for ((i = 0; i < $4 * 20; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# --- live demo ----------------------------------------------------------------
live() {
	local sock=$tmp/sock/events.sock t
	[ "$(id -u)" = 0 ] || { say "not root: no live demo"; return 1; }
	[ -x "$COLLECTOR" ] || { say "no $COLLECTOR: no live demo"; return 1; }
	for t in gcc unshare /usr/bin/python3; do
		command -v "$t" >/dev/null || { say "no $t: no live demo"; return 1; }
	done

	"${as_fwd[@]}" "$FWD" "${out_args[@]}" --socket "$sock" --allowed-uids 0 --metrics-port 0 \
		>"$tmp/events.jsonl" 2>"$tmp/forwarder.log" &
	fpid=$!
	wait_log "$tmp/forwarder.log" '"listening on' "$fpid" 10 ||
		{ say "forwarder did not start:"; cat "$tmp/forwarder.log" >&2; return 2; }
	"${as_coll[@]}" "$COLLECTOR" --socket "$sock" --flush-interval 5ms --heartbeat-interval 1s \
		2>"$tmp/collector.log" &
	cpid=$!
	if ! wait_log "$tmp/collector.log" '"attached' "$cpid" 15; then
		say "collector could not start here (BPF unavailable?): $(grep -o '"msg":"[^"]*"' "$tmp/collector.log" | tail -n1)"
		kill -KILL "$cpid" "$fpid" 2>/dev/null; wait 2>/dev/null; cpid= fpid=
		return 1
	fi

	say "live: collector and forwarder running; playing a student in $HOST"
	mkdir -p "$tmp/proj/hw1" "$tmp/proj/hw2"
	printf '#include <stdio.h>\nint main(void) { puts("hello, hw1"); return 0; }\n' >"$tmp/proj/hw1/hello.c"
	printf 'print(sum(range(10)))\n' >"$tmp/proj/hw2/solve.py"
	student_sh 60 "$HOST" "$tmp/proj" '
		cd hw1 && gcc -o hello hello.c && ./hello
		cd /home/coder/project/hw2 && python3 solve.py
		' </dev/null >"$tmp/student.log" 2>&1 || { say "student session failed:"; cat "$tmp/student.log" >&2; }

	# Three events: the build, the run, the python script. Printed ones can
	# be counted; sent ones are flushed by the forwarder's shutdown.
	for ((t = 0; t < 200; t++)); do
		if [ -n "${API_SERVER:-}" ]; then
			[ $t -ge 20 ] && break
		else
			[ "$(wc -l <"$tmp/events.jsonl")" -ge 3 ] && break
		fi
		sleep 0.05
	done
	kill -INT "$cpid"; wait "$cpid" 2>/dev/null; cpid=
	kill -TERM "$fpid"; wait "$fpid" 2>/dev/null; fpid=
	cat "$tmp/events.jsonl"
	if [ -n "${API_SERVER:-}" ]; then
		grep -o '"msg":"delivery finished[^"]*"' "$tmp/forwarder.log" >&2
	else
		say "$(wc -l <"$tmp/events.jsonl" | tr -d ' ') event(s) printed (live collector + forwarder)"
	fi
	return 0
}

# --- replay of a generated capture ------------------------------------------------
replay() {
	say "replaying a generated capture of the same session (mkcapture)"
	"$MK" -o "$tmp/session.cap" <<EOF || return 2
hello boot=demo-$(date +%s) node=$(hostname)
defaults host=$HOST uid=1000 ppid=1
exec tgid=101 exe=/usr/bin/gcc cwd=/home/coder/project/hw1 argv=gcc argv=-o argv=hello argv=hello.c time=$(date +%s)
exit tgid=101 code=0 time=+0.21
exec tgid=102 exe=/home/coder/project/hw1/hello cwd=/home/coder/project/hw1 argv=./hello time=+0.5
exit tgid=102 code=0 time=+0.003
exec tgid=103 exe=/usr/bin/python3.11 cwd=/home/coder/project/hw2 argv=python3 argv=solve.py time=+2
exit tgid=103 code=0 time=+0.04
EOF
	timeout 60 "${as_fwd[@]}" "$FWD" "${out_args[@]}" --replay "$tmp/session.cap" --metrics-port 0 \
		2>"$tmp/forwarder.log"
	local rc=$?
	[ -n "${API_SERVER:-}" ] && grep -o '"msg":"delivery finished[^"]*"' "$tmp/forwarder.log" >&2
	[ $rc -eq 0 ] || { say "forwarder failed (exit $rc):"; cat "$tmp/forwarder.log" >&2; return $rc; }
	return 0
}

rc=1
[ "${JCW_DEMO:-auto}" = replay ] || { live; rc=$?; }
[ $rc -eq 1 ] && { replay; rc=$?; }
exit $rc
