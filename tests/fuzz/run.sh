#!/bin/bash
# Runs every fuzz target in DIR for SECONDS each, starting from its checked-in corpus
# (copied, so new inputs stay out of the tree), FUZZ_JOBS targets at a time (default 2:
# each libFuzzer run is one process on one core). Prints PASS:/FAIL: per target, in name
# order, once all have finished.
set -u
dir=$1
seconds=${2:-60}
jobs=${FUZZ_JOBS:-2}
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# run_one TARGET: one libFuzzer run; its verdict goes to $results/NAME
run_one() {
	local target=$1 name work corpus
	name=$(basename "$target")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d)
	[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
	if "$target" -max_total_time="$seconds" -timeout=5 -print_final_stats=1 \
		-artifact_prefix="$dir/$name-" "$work" >"$dir/$name.log" 2>&1; then
		echo "PASS: fuzz $name ($(grep -o 'stat::number_of_executed_units: [0-9]*' \
			"$dir/$name.log" | awk '{print $2}') runs in ${seconds}s)" >"$results/$name"
	else
		echo "FAIL: fuzz $name: see $dir/$name.log" >"$results/$name"
	fi
	rm -rf "$work"
}

for target in "$dir"/fuzz_*; do
	case $target in *.* | *-*) continue ;; esac # logs and crash artifacts
	[ -x "$target" ] || continue
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	run_one "$target" &
done
wait

failed=0
for f in "$results"/*; do
	[ -f "$f" ] || continue
	cat "$f"
	grep -q '^FAIL:' "$f" && failed=1
done
exit $failed
