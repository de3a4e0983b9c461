#!/bin/sh
# What kind of KVM host this is, which decides where the tiny guests can run. Prints one
# line, "KIND: why", where KIND is
#   none      no usable KVM device: the tiny guests run only inside the nested harness
#   pvm       the KVM device is PVM (the kvm_pvm module is loaded): guests run in KVM's
#             instruction emulator, which gives up where real hardware would act (a triple
#             fault becomes a KVM internal error)
#   emulated  a KVM device on a CPU without vmx or svm that is not PVM: treated like pvm
#   real      VT-x or AMD-V: every tiny guest behaves as it would anywhere
# Env, to play another kind of host on this one:
#   VMM_TEST_HOST_KIND   say this kind, without looking
#   VMM_TEST_KVM_DEVICE  the KVM device (default /dev/kvm; /nonexistent: no KVM at all)
#   VMM_TEST_CPUINFO     a file standing in for /proc/cpuinfo
#   VMM_TEST_PVM_MODULE  a path standing in for /sys/module/kvm_pvm
# POSIX sh: it also runs inside the nested harness.
dev=${VMM_TEST_KVM_DEVICE:-/dev/kvm}
cpuinfo=${VMM_TEST_CPUINFO:-/proc/cpuinfo}
pvm=${VMM_TEST_PVM_MODULE:-/sys/module/kvm_pvm}

case ${VMM_TEST_HOST_KIND:-} in
none | pvm | emulated | real)
	echo "$VMM_TEST_HOST_KIND: forced by VMM_TEST_HOST_KIND"
	exit 0
	;;
'') ;;
*)
	echo "host-kind.sh: VMM_TEST_HOST_KIND=$VMM_TEST_HOST_KIND: expected none, pvm, emulated or real" >&2
	exit 2
	;;
esac

if [ ! -c "$dev" ] || [ ! -r "$dev" ] || [ ! -w "$dev" ]; then
	echo "none: no usable $dev"
elif [ -e "$pvm" ]; then
	echo "pvm: $dev is PVM ($pvm exists), not VT-x/AMD-V"
elif grep -qwE 'vmx|svm' "$cpuinfo" 2>/dev/null; then
	echo "real: $dev with $(grep -owE 'vmx|svm' "$cpuinfo" | head -n 1) in $cpuinfo"
else
	echo "emulated: $dev, but no vmx or svm in $cpuinfo"
fi
