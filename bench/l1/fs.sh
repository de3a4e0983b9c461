#!/bin/sh
# L1 half of the file system benchmark (bench/fs.sh puts it in the L1 image as
# /scenarios/bench-fs.sh; tests/harness/host-init.sh runs it). Busybox sh.
#
# On a tmpfs of its own at /bench-fs it builds, once, with fstree and git:
#   tree/   bench.dirs directories of bench.files small files (fstree make)
#   repo/   a git checkout of bench.repo_dirs x 100 files, committed
#           (core.checkStat=minimal, core.trustctime=false: the index's stat data
#           holds for every viewer, L1 and each guest, so no run re-hashes a file)
#   big     a file of bench.big_mib MiB (fstree big)
# then, for bench.rounds rounds, interleaved: the workloads of
# bench/guest-init/fs-work.sh (/lib/bench/fs-work.sh) run right here on /bench-fs
# ("host", the reference), then the L2 guest (/guest/initrd/fs.cpio on Debian's
# generic kernel /guest/fs/vmlinuz) runs them on the same directory shared as
#   ours-auto    /vmm ... --share /bench-fs:benchfs,cache=auto     mount -t virtiofs
#   ours-always  /vmm ... --share /bench-fs:benchfs,cache=always   mount -t virtiofs
#   ours-never   /vmm ... --share /bench-fs:benchfs,cache=never    mount -t virtiofs
#   9p           qemu-system-x86_64 -accel kvm -cpu host -M q35 ... -fsdev
#                local,path=/bench-fs,security_model=none -device virtio-9p-pci:
#                mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000
#                (the kernel's default cache mode)
#   9p-loose     the same with cache=loose
# (bench.vmms picks and orders them), each with the same kernel, vCPUs and memory.
# For each run it prints
#   BENCH-RUN round=R vmm=NAME status=ok|failed secs=S KEY=VALUE...
# with the guest's BENCH figures (fs-work.sh), and at the end "PASS: bench-fs" (the
# host and our VMM gave numbers in every round) or "FAIL: bench-fs: why". A QEMU that
# does not start says "BENCH-PEER unavailable: why" and the rounds go on without it.
# Our VMM's --stats of round 1 (cache=auto) are printed, as "bench-fs: stats: ...".
# L1 command line (bench/fs.sh sets it): bench.rounds=N bench.cpus=N bench.memory=MiB
#   bench.vmms=LIST bench.work=LIST bench.dirs=N bench.files=N bench.repo_dirs=N
#   bench.big_mib=N bench.tmpfs_mib=N
# Env (host-init.sh): VMM LOG_DIR HARNESS_TIMEOUT (seconds per VM run) HARNESS_VERBOSE.
name=bench-fs
limit=${HARNESS_TIMEOUT:-600}
rounds=3 cpus=1 memory=512 vmms=ours-auto,9p,ours-always,9p-loose,ours-never work=find,stat,git,dd
dirs=20 files=100 repo_dirs=10 big_mib=256 tmpfs_mib=1024
# shellcheck disable=SC2013 # the command line is words
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    bench.rounds=*) rounds=${arg#bench.rounds=} ;;
    bench.cpus=*) cpus=${arg#bench.cpus=} ;;
    bench.memory=*) memory=${arg#bench.memory=} ;;
    bench.vmms=*) vmms=$(echo "${arg#bench.vmms=}" | tr ',' ' ') ;;
    bench.work=*) work=${arg#bench.work=} ;;
    bench.dirs=*) dirs=${arg#bench.dirs=} ;;
    bench.files=*) files=${arg#bench.files=} ;;
    bench.repo_dirs=*) repo_dirs=${arg#bench.repo_dirs=} ;;
    bench.big_mib=*) big_mib=${arg#bench.big_mib=} ;;
    bench.tmpfs_mib=*) tmpfs_mib=${arg#bench.tmpfs_mib=} ;;
    esac
done
vmms=$(echo "$vmms" | tr ',' ' ')
kernel=/guest/fs/vmlinuz
# host-init.sh wraps /vmm in a watcher of its privileges that wakes every second; the
# benchmark runs the binary itself, as it runs QEMU
vmm=$VMM
[ ! -x "/lib/harness/real$VMM" ] || vmm=/lib/harness/real$VMM
initrd=$GUEST_INITRD_DIR/fs.cpio
qemu=/usr/bin/qemu-system-x86_64
firmware=/usr/share/qemu
root=/bench-fs
tag=benchfs
cmdline="console=ttyS0 panic=-1 reboot=k quiet bench.tag=$tag bench.work=$work"
export HOME=/tmp TMPDIR=/tmp

[ -f "$kernel" ] || { echo "FAIL: $name: no generic kernel $kernel in the L1 image"; exit 1; }
[ -f "$initrd" ] || { echo "FAIL: $name: no $initrd in the L1 image"; exit 1; }
command -v fstree >/dev/null || { echo "FAIL: $name: no fstree in the L1 image"; exit 1; }

# The tree. Not timed as part of any figure.
t0=$(cut -d' ' -f1 /proc/uptime)
mkdir -p "$root"
mount -t tmpfs -o "size=${tmpfs_mib}m" tmpfs "$root" || { echo "FAIL: $name: cannot mount a tmpfs on $root"; exit 1; }
cleanup() { cd / && umount "$root" 2>/dev/null; }
if ! fstree make "$root/tree" "$dirs" "$files" || ! fstree make "$root/repo" "$repo_dirs" 100 ||
    ! fstree big "$root/big" "$big_mib"; then
    echo "FAIL: $name: cannot build the tree on $root"
    cleanup
    exit 1
fi
# The index must be written later than the files' mtime second, or git would call each
# file "racily clean" and read it again on every status.
sleep 2
if ! (cd "$root/repo" && git init -q && git config core.checkStat minimal &&
    git config core.trustctime false && git add -A &&
    git -c user.name=bench -c user.email=bench@localhost commit -q -m tree &&
    git update-index -q --refresh) >/tmp/bench-fs-git.log 2>&1; then
    echo "FAIL: $name: cannot commit $root/repo: $(tail -n 3 /tmp/bench-fs-git.log | tr '\n' ' ')"
    cleanup
    exit 1
fi
t1=$(cut -d' ' -f1 /proc/uptime)
echo "$name: tree built in $(awk "BEGIN { printf \"%.0f\", $t1 - $t0 }") s: $(df -m "$root" | awk 'NR == 2 { print $3 }') MiB of tmpfs, $(fstree stat "$root/tree"); repo $(git -C "$root/repo" ls-files | wc -l) files; big $(($(stat -c %s "$root/big") / 1048576)) MiB"
echo "$name: L1: $(grep -c ^processor /proc/cpuinfo) vCPU(s), $(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB ($(awk '/^MemAvailable/ { print int($2 / 1024) }' /proc/meminfo) available), kernel $(uname -r); L2: $cpus vCPU(s), ${memory} MiB; $rounds rounds of host $vmms; workloads $work"

peer_why=
case " $vmms " in
*" 9p"*)
    if [ ! -x "$qemu" ]; then
        peer_why="no $qemu in the L1 image"
    elif ! v=$("$qemu" --version 2>&1); then
        peer_why="$qemu does not start: $(echo "$v" | head -n2 | tr '\n' ' ')"
    else
        echo "$name: peer: $(echo "$v" | head -n1), -M q35, virtio-9p-pci"
    fi
    ;;
esac

# figures FILE: the BENCH key=number lines of FILE as one line of key=value
figures() {
    sed -n 's/^BENCH \([a-z_]*=[0-9][0-9.]*\)$/\1/p' "$1" | grep -v '^done=' | tr '\n' ' '
}

# report ROUND WHO RC SECS CONSOLE ERR: prints BENCH-RUN; returns 0 when it gave numbers
report() {
    r=$1 who=$2 rc=$3 secs=$4 con=$5 err=$6
    why=
    [ "$rc" = 0 ] || why="$why; exit status $rc$([ "$rc" = 124 ] && echo " (timed out after ${limit}s)")"
    grep -q '^BENCH done=1' "$con" || why="$why; the workloads did not finish"
    for w in $(echo "$work" | tr ',' ' '); do
        grep -q "^BENCH ${w}_warm_ms=" "$con" || why="$why; no $w figure"
    done
    errs=$(sed -n 's/^BENCH error=//p' "$con" | tr '\n' ';')
    [ -z "$errs" ] || why="$why; $errs"
    status=ok
    [ -z "$why" ] || status=failed
    if [ "$r" = 1 ] || [ "$status" != ok ] || [ "${HARNESS_VERBOSE:-0}" = 1 ]; then
        grep -E '^BENCH (mount|kernel)=' "$con" | sed "s/^BENCH /$name-$who-$r: /"
    fi
    echo "BENCH-RUN round=$r vmm=$who status=$status secs=$secs $(figures "$con")"
    if [ "$status" != ok ]; then
        echo "$name-$who-$r: ${why#; }"
        echo "--- $name-$who-$r: last 30 lines of the console"
        tail -n 30 "$con" | sed 's/^/| /'
        if [ -n "$err" ]; then
            echo "--- $name-$who-$r: last 20 lines of stderr"
            tail -n 20 "$err" | sed 's/^/| /'
        fi
        return 1
    fi
    return 0
}

# run_host ROUND: the workloads in L1 itself, on the tree
run_host() {
    out=$LOG_DIR/$name-host-$1.out
    a=$(cut -d' ' -f1 /proc/uptime)
    (
        # shellcheck source=../guest-init/fs-work.sh
        . /lib/bench/fs-work.sh
        echo "BENCH mount=$(grep " $root " /proc/mounts)"
        echo "BENCH kernel=$(uname -r)"
        fs_work "$root" "$work"
        echo "BENCH done=1"
    ) >"$out" 2>&1
    b=$(cut -d' ' -f1 /proc/uptime)
    report "$1" host 0 "$(awk "BEGIN { printf \"%.1f\", $b - $a }")" "$out" ""
}

# run_vm ROUND WHO: one boot of the guest under WHO
run_vm() {
    r=$1 who=$2
    run=$name-$who-$r
    con=$LOG_DIR/$run.console
    err=$LOG_DIR/$run.err
    stats=
    a=$(cut -d' ' -f1 /proc/uptime)
    case "$who" in
    ours-*)
        [ "$who-$r" != ours-auto-1 ] || stats=--stats
        timeout -k 5 "$limit" "$vmm" --kernel "$kernel" --initrd "$initrd" \
            --cmdline "$cmdline bench.fs=virtiofs" --cpus "$cpus" --memory "${memory}M" \
            --share "$root:$tag,cache=${who#ours-}" $stats >"$con.raw" 2>"$err" </dev/null
        rc=$?
        ;;
    9p*)
        p9=
        [ "$who" = 9p ] || p9=${who#9p-}
        timeout -k 5 "$limit" "$qemu" -L "$firmware" -nodefaults -no-user-config \
            -accel kvm -cpu host -M q35 -m "$memory" -smp "$cpus" \
            -display none -monitor none -serial "file:$con.raw" -no-reboot \
            -kernel "$kernel" -initrd "$initrd" -append "$cmdline bench.fs=9p${p9:+ bench.p9cache=$p9}" \
            -fsdev "local,id=fs0,path=$root,security_model=none" \
            -device "virtio-9p-pci,fsdev=fs0,mount_tag=$tag,disable-legacy=on,disable-modern=off" \
            >"$err" 2>&1 </dev/null
        rc=$?
        ;;
    esac
    b=$(cut -d' ' -f1 /proc/uptime)
    tr -d '\r' <"$con.raw" >"$con"
    report "$r" "$who" "$rc" "$(awk "BEGIN { printf \"%.1f\", $b - $a }")" "$con" "$err"
    ok=$?
    [ -z "$stats" ] || grep -v '^$' "$err" | sed "s/^/$name: stats: /"
    if [ "${HARNESS_VERBOSE:-0}" = 1 ]; then
        sed 's/^/| /' "$con"
        sed 's/^/| stderr: /' "$err"
    fi
    return "$ok"
}

failed=
r=1
while [ "$r" -le "$rounds" ]; do
    run_host "$r" || failed="$failed host in round $r;"
    for who in $vmms; do
        case "$who" in
        ours-auto | ours-always | ours-never)
            run_vm "$r" "$who" || failed="$failed $who in round $r;"
            ;;
        9p | 9p-loose | 9p-mmap | 9p-fscache)
            [ -z "$peer_why" ] || continue
            if ! run_vm "$r" "$who" && [ "$r" = 1 ]; then
                peer_why="QEMU failed in round 1 (log above)"
            fi
            ;;
        *) echo "$name: unknown VMM $who (ours-auto, ours-always, ours-never, 9p, 9p-loose, 9p-mmap, 9p-fscache)" ;;
        esac
    done
    r=$((r + 1))
done
[ -z "$peer_why" ] || echo "BENCH-PEER unavailable: $peer_why"
cleanup
if [ -n "$failed" ]; then
    echo "FAIL: $name: no numbers from${failed%;}"
    exit 1
fi
echo "PASS: $name"
