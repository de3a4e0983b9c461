#!/bin/sh
# Scenario "hostile-pci" (runs inside L1): a root guest turns on the virtio-pci
# transport from user space. The guest (guest-init/hostile-pci.sh) has two
# disks, by serial: "victim" (1 MiB, every sector a known line) and "other"
# (4 MiB of random bytes). It unbinds virtio-pci from the victim and runs
# hostile-pci (tests/harness/hostile-pci.c): BAR 0 through sysfs resource0, its
# rings in its own locked pages (addresses from /proc/self/pagemap). After one
# honest read of sector 0 it plays the status game on the running queue:
# status 0x0b (DRIVER_OK cleared, not a reset), queue_size 1 with the used ring
# in the last 16 bytes of RAM, DRIVER_OK again, cleared again, queue_size back
# to 64, then 8 reads and a kick. A device that takes those writes lets its
# queue worker write used elements past the end of guest RAM into the VMM's
# own memory. The guest keeps its last page of RAM for itself (memmap=4K$...)
# and fills it with a pattern first (through /dev/mem).
# PASS ("hostile-pci") when:
#   - the VMM survives and the guest powers off: exit status 0;
#   - the program really drove the device (its first read got sector 0's line),
#     found the end of RAM where --memory puts it, and saw the attack through;
#   - the device ignored the writes (read-back shows the running queue, not
#     size 1 at the end of RAM) or shows NEEDS_RESET;
#   - the last page of RAM still holds the pattern: the device never used a
#     ring there, so it wrote nothing at, or past, the end of RAM;
#   - a reset brings the device back: the program sets it up again and reads
#     sector 0 right;
#   - "other" reads the same through the guest's driver before and after, and
#     equals its image, which is unchanged afterwards (the victim's too: only
#     reads were asked).
# L1 also says what lies after guest RAM in the VMM's address space while the
# guest runs: with nothing mapped there, a write past RAM is a SIGSEGV.
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT HARNESS_VERBOSE
. /lib/harness/scenario.sh
name=hostile-pci
limit=${HARNESS_TIMEOUT:-120} # for the boot and again for the rest: a loaded L1 is slow
mem_mib=256
top=$((mem_mib * 1048576))
canary=$(printf '0x%x' $((top - 4096)))
victim=/tmp/$name-victim.img
other=/tmp/$name-other.img

yes "hostile-pci victim" | head -c 1048576 >"$victim"
dd if=/dev/urandom of="$other" bs=1048576 count=4 2>/dev/null
victim_sha=$(sha256sum "$victim" | cut -d' ' -f1)
other_sha=$(sha256sum "$other" | cut -d' ' -f1)
echo "$name: injected: a root guest unbinds the victim disk and plays status 0x0b / queue_size 1 at the end of RAM / DRIVER_OK / 0x0b / queue_size 64 / kick on its running queue"

vmm_start "$name" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD_DIR/hostile-pci.cpio.gz" \
    --cmdline "console=ttyS0 panic=-1 reboot=k memmap=4K\$$canary" --cpus 1 \
    --memory "${mem_mib}M" --disk "path=$victim,serial=victim" --disk "path=$other,serial=other"

# What follows guest RAM in the VMM: the anonymous mapping of exactly --memory.
after_ram=
if console_wait 'GUEST hostile_setup=' "$limit"; then
    ram_end=
    while read -r range perms _ _ _ path; do
        lo=$((0x${range%-*}))
        hi=$((0x${range#*-}))
        if [ -n "$ram_end" ]; then
            if [ "$lo" = "$ram_end" ]; then
                after_ram="$range $perms ${path:-(anonymous)}"
            fi
            break
        fi
        if [ $((hi - lo)) = "$top" ] && [ "$perms" = rw-p ] && [ -z "$path" ]; then
            ram_end=$hi
            printf '%s: in the VMM, guest RAM is host %s\n' "$name" "$range"
        fi
    done <"/proc/$vmm_pid/maps"
    if [ -n "$ram_end" ]; then
        echo "$name: right after guest RAM: ${after_ram:-nothing mapped (a write there is a SIGSEGV)}"
    fi
else
    echo "$name: the guest did not set the device up within $limit s: the VMM's map not looked at"
fi
vmm_wait "$limit"
grep -E '^GUEST ' "$out.txt"
grep -E '^vmm: ' "$err" | grep -v '^vmm: uuid'
if [ "$(guest_value hostile_tool)" = missing ]; then
    echo "SKIP: $name: the guest has no hostile-pci program (make guests builds it)"
    rm -f "$victim" "$other"
    exit 0
fi

killed=
[ "$rc" -le 128 ] || [ "$rc" = 137 ] || killed=" (killed by signal $((rc - 128)))"
check '[ "$rc" = 0 ]' "VMM exit status $rc$killed (want 0: the guest powers off)"
check '[ "$(guest_value unbind)" = ok ]' "the guest could not unbind the victim's driver"
check 'guest_value hostile_setup | grep -q "^ok"' \
    "the program could not set the device up: $(guest_value hostile_setup)$(guest_value hostile_error)"
check 'guest_value hostile_first_read | grep -q "^ok.*hostile-pci victim"' \
    "the program's honest read failed: $(guest_value hostile_first_read)"
check '[ "$(guest_value hostile_ram_top)" = "$(printf 0x%x "$top")" ]' \
    "the program found the end of RAM at $(guest_value hostile_ram_top) (want $(printf 0x%x "$top"))"
if [ "$(guest_value hostile_survived)" = yes ]; then
    ignored=yes
    for when in after_shrink after_grow final; do
        q=$(guest_value "hostile_queue_$when")
        case "$q" in
        "size 64 "*) ;;
        *) ignored=no ;;
        esac
        case "$q" in
        *"used $(printf 0x%x $((top - 16)))") ignored=no ;;
        esac
    done
    needs_reset=no
    guest_value hostile_status_final | grep -q NEEDS_RESET && needs_reset=yes
    echo "$name: checked: queue writes ignored: $ignored; device shows NEEDS_RESET: $needs_reset"
    check '[ "$ignored" = yes ] || [ "$needs_reset" = yes ]' \
        "the device took the writes to its running queue and does not ask for a reset"
    check 'guest_value hostile_canary | grep -q "^set"' \
        "no pattern in the last page of RAM: $(guest_value hostile_canary)"
    check '[ "$(guest_value hostile_canary_intact)" = yes ]' \
        "the last page of RAM changed: $(guest_value hostile_canary_intact)"
    check 'guest_value hostile_read_after_reset | grep -q "^ok"' \
        "after a reset the device did not read sector 0 right: $(guest_value hostile_read_after_reset)$(guest_value hostile_restart)"
    check '[ "$(guest_value hostile_rc)" = 0 ]' "hostile-pci exited with status $(guest_value hostile_rc)"
    check '[ "$(guest_value other_sha_after)" = "$other_sha" ]' \
        "the other disk read differently through the guest's driver after the attack"
    check '[ "$(guest_value done)" = 1 ]' "the guest did not finish"
else
    why="$why; the guest never got past the kick (last: $(grep '^GUEST ' "$out.txt" | tail -n1))"
fi
check '[ "$(guest_value other_sha_before)" = "$other_sha" ]' \
    "the other disk read wrong through the guest's driver before the attack"
check '[ "$(sha256sum "$other" | cut -d" " -f1)" = "$other_sha" ]' "the other disk's image changed"
check '[ "$(sha256sum "$victim" | cut -d" " -f1)" = "$victim_sha" ]' "the victim's image changed"
echo "$name: checked: other disk sha256: image $other_sha; through the guest's driver before $(guest_value other_sha_before), after $(guest_value other_sha_after)"
finish "$name"
failed=$?
rm -f "$victim" "$other"
exit "$failed"
