#!/bin/bash
# Runs every fuzz target in DIR for SECONDS each, starting from its checked-in corpus
# (copied, so new inputs stay out of the tree). Prints PASS:/FAIL: per target.
set -u
dir=$1
seconds=${2:-60}
failed=0
for target in "$dir"/fuzz_*; do
	case $target in *.* | *-*) continue ;; esac # logs and crash artifacts
	[ -x "$target" ] || continue
	name=$(basename "$target")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d)
	[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
	if "$target" -max_total_time="$seconds" -timeout=5 -print_final_stats=1 -artifact_prefix="$dir/$name-" \
		"$work" >"$dir/$name.log" 2>&1; then
		echo "PASS: fuzz $name ($(grep -o 'stat::number_of_executed_units: [0-9]*' \
			"$dir/$name.log" | awk '{print $2}') runs in ${seconds}s)"
	else
		echo "FAIL: fuzz $name: see $dir/$name.log"
		failed=1
	fi
	rm -rf "$work"
done
exit $failed
