#!/bin/bash
# Everything `make test` runs: unit tests, command-line checks, tiny guests and the
# nested real-guest scenarios. Ends with one line: "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.." || exit 1
log=build/test-results.txt
: >"$log"
unit_passed=0
unit_failed=0

section() { printf '\n== %s ==\n' "$1"; }

# Where each kind of test can run depends on what this host really is
# (tests/guests/host-kind.sh; its VMM_TEST_* variables make it play another kind).
section "this host"
host=$(tests/guests/host-kind.sh) || exit 2
kind=${host%%:*}
echo "host: $host"
case $kind in
none) echo "tiny guests: only inside the nested harness (its tiny scenario)" ;;
real) echo "tiny guests: all of them directly on the KVM device, and again inside the nested harness" ;;
*) echo "tiny guests: directly on the KVM device, except those whose outcome needs VT-x/AMD-V" \
	"(they run only inside the nested harness); all of them inside the nested harness" ;;
esac
echo "real Linux guests: inside the nested harness (QEMU-TCG with an emulated AMD-V CPU)"
tests/guests/check-host-kind.sh | tee -a "$log"

# The nested harness is most of the run (about 23 minutes) and keeps one CPU of QEMU's
# busy; everything else fits beside it on a second one. So it starts first, in the
# background, and its output is shown in one piece when the rest is done.
harness_out=build/harness-output.txt
section "real guests (nested AMD-V harness): started in the background at $(date +%H:%M:%S)"
tests/harness/run.sh >"$harness_out" 2>&1 &
harness_pid=$!
trap 'kill $harness_pid 2>/dev/null' INT TERM

section "unit tests (Check)"
tests/run-unit.sh build | tee build/unit-results.txt
read -r unit_passed unit_failed < <(tail -n 1 build/unit-results.txt |
	sed -E 's/.* ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/')

section "command line and input files"
tests/cli/bad-inputs.sh build/vmm | tee -a "$log"
tests/cli/operations.sh build/vmm | tee -a "$log"

section "include layering"
tests/layering.sh | tee -a "$log"

# Each target must run a minute without a finding; one at a time, beside the harness.
section "fuzz targets (a minute each, one at a time beside the harness)"
if command -v clang >/dev/null; then
	make -s fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" FUZZ_JOBS="${FUZZ_JOBS:-1}" 2>&1 | tee -a "$log"
else
	echo "SKIP: fuzz: clang is not installed (make deps installs it)" | tee -a "$log"
fi

section "tiny guests (directly on this host's KVM)"
if [ "$kind" = none ]; then
	echo "${host#none: }: the tiny guests run only inside the nested harness"
else
	VMM_TEST=build/vmm-static-test tests/guests/run-tiny.sh build/vmm build/guests |
		tee -a "$log"
	tests/guests/run-gdb.sh build/vmm build/guests | tee -a "$log"
fi

section "real guests (nested AMD-V harness)"
echo "$(date +%H:%M:%S): waiting for the harness, which started before the unit tests"
wait $harness_pid
harness_rc=$?
trap - INT TERM
tee -a "$log" <"$harness_out"

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
