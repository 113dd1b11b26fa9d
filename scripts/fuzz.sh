#!/usr/bin/env bash
# Runs every Fuzz target of a module for a while each.
# Usage: scripts/fuzz.sh DURATION [MODULE_DIR]
# Each target runs on its own (go test -fuzz accepts one target per run), so
# the targets are listed from the sources and run one after another.
set -euo pipefail
fuzztime=${1:-3s}
cd "${2:-.}"
status=0
for file in $(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do
	pkg=./$(dirname "${file#./}")
	for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
		echo "fuzz $pkg $target ($fuzztime)"
		if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" >/tmp/skiff-fuzz.log 2>&1; then
			cat /tmp/skiff-fuzz.log
			status=1
		fi
	done
done
exit $status
