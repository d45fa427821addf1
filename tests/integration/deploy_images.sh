#!/usr/bin/env bash
# compose/Dockerfile without a Docker daemon: the stages exist and are Debian
# 12, no line brings in kernel headers, modules, sources or debugfs, the
# build stage has every build package of the Makefile's DEB_PKGS, the
# forwarder's image runs as a non-root uid, and each runtime stage installs
# the Debian package of every shared library its daemon links (read from the
# built binary: readelf, ldd, dpkg -S). That last part needs the binaries and
# is left out, with a note, while one is not built yet.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
unset MAKEFLAGS MFLAGS MAKELEVEL

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The Makefile's own package list, as make expands it.
make -s -p -n help 2>/dev/null | sed -n 's/^DEB_PKGS := //p' >"$tmp/deb_pkgs" || true
[ -s "$tmp/deb_pkgs" ] || { echo "FAIL: could not read DEB_PKGS from the Makefile"; exit 1; }

# Debian package of each shared library a binary needs directly; the C
# library, the compiler runtime and the sanitizer runtimes of a SAN=1 build
# are not the image's business (the base image has the first two, release
# images are built without sanitizers).
lib_pkgs() {
	local bin=$1 lib path pkg p
	readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | while read -r lib; do
		case $lib in libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libgcc_s.so.*|libasan.so.*|libubsan.so.*|liblsan.so.*) continue;; esac
		path=$(ldd "$bin" | awk -v l="$lib" '$1 == l { print $3 }')
		[ -n "$path" ] || { echo "UNRESOLVED:$lib"; continue; }
		pkg=
		for p in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}"; do
			pkg=$(dpkg -S "$p" 2>/dev/null | head -n1 | cut -d: -f1) && [ -n "$pkg" ] && break
		done
		echo "${pkg:-UNOWNED:$path}"
	done | sort -u
}
have_bins=1
for d in jcw-collector jcw-forwarder; do
	if [ -x "$BUILD/$d" ]; then lib_pkgs "$BUILD/$d" >"$tmp/$d.pkgs"; else have_bins=0; fi
done
[ $have_bins = 1 ] || echo "NOTE a daemon is not built yet: runtime libraries not compared with the binaries"

python3 - "$tmp" "$have_bins" <<'PY'
import os, re, shlex, sys
tmp, have_bins = sys.argv[1], sys.argv[2] == "1"
errors = []
def check(c, m):
    if not c:
        errors.append(m)

text = open("compose/Dockerfile").read()
lines = [l for l in re.sub(r"\\\n", " ", text).splitlines() if l.strip() and not l.lstrip().startswith("#")]
args = {}
stages, cur = {}, None
for l in lines:
    w = l.split()
    op = w[0].upper()
    if op == "ARG" and cur is None and "=" in w[1]:
        k, v = w[1].split("=", 1)
        args[k] = v
    if op == "FROM":
        base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), w[1])
        cur = w[3] if len(w) > 3 and w[2].upper() == "AS" else str(len(stages))
        stages[cur] = {"base": base, "lines": []}
        continue
    if cur is not None:
        stages[cur]["lines"].append(l)

check(set(stages) == {"btf", "build", "collector", "forwarder"}, f"stages must be btf, build, collector, forwarder; got {sorted(stages)}")
for name, s in stages.items():
    if name != "btf":
        check(re.fullmatch(r"debian:(bookworm|12)(-slim)?", s["base"] or ""), f"stage {name} is not Debian 12: {s['base']}")
check(stages.get("btf", {}).get("base") == "scratch", "stage btf must be the empty default (FROM scratch)")
for l in lines:
    for bad in ("/lib/modules", "/usr/src", "/sys/kernel/debug", "debugfs", "linux-headers", "kernel-headers"):
        check(bad not in l, f"Dockerfile line uses {bad}: {l.strip()}")

def apt_pkgs(stage):
    pk = set()
    for l in stages.get(stage, {}).get("lines", []):
        for m in re.finditer(r"apt-get install ([^&;]*)", l):
            pk |= {t for t in shlex.split(m.group(1)) if not t.startswith("-")}
    return pk

build = apt_pkgs("build")
deb = open(os.path.join(tmp, "deb_pkgs")).read().split()
# What the Makefile needs to build the two daemons: its -dev packages and
# tools; test-only ones (criterion, the libFuzzer runtime) and the test
# tooling are not.
test_only = {"libcriterion-dev", "libclang-rt-14-dev"}   # unit tests, fuzzing
needed = {p for p in deb if (p.endswith("-dev") or p in ("clang", "llvm", "bpftool", "protobuf-c-compiler", "pkg-config")) and p not in test_only}
check(needed <= build, f"build stage lacks {sorted(needed - build)} (in the Makefile's DEB_PKGS)")
blines = " ".join(stages.get("build", {}).get("lines", []))
check("VMLINUX_BTF=" in blines and "--mount=type=bind,from=btf" in blines, "build stage must take BTF from the btf stage or the builder's /sys")

def users(stage):
    return [l.split()[1] for l in stages.get(stage, {}).get("lines", []) if l.split()[0].upper() == "USER"]
fu = users("forwarder")
check(fu and fu[-1].split(":")[0].isdigit() and int(fu[-1].split(":")[0]) > 0, f"forwarder must end with a numeric non-root USER, got {fu}")
check(not users("collector") or users("collector")[-1].split(":")[0] in ("0", "root"), "collector starts as root (its capabilities come from the deployment)")
for stage, binary in (("collector", "jcw-collector"), ("forwarder", "jcw-forwarder")):
    sl = stages.get(stage, {}).get("lines", [])
    check(any(l.split()[0].upper() == "COPY" and f"/build/{binary}" in l and "--from=build" in l for l in sl), f"{stage} stage does not copy {binary} from the build stage")
    check(any(l.split()[0].upper() == "ENTRYPOINT" and binary in l for l in sl), f"{stage} stage entrypoint is not {binary}")
    rt = apt_pkgs(stage)
    check(not any(p.endswith("-dev") for p in rt) and not rt & {"clang", "llvm", "gcc", "make", "bpftool"}, f"{stage} runtime stage installs build tools: {sorted(rt)}")
    if have_bins:
        libs = set(open(os.path.join(tmp, binary + ".pkgs")).read().split())
        bad = {l for l in libs if l.startswith(("UNRESOLVED:", "UNOWNED:"))}
        check(not bad, f"{binary}: libraries not found in any package: {sorted(bad)}")
        check(libs - bad <= rt, f"{stage} runtime stage lacks {sorted(libs - bad - rt)} which {binary} links")
        print(f"NOTE {binary} links libraries of: {' '.join(sorted(libs))}")

for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
PY
