# Shared by the test scripts (sourced, not run): the checks every script
# starts with, a temp dir whose processes die with the script, bounded
# waits, free loopback ports, the recording API server and a fake student
# container. Sets no shell options: each script keeps its own (set -e or
# not). Sourcing it moves to the repository root and defaults BUILD.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${BUILD:-build}
# Collectors of the tests run unpinned (they would otherwise leave their
# programs attached, and the next test would adopt them): the one that
# tests pinning gives --pin-path itself.
export PIN_PATH=

# need_bins FILE...: each must be built; a missing one is a failure, not a
# skip (the suites run after the build).
need_bins() {
	local b
	for b; do [ -x "$b" ] || { echo "missing $b (run make)"; exit 1; }; done
}

# need_cmds CMD...: each must be installed (make deps puts them there).
need_cmds() {
	local t
	for t; do command -v "$t" >/dev/null || { echo "missing $t (make deps)"; exit 1; }; done
}

# need_root REASON: skip (77) unless root; the last line says why.
need_root() {
	[ "$(id -u)" = 0 ] && return 0
	echo "$(basename "$0" .sh): $1"
	exit 77
}

# use_forwarder: FWD and MK (jcw-forwarder, mkcapture) must be built, and
# ALLOW_ROOT=true is exported: the forwarder refuses root unless told, and
# running it unprivileged is tests/e2e/privileges_forwarder.sh's subject,
# not that of the scripts that replay captures through it.
use_forwarder() {
	FWD=$BUILD/jcw-forwarder
	MK=$BUILD/tools/mkcapture
	need_bins "$FWD" "$MK"
	export ALLOW_ROOT=true
}

# make_tmp [PREFIX]: $tmp, a fresh directory under /tmp, mode 0755 so the
# daemons the tests run as other users can reach into it. On exit, every
# pid in $pids and in the variables named to kill_on_exit is killed, the
# on_exit commands run, and $tmp is removed (kept when KEEP is set).
pids=()
api_pid=
lib_kill_vars=('pids[@]' api_pid)
lib_on_exit=()
make_tmp() {
	tmp=$(mktemp -d "/tmp/${1:-jcw-test}.XXXXXX")
	chmod 755 "$tmp"
	trap lib_cleanup EXIT
	# The forwarders of this test say they live here, not in a shared /tmp.
	export HEALTH_FILE=$tmp/fwd.health
}
kill_on_exit() { lib_kill_vars+=("$@"); }  # kill_on_exit VAR...: names, not pids
on_exit() { lib_on_exit+=("$1"); }         # on_exit 'COMMAND': evaluated at exit
# Runs as the EXIT trap, possibly under set -e: nothing in it may fail, or
# the script's own exit status (0, 77, 1) would be replaced.
lib_cleanup() {
	local v p c
	for v in "${lib_kill_vars[@]}"; do
		for p in ${!v:-}; do kill -KILL "$p" 2>/dev/null || true; done
	done
	wait 2>/dev/null || true
	for c in "${lib_on_exit[@]}"; do eval "$c" || true; done
	if [ -n "${KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_for SECONDS CMD...: polls CMD every 50 ms until it succeeds; 1 (and
# a line naming CMD) once SECONDS have passed.
wait_for() {
	local end=$((SECONDS + $1)); shift
	until "$@"; do
		[ $SECONDS -lt $end ] || { echo "timed out waiting for: $*"; return 1; }
		sleep 0.05
	done
}

# api_start NAME [apiserver options]: the recording API server
# (tests/tools/apiserver.py) appending its requests to $tmp/NAME.log; waits
# until it listens, then sets api_pid and api_url (http://127.0.0.1:PORT).
api_start() {
	local name=$1; shift
	rm -f "$tmp/$name.port"
	python3 tests/tools/apiserver.py --log "$tmp/$name.log" --port-file "$tmp/$name.port" "$@" &
	api_pid=$!
	wait_for 10 test -s "$tmp/$name.port" || return 1
	api_url=http://127.0.0.1:$(cat "$tmp/$name.port")
}
# api_stop: SIGTERM to the server of the last api_start, and its end.
api_stop() { kill -TERM "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; api_pid=; }

# student_sh SECONDS HOST DIR SCRIPT [NAME=VALUE...]: a fake student container
# running the bash SCRIPT: fresh UTS + mount + pid namespaces, hostname
# HOST, DIR bound onto /home/coder/project (a tmpfs on /home keeps the
# host's own off it), which is the current directory; the environment
# holds only PATH, HOME=/root, TMPDIR=/tmp, HOST, PROJ=DIR and the
# NAME=VALUE pairs. Its status is SCRIPT's (124 after SECONDS; 125 when
# the container could not be set up).
student_sh() {
	local secs=$1 host=$2 dir=$3 script=$4; shift 4
	timeout "$secs" unshare -u -m -p --fork --mount-proc env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TMPDIR=/tmp HOST="$host" PROJ="$dir" "$@" bash -c '
		{ hostname "$HOST" && mount --make-rprivate / && mount -t tmpfs tmpfs /home &&
		  mkdir -p /home/coder/project && mount --bind "$PROJ" /home/coder/project &&
		  cd /home/coder/project; } || exit 125
		'"$script"
}

# deb_install PKG...: installs Debian's packages for a test that needs more
# than make deps gives (an engine), updating the lists if the first try
# fails; nothing for no PKG. 0, or 1 with apt's last lines.
deb_install() {
	[ $# -gt 0 ] || return 0
	command -v apt-get >/dev/null || { echo "no apt-get to install $*"; return 1; }
	echo "NOTE installing $* from Debian's archive"
	{ DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" ||
	  { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; }; } \
		>"$tmp/apt.log" 2>&1 || { tail -n 5 "$tmp/apt.log"; return 1; }
}

# debian_base_image ENGINE: ENGINE (docker or podman) has the image
# debian:bookworm-slim, made as docs/deployment.md's offline section makes it:
# debootstrap --variant=minbase from Debian's archive, then ENGINE import.
# The tree is cached as a tarball under /var/cache/jcw-tests, so the
# second engine and the next run skip debootstrap. 0, or 1 with the reason.
debian_base_image() {
	local engine=$1 cache=/var/cache/jcw-tests tar=/var/cache/jcw-tests/debian-bookworm-minbase.tar
	"$engine" image inspect debian:bookworm-slim >/dev/null 2>&1 && return 0
	if [ ! -s "$tar" ]; then
		mkdir -p "$cache" "$tmp/rootfs" || return 1
		debootstrap --variant=minbase bookworm "$tmp/rootfs" http://deb.debian.org/debian \
			>"$tmp/debootstrap.log" 2>&1 || { tail -n 5 "$tmp/debootstrap.log"; echo "debootstrap failed"; return 1; }
		rm -rf "$tmp/rootfs"/var/cache/apt/archives/*.deb "$tmp/rootfs"/var/lib/apt/lists/*
		tar -C "$tmp/rootfs" -cf "$tar.part" . && mv "$tar.part" "$tar" || return 1
		rm -rf "$tmp/rootfs"
		echo "NOTE debian:bookworm-slim: made with debootstrap --variant=minbase (cached in $tar)"
	fi
	"$engine" import --change 'CMD ["bash"]' "$tar" debian:bookworm-slim >/dev/null ||
		{ echo "$engine import of $tar failed"; return 1; }
}

# collector_start [jcw-collector options...]: starts $BUILD/jcw-collector
# with its log in $tmp/collector.log and waits up to 15 s for its
# "attached" line; sets cpid, killed on exit. Skips the script (77) when
# this machine cannot run BPF (not root, no kernel BTF, kernel too old);
# returns 1, with the log shown, when it exits or does not attach otherwise.
cpid=
collector_start() {
	local log=$tmp/collector.log end=$((SECONDS + 15))
	"$BUILD/jcw-collector" "$@" 2>"$log" &
	cpid=$!
	kill_on_exit cpid
	until grep -q '"attached' "$log"; do
		if ! kill -0 "$cpid" 2>/dev/null; then
			wait "$cpid" 2>/dev/null
			cpid=
			if grep -qE 'not root|no kernel BTF|too old' "$log"; then
				echo "$(basename "$0" .sh): BPF unavailable here: $(grep -o '"msg":"[^"]*"' "$log" | tail -n1)"
				exit 77
			fi
			cat "$log"; echo "collector exited before attaching"
			return 1
		fi
		[ $SECONDS -lt $end ] || { cat "$log"; echo "collector did not attach in 15 s"; return 1; }
		sleep 0.05
	done
}

# forwarder_start [jcw-forwarder options]: the forwarder on
# $tmp/events.sock (peers of uid 0), its outbox in $tmp/state, sending to
# the API of the last api_start, metrics on 127.0.0.1:$mport (set here),
# log in $tmp/fwd.err; returns once the socket is there (1 after 10 s).
forwarder_start() {
	mkdir -p "$tmp/state"
	mport=$(free_port)
	"$BUILD/jcw-forwarder" --socket "$tmp/events.sock" --allowed-uids 0 \
		--state-dir "$tmp/state" --api-server "$api_url" --metrics-addr 127.0.0.1 \
		--metrics-port "$mport" "$@" 2>"$tmp/fwd.err" &
	pids+=($!)
	wait_for 10 test -S "$tmp/events.sock"
}

# own_pins NAME: $pin, a bpffs pin directory of this test's own
# (/sys/fs/bpf/jcw-test-NAME-PID), removed with --unpin when the test ends,
# whatever happens: a test never leaves pins, nor adopts another's.
own_pins() {
	pin=/sys/fs/bpf/jcw-test-$1-$$
	on_exit '"$BUILD/jcw-collector" --unpin --pin-path "$pin" >/dev/null 2>&1'
}

# live_test NAME CMD...: the start of a live test of the real programs:
# root (else skip), both daemons built, the commands installed, $tmp,
# ALLOW_ROOT for the forwarder, and fail() as fail_live.
live_test() {
	local name=$1; shift
	need_root "needs root to load BPF programs"
	need_bins "$BUILD/jcw-collector" "$BUILD/jcw-forwarder"
	need_cmds "$@"
	make_tmp "jcw-$name"
	export ALLOW_ROOT=true
	FWD=$BUILD/jcw-forwarder
	fail() { fail_live "$@"; }
}

# replay_metrics CAP N: replays the capture CAP through the forwarder
# (--print, --follow) into $tmp/out.jsonl until N lines are out, then
# scrapes its metrics into $tmp/metrics.txt and stops it. 1 on a timeout.
replay_metrics() {
	local cap=$1 n=$2 fwd mport
	mport=$(free_port)
	METRICS_PORT=$mport METRICS_ADDR=127.0.0.1 "$BUILD/jcw-forwarder" --replay "$cap" --follow \
		--print --snapshots=false >"$tmp/out.jsonl" 2>"$tmp/fwd.err" &
	fwd=$!
	pids+=("$fwd")
	wait_for 20 eval '[ "$(wc -l <"$tmp/out.jsonl")" -ge '"$n"' ]' || { cat "$tmp/fwd.err"; return 1; }
	wait_for 10 curl -sf -o "$tmp/metrics.txt" "http://127.0.0.1:$mport/metrics" || return 1
	kill -TERM "$fwd"
	wait "$fwd" || true
}

# fail_live MSG: for the live end-to-end scripts: says what failed, shows
# the tails of the collector's, the forwarder's and the API's logs, exit 1.
fail_live() {
	echo "FAIL: $*"
	echo "--- collector"; tail -n 20 "$tmp/collector.log" 2>/dev/null
	echo "--- forwarder"; tail -n 30 "$tmp/fwd.err" 2>/dev/null
	echo "--- api (last 20 requests)"; cut -c1-300 "$tmp/api.log" 2>/dev/null | tail -n 20
	echo "FAIL: $*"   # again: the suite runner shows the end of the output
	exit 1
}
