#!/usr/bin/env bash
# The metric table of docs/operations.md and what the forwarder exposes, both ways:
# every family served is documented, and every family the table names is
# served (a stale row fails as surely as a missing one).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
use_forwarder
make_tmp
port=$(free_port)
# With an outbox and a dataset, so their families are listed too (an API
# that never answers: nothing needs to be delivered here).
"$FWD" --socket "$tmp/s.sock" --api-server http://127.0.0.1:9 --state-dir "$tmp/state" \
	--progsnap2-dir "$tmp/ds" --shutdown-grace 0 \
	--metrics-addr 127.0.0.1 --metrics-port "$port" >/dev/null 2>"$tmp/err" &
pids+=($!)
served() { curl -sf "http://127.0.0.1:$port/metrics" >"$tmp/m"; }
wait_for 10 served || { cat "$tmp/err"; echo "forwarder did not serve /metrics"; exit 1; }

python3 - "$tmp/m" docs/operations.md <<'EOF'
import re, sys
exposed = {l.split()[2] for l in open(sys.argv[1]) if l.startswith("# TYPE ")}
text = open(sys.argv[2], encoding="utf-8").read()
section = text[text.index("## Metrics and health"):]
section = section[:section.index("\n## ", 1)]
# The first cell of each table row names one or more families.
documented = set()
for row in section.splitlines():
    if row.startswith("| `"):
        documented |= set(re.findall(r"`([a-z_]+)`", row.split("|")[1]))
missing = sorted(exposed - documented)
stale = sorted(documented - exposed)
for n in missing:
    print(f"docs/operations.md does not document {n}")
for n in stale:
    print(f"docs/operations.md documents {n}, which the forwarder does not expose")
if missing or stale:
    sys.exit(1)
print(f"all {len(exposed)} metric families are documented in docs/operations.md, and no other")
# Every bounded table's memory is counted; those allocated at start are never 0.
mem = {}
for l in open(sys.argv[1]):
    m = re.match(r'jcw_table_memory_bytes\{table="(\w+)"\} (\S+)', l)
    if m:
        mem[m.group(1)] = float(m.group(2))
want = {"join", "lanes", "stderr", "delivery", "outbox", "sqlite", "snapshots", "ratelimit",
        "provenance"}
if set(mem) != want or not all(mem[t] > 0 for t in ("join", "lanes", "stderr", "outbox", "sqlite",
                                                    "snapshots", "provenance")):
    print(f"jcw_table_memory_bytes: {mem}")
    sys.exit(1)
print("table memory: " + ", ".join(f"{t} {int(v)} B" for t, v in sorted(mem.items())))
EOF
