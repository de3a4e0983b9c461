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

# The nested harness is most of the run (about 33 minutes of L1 in one piece) and keeps one
# CPU of QEMU's busy; everything else fits beside it on a second one, for about 21 minutes.
# So most scenarios start first, in the background, in one L1; the late ones (about 7
# minutes of L1) start in a second L1 once the second CPU is free again, and both end at
# about the same time (measured: the first L1 24 minutes, the late one 8.6 with unpack in
# it, which has moved to the first since). Their output is shown in one piece at the end.
late_scenarios="net-tap snapshot-net"
early_scenarios=$(cd tests/harness/scenarios && for f in *.sh; do
	case " $late_scenarios " in *" ${f%.sh} "*) ;; *) echo "${f%.sh}" ;; esac
done)
harness_out=build/harness-output.txt
harness_late_out=build/harness-late-output.txt
rm -f "$harness_late_out"
section "real guests (nested AMD-V harness): started in the background at $(date +%H:%M:%S)"
# shellcheck disable=SC2086 # one word per scenario
tests/harness/run.sh $early_scenarios >"$harness_out" 2>&1 &
harness_pid=$!
late_pid=
trap 'kill $harness_pid $late_pid 2>/dev/null' INT TERM

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
	[ "${PIPESTATUS[0]}" -eq 0 ] ||
		echo "FAIL: fuzz: make fuzz failed (a target did not build, or one found a crash)" |
		tee -a "$log"
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

# arm64 (docs/architecture.md, "arm64"): the cross-built VMM boots Debian's arm64 kernel
# inside an arm64 KVM host that QEMU emulates, about a minute. `make deps` installs its
# tools where apt can; without them this says SKIP and what to install.
section "arm64 guests (nested arm64 KVM host)"
arm64_pkgs="gcc-aarch64-linux-gnu qemu-system-arm libseccomp-dev:arm64 liburing-dev:arm64"
arm64_pkgs="$arm64_pkgs zlib1g-dev:arm64 liblzma-dev:arm64 libzstd-dev:arm64 liblz4-dev:arm64"
arm64_pkgs="$arm64_pkgs libbz2-dev:arm64"
if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-system-aarch64 >/dev/null ||
	! dpkg -s libseccomp-dev:arm64 liburing-dev:arm64 >/dev/null 2>&1; then
	echo "SKIP: arm64: no cross tools here (dpkg --add-architecture arm64; apt-get update;" \
		"apt-get install $arm64_pkgs)" | tee -a "$log"
elif ! tests/harness-arm64/fetch.sh >build/arm64-fetch.txt 2>&1; then
	echo "SKIP: arm64: cannot fetch Debian's arm64 packages ($(tail -n 1 build/arm64-fetch.txt))" |
		tee -a "$log"
elif ! make -s ARCH=arm64 static >build/arm64-build.txt 2>&1; then
	echo "FAIL: arm64: make ARCH=arm64 static failed ($(grep -m1 error build/arm64-build.txt))" |
		tee -a "$log"
else
	tests/harness-arm64/boot.sh >build/arm64-boot.txt 2>&1
	grep -E '^(PASS|FAIL|SKIP):' build/arm64-boot.txt | tee -a "$log"
	grep -qE '^(PASS|FAIL|SKIP):' build/arm64-boot.txt ||
		echo "FAIL: arm64: boot.sh gave no verdict ($(tail -n 1 build/arm64-boot.txt))" | tee -a "$log"
fi

section "real guests (nested AMD-V harness)"
late=
for s in $late_scenarios; do
	[ ! -f "tests/harness/scenarios/$s.sh" ] || late="$late $s"
done
if [ -n "$late" ]; then
	echo "$(date +%H:%M:%S): the late scenarios ($late ) start in a second L1"
	# shellcheck disable=SC2086 # one word per scenario
	HARNESS_OUT=$PWD/build/harness-late tests/harness/run.sh $late >"$harness_late_out" 2>&1 &
	late_pid=$!
fi
echo "$(date +%H:%M:%S): waiting for the harness, which started before the unit tests"
wait $harness_pid
harness_rc=$?
if [ -n "$late_pid" ]; then
	wait $late_pid || harness_rc=$?
fi
trap - INT TERM
tee -a "$log" <"$harness_out"
[ ! -f "$harness_late_out" ] || tee -a "$log" <"$harness_late_out"

passed=$((unit_passed + $(grep -c '^PASS:' "$log")))
failed=$((unit_failed + $(grep -c '^FAIL:' "$log")))
skipped=$(grep -c '^SKIP:' "$log")
if [ "$harness_rc" -ne 0 ] && ! grep -q '^FAIL:' "$log"; then
	echo "FAIL: harness exited with status $harness_rc"
	failed=$((failed + 1))
fi
# A CI log is often read from its end: the failures again, with what the harness saw of a
# stalled L1 (its registers and local APIC, and the last lines it printed).
if [ "$failed" -gt 0 ]; then
	echo
	echo "== the failures again =="
	[ "$unit_failed" -eq 0 ] || grep -E '^[^ ]+:[0-9]+:[EF]:' build/unit-results.txt | head -n 10
	grep '^FAIL:' "$log" | cut -c1-300
	for f in build/harness/failure.txt build/harness-late/failure.txt; do
		[ ! -s "$f" ] || sed 's/^/  /' "$f"
	done
fi
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
