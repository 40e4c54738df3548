#!/usr/bin/env bash
# Runs every FuzzXxx target in the module for FUZZTIME (default 20s) each, one
# at a time (go test -fuzz takes a single target in a single package).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
fuzztime="${FUZZTIME:-20s}"

ran=0
for pkg in $(go list ./... | grep -v '/e2e$'); do
	targets=$(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
	for target in $targets; do
		echo "== $pkg $target ($fuzztime)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
		ran=$((ran + 1))
	done
done

if ((ran == 0)); then
	echo "fuzz: no FuzzXxx targets found" >&2
	exit 1
fi
echo "fuzz: $ran targets ran for $fuzztime each"
