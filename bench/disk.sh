#!/usr/bin/env bash
# Disk benchmark, host side: fio inside the L2 guest, on a virtio-blk disk
# served by our VMM and, in the same L1 boot, by QEMU's virtio-blk-pci.
# See docs/performance.md for the method and the figures.
#
#   bench/disk.sh [-v]
#
# Builds (all under build/bench/disk/, its own lock: no waiting on test runs)
#   guest/fio.cpio  the L2 image: bench/guest-init/fio.sh as /init, Debian's
#                   fio with every library ldd lists and the loader
#                   (bench/copy-elf.sh), uncompressed (gunzip of ~90 MB under
#                   nested emulation would cost more than copying it)
#   host.cpio       the L1 image (tests/harness/mkinitrd-host.sh with
#                   HOST_EXTRA): the usual harness image plus bench/l1/disk.sh
#                   as /scenarios/bench-disk.sh, qemu-system-x86_64 with its
#                   libraries, and the firmware q35/microvm need for -kernel
#   scratch.img     the scratch disk, sparse, fresh each run, attached to L1
#                   as a virtio-blk drive with serial "bench"
# then boots L1 (QEMU TCG, emulated AMD-V, as tests/harness/run.sh does) with
# harness.run=bench-disk, and turns the BENCH-RUN lines of serial.log into
# table.txt: per metric the median of ours and of QEMU, the ratio of the
# medians (ours/QEMU, above 1: ours is faster) and each round's own ratio.
# Exit status 0 when our VMM gave numbers in every round (the peer may be
# unavailable: then the table says why), 1 otherwise.
#
# Env: BENCH_ROUNDS (rounds of ours+QEMU, default 3), BENCH_RUNTIME (seconds
#   of each fio job, default 5), BENCH_RAMP (seconds of warm-up before each,
#   default 1), BENCH_CPUS (L2 vCPUs, default 2), BENCH_MEMORY (L2 MiB,
#   default 512), BENCH_DISK_MB (scratch disk, default 256), BENCH_PEER
#   (q35, microvm or none; default q35), BENCH_SEQ_IODEPTH (default 4),
#   BENCH_RAND_IODEPTH (default 16), BENCH_VM_TIMEOUT (seconds per VM run in
#   L1, default 180), BENCH_TIMEOUT (seconds for all of L1, default 900),
#   HARNESS_SMP (L1 vCPUs, default 1), VMM_STATIC (default build/vmm-static).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
harness=$top/tests/harness
out=$top/build/bench/disk
# shellcheck source=bench/args.sh
. "$here/args.sh"
bench_args "$@"

rounds=${BENCH_ROUNDS:-3}
runtime=${BENCH_RUNTIME:-5}
ramp=${BENCH_RAMP:-1}
cpus=${BENCH_CPUS:-2}
memory=${BENCH_MEMORY:-512}
disk_mb=${BENCH_DISK_MB:-256}
peer=${BENCH_PEER:-q35}
seq_iodepth=${BENCH_SEQ_IODEPTH:-4}
rand_iodepth=${BENCH_RAND_IODEPTH:-16}
vm_limit=${BENCH_VM_TIMEOUT:-180}
total_limit=${BENCH_TIMEOUT:-900}
smp=${HARNESS_SMP:-1}
vmm=${VMM_STATIC:-$top/build/vmm-static}

die() { echo "FAIL: bench disk: $*" >&2; exit 1; }
[ -x "$vmm" ] || die "$vmm missing: run make static"
for tool in qemu-system-x86_64 fio cpio ldd; do
    command -v "$tool" >/dev/null || die "$tool missing: run make deps"
done

# shellcheck source=../tests/harness/kernel.sh
. "$harness/kernel.sh" >/dev/null
# shellcheck source=l1.sh
. "$here/l1.sh"

mkdir -p "$out"
exec 9>"$out/.lock"
if ! flock -n 9; then
    echo "bench disk: waiting for another disk benchmark in this tree to finish..."
    flock -w 900 9 || die "build/bench/disk is locked by another run"
fi
# HARNESS_LOCK names a lock file shared by several checkouts on one machine, so their
# nested QEMU runs take turns instead of starving each other of cores (bench/run.sh
# may hold it already, for all benchmarks).
if [ -n "${HARNESS_LOCK:-}" ] && [ "${HARNESS_LOCK_HELD:-}" != "$HARNESS_LOCK" ]; then
    exec 7>"$HARNESS_LOCK"
    flock -n 7 || { echo "harness: waiting for $HARNESS_LOCK..."; flock -w 3600 7; }
fi

# The L2 image: fio at its usual paths in the guest's root.
t0=$(date +%s.%N)
rm -rf "$out/guest" "$out/fio-root" "$out/l1-extra"
mkdir -p "$out/guest"
"$here/copy-elf.sh" "$out/fio-root" fio
"$harness/mkinitrd-guest.sh" --extra "$out/fio-root" --compress none \
    "$here/guest-init/fio.sh" "$out/guest/fio.cpio"

# What L1 gets besides the usual harness image.
extra=$out/l1-extra
mkdir -p "$extra/scenarios"
cp "$here/l1/disk.sh" "$extra/scenarios/bench-disk.sh"
"$here/copy-qemu.sh" "$extra" || die "cannot copy QEMU into the L1 image"
HOST_EXTRA=$extra "$harness/mkinitrd-host.sh" "$vmm" "$out/guest" "$out/host.cpio"
rm -rf "$out/fio-root" "$extra"

rm -f "$out/scratch.img"
truncate -s "${disk_mb}M" "$out/scratch.img"
t1=$(date +%s.%N)
echo "bench disk: images built in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s (L1 image $(($(stat -c %s "$out/host.cpio") / 1048576)) MiB, fio image $(($(stat -c %s "$out/guest/fio.cpio") / 1048576)) MiB)"

log=$out/serial.log
append="console=ttyS0 panic=-1 reboot=k harness.run=bench-disk harness.verbose=$verbose"
append="$append harness.timeout=$vm_limit bench.rounds=$rounds bench.cpus=$cpus bench.memory=$memory"
append="$append bench.peer=$peer bench.runtime=$runtime bench.ramp=$ramp"
append="$append bench.seq_iodepth=$seq_iodepth bench.rand_iodepth=$rand_iodepth"
echo "bench disk: L1 = QEMU TCG, -cpu max,+svm,+npt, $smp vCPU(s), 2048M; L2: $cpus vCPUs, $memory MiB; $rounds rounds of ours + QEMU ($peer); fio ${ramp}+${runtime} s per job"
echo "bench disk: serial log: ${log#"$top"/}"
bench_l1 -drive "file=$out/scratch.img,if=none,id=bench,format=raw" \
    -device virtio-blk-pci,drive=bench,serial=bench
wall=$(awk "BEGIN { printf \"%.0f\", $end - $start }")

if [ "$verbose" = 0 ]; then
    grep -E '^(harness: (L1|/dev/kvm|scenario)|bench-disk|BENCH-RUN|BENCH-PEER|PASS:|FAIL:|SKIP:)' "$log" |
        grep -vE '^\| ' || true
fi
failed=0
bench_l1_failed disk && failed=1

# The table: medians over the rounds that gave numbers, ratio ours/QEMU of
# the medians, and the ratio of each round where both ran.
qemu_version=$(qemu-system-x86_64 --version | sed -n 1p | sed 's/^QEMU emulator version //')
peer_why=$(sed -n 's/^BENCH-PEER unavailable: //p' "$log" | sed -n 1p)
machine=$(sed -n 's/^BENCH-RUN .*vmm=qemu machine=\([^ ]*\) status=ok.*/\1/p' "$log" | tail -n1)
machine=${machine:-$peer}
[ "$machine" != microvm ] || machine=microvm,pcie=on
{
    echo "disk benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); L1 wall time ${wall} s; host load average $load_before before, $load_after after"
    echo "L2: kernel $KERNEL_VERSION, $cpus vCPUs, $memory MiB; fio $(fio --version | sed 's/^fio-//'), O_DIRECT on a ${disk_mb} MiB raw disk, ${ramp} s ramp + ${runtime} s per job"
    echo "ours: $(basename "$vmm") --disk ...,cache=none"
    if [ -n "$peer_why" ]; then
        echo "QEMU: peer unavailable: $peer_why"
    else
        echo "QEMU: $qemu_version -accel kvm -cpu host -M $machine, virtio-blk-pci cache=none,aio=native"
    fi
    grep '^BENCH-RUN ' "$log" | awk '
        function median(list,    n, a, i, j, t) {
            n = split(list, a, " ")
            if (n == 0) return ""
            for (i = 2; i <= n; i++)
                for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        {
            delete f
            for (i = 2; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); f[k] = v }
            if (f["status"] != "ok") next
            r = f["round"] + 0; w = f["vmm"]
            if (r > maxr) maxr = r
            for (m = 1; m <= 3; m++) {
                val[w, m, r] = f[key[m]]
                all[w, m] = all[w, m] " " f[key[m]]
            }
            n[w]++
        }
        BEGIN {
            key[1] = "seqread_MBps"; label[1] = "seq read 1M, MB/s"
            key[2] = "seqwrite_MBps"; label[2] = "seq write 1M, MB/s"
            key[3] = "randread_iops"; label[3] = "rand read 4k, IOPS"
        }
        END {
            printf "%-20s %10s %10s %10s   %s\n", "metric", "ours", "QEMU", "ours/QEMU", "per round ours/QEMU"
            for (m = 1; m <= 3; m++) {
                o = median(all["ours", m]); q = median(all["qemu", m])
                ratio = (o != "" && q != "" && q + 0 > 0) ? sprintf("%.2f", o / q) : "-"
                rr = ""
                for (r = 1; r <= maxr; r++)
                    if ((("ours", m, r) in val) && (("qemu", m, r) in val) && val["qemu", m, r] + 0 > 0)
                        rr = rr sprintf(" %.2f", val["ours", m, r] / val["qemu", m, r])
                printf "%-20s %10s %10s %10s  %s\n", label[m], o == "" ? "-" : sprintf("%.2f", o),
                    q == "" ? "-" : sprintf("%.2f", q), ratio, rr == "" ? " -" : rr
            }
            printf "(medians of %d runs of ours, %d of QEMU)\n", n["ours"], n["qemu"]
        }'
    echo "runs:"
    grep '^BENCH-RUN ' "$log" | sed 's/^BENCH-RUN /  /'
} >"$out/table.txt"
echo "bench disk: L1 wall time $wall s; table in ${out#"$top"/}/table.txt"
echo
cat "$out/table.txt"
exit "$failed"
