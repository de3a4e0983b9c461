#!/bin/sh
# /init of the L1 (outer host) initramfs of the nested test harness. Runs in
# QEMU-TCG on an emulated AMD CPU with SVM: loads kvm_amd so /dev/kvm exists,
# then runs the scenarios named on the kernel command line against /vmm and
# powers L1 off. Kernel command line keys:
#   harness.run=boot,tiny | harness.run=all    scenarios from /scenarios/<name>.sh
#   harness.interactive=1       run /vmm with the shell guest on the console
#   harness.interactive=shell   a busybox shell in L1 (debugging the harness)
#   harness.verbose=1           scenarios print their full logs
#   harness.timeout=SECS        per-VMM-run timeout handed to scenarios
#   harness.disk.token=T harness.disk.sha256=H harness.disk.ro_sha256=H
#                               for scenarios/disk.sh (run.sh sets them)
#   harness.rootfs.version=V | harness.rootfs.skip="why"
#                               for scenarios/rootdisk.sh (run.sh sets one)
#   harness.lookup=ADDR[,ADDR]  name these kernel addresses (run.sh passes where
#                               a stalled L1 was; with nokaslr they match here)
# Lines starting PASS:/FAIL:/SKIP: are the results tests/harness/run.sh collects.
# Modules (mkinitrd-guest.sh puts them and their dependencies in the image):
# kvm-amd gives /dev/kvm; virtio_pci + virtio_blk see the disks run.sh attaches
# to L1 for the disk and rootdisk scenarios (L1 itself never mounts them);
# tun and vhost_net give the net-tap scenario /dev/net/tun and /dev/vhost-net.
# harness-modules: irqbypass kvm kvm-amd virtio_pci virtio_blk tun vhost_net
/bin/busybox --install -s # applet links (the image holds only /bin/sh)
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
[ -t 1 ] || exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o size=256m tmpfs /tmp
mkdir -p /dev/pts /tmp/log && mount -t devpts devpts /dev/pts

l1_up=$(cut -d' ' -f1 /proc/uptime)
run=all interactive='' verbose=0 timeout=120 lookup=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    harness.lookup=*) lookup=${arg#harness.lookup=} ;;
    harness.run=*) run=${arg#harness.run=} ;;
    harness.interactive=*) interactive=${arg#harness.interactive=} ;;
    harness.verbose=*) verbose=${arg#harness.verbose=} ;;
    harness.timeout=*) timeout=${arg#harness.timeout=} ;;
    esac
done

[ -n "$interactive" ] || echo "HARNESS-BEGIN"
echo "harness: L1 kernel $(uname -r) reached init at ${l1_up} s"

# Modules in dependency order (mkinitrd-host.sh wrote the list).
for mod in $(cat /lib/modules/load-order); do
    insmod "/lib/modules/$mod.ko" || echo "harness: insmod $mod failed"
done
# A previous L1 stalled at these addresses: the nearest text symbol below
# each, from this L1 (same kernel, same modules loaded in the same order).
for addr in $(echo "$lookup" | tr ',' ' '); do
    echo "harness: L1 address $addr (where the stalled L1 was) is in $(awk -v a="$addr" '
        $2 ~ /^[tTwW]$/ && $1 <= a && $1 > best { best = $1; name = $3 ($4 == "" ? "" : " " $4) }
        END { print (name == "" ? "no known symbol" : name " at " best) }' /proc/kallsyms)"
done
i=0
while [ ! -c /dev/kvm ] && [ "$i" -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
if [ -c /dev/kvm ]; then
    echo "harness: /dev/kvm ready at $(cut -d' ' -f1 /proc/uptime) s ($(ls -l /dev/kvm | awk '{ print $5 $6 }'))"
    kvm_ok=1
else
    echo "FAIL: harness: /dev/kvm did not appear"
    dmesg | grep -iE 'kvm|svm' | tail -n 20
    kvm_ok=
fi

# L1's own kernel messages (e.g. kvm's "Unhandled WRMSR" notes) would land in
# the middle of result lines: keep them off the console and print them between
# scenarios instead.
[ "$verbose" = 1 ] || dmesg -n 1
dmesg -c >/dev/null
l1_dmesg() { dmesg -c | sed 's/^/harness: L1 kernel: /'; }

# Every VMM binary becomes a wrapper that watches the VMM it execs for its whole
# life (vmm_privs_watch in scenario.sh): each of its threads must run without
# capabilities, under no-new-privs and a seccomp filter. After each scenario one
# "privileges NAME" line says whether all of them did.
. /lib/harness/scenario.sh
mkdir -p "$PRIVS_DIR" && chmod 1777 "$PRIVS_DIR"
for bin in /vmm /vmm-test /usr/bin/vmm; do
    real=/lib/harness/real$bin
    [ -f "$bin" ] && [ ! -e "$real" ] || continue
    mkdir -p "${real%/*}"
    mv "$bin" "$real"
    printf '#!/bin/sh\n. /lib/harness/scenario.sh\nvmm_privs_exec %s "$@"\n' "$real" >"$bin"
    chmod 755 "$bin"
done

export VMM=/vmm VMM_TEST=/vmm-test GUEST_KERNEL=/guest/vmlinuz GUEST_VMLINUX=/guest/vmlinux GUEST_INITRD_DIR=/guest/initrd \
    TINY_DIR=/tiny LOG_DIR=/tmp/log HARNESS_VERBOSE="$verbose" HARNESS_TIMEOUT="$timeout"

if [ "$interactive" = shell ]; then
    echo "harness: L1 shell; 'poweroff -f' ends the run"
    setsid cttyhack sh -l
elif [ -n "$interactive" ]; then
    if [ -z "$kvm_ok" ]; then
        :
    elif [ ! -x "$VMM" ]; then
        echo "harness: no VMM in the L1 image (run make static)"
    else
        echo "harness: starting the VMM; in the guest 'poweroff -f' or Ctrl-A X ends it"
        # Own session with the console as controlling tty, so the VMM can put
        # it in raw mode and Ctrl-C reaches the guest.
        setsid cttyhack "$VMM" --kernel "$GUEST_KERNEL" \
            --initrd "$GUEST_INITRD_DIR/shell.cpio.gz" \
            --cmdline "console=ttyS0 panic=-1 reboot=k" --cpus 2 --memory 512M
        echo "harness: VMM exited with status $?"
    fi
elif [ -n "$kvm_ok" ] && [ "$run" != none ] && [ ! -x "$VMM" ]; then
    # checked once here, so no scenario needs to
    echo "FAIL: harness: no VMM binary at $VMM (run make static)"
elif [ -n "$kvm_ok" ] && [ "$run" != none ]; then
    if [ "$run" = all ]; then
        run=$(ls /scenarios | sed -n 's/\.sh$//p' | tr '\n' ',')
    fi
    for s in $(echo "$run" | tr ',' ' '); do
        if [ ! -f "/scenarios/$s.sh" ]; then
            echo "FAIL: harness: no scenario named '$s' (have: $(ls /scenarios | sed 's/\.sh$//' | tr '\n' ' '))"
            continue
        fi
        echo "harness: --- scenario $s"
        t0=$(cut -d' ' -f1 /proc/uptime)
        { sh "/scenarios/$s.sh"; echo "$?" >"/tmp/log/$s.rc"; } 2>&1 | tee "/tmp/log/$s.out"
        t1=$(cut -d' ' -f1 /proc/uptime)
        vmm_privs_report "$s"
        l1_dmesg
        # /tmp is a 256 MiB tmpfs, RAM: what a scenario leaves there (images, snapshots,
        # caches) must not fill it for the ones after it, which run in any order; never
        # through a mount a scenario left behind
        tmp_used=$(df -m /tmp | awk 'NR == 2 { print $3 }')
        if grep -q ' /tmp/' /proc/mounts; then
            echo "FAIL: $s: left a mount under /tmp: $(grep ' /tmp/' /proc/mounts | cut -d' ' -f2 | tr '\n' ' ')"
        else
            find /tmp -mindepth 1 -maxdepth 1 ! -name log -exec rm -rf {} + 2>/dev/null
        fi
        echo "harness: scenario $s took $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s (L1 time), exit status $(cat "/tmp/log/$s.rc"), left $tmp_used MiB in /tmp"
        if ! grep -qE '^(PASS|FAIL|SKIP):' "/tmp/log/$s.out"; then
            echo "FAIL: $s: scenario printed no PASS/FAIL/SKIP line"
        fi
    done
fi

[ -n "$interactive" ] || echo "HARNESS-END"
sync
poweroff -f
