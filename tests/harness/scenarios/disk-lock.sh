#!/bin/sh
# Scenario "disk-lock" (runs inside L1): who may attach an image that a running
# VMM holds. virtio/blk/disk.c takes an open-file-description lock on the whole
# image: a write lock for a read-write disk, a read lock for readonly=on. So
# while one VMM runs with an image read-write, a second VMM is refused whether
# it asks for read-write or read-only; two read-only VMMs share it. A refused
# VMM exits 2 before starting a guest, with one line naming the image. The
# lock goes with the process: after kill -9 the image is free at once.
# The holder is the tiny spin guest (build/guests, as in the tiny scenario) and
# the second VMM the tiny hello guest: the lock does not care what runs.
#   disk-lock rw-holder:  second rw refused, second ro refused
#   disk-lock after-kill: kill -9 of the holder, then a rw attach runs (exit 0)
#   disk-lock ro-holder:  second ro runs (exit 0), second rw refused
# Env (set by host-init.sh): VMM TINY_DIR LOG_DIR HARNESS_VERBOSE
. /lib/harness/scenario.sh
name=disk-lock
dir=${TINY_DIR:-/tiny}
if [ ! -f "$dir/spin.bin" ] || [ ! -f "$dir/hello.bin" ]; then
    echo "SKIP: $name: the tiny guests are not built (make guests)"
    exit 0
fi
img=/tmp/$name.img
rm -f "$img"
truncate -s 16M "$img"
failed=0

# holder RO: start the spin guest with the image (readonly=RO), wait until it runs
holder() {
    vmm_start "$name-holder-$1" --flat "$dir/spin.bin" --memory 16M \
        --disk "path=$img,readonly=$1"
    console_wait 'spin: ready' 20 || why="$why; the holder (readonly=$1) did not start"
}
# second RUN RO: a second VMM with the image (readonly=RO): sets rc and refusal
second() {
    vmm_refused "$name-$1" --flat "$dir/hello.bin" --memory 16M --disk "path=$img,readonly=$2"
}
refused() {
    check '[ "$rc" = 2 ]' "$1: exit status $rc (want 2)"
    check '[ "$(echo "$refusal" | wc -l)" = 1 ]' "$1: $(echo "$refusal" | wc -l) lines on stderr (want 1)"
    check 'echo "$refusal" | grep -qF "$img is in use by another process"' \
        "$1: the refusal does not say $img is in use: $refusal"
}
allowed() {
    check '[ "$rc" = 0 ]' "$1: exit status $rc (want 0): $refusal"
}

holder off
second second-rw off
refused "second rw"
second second-ro on
refused "second ro"
kill -9 "$vmm_pid"
vmm_wait 10
check '[ "$rc" = 137 ]' "holder exit status $rc after kill -9 (want 137)"
finish "$name rw-holder" || failed=1

why=
second after-kill off
allowed "rw attach after kill -9"
finish "$name after-kill" || failed=1

holder on
second second-ro on
allowed "second ro"
second second-rw off
refused "second rw"
kill -TERM "$vmm_pid"
vmm_wait 10
check '[ "$rc" = 143 ]' "holder exit status $rc after SIGTERM (want 143)"
finish "$name ro-holder" || failed=1
rm -f "$img"
exit "$failed"
