#!/bin/sh
# L2 /init of the run-cmd benchmark's peer (bench/run-cmd.sh): under kvmtool
# this initramfs does what `vmm run --rootfs` does for ours, with the same
# busybox: run the command, here `echo run-cmd-marker`, and end the VM. Its
# output goes to the serial console (console=ttyS0), which is lkvm's stdout.
# `reboot -f`, not `poweroff -f`: kvmtool's x86 guest has no ACPI, so the
# kernel turns a power-off into a halt and lkvm waits forever; a reboot
# (reboot=k: the keyboard controller's reset line) is how lkvm's guests exit.
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo run-cmd-marker
reboot -f
