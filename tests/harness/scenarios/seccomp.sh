#!/bin/sh
# Scenario "seccomp" (runs inside L1): the per-thread seccomp lists and least
# privilege (docs/security.md), with the tiny flat guests from tests/guests.
#  - seccomp trap: the test build (/vmm-test, make static-test) runs
#    seccomp_trap.bin, whose write to port 0x441 makes its vCPU thread call
#    socket(); with the default --seccomp on the VMM must die of SIGSYS
#    (status 159) and name the call on stderr, before the guest prints again;
#  - seccomp disk write: the same build runs seccomp_write.bin with a disk, whose
#    write to port 0x441 makes its vCPU thread write() into the disk image: the
#    descriptor is the process's, but the vCPU's list names it only for the queue
#    threads' preadv/pwritev, so the VMM dies of SIGSYS naming write and the
#    image stays zero;
#  - seccomp log: the same with --seccomp log lives on to the guest's power-off;
#  - seccomp running: the normal VMM runs the spin guest on 2 vCPUs; while it
#    runs every thread has a filter, no-new-privs and no effective capability
#    (/proc/PID/task/*/status: Seccomp 2, NoNewPrivs 1, CapEff 0), the process
#    kept no capability (L1 starts it as root: CapEff, CapPrm, CapBnd all 0),
#    every descriptor it opened is close-on-exec (/proc/PID/fdinfo flags), and
#    SIGTERM still stops it with status 143;
#  - seccomp user switch: started as root with --user 1000:1000, the running
#    VMM has uid and gid 1000 (real, effective, saved, filesystem) and no
#    capabilities, and the guest runs;
#  - seccomp thread engine: a Linux guest (guest-init/stats-check.sh) writes
#    10 KiB to a virtio disk on 2 queues with VMM_DISK_ENGINE=thread, so the
#    queue threads do synchronous I/O under their lists;
#  - seccomp non-root: the normal VMM runs hello.bin as uid 1000, given
#    /dev/kvm through its group.
# Real Linux guests under the default --seccomp on: every other scenario.
# Env (set by host-init.sh): VMM VMM_TEST TINY_DIR GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_VERBOSE
. /lib/harness/scenario.sh # vmm_threads_check, as_kvm_user
dir=${TINY_DIR:-/tiny}
log=$LOG_DIR/seccomp
limit=60

show() { cat "$@" 2>/dev/null | tr -d '\r' | tail -n 20 | sed 's/^/    | /'; }
verbose() { [ "${HARNESS_VERBOSE:-0}" != 1 ] || show "$@"; }

# --- the forbidden call, on and log
vmm_test=${VMM_TEST:-/vmm-test}
if [ ! -x "$vmm_test" ]; then
    echo "SKIP: seccomp trap: no test build of the VMM (make static-test)"
    echo "SKIP: seccomp disk write: no test build of the VMM (make static-test)"
    echo "SKIP: seccomp log: no test build of the VMM (make static-test)"
else
    timeout -k 5 "$limit" "$vmm_test" --flat "$dir/seccomp_trap.bin" --memory 16M \
        </dev/null >"$log.trap.out" 2>"$log.trap.err"
    rc=$?
    verbose "$log.trap.out" "$log.trap.err"
    grep '^vmm: seccomp' "$log.trap.err"
    if [ "$rc" -ne 159 ]; then
        echo "FAIL: seccomp trap: exit status $rc, expected 159 (SIGSYS)"
        show "$log.trap.out" "$log.trap.err"
    elif ! grep -q '^vmm: seccomp: vCPU thread made forbidden system call socket (nr 41); stopping$' \
        "$log.trap.err"; then
        echo "FAIL: seccomp trap: no line naming socket on stderr"
        show "$log.trap.err"
    elif grep -q 'still running' "$log.trap.out" "$log.trap.err"; then
        echo "FAIL: seccomp trap: the call went through"
        show "$log.trap.out" "$log.trap.err"
    else
        echo "PASS: seccomp trap"
    fi

    # a descriptor the process holds but the vCPU's list does not name for write
    img=$log.write.img
    dd if=/dev/zero of="$img" bs=1024 count=64 2>/dev/null
    timeout -k 5 "$limit" "$vmm_test" --flat "$dir/seccomp_write.bin" --memory 16M \
        --disk "path=$img" </dev/null >"$log.write.out" 2>"$log.write.err"
    rc=$?
    verbose "$log.write.out" "$log.write.err"
    grep '^vmm: seccomp' "$log.write.err"
    if [ "$rc" -ne 159 ]; then
        echo "FAIL: seccomp disk write: exit status $rc, expected 159 (SIGSYS)"
        show "$log.write.out" "$log.write.err"
    elif ! grep -q '^vmm: seccomp: vCPU thread made forbidden system call write (nr 1); stopping$' \
        "$log.write.err"; then
        echo "FAIL: seccomp disk write: no line naming write on stderr"
        show "$log.write.err"
    elif grep -q 'still running' "$log.write.out" "$log.write.err" ||
        [ "$(tr -d '\0' <"$img" | wc -c)" -ne 0 ]; then
        echo "FAIL: seccomp disk write: the write went through"
        show "$log.write.out" "$log.write.err"
    else
        echo "PASS: seccomp disk write"
    fi
    rm -f "$img"

    timeout -k 5 "$limit" "$vmm_test" --flat "$dir/seccomp_trap.bin" --memory 16M \
        --seccomp log </dev/null >"$log.log.out" 2>"$log.log.err"
    rc=$?
    verbose "$log.log.out" "$log.log.err"
    if [ "$rc" -ne 0 ]; then
        echo "FAIL: seccomp log: exit status $rc, expected 0"
        show "$log.log.out" "$log.log.err"
    elif ! grep -q 'socket() returned [0-9]' "$log.log.err" ||
        ! grep -q 'seccomp_trap: still running' "$log.log.out"; then
        echo "FAIL: seccomp log: the call was not let through"
        show "$log.log.out" "$log.log.err"
    else
        echo "PASS: seccomp log"
    fi
fi

# --- a running VMM: filters, capabilities, descriptors
"$VMM" --flat "$dir/spin.bin" --memory 16M --cpus 2 </dev/null >"$log.spin.out" 2>"$log.spin.err" &
pid=$!
i=0
while [ $i -lt 300 ] && ! grep -q 'spin: ready' "$log.spin.out" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
why=
# every thread: CapEff 0, NoNewPrivs 1, Seccomp 2
vmm_threads_check $pid
why=$threads_bad
threads=$threads_checked
# main and two vCPU threads
[ "$threads" -ge 3 ] || why="$why; $threads threads (want 3: main and 2 vCPUs)"
for key in CapEff CapPrm CapInh CapBnd CapAmb; do
    v=$(sed -n "s/^$key:[[:space:]]*//p" /proc/$pid/status)
    case "$v" in
    '' | *[!0]*) why="$why; $key=${v:-missing}" ;;
    esac
    echo "seccomp: running VMM $key=$v"
done
nfds=0
for f in /proc/$pid/fdinfo/*; do
    n=${f##*/}
    [ "$n" -gt 2 ] || continue # stdin, stdout, stderr are inherited, not ours
    nfds=$((nfds + 1))
    flags=$(sed -n 's/^flags:[[:space:]]*//p' "$f")
    # flags is octal with a leading 0; O_CLOEXEC is 02000000
    if [ $((0$flags & 02000000)) -eq 0 ]; then
        why="$why; fd $n ($(readlink "/proc/$pid/fd/$n")) is not close-on-exec (flags $flags)"
    fi
done
echo "seccomp: running VMM: $threads threads, $nfds descriptors of its own"
kill -TERM $pid 2>/dev/null
wait $pid
rc=$?
[ "$rc" -eq 143 ] || why="$why; exit status $rc after SIGTERM (want 143)"
verbose "$log.spin.out" "$log.spin.err"
if [ -n "$why" ]; then
    echo "FAIL: seccomp running: ${why#; }"
    show "$log.spin.err"
else
    echo "PASS: seccomp running"
fi

# --- root, told to become uid 1000 once set-up is over
"$VMM" --flat "$dir/spin.bin" --memory 16M --user 1000:1000 </dev/null >"$log.su.out" 2>"$log.su.err" &
pid=$!
i=0
while [ $i -lt 300 ] && ! grep -q 'spin: ready' "$log.su.out" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
why=
# shellcheck disable=SC2046 # word splitting joins the two lines' fields
ids=$(echo $(sed -n 's/^[UG]id:[[:space:]]*//p' /proc/$pid/status))
echo "seccomp: VMM with --user 1000:1000: Uid/Gid $ids"
[ "$ids" = "1000 1000 1000 1000 1000 1000 1000 1000" ] || why="$why; Uid/Gid '$ids'"
for key in CapEff CapPrm CapBnd; do
    v=$(sed -n "s/^$key:[[:space:]]*//p" /proc/$pid/status)
    case "$v" in
    '' | *[!0]*) why="$why; $key=${v:-missing}" ;;
    esac
done
grep -q 'spin: ready' "$log.su.out" || why="$why; the guest never ran"
kill -TERM $pid 2>/dev/null
wait $pid
rc=$?
[ "$rc" -eq 143 ] || why="$why; exit status $rc after SIGTERM (want 143)"
verbose "$log.su.out" "$log.su.err"
if [ -n "$why" ]; then
    echo "FAIL: seccomp user switch: ${why#; }"
    show "$log.su.err"
else
    echo "PASS: seccomp user switch"
fi

# --- disk queue threads on the thread engine (the disk scenario runs io_uring)
img=$log.disk.img
dd if=/dev/zero of="$img" bs=1024 count=1024 2>/dev/null
VMM_DISK_ENGINE=thread timeout -k 5 120 "$VMM" --kernel "$GUEST_KERNEL" \
    --initrd "$GUEST_INITRD_DIR/stats-check.cpio.gz" \
    --cmdline "console=ttyS0 panic=-1 reboot=k quiet stats.mode=disk" \
    --cpus 2 --memory 256M --disk "path=$img,serial=stats" \
    </dev/null >"$log.disk.out" 2>"$log.disk.err"
rc=$?
tr -d '\r' <"$log.disk.out" >"$log.disk.txt"
verbose "$log.disk.txt" "$log.disk.err"
if [ "$rc" -ne 0 ]; then
    echo "FAIL: seccomp thread engine: exit status $rc, expected 0"
    show "$log.disk.txt" "$log.disk.err"
elif ! grep -q '^GUEST write=ok' "$log.disk.txt"; then
    echo "FAIL: seccomp thread engine: the guest's disk write failed"
    show "$log.disk.txt" "$log.disk.err"
elif [ "$(head -c 10240 "$img" | tr -d x | wc -c)" -ne 0 ]; then
    echo "FAIL: seccomp thread engine: the image does not hold the guest's 10 KiB"
    show "$log.disk.err"
else
    echo "PASS: seccomp thread engine"
fi
rm -f "$img"

# --- an ordinary user with access to /dev/kvm
as_kvm_user "id -u >&2; exec timeout -k 5 $limit $VMM --flat $dir/hello.bin --memory 16M" \
    </dev/null >"$log.user.out" 2>"$log.user.err"
verbose "$log.user.out" "$log.user.err"
uid=$(head -n 1 "$log.user.err")
if [ "$uid" != 1000 ]; then
    echo "FAIL: seccomp non-root: ran as uid '${uid}', expected 1000"
    show "$log.user.err"
elif [ "$rc" -ne 0 ]; then
    echo "FAIL: seccomp non-root: exit status $rc, expected 0"
    show "$log.user.out" "$log.user.err"
elif ! grep -q 'hello from a tiny guest' "$log.user.out"; then
    echo "FAIL: seccomp non-root: no greeting on the console"
    show "$log.user.out"
else
    echo "PASS: seccomp non-root"
fi
