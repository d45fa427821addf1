#!/usr/bin/env bash
# Every metric family the forwarder exposes is documented in the README.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FWD=$BUILD/jcw-forwarder
[ -x "$FWD" ] || { echo "skip: $FWD is not built"; exit 77; }
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# With an outbox, so its families are listed too.
ALLOW_ROOT=true "$FWD" --socket "$tmp/s.sock" --print --state-dir "$tmp/state" \
	--metrics-addr 127.0.0.1 --metrics-port "$port" >/dev/null 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$port/metrics" >"$tmp/m" 2>/dev/null && break
	sleep 0.1
done
[ -s "$tmp/m" ] || { cat "$tmp/err"; echo "forwarder did not serve /metrics"; exit 1; }
missing=0 n=0
for name in $(awk '$1 == "#" && $2 == "TYPE" {print $3}' "$tmp/m" | sort -u); do
	n=$((n+1))
	grep -q -- "\`$name\`" README.md || { echo "README does not document $name"; missing=$((missing+1)); }
done
[ "$missing" -eq 0 ] || exit 1
echo "all $n metric families are documented in README.md"
