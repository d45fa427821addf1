#!/usr/bin/env bash
# End to end, as root, with the real BPF programs and real gcc (issue 26):
# C programs whose first and only write to fd 2 comes straight from memory
# the process has not touched yet, the most common C error message there
# is. gcc turns fprintf(stderr, "...") of a plain string into fwrite, which
# glibc writes to the unbuffered stderr directly from the binary's .rodata:
# at sys_enter_write that page is often not mapped, so the text is copied
# at sys_exit_write, where the kernel has just read it (docs/design.md
# "Standard error"). Cases:
#   - fprintf without arguments, fputs, fwrite, write(2, "...", n);
#   - a literal of 6,000 bytes (more than a page, so it spans two);
#   - perror; a write from a freshly mmap()ed page of a file;
#   - to a pipe (2>&1 | cat), to a file (2>file), to the terminal's
#     stand-in (a pipe to the script), and to /dev/null, which the kernel
#     never reads: its bytes are counted, and what could not be read is
#     said (stderr_unread, stderr_truncated), never silently dropped;
#   - the same through the raw syscall fallback (--file-hooks raw).
# Every run log must carry the exact text and byte count.
# Skips (77) only when not root or when the machine cannot run BPF.
set -u
source "$(dirname "$0")/../lib.sh"
COLLECTOR=$BUILD/jcw-collector
FWD=$BUILD/jcw-forwarder
HOST=jcode-os-1-202012345-68d58d5b57-bp47r

need_root "needs root to load BPF programs"
need_bins "$COLLECTOR" "$FWD"
need_cmds gcc unshare /usr/bin/python3

make_tmp jcw-e2e-literals
cpid=
kill_on_exit cpid

mkdir -p "$tmp/proj/hw3"
cd "$tmp/proj/hw3"
cat >lit_fprintf.c <<'EOF'
#include <stdio.h>
int main(void) { fprintf(stderr, "cannot open file\n"); return 1; }
EOF
cat >lit_fputs.c <<'EOF'
#include <stdio.h>
int main(void) { fputs("usage: prog FILE\n", stderr); return 2; }
EOF
cat >lit_fwrite.c <<'EOF'
#include <stdio.h>
int main(void) { fwrite("fwrite of a literal\n", 1, 20, stderr); return 3; }
EOF
cat >lit_write.c <<'EOF'
#include <unistd.h>
int main(void) { write(2, "raw write(2) literal\n", 21); return 4; }
EOF
cat >lit_perror.c <<'EOF'
#include <stdio.h>
int main(void)
{
	FILE *f = fopen("/nonexistent/input.txt", "r");
	if (!f) { perror("fopen"); return 5; }
	return 0;
}
EOF
cat >lit_mmap.c <<'EOF'
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
int main(void)
{
	int fd = open("message.txt", O_RDONLY);
	struct stat st;
	char *p;
	if (fd < 0 || fstat(fd, &st) < 0)
		return 99;
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return 98;
	write(2, p, st.st_size);   /* the mapping's first touch is the kernel's */
	return 6;
}
EOF
printf 'from a page of message.txt, mapped and never touched\n' >message.txt
# 6,000 bytes: 75 lines of 80, one literal in .rodata.
{
	printf '#include <unistd.h>\nstatic const char big[] =\n'
	for i in $(seq -w 1 75); do printf '"line %s of a literal longer than a page .......................................\\n"\n' "$i"; done
	printf ';\nint main(void) { write(2, big, sizeof big - 1); return 7; }\n'
} >lit_big.c
for c in lit_*.c; do gcc -O0 "$c" -o "${c%.c}" || exit 1; done
cd - >/dev/null

big_len=$(awk 'BEGIN { n = 0 } { n += length($0) + 1 } END { print n }' < <("$tmp/proj/hw3/lit_big" 2>&1 >/dev/null))
[ "$big_len" = 6000 ] || { echo "lit_big writes $big_len bytes, not 6000"; exit 1; }

# The student's script: each program once per destination of fd 2.
play='
	cd hw3
	./lit_fprintf; ./lit_fputs; ./lit_fwrite; ./lit_write; ./lit_perror; ./lit_mmap; ./lit_big
	./lit_fprintf 2>&1 | cat >/dev/null
	./lit_fputs 2>err.txt
	./lit_fwrite 2>/dev/null
	true'

record() {  # record CAPTURE [COLLECTOR ARGS]: the student plays once under a collector
	local cap=$1; shift
	collector_start --no-socket --record "$cap" --flush-interval 5ms --pin-path= --log-level info "$@" ||
		exit 1
	student_sh 60 "$HOST" "$tmp/proj" "$play" </dev/null >"$tmp/student.out" 2>&1
	sleep 0.3
	kill -INT "$cpid"
	wait "$cpid" || { cat "$tmp/collector.log"; echo "collector failed"; exit 1; }
	cpid=
	"$FWD" --replay "$cap" --print --metrics-port 0 --snapshots=false --allow-root \
		--stderr-head 8k --stderr-tail 0 >"$cap.jsonl" 2>"$tmp/fwd.err" ||
		{ cat "$tmp/fwd.err"; echo "replay of $cap failed"; exit 1; }
}
record "$tmp/events.cap"
record "$tmp/raw.cap" --file-hooks raw
grep -q 'raw syscalls' "$tmp/collector.log" || { cat "$tmp/collector.log"; echo "not on raw hooks"; exit 1; }

/usr/bin/python3 - "$tmp" <<'PYEOF'
import json, sys
tmp = sys.argv[1]
big = "".join("line %02d of a literal longer than a page .......................................\n" % i
              for i in range(1, 76))
assert len(big) == 6000
# program -> (text, exit code)
want = {
    "lit_fprintf": ("cannot open file\n", 1),
    "lit_fputs": ("usage: prog FILE\n", 2),
    "lit_fwrite": ("fwrite of a literal\n", 3),
    "lit_write": ("raw write(2) literal\n", 4),
    "lit_perror": ("fopen: No such file or directory\n", 5),
    "lit_mmap": ("from a page of message.txt, mapped and never touched\n", 6),
    "lit_big": (big, 7),
}
fails = []
def check(ok, what):
    if not ok:
        fails.append(what)

checked = 0
for cap in ("events.cap", "raw.cap"):
    runs = {}
    for line in open(f"{tmp}/{cap}.jsonl", encoding="utf-8"):
        r = json.loads(line)
        if r["path"].endswith("/logs/run"):
            name = r["body"]["target_path"].rsplit("/", 1)[-1]
            runs.setdefault(name, []).append(r["body"])
    # Per program: the plain run, then fprintf to a pipe, fputs to a file,
    # fwrite to /dev/null.
    counts = {n: 1 for n in want}
    counts.update(lit_fprintf=2, lit_fputs=2, lit_fwrite=2)
    for name, (text, code) in want.items():
        got = runs.get(name, [])
        check(len(got) == counts[name], f"{cap}: {counts[name]} run log(s) of {name}, found {len(got)}")
        for i, b in enumerate(got):
            where = f"{cap}: {name} #{i + 1}"
            check(b.get("exit_code") == code, f"{where}: exit code {b.get('exit_code')}, not {code}")
            check(b.get("stderr_bytes") == len(text.encode()),
                  f"{where}: stderr_bytes {b.get('stderr_bytes')}, not {len(text.encode())}")
            devnull = name == "lit_fwrite" and i == 1
            if devnull:
                # The kernel never reads a write to /dev/null: the text may
                # be unreadable, but never silently so.
                ok = (b.get("stderr_head") == text and not b.get("stderr_unread")) or \
                     (b.get("stderr_unread") == len(text) and b.get("stderr_truncated") is True)
                check(ok, f"{where} (/dev/null): the text, or its bytes said unread: "
                          f"{b.get('stderr_head')!r} unread={b.get('stderr_unread')} truncated={b.get('stderr_truncated')}")
            else:
                check(b.get("stderr_head") == text,
                      f"{where}: stderr_head {b.get('stderr_head', '')[:80]!r}, not {text[:80]!r}")
                check(b.get("stderr_truncated") is False and not b.get("stderr_unread"),
                      f"{where}: truncated={b.get('stderr_truncated')} unread={b.get('stderr_unread')}")
            checked += 1

print(f"FIGURE stderr_literals: {checked} run logs of first writes from untouched memory checked, "
      "events and raw hooks")
if fails:
    print("FAIL:\n  " + "\n  ".join(fails))
    sys.exit(1)
PYEOF
