#!/bin/sh
# host-kind.sh decides where the tiny guests run: check its answer for each kind of host,
# played with stand-ins for the KVM device, /proc/cpuinfo and the kvm_pvm module.
# Prints PASS:/FAIL: lines.
here=$(dirname "$0")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/host-kind.XXXXXX")
printf 'processor\t: 0\nflags\t\t: fpu tsc msr vmx sse2\n' >"$tmp/cpuinfo-vtx"
printf 'processor\t: 0\nflags\t\t: fpu tsc msr sse2 lahf_lm svm\n' >"$tmp/cpuinfo-amdv"
printf 'processor\t: 0\nflags\t\t: fpu tsc msr hypervisor sse2\n' >"$tmp/cpuinfo-none"
mkdir "$tmp/kvm_pvm"

# expect KIND WHAT [VAR=VALUE...]: host-kind.sh, given those variables, says KIND
expect() {
	want=$1
	what=$2
	shift 2
	got=$(env VMM_TEST_KVM_DEVICE=/dev/null VMM_TEST_PVM_MODULE="$tmp/absent" \
		VMM_TEST_HOST_KIND= "$@" sh "$here/host-kind.sh" 2>&1)
	case $got in
	"$want: "*) echo "PASS: host kind: $what" ;;
	*) echo "FAIL: host kind: $what: expected $want, got: $got" ;;
	esac
}

expect none "no KVM device" VMM_TEST_KVM_DEVICE="$tmp/absent" VMM_TEST_CPUINFO="$tmp/cpuinfo-vtx"
expect real "VT-x" VMM_TEST_CPUINFO="$tmp/cpuinfo-vtx"
expect real "AMD-V" VMM_TEST_CPUINFO="$tmp/cpuinfo-amdv"
expect pvm "PVM" VMM_TEST_CPUINFO="$tmp/cpuinfo-none" VMM_TEST_PVM_MODULE="$tmp/kvm_pvm"
expect pvm "PVM, even where the CPU has VT-x" VMM_TEST_CPUINFO="$tmp/cpuinfo-vtx" \
	VMM_TEST_PVM_MODULE="$tmp/kvm_pvm"
expect emulated "neither VT-x/AMD-V nor PVM" VMM_TEST_CPUINFO="$tmp/cpuinfo-none"
expect emulated "no cpuinfo to read" VMM_TEST_CPUINFO="$tmp/absent"
expect pvm "forced" VMM_TEST_HOST_KIND=pvm VMM_TEST_CPUINFO="$tmp/cpuinfo-vtx"
if env VMM_TEST_HOST_KIND=maybe sh "$here/host-kind.sh" >/dev/null 2>&1; then
	echo "FAIL: host kind: VMM_TEST_HOST_KIND=maybe was accepted"
else
	echo "PASS: host kind: an unknown forced kind is refused"
fi
rm -rf "$tmp"
