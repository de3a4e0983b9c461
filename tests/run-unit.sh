#!/bin/bash
# Runs every unit-test binary under BUILD/unit (default: build) and prints Check's
# summary for each, then a closing "N passed, N failed" line. Exit status 1 on failure.
set -u
build=${1:-build}
passed=0
failed=0
while IFS= read -r bin; do
	out=$("$bin" 2>&1)
	rc=$?
	echo "$out" | grep -v '^Running suite' | sed "s|^|${bin#"$build"/unit/}: |"
	summary=$(echo "$out" | grep -Eo 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' | tail -n 1)
	if [ -z "$summary" ]; then
		echo "FAIL: $bin printed no Check summary (exit status $rc)"
		failed=$((failed + 1))
		continue
	fi
	read -r checks failures errors < <(echo "$summary" | tr -dc '0-9 ' | tr -s ' ')
	passed=$((passed + checks - failures - errors))
	failed=$((failed + failures + errors))
	[ $rc -eq 0 ] || [ $((failures + errors)) -gt 0 ] || failed=$((failed + 1))
done < <(find "$build/unit" -type f -perm -u+x | sort)
echo "unit: $passed passed, $failed failed"
[ $failed -eq 0 ]
