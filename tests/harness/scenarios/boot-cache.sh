#!/bin/sh
# Scenario "boot-cache" (runs inside L1): `vmm run --boot-cache DIR`. A cold run fills
# the cache (one entry, DIR/KEY with its state and memory files, no temporary directory
# left) and still runs its command; a second run with the same kernel, memory and CPUs
# but another command, environment and exit status restores from the entry (no new
# entry) and prints the new command's output and status; two cached runs read different
# bytes from /dev/urandom; `date +%s` in a cached run is within 5 s of L1's clock; a
# change of --memory misses, and with keep=1 its save evicts the first entry and leaves
# the user's files in the directory alone. With L1's / as the root (a virtio-fs
# device, loaded after the restore) a cached run reads a file there and --share's path
# comes from the new command line. With --verbose the VMM says "miss", "saved", "hit".
# With --user the entry is that user's, and a directory they cannot write is refused.
# The cold and cached times are printed, never judged.
# Env (set by host-init.sh): VMM GUEST_KERNEL LOG_DIR HARNESS_TIMEOUT HARNESS_VERBOSE
name=boot-cache
limit=${HARNESS_TIMEOUT:-120}
root=/tmp/boot-cache-rootfs
cache=/tmp/boot-cache
why=

mkdir -p "$root/bin"
cp /bin/busybox "$root/bin/busybox"
for applet in sh head od tr date echo true cat; do
    ln -sf busybox "$root/bin/$applet"
done
rm -rf "$cache"
mkdir -p "$cache"

# vmmrun NAME ARGS...: run the VMM, stdout and stderr to $LOG_DIR/bc-NAME.{out,err};
# sets rc and secs.
vmmrun() {
    n=$1
    shift
    t0=$(cut -d' ' -f1 /proc/uptime)
    # shellcheck disable=SC2086 # $root_args is empty or two words
    timeout -k 5 "$limit" "$VMM" run --kernel "$GUEST_KERNEL" $root_args "$@" \
        >"$LOG_DIR/bc-$n.out" 2>"$LOG_DIR/bc-$n.err" </dev/null
    rc=$?
    t1=$(cut -d' ' -f1 /proc/uptime)
    secs=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
    echo "bc-$n: VMM exited with status $rc after $secs s (L1 time)"
    if [ "${HARNESS_VERBOSE:-0}" = 1 ] || [ "$rc" = 124 ]; then
        show "$n" 2000
    fi
}
# show NAME BYTES: the end of the run's stdout and stderr, unprintable bytes as dots
# (busybox tr knows no [:print:], its sed does)
show() {
    tail -c "$2" "$LOG_DIR/bc-$1.out" | sed "s/[^[:print:]]/./g; s/^/| bc-$1 stdout: /"
    tail -c "$2" "$LOG_DIR/bc-$1.err" | sed "s/[^[:print:]]/./g; s/^/| bc-$1 stderr: /"
}
expect_rc() {
    if [ "$rc" != "$2" ]; then
        why="$why; $1: status $rc (want $2)"
        show "$1" 6000
    fi
}
# entries DIR: the cache's complete entries (directories with a state file), one a line
entries() {
    for e in "$1"/*; do
        [ -f "$e/state" ] && [ -f "$e/memory" ] && basename "$e"
    done
}
# line NAME N: line N of the run's stdout
line() {
    sed -n "${2}p" "$LOG_DIR/bc-$1.out"
}
# the guest's command: a greeting, 16 bytes of /dev/urandom in hex, the time, a status
probe='echo "$GREETING"; head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n"; echo; date +%s; exit $STATUS'

root_args="--rootfs $root"
vmmrun cold --boot-cache "$cache" --env GREETING=cold --env STATUS=3 -- sh -c "$probe"
expect_rc cold 3
cold_secs=$secs
[ "$(line cold 1)" = cold ] || why="$why; cold: stdout '$(tr '\n' '|' <"$LOG_DIR/bc-cold.out")'"
[ ! -s "$LOG_DIR/bc-cold.err" ] || why="$why; cold: stderr not empty"
n=$(entries "$cache" | wc -l)
[ "$n" = 1 ] || why="$why; cold: $n cache entries (want 1): $(ls -a "$cache" | tr '\n' ' ')"
key=$(entries "$cache" | head -n 1)
if ls -a "$cache" | grep -q '^\.tmp'; then why="$why; cold: a temporary entry was left"; fi
echo "bc-cold: entry $key: $(du -sk "$cache/$key" | cut -f1) KiB on disk"

vmmrun hit1 --boot-cache "$cache" --env GREETING=second --env STATUS=5 -- sh -c "$probe"
host_now=$(date +%s)
expect_rc hit1 5
hit1_secs=$secs
[ "$(line hit1 1)" = second ] || why="$why; hit1: stdout '$(tr '\n' '|' <"$LOG_DIR/bc-hit1.out")'"
[ ! -s "$LOG_DIR/bc-hit1.err" ] || why="$why; hit1: stderr not empty"
guest_now=$(line hit1 3)
case "$guest_now" in
'' | *[!0-9]*) why="$why; hit1: date +%s printed '$guest_now'" ;;
*)
    skew=$((host_now - guest_now))
    echo "bc-hit1: the guest's date +%s was $skew s behind L1's clock read after the run"
    [ "$skew" -ge -1 ] && [ "$skew" -le 5 ] || why="$why; hit1: the guest's clock is $skew s off"
    ;;
esac

vmmrun hit2 --boot-cache "$cache" --env GREETING=third --env STATUS=0 -- sh -c "$probe"
expect_rc hit2 0
hit2_secs=$secs
[ "$(line hit2 1)" = third ] || why="$why; hit2: stdout '$(tr '\n' '|' <"$LOG_DIR/bc-hit2.out")'"
r1=$(line hit1 2) r2=$(line hit2 2)
echo "bc-urandom: cold $(line cold 2), hit1 $r1, hit2 $r2"
[ "${#r1}" = 32 ] && [ "${#r2}" = 32 ] || why="$why; urandom: not 16 bytes each ('$r1', '$r2')"
[ "$r1" != "$r2" ] || why="$why; urandom: two cached runs read the same bytes"
n=$(entries "$cache" | wc -l)
[ "$n" = 1 ] || why="$why; hits: $n cache entries after them (want still 1)"
echo "bc-times: cold $cold_secs s, cached $hit1_secs s and $hit2_secs s (L1 time, whole runs)"

# another --memory misses; with keep=1 its save evicts the first entry, and only that:
# the user's own things in the directory stay
echo notes >"$cache/notes.txt"
mkdir -p "$cache/projects"
vmmrun memory --boot-cache "$cache,keep=1" --memory 768M --env GREETING=memory --env STATUS=0 -- sh -c "$probe"
expect_rc memory 0
[ "$(line memory 1)" = memory ] || why="$why; memory: stdout '$(tr '\n' '|' <"$LOG_DIR/bc-memory.out")'"
n=$(entries "$cache" | wc -l)
[ "$n" = 1 ] || why="$why; memory: $n cache entries after another --memory with keep=1 (want 1)"
[ ! -e "$cache/$key" ] || why="$why; memory: keep=1 left the first entry in place"
[ -f "$cache/notes.txt" ] && [ -d "$cache/projects" ] || why="$why; memory: the user's files went"
if ls -a "$cache" | grep -q '^\.tmp'; then why="$why; memory: a temporary entry was left"; fi

# --user: the VMM saves after it becomes that user, so the entry is made theirs and the
# directory must be theirs to write (a root-owned one is refused, exit 2); both runs
# with --verbose, which is part of the key
rm -rf "$cache"
mkdir -p "$cache"
vmmrun userroot --boot-cache "$cache" --user 1000:1000 -- true
expect_rc userroot 2
grep -q -- '--user 1000:1000 cannot write there' "$LOG_DIR/bc-userroot.err" ||
    why="$why; userroot: stderr '$(head -c 300 "$LOG_DIR/bc-userroot.err")'"
chown 1000:1000 "$cache"
vmmrun usercold --verbose --boot-cache "$cache" --user 1000:1000 -- echo user-ok
expect_rc usercold 0
[ "$(line usercold 1)" = user-ok ] || why="$why; usercold: stdout '$(tr '\n' '|' <"$LOG_DIR/bc-usercold.out")'"
grep -q 'boot cache saved in' "$LOG_DIR/bc-usercold.err" || why="$why; usercold: no 'boot cache saved' line"
key=$(entries "$cache" | head -n 1)
[ -n "$key" ] && [ "$(stat -c %u "$cache/$key/memory")" = 1000 ] ||
    why="$why; usercold: no entry of uid 1000 saved ($(ls -lan "$cache" | tr '\n' '|'))"
vmmrun userhit --verbose --boot-cache "$cache" --user 1000:1000 -- echo user-ok
expect_rc userhit 0
grep -q 'boot cache hit' "$LOG_DIR/bc-userhit.err" || why="$why; userhit: no 'boot cache hit' line"
[ "$(line userhit 1)" = user-ok ] || why="$why; userhit: stdout '$(tr '\n' '|' <"$LOG_DIR/bc-userhit.out")'"

# --verbose says what happened (its kernel command line differs: an entry of its own).
# The entry above goes first: L1's /tmp is a 256 MiB tmpfs, each entry holds tens of
# MiB of guest RAM, and scenarios run before this one leave their logs there (after the
# run scenario, the third entry's save failed for want of space).
rm -rf "$cache"
mkdir -p "$cache"
vmmrun vmiss --verbose --boot-cache "$cache" -- true
expect_rc vmiss 0
grep -q 'boot cache miss' "$LOG_DIR/bc-vmiss.err" || why="$why; vmiss: no 'boot cache miss' line"
grep -q 'boot cache saved in' "$LOG_DIR/bc-vmiss.err" || why="$why; vmiss: no 'boot cache saved' line"
vmmrun vhit --verbose --boot-cache "$cache" -- true
expect_rc vhit 0
grep -q 'boot cache hit' "$LOG_DIR/bc-vhit.err" || why="$why; vhit: no 'boot cache hit' line"

# each entry holds what the guest wrote of its RAM (tens of MiB): L1's /tmp is RAM too
rm -rf "$cache"

# L1's / as the root: a virtio-fs device, whose driver loads after the restore
fscache=/tmp/boot-cache-fs
share1=/tmp/boot-cache-share1
share2=/tmp/boot-cache-share2
rm -rf "$fscache" "$share1" "$share2"
mkdir -p "$fscache" "$share1" "$share2"
echo one >"$share1/f"
echo two >"$share2/f"
root_args=
vmmrun fscold --boot-cache "$fscache" --share "$share1" -- cat "$share1/f"
expect_rc fscold 0
fscold_secs=$secs
[ "$(cat "$LOG_DIR/bc-fscold.out")" = one ] || why="$why; fscold: stdout '$(cat "$LOG_DIR/bc-fscold.out")'"
[ ! -s "$LOG_DIR/bc-fscold.err" ] || why="$why; fscold: stderr '$(head -c 300 "$LOG_DIR/bc-fscold.err")'"
vmmrun fshit --boot-cache "$fscache" --share "$share2" -- sh -c "cat $share2/f; test -x /bin/sh && echo root-ok"
expect_rc fshit 0
[ "$(cat "$LOG_DIR/bc-fshit.out")" = "$(printf 'two\nroot-ok')" ] ||
    why="$why; fshit: stdout '$(tr '\n' '|' <"$LOG_DIR/bc-fshit.out")' (want 'two|root-ok')"
n=$(entries "$fscache" | wc -l)
[ "$n" = 1 ] || why="$why; fshit: $n entries (want 1: the second run was a hit)"
echo "bc-times-hostroot: cold $fscold_secs s, cached $secs s (L1 time, whole runs)"
rm -rf "$fscache" "$share1" "$share2" "$root"

if [ -n "$why" ]; then
    echo "FAIL: $name: ${why#; }"
    exit 1
fi
echo "PASS: $name"
