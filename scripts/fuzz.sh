#!/usr/bin/env bash
# Runs every Fuzz target of the repository (both modules) for a while each.
# Usage: scripts/fuzz.sh DURATION  (a time such as 2m, or a count of executions such as 2000x)
# go test -fuzz takes one target per run, so the targets are listed from
# the sources and run one after another, each from its own module.
set -euo pipefail
fuzztime=${1:-3s}
cd "$(dirname "$0")/.."
root=$(pwd)
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for file in $(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do
	dir=$(dirname "${file#./}")
	# The module holding this package: the nearest go.mod above it.
	mod=$dir
	while [ ! -f "$root/$mod/go.mod" ] && [ "$mod" != "." ]; do mod=$(dirname "$mod"); done
	rel=${dir#"$mod"}
	pkg=./${rel#/}
	for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
		echo "fuzz $dir $target ($fuzztime)"
		if ! (cd "$root/$mod" && go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg") >"$log" 2>&1; then
			cat "$log"
			status=1
		fi
	done
done
exit $status
