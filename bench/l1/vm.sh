#!/bin/sh
# L1 half of the start-up, boot, memory and exit benchmarks (bench/vm.sh puts it in the
# L1 image as /scenarios/bench-vm.sh; tests/harness/host-init.sh runs it). Busybox sh.
#
# Every run goes through /bench/vmclock (bench/tools/vmclock.c): it forks the VMM, and
# times from just before the fork to the moment given bytes reach the VMM's console
# output. Per round, each VMM in turn (ours, QEMU -M microvm, QEMU -M q35, kvmtool when
# /usr/bin/lkvm is in the image):
#   (first, one start-up run of each VMM that is not counted: a warm-up)
#   startup   the start-up guest (bench/guests): its first instructions write 0x02 to
#             COM1; first_ms = fork to that byte. Ours also reports (--stats) when its
#             vCPU 0 entered KVM_RUN, in ms after main() began.
#   strace    the start-up guest again, under strace -f -ttt -T (when the image has
#             it): execve to the first KVM_RUN, in strace's timestamps (strace slows
#             every system call, so only a comparison); round 1 lists the slowest calls.
#   exit-*    the exit loops: 0x01, 10000 exits, 0x04 on COM1; rate = 10000 / time
#             between the two bytes. exit-pio: out to port 0x80; exit-mmio: a store with
#             no RAM behind it (ours: ECAM, the host bridge's vendor ID; QEMU: BIOS ROM at 0xf8000);
#             exit-notify (ours only): a virtio notify bound to an ioeventfd.
#   boot1, boot2  Debian's kernel + bench/guest-init/boot.sh with 1 vCPU/128 MiB and
#             2 vCPUs/512 MiB: init_ms = fork to the init's first byte (0x02, the
#             first thing /init writes to its console); then, 500 ms after init printed BENCH-READY, the VMM's
#             resident memory outside guest RAM (/proc/PID/smaps), then it is killed.
#             Each boot run also reads KVM's own exit counters for its VM (vmclock -x, in
#             debugfs) the moment BENCH-READY appears: kvm_exits=N, kvm_io_exits=N, ...
#   bootv1    boot1 with the uncompressed vmlinux (/guest/vmlinux) as the kernel: ours
#             loads its ELF segments, QEMU boots it through its PVH entry point
#             (microvm: qboot; q35: SeaBIOS and pvh.bin); kvmtool loads only bzImages.
# Each run prints
#   BENCH-RUN round=R part=P vmm=V status=ok|failed key=value...
# and at the end PASS: bench-vm, or FAIL: bench-vm: why (ours failed somewhere).
#   profile   (not per round, not timed) one boot1 of ours with --stats: exits by
#             reason and device from start to init's BENCH-READY, start-up milestones.
# L1 command line (bench/vm.sh sets it): bench.rounds=N bench.parts=startup,strace,exits,boot,vmlinux,profile
# Env (host-init.sh): VMM GUEST_KERNEL GUEST_VMLINUX GUEST_INITRD_DIR LOG_DIR HARNESS_TIMEOUT.
name=bench-vm
limit=${HARNESS_TIMEOUT:-120}
rounds=3 parts=startup,strace,exits,boot only=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    bench.rounds=*) rounds=${arg#bench.rounds=} ;;
    bench.parts=*) parts=${arg#bench.parts=} ;;
    bench.vmms=*) only=${arg#bench.vmms=} ;;
    esac
done
clock=/bench/vmclock
guests=/bench/guests
initrd=$GUEST_INITRD_DIR/boot.cpio.gz
qemu=/usr/bin/qemu-system-x86_64
lkvm=/usr/bin/lkvm
strace=/usr/bin/strace
loops=10000 # BENCH_LOOPS in bench/guests/bench.inc
cmdline="console=ttyS0 panic=-1 reboot=k quiet"
# kvmtool keeps its per-guest sockets under $HOME/.lkvm
export HOME=/tmp

[ -x "$clock" ] || { echo "FAIL: $name: no $clock in the L1 image"; exit 1; }
[ -f "$initrd" ] || { echo "FAIL: $name: no $initrd in the L1 image"; exit 1; }
echo "$name: L1: $(grep -c ^processor /proc/cpuinfo) vCPU(s), $(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB; $rounds rounds of: $parts"

vmms=ours
if [ -x "$qemu" ] && v=$("$qemu" --version 2>&1); then
    vmms="$vmms microvm q35"
    echo "$name: peer: $(echo "$v" | head -n1)"
else
    echo "BENCH-PEER qemu unavailable: $qemu missing or does not start"
fi
if [ -x "$lkvm" ] && v=$("$lkvm" version 2>&1); then
    vmms="$vmms kvmtool"
    echo "$name: peer: $v"
else
    echo "BENCH-PEER kvmtool unavailable: not in the L1 image (bench/build-kvmtool.sh SRC, or KVMTOOL=/path/to/lkvm)"
fi
# bench.vmms=LIST: only these VMMs, e.g. a peer alone in its own L1, so that whatever
# the nested layers do to that L1 happened with no VMM of ours in it
if [ -n "$only" ]; then
    keep=
    for v in $vmms; do
        case ",$only," in *,"$v",*) keep="$keep $v" ;; esac
    done
    vmms=${keep# }
    echo "$name: only $vmms (bench.vmms=$only)"
fi
dd if=/dev/zero of=/tmp/bench-disk.img bs=1M count=1 2>/dev/null
# KVM's per-VM exit counters, the same for every VMM: in debugfs, which L1 may not have
# mounted yet
kvm_stats=/sys/kernel/debug/kvm
[ -d "$kvm_stats" ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
count_exits=
if [ -d "$kvm_stats" ]; then
    count_exits="-x $kvm_stats"
else
    echo "BENCH-PEER exits per boot unavailable: no $kvm_stats in L1 (debugfs)"
fi

# qemu_args MACHINE MIB CPUS: what every QEMU run shares.
qemu_args() {
    echo "$qemu -L /usr/share/qemu -nodefaults -no-user-config -accel kvm -cpu host -M $1 -m $2 -smp $3 -display none -monitor none -serial stdio -no-reboot"
}

# vm_command VMM PART: the command line of one run, or nothing when VMM cannot run PART.
vm_command() {
    who=$1 part=$2
    case "$part" in
    startup | strace) ours="--flat $guests/startup.bin --memory 128M --stats" peer=$guests/peer-startup.bin ;;
    exit-pio) ours="--flat $guests/exit_pio.bin --memory 128M --stats" peer=$guests/peer-exit_pio.bin ;;
    exit-mmio) ours="--flat $guests/exit_mmio.bin --memory 128M --stats" peer=$guests/peer-exit_mmio.bin ;;
    exit-notify)
        ours="--flat $guests/exit_notify.bin --memory 128M --stats --disk path=/tmp/bench-disk.img"
        peer=
        ;;
    boot1) ours="--memory 128M --cpus 1" mem=128 cpus=1 kernel=$GUEST_KERNEL ;;
    boot2) ours="--memory 512M --cpus 2" mem=512 cpus=2 kernel=$GUEST_KERNEL ;;
    bootv1) ours="--memory 128M --cpus 1" mem=128 cpus=1 kernel=$GUEST_VMLINUX ;;
    esac
    case "$who:$part" in
    ours:boot*) echo "$VMM --kernel $kernel --initrd $initrd $ours" ;;
    ours:*) echo "$VMM $ours" ;;
    microvm:boot* | q35:boot*) echo "$(qemu_args "$who" "$mem" "$cpus") -kernel $kernel -initrd $initrd" ;;
    kvmtool:bootv*) ;;
    kvmtool:boot*) echo "$lkvm run --nodefaults --console serial -m $mem -c $cpus -k $kernel -i $initrd" ;;
    # kvmtool has RAM below 1 MiB and microvm's BIOS window takes stores without an
    # exit (measured: ~1000 times the exit rate): real mode reaches no MMIO of theirs
    kvmtool:exit-mmio | microvm:exit-mmio) ;;
    microvm:* | q35:*) [ -z "$peer" ] || echo "$(qemu_args "$who" 128 1) -bios $peer" ;;
    kvmtool:*) [ -z "$peer" ] || echo "$lkvm run --nodefaults --console serial -m 128 -c 1 -k $peer" ;;
    esac
}

# run ROUND PART VMM: one run under vmclock; prints BENCH-RUN. Returns 1 if it failed.
run() {
    r=$1 part=$2 who=$3
    cmd=$(vm_command "$who" "$part")
    [ -n "$cmd" ] || return 0
    log=$LOG_DIR/$name-$part-$who-$r
    ms=$((limit * 1000))
    case "$part" in
    strace)
        # shellcheck disable=SC2086
        "$clock" -t "$ms" -k -p "first=$(printf '\002')" -o "$log.out" -e "$log.err" -- \
            "$strace" -f -ttt -T -o "$log.strace" $cmd >"$log.clock"
        ;;
    startup)
        # ours powers off by itself (so --stats prints); the peers' guests halt
        kill=-k
        [ "$who" = ours ] && kill=
        # shellcheck disable=SC2086 # cmd is a word list
        "$clock" -t "$ms" $kill -p "first=$(printf '\002')" -o "$log.out" -e "$log.err" -- $cmd >"$log.clock"
        ;;
    exit-*)
        kill=-k
        [ "$who" = ours ] && kill=
        # shellcheck disable=SC2086
        "$clock" -t "$ms" $kill -p "start=$(printf '\001')" -p "end=$(printf '\004')" \
            -o "$log.out" -e "$log.err" -- $cmd >"$log.clock"
        ;;
    boot*)
        # the command line has spaces: pass it as one argument, after the rest
        mem=128
        [ "$part" = boot2 ] && mem=512
        case "$who" in
        ours) flag=--cmdline ;;
        kvmtool) flag=-p ;;
        *) flag=-append ;;
        esac
        # shellcheck disable=SC2086
        "$clock" -t "$ms" -k -w 500 -m "$mem" $count_exits -p "init=$(printf '\002')" \
            -p ready=BENCH-READY -o "$log.out" -e "$log.err" -- $cmd "$flag" "$cmdline" >"$log.clock"
        ;;
    esac
    rc=$?
    v() { sed -n "s/^$1=//p" "$log.clock" | head -n1; }
    status=ok
    [ "$rc" = 0 ] || status=failed
    extra=
    case "$part" in
    startup)
        extra="first_ms=$(v first)"
        if [ "$who" = ours ]; then
            extra="$extra kvm_run_ms=$(sed -n 's/.*first KVM_RUN \([0-9.]*\).*/\1/p' "$log.err" | head -n1)"
            extra="$extra phases=$(sed -n 's/^start-up, ms after the VMM started: //p' "$log.err" | tr -d ' ' | head -n1)"
        fi
        ;;
    strace)
        # execve to the first KVM_RUN entered, in strace's own timestamps
        extra=$(awk '{ t = ($1 ~ /^[0-9]+$/) ? $2 : $1 }
            !t0 && /execve\(/ { t0 = t }
            !run && /KVM_RUN/ { run = t }
            END { if (t0 && run) printf "kvm_run_ms=%.2f", (run - t0) * 1000 }' "$log.strace")
        if [ "$r" = 1 ]; then
            echo "$name: strace $who: $(grep -c . "$log.strace") syscalls to the first exit; the slowest:"
            awk '{ if (match($0, /<[0-9.]+>$/)) { d = substr($0, RSTART + 1, RLENGTH - 2); c = $0; sub(/^[0-9]+ +/, "", c); sub(/^[0-9.]+ /, "", c); printf "%.2f ms %s\n", d * 1000, substr(c, 1, 90) } }' "$log.strace" |
                sort -rn | head -n 8 | sed "s/^/$name:   /"
        fi
        ;;
    exit-*)
        s=$(v start) e=$(v end)
        if [ -n "$s" ] && [ -n "$e" ]; then
            extra="loop_ms=$(awk "BEGIN { printf \"%.3f\", $e - $s }") exits_per_s=$(awk "BEGIN { d = $e - $s; printf \"%.0f\", (d > 0 ? $loops * 1000 / d : 0) }")"
        fi
        if [ "$who" = ours ]; then
            extra="$extra vmm_exits=$(sed -n 's/^vmm: exit statistics: \([0-9]*\) exits.*/\1/p' "$log.err" | head -n1)"
            [ "$part" != exit-notify ] ||
                extra="$extra kicks=$(awk '/^  virtio-blk0/ { print $3; exit }' "$log.err")"
        fi
        ;;
    boot*)
        # not anchored: the guest's 0x02 byte starts the line
        g=$(tr -d '\r' <"$log.out" | sed -n 's/.*BENCH-GUEST //p' | head -n1)
        extra="init_ms=$(v init) overhead_kb=$(v overhead_kb) rss_kb=$(v rss_kb) guest_kb=$(v guest_kb) $g"
        extra="$extra $(grep -E '^kvm_[a-z_]+=[0-9]+$' "$log.clock" | tr '\n' ' ')"
        [ "$r" != 1 ] || sed -n "s/^kvm_error=/$name: $part $who: no exit counts: /p" "$log.clock"
        [ "$who" != ours ] ||
            extra="$extra marker_ms=$(sed -n 's/^vmm: boot marker 0x01 at \([0-9.]*\) ms/\1/p' "$log.err" | head -n1)"
        [ "$r" != 1 ] || sed -n 's/^big_map=/  big mapping: /p' "$log.clock" | sed "s/^/$name: $part $who:/"
        ;;
    esac
    echo "BENCH-RUN round=$r part=$part vmm=$who status=$status $extra"
    if [ "$status" != ok ]; then
        echo "--- $part $who round $r: vmclock said: $(tr '\n' ' ' <"$log.clock")"
        echo "--- last lines of its console and stderr:"
        tail -n 15 "$log.out" | tr -d '\r' | cat -v | sed 's/^/| /'
        tail -n 15 "$log.err" | cat -v | sed 's/^/| stderr: /'
        return 1
    fi
    return 0
}

# One unmeasured run of each VMM first: the first start in a fresh L1 pays for cold
# caches (measured: ours 283 ms against 20 to 70 ms for the next four).
for who in $vmms; do
    run 0 startup "$who" >/dev/null
done

# Where our VMM spends a boot: one more boot1 run with --stats, stopped with SIGTERM
# once init is ready (the statistics print on the way out). Not timed from outside.
profile_boot() {
    p=$LOG_DIR/$name-profile
    timeout -k 5 "$limit" "$VMM" --kernel "$GUEST_KERNEL" --initrd "$initrd" --memory 128M --cpus 1 --stats \
        --cmdline "$cmdline" >"$p.out" 2>"$p.err" </dev/null &
    pid=$!
    i=0
    while ! grep -q BENCH-READY "$p.out" 2>/dev/null && [ "$i" -lt $((limit * 5)) ]; do
        sleep 0.2
        i=$((i + 1))
    done
    kill -TERM "$pid"
    wait "$pid"
    echo "$name: profile: ours, boot1 with --stats, stopped with SIGTERM once init was ready (status $?):"
    sed -n '/^vmm: exit statistics/,$p' "$p.err" | sed "s/^/$name: profile: /"
}

failed=
list=
for p in $(echo "$parts" | tr ',' ' '); do
    case "$p" in
    startup) list="$list startup" ;;
    strace) [ -x "$strace" ] && list="$list strace" ;;
    exits) list="$list exit-pio exit-mmio exit-notify" ;;
    boot) list="$list boot1 boot2" ;;
    vmlinux)
        if [ -f "$GUEST_VMLINUX" ]; then
            list="$list bootv1"
        else
            echo "BENCH-PEER vmlinux part skipped: no $GUEST_VMLINUX in the L1 image"
        fi
        ;;
    profile) profile_boot ;;
    *) echo "FAIL: $name: unknown part $p"; exit 1 ;;
    esac
done
r=1
while [ "$r" -le "$rounds" ]; do
    for part in $list; do
        for who in $vmms; do
            if ! run "$r" "$part" "$who" && [ "$who" = ours ]; then
                failed="$failed $part/$r"
            fi
        done
    done
    r=$((r + 1))
done
if [ -n "$failed" ]; then
    echo "FAIL: $name: our VMM failed in:$failed"
    exit 1
fi
echo "PASS: $name"
