#!/usr/bin/env bash
# Regenerates the option tables of docs/configuration.md from the daemons' own option
# tables (--print-options-markdown), between the BEGIN/END markers.
# With --check it changes nothing and fails when docs/configuration.md is out of date.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
mode=${1:-write}

gen=$(mktemp)
trap 'rm -f "$gen"' EXIT
python3 - "$BUILD" docs/configuration.md "$gen" <<'PY'
import re, subprocess, sys
build, readme, out = sys.argv[1:4]
text = open(readme, encoding="utf-8").read()
for daemon in ("collector", "forwarder"):
    table = subprocess.run([f"{build}/jcw-{daemon}", "--print-options-markdown"],
                           check=True, capture_output=True, text=True).stdout
    begin, end = f"<!-- BEGIN {daemon} options -->", f"<!-- END {daemon} options -->"
    pat = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pat.search(text):
        sys.exit(f"docs/configuration.md has no '{begin}' ... '{end}' markers")
    text = pat.sub(lambda m: f"{begin}\n{table}{end}", text)
open(out, "w", encoding="utf-8").write(text)
PY
if [ "$mode" = --check ]; then
	if ! diff -u docs/configuration.md "$gen"; then
		echo "docs/configuration.md option tables differ from the binaries: run tests/tools/readme-options.sh" >&2
		exit 1
	fi
else
	cp "$gen" docs/configuration.md
fi
