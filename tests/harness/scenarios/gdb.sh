#!/bin/sh
# Scenario "gdb" (runs inside L1): --gdb with Debian's gdb (gdb-minimal) in batch mode
# against the Debian kernel, booted with nokaslr. L1 runs the same kernel, also without
# KASLR, so L1's /proc/kallsyms gives the guest's addresses (Debian's System.map is a
# placeholder). The guest (gdb-check) boots, says it is ready and waits 8 s before it
# powers off. gdb attaches then (the VM stops): both vCPUs are threads, linux_banner reads
# "Linux version", a step moves RIP, and after detach the guest powers off (status 0).
# Breakpoints are not tested here: in this harness an int3 in L2 went to the guest's own
# handler instead of exiting to L1's KVM (KVM_GUESTDBG_USE_SW_BP), and a debug-register
# breakpoint did not fire; the tiny guests (tests/guests/run-gdb.sh) test them on this
# host's KVM, and docs/harness.md says what is known.
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT (seconds, default 120) HARNESS_VERBOSE (1: print full logs)
. /lib/harness/scenario.sh
name=gdb
limit=${HARNESS_TIMEOUT:-120}
if ! command -v gdb >/dev/null; then
    echo "SKIP: $name: no gdb in L1 (the harness copies gdb-minimal, see tests/harness/gdb-minimal.sh)"
    exit 0
fi
sym() { awk -v s="$1" '$3 == s { print $1 }' /proc/kallsyms; }
banner=$(sym linux_banner)
if [ -z "$banner" ] || [ "$banner" = 0000000000000000 ]; then
    echo "FAIL: $name: L1's /proc/kallsyms has no address for linux_banner"
    exit 1
fi
echo "$name: linux_banner at 0x$banner (L1's kallsyms)"
# a unix socket: L1 has no network, not even loopback (TCP is tests/guests/run-gdb.sh's)
sock=/tmp/gdb.sock
rm -f "$sock"
vmm_start "$name" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD_DIR/gdb-check.cpio.gz" \
    --cmdline "console=ttyS0 panic=-1 reboot=k nokaslr" --cpus 2 --memory 256M \
    --gdb "unix:$sock"
if ! console_wait '^GUEST ready' "$limit"; then
    why="; the guest never said it was ready"
fi
gdbout=$LOG_DIR/$name.gdb
timeout "$limit" gdb -nx -batch -ex 'set architecture i386:x86-64' -ex 'set remotetimeout 20' \
    -ex "target remote $sock" -ex 'info threads' -ex "x/s 0x$banner" \
    -ex 'p/x $rip' -ex stepi -ex 'p/x $rip' -ex detach >"$gdbout" 2>&1
grc=$?
vmm_wait "$limit"
sed 's/^/gdb| /' "$gdbout"
grep -E '^vmm: ' "$err"
check '[ $grc -eq 0 ]' "gdb exited with status $grc"
check 'grep -q "^\* 1 .*Thread 1 " "$gdbout" && grep -q "^  2 .*Thread 2 " "$gdbout"' \
    "the two vCPUs are not threads 1 and 2"
check 'grep -q "0x$banner.*Linux version" "$gdbout"' "linux_banner did not read 'Linux version'"
rip1=$(sed -n 's/^\$1 = //p' "$gdbout")
rip2=$(sed -n 's/^\$2 = //p' "$gdbout")
check '[ -n "$rip1" ] && [ -n "$rip2" ] && [ "$rip1" != "$rip2" ]' "stepi did not move RIP ($rip1, $rip2)"
check '[ "$timed_out" = 0 ] && [ "$rc" -eq 0 ]' "the VMM ended with status $rc, expected a power-off (0)"
check '! grep -qiE "oops|BUG:|int3|general protection" "$out.txt"' "the guest's kernel complained"
check 'grep -q "^GUEST powering off" "$out.txt"' "the guest did not reach its power-off"
finish "$name" "attached to a running guest, two vCPU threads, linux_banner read, a step from $rip1 to $rip2, detach, power-off"
