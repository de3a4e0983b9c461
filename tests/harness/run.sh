#!/usr/bin/env bash
# Host-side driver of the nested test harness: boots an L1 Linux under
# QEMU-TCG on an emulated AMD CPU with SVM+NPT (this build host has no usable
# /dev/kvm), where kvm_amd gives a real /dev/kvm; the scenarios run build/vmm-static
# there against the L2 guest. Prints the PASS:/FAIL:/SKIP: lines, exits 1 on any FAIL.
#
#   tests/harness/run.sh [-v] [scenario ...]   default: all of tests/harness/scenarios
#   tests/harness/run.sh --kvm-only            only boot L1 and check /dev/kvm
#
# -v: scenarios print full guest/VMM logs, and the serial log is followed live.
# Env: HARNESS_TIMEOUT (seconds, whole QEMU run, default 3000),
#      HARNESS_BOOT_TIMEOUT (seconds for L1 to reach init, default 60; one retry),
#      HARNESS_STALL_TIMEOUT (seconds without console output that count as a
#        stalled L1, default HARNESS_VMM_TIMEOUT + 80; one retry from the
#        stalled scenario on; an L1 found halted on an undelivered interrupt is
#        woken with a key press first),
#      HARNESS_VMM_TIMEOUT (seconds per VMM run inside L1, default 120),
#      HARNESS_SMP (L1 vCPUs, default 1; >1 uses multi-threaded TCG), VMM_STATIC,
#      VMM_DYNAMIC (the libslirp build for net-user, default build/vmm),
#      HARNESS_LOCK (a lock file shared by checkouts on one machine: runs take turns).
#      HARNESS_OUT (its output folder, default build/harness: two runs at once need two).
# Output: build/harness/serial.log (L1 console), images in build/harness/
#   (the disk scenario's disk images in build/harness/disk/; the rootdisk
#   scenario's Debian image is cached with the kernel, see rootfs-image.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${HARNESS_OUT:-$top/build/harness}
verbose=0
kvm_only=0
scenarios=()
for a in "$@"; do
    case "$a" in
    -v) verbose=1 ;;
    --kvm-only) kvm_only=1 ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $a" >&2; exit 2 ;;
    *)
        if [ ! -f "$here/scenarios/$a.sh" ]; then
            echo "run.sh: no scenario $a (have: $(cd "$here/scenarios" && ls ./*.sh | sed 's|^\./||; s/\.sh$//' | tr '\n' ' '))" >&2
            exit 2
        fi
        scenarios+=("$a")
        ;;
    esac
done

vmm=${VMM_STATIC:-$top/build/vmm-static}
if [ "$kvm_only" = 1 ]; then
    vmm=none
    run=none
elif [ ! -x "$vmm" ]; then
    echo "FAIL: harness: $vmm missing: run make static" >&2
    exit 1
else
    run=all
    if [ "${#scenarios[@]}" -gt 0 ]; then
        run=$(IFS=,; echo "${scenarios[*]}")
    fi
fi
for tool in qemu-system-x86_64 cpio gzip; do
    command -v "$tool" >/dev/null || { echo "FAIL: harness: $tool missing: run make deps" >&2; exit 1; }
done

# shellcheck source=kernel.sh
. "$here/kernel.sh" >/dev/null

mkdir -p "$out"
# One harness at a time per tree: runs share build/harness/.
exec 9>"$out/.lock"
if ! flock -n 9; then
    echo "harness: waiting for another harness run in this tree to finish..."
    flock -w 900 9 || { echo "FAIL: harness: build/harness is locked by another run" >&2; exit 1; }
fi
# HARNESS_LOCK names a lock file shared by several checkouts on one machine, so their
# nested QEMU runs take turns instead of starving each other of cores.
if [ -n "${HARNESS_LOCK:-}" ]; then
    exec 7>"$HARNESS_LOCK"
    flock -n 7 || { echo "harness: waiting for $HARNESS_LOCK..."; flock -w 3600 7; }
fi
# One L2 image per guest-init script: guest-init/X.sh -> /guest/initrd/X.cpio.gz in L1.
rm -rf "$out/guest"
mkdir -p "$out/guest"
for init in "$here"/guest-init/*.sh; do
    name=$(basename "$init" .sh)
    "$here/mkinitrd-guest.sh" "$init" "$out/guest/$name.cpio.gz"
done
# Extras in L1's image, only for the scenarios that use them (in $host_extra):
# the net-user and snapshot-net scenarios need libslirp, which the static VMM cannot carry, so L1
# also gets the dynamic build (VMM_DYNAMIC, default build/vmm) with every
# library it loads, libslirp (which it dlopen()s) included, as /usr/bin/vmm (without
# it that scenario SKIPs); the
# vmlinux scenario needs the guest kernel unpacked from its bzImage (cached
# beside the kernel) as /guest/vmlinux.
host_extra=$out/l1-extra
rm -rf "$host_extra"
mkdir -p "$host_extra"
vmm_dynamic=${VMM_DYNAMIC:-$top/build/vmm}
case ",$run," in
*,all,* | *,net-user,* | *,snapshot-net,*)
    if [ -x "$vmm_dynamic" ]; then
        # awk reads to the end: an early exit would kill ldconfig with SIGPIPE, which
        # pipefail and set -e turn into the harness's exit status 141 (it did, under load)
        slirp_lib=$(ldconfig -p | awk '$1 == "libslirp.so.0" && /x86-64/ && !f { print $NF; f = 1 }')
        "$top/bench/copy-elf.sh" "$host_extra" "$vmm_dynamic" ${slirp_lib:+"$slirp_lib"}
        [ "$(basename "$vmm_dynamic")" = vmm ] || mv "$host_extra/usr/bin/$(basename "$vmm_dynamic")" "$host_extra/usr/bin/vmm"
    fi
    ;;
esac
case ",$run," in
*,all,* | *,vmlinux,*)
    if "$here/vmlinux.sh" "$KERNEL_IMAGE" "$KERNEL_DIR/vmlinux"; then
        mkdir -p "$host_extra/guest"
        ln "$KERNEL_DIR/vmlinux" "$host_extra/guest/vmlinux" 2>/dev/null ||
            cp "$KERNEL_DIR/vmlinux" "$host_extra/guest/vmlinux"
    fi
    ;;
esac
# the gdb scenario needs a gdb in L1: gdb-minimal with its libraries (without it, SKIP)
case ",$run," in
*,all,* | *,gdb,*)
    if gdb_bin=$("$here/gdb-minimal.sh"); then
        "$top/bench/copy-elf.sh" "$host_extra" "$gdb_bin"
    fi
    ;;
esac
# the clone scenario needs a guest kernel with the vmgenid driver: the cloud kernel has
# none (CONFIG_VMGENID is off), the generic one of the same version has it built in. It
# is fetched and cached as kernel.sh fetches the cloud one, and goes with an L2 image
# built from its own modules into /guest/clone (without it, that scenario SKIPs and says
# why, from /guest/clone/why).
case ",$run," in
*,all,* | *,clone,*)
    mkdir -p "$host_extra/guest/clone"
    generic=linux-image-${KERNEL_VERSION%-cloud-amd64}-amd64
    if generic_env=$(KERNEL_PACKAGE=$generic "$here/kernel.sh" 2>"$out/clone-kernel.log") &&
        generic_image=$(echo "$generic_env" | sed -n 's/^KERNEL_IMAGE=//p') &&
        generic_modules=$(echo "$generic_env" | sed -n 's/^KERNEL_MODULES=//p') &&
        [ -f "$generic_image" ] &&
        KERNEL_MODULES=$generic_modules "$here/mkinitrd-guest.sh" "$here/guest-init/clone-check.sh" \
            "$host_extra/guest/clone/clone-check.cpio.gz" 2>>"$out/clone-kernel.log"; then
        cp "$generic_image" "$host_extra/guest/clone/vmlinuz"
    else
        echo "$generic could not be fetched or used: $(tail -n 1 "$out/clone-kernel.log")" >"$host_extra/guest/clone/why"
    fi
    ;;
esac
HOST_EXTRA=$host_extra "$here/mkinitrd-host.sh" "$vmm" "$out/guest" "$out/host.cpio"
rm -rf "$host_extra"

# The disk scenario's images (fresh each run), attached to L1 as QEMU
# virtio-blk drives; the scenario hands L1's /dev/vdX to our VMM's --disk.
# Their payload hashes and this run's token reach the scenario on L1's
# command line; afterwards the host reads the guest's writes back (below).
disk_args=()
disk_append=
# disk_images: fresh images and the command-line words that describe them
disk_images() {
    "$here/disk-images.sh" build "$out/disk"
    # shellcheck source=/dev/null
    . "$out/disk/disk.env"
    disk_append=" harness.disk.token=$DISK_TOKEN harness.disk.sha256=$DISK_SHA256"
    disk_append="$disk_append harness.disk.ro_sha256=$DISK_RO_SHA256"
}
case ",$run," in
*,all,* | *,disk,*)
    disk_images
    # shellcheck disable=SC2054 # the commas are QEMU's
    disk_args=(
        -drive "file=$out/disk/data1.img,if=none,id=data1,format=raw"
        -device virtio-blk-pci,drive=data1,serial=data1
        -drive "file=$out/disk/data2.img,if=none,id=data2,format=raw"
        -device virtio-blk-pci,drive=data2,serial=data2
    )
    ;;
esac

# The rootdisk scenario's Debian image (rootfs-image.sh: debootstrap once,
# then cached), attached read-only so the cached image is never written.
# Without one the scenario SKIPs, giving the reason from harness.rootfs.skip.
rootfs_args=()
rootfs_append=
case ",$run," in
*,all,* | *,rootdisk,*)
    rootfs=$("$here/rootfs-image.sh") || true
    rootfs_img=$(sed -n 's/^ROOTFS_IMAGE=//p' <<<"$rootfs")
    if [ -n "$rootfs_img" ]; then
        # shellcheck disable=SC2054 # the commas are QEMU's
        rootfs_args=(-drive "file=$rootfs_img,if=none,id=rootfs,format=raw,readonly=on"
            -device virtio-blk-pci,drive=rootfs,serial=rootfs)
        rootfs_append=" harness.rootfs.version=$(sed -n 's/^ROOTFS_DEBIAN_VERSION=//p' <<<"$rootfs")"
    else
        why=$(sed -n 's/^ROOTFS_SKIP=//p' <<<"$rootfs" | tr -d '"' | cut -c1-300)
        rootfs_append=" harness.rootfs.skip=\"${why:-rootfs-image.sh failed}\""
    fi
    ;;
esac

# One L1 vCPU by default: measured 10.9 s against 10.4 s for -smp 2 with
# multi-threaded TCG (boot scenario, 2-core host), but -smp 2 makes L1's TSC
# "unstable" (so L2's too) and once hung before L1 printed anything.
smp=${HARNESS_SMP:-1}
accel=tcg
[ "$smp" -gt 1 ] && accel=tcg,thread=multi
log=$out/serial.log
total_limit=${HARNESS_TIMEOUT:-3000} # all scenarios took 1620 to 1800+ s of a loaded 2-core host
boot_limit=${HARNESS_BOOT_TIMEOUT:-60}
# longer than any silent stretch of a scenario: a VMM run in L1 plus its kill
stall_limit=$((${HARNESS_VMM_TIMEOUT:-120} + 80))
stall_limit=${HARNESS_STALL_TIMEOUT:-$stall_limit}
# No `quiet`: L1's boot messages (cheap under TCG) show where a rare L1 hang
# happened; host-init.sh silences L1's console once it runs. nokaslr: so the
# addresses of a stalled L1 mean the same in the fresh one (harness.lookup).
l1_append() {
    append="console=ttyS0 panic=-1 reboot=k nokaslr harness.run=$1 harness.verbose=$verbose"
    append="$append harness.timeout=${HARNESS_VMM_TIMEOUT:-120}$disk_append$rootfs_append"
}
l1_append "$run"
# The scenarios in the order L1 runs them: host-init.sh takes `ls /scenarios`
# (C order: disk-lock.sh before disk.sh) or the list as given.
if [ "$run" = all ]; then
    order=$(cd "$here/scenarios" && LC_ALL=C ls -- *.sh | sed 's/\.sh$//')
else
    order=$(tr , '\n' <<<"$run")
fi
mon=$out/monitor.sock

echo "harness: L1 = QEMU TCG, -cpu max,+svm,+npt, $smp vCPU(s), 2048M, kernel $KERNEL_VERSION; scenarios: $run"
echo "harness: serial log: ${log#"$top"/}"
tail_pid=
if [ "$verbose" = 1 ]; then
    : >"$log"
    tail -n +1 -F "$log" 2>/dev/null &
    tail_pid=$!
fi
rm -f "$log.stuck" "$log.stalled" "$out/l1-state.txt" "$out/failure.txt"

# l1_state: where L1's vCPU is, through QEMU's monitor: two register dumps a
# second apart (a RIP that moves is a busy L1, one that stays with HLT=1 an
# idle one that no interrupt wakes), and its local APIC's timer and pending
# vectors. Debian's System.map is a placeholder, so
# the retry's L1 names the RIPs (harness.lookup, below).
l1_state() {
    local dump
    if ! command -v socat >/dev/null; then
        echo "(socat missing: run make deps for a register dump)"
        return
    fi
    for n in 1 2; do
        dump=$("$here/qemu-monitor.sh" "$mon" 'info registers' | grep -E '^(RAX|RSI|R8 |R12|RIP|CR0)=') ||
            { echo "dump $n: QEMU's monitor did not answer (QEMU itself is stuck)"; return; }
        echo "dump $n:"
        echo "$dump" | sed 's/^/  /'
    done
    echo "local APIC:"
    "$here/qemu-monitor.sh" "$mon" 'info lapic' | grep -E '^ *(LVTT|Timer|ISR|IRR|APR)' | sed 's/^ */  /'
}

start=$(date +%s.%N)
# Two ways an L1 can stop, both rare and both seen: it does not reach its init
# (HARNESS-BEGIN) within $boot_limit s (once under multi-threaded TCG), or it
# stops printing for $stall_limit s in the middle of a scenario (a few times in
# many runs, in different scenarios; no scenario is silent for that long: a
# VMM run inside L1 is killed after HARNESS_VMM_TIMEOUT, 120 s). Either way L1
# is killed and, once, a fresh L1 starts: after a stall with that scenario and
# the ones after it, keeping what the first L1 printed before the scenario began.
attempt=1
kept=
# the one stall we know how to end without a new L1 (l1-wake.sh)
"$here/l1-wake.sh" "$mon" "$log" >"$out/wakes.log" 7>&- 9>&- &
wake_pid=$!
why_retry=
while :; do
    : >"$log"
    rm -f "$mon"
    timeout -k 5 "$total_limit" qemu-system-x86_64 \
        -nodefaults -no-user-config -accel "$accel" -cpu max,+svm,+npt -smp "$smp" -m 2048 \
        -display none -monitor "unix:$mon,server=on,wait=off" -serial "file:$log" -no-reboot \
        -kernel "$KERNEL_IMAGE" -initrd "$out/host.cpio" -append "$append" "${disk_args[@]}" "${rootfs_args[@]}" \
        </dev/null 2>"$out/qemu.err" &
    qemu_pid=$!
    why_retry=
    ticks=0
    while kill -0 "$qemu_pid" 2>/dev/null && ! grep -q '^HARNESS-BEGIN' "$log"; do
        if [ "$ticks" -ge $((boot_limit * 5)) ]; then
            why_retry=boot
            break
        fi
        sleep 0.2
        ticks=$((ticks + 1))
    done
    last_size=-1
    still=0
    while [ -z "$why_retry" ] && kill -0 "$qemu_pid" 2>/dev/null && ! grep -q '^HARNESS-END' "$log"; do
        size=$(stat -c %s "$log")
        if [ "$size" = "$last_size" ]; then
            still=$((still + 1))
        else
            still=0
            last_size=$size
        fi
        [ "$still" -lt "$stall_limit" ] || why_retry=stall
        sleep 1
    done
    if [ "$why_retry" = stall ]; then
        current=$(tr -d '\r' <"$log" | sed -n 's/^harness: --- scenario \([^ ]*\)$/\1/p' | tail -n1)
        l1_state >"$out/l1-state.txt"
    fi
    [ -z "$why_retry" ] || kill "$qemu_pid" 2>/dev/null || true
    rc=0
    wait "$qemu_pid" || rc=$?
    if [ -z "$why_retry" ] || [ "$attempt" -ge 2 ]; then
        break
    fi
    if [ "$why_retry" = boot ]; then
        cp "$log" "$log.stuck"
        echo "harness: L1 did not reach init within ${boot_limit}s (log kept as ${log#"$top"/}.stuck); retrying once"
    else
        if [ -n "$current" ]; then
            remaining=$(awk -v c="$current" '$0 == c { on = 1 } on' <<<"$order" | paste -sd, -)
        else
            remaining=$run # stalled before its first scenario: all of it again
        fi
        [ -n "$remaining" ] || break
        cp "$log" "$log.stalled"
        kept=$(tr -d '\r' <"$log" | awk -v c="harness: --- scenario $current" '$0 == c { exit } { print }')
        echo "harness: L1 printed nothing for ${stall_limit}s during scenario ${current:-(none yet)} (log kept as ${log#"$top"/}.stalled; L1's registers:)"
        sed 's/^/harness:   /' "$out/l1-state.txt"
        echo "harness: retrying $remaining once, in a fresh L1"
        case ",$remaining," in *,disk,*) [ "${#disk_args[@]}" -eq 0 ] || disk_images ;; esac
        l1_append "$remaining"
        # the fresh L1 names the stalled one's RIPs from its /proc/kallsyms
        rips=$(sed -n 's/^ *RIP=\([0-9a-f]*\).*/\1/p' "$out/l1-state.txt" | sort -u | paste -sd, -)
        [ -z "$rips" ] || append="$append harness.lookup=$rips"
    fi
    attempt=$((attempt + 1))
done
kill "$wake_pid" 2>/dev/null || true
wait "$wake_pid" 2>/dev/null || true
if [ -n "$kept" ]; then
    { printf '%s\n' "$kept"; cat "$log"; } >"$log.joined"
    mv "$log.joined" "$log"
fi
end=$(date +%s.%N)
if [ -n "$tail_pid" ]; then
    sleep 0.3
    kill "$tail_pid" 2>/dev/null || true
    wait "$tail_pid" 2>/dev/null || true
fi

tr -d '\r' <"$log" >"$log.txt"
mv "$log.txt" "$log"
grep -E '^harness: (L1|/dev/kvm|scenario)' "$log" || true
# what the guests reported, and the VMM's boot-marker timings
grep -E '^(GUEST |vmm: boot marker|[a-z0-9_-]+: VMM exited)' "$log" | sed 's/^/  /' || true
results=$(grep -E '^(PASS|FAIL|SKIP):' "$log" || true)
# Host half of the disk scenario, once it ran our VMM: what the guests wrote
# must be in data1.img (debugfs), and data2.img (readonly=on) unchanged.
if [ "${#disk_args[@]}" -gt 0 ] && grep -qE '^disk-[a-z]+: VMM exited' "$log"; then
    # shellcheck disable=SC2046 # one word per mode
    host_results=$("$here/disk-images.sh" check "$out/disk" \
        $(sed -n 's/^disk-\([a-z]*\): guest wrote to data1$/\1/p' "$log")) || true
    results=$(printf '%s\n%s' "$results" "$host_results" | sed '/^$/d')
fi
[ -z "$results" ] || echo "$results"
failed=0
if ! grep -q '^HARNESS-END' "$log"; then
    if [ "$why_retry" = boot ]; then
        echo "FAIL: harness: L1 did not reach init within ${boot_limit}s, twice; last lines of ${log#"$top"/}:"
    elif [ "$why_retry" = stall ]; then
        again=
        [ "$attempt" -lt 2 ] || again=", in the retry too"
        echo "FAIL: harness: L1 printed nothing for ${stall_limit}s during scenario ${current:-(none yet)}$again; last lines of ${log#"$top"/}:"
        sed 's/^/| /' "$out/l1-state.txt"
    elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "FAIL: harness: timed out after ${total_limit}s before HARNESS-END; last lines of ${log#"$top"/}:"
    else
        echo "FAIL: harness: HARNESS-END never appeared (QEMU exit status $rc); last lines of ${log#"$top"/}:"
    fi
    tail -n 30 "$log" | sed 's/^/| /'
    [ ! -s "$out/qemu.err" ] || sed 's/^/| qemu: /' "$out/qemu.err"
    # for the end of make test's log (tests/run-all.sh): where L1 was, and its last words
    { cat "$out/l1-state.txt" 2>/dev/null; echo "last lines of L1's console:"
      tail -n 8 "$log"; } >"$out/failure.txt"
    failed=1
fi
if [ "$kvm_only" = 1 ] && ! grep -q '^harness: /dev/kvm ready' "$log"; then
    failed=1
fi
if grep -q '^FAIL:' <<<"$results"; then
    failed=1
fi
sed 's/^/harness: /' "$out/wakes.log"
echo "harness: wall time $(awk "BEGIN { printf \"%.1f\", $end - $start }") s"
exit "$failed"
