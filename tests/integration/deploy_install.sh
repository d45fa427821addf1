#!/usr/bin/env bash
# "make install" into a temporary DESTDIR installs the daemons, man pages,
# systemd units, sysusers.d entry and /etc/default files where the units
# expect them; the units pass "systemd-analyze verify" against that root
# (so the binaries they name exist there), systemd-sysusers creates the
# forwarder's user from the installed entry, existing settings survive a
# reinstall, PREFIX moves everything, and "make uninstall" removes it again.
# The daemons are the ones in $BUILD; while one is not built yet a stub
# stands in for it (only the man page's content then differs), so the
# install logic is tested either way.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
BUILD=${BUILD:-build}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
# Not the outer make's jobserver: this make must be self-contained.
unset MAKEFLAGS MFLAGS MAKELEVEL

bin=$tmp/bin
mkdir -p "$bin"
stubs=()
for d in jcw-collector jcw-forwarder; do
	if [ -x "$BUILD/$d" ]; then
		cp "$BUILD/$d" "$bin/$d"
	else
		stubs+=("$d")
		printf '#!/bin/sh\necho "Usage: %s [OPTION]..."\necho "stand-in used by deploy_install.sh"\n' "$d" >"$bin/$d"
		chmod 0755 "$bin/$d"
	fi
done
[ ${#stubs[@]} -eq 0 ] || echo "NOTE not built yet, stand-ins installed for: ${stubs[*]}"

# -o: never rebuild the daemons from here, install the ones given.
install_to() { # DESTDIR [make variables...]
	local dest=$1; shift
	make -s -C "$root" BUILD="$bin" -o "$bin/jcw-collector" -o "$bin/jcw-forwarder" \
		DESTDIR="$dest" "$@" install >"$tmp/make.log" 2>&1 ||
		{ echo "make install failed:"; cat "$tmp/make.log"; exit 1; }
}
fail() { echo "FAIL: $*"; exit 1; }

dest=$tmp/root
install_to "$dest"
expected="etc/default/jcw-collector
etc/default/jcw-forwarder
usr/local/bin/jcw-dataset
usr/local/lib/systemd/system/jcw-collector.service
usr/local/lib/systemd/system/jcw-forwarder.service
usr/local/lib/sysusers.d/jcw.conf
usr/local/sbin/jcw-collector
usr/local/sbin/jcw-forwarder
usr/local/share/man/man1/jcw-dataset.1
usr/local/share/man/man8/jcw-collector.8
usr/local/share/man/man8/jcw-forwarder.8"
command -v help2man >/dev/null || {
	expected=$(echo "$expected" | sed 's|share/man/man[18]/\(.*\)\.[18]|share/doc/jcode-watcher/\1.txt|' | sort)
	echo "NOTE help2man missing (make deps): --help text installed instead of man pages"
}
got=$(cd "$dest" && find . -type f | sed 's|^\./||' | sort)
[ "$got" = "$expected" ] || { echo "installed files differ:"; diff <(echo "$expected") <(echo "$got"); exit 1; }

units=$dest/usr/local/lib/systemd/system
for d in jcw-collector jcw-forwarder; do
	u=$units/$d.service
	[ -x "$dest/usr/local/sbin/$d" ] || fail "$d not executable"
	! grep -n '@[A-Z]*@' "$u" || fail "$d.service: unsubstituted placeholder"
	grep -qx "ExecStart=/usr/local/sbin/$d" "$u" || fail "$d.service: ExecStart is not /usr/local/sbin/$d"
	grep -qx "EnvironmentFile=-/etc/default/$d" "$u" || fail "$d.service: no optional /etc/default/$d"
	grep -qx 'NoNewPrivileges=yes' "$u" || fail "$d.service: NoNewPrivileges"
	grep -qx 'ProtectSystem=strict' "$u" || fail "$d.service: ProtectSystem=strict"
	[ "$(stat -c %a "$u")" = 644 ] || fail "$d.service: mode $(stat -c %a "$u")"
	if [ -e "$dest/usr/local/share/man/man8/$d.8" ]; then
		grep -q "^\.TH ${d^^} \"8\"" "$dest/usr/local/share/man/man8/$d.8" || fail "$d.8: no .TH header"
		case " ${stubs[*]-} " in *" $d "*) ;; *)
			grep -q 'socket' "$dest/usr/local/share/man/man8/$d.8" || fail "$d.8: options missing";;
		esac
	fi
done
[ -x "$dest/usr/local/bin/jcw-dataset" ] || fail "jcw-dataset not installed in bin"
[ ! -e "$dest/usr/local/share/man/man1/jcw-dataset.1" ] ||
	grep -q '^\.TH JCW-DATASET "1"' "$dest/usr/local/share/man/man1/jcw-dataset.1" || fail "jcw-dataset.1: no .TH header"
c=$units/jcw-collector.service f=$units/jcw-forwarder.service
grep -qx 'CapabilityBoundingSet=CAP_BPF CAP_PERFMON' "$c" || fail "collector bounding set must be CAP_BPF CAP_PERFMON"
grep -qx 'AmbientCapabilities=CAP_BPF CAP_PERFMON' "$c" || fail "collector ambient set must be CAP_BPF CAP_PERFMON"
grep -qx 'CapabilityBoundingSet=' "$f" || fail "forwarder must have an empty bounding set"
for k in User=jcw Group=jcw RuntimeDirectory=jcw StateDirectory=jcw UMask=0007; do
	grep -qx "$k" "$f" || fail "forwarder unit needs $k"
done
grep -qx 'SupplementaryGroups=jcw' "$c" || fail "collector must be in the forwarder's group jcw to reach its socket"
grep -qx 'Environment=ALLOWED_UIDS=0' "$f" && ! grep -q '^User=' "$c" || fail "collector runs as uid 0: ALLOWED_UIDS must allow it"

# The forwarder's user and group come from the installed sysusers.d entry.
if [ "$(id -u)" != 0 ]; then
	echo "NOTE not root: systemd-sysusers --root not tried"
elif command -v systemd-sysusers >/dev/null; then
	systemd-sysusers --root="$dest" >"$tmp/sysusers.log" 2>&1 || { cat "$tmp/sysusers.log"; fail "systemd-sysusers"; }
	grep -q '^jcw:x:[0-9]*:[0-9]*:JCode Watcher forwarder:/var/lib/jcw:/usr/sbin/nologin$' "$dest/etc/passwd" || fail "no jcw user after systemd-sysusers"
	grep -q '^jcw:x:' "$dest/etc/group" || fail "no jcw group after systemd-sysusers"
else
	echo "NOTE systemd-sysusers missing (make deps): user creation not checked"
fi

# verify resolves the units' dependencies (sysinit.target, network-online
# .target, ...) inside --root: give it the distribution's units there. Any
# output, even a warning about an unknown setting, is a failure.
if command -v systemd-analyze >/dev/null; then
	sysunits=/usr/lib/systemd/system
	[ -d "$sysunits" ] || sysunits=/lib/systemd/system
	mkdir -p "$dest/usr/lib/systemd"
	cp -a "$sysunits" "$dest/usr/lib/systemd/system"
	if ! systemd-analyze verify --man=no --root="$dest" "$c" "$f" >"$tmp/verify.log" 2>&1 || [ -s "$tmp/verify.log" ]; then
		cat "$tmp/verify.log"; fail "systemd-analyze verify"
	fi
	for u in "$c" "$f"; do
		systemd-analyze security --offline=true --root="$dest" "$u" 2>/dev/null |
			sed -n 's/.*Overall exposure level for \([^:]*\): \([0-9.]*\) \([A-Z]*\).*/FIGURE systemd-analyze security \1: \2 \3/p'
	done
	rm -rf "$dest/usr/lib/systemd/system"
	rmdir "$dest/usr/lib/systemd" "$dest/usr/lib" 2>/dev/null || true
else
	echo "NOTE systemd-analyze missing (make deps): units not verified"
fi

# A reinstall keeps the administrator's settings.
echo 'API_SERVER=http://api.example:8000' >>"$dest/etc/default/jcw-forwarder"
install_to "$dest"
grep -qx 'API_SERVER=http://api.example:8000' "$dest/etc/default/jcw-forwarder" || fail "reinstall overwrote /etc/default/jcw-forwarder"

# uninstall removes what install put there, except the settings.
make -s -C "$root" BUILD="$bin" DESTDIR="$dest" uninstall >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; fail "make uninstall"; }
left=$(cd "$dest" && find . -type f ! -path './etc/passwd*' ! -path './etc/group*' ! -path './etc/shadow*' ! -path './etc/gshadow*' ! -path './etc/.pwd.lock' | sed 's|^\./||' | sort)
[ "$left" = "$(printf 'etc/default/jcw-collector\netc/default/jcw-forwarder')" ] || { echo "left after uninstall:"; echo "$left"; fail "uninstall"; }

# PREFIX=/usr moves binaries, units and man pages, and the units follow.
install_to "$tmp/usr" PREFIX=/usr
grep -qx 'ExecStart=/usr/sbin/jcw-collector' "$tmp/usr/usr/lib/systemd/system/jcw-collector.service" || fail "PREFIX=/usr: collector ExecStart"
[ -x "$tmp/usr/usr/sbin/jcw-forwarder" ] && [ -f "$tmp/usr/usr/lib/sysusers.d/jcw.conf" ] || fail "PREFIX=/usr: files not under /usr"
echo "install, verify, reinstall, uninstall and PREFIX checked"
