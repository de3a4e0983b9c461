#!/usr/bin/env bash
# File system benchmark, host side: find, stat, git status and a sequential read in an
# L2 guest on a directory of L1 shared by our VMM's virtio-fs and, in the same L1 boot,
# by QEMU's virtio-9p, with the same workloads run directly in L1 on the same tree as
# the reference. See docs/performance.md for the method and the figures.
#
#   bench/fs.sh [-v]
#
# Builds (all under build/bench/fs/, its own lock; HARNESS_LOCK is honoured)
#   guest/fs.cpio  the L2 image: bench/guest-init/fs.sh as /init, fs-work.sh, the
#                  static fstree (make bench-tools), git with its libraries
#                  (bench/copy-elf.sh), the virtio-pci, virtiofs and 9p modules of
#                  Debian's generic kernel (the cloud kernel has no 9p), uncompressed
#   host.cpio      the usual harness L1 image plus bench/l1/fs.sh as
#                  /scenarios/bench-fs.sh, the generic kernel as /guest/fs/vmlinuz
#                  (linux-image-<version>-amd64 of the harness kernel's version,
#                  fetched and cached by tests/harness/kernel.sh), fstree, git, QEMU
#                  with its firmware
# then boots L1 (QEMU TCG, emulated AMD-V, $BENCH_FS_L1_MEMORY MiB) with
# harness.run=bench-fs and turns the BENCH-RUN lines of serial.log into table.txt: per
# workload and run (cold: right after drop_caches; warm: at once again) the median
# [min-max] in ms of the host (L1), ours (cache=auto, cache=always, cache=never) and QEMU
# 9p (default cache mode, cache=loose), the ratios 9p/ours (goal: 2 or more; each 9p mode
# against the nearest of ours) and ours/host (goal: 2 or less). Equal work: a run whose guest counted other files, bytes or lines than the
# host in that round is left out of the figures and named under the table.
# Exit status 0 when the host and our VMM gave numbers in every round, 1 otherwise.
#
# Env: BENCH_FS_ROUNDS (default 3), BENCH_FS_VMMS (which, in that order, of ours-auto,
#   ours-always, ours-never, 9p, 9p-loose; default all five), BENCH_FS_WORK (of
#   find,stat,git,dd; default all), BENCH_FS_DIRS x BENCH_FS_FILES (the tree; default
#   20 x 100: nested, QEMU's 9p takes 6 to 21 ms per entry of a find, so 500 x 100
#   would keep one 9p boot busy for most of an hour or more), BENCH_FS_REPO_DIRS (the
#   git checkout, x 100 files; default 10), BENCH_FS_BIG_MIB
#   (the file dd reads; default 256), BENCH_CPUS (L2 vCPUs, default 1), BENCH_MEMORY
#   (L2 MiB, default 512), BENCH_FS_L1_MEMORY (L1 MiB, default 3072), BENCH_VM_TIMEOUT
#   (seconds per VM run in L1, default 600), BENCH_TIMEOUT (seconds for all of L1,
#   default 3000), HARNESS_SMP (L1 vCPUs, default 1), VMM_STATIC (default
#   build/vmm-static).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
harness=$top/tests/harness
out=$top/build/bench/fs
# shellcheck source=bench/args.sh
. "$here/args.sh"
bench_args "$@"

rounds=${BENCH_FS_ROUNDS:-3}
vmms=${BENCH_FS_VMMS:-ours-auto,9p,ours-always,9p-loose,ours-never}
work=${BENCH_FS_WORK:-find,stat,git,dd}
dirs=${BENCH_FS_DIRS:-20}
files=${BENCH_FS_FILES:-100}
repo_dirs=${BENCH_FS_REPO_DIRS:-10}
big_mib=${BENCH_FS_BIG_MIB:-256}
cpus=${BENCH_CPUS:-1}
memory=${BENCH_MEMORY:-512}
l1_memory=${BENCH_FS_L1_MEMORY:-3072}
vm_limit=${BENCH_VM_TIMEOUT:-600}
total_limit=${BENCH_TIMEOUT:-3000}
smp=${HARNESS_SMP:-1}
vmm=${VMM_STATIC:-$top/build/vmm-static}
fstree=$top/build/bench/fstree

die() { echo "FAIL: bench fs: $*" >&2; exit 1; }
[ -x "$vmm" ] || die "$vmm missing: run make static"
[ -x "$fstree" ] || die "build/bench/fstree missing: run make bench-tools"
for tool in qemu-system-x86_64 git cpio ldd; do
    command -v "$tool" >/dev/null || die "$tool missing: run make deps"
done
for v in rounds dirs files repo_dirs big_mib cpus memory l1_memory; do
    case "${!v}" in
    '' | *[!0-9]*) echo "bench/fs.sh: $v must be a number, not '${!v}'" >&2; exit 2 ;;
    esac
done
# The tree, the big file and git's objects live in L1's RAM beside the L2 guest.
tmpfs_mib=$((dirs * files * 5 / 1024 + repo_dirs * 100 * 10 / 1024 + big_mib + 64))

# shellcheck source=../tests/harness/kernel.sh
. "$harness/kernel.sh" >/dev/null
# shellcheck source=l1.sh
. "$here/l1.sh"

mkdir -p "$out"
exec 9>"$out/.lock"
if ! flock -n 9; then
    echo "bench fs: waiting for another fs benchmark in this tree to finish..."
    flock -w 900 9 || die "build/bench/fs is locked by another run"
fi
# HARNESS_LOCK names a lock file shared by several checkouts on one machine, so their
# nested QEMU runs take turns instead of starving each other of cores (bench/run.sh
# may hold it already, for all benchmarks).
if [ -n "${HARNESS_LOCK:-}" ] && [ "${HARNESS_LOCK_HELD:-}" != "$HARNESS_LOCK" ]; then
    exec 7>"$HARNESS_LOCK"
    flock -n 7 || { echo "harness: waiting for $HARNESS_LOCK..."; flock -w 3600 7; }
fi

# Debian's generic kernel of the harness kernel's version: it has 9p (as modules),
# which the cloud kernel lacks, and virtiofs.
generic=linux-image-${KERNEL_VERSION%-cloud-amd64}-amd64
generic_env=$(KERNEL_PACKAGE=$generic "$harness/kernel.sh" 2>"$out/kernel.log") ||
    die "$generic could not be fetched: $(tail -n 1 "$out/kernel.log")"
generic_version=$(echo "$generic_env" | sed -n 's/^KERNEL_VERSION=//p')
generic_image=$(echo "$generic_env" | sed -n 's/^KERNEL_IMAGE=//p')
generic_modules=$(echo "$generic_env" | sed -n 's/^KERNEL_MODULES=//p')
[ -f "$generic_image" ] || die "no kernel image $generic_image"

t0=$(date +%s.%N)
rm -rf "$out/guest" "$out/fs-root" "$out/l1-extra"
mkdir -p "$out/guest" "$out/fs-root/lib/bench"
"$here/copy-elf.sh" "$out/fs-root" git
cp "$fstree" "$out/fs-root/usr/bin/fstree"
cp "$here/guest-init/fs-work.sh" "$out/fs-root/lib/bench/fs-work.sh"
KERNEL_MODULES=$generic_modules "$harness/mkinitrd-guest.sh" --extra "$out/fs-root" \
    --compress none "$here/guest-init/fs.sh" "$out/guest/fs.cpio"

extra=$out/l1-extra
mkdir -p "$extra/scenarios" "$extra/guest/fs" "$extra/lib/bench"
cp "$here/l1/fs.sh" "$extra/scenarios/bench-fs.sh"
cp "$generic_image" "$extra/guest/fs/vmlinuz"
cp -a "$out/fs-root/." "$extra/"
"$here/copy-qemu.sh" "$extra" || die "cannot copy QEMU into the L1 image"
HOST_EXTRA=$extra "$harness/mkinitrd-host.sh" "$vmm" "$out/guest" "$out/host.cpio"
rm -rf "$out/fs-root" "$extra"
t1=$(date +%s.%N)
echo "bench fs: images built in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s (L1 image $(($(stat -c %s "$out/host.cpio") / 1048576)) MiB, L2 image $(($(stat -c %s "$out/guest/fs.cpio") / 1048576)) MiB)"

log=$out/serial.log
append="console=ttyS0 panic=-1 reboot=k harness.run=bench-fs harness.verbose=$verbose"
append="$append harness.timeout=$vm_limit bench.rounds=$rounds bench.cpus=$cpus bench.memory=$memory"
append="$append bench.vmms=$vmms bench.work=$work bench.dirs=$dirs bench.files=$files"
append="$append bench.repo_dirs=$repo_dirs bench.big_mib=$big_mib bench.tmpfs_mib=$tmpfs_mib"
echo "bench fs: L1 = QEMU TCG, -cpu max,+svm,+npt, $smp vCPU(s), ${l1_memory}M; L2: $generic_version, $cpus vCPU(s), $memory MiB; $rounds rounds of host,$vmms; $work"
echo "bench fs: serial log: ${log#"$top"/}"
# shellcheck disable=SC2119 # no QEMU arguments beyond the usual
bench_l1
wall=$(awk "BEGIN { printf \"%.0f\", $end - $start }")

if [ "$verbose" = 0 ]; then
    grep -aE '^(harness: (L1|/dev/kvm|scenario)|bench-fs|BENCH-RUN .*status=failed|BENCH-PEER|PASS:|FAIL:|SKIP:|--- |\| )' "$log" || true
fi
failed=0
bench_l1_failed fs && failed=1

qemu_version=$(qemu-system-x86_64 --version | sed -n 1p | sed 's/^QEMU emulator version //')
{
    echo "fs benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); L1 wall time ${wall} s; host load average $load_before before, $load_after after"
    echo "nested: L1 = QEMU $qemu_version TCG (emulated AMD-V), $smp vCPU, $l1_memory MiB, kernel $KERNEL_VERSION, the tree on a tmpfs; L2 kernel $generic_version, $cpus vCPU(s), $memory MiB; figures only mean something relative to each other"
    echo "ours: $(basename "$vmm") --share DIR:TAG,cache=auto|always|never, mount -t virtiofs; 9p: QEMU -accel kvm -cpu host -M q35, virtio-9p-pci (-fsdev local,security_model=none), mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 (default cache mode; 9p-loose: cache=loose)"
    echo "workloads: find = busybox find over ${dirs}x${files} files; stat = fstree stat (lstat of each by full path, one process); git = git status --porcelain, ${repo_dirs}00 files; dd = dd bs=1M of ${big_mib} MiB to /dev/null; cold = just after drop_caches (the guest's, and L1's: a tmpfs keeps its pages), warm = at once again"
    grep '^bench-fs: tree built' "$log" | sed 's/^bench-fs: /L1 /' || true
    grep '^BENCH-PEER ' "$log" | sed 's/^BENCH-PEER /peer: /' || true
    grep '^BENCH-RUN ' "$log" | awk -v vmms="$vmms" -v work="$work" '
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
        function cell(list,    a, n, m) {
            n = sort(list, a)
            if (n == 0) return "-"
            m = median(list)
            return sprintf("%.0f [%.0f-%.0f]", m, a[1], a[n])
        }
        function ratio(a, b,    x, y) {
            x = median(a); y = median(b)
            if (x == "" || y == "" || y + 0 <= 0) return "-"
            return sprintf("%.2f", x / y)
        }
        BEGIN {
            nc = split("find_n stat_files stat_bytes git_files git_lines dd_mib", counts, " ")
        }
        {
            delete f
            for (i = 2; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); f[k] = v }
            w = f["vmm"]; r = f["round"]
            if (f["status"] != "ok") { failed[w] = failed[w] " " r; next }
            # Equal work: every count as the host counted it in the same round.
            if (w == "host") {
                for (i = 1; i <= nc; i++) ref[r, counts[i]] = f[counts[i]]
                if (!seen_ref++) {
                    s = ""
                    for (i = 1; i <= nc; i++) if (counts[i] in f) s = s " " counts[i] "=" f[counts[i]]
                    print "counts (host, round " r "):" s
                }
            } else {
                bad = ""
                for (i = 1; i <= nc; i++)
                    if ((counts[i] in f) && ((r, counts[i]) in ref) && f[counts[i]] != ref[r, counts[i]])
                        bad = bad sprintf(" %s=%s (host %s)", counts[i], f[counts[i]], ref[r, counts[i]])
                if (bad != "") { unequal[w] = unequal[w] " round " r ":" bad ";"; left[w]++; next }
            }
            for (k in f) if (k ~ /_ms$/) vals[k, w] = vals[k, w] " " f[k]
            n[w]++
        }
        END {
            nv = split("host," vmms, who, ",")
            head = sprintf("%-11s", "ms")
            for (i = 1; i <= nv; i++) head = head sprintf(" %-22s", who[i])
            # the ratios: each 9p mode against the cache mode of ours nearest to it, then
            # each of ours against the host; a pair whose peers did not run has no column
            np = 0
            npairs = split("9p/ours-auto 9p/ours-never 9p-loose/ours-always ours-auto/host ours-always/host ours-never/host", pairs, " ")
            for (i = 1; i <= npairs; i++) {
                split(pairs[i], pr, "/")
                if (("," vmms ",") ~ ("," pr[1] ",") && (pr[2] == "host" || ("," vmms ",") ~ ("," pr[2] ","))) {
                    np++; num[np] = pr[1]; den[np] = pr[2]
                    col[np] = pairs[i]; sub(/^ours-/, "", col[np]); sub(/\/ours-/, "/", col[np])
                    head = head sprintf("  %" length(col[np]) "s", col[np])
                }
            }
            print "median [min-max] of the rounds, ms; goals: 9p/ours >= 2, ours/host <= 2"
            print head
            nw = split(work, wl, ",")
            for (i = 1; i <= nw; i++) {
                for (ph = 1; ph <= 2; ph++) {
                    p = ph == 1 ? "cold" : "warm"
                    k = wl[i] "_" p "_ms"
                    s = sprintf("%-11s", wl[i] " " p)
                    for (j = 1; j <= nv; j++) s = s sprintf(" %-22s", cell(vals[k, who[j]]))
                    for (j = 1; j <= np; j++)
                        s = s sprintf("  %" length(col[j]) "s", ratio(vals[k, num[j]], vals[k, den[j]]))
                    print s
                }
            }
            s = "(rounds with numbers:"
            for (j = 1; j <= nv; j++) s = s sprintf(" %s %d", who[j], n[who[j]])
            print s ")"
            for (w in failed) printf "failed runs, %s: round%s\n", w, failed[w]
            for (w in unequal) printf "unequal work, left out of the figures, %s:%s\n", w, unequal[w]
        }'
    echo "ours, --stats of round 1 (cache=auto), at exit:"
    grep -a '^bench-fs: stats: ' "$log" | sed 's/^bench-fs: stats: /  /' || true
    echo "runs:"
    grep '^BENCH-RUN ' "$log" | sed 's/^BENCH-RUN /  /'
} >"$out/table.txt"
echo "bench fs: L1 wall time $wall s; table in ${out#"$top"/}/table.txt"
echo
cat "$out/table.txt"
exit "$failed"
