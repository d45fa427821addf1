#!/usr/bin/env bash
# Who wrote each save, and how the code grew (issue 30, docs/api.md),
# live, as root: the real BPF programs, the forwarder with a writer rules
# file, the recording API server. Student jcode-os-1-202012345:
#   an editor-like program (a rule names it editor) saves hw1/main.c
#   the shell writes hw1/notes.py from a here-document it reads itself
#   cat <<EOF > hw1/table.c                     (cat writes and closes last)
#   cp of a file from outside the workspace     -> hw1/given.c
#   the student's own compiled program writes   -> hw1/out.c
#   the editor pastes 60 lines into main.c      -> burst
# then runs: its compiled hw1/prog (built by the build before), the same
# path after cp of another binary over it, and a binary the host put into
# the workspace (never written inside the container).
# Asserts, for every registration: writer {comm, exe, kind}, sha256 of the
# stored bytes, sha256_normalized present, lines_added / lines_removed /
# seconds_since_previous against the version before, burst; for every run:
# built_by (the build log's event_id) and provenance {kind, writer}. Skips
# (77) only when not root or when BPF cannot run here.
set -u
source "$(dirname "$0")/../lib.sh"
live_test writer unshare gcc curl python3
own_pins writer
HOST=jcode-os-1-202012345
ws=$tmp/codes/os-1-202012345
mkdir -p "$ws/hw1" "$tmp/snapshots" "$tmp/ide-bin"

# The editor: copies its standard input into the file it is given.
cat >"$tmp/ide.c" <<'C'
#include <fcntl.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char buf[4096];
	ssize_t n;
	int fd = argc > 1 ? open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;

	if (fd < 0)
		return 1;
	while ((n = read(0, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			return 1;
	return close(fd) ? 1 : 0;
}
C
gcc -O1 -o "$tmp/ide-bin/ide" "$tmp/ide.c" || fail "cannot build the editor"
printf 'editor */ide-bin/ide\n' >"$tmp/writers.rules"
# The student's generator, saved before the monitor started (no event).
cat >"$ws/hw1/gen.c" <<'C'
#include <stdio.h>
int main(int argc, char **argv)
{
	FILE *f = fopen(argv[1], "w");

	if (!f)
		return 1;
	fprintf(f, "int generated(void) { return 42; }\n");
	return fclose(f) ? 1 : 0;
}
C
printf '/* handed out by the course */\nint given(void) { return 1; }\n' >"$tmp/given.c"
printf 'int main(void) { return 3; }\n' >"$ws/hw1/prog.c"
cp /usr/bin/true "$ws/hw1/host_bin"
python3 - "$tmp" <<'PY'
import sys
d = sys.argv[1]
v1 = "#include <stdio.h>\n\nint main(void)\n{\n\tputs(\"hi\");\n\treturn 0;\n}\n"
paste = "".join("int f%d(int x) { return x + %d; }\n" % (i, i) for i in range(60))
open(d + "/main1.c", "w").write(v1)
open(d + "/main2.c", "w").write(v1 + paste)
PY

api_start api || fail "API server did not start"
forwarder_start --watch-root "$tmp/codes" --snapshot-base "$tmp/snapshots" \
	--writer-rules-file "$tmp/writers.rules" --debounce-window 0.2 --debounce-max-wait 1 ||
	fail "forwarder did not start"
collector_start --socket "$tmp/events.sock" --pin-path "$pin" --flush-interval 5ms ||
	fail "collector did not attach"

student_sh 60 "$HOST" "$ws" '
	set -eu
	"$IDE" hw1/main.c <"$T/main1.c"; sleep 0.6
	while IFS= read -r line; do printf "%s\n" "$line"; done >hw1/notes.py <<"EOF"
print("written by the shell itself")
EOF
	sleep 0.6
	cat <<"EOF" >hw1/table.c
int table[] = {1, 2, 3};
EOF
	sleep 0.6
	cp "$T/given.c" hw1/given.c; sleep 0.6
	gcc -o hw1/gen hw1/gen.c && ./hw1/gen hw1/out.c; sleep 0.6
	"$IDE" hw1/main.c <"$T/main2.c"; sleep 0.6
	gcc -o hw1/prog hw1/prog.c
	./hw1/prog || true
	cp /usr/bin/false hw1/prog
	./hw1/prog || true
	./hw1/host_bin
' IDE="$tmp/ide-bin/ide" T="$tmp" || fail "the student's session failed ($?)"

metric() { curl -sf "http://127.0.0.1:$mport/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
all_in() { [ "$(metric jcw_api_delivered_total)" = 12 ] && [ "$(metric jcw_snapshot_pending_files)" = 0 ]; }
wait_for 20 all_in || fail "6 registrations, 2 builds and 4 runs expected, $(metric jcw_api_delivered_total) delivered"

python3 - "$tmp" "$ws" <<'PY' || fail "registrations"
import hashlib, json, sys
d, ws = sys.argv[1], sys.argv[2]
P = "/home/coder/project"
reqs = [json.loads(l) for l in open(d + "/api.log")]
regs = [r for r in reqs if "/logs/" not in r["path"]]
builds = [r for r in reqs if r["path"].endswith("/logs/build")]
runs = [r for r in reqs if r["path"].endswith("/logs/run")]
by = {}
for r in regs:
    by.setdefault(r["json"]["file"], []).append(r["json"])
want = {  # file: [(comm, exe, kind), ...] in save order
    "main.c": [("ide", d + "/ide-bin/ide", "editor")] * 2,
    "notes.py": [("bash", "/usr/bin/bash", "shell")],
    "table.c": [("cat", "/usr/bin/cat", "copy")],
    "given.c": [("cp", "/usr/bin/cp", "copy")],
    "out.c": [("gen", P + "/hw1/gen", "program")],
}
assert sorted(by) == sorted(want), sorted(by)
for f, writers in want.items():
    got = [(b["writer"]["comm"], b["writer"]["exe"], b["writer"]["kind"]) for b in by[f]]
    assert got == writers, (f, got)
for f, bodies in by.items():
    for b in bodies:
        stored = open("%s/snapshots/os-1/hw1/202012345/%s/%s" % (d, f, b["snapshot"]), "rb").read()
        assert b["sha256"] == hashlib.sha256(stored).hexdigest(), (f, b)
        assert len(b["sha256_normalized"]) == 64, (f, b)
first = {f: b[0] for f, b in by.items()}
for f, b in first.items():
    n = open("%s/snapshots/os-1/hw1/202012345/%s/%s" % (d, f, b["snapshot"]), "rb").read().count(b"\n")
    assert (b["lines_added"], b["lines_removed"], b["seconds_since_previous"], b["burst"]) == (n, 0, None, False), (f, b)
m2 = by["main.c"][1]
assert (m2["lines_added"], m2["lines_removed"], m2["burst"]) == (60, 0, True), m2
assert m2["seconds_since_previous"] is not None and m2["seconds_since_previous"] >= 0, m2
# Comments and whitespace do not change the normalized hash of the paste's
# prefix: the first version normalized is a prefix of nothing else here.
assert first["main.c"]["sha256_normalized"] != m2["sha256_normalized"]
print("writers, hashes and line figures as expected for %d registrations" % len(regs))
# Where each run's binary came from: the kernel's last writer of its inode.
bid = {r["json"]["target_path"].rsplit("/", 1)[1]: r["idempotency_key"] for r in builds}
assert sorted(bid) == ["gen.c", "prog.c"], bid
got = [(r["json"]["target_path"].rsplit("/", 1)[1], r["json"]["built_by"], r["json"]["provenance"])
       for r in runs]
want = [("gen", bid["gen.c"], {"kind": "built", "writer": {"comm": "ld"}}),
        ("prog", bid["prog.c"], {"kind": "built", "writer": {"comm": "ld"}}),
        ("prog", None, {"kind": "copied", "writer": {"comm": "cp"}}),
        ("host_bin", None, {"kind": "unknown", "writer": None})]
assert got == want, got
print("runs: built_by the build that linked them, a copy over a build shows the copy")
PY
echo "FIGURE writer signals: 6 live saves by editor, shell, cat, cp and a student program; one 60-line paste flagged burst"
