#!/usr/bin/env bash
# Network benchmark, host side: iperf3 TCP throughput between the L2 guest and
# L1, over a TAP in L1, for our VMM's virtio-net (with its own thread, and with
# vhost=on) and QEMU's virtio-net-pci (-netdev tap, vhost off and on), in the
# same L1 boot. See docs/performance.md for the method and the figures.
#
#   bench/net.sh [-v]
#
# Builds (all under build/bench/net/, its own lock: no waiting on test runs)
#   guest/iperf.cpio  the L2 image: bench/guest-init/iperf.sh as /init,
#                     Debian's iperf3 with every library ldd lists and the
#                     loader (bench/copy-elf.sh), uncompressed
#   host.cpio         the L1 image (tests/harness/mkinitrd-host.sh with
#                     HOST_EXTRA): the usual harness image (tun and vhost_net
#                     among its modules) plus bench/l1/net.sh as
#                     /scenarios/bench-net.sh, iperf3, and QEMU with its
#                     firmware (bench/copy-qemu.sh)
# then boots L1 (QEMU TCG, emulated AMD-V, as tests/harness/run.sh does) with
# harness.run=bench-net, and turns the BENCH-RUN lines of serial.log into
# table.txt: per direction the median of each configuration, and the ratios
# ours/QEMU (above 1: ours is faster) without and with vhost-net.
# Exit status 0 when our VMM gave numbers in every round, 1 otherwise.
#
# Env: BENCH_ROUNDS (rounds of the four configurations, default 3),
#   BENCH_RUNTIME (seconds of each iperf3 test, default 5), BENCH_OMIT
#   (seconds left out at the start of each, default 1), BENCH_CPUS (L2
#   vCPUs, default 2), BENCH_MEMORY (L2 MiB, default 512), BENCH_PEER (qemu
#   or none; default qemu), BENCH_VM_TIMEOUT (seconds per VM run in L1,
#   default 120), BENCH_TIMEOUT (seconds for all of L1, default 1200),
#   HARNESS_SMP (L1 vCPUs, default 1), VMM_STATIC (default build/vmm-static).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
harness=$top/tests/harness
out=$top/build/bench/net
# shellcheck source=bench/args.sh
. "$here/args.sh"
bench_args "$@"

rounds=${BENCH_ROUNDS:-3}
runtime=${BENCH_RUNTIME:-5}
omit=${BENCH_OMIT:-1}
cpus=${BENCH_CPUS:-2}
memory=${BENCH_MEMORY:-512}
peer=${BENCH_PEER:-qemu}
vm_limit=${BENCH_VM_TIMEOUT:-120}
total_limit=${BENCH_TIMEOUT:-1200}
smp=${HARNESS_SMP:-1}
vmm=${VMM_STATIC:-$top/build/vmm-static}

die() { echo "FAIL: bench net: $*" >&2; exit 1; }
[ -x "$vmm" ] || die "$vmm missing: run make static"
for tool in qemu-system-x86_64 iperf3 cpio ldd; do
    command -v "$tool" >/dev/null || die "$tool missing: run make deps"
done

# shellcheck source=../tests/harness/kernel.sh
. "$harness/kernel.sh" >/dev/null
# shellcheck source=l1.sh
. "$here/l1.sh"

mkdir -p "$out"
exec 9>"$out/.lock"
if ! flock -n 9; then
    echo "bench net: waiting for another network benchmark in this tree to finish..."
    flock -w 900 9 || die "build/bench/net is locked by another run"
fi
# HARNESS_LOCK names a lock file shared by several checkouts on one machine, so their
# nested QEMU runs take turns instead of starving each other of cores.
if [ -n "${HARNESS_LOCK:-}" ] && [ "${HARNESS_LOCK_HELD:-}" != "$HARNESS_LOCK" ]; then
    exec 7>"$HARNESS_LOCK"
    flock -n 7 || { echo "harness: waiting for $HARNESS_LOCK..."; flock -w 3600 7; }
fi

t0=$(date +%s.%N)
rm -rf "$out/guest" "$out/iperf-root" "$out/l1-extra"
mkdir -p "$out/guest"
"$here/copy-elf.sh" "$out/iperf-root" iperf3
"$harness/mkinitrd-guest.sh" --extra "$out/iperf-root" --compress none \
    "$here/guest-init/iperf.sh" "$out/guest/iperf.cpio"

extra=$out/l1-extra
mkdir -p "$extra/scenarios"
cp "$here/l1/net.sh" "$extra/scenarios/bench-net.sh"
"$here/copy-elf.sh" "$extra" iperf3
"$here/copy-qemu.sh" "$extra" || die "cannot copy QEMU into the L1 image"
HOST_EXTRA=$extra "$harness/mkinitrd-host.sh" "$vmm" "$out/guest" "$out/host.cpio"
rm -rf "$out/iperf-root" "$extra"
t1=$(date +%s.%N)
echo "bench net: images built in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s (L1 image $(($(stat -c %s "$out/host.cpio") / 1048576)) MiB, iperf3 image $(($(stat -c %s "$out/guest/iperf.cpio") / 1048576)) MiB)"

log=$out/serial.log
append="console=ttyS0 panic=-1 reboot=k harness.run=bench-net harness.verbose=$verbose"
append="$append harness.timeout=$vm_limit bench.rounds=$rounds bench.cpus=$cpus bench.memory=$memory"
append="$append bench.peer=$peer bench.runtime=$runtime bench.omit=$omit"
echo "bench net: L1 = QEMU TCG, -cpu max,+svm,+npt, $smp vCPU(s), 2048M; L2: $cpus vCPUs, $memory MiB; $rounds rounds of ours, ours+vhost, QEMU, QEMU+vhost; iperf3 ${omit}+${runtime} s per direction"
echo "bench net: serial log: ${log#"$top"/}"
bench_l1
wall=$(awk "BEGIN { printf \"%.0f\", $end - $start }")

if [ "$verbose" = 0 ]; then
    grep -E '^(harness: (L1|/dev/kvm|scenario)|bench-net|BENCH-RUN|BENCH-PEER|PASS:|FAIL:|SKIP:)' "$log" |
        grep -vE '^\| ' || true
fi
failed=0
bench_l1_failed net && failed=1

qemu_version=$(qemu-system-x86_64 --version | sed -n 1p | sed 's/^QEMU emulator version //')
peer_why=$(sed -n 's/^BENCH-PEER unavailable: //p' "$log" | sed -n 1p)
{
    echo "network benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); L1 wall time ${wall} s; host load average $load_before before, $load_after after"
    echo "L2: kernel $KERNEL_VERSION, $cpus vCPUs, $memory MiB; $(iperf3 --version | sed -n 1p | cut -d' ' -f1-2), one TCP stream, ${omit} s omitted + ${runtime} s per direction, to and from iperf3 -s in L1 behind a TAP"
    echo "ours: $(basename "$vmm") --net tap=vmmtap0[,vhost=on]"
    if [ -n "$peer_why" ]; then
        echo "QEMU: peer unavailable: $peer_why"
    else
        echo "QEMU: $qemu_version -accel kvm -cpu host -M q35, -netdev tap,vhost=off|on -device virtio-net-pci,disable-legacy=on,romfile="
    fi
    grep '^BENCH-RUN ' "$log" | awk '
        function median(list,    n, a, i, j, t) {
            n = split(list, a, " ")
            if (n == 0) return ""
            for (i = 2; i <= n; i++)
                for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        function fmt(v) { return v == "" ? "-" : sprintf("%.0f", v) }
        function ratio(a, b) { return (a != "" && b != "" && b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }
        {
            delete f
            for (i = 2; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); f[k] = v }
            if (f["status"] != "ok") next
            for (d = 1; d <= 2; d++)
                all[f["vmm"], d] = all[f["vmm"], d] " " f[key[d]]
            n[f["vmm"]]++
        }
        BEGIN {
            key[1] = "h2g_Mbps"; label[1] = "host to guest, Mbit/s"
            key[2] = "g2h_Mbps"; label[2] = "guest to host, Mbit/s"
        }
        END {
            printf "%-22s %8s %8s %8s %8s   %10s %10s\n", "median", "ours", "QEMU", "ours+vh", "QEMU+vh",
                "ours/QEMU", "+vhost"
            for (d = 1; d <= 2; d++) {
                o = median(all["ours", d]); q = median(all["qemu", d])
                ov = median(all["ours-vhost", d]); qv = median(all["qemu-vhost", d])
                printf "%-22s %8s %8s %8s %8s   %10s %10s\n", label[d], fmt(o), fmt(q), fmt(ov), fmt(qv),
                    ratio(o, q), ratio(ov, qv)
            }
            printf "(runs with numbers: ours %d, QEMU %d, ours+vhost %d, QEMU+vhost %d)\n",
                n["ours"], n["qemu"], n["ours-vhost"], n["qemu-vhost"]
        }'
    echo "runs:"
    grep '^BENCH-RUN ' "$log" | sed 's/^BENCH-RUN /  /'
} >"$out/table.txt"
echo "bench net: L1 wall time $wall s; table in ${out#"$top"/}/table.txt"
echo
cat "$out/table.txt"
exit "$failed"
