#!/usr/bin/env bash
# The forwarder needs no privilege and runs under its seccomp allow-list:
#   - as root it refuses to start unless told (--allow-root / ALLOW_ROOT);
#   - run as nobody (setpriv), with the filter on, it does its whole job:
#     accepts the collector's connection (uid 0, SO_PEERCRED), stores events
#     in its SQLite outbox, resolves the API's host name in curl's resolver
#     thread (a name from a private /etc/hosts), delivers, serves /metrics,
#     rotates its log file and reopens it on SIGHUP, stops cleanly on
#     SIGTERM; meanwhile /proc/<pid>/status shows uid 65534, no
#     capabilities, NoNewPrivs 1 and Seccomp 2;
#   - --seccomp-selftest: killed with status 159 and a JSON line naming the
#     call; --seccomp=false: Seccomp 0.
# Needs root (setpriv, a mount namespace for /etc/hosts); skips otherwise.
set -u
source "$(dirname "$0")/../lib.sh"
FWD=$BUILD/jcw-forwarder
MK=$BUILD/tools/mkcapture
NOBODY=65534

need_root "needs root (setpriv to another user, a private /etc/hosts)"
need_bins "$FWD" "$MK"
need_cmds setpriv unshare curl python3

make_tmp jcw-fpriv
fpid= cpid=
kill_on_exit cpid fpid
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status"; }
expect() {  # expect WHAT PID FIELD VALUE
	local v
	v=$(field "$2" "$3")
	[ "$v" = "$4" ] || fail "$1: $3 is '$v', want '$4'"
}
# "${as_nobody[@]}" CMD...: CMD as uid/gid 65534 without groups (umask
# 0007); everything execs, so $! is CMD's pid.
as_nobody=(setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- sh -c 'umask 0007; exec "$@"' sh)

install -d -o $NOBODY -g $NOBODY -m 0755 "$tmp/run" "$tmp/state" "$tmp/logs"

# --- 1. root refuses unless told ------------------------------------------
rc=0
timeout 20 "$FWD" --print --metrics-port 0 --socket "$tmp/root.sock" 2>"$tmp/root.err" || rc=$?
[ $rc = 2 ] || fail "as root without --allow-root: exit status $rc, want 2"
grep -q '"level":"error".*refusing to run as root.*--allow-root' "$tmp/root.err" ||
	{ cat "$tmp/root.err"; fail "as root: no clear refusal"; }
[ -e "$tmp/root.sock" ] && fail "as root: the socket was created before refusing"
for how in flag env; do
	if [ $how = flag ]; then
		"$FWD" --allow-root --print --metrics-port 0 --socket "$tmp/root.sock" 2>"$tmp/root.err" &
	else
		ALLOW_ROOT=true "$FWD" --print --metrics-port 0 --socket "$tmp/root.sock" 2>"$tmp/root.err" &
	fi
	fpid=$!
	wait_for 10 grep -q '"seccomp filter installed' "$tmp/root.err" ||
		{ cat "$tmp/root.err"; fail "as root with --allow-root ($how): did not start"; }
	kill -TERM $fpid; rc=0; wait $fpid || rc=$?; fpid=
	[ $rc = 0 ] || fail "as root with --allow-root ($how): exit status $rc after SIGTERM"
done

# --- 2. a full job as nobody under the filter -----------------------------
api_port=$(free_port) mport=$(free_port)
api_start api --port "$api_port" || exit 1
printf '127.0.0.1\tapi.jcw.test\n' >"$tmp/hosts"
chmod 644 "$tmp/hosts"

cat >"$tmp/session.spec" <<'EOF'
hello boot=priv-boot node=node-1 first_seq=1
defaults host=jcode-os-1-202012345 uid=1000 ppid=50
exec tgid=101 exe=/usr/bin/gcc cwd=/home/coder/project/hw1 argv=gcc argv=-o argv=hello argv=hello.c time=1700000000.5
exit tgid=101 code=0 time=1700000000.75
exec tgid=102 exe=/home/coder/project/hw1/hello cwd=/home/coder/project/hw1 argv=./hello time=1700000001
exit tgid=102 code=3 time=1700000001.01
heartbeat queue_frames=0 queue_bytes=0 time=1700000002
EOF
"$MK" --no-magic -o "$tmp/session.stream" "$tmp/session.spec" || exit 1

# A mount namespace of its own for the hosts file; unshare, setpriv and sh
# exec, so $fpid is the forwarder.
unshare -m sh -c 'mount --make-rprivate / && mount --bind "$1" /etc/hosts && shift && exec "$@"' \
	sh "$tmp/hosts" "${as_nobody[@]}" env SNAPSHOTS_ENABLED=false LOG_LEVEL=debug "$FWD" \
	--api-server "http://api.jcw.test:$api_port" --socket "$tmp/run/events.sock" \
	--allowed-uids 0 --state-dir "$tmp/state" --metrics-port "$mport" --metrics-addr 127.0.0.1 \
	--log-file "$tmp/logs/fwd.log" --log-max-bytes 512 --log-backup-count 2 \
	2>"$tmp/fwd.err" &
fpid=$!
wait_for 20 grep -q '"seccomp filter installed' "$tmp/fwd.err" || { cat "$tmp/fwd.err"; exit 1; }

expect nobody $fpid Uid "$NOBODY $NOBODY $NOBODY $NOBODY"
expect nobody $fpid Groups ""
for c in CapInh CapPrm CapEff CapAmb; do expect nobody $fpid $c 0000000000000000; done
expect nobody $fpid NoNewPrivs 1
expect nobody $fpid Seccomp 2
echo "NOTE forwarder: $(grep -E '^(Uid|CapEff|NoNewPrivs|Seccomp):' /proc/$fpid/status | tr -s '\t\n' '  ')"

# The collector's side: uid 0 sends the stream and reads the acks.
python3 - "$tmp/run/events.sock" "$tmp/session.stream" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(open(sys.argv[2], "rb").read())
s.settimeout(0.5)
end = time.time() + 30
while time.time() < end:
    try:
        if not s.recv(65536):
            break
    except socket.timeout:
        pass
EOF
cpid=$!
delivered() { [ -f "$tmp/api.log" ] && [ "$(wc -l <"$tmp/api.log")" -ge 2 ]; }
wait_for 30 delivered || { cat "$tmp/fwd.err"; fail "events not delivered via api.jcw.test"; }
metric() { curl -sf "http://127.0.0.1:$mport/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
wait_for 10 test "$(metric jcw_api_delivered_total)" = 2 || fail "jcw_api_delivered_total is '$(metric jcw_api_delivered_total)'"
[ "$(metric jcw_connections_accepted_total)" = 1 ] || fail "jcw_connections_accepted_total is '$(metric jcw_connections_accepted_total)'"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/readyz")" = 200 ] || fail "/readyz"
kill $cpid 2>/dev/null; wait $cpid 2>/dev/null; cpid=

# Size rotation happened (512 bytes hold two or three lines), then SIGHUP
# reopens.
wait_for 10 test -e "$tmp/logs/fwd.log.1" || { ls -l "$tmp/logs"; fail "the log file was not rotated"; }
kill -HUP $fpid
# The line may itself be rotated away at once (512 bytes, debug level):
# look in the backups too.
wait_for 10 grep -qs '"SIGHUP: log file reopened' "$tmp/logs/fwd.log" "$tmp/logs/fwd.log.1" \
	"$tmp/logs/fwd.log.2" || fail "no reopen after SIGHUP"
kill -0 $fpid 2>/dev/null || fail "the forwarder died (see the seccomp line above)"
kill -TERM $fpid; rc=0; wait $fpid || rc=$?; fpid=
[ $rc = 0 ] || { tail -n 5 "$tmp/fwd.err"; fail "as nobody: exit status $rc after SIGTERM"; }
grep '"seccomp:' "$tmp/fwd.err" && fail "a seccomp kill line in a normal run"
python3 - "$tmp/api.log" <<'EOF' || fail "API requests"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
paths = sorted(r["path"] for r in reqs)
assert paths == ["/api/os-1/hw1/202012345/logs/build", "/api/os-1/hw1/202012345/logs/run"], paths
EOF

# --- 3. the selftest kill, and no filter when turned off -------------------
rc=0
timeout 20 "${as_nobody[@]}" "$FWD" --print --metrics-port 0 --socket "$tmp/run/self.sock" \
	--snapshots=false --seccomp-selftest 2>"$tmp/selftest.err" || rc=$?
cat "$tmp/selftest.err"
[ $rc = 159 ] || fail "selftest: exit status $rc, want 159"
python3 - "$tmp/selftest.err" <<'EOF' || fail "selftest: no valid seccomp line"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
l = lines[-1]
assert l["level"] == "error" and l["daemon"] == "jcw-forwarder", l
assert l["syscall_name"] == "kexec_file_load" and l["syscall"] > 0, l
assert l["msg"].startswith("seccomp: system call kexec_file_load ("), l
EOF

"${as_nobody[@]}" "$FWD" --print --metrics-port 0 --socket "$tmp/run/off.sock" --snapshots=false \
	--seccomp=false 2>"$tmp/off.err" &
fpid=$!
wait_for 10 grep -q '"listening on' "$tmp/off.err" || { cat "$tmp/off.err"; fail "--seccomp=false: did not start"; }
expect seccomp-off $fpid Seccomp 0
grep -q '"seccomp filter installed' "$tmp/off.err" && fail "--seccomp=false still says installed"
kill -TERM $fpid; wait $fpid; fpid=

[ $fails = 0 ] || exit 1
echo "FIGURE forwarder privileges: refuses root unless told; as nobody under seccomp: socket, outbox, DNS, delivery, metrics, log rotation and SIGHUP; selftest kill (status 159)"
