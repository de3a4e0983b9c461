#!/usr/bin/env bash
# `vmm run` benchmark, host side: the time from starting the VMM to the
# command's first output, ours against kvmtool running the same command with
# the same kernel and busybox, in one nested run (L1: QEMU TCG with emulated
# AMD-V, as tests/harness/run.sh). bench/l1/run-cmd.sh says what is measured.
#
#   bench/run-cmd.sh [-v]
#
# Leaves build/bench/run-cmd/table.txt: the median of each, and ours/kvmtool
# as a ratio of the medians (below 1: ours starts faster). kvmtool's lkvm is
# $KVMTOOL, else ${VMM_CACHE:-~/.cache/minivmm}/kvmtool/lkvm; without one the
# table gives our own numbers and the benchmark prints SKIP for the ratio.
# Env: BENCH_ROUNDS (default 3), BENCH_STREAM_ROUNDS (rounds of the stdout stream,
#   about a minute each; default BENCH_ROUNDS), BENCH_TIMEOUT (seconds for all of L1,
#   default 900), HARNESS_SMP, VMM_STATIC, KVMTOOL, HARNESS_LOCK.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
harness=$top/tests/harness
out=$top/build/bench/run-cmd
# shellcheck source=bench/args.sh
. "$here/args.sh"
bench_args "$@"
rounds=${BENCH_ROUNDS:-3}
stream_rounds=${BENCH_STREAM_ROUNDS:-$rounds}
total_limit=${BENCH_TIMEOUT:-900}
smp=${HARNESS_SMP:-1}
vmm=${VMM_STATIC:-$top/build/vmm-static}
cache=${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}
lkvm=${KVMTOOL:-$cache/kvmtool/lkvm}

die() { echo "FAIL: bench run-cmd: $*" >&2; exit 1; }
[ -x "$vmm" ] || die "$vmm missing: run make static"
# shellcheck source=../tests/harness/kernel.sh
. "$harness/kernel.sh" >/dev/null
# shellcheck source=l1.sh
. "$here/l1.sh"

mkdir -p "$out"
exec 9>"$out/.lock"
flock -n 9 || { echo "bench run-cmd: waiting for another run in this tree..."; flock -w 900 9; }
if [ -n "${HARNESS_LOCK:-}" ] && [ "${HARNESS_LOCK_HELD:-}" != "$HARNESS_LOCK" ]; then
    exec 7>"$HARNESS_LOCK"
    flock -n 7 || { echo "harness: waiting for $HARNESS_LOCK..."; flock -w 3600 7; }
fi

rm -rf "$out/guest" "$out/l1-extra"
mkdir -p "$out/guest" "$out/l1-extra/scenarios" "$out/l1-extra/usr/bin"
# uncompressed, as the initramfs `vmm run` builds: neither kernel inflates one
"$harness/mkinitrd-guest.sh" --compress none "$here/guest-init/run-cmd.sh" "$out/guest/run-cmd.cpio"
cp "$here/l1/run-cmd.sh" "$out/l1-extra/scenarios/bench-run-cmd.sh"
peer_why=
if [ ! -x "$lkvm" ]; then
    peer_why="no lkvm at $lkvm: build one with bench/build-kvmtool.sh KVMTOOL_SOURCE_DIR, or set KVMTOOL=/path/to/lkvm"
elif LC_ALL=C readelf -l "$lkvm" 2>/dev/null | grep 'Requesting program interpreter' >/dev/null; then
    PATH=$(dirname "$lkvm"):$PATH "$here/copy-elf.sh" "$out/l1-extra" "$(basename "$lkvm")"
    [ "$(basename "$lkvm")" = lkvm ] || mv "$out/l1-extra/usr/bin/$(basename "$lkvm")" "$out/l1-extra/usr/bin/lkvm"
else
    cp "$lkvm" "$out/l1-extra/usr/bin/lkvm"
fi
HOST_EXTRA=$out/l1-extra "$harness/mkinitrd-host.sh" "$vmm" "$out/guest" "$out/host.cpio"
rm -rf "$out/l1-extra"

log=$out/serial.log
append="console=ttyS0 panic=-1 reboot=k harness.run=bench-run-cmd harness.verbose=$verbose"
append="$append harness.timeout=120 bench.rounds=$rounds bench.stream_rounds=$stream_rounds"
echo "bench run-cmd: L1 = QEMU TCG, -cpu max,+svm,+npt, $smp vCPU(s); $rounds rounds, $stream_rounds of the stream; serial log ${log#"$top"/}"
bench_l1
grep -E '^(BENCH-RUN|BENCH-STREAM|BENCH-PEER|BENCH-CACHE|PASS:|FAIL:)' "$log" || true
failed=0
if ! grep -q '^HARNESS-END' "$log"; then
    echo "FAIL: bench run-cmd: HARNESS-END never appeared (QEMU exit status $rc); last lines:"
    tail -n 30 "$log" | sed 's/^/| /'
    failed=1
fi
grep -q '^PASS: bench-run-cmd' "$log" || failed=1
[ -n "$peer_why" ] || peer_why=$(sed -n 's/^BENCH-PEER unavailable: //p' "$log" | sed -n 1p)

{
    echo "run-cmd benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(nproc) CPUs; L1 wall time $(awk "BEGIN { printf \"%.0f\", $end - $start }") s; load $load_before before"
    echo "start of the VMM to the first line of 'echo run-cmd-marker' in the guest, seconds of L1 time (nested: every layer emulated)"
    echo "each: kernel $KERNEL_VERSION, 1 vCPU, 512 MiB, quiet kernel (console=ttyS0 reboot=k panic=-1 quiet loglevel=1)"
    echo "ours: vmm run --rootfs DIR, DIR = busybox copied into its uncompressed initramfs; ours-hostroot: vmm run (L1's / over virtio-fs, virtio modules loaded)"
    echo "ours-cached: ours with --boot-cache C, C filled before the first round (each counted run restores the boot saved at the init's boot point)"
    echo "kvmtool: ${peer_why:-lkvm run --nodefaults --console serial -k K -i initramfs (the same busybox, uncompressed; its /init runs the same echo, then reboot -f)}"
    echo "  stands in for lkvm sandbox, which shares the root over 9p: this kernel has no 9p (CONFIG_NET_9P off)"
    grep '^BENCH-RUN ' "$log" | awk '
        function median(list,    n, a, i, j, t) {
            n = split(list, a, " ")
            if (n == 0) return ""
            for (i = 2; i <= n; i++)
                for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        / status=ok / {
            v = $0; sub(/.* vmm=/, "", v); sub(/ .*/, "", v)
            s = $0; sub(/.*first_output_s=/, "", s); sub(/ .*/, "", s)
            all[v] = all[v] " " s; n[v]++
        }
        END {
            printf "%-16s %8s %5s\n", "VMM", "median", "runs"
            split("ours ours-cached ours-hostroot kvmtool", order, " ")
            for (i = 1; i <= 4; i++)
                if (n[order[i]]) printf "%-16s %8.3f %5d\n", order[i], median(all[order[i]]), n[order[i]]
            if (n["ours"] && n["ours-cached"])
                printf "ratio ours-cached/ours (the same run, cold and from the boot cache; goal at most 0.25): %.2f\n", median(all["ours-cached"]) / median(all["ours"])
            if (n["ours"] && n["kvmtool"])
                printf "ratio ours/kvmtool (--rootfs against the same initramfs): %.2f\n", median(all["ours"]) / median(all["kvmtool"])
            else
                print "ratio ours/kvmtool: n/a (no kvmtool numbers)"
        }'
    grep '^BENCH-STREAM .*status=ok' "$log" | awk '
        { v = $0; sub(/.*mib_per_s=/, "", v); all[++n] = v + 0 }
        END {
            if (!n) { print "stdout stream: no successful round"; exit }
            for (i = 2; i <= n; i++)
                for (j = i; j > 1 && all[j - 1] > all[j]; j--) { t = all[j]; all[j] = all[j - 1]; all[j - 1] = t }
            printf "stdout stream, vmm run --rootfs DIR -- cat /dev/zero | head -c 64M, through the command port: median %.1f MiB/s of L1 time over %d rounds\n", n % 2 ? all[(n + 1) / 2] : (all[n / 2] + all[n / 2 + 1]) / 2, n
        }'
} >"$out/table.txt"
cat "$out/table.txt"
if [ -n "$peer_why" ]; then
    echo "SKIP: bench run-cmd ratio: $peer_why"
fi
exit "$failed"
