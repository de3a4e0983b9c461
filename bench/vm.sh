#!/usr/bin/env bash
# Start-up, boot to init, memory overhead and exit cost of our VMM, QEMU (-M microvm and
# -M q35) and kvmtool, side by side in one nested run; plus binary sizes and lines of
# code. See docs/performance.md for the method and the figures.
#
#   bench/vm.sh [-v]
#
# Builds (under build/bench/vm/, its own lock; HARNESS_LOCK is honoured as in the harness)
#   guest/boot.cpio.gz  the L2 image: busybox + bench/guest-init/boot.sh
#   host.cpio           the usual harness L1 image (tests/harness/mkinitrd-host.sh) plus
#                       bench/l1/vm.sh as /scenarios/bench-vm.sh, build/bench/vmclock
#                       and build/bench/guests/* in /bench, QEMU and strace with their
#                       libraries, QEMU's
#                       firmware, and kvmtool's lkvm when there is one:
#                         $KVMTOOL, else ${VMM_CACHE:-~/.cache/minivmm}/kvmtool/lkvm
#                       (bench/build-kvmtool.sh SRC_DIR builds it there; without it
#                       the table says SKIP and how to provide it)
# then boots L1 (QEMU TCG, emulated AMD-V) with harness.run=bench-vm and turns the
# BENCH-RUN lines of serial.log into table.txt: per figure and VMM the median, min and
# max over the rounds, and each peer's median divided by ours. Equal work is checked: a
# peer's boot whose guest saw other CPUs than ours, or memory more than 20% off, is left out
# of its figures, the cell says how many ("(1 unequal)", or "invalid" when none is left),
# and a line under the table names each such run. Then distributions.dat, every round's
# value per VMM and figure, and from it (bench/chart.sh, when gnuplot is there)
# distributions.svg: the spread of every figure, side by side.
# Exit status 0 when our VMM gave every figure in every round, 1 otherwise.
#
# Env: BENCH_VM_ROUNDS (default 10), BENCH_VM_PARTS (default
#   profile,startup,strace,exits,boot,vmlinux; vmlinux: the kernel unpacked from its
#   bzImage by tests/harness/vmlinux.sh, as /guest/vmlinux in L1),
#   BENCH_VM_TIMEOUT (seconds per VM run in L1, default 120), BENCH_TIMEOUT (seconds for
#   all of L1, default 1500), KVMTOOL (an lkvm binary), HARNESS_SMP (L1 vCPUs, default
#   1), VMM_STATIC (default build/vmm-static), BENCH_VM_VMMS (only these of ours,
#   microvm, q35, kvmtool, comma-separated; e.g. q35 alone, to see what the nested
#   layers do with no VMM of ours in L1).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
harness=$top/tests/harness
out=$top/build/bench/vm
# shellcheck source=bench/args.sh
. "$here/args.sh"
bench_args "$@"

rounds=${BENCH_VM_ROUNDS:-10}
parts=${BENCH_VM_PARTS:-profile,startup,strace,exits,boot,vmlinux}
vm_limit=${BENCH_VM_TIMEOUT:-120}
total_limit=${BENCH_TIMEOUT:-1500}
smp=${HARNESS_SMP:-1}
vmm=${VMM_STATIC:-$top/build/vmm-static}
cache=${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}
lkvm=${KVMTOOL:-$cache/kvmtool/lkvm}

die() { echo "FAIL: bench vm: $*" >&2; exit 1; }
[ -x "$vmm" ] || die "$vmm missing: run make static"
[ -x "$top/build/bench/vmclock" ] || die "build/bench/vmclock missing: run make bench-tools"
for tool in qemu-system-x86_64 cpio ldd strip; do
    command -v "$tool" >/dev/null || die "$tool missing: run make deps"
done

# shellcheck source=../tests/harness/kernel.sh
. "$harness/kernel.sh" >/dev/null
# shellcheck source=l1.sh
. "$here/l1.sh"

mkdir -p "$out"
exec 9>"$out/.lock"
if ! flock -n 9; then
    echo "bench vm: waiting for another vm benchmark in this tree to finish..."
    flock -w 900 9 || die "build/bench/vm is locked by another run"
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
"$harness/mkinitrd-guest.sh" "$here/guest-init/boot.sh" "$out/guest/boot.cpio.gz"

extra=$out/l1-extra
mkdir -p "$extra/scenarios" "$extra/usr/share/qemu" "$extra/bench/guests"
cp "$here/l1/vm.sh" "$extra/scenarios/bench-vm.sh"
cp "$top/build/bench/vmclock" "$extra/bench/"
cp "$top"/build/bench/guests/*.bin "$extra/bench/guests/"
case ",$parts," in
*,vmlinux,*)
    "$harness/vmlinux.sh" "$KERNEL_IMAGE" "$KERNEL_DIR/vmlinux" || die "cannot unpack the vmlinux (see above)"
    mkdir -p "$extra/guest"
    cp "$KERNEL_DIR/vmlinux" "$extra/guest/vmlinux"
    ;;
esac
"$here/copy-elf.sh" "$extra" qemu-system-x86_64
# strace times every VMM's way to its first KVM_RUN alike (the strace part)
! command -v strace >/dev/null || "$here/copy-elf.sh" "$extra" strace
# q35 -kernel: SeaBIOS, linuxboot_dma (pvh.bin for a vmlinux), kvmvapic; microvm: qboot
# (see bench/disk.sh).
for f in bios-256k.bin linuxboot_dma.bin pvh.bin kvmvapic.bin qboot.rom; do
    src=
    for d in /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu; do
        if [ -f "$d/$f" ]; then
            src=$d/$f
            break
        fi
    done
    [ -n "$src" ] || die "QEMU firmware $f not found (qemu-system-x86 / seabios packages)"
    cp -L "$src" "$extra/usr/share/qemu/$f"
done
ln -sf qboot.rom "$extra/usr/share/qemu/bios-microvm.bin"
kvmtool_why=
if [ ! -x "$lkvm" ]; then
    kvmtool_why="no lkvm at $lkvm: build one with bench/build-kvmtool.sh KVMTOOL_SOURCE_DIR, or set KVMTOOL=/path/to/lkvm"
    echo "SKIP: bench vm kvmtool: $kvmtool_why"
elif LC_ALL=C readelf -l "$lkvm" 2>/dev/null | grep 'Requesting program interpreter' >/dev/null; then
    root=$out/lkvm-root
    rm -rf "$root"
    mkdir -p "$root/bin"
    cp "$lkvm" "$root/bin/lkvm"
    PATH=$root/bin:$PATH "$here/copy-elf.sh" "$extra" lkvm
    rm -rf "$root"
else
    mkdir -p "$extra/usr/bin"
    cp "$lkvm" "$extra/usr/bin/lkvm"
fi
HOST_EXTRA=$extra "$harness/mkinitrd-host.sh" "$vmm" "$out/guest" "$out/host.cpio"
rm -rf "$extra"
t1=$(date +%s.%N)
echo "bench vm: images built in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s (L1 image $(($(stat -c %s "$out/host.cpio") / 1048576)) MiB)"

log=$out/serial.log
append="console=ttyS0 panic=-1 reboot=k harness.run=bench-vm harness.verbose=$verbose"
append="$append harness.timeout=$vm_limit bench.rounds=$rounds bench.parts=$parts"
[ -z "${BENCH_VM_VMMS:-}" ] || append="$append bench.vmms=$BENCH_VM_VMMS"
echo "bench vm: L1 = QEMU TCG, -cpu max,+svm,+npt, $smp vCPU(s), 2048M; $rounds rounds of $parts"
echo "bench vm: serial log: ${log#"$top"/}"
bench_l1
wall=$(awk "BEGIN { printf \"%.0f\", $end - $start }")

if [ "$verbose" = 0 ]; then
    grep -aE '^(harness: (L1|/dev/kvm|scenario)|bench-vm|BENCH-RUN .*status=failed|BENCH-PEER|PASS:|FAIL:|SKIP:|--- |\| )' "$log" || true
fi
failed=0
bench_l1_failed vm && failed=1

# Sizes: every binary stripped of symbols (a copy), as it would ship.
stripped() {
    local f=$out/size.tmp
    cp "$1" "$f"
    strip --strip-all "$f" 2>/dev/null || true
    stat -c %s "$f"
    rm -f "$f"
}
size_ours_dyn=$(stripped "$top/build/vmm")
size_ours=$(stripped "$vmm")
size_qemu=$(stripped "$(command -v qemu-system-x86_64)")
qemu_libs=$(ldd "$(command -v qemu-system-x86_64)" | awk '$3 ~ /^\// { print $3 }' | xargs -r stat -L -c %s | awk '{ s += $1 } END { print s + 0 }')
size_lkvm=
[ ! -x "$lkvm" ] || size_lkvm=$(stripped "$lkvm")
lkvm_version=$([ -x "$lkvm" ] && "$lkvm" version 2>/dev/null || true)

qemu_version=$(qemu-system-x86_64 --version | sed -n 1p | sed 's/^QEMU emulator version //')
dat=$out/distributions.dat
chart_title="vm benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $rounds rounds; nested under QEMU TCG, so compare the VMMs with each other only"
# no chart of an older run next to this run's table
rm -f "$dat" "$out/distributions.svg"
{
    echo "vm benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); L1 wall time ${wall} s; host load average $load_before before, $load_after after"
    echo "nested: L1 = QEMU $qemu_version TCG (emulated AMD-V), 1 vCPU; L2 kernel $KERNEL_VERSION; figures only mean something relative to each other"
    echo "ours: $(basename "$vmm"); QEMU: $qemu_version -accel kvm -cpu host -nodefaults (-M microvm: qboot; -M q35: SeaBIOS); kvmtool: ${lkvm_version:-not run}"
    [ -z "$kvmtool_why" ] || echo "kvmtool: SKIP: $kvmtool_why"
    grep '^BENCH-PEER ' "$log" | sed 's/^BENCH-PEER /peer: /' || true
    grep '^BENCH-RUN ' "$log" | awk -v peers="microvm q35 kvmtool" -v dat="$dat" -v title="$chart_title" '
        # The figures bench/chart.sh draws, a panel each: part, key, label as in the table.
        BEGIN {
            chart("startup", "first_ms", "start-up: fork to 1st exit, ms")
            chart("boot1", "init_ms", "boot 1 vCPU/128M: fork to init, ms")
            chart("boot2", "init_ms", "boot 2 vCPU/512M: fork to init, ms")
            chart("bootv1", "init_ms", "vmlinux 1 vCPU/128M: fork to init, ms")
            chart("exit-pio", "exits_per_s", "exit: out to port 0x80, per s")
            chart("exit-mmio", "exits_per_s", "exit: MMIO store (user space), per s")
            chart("exit-notify", "exits_per_s", "exit: virtio notify (ioeventfd), per s")
        }
        function chart(p, k, label) { nc++; cpart[nc] = p; ckey[nc] = k; clabel[nc] = label }
        # keep(counted): the values of this run for the chart; 0 marks a run left out as unequal work
        function keep(counted,    i, v) {
            for (i = 1; i <= nc; i++) {
                v = f[ckey[i]]
                if (cpart[i] == f["part"] && v != "" && v != "-")
                    pts[i] = pts[i] sprintf("%s %s %s %s %s %d\n", f["part"], ckey[i], f["vmm"], f["round"], v, counted)
            }
        }
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
            if (f["status"] != "ok") { failed[f["vmm"]] = failed[f["vmm"]] " " f["part"] "/" f["round"]; next }
            w = f["vmm"]; p = f["part"]
            # Equal work: a peer whose guest saw other CPUs, or memory more than 20% off
            # ours, booted something else; its run is left out and said so.
            if (w == "ours") {
                if ("cpus" in f) ref_cpus[p] = f["cpus"]
                if ("mem_kb" in f) ref_mem[p] = f["mem_kb"]
            } else if ((p in ref_cpus) && ("cpus" in f) && f["cpus"] != ref_cpus[p]) {
                unequal[w] = unequal[w] sprintf(" %s/%s saw %s CPUs (ours %s);", p, f["round"], f["cpus"], ref_cpus[p])
                left_out[p, w]++
                keep(0)
                next
            } else if ((p in ref_mem) && ("mem_kb" in f) && (f["mem_kb"] + 0 < 0.8 * ref_mem[p] || f["mem_kb"] + 0 > 1.25 * ref_mem[p])) {
                unequal[w] = unequal[w] sprintf(" %s/%s saw %s KiB (ours %s);", p, f["round"], f["mem_kb"], ref_mem[p])
                left_out[p, w]++
                keep(0)
                next
            }
            for (k in f) if (f[k] != "" && f[k] != "-") vals[p, k, w] = vals[p, k, w] " " f[k]
            n[p, w]++
            keep(1)
        }
        function line(label, p, k, fmt,    w, o, c, s, i, np, pl) {
            o = median(vals[p, k, "ours"])
            s = sprintf("%-34s %-26s", label, cell(vals[p, k, "ours"], fmt))
            np = split(peers, pl, " ")
            for (i = 1; i <= np; i++) {
                w = pl[i]
                c = cell(vals[p, k, w], fmt)
                if (c != "-" && o != "" && o + 0 > 0)
                    c = c sprintf(" %.2fx", median(vals[p, k, w]) / o)
                if (left_out[p, w])
                    c = (c == "-" ? "invalid" : c) sprintf(" (%d unequal)", left_out[p, w])
                s = s sprintf(" %-34s", c)
            }
            print s
        }
        END {
            printf "%-34s %-26s %-34s %-34s %-34s\n", "figure: median [min-max], peer/ours", "ours", "QEMU microvm", "QEMU q35", "kvmtool"
            line("start-up: fork to 1st exit, ms", "startup", "first_ms", "%.1f")
            line("  main() to 1st KVM_RUN, ms", "startup", "kvm_run_ms", "%.2f")
            line("  under strace: execve to KVM_RUN", "strace", "kvm_run_ms", "%.1f")
            line("boot 1 vCPU/128M: fork to init, ms", "boot1", "init_ms", "%.0f")
            line("  guest: kernel start to init, s", "boot1", "kernel_to_init_s", "%.2f")
            line("boot 2 vCPU/512M: fork to init, ms", "boot2", "init_ms", "%.0f")
            line("  guest: kernel start to init, s", "boot2", "kernel_to_init_s", "%.2f")
            line("vmlinux 1 vCPU/128M: fork-init, ms", "bootv1", "init_ms", "%.0f")
            line("  guest: kernel start to init, s", "bootv1", "kernel_to_init_s", "%.2f")
            line("memory vmlinux 1 vCPU/128M, KiB", "bootv1", "overhead_kb", "%.0f")
            line("memory 1 vCPU/128M: not guest, KiB", "boot1", "overhead_kb", "%.0f")
            line("memory 2 vCPU/512M: not guest, KiB", "boot2", "overhead_kb", "%.0f")
            line("KVM exits to init, 1 vCPU/128M", "boot1", "kvm_exits", "%.0f")
            line("  port I/O", "boot1", "kvm_io_exits", "%.0f")
            line("  MMIO handed to the VMM", "boot1", "kvm_mmio_exits", "%.0f")
            line("  HLT", "boot1", "kvm_halt_exits", "%.0f")
            line("  host interrupt", "boot1", "kvm_irq_exits", "%.0f")
            line("  interrupt window", "boot1", "kvm_irq_window_exits", "%.0f")
            line("  instruction emulated", "boot1", "kvm_insn_emulation", "%.0f")
            line("KVM exits to init, 2 vCPU/512M", "boot2", "kvm_exits", "%.0f")
            line("exit: out to port 0x80, per s", "exit-pio", "exits_per_s", "%.0f")
            line("exit: MMIO store (user space), /s", "exit-mmio", "exits_per_s", "%.0f")
            line("exit: virtio notify (ioeventfd), /s", "exit-notify", "exits_per_s", "%.0f")
            printf "(runs per figure: ours %d, QEMU microvm %d, q35 %d, kvmtool %d; a cell with no number: not run or failed)\n", n["startup", "ours"], n["startup", "microvm"], n["startup", "q35"], n["startup", "kvmtool"]
            for (w in failed) printf "failed runs, %s:%s\n", w, failed[w]
            for (w in unequal) printf "unequal work, left out of the figures, %s:%s\n", w, unequal[w]
            print "# every round of every VMM, from the BENCH-RUN lines of serial.log; bench/chart.sh draws it" >dat
            print "# title " title >dat
            print "# vmm ours ours\n# vmm microvm QEMU microvm\n# vmm q35 QEMU q35\n# vmm kvmtool kvmtool" >dat
            for (i = 1; i <= nc; i++) if (pts[i] != "") print "# panel " cpart[i] " " ckey[i] " " clabel[i] >dat
            print "# part key vmm round value counted (0: left out of the table as unequal work)" >dat
            for (i = 1; i <= nc; i++) printf "%s", pts[i] >dat
        }'
    printf '%-34s %-26s %-34s %-34s %-34s\n' "stripped binary, KiB" \
        "$((size_ours / 1024)) (static; dynamic $((size_ours_dyn / 1024)))" \
        "$((size_qemu / 1024)) + $((qemu_libs / 1024)) in $(ldd "$(command -v qemu-system-x86_64)" | grep -c '=> /') libraries" \
        "(same binary)" "${size_lkvm:+$((size_lkvm / 1024)) (static)}"
    printf 'lines of C (.c and .h, wc -l):'
    for d in vmm devices firmware virtio tests bench; do
        printf ' %s %s' "$d" "$(cd "$top" && git ls-files "$d/*.c" "$d/*.h" | xargs -r cat | wc -l)"
    done
    echo
    ours_phases=$(sed -n 's/^BENCH-RUN .*part=startup vmm=ours status=ok .*phases=\([^ ]*\).*/\1/p' "$log" | sed -n 1p)
    [ -z "$ours_phases" ] || echo "ours, start-up milestones of round 1 (ms after main()): $ours_phases"
    echo "profile (round 1 / one extra run):"
    grep -aE '^bench-vm: (strace|profile)|^bench-vm:   [0-9.]+ ms ' "$log" | sed 's/^bench-vm: /  /' || true
    echo "runs:"
    grep '^BENCH-RUN ' "$log" | sed 's/^BENCH-RUN /  /'
} >"$out/table.txt"
echo "bench vm: L1 wall time $wall s; table in ${out#"$top"/}/table.txt"
# A picture of the spread is a convenience: without gnuplot, or if it fails, the table stands.
if ! command -v gnuplot >/dev/null; then
    echo "bench vm: no chart: gnuplot missing (make deps installs gnuplot-nox)"
elif "$here/chart.sh" "$dat" "$out/distributions.svg"; then
    echo "bench vm: chart of every round in ${out#"$top"/}/distributions.svg"
else
    echo "bench vm: no chart: bench/chart.sh failed (see above)"
fi
echo
cat "$out/table.txt"
exit "$failed"
