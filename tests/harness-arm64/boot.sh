#!/usr/bin/env bash
# The arm64 VMM boots Debian's arm64 cloud kernel, inside an arm64 KVM host made in software:
# QEMU's TCG emulates an arm64 "virt" board with EL2 (virtualization=on) and a GICv3, so the
# same Debian kernel, booted there as the outer host (L1), initialises KVM ("VHE mode") and
# has /dev/kvm. L1's init runs our VMM on that kernel again (L2) with a busybox initramfs,
# 2 vCPUs, a virtio-blk disk (an ext4 image) and a virtio-net NIC on a TAP, both on PCI; the
# init loads the virtio modules, prints a marker line, checks a file of the disk against its
# SHA-256 and writes another, pings L1, and powers off (PSCI SYSTEM_OFF: the VMM exits 0).
# L1 then mounts the image itself and checks what the guest wrote. A second run reboots
# instead (PSCI SYSTEM_RESET: exit 3), a third names a file that is no Image, and two
# `vmm run` commands follow (on L1's own root over virtio-fs: an exit status and stderr;
# on a copied root: 256 KiB of stdout). Every VMM starts
# through tests/harness/scenario-lib.sh's vmm_privs_exec, so each of its threads is checked
# for CapEff 0, NoNewPrivs 1 and Seccomp 2 while it runs.
#
# Usage: [HARNESS_LOCK=FILE] [ARM64_GIC_VERSION=2] tests/harness-arm64/boot.sh [VMM [SECCOMP]]
#   VMM: the static arm64 VMM (default build/arm64/vmm-static: make ARCH=arm64 static)
#   SECCOMP: the VMM's --seccomp mode (default on)
#   ARM64_GIC_VERSION=2: L1's board has a GICv2, so KVM offers the VMM no GICv3 and it falls
#   back to a GICv2 without ITS; the disk then interrupts through INTx, not MSI-X
# Prints L1's console (L2's console is part of it), then one PASS: or FAIL: line; exit
# status 0 on PASS. Needs qemu-system-aarch64 (Debian: qemu-system-arm), cpio, gzip and
# mkfs.ext4; the arm64 packages come from tests/harness-arm64/fetch.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."

vmm=${1:-build/arm64/vmm-static}
seccomp=${2:-on}
gic=${ARM64_GIC_VERSION:-3}
case $gic in 2 | 3) ;; *)
	echo "ARM64_GIC_VERSION=$gic: 2 or 3" >&2
	exit 2
	;;
esac
marker="L2 init: arm64 guest up"

# shellcheck source=tests/harness-arm64/lib.sh
. tests/harness-arm64/lib.sh
arm64_need "arm64 boot" qemu-system-aarch64 cpio gzip mkfs.ext4 sha256sum depmod || exit 0
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
	echo "L2 disk: serial \$(\$bb cat /sys/block/vda/serial)"
	\$bb mkdir -p /mnt && \$bb mount -t ext4 /dev/vda /mnt
	echo "L2 disk: payload sha256 \$(\$bb sha256sum /mnt/payload | \$bb cut -d' ' -f1)"
	\$bb dd if=/dev/urandom of=/mnt/written bs=4096 count=128 2>/dev/null
	echo "L2 disk: wrote sha256 \$(\$bb sha256sum /mnt/written | \$bb cut -d' ' -f1)"
	\$bb umount /mnt
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
arm64_cpio "$work/l2" >"$work/l2.cpio"
# The disk: ext4 with 1 MiB of random bytes whose sum only this side knows beforehand.
mkdir -p "$work/diskroot"
head -c 1048576 /dev/urandom >"$work/diskroot/payload"
payload_sum=$(sha256sum "$work/diskroot/payload" | cut -d' ' -f1)
mkfs.ext4 -q -F -L arm64data -d "$work/diskroot" "$work/disk.img" 16M

# `vmm run` with its default root, L1's own / over virtio-fs: the modules it loads from
# L1's /lib/modules/RELEASE (the release the Image's banner names), with a modules.dep.
release=$(basename "$MODULES")
for d in drivers/virtio fs/fuse fs/overlayfs; do
	mkdir -p "$work/l1/lib/modules/$release/kernel/$d"
	cp "$MODULES/kernel/$d/"*.ko "$work/l1/lib/modules/$release/kernel/$d/"
done
cp "$MODULES/modules.order" "$MODULES/modules.builtin" "$work/l1/lib/modules/$release/"
depmod -b "$work/l1" "$release" 2>/dev/null
run_token=$(od -An -tx8 -N8 /dev/urandom | tr -d ' \n')
echo "$run_token" >"$work/l1/l1-token"
# `vmm run --rootfs`'s root: busybox and the few commands the run names.
mkdir -p "$work/l1/runroot/bin"
cp "$BUSYBOX" "$work/l1/runroot/bin/busybox"
for applet in sh dd; do
	ln -s busybox "$work/l1/runroot/bin/$applet"
done

# L1: busybox, the VMM, the kernel (again) and L2's initramfs; its init runs the VMM once.
arm64_l1_base "$work/l1" "$vmm"
# On a GICv2 host, more vCPUs than a GICv2 serves is a bad --cpus: one line, exit status 2.
gicv2_cpus=
if [ "$gic" = 2 ]; then
	# shellcheck disable=SC2016 # expanded by L1's shell
	gicv2_cpus='/vmm-static --kernel /Image --initrd /l2.cpio --cpus 9 --memory 256M >/dev/null 2>/tmp/cpus.err
echo "L1: nine CPUs: vmm exit status $?, $(/bin/busybox wc -l </tmp/cpus.err) line: $(/bin/busybox cat /tmp/cpus.err)"'
fi
cp "$work/l2.cpio" "$work/l1/l2.cpio"
cp "$work/disk.img" "$work/l1/disk.img"
cp "$MODULES/kernel/drivers/net/tun.ko" "$work/l1/tun.ko"
cp "$MODULES/kernel/drivers/block/loop.ko" "$work/l1/loop.ko"
# the privileges watcher (vmm_privs_exec): /vmm is the VMM behind it
mkdir -p "$work/l1/lib/harness"
cp tests/harness/scenario-lib.sh "$work/l1/lib/harness/scenario.sh"
printf '#!/bin/sh\n. /lib/harness/scenario.sh\nvmm_privs_exec /vmm-static "$@"\n' >"$work/l1/vmm"
chmod 755 "$work/l1/vmm"
cat >"$work/l1/init" <<EOS
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox mkdir -p /bin /tmp/log/privs /mnt
/bin/busybox --install -s /bin
export PATH=/bin
. /lib/harness/scenario.sh # vmm_privs_exec's watcher and vmm_privs_report
[ -c /dev/kvm ] || echo "L1: no /dev/kvm"
/bin/busybox insmod /tun.ko
/bin/busybox insmod /loop.ko
# the VMM creates the TAP; L1 gives it an address once it is there
(i=0; while [ ! -d /sys/class/net/vmmtap0 ] && [ \$i -lt 600 ]; do /bin/busybox sleep 0.1; i=\$((i + 1)); done
 /bin/busybox ip addr add 10.0.2.1/24 dev vmmtap0 && /bin/busybox ip link set vmmtap0 up) &
start=\$(/bin/busybox cut -d' ' -f1 /proc/uptime)
/vmm --kernel /Image --initrd /l2.cpio --cpus 2 --memory 256M --timeout 300 \\
	--disk path=/disk.img,serial=arm64disk --net tap=vmmtap0,mac=02:00:00:00:00:01 \\
	--seccomp $seccomp \\
	--cmdline "console=ttyS0 earlycon panic=-1"
rc=\$?
end=\$(/bin/busybox cut -d' ' -f1 /proc/uptime)
echo "L1: vmm exit status \$rc, \$start s to \$end s of L1 uptime"
# the image as the guest left it, read by L1's own ext4
if /bin/busybox mount -t ext4 -o loop,ro /disk.img /mnt; then
	echo "L1: disk: written sha256 \$(/bin/busybox sha256sum /mnt/written | /bin/busybox cut -d' ' -f1)"
	/bin/busybox umount /mnt
fi
/vmm --kernel /Image --initrd /l2.cpio --memory 256M --timeout 300 --seccomp $seccomp \\
	--cmdline "console=ttyS0 panic=-1 quiet l2.reboot" >/dev/null
echo "L1: reboot run: vmm exit status \$?"
/vmm-static --kernel /l2.cpio --memory 64M
echo "L1: bad kernel: vmm exit status \$?"
$gicv2_cpus
# vmm run: a command on L1's own root, its exit status and its two streams; then, on a
# copied root, output over many chunks
/vmm run --kernel /Image --memory 256M --timeout 300 --seccomp $seccomp \\
	-- sh -c 'echo "\$(uname -m) \$(cat /l1-token)"; echo to-stderr >&2; exit 7' >/tmp/run.out 2>/tmp/run.err
echo "L1: run: exit status \$?, stdout '\$(/bin/busybox cat /tmp/run.out)', stderr '\$(/bin/busybox cat /tmp/run.err)'"
/vmm run --kernel /Image --rootfs /runroot --memory 256M --timeout 300 --seccomp $seccomp \\
	-- dd if=/dev/zero bs=4096 count=64 >/tmp/run.out 2>/dev/null
echo "L1: run bulk: exit status \$?, \$(/bin/busybox wc -c </tmp/run.out) bytes"
vmm_privs_report arm64 | /bin/busybox sed 's/^/L1: /'
/bin/busybox poweroff -f
EOS
chmod 755 "$work/l1/init"
arm64_cpio "$work/l1" | gzip -1 >"$work/l1.cpio.gz"

arm64_lock
arm64_boot_l1 "$gic" "$work/l1.cpio.gz" "$work/console" 900 # console.txt: without CRs
wall=$ARM64_WALL

status=0
if grep -q "^$marker: aarch64, 2 CPUs," "$work/console.txt" &&
	grep -q '^L1: vmm exit status 0,' "$work/console.txt"; then
	echo "PASS: arm64 boot: L2 ran its init on 2 CPUs and powered off (vmm exit 0), ${wall} s wall"
else
	echo "FAIL: arm64 boot: no marker line with 2 CPUs, or a non-zero vmm exit (${wall} s wall)"
	status=1
fi
wrote=$(sed -n 's/^L2 disk: wrote sha256 \([0-9a-f]\{64\}\)$/\1/p' "$work/console.txt")
if grep -q '^L2 disk: serial arm64disk$' "$work/console.txt" &&
	grep -q "^L2 disk: payload sha256 $payload_sum$" "$work/console.txt" &&
	[ -n "$wrote" ] && grep -q "^L1: disk: written sha256 $wrote$" "$work/console.txt"; then
	echo "PASS: arm64 virtio-blk: L2 read a file of the ext4 image right, and the file it wrote reads back the same in L1"
else
	echo "FAIL: arm64 virtio-blk: want serial arm64disk, payload sha256 $payload_sum, and L1's sum of the written file equal to L2's (${wrote:-none})"
	status=1
fi
if [ "$gic" = 2 ]; then
	# no ITS, no MSI: the disk's one interrupt is its INTx line, a level-triggered SPI of
	# the GICv2 (whose Linux driver names its chip GIC-0; a GICv3's is GICv3)
	if grep -q '^L2 irq: .*GIC-0 .*Level .*virtio0$' "$work/console.txt"; then
		echo "PASS: arm64 GICv2: the VMM fell back to a GICv2; the disk interrupts through INTx"
	else
		echo "FAIL: arm64 GICv2: no GICv2 INTx interrupt for the disk"
		status=1
	fi
	if grep -q '^L1: nine CPUs: vmm exit status 2, 1 line: vmm: --cpus 9: ' "$work/console.txt"; then
		echo "PASS: arm64 GICv2 --cpus 9: $(sed -n 's/^L1: nine CPUs: .* line: //p' "$work/console.txt")"
	else
		echo "FAIL: arm64 GICv2 --cpus 9: want one line naming --cpus 9 and exit status 2, got: $(grep '^L1: nine CPUs' "$work/console.txt")"
		status=1
	fi
elif grep -q '^L2 irq: .*ITS-MSI.*virtio0-req' "$work/console.txt"; then
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
if grep -q "^L1: run: exit status 7, stdout 'aarch64 $run_token', stderr 'to-stderr'$" "$work/console.txt"; then
	echo "PASS: arm64 vmm run: a command on L1's root gave exit status 7, and its stdout and stderr came back"
else
	echo "FAIL: arm64 vmm run: want exit status 7, stdout 'aarch64 $run_token' (L1's file), stderr 'to-stderr'"
	status=1
fi
if grep -q '^L1: run bulk: exit status 0, 262144 bytes$' "$work/console.txt"; then
	echo "PASS: arm64 vmm run: 256 KiB of the command's stdout came back whole"
else
	echo "FAIL: arm64 vmm run: want exit status 0 and 262144 bytes of stdout"
	status=1
fi
if grep -q '^L1: PASS: privileges arm64: ' "$work/console.txt"; then
	echo "PASS: arm64 privileges: $(sed -n 's/^L1: PASS: privileges arm64: //p' "$work/console.txt")"
else
	echo "FAIL: arm64 privileges: $(sed -n 's/^L1: [A-Z]*: privileges arm64: //p' "$work/console.txt" | head -c 400)"
	status=1
fi
exit $status
