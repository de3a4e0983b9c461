# shellcheck shell=bash
# The pieces every nested arm64 run shares (tests/harness-arm64/boot.sh, bench/arm64.sh):
# what L1's initramfs always holds, how it is packed, the lock, and L1's boot on QEMU's
# arm64 "virt" board with EL2. Sourced from the repository root after
# tests/harness-arm64/fetch.sh (which sets KERNEL, MODULES and BUSYBOX).

# arm64_need WHAT TOOL...: a "SKIP: WHAT: TOOL is missing" line and status 1 when one of the
# host tools is not there.
arm64_need() {
	local what=$1 tool
	shift
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			echo "SKIP: $what: $tool is missing (qemu-system-arm, cpio, gzip, e2fsprogs, kmod)"
			return 1
		fi
	done
}

# arm64_l1_base DIR VMM: L1's root in DIR: busybox, the mount points its init uses, the VMM
# as /vmm-static and the kernel (L2's too) as /Image.
arm64_l1_base() {
	mkdir -p "$1/bin" "$1/proc" "$1/sys" "$1/dev"
	cp "$BUSYBOX" "$1/bin/busybox"
	cp "$2" "$1/vmm-static"
	cp "$KERNEL" "$1/Image"
}

# arm64_cpio DIR: DIR as a newc archive on stdout (an initramfs).
arm64_cpio() {
	(cd "$1" && find . | cpio -o -H newc --quiet)
}

# HARNESS_LOCK: a lock file shared with the x86 harness (tests/harness/run.sh) and the
# benchmarks, so nested QEMU runs on one machine take turns instead of starving each other
# of cores. Held on fd 7 until the caller exits; not taken again under bench/run.sh, which
# holds it for all its benchmarks (HARNESS_LOCK_HELD).
arm64_lock() {
	if [ -n "${HARNESS_LOCK:-}" ] && [ "${HARNESS_LOCK_HELD:-}" != "$HARNESS_LOCK" ]; then
		exec 7>"$HARNESS_LOCK"
		flock -n 7 || { echo "harness: waiting for $HARNESS_LOCK..."; flock -w 3600 7; }
	fi
}

# arm64_boot_l1 GIC INITRD LOG TIMEOUT: boots the kernel as L1 with INITRD (gzip'd cpio) on
# a 2-CPU, 2 GiB virt board with EL2 and a GICv$GIC, TCG; L1's console goes to stdout and
# to LOG, and without the serial's CRs to LOG.txt. Sets ARM64_WALL (seconds, one decimal).
arm64_boot_l1() {
	local t0 t1
	t0=$(date +%s.%N)
	timeout "$4" qemu-system-aarch64 -M "virt,virtualization=on,gic-version=$1" -cpu max \
		-smp 2 -m 2048 -accel tcg -nographic -no-reboot -kernel "$KERNEL" -initrd "$2" \
		-append "console=ttyAMA0 panic=-1" </dev/null 2>&1 | tee "$3" || true
	t1=$(date +%s.%N)
	tr -d '\r' <"$3" >"$3.txt"
	# shellcheck disable=SC2034 # read by the callers
	ARM64_WALL=$(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }')
}
