#!/bin/sh
# L2 /init of the run-cmd benchmark's peer (bench/run-cmd.sh): under kvmtool
# this initramfs does what `vmm run --rootfs` does for ours, with the same
# busybox: run the command, here `echo run-cmd-marker`, and power off. Its
# output goes to the serial console, which is lkvm's stdout.
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo run-cmd-marker
poweroff -f
