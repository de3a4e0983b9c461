#!/usr/bin/env bash
# Snapshot benchmark: how long a restore takes to give a running guest back, against a
# cold boot of the same guest, and against QEMU's own save and load, side by side in one
# nested run, at two memory sizes (a restore should not grow with memory). See
# docs/performance.md for the method and the figures, docs/snapshot.md for the design.
#
#   bench/snapshot.sh [-v]
#
# Builds (under build/bench/snapshot/, its own lock; HARNESS_LOCK is honoured as in the
# harness)
#   guest/tick.cpio.gz  the L2 image: busybox + bench/guest-init/tick.sh ("tick N" on the
#                       console every 20 ms)
#   host.cpio           the usual harness L1 image (tests/harness/mkinitrd-host.sh) plus
#                       bench/l1/snapshot.sh as /scenarios/bench-snapshot.sh,
#                       build/bench/vmclock, and QEMU with its libraries and firmware
# then boots L1 (QEMU TCG, emulated AMD-V, 3072 MiB so that QEMU may allocate a 2 GiB
# guest) with harness.run=bench-snapshot: it saves the guest once per VMM and size
# (ours: vmm ctl snapshot; QEMU -M q35: migrate "exec:cat > FILE"), then per round
# restores and cold-boots each, interleaved, timing fork to the first "tick" line
# (bench/l1/snapshot.sh has the details). The BENCH-RUN lines of serial.log become
# table.txt: per figure and VMM the median, min and max over the rounds and QEMU's median
# divided by ours; the saves' sizes and times; each VMM's cold boot divided by its restore,
# and its restore at the largest size divided by the smallest.
# Exit status 0 when our VMM gave every figure in every round, 1 otherwise: timing
# never decides.
#
# Env: BENCH_SNAP_ROUNDS (default 10), BENCH_SNAP_SIZES (guest MiB, default 256,2048),
#   BENCH_SNAP_TIMEOUT (seconds per VM run in L1, default 120), BENCH_TIMEOUT (seconds
#   for all of L1, default 1800), HARNESS_SMP (L1 vCPUs, default 1), VMM_STATIC (default
#   build/vmm-static).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
harness=$top/tests/harness
out=$top/build/bench/snapshot
# shellcheck source=bench/args.sh
. "$here/args.sh"
bench_args "$@"

rounds=${BENCH_SNAP_ROUNDS:-10}
sizes=${BENCH_SNAP_SIZES:-256,2048}
vm_limit=${BENCH_SNAP_TIMEOUT:-120}
total_limit=${BENCH_TIMEOUT:-1800}
smp=${HARNESS_SMP:-1}
vmm=${VMM_STATIC:-$top/build/vmm-static}
# bench_l1's memory: a 2 GiB guest of QEMU's in an L1 of 2 GiB is refused by L1's
# overcommit check (one allocation larger than all of RAM)
l1_memory=3072

die() { echo "FAIL: bench snapshot: $*" >&2; exit 1; }
[ -x "$vmm" ] || die "$vmm missing: run make static"
[ -x "$top/build/bench/vmclock" ] || die "build/bench/vmclock missing: run make bench-tools"
for tool in qemu-system-x86_64 cpio ldd; do
    command -v "$tool" >/dev/null || die "$tool missing: run make deps"
done
case ",$sizes," in
*[!0-9,]* | *,,*) die "BENCH_SNAP_SIZES=$sizes: want MiB numbers separated by commas" ;;
esac

# shellcheck source=../tests/harness/kernel.sh
. "$harness/kernel.sh" >/dev/null
# shellcheck source=l1.sh
. "$here/l1.sh"

mkdir -p "$out"
exec 9>"$out/.lock"
if ! flock -n 9; then
    echo "bench snapshot: waiting for another snapshot benchmark in this tree to finish..."
    flock -w 900 9 || die "build/bench/snapshot is locked by another run"
fi
# HARNESS_LOCK names a lock file shared by several checkouts on one machine, so their
# nested QEMU runs take turns instead of starving each other of cores (bench/run.sh
# may hold it already, for all benchmarks).
if [ -n "${HARNESS_LOCK:-}" ] && [ "${HARNESS_LOCK_HELD:-}" != "$HARNESS_LOCK" ]; then
    exec 7>"$HARNESS_LOCK"
    flock -n 7 || { echo "harness: waiting for $HARNESS_LOCK..."; flock -w 3600 7; }
fi

t0=$(date +%s.%N)
rm -rf "$out/guest" "$out/l1-extra"
mkdir -p "$out/guest"
"$harness/mkinitrd-guest.sh" "$here/guest-init/tick.sh" "$out/guest/tick.cpio.gz"

extra=$out/l1-extra
mkdir -p "$extra/scenarios" "$extra/bench"
cp "$here/l1/snapshot.sh" "$extra/scenarios/bench-snapshot.sh"
cp "$top/build/bench/vmclock" "$extra/bench/"
"$here/copy-qemu.sh" "$extra" || die "cannot copy QEMU into the L1 image"
HOST_EXTRA=$extra "$harness/mkinitrd-host.sh" "$vmm" "$out/guest" "$out/host.cpio"
rm -rf "$extra"
t1=$(date +%s.%N)
echo "bench snapshot: images built in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s (L1 image $(($(stat -c %s "$out/host.cpio") / 1048576)) MiB)"

log=$out/serial.log
append="console=ttyS0 panic=-1 reboot=k harness.run=bench-snapshot harness.verbose=$verbose"
append="$append harness.timeout=$vm_limit bench.rounds=$rounds bench.sizes=$sizes"
echo "bench snapshot: L1 = QEMU TCG, -cpu max,+svm,+npt, $smp vCPU(s), ${l1_memory}M; $rounds rounds; guest sizes (MiB) $sizes"
echo "bench snapshot: serial log: ${log#"$top"/}"
bench_l1
wall=$(awk "BEGIN { printf \"%.0f\", $end - $start }")

if [ "$verbose" = 0 ]; then
    grep -aE '^(harness: (L1|/dev/kvm|scenario)|bench-snapshot|BENCH-SNAP|BENCH-RUN .*status=failed|BENCH-PEER|PASS:|FAIL:|SKIP:|--- |\| )' "$log" || true
fi
failed=0
bench_l1_failed snapshot && failed=1

qemu_version=$(qemu-system-x86_64 --version | sed -n 1p | sed 's/^QEMU emulator version //')
{
    echo "snapshot benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); L1 wall time ${wall} s; host load average $load_before before, $load_after after"
    echo "nested: L1 = QEMU $qemu_version TCG (emulated AMD-V), $smp vCPU, ${l1_memory} MiB; L2 kernel $KERNEL_VERSION, 1 vCPU, busybox init printing \"tick N\" every 20 ms; figures only mean something relative to each other"
    echo "ours: $(basename "$vmm") --restore / --kernel; QEMU: $qemu_version -M q35 -accel kvm -cpu host -nodefaults, -incoming \"exec:cat FILE\" / -kernel (SeaBIOS)"
    echo "every time: fork of the VMM to the first \"tick\" line on its console; rounds: $rounds"
    grep '^BENCH-PEER ' "$log" | sed 's/^BENCH-PEER /peer: /' || true
    grep '^BENCH-RUN ' "$log" | awk -v sizes="$sizes" '
        function sort(list, a,    n, i, j, t) {
            n = split(list, a, " ")
            for (i = 2; i <= n; i++)
                for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
            return n
        }
        function median(list,    a, n) {
            n = sort(list, a)
            if (n == 0) return ""
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        function cell(list, fmt,    a, n, m) {
            n = sort(list, a)
            if (n == 0) return "-"
            m = median(list)
            return sprintf(fmt " [" fmt "-" fmt "]", m, a[1], a[n])
        }
        {
            delete f
            for (i = 2; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); f[k] = v }
            if (f["round"] == 0) next
            if (f["status"] != "ok") { failed[f["vmm"]] = failed[f["vmm"]] " " f["part"] "/" f["round"]; next }
            for (k in f) if (f[k] != "" && f[k] != "-") vals[f["part"], k, f["vmm"]] = vals[f["part"], k, f["vmm"]] " " f[k]
            n[f["part"], f["vmm"]]++
        }
        function line(label, p, k, fmt, scale,    o, c, s, q, list, i, m, a, w) {
            # scale: 1024 turns KiB into MiB
            for (w in who) {
                list = ""
                m = split(vals[p, k, w], a, " ")
                for (i = 1; i <= m; i++) list = list " " a[i] / scale
                cur[w] = list
            }
            o = median(cur["ours"])
            s = sprintf("%-38s %-26s", label, cell(cur["ours"], fmt))
            c = cell(cur["q35"], fmt)
            q = median(cur["q35"])
            if (c != "-" && o != "" && o + 0 > 0) c = c sprintf(" %.2fx", q / o)
            print s sprintf(" %-34s", c)
        }
        END {
            who["ours"]; who["q35"]
            printf "%-38s %-26s %-34s\n", "figure: median [min-max], QEMU/ours", "ours", "QEMU q35"
            ns = split(sizes, sz, ",")
            for (i = 1; i <= ns; i++) {
                m = sz[i]
                line(sprintf("restore %sM: fork to 1st tick, ms", m), "restore" m, "tick_ms", "%.0f", 1)
                line(sprintf("cold boot %sM: fork to 1st tick, ms", m), "boot" m, "tick_ms", "%.0f", 1)
                line(sprintf("  restore %sM: resident, MiB", m), "restore" m, "rss_kb", "%.1f", 1024)
                line(sprintf("  cold boot %sM: resident, MiB", m), "boot" m, "rss_kb", "%.1f", 1024)
            }
            printf "cold boot / restore (medians):"
            for (j = 1; j <= 2; j++) {
                w = (j == 1 ? "ours" : "q35")
                printf "%s %s", (j == 1 ? "" : ";"), w
                for (i = 1; i <= ns; i++) {
                    b = median(vals["boot" sz[i], "tick_ms", w]); r = median(vals["restore" sz[i], "tick_ms", w])
                    printf " %sM %s", sz[i], (b != "" && r + 0 > 0 ? sprintf("%.1fx", b / r) : "-")
                }
            }
            printf "\n"
            if (ns > 1) {
                printf "restore %sM / restore %sM (medians):", sz[ns], sz[1]
                for (j = 1; j <= 2; j++) {
                    w = (j == 1 ? "ours" : "q35")
                    a1 = median(vals["restore" sz[1], "tick_ms", w]); an = median(vals["restore" sz[ns], "tick_ms", w])
                    printf " %s %s", w, (an != "" && a1 + 0 > 0 ? sprintf("%.2fx", an / a1) : "-")
                }
                printf "\n"
            }
            printf "(runs per figure: ours %d, q35 %d; a cell with no number: not run or failed; resident: the VMM process at the first tick)\n", n["restore" sz[1], "ours"], n["restore" sz[1], "q35"]
            for (w in failed) printf "failed runs, %s:%s\n", w, failed[w]
        }'
    echo "saves (once per VMM and size, at tick 5 or a little later; not timed by vmclock, save_ms in L1 uptime, 10 ms steps):"
    grep '^BENCH-SNAP ' "$log" | sed 's/^BENCH-SNAP /  /' || true
    echo "runs:"
    grep '^BENCH-RUN ' "$log" | sed 's/^BENCH-RUN /  /'
} >"$out/table.txt"
echo "bench snapshot: L1 wall time $wall s; table in ${out#"$top"/}/table.txt"
echo
cat "$out/table.txt"
exit "$failed"
