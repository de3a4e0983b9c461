#!/bin/bash
# Everything `make test` runs: unit tests, command-line checks, tiny guests and the
# nested real-guest scenarios. Ends with one line: "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
log=build/test-results.txt
: >"$log"
unit_passed=0
unit_failed=0

section() { printf '\n== %s ==\n' "$1"; }

section "unit tests (Check)"
tests/run-unit.sh build | tee build/unit-results.txt
read -r unit_passed unit_failed < <(tail -n 1 build/unit-results.txt |
	sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/')

section "command line and input files"
tests/cli/bad-inputs.sh build/vmm | tee -a "$log"

# Each target must run a minute without a finding; two at a time keeps this to ~3 minutes.
section "fuzz targets (a minute each, two at a time)"
if command -v clang >/dev/null; then
	make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" FUZZ_JOBS="${FUZZ_JOBS:-2}" 2>&1 | tee -a "$log"
else
	echo "SKIP: fuzz: clang is not installed (make deps installs it)" | tee -a "$log"
fi

section "tiny guests"
if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	VMM_TEST=build/vmm-static-test tests/guests/run-tiny.sh build/vmm build/guests | tee -a "$log"
else
	echo "no usable /dev/kvm on this host: the tiny guests run inside the nested harness"
fi

section "real guests (nested AMD-V harness)"
tests/harness/run.sh 2>&1 | tee -a "$log"
harness_rc=${PIPESTATUS[0]}

passed=$((unit_passed + $(grep -c '^PASS:' "$log")))
failed=$((unit_failed + $(grep -c '^FAIL:' "$log")))
skipped=$(grep -c '^SKIP:' "$log")
if [ "$harness_rc" -ne 0 ] && ! grep -q '^FAIL:' "$log"; then
	echo "FAIL: harness exited with status $harness_rc"
	failed=$((failed + 1))
fi
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
