#!/usr/bin/env bash
# End to end, as root, with the real BPF programs: play a student in a fresh
# UTS + mount + pid namespace named jcode-os-1-202012345 whose workspace is
# a temp dir bound onto /home/coder/project, record a capture with
# jcw-collector, and check what it holds:
#   - gcc main.c -o main && ./main (exit 3), a SIGSEGV, python3 script.py and
#     a ~3 KiB argv, with container-side paths and exact argv;
#   - a process started before the collector (seeded) killed by this script;
#   - nothing from a host named otherwise, nothing from a forged jcode-
#     hostname in a user namespace (but the forged counter moves).
# Skips (77) only when not root or when the machine cannot run BPF
# (no BTF, kernel too old); a program the verifier refuses is a failure.
set -u
source "$(dirname "$0")/../lib.sh"
COLLECTOR=$BUILD/jcw-collector
CAPDUMP=$BUILD/tools/capdump
HOST=jcode-os-1-202012345

need_root "needs root to load BPF programs"
need_bins "$COLLECTOR" "$CAPDUMP"
need_cmds gcc unshare /usr/bin/python3

make_tmp jcw-e2e
cpid= spid= cg=
kill_on_exit spid cpid
on_exit '[ -z "$cg" ] || rmdir "$cg" 2>/dev/null'

# The student's workspace.
mkdir -p "$tmp/proj/hw1"
cat >"$tmp/proj/hw1/main.c" <<'EOF'
int main(void) { return 3; }
EOF
cat >"$tmp/proj/hw1/segv.c" <<'EOF'
int main(void) { volatile int *p = 0; return *p; }
EOF
cat >"$tmp/proj/hw1/script.py" <<'EOF'
print("hello from hw1")
EOF

# A memory cgroup of 64 MiB for an OOM kill, where the machine has one.
if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null &&
   mkdir "/sys/fs/cgroup/jcw-e2e-$$" 2>/dev/null; then
	cg=/sys/fs/cgroup/jcw-e2e-$$
	echo 64M >"$cg/memory.max" && echo 0 >"$cg/memory.swap.max" 2>/dev/null
elif [ -d /sys/fs/cgroup/memory ] && mkdir "/sys/fs/cgroup/memory/jcw-e2e-$$" 2>/dev/null; then
	cg=/sys/fs/cgroup/memory/jcw-e2e-$$
	echo 64M >"$cg/memory.limit_in_bytes"
fi
[ -n "$cg" ] || echo "NOTE no memory cgroup here: OOM kill not exercised"

# A student process that was running before the collector started.
unshare -u sh -c "hostname $HOST && exec sleep 300" </dev/null >/dev/null 2>&1 &
spid=$!
for _ in $(seq 100); do
	[ "$(cat /proc/$spid/comm 2>/dev/null)" = sleep ] && break
	sleep 0.05
done

collector_start --no-socket --record "$tmp/cap" --flush-interval 5ms --heartbeat-interval 1s \
	--log-level info || exit 1

# Killed by us: its exit must name this shell as the sender.
kill -TERM "$spid"
wait "$spid" 2>/dev/null
spid=

# Not a student: same commands, another hostname.
timeout 60 unshare -u sh -c 'hostname other-host-1 && /bin/echo outside-marker' >/dev/null

# ~3 KiB of argv: 60 arguments of 50 bytes.
long_args=$(for i in $(seq -w 1 60); do printf 'arg%s-%s ' "$i" "$(printf 'x%.0s' $(seq 44))"; done)

student_sh 120 "$HOST" "$tmp/proj" '
	set -u
	cd hw1 && gcc main.c -o main && ./main
	echo "main exit $?"
	gcc segv.c -o segv && ./segv
	echo "segv exit $?"
	python3 script.py
	/bin/true $LONG_ARGS
	unshare -U -u --map-root-user sh -c "hostname jcode-os-1-999 && /bin/echo forged-marker"
	if [ -n "$CG" ]; then
		sh -c "echo \$\$ >$CG/cgroup.procs && exec python3 -c \"x = bytearray(512 << 20)\" oom-marker"
		echo "oom exit $?"
	fi
	' LONG_ARGS="$long_args" CG="$cg" </dev/null >"$tmp/student.log" 2>&1
cat "$tmp/student.log"

sleep 0.2
kill -INT "$cpid"
crc=0
wait "$cpid" || crc=$?
cpid=
cat "$tmp/collector.log"
[ "$crc" = 0 ] || { echo "collector exited with $crc after SIGINT"; exit 1; }

"$CAPDUMP" "$tmp/cap" >"$tmp/cap.jsonl" || { echo "capdump failed"; exit 1; }
echo "FIGURE capture: $(wc -l <"$tmp/cap.jsonl") frames, $(stat -c %s "$tmp/cap") bytes"

/usr/bin/python3 - "$tmp/cap.jsonl" "$HOST" "$$" "$long_args" "$cg" <<'EOF'
import json, sys

path, host, shell_pid, long_args, cg = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
frames = [json.loads(l) for l in open(path)]
fails = []

def check(ok, what):
    if not ok:
        fails.append(what)

check(frames and "hello" in frames[0], "first frame is a Hello")
check([f["seq"] for f in frames] == list(range(1, len(frames) + 1)), "seq numbers 1..N without gaps")
execs = [f["exec"] for f in frames if "exec" in f]
exits = {(f["exit"]["tgid"], f["exit"]["start_boottime_ns"]): f["exit"] for f in frames if "exit" in f}
hb = [f["heartbeat"] for f in frames if "heartbeat" in f]

def find(pred, what):
    m = [e for e in execs if pred(e)]
    check(len(m) == 1, f"exactly one exec of {what} (found {len(m)})")
    return m[0] if m else None

def exit_of(e, what):
    x = exits.get((e["tgid"], e["start_boottime_ns"])) if e else None
    check(x is not None, f"exit of {what}")
    return x or {}

W = "/home/coder/project/hw1"
check(all(e["hostname"] == host for e in execs), "only execs from " + host)
check(not any("outside-marker" in e["argv"] for e in execs), "nothing from other-host-1")
check(not any("forged-marker" in e["argv"] for e in execs), "nothing from the forged jcode-os-1-999")
check(hb and hb[-1]["forged_hostname_total"] >= 1, "forged hostname counted")

gcc = find(lambda e: e["argv"] == ["gcc", "main.c", "-o", "main"], "gcc main.c -o main")
if gcc:
    check(gcc["cwd"] == W, f"gcc cwd {gcc['cwd']!r}")
    check(gcc["argc"] == 4 and not gcc["args_truncated"], "gcc argc")
    check(exit_of(gcc, "gcc").get("exit_code") == 0, "gcc exit 0")

main = find(lambda e: e["exe_path"] == W + "/main", "./main")
if main:
    check(main["cwd"] == W, f"main cwd {main['cwd']!r}")
    check(main["argv"] == ["./main"], f"main argv {main['argv']!r}")
    check(main["stdin_kind"] == "FD_CHAR" and main["stdout_kind"] == "FD_FILE",
          f"main stdin/stdout {main['stdin_kind']}/{main['stdout_kind']}")
    x = exit_of(main, "./main")
    check(x.get("exit_code") == 3 and x.get("signal") == 0, f"main exit {x}")
    check(x.get("duration_ns", 0) > 0, "main duration")

segv = find(lambda e: e["exe_path"] == W + "/segv", "./segv")
if segv:
    x = exit_of(segv, "./segv")
    check(x.get("signal") == 11 and x.get("killer_pid") == 0, f"segv exit {x}")

py = find(lambda e: e["argv"] == ["python3", "script.py"], "python3 script.py")
if py:
    check(py["exe_path"].startswith("/usr/bin/python3"), f"python exe {py['exe_path']!r}")
    check(py["cwd"] == W, "python cwd")
    x = exit_of(py, "python3")
    check(x.get("exit_code") == 0 and x.get("max_rss_kb", 0) > 0, f"python exit {x}")
    check(x.get("cpu_ns", 0) > 0, "python used some CPU")

want = ["/bin/true"] + long_args.split()
lng = find(lambda e: e["argv"][:1] == ["/bin/true"], "/bin/true with 3 KiB of argv")
if lng:
    check(sum(len(a) + 1 for a in want) >= 3000, "the long argv is ~3 KiB")
    check(lng["argv"] == want, "long argv complete and exact")
    check(lng["argc"] == len(want) and not lng["args_truncated"], "long argv argc, no truncation")

seed = find(lambda e: e["seeded"] and e["argv"] == ["sleep", "300"], "seeded sleep 300")
if seed:
    check(seed["exe_path"] == "/usr/bin/sleep", f"seeded exe {seed['exe_path']!r}")
    x = exit_of(seed, "seeded sleep")
    check(x.get("seeded") and x.get("signal") == 15, f"seeded exit {x}")
    check(x.get("killer_pid") == shell_pid, f"killer {x.get('killer_pid')} is this shell {shell_pid}")

if cg:
    oom = find(lambda e: "oom-marker" in e["argv"], "the OOM victim")
    x = exit_of(oom, "the OOM victim")
    check(x.get("oom_killed") and x.get("signal") == 9, f"OOM exit {x}")
    check(x.get("max_rss_kb", 0) > 32 * 1024, f"OOM victim peak RSS {x.get('max_rss_kb')} KiB")

for f in fails:
    print("FAIL:", f)
print(f"{len(execs)} execs, {len(exits)} exits, {len(fails)} failed checks")
sys.exit(1 if fails else 0)
EOF
