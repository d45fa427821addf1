#!/usr/bin/env bash
# docs/configuration.md documents every flag and environment variable of both daemons,
# exactly as the binaries define them (their option tables generate it).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
for d in collector forwarder; do
	[ -x "$BUILD/jcw-$d" ] || { echo "skip: $BUILD/jcw-$d is not built"; exit 77; }
done
tests/tools/readme-options.sh --check
echo "docs/configuration.md option tables match jcw-collector and jcw-forwarder"
