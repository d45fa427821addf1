#!/usr/bin/env bash
# Zero-gap collector restarts, live, as root. A student runs a program 200
# times, 25 a second, while the collector (programs pinned in a bpffs
# directory of this test) is
#   A  stopped with SIGTERM (a rolling update) and started 2 s later;
#   B  killed with SIGKILL (a crash, an OOM kill) and started 2 s later;
#   C  replaced by one whose programs differ (--args-max changes the set's
#      stamp, as an upgrade would): it takes over without a window.
# A and C: all 200 runs reach the API, and the forwarder sees no sequence
# gap. B: what the kernel buffered survives; what the killed collector held
# unacknowledged is lost and shows as a sequence gap, so every run either
# arrives or is counted. Each restart continues the same boot id. Last,
# --unpin removes the pins and the programs detach. Skips (77) only when
# not root or when the machine cannot run BPF.
set -u
source "$(dirname "$0")/../lib.sh"
FWD=$BUILD/jcw-forwarder
export ALLOW_ROOT=true  # running it unprivileged is privileges_forwarder.sh's subject
need_root "needs root to load BPF programs"
need_bins "$BUILD/jcw-collector" "$FWD"
need_cmds unshare python3 curl gcc bpftool
make_tmp jcw-restart
fail() { fail_live "$@"; }

host=jcode-restart-1-202012345
pin=/sys/fs/bpf/jcw-test-$$
on_exit '"$BUILD/jcw-collector" --unpin --pin-path "$pin" >/dev/null 2>&1'
ws=$tmp/ws
mkdir -p "$ws/hw1"
printf 'int main(int c, char **v) { return c > 1 ? 0 : 1; }\n' >"$ws/hw1/prog.c"
gcc -o "$ws/hw1/prog" "$ws/hw1/prog.c"

api_start api || fail "API server did not start"
forwarder_start --snapshots=false || fail "forwarder did not create its socket"
start() { collector_start --socket "$tmp/events.sock" --pin-path "$pin" \
	--hostname-prefix jcode-restart- --heartbeat-interval 1s "$@"; }
metric() {
	curl -s "http://127.0.0.1:$mport/metrics" | awk -v m="$1" '$1 == m { print $2; exit }'
}
runs() { local n; n=$(grep -c '/logs/run' "$tmp/api.log" 2>/dev/null); echo "${n:-0}"; }

# round NAME STOP: 200 runs ./prog <round>-<i> at 25/s; at 2 s the
# collector gets STOP (TERM, KILL or "upgrade"), and 2 s later a new one
# starts. Waits for the runs to arrive (or to stop arriving).
round() {
	local name=$1 stop=$2 before i
	before=$(runs)
	student_sh 60 "$host" "$ws" \
		'cd hw1; for i in $(seq 200); do ./prog "$ROUND-$i"; sleep 0.04; done' ROUND="$name" \
		>"$tmp/student.out" 2>&1 &
	local sp=$!
	sleep 2
	case $stop in
	TERM|KILL) kill -"$stop" "$cpid"; wait "$cpid" 2>/dev/null; cpid=; sleep 2
		start || fail "round $name: the collector did not start again" ;;
	upgrade) kill -TERM "$cpid"; wait "$cpid" 2>/dev/null; cpid=; sleep 2
		start --args-max 4k || fail "round $name: the new version did not start" ;;
	esac
	wait "$sp" || { cat "$tmp/student.out"; fail "round $name: the student's loop failed"; }
	# Up to 30 s: a loaded CI machine with the sanitizer build is slow.
	for i in $(seq 300); do
		[ $(( $(runs) - before )) -ge 200 ] && break
		sleep 0.1
	done
	sleep 1
}
count() {  # count ROUND: distinct runs of that round the API has
	python3 - "$tmp/api.log" "$1" <<'PY'
import json, sys
seen = set()
for l in open(sys.argv[1]):
    b = json.loads(l)["json"]
    c = b.get("cmdline", "")
    if c.startswith("./prog " + sys.argv[2] + "-"):
        seen.add(c)
print(len(seen))
PY
}

start || fail "collector did not attach"
grep -q 'programs loaded and pinned in '"$pin" "$tmp/collector.log" || fail "the first collector did not pin"
boot=$(grep -o 'boot id [0-9a-f]*' "$tmp/collector.log" | awk '{print $3}')

round A TERM
grep -q "boot id $boot from seq [0-9]*, programs adopted" "$tmp/collector.log" ||
	fail "A: the restarted collector did not adopt the pinned programs and continue boot $boot"
a=$(count A)
[ "$a" = 200 ] || fail "A (SIGTERM restart): $a of 200 runs reached the API"
[ "$(metric jcw_sequence_gaps_total)" = 0 ] || fail "A: $(metric jcw_sequence_gaps_total) sequence gaps"
echo "FIGURE restart with SIGTERM, 2 s without a collector: 200 of 200 runs reached the API, 0 sequence gaps"

round B KILL
grep -q "boot id $boot from seq [0-9]*, programs adopted" "$tmp/collector.log" ||
	fail "B: the collector after a SIGKILL did not adopt the pinned programs"
b=$(count B) gaps=$(metric jcw_sequence_gaps_total)
# A run is two frames: every run missing is within the frames counted lost.
[ $((200 - b)) -le "$gaps" ] || fail "B (SIGKILL): $b of 200 runs arrived, but only $gaps frames counted as gaps"
echo "FIGURE restart after SIGKILL: $b of 200 runs reached the API; $gaps frames the killed collector held were counted as a sequence gap"

gaps_before=$(metric jcw_sequence_gaps_total)
round C upgrade
grep -q "boot id $boot from seq [0-9]*, programs replacing another version's" "$tmp/collector.log" ||
	fail "C: the new version did not take over the pinned programs and continue boot $boot"
grep -q 'replaced the pinned programs of another version' "$tmp/collector.log" || fail "C: no take-over logged"
c=$(count C)
[ "$c" = 200 ] || fail "C (upgrade): $c of 200 runs reached the API"
[ "$(metric jcw_sequence_gaps_total)" = "$gaps_before" ] || fail "C: new sequence gaps"
dups=$(python3 - "$tmp/api.log" <<'PY'
import collections, json, sys
n = collections.Counter(json.loads(l)["json"].get("cmdline") for l in open(sys.argv[1]))
print(sum(v - 1 for k, v in n.items() if k and v > 1))
PY
)
[ "$dups" = 0 ] || fail "$dups runs were reported twice"
echo "FIGURE upgrade (different programs) with a 2 s pause: 200 of 200 runs, no gap, no run reported twice"

kill -TERM "$cpid"; wait "$cpid" 2>/dev/null; cpid=
progs=$(bpftool -j link show | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
"$BUILD/jcw-collector" --unpin --pin-path "$pin" >/dev/null || fail "--unpin failed"
[ ! -e "$pin" ] || fail "--unpin left $pin"
after=$(bpftool -j link show | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ $((progs - after)) -ge 4 ] || fail "--unpin: links $progs before, $after after: the programs did not detach"
echo "NOTE --unpin removed $pin and detached $((progs - after)) links"
