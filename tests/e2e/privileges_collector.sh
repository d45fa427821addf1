#!/usr/bin/env bash
# Least privilege of the running collector, read from /proc/<pid>/status
# once it has attached (root, real BPF programs):
#   - default: every capability set empty (CapInh, CapPrm, CapEff, CapBnd,
#     CapAmb), NoNewPrivs 1, Seccomp 2 (filter), still uid 0;
#   - --user nobody: the same, and uid/gid 65534 with no groups;
#   - --seccomp=false: no filter (Seccomp 0), capabilities still empty;
#   - --seccomp-selftest: the filter kills it with status 159 and one JSON
#     log line naming the refused call (kexec_file_load).
# Skips (77) only when not root or when the machine cannot run BPF.
set -u
source "$(dirname "$0")/../lib.sh"
COLLECTOR=$BUILD/jcw-collector

need_root "needs root to load BPF programs"
need_bins "$COLLECTOR"
getent passwd nobody >/dev/null || { echo "no user nobody"; exit 1; }

make_tmp jcw-priv
cpid=
kill_on_exit cpid
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# start NAME ARGS...: the collector recording to $tmp/NAME.cap, its log in
# $tmp/NAME.log; returns once attached (cpid set) or fails the test.
start() {
	local name=$1; shift
	"$COLLECTOR" --no-socket --record "$tmp/$name.cap" --heartbeat-interval 1s "$@" \
		2>"$tmp/$name.log" &
	cpid=$!
	for _ in $(seq 200); do
		grep -q '"attached' "$tmp/$name.log" && return 0
		if ! kill -0 "$cpid" 2>/dev/null; then
			wait "$cpid"
			cat "$tmp/$name.log"
			cpid=
			if grep -qE 'not root|no kernel BTF|too old' "$tmp/$name.log"; then
				echo "privileges_collector: BPF unavailable here"
				exit 77
			fi
			echo "collector ($name) failed to start"
			exit 1
		fi
		sleep 0.05
	done
	cat "$tmp/$name.log"
	echo "collector ($name) did not attach in 10 s"
	exit 1
}

stop() {
	local rc=0
	kill -INT "$cpid"
	wait "$cpid" || rc=$?
	cpid=
	[ $rc = 0 ] || { cat "$tmp/$1.log"; fail "$1: exit status $rc after SIGINT"; }
}

field() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$cpid/status"; }

# expect NAME FIELD VALUE
expect() {
	local v
	v=$(field "$2")
	[ "$v" = "$3" ] || fail "$1: $2 is '$v', want '$3'"
}

caps_empty() {
	local c
	for c in CapInh CapPrm CapEff CapBnd CapAmb; do
		expect "$1" $c 0000000000000000
	done
	expect "$1" NoNewPrivs 1
}

# 1. Defaults.
start default
caps_empty default
expect default Seccomp 2
[ "$(field Seccomp_filters)" -ge 1 ] 2>/dev/null || fail "default: Seccomp_filters is '$(field Seccomp_filters)'"
expect default Uid '0 0 0 0'
grep -q '"attached.*seccomp on' "$tmp/default.log" || fail "default: the attached line does not say seccomp on"
echo "NOTE default: $(grep -E '^(Uid|CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/$cpid/status | tr -s '\t\n' '  ')"
stop default

# 2. --user nobody.
nobody=$(id -u nobody) nogroup=$(id -g nobody)
start user --user nobody
caps_empty user
expect user Seccomp 2
expect user Uid "$nobody $nobody $nobody $nobody"
expect user Gid "$nogroup $nogroup $nogroup $nogroup"
expect user Groups ""
stop user

# 3. --seccomp=false (and SECCOMP=false): no filter, the drop stays.
start nofilter --seccomp=false
caps_empty nofilter
expect nofilter Seccomp 0
grep -q '"attached.*seccomp off' "$tmp/nofilter.log" || fail "nofilter: the attached line does not say seccomp off"
stop nofilter
SECCOMP=false start nofilter_env
expect nofilter_env Seccomp 0
stop nofilter_env

# 4. --seccomp-selftest: killed by the filter, with the line.
rc=0
timeout 30 "$COLLECTOR" --no-socket --record "$tmp/selftest.cap" --seccomp-selftest \
	2>"$tmp/selftest.log" || rc=$?
cat "$tmp/selftest.log"
[ $rc = 159 ] || fail "selftest: exit status $rc, want 159"
python3 - "$tmp/selftest.log" <<'EOF' || fail "selftest: no valid seccomp line"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
hits = [l for l in lines if l.get("syscall_name") == "kexec_file_load"]
assert len(hits) == 1, lines
l = hits[0]
assert l["level"] == "error" and l["daemon"] == "jcw-collector", l
assert l["msg"].startswith("seccomp: system call kexec_file_load ("), l
assert isinstance(l["syscall"], int) and l["syscall"] > 0, l
assert lines[-1] is l, "the seccomp line is the last one"
EOF

[ $fails = 0 ] || exit 1
echo "FIGURE collector privileges: no capabilities, no_new_privs, seccomp filter; --user, --seccomp=false and the selftest kill (status 159) as specified"
