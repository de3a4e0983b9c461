#!/bin/sh
# Scenario "sigterm" (runs inside L1): SIGTERM to the VMM while the guest
# writes, once per disk engine (VMM_DISK_ENGINE=io_uring, which forbids the
# fallback, and =thread). The disk-writer guest (writer.mode=flush) writes
# numbered 64 KiB records to a 64 MiB image in L1's /tmp, flushing each and
# then printing "flushed N", with O_DIRECT writes going on beside them. Once
# it has printed "flushed 6", L1 sends SIGTERM to the VMM; in the io_uring run
# it first starts a second VMM on the same image, which must be refused
# ("sigterm second writer": exit 2, one line naming the image).
# "sigterm io_uring" and "sigterm thread" pass when the VMM said it was
# stopping on the signal and exited 143 within 30 s, and every record up to
# the last "flushed N" on the console is in the image, intact.
# The image lives in L1's page cache: this shows the VMM completes no request
# before its data reached the host file and drops nothing on the way out, not
# that the host's fdatasync reached stable storage.
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT HARNESS_VERBOSE
. /lib/harness/scenario.sh
name=sigterm
# the whole VMM limit: a loaded host took the guest 35 s to its init and over 60 s to
# its sixth record, and the wait ends as soon as the line is there
limit=${HARNESS_TIMEOUT:-120}
img=/tmp/$name.img
failed=0

for engine in io_uring thread; do
    token=$(rand_token)
    rm -f "$img"
    truncate -s 64M "$img"
    export VMM_DISK_ENGINE="$engine"
    vmm_start "$name-$engine" --kernel "$GUEST_KERNEL" \
        --initrd "$GUEST_INITRD_DIR/disk-writer.cpio.gz" \
        --cmdline "console=ttyS0 panic=-1 reboot=k writer.mode=flush writer.serial=rec writer.token=$token" \
        --cpus 1 --memory 256M --disk "path=$img,serial=rec"
    unset VMM_DISK_ENGINE
    sent=
    if console_wait '^flushed 6' "$limit"; then
        if [ "$engine" = io_uring ]; then
            vmm_refused "$name-second" --kernel "$GUEST_KERNEL" \
                --initrd "$GUEST_INITRD_DIR/disk-writer.cpio.gz" --memory 256M --disk "path=$img"
            why=
            check '[ "$rc" = 2 ]' "exit status $rc (want 2)"
            check '[ "$(echo "$refusal" | wc -l)" = 1 ]' "$(echo "$refusal" | wc -l) lines on stderr (want 1)"
            check 'echo "$refusal" | grep -qF "$img is in use"' "the refusal does not say $img is in use"
            if [ -n "$why" ]; then
                echo "FAIL: $name second writer: ${why#; }"
                failed=1
            else
                echo "PASS: $name second writer"
            fi
            why=
        fi
        t_sig=$(l1_now)
        kill -TERM "$vmm_pid"
        sent=$(sed -n 's/^flushed \([0-9]*\)/\1/p' "$out" | tr -d '\r' | tail -n1)
        echo "$run: injected: SIGTERM to the VMM after 'flushed $sent' on the console, $(vmm_age) s after its start"
    fi
    vmm_wait 30
    [ -z "$sent" ] || echo "$run: the VMM exited $(awk "BEGIN { printf \"%.2f\", $(l1_now) - $t_sig }") s after SIGTERM"
    last=$(sed -n 's/^flushed \([0-9]*\)$/\1/p' "$out.txt" | tail -n1)
    check '[ -n "$sent" ]' "the guest never printed 'flushed 6' (last GUEST line: $(grep '^GUEST ' "$out.txt" | tail -n1))"
    check '[ "$timed_out" = 0 ]' "the VMM did not exit within 30 s of SIGTERM"
    check '[ "$rc" = 143 ]' "VMM exit status $rc (want 143)"
    check 'grep -q "Terminated, stopping the guest" "$err"' "the VMM never said it was stopping on SIGTERM"
    check '! grep -q "io_uring unavailable" "$err"' "$(grep -m1 'io_uring unavailable' "$err")"
    check '[ -z "$(guest_value writer_done)" ]' "the guest wrote every record before the signal came"
    if [ -n "$last" ]; then
        records_check "$img" "$token" 1 "$last"
        echo "$run: records 1..$last flushed: $records_bad bad; $records_after more records found after them"
        check '[ "$records_bad" = 0 ]' "flushed records missing or damaged: $records_bad_list"
    fi
    finish "$name $engine" || failed=1
done
rm -f "$img"
exit "$failed"
