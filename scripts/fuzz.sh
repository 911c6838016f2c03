#!/bin/sh
# Runs every fuzz target in the module for the given time each
# (default 30s). Seed corpora live in each package's testdata/fuzz.
set -eu
t=${1:-30s}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
found=0
for pkg in $($GO list ./...); do
	for f in $($GO test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		found=1
		echo "fuzz: $pkg $f ($t)"
		$GO test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$pkg"
	done
done
[ "$found" = 1 ] || echo "fuzz: no fuzz targets yet"
