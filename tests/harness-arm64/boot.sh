#!/usr/bin/env bash
# The arm64 VMM boots Debian's arm64 cloud kernel, inside an arm64 KVM host made in software:
# QEMU's TCG emulates an arm64 "virt" board with EL2 (virtualization=on) and a GICv3, so the
# same Debian kernel, booted there as the outer host (L1), initialises KVM ("VHE mode") and
# has /dev/kvm. L1's init runs our VMM on that kernel again (L2) with a busybox initramfs,
# a virtio-blk disk and a virtio-net NIC on a TAP, both on PCI; the init loads the virtio
# modules, prints a marker line, what it reads from the disk and how its pings to L1 went,
# and powers off (PSCI SYSTEM_OFF: the VMM exits 0). A second run reboots instead (PSCI
# SYSTEM_RESET: exit 3), a third names a file that is no Image.
#
# Usage: tests/harness-arm64/boot.sh [VMM [SECCOMP]]
#   VMM: the static arm64 VMM (default build/arm64/vmm-static: make ARCH=arm64 static)
#   SECCOMP: the VMM's --seccomp mode (default on)
# Prints L1's console (L2's console is part of it), then one PASS: or FAIL: line; exit
# status 0 on PASS. Needs qemu-system-aarch64 (Debian: qemu-system-arm), cpio and gzip; the
# arm64 packages come from tests/harness-arm64/fetch.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."

vmm=${1:-build/arm64/vmm-static}
seccomp=${2:-on}
marker="L2 init: arm64 guest up"
disk_text="arm64 virtio-blk disk $$"

for tool in qemu-system-aarch64 cpio gzip; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: arm64 boot: $tool is missing (qemu-system-arm, cpio, gzip)"
		exit 0
	fi
done
if [ ! -x "$vmm" ]; then
	echo "SKIP: arm64 boot: no $vmm (make ARCH=arm64 static)"
	exit 0
fi

# The kernel and busybox (tests/harness-arm64/fetch.sh sets KERNEL and BUSYBOX).
# shellcheck source=/dev/null  # fetch.sh, found from the repository root
. tests/harness-arm64/fetch.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# L2: busybox, the virtio modules (Debian builds them as modules) and an init that says it
# ran, reads the disk and powers off.
mkdir -p "$work/l2/bin" "$work/l2/proc" "$work/l2/sys" "$work/l2/dev" "$work/l2/modules"
cp "$BUSYBOX" "$work/l2/bin/busybox"
mods="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk
net/core/failover drivers/net/net_failover drivers/net/virtio_net"
for m in $mods; do
	cp "$MODULES/kernel/$m.ko" "$work/l2/modules/"
done
cat >"$work/l2/init" <<EOS
#!/bin/busybox sh
bb=/bin/busybox
\$bb mount -t proc proc /proc
\$bb mount -t sysfs sys /sys
\$bb mount -t devtmpfs dev /dev
echo "$marker: \$(\$bb uname -m), \$(\$bb grep -c ^processor /proc/cpuinfo) CPUs, up \$(\$bb cut -d' ' -f1 /proc/uptime) s"
for m in $(echo "$mods" | sed 's|[a-z]*/||g' | tr '\n' ' '); do \$bb insmod /modules/\$m.ko; done
\$bb sleep 1
if [ -b /dev/vda ]; then
	echo "L2 disk: \$(\$bb head -c ${#disk_text} /dev/vda), serial \$(\$bb cat /sys/block/vda/serial)"
	\$bb grep virtio /proc/interrupts | \$bb sed 's/^/L2 irq: /'
else
	echo "L2 disk: no /dev/vda"; \$bb ls /sys/bus/pci/devices
fi
if [ -d /sys/class/net/eth0 ]; then
	\$bb ip addr add 10.0.2.15/24 dev eth0 && \$bb ip link set eth0 up
	echo "L2 net: \$(\$bb ping -c 3 -W 5 10.0.2.1 | \$bb grep 'packets received')"
else
	echo "L2 net: no eth0"
fi
# the second run asks for a reset instead (PSCI SYSTEM_RESET: the VMM exits 3)
if \$bb grep -q l2.reboot /proc/cmdline; then \$bb reboot -f; fi
\$bb poweroff -f
EOS
chmod 755 "$work/l2/init"
(cd "$work/l2" && find . | cpio -o -H newc --quiet) >"$work/l2.cpio"
printf '%s' "$disk_text" >"$work/disk.img"
truncate -s 1M "$work/disk.img"

# L1: busybox, the VMM, the kernel (again) and L2's initramfs; its init runs the VMM once.
mkdir -p "$work/l1/bin" "$work/l1/proc" "$work/l1/sys" "$work/l1/dev"
cp "$BUSYBOX" "$work/l1/bin/busybox"
cp "$vmm" "$work/l1/vmm-static"
cp "$KERNEL" "$work/l1/Image"
cp "$work/l2.cpio" "$work/l1/l2.cpio"
cp "$work/disk.img" "$work/l1/disk.img"
cp "$MODULES/kernel/drivers/net/tun.ko" "$work/l1/tun.ko"
cat >"$work/l1/init" <<EOS
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
[ -c /dev/kvm ] || echo "L1: no /dev/kvm"
/bin/busybox insmod /tun.ko
# the VMM creates the TAP; L1 gives it an address once it is there
(i=0; while [ ! -d /sys/class/net/vmmtap0 ] && [ \$i -lt 600 ]; do /bin/busybox sleep 0.1; i=\$((i + 1)); done
 /bin/busybox ip addr add 10.0.2.1/24 dev vmmtap0 && /bin/busybox ip link set vmmtap0 up) &
start=\$(/bin/busybox cut -d' ' -f1 /proc/uptime)
/vmm-static --kernel /Image --initrd /l2.cpio --cpus 2 --memory 256M --timeout 300 \\
	--disk path=/disk.img,serial=arm64disk --net tap=vmmtap0,mac=02:00:00:00:00:01 \\
	--seccomp $seccomp \\
	--cmdline "console=ttyS0 earlycon panic=-1"
rc=\$?
end=\$(/bin/busybox cut -d' ' -f1 /proc/uptime)
echo "L1: vmm exit status \$rc, \$start s to \$end s of L1 uptime"
/vmm-static --kernel /Image --initrd /l2.cpio --memory 256M --timeout 300 --seccomp $seccomp \\
	--cmdline "console=ttyS0 panic=-1 quiet l2.reboot" >/dev/null
echo "L1: reboot run: vmm exit status \$?"
/vmm-static --kernel /l2.cpio --memory 64M
echo "L1: bad kernel: vmm exit status \$?"
/bin/busybox poweroff -f
EOS
chmod 755 "$work/l1/init"
(cd "$work/l1" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/l1.cpio.gz"

t0=$(date +%s.%N)
timeout 900 qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 -cpu max -smp 2 \
	-m 2048 -accel tcg -nographic -no-reboot -kernel "$KERNEL" -initrd "$work/l1.cpio.gz" \
	-append "console=ttyAMA0 panic=-1" </dev/null 2>&1 | tee "$work/console.log" || true
t1=$(date +%s.%N)
tr -d '\r' <"$work/console.log" >"$work/console.txt" # the serial ends lines with CR LF
wall=$(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }')

status=0
if grep -q "^$marker" "$work/console.txt" &&
	grep -q '^L1: vmm exit status 0,' "$work/console.txt"; then
	echo "PASS: arm64 boot: L2 ran its init and powered off (vmm exit 0), ${wall} s wall"
else
	echo "FAIL: arm64 boot: no marker line or a non-zero vmm exit (${wall} s wall)"
	status=1
fi
if grep -q "^L2 disk: $disk_text, serial arm64disk" "$work/console.txt"; then
	echo "PASS: arm64 virtio-blk: L2 read the disk over PCI"
else
	echo "FAIL: arm64 virtio-blk: L2 did not read the disk's text"
	status=1
fi
if grep -q '^L2 irq: .*ITS-MSI.*virtio0-req' "$work/console.txt"; then
	echo "PASS: arm64 MSI-X: the disk's queue interrupts come through the ITS"
else
	echo "FAIL: arm64 MSI-X: no ITS-MSI interrupt for the disk's queues"
	status=1
fi
if grep -q '^L2 net: 3 packets transmitted, 3 packets received' "$work/console.txt"; then
	echo "PASS: arm64 virtio-net: L2 pings L1 through the TAP"
else
	echo "FAIL: arm64 virtio-net: L2's pings to L1 did not all come back"
	status=1
fi
if grep -q '^L1: reboot run: vmm exit status 3$' "$work/console.txt"; then
	echo "PASS: arm64 reset: the guest's reboot ends the VMM with exit status 3"
else
	echo "FAIL: arm64 reset: no exit status 3 after the guest's reboot"
	status=1
fi
if grep -q '^vmm: --kernel /l2.cpio: not an arm64 kernel Image' "$work/console.txt" &&
	grep -q '^L1: bad kernel: vmm exit status 2$' "$work/console.txt"; then
	echo "PASS: arm64 bad kernel: named, exit status 2"
else
	echo "FAIL: arm64 bad kernel: no one-line error with exit status 2"
	status=1
fi
exit $status
