#!/usr/bin/env bash
# Every relative link of README.md and docs/ resolves: the file exists and,
# for an anchor, the heading does (GitHub's anchors: lower case, spaces to
# hyphens, other punctuation dropped, "-1", "-2" for repeats). Links to
# other sites are not fetched (no network here). The front page stays a
# front page: README.md is at most 300 lines.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
need_cmds python3
python3 - <<'PY'
import glob, os, re, sys
files = ["README.md"] + sorted(glob.glob("docs/**/*.md", recursive=True)) + \
        sorted(glob.glob("contrib/**/*.md", recursive=True))

def anchors(path):
    seen, out, fence = {}, set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            fence = not fence
            continue
        m = None if fence else re.match(r"^#{1,6} (.*)", line)
        if not m:
            continue
        a = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
        n = seen.get(a, 0)
        seen[a] = n + 1
        out.add(a if n == 0 else f"{a}-{n}")
    return out

errors, count = [], 0
for f in files:
    text = open(f, encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)      # code is not prose
    text = re.sub(r"`[^`\n]*`", "", text)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target):
            continue
        count += 1
        path, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
        if not os.path.exists(dest):
            errors.append(f"{f}: link to {target}: {dest} does not exist")
        elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
            errors.append(f"{f}: link to {target}: {dest} has no heading #{anchor}")
lines = sum(1 for _ in open("README.md", encoding="utf-8"))
if lines > 300:
    errors.append(f"README.md has {lines} lines: a front page has at most 300 (move the rest into docs/)")
for e in errors:
    print("FAIL:", e)
if errors:
    sys.exit(1)
print(f"NOTE {count} relative links in {len(files)} files resolve; README.md has {lines} lines")
PY
