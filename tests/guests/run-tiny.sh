#!/bin/sh
# Tiny-guest tests: small flat binaries run by the VMM on a real /dev/kvm, checking
# serial output, unknown-port handling, exit statuses and signal handling; then the
# hostile guests (hostile_*.S), which attack the VMM's devices over two disk images made
# here and must leave it running, its devices working and its log short.
# Usage: run-tiny.sh VMM GUESTDIR   (POSIX sh: it also runs inside the nested harness)
# Prints PASS:/FAIL:/SKIP: lines.
# Env: VMM_TEST (the VMM built with test hooks, when there is one), and host-kind.sh's:
#   VMM_TEST_HOST_KIND, VMM_TEST_KVM_DEVICE (passed to the VMM as --kvm-device), ...
vmm=$1
dir=$2
tmp=${TMPDIR:-/tmp}/tiny.$$
mkdir -p "$tmp"
kvm=${VMM_TEST_KVM_DEVICE:-/dev/kvm}
use_vmm='' fake=''

# Where a guest's outcome is real hardware's business (a triple fault, a failed VM entry),
# only VT-x/AMD-V can say; KVM's instruction emulator (PVM) gives up on it instead.
if ! kind=$(sh "$(dirname "$0")/host-kind.sh" 2>&1); then
	echo "FAIL: tiny guests: cannot tell what kind of host this is: $kind"
	rm -rf "$tmp"
	exit 1
fi
echo "tiny guests on this host: $kind"
case $kind in
none:*)
	echo "SKIP: tiny guests: ${kind#none: } (the nested harness runs them)"
	rm -rf "$tmp"
	exit 0
	;;
real:*) hardware=yes ;;
*) hardware=no ;;
esac
# needs_hardware NAME: true to go on; else says SKIP
needs_hardware() {
	[ $hardware = yes ] && return 0
	echo "SKIP: tiny $1: its outcome needs VT-x/AMD-V, this host's KVM emulates (the nested harness runs it)"
	return 1
}

# vmm_threads_check, from the harness's library: beside this file in the source tree,
# in /lib/harness inside the harness's L1
for lib in "$(dirname "$0")/../harness/scenario-lib.sh" /lib/harness/scenario.sh; do
	if [ -f "$lib" ]; then
		# shellcheck source=SCRIPTDIR/../harness/scenario-lib.sh
		. "$lib"
		break
	fi
done

# fresh FILE...: remove what a VMM started in the background will write. A test that
# polls that output must not find a line an earlier test left there (its redirection
# truncates the file only once the shell's child runs, maybe after the first poll).
fresh() { rm -f "$@"; }
pass() { echo "PASS: tiny $1"; }
fail() {
	echo "FAIL: tiny $1: $2"
	sed 's/^/    | /' "$tmp/out" "$tmp/err" 2>/dev/null | tail -n 20
}

# run NAME [vmm options...]: runs the guest with a $limit s limit (default 30), sets $rc
# and $secs (wall time). $use_vmm: another VMM binary; $fake: a file that a test-hook
# build reads instead of /proc/cpuinfo
run() {
	name=$1
	shift
	t0=$(date +%s)
	timeout "${limit:-30}" env ${fake:+"VMM_TEST_CPUINFO=$fake"} "${use_vmm:-$vmm}" \
		--flat "$dir/$name.bin" --memory 16M \
		--kvm-device "$kvm" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
	secs=$(($(date +%s) - t0))
}

# count PATTERN FILE: matching lines (0 when none)
count() { grep -c -e "$1" "$2"; }

# show: what the guest said it injected and checked, and the VMM's device and bus lines
show() {
	sed 's/^/    guest| /' "$tmp/out"
	grep -e 'virtio' -e 'unhandled' "$tmp/err" | sed 's/^/    vmm| /'
}

run hello
if [ $rc -ne 0 ]; then fail hello "exit status $rc, expected 0 (poweroff)"
elif ! grep -q 'hello from a tiny guest' "$tmp/out"; then fail hello "no greeting on the console"
else pass hello; fi

# NOTIFY_SOCKET: a systemd unit of Type=notify hears READY=1 once the guest runs
if command -v socat >/dev/null; then
	timeout 30 socat -u "UNIX-RECVFROM:$tmp/notify.sock,unlink-early" - >"$tmp/notify" 2>&1 &
	receiver=$!
	n=0
	while [ ! -S "$tmp/notify.sock" ] && [ $n -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	export NOTIFY_SOCKET="$tmp/notify.sock"
	run hello
	unset NOTIFY_SOCKET
	wait $receiver
	if [ $rc -ne 0 ]; then fail notify "exit status $rc, expected 0"
	elif [ "$(cat "$tmp/notify")" != READY=1 ]; then
		fail notify "the socket got '$(cat "$tmp/notify")', expected READY=1"
	else pass "notify (READY=1 on \$NOTIFY_SOCKET)"; fi
else
	echo "SKIP: tiny notify: socat is not installed here"
fi

# On a host without VT-x/AMD-V the VMM says at start-up that a Linux kernel may not boot
# here, and says it again after 10 s without guest output. build/vmm reads the real
# /proc/cpuinfo, whatever kind of host the tests were told to play.
hint='has no hardware virtualization'
if grep -qwE 'vmx|svm' /proc/cpuinfo; then want=0 shown="not shown: VT-x/AMD-V"
else want=1 shown="shown: no vmx or svm in /proc/cpuinfo"; fi
if [ "$(count "$hint" "$tmp/err")" -ne $want ]; then
	fail host-hint "expected $want start-up hint line(s) ($shown)"
else pass "host-hint ($shown)"; fi
# The test-hook build reads a stand-in for /proc/cpuinfo: both answers on any host.
if [ -n "${VMM_TEST:-}" ] && [ -x "$VMM_TEST" ]; then
	printf 'processor\t: 0\nflags\t\t: fpu tsc msr pae vmx sse2\n' >"$tmp/cpuinfo-vtx"
	printf 'processor\t: 0\nflags\t\t: fpu tsc msr pae hypervisor sse2\n' >"$tmp/cpuinfo-pvm"
	use_vmm=$VMM_TEST fake=$tmp/cpuinfo-vtx
	run hello
	if [ $rc -ne 0 ] || [ "$(count "$hint" "$tmp/err")" -ne 0 ]; then
		fail host-hint-vtx "exit status $rc (expected 0) or a hint on a VT-x host"
	else pass host-hint-vtx; fi
	fake=$tmp/cpuinfo-pvm
	run hello
	if [ $rc -ne 0 ]; then fail host-hint-pvm "exit status $rc, expected 0: the guest still runs"
	elif [ "$(count "$hint" "$tmp/err")" -ne 1 ]; then fail host-hint-pvm "no start-up hint"
	elif ! grep -q 'hello from a tiny guest' "$tmp/out"; then fail host-hint-pvm "no greeting"
	else pass host-hint-pvm; fi
elif [ $want = 0 ]; then
	echo "SKIP: tiny host-hint-pvm: no VMM with test hooks (VMM_TEST; make static-test) to play a host without VT-x/AMD-V"
else
	echo "SKIP: tiny host-hint-vtx: no VMM with test hooks (VMM_TEST; make static-test) to play a VT-x host"
fi
# The repeat after 10 s of silence: the silent guest prints one line, then halts.
if [ -n "$fake" ] || [ $want = 1 ]; then
	run silent --timeout 13
	if [ $rc -ne 124 ]; then fail host-hint-repeat "exit status $rc, expected 124 (--timeout)"
	elif [ "$(count "$hint" "$tmp/err")" -ne 2 ]; then
		fail host-hint-repeat "expected the hint at start-up and once more, 10 s later"
	elif ! grep -q 'no output from the guest for 10 s' "$tmp/err"; then
		fail host-hint-repeat "the repeat does not say why"
	else pass host-hint-repeat; fi
else
	echo "SKIP: tiny host-hint-repeat: no VMM with test hooks (VMM_TEST; make static-test) to play a host without VT-x/AMD-V"
fi
use_vmm='' fake=''

run unknown_port
if [ $rc -ne 0 ]; then fail unknown-port "exit status $rc, expected 0"
elif ! grep -q 'reads gave all-ones' "$tmp/out"; then fail unknown-port "reads were not all-ones"
elif [ "$(grep -c 'unhandled' "$tmp/err")" -gt 2 ]; then fail unknown-port "logged more than once per bus"
else pass unknown-port; fi

if ! needs_hardware triple-fault; then :
elif run triple_fault && [ $rc -ne 4 ]; then fail triple-fault "exit status $rc, expected 4"
elif ! grep -q 'triple fault' "$tmp/err"; then fail triple-fault "no triple-fault message"
elif ! grep -q 'rip=' "$tmp/err"; then fail triple-fault "no register dump"
# the faulting registers survive on Intel; AMD hosts reset the vCPU first (the dump says so)
elif ! grep -q -e 'rbx=000000007a7a7a7a' -e 'reset state' "$tmp/err"; then
	fail triple-fault "register dump shows neither the guest's rbx nor a reset note"
else pass triple-fault; fi

run reboot
if [ $rc -ne 3 ]; then fail reboot "exit status $rc, expected 3 (reboot)"
else pass reboot; fi

run marker
if [ $rc -ne 0 ]; then fail boot-marker "exit status $rc, expected 0"
elif ! grep -q 'boot marker 0x2a at' "$tmp/err"; then fail boot-marker "no marker line in the log"
else pass boot-marker; fi

run hello --cpus 4
if [ $rc -ne 0 ]; then fail four-vcpus "exit status $rc, expected 0 with idle secondary vCPUs"
else pass four-vcpus; fi

# SIGTERM while the guest runs: a clean stop with status 128+15
fresh "$tmp/out" "$tmp/err"
"$vmm" --flat "$dir/spin.bin" --memory 16M --kvm-device "$kvm" </dev/null >"$tmp/out" 2>"$tmp/err" &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q 'spin: ready' "$tmp/out"; do sleep 0.1; i=$((i + 1)); done
kill -TERM $pid
wait $pid
rc=$?
if [ $rc -ne 143 ]; then fail sigterm "exit status $rc, expected 143"
else pass sigterm; fi

# --api-socket: the ticker guest prints "tick" every ~50 ms; paused for 2 s, its console
# must not grow by a byte; resumed, it ticks on; vm.shutdown then ends the VMM with 0 and
# the socket is gone (docs/api.md; the harness's api scenario does the same on Linux)
sock=$tmp/api.sock
fresh "$tmp/out" "$tmp/err"
"$vmm" --flat "$dir/ticker.bin" --memory 16M --cpus 2 --kvm-device "$kvm" --api-socket "$sock" \
	</dev/null >"$tmp/out" 2>"$tmp/err" &
pid=$!
i=0
while [ $i -lt 100 ] && [ "$(grep -c tick "$tmp/out")" -lt 3 ]; do sleep 0.1; i=$((i + 1)); done
why=
"$vmm" ctl "$sock" pause >"$tmp/ctl" 2>&1 || why="pause: $(cat "$tmp/ctl")"
size1=$(wc -c <"$tmp/out")
sleep 2
size2=$(wc -c <"$tmp/out")
[ "$size1" = "$size2" ] || why="$why; the console grew by $((size2 - size1)) bytes while paused"
"$vmm" ctl "$sock" pause >"$tmp/ctl" 2>&1 && why="$why; a second pause was accepted"
"$vmm" ctl "$sock" resume >"$tmp/ctl" 2>&1 || why="$why; resume: $(cat "$tmp/ctl")"
i=0
while [ $i -lt 50 ] && [ "$(wc -c <"$tmp/out")" -le "$size2" ]; do sleep 0.1; i=$((i + 1)); done
[ "$(wc -c <"$tmp/out")" -gt "$size2" ] || why="$why; no tick after resume"
"$vmm" ctl "$sock" shutdown >"$tmp/ctl" 2>&1 || why="$why; shutdown: $(cat "$tmp/ctl")"
i=0
while [ $i -lt 100 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -9 $pid 2>/dev/null
wait $pid
rc=$?
[ $rc -eq 0 ] || why="$why; exit status $rc, expected 0"
[ ! -e "$sock" ] || why="$why; the socket is still there"
if [ -n "$why" ]; then fail api-pause "${why#; }"; else pass api-pause; fi

# Snapshot and restore (docs/snapshot.md): the counter guest prints "count N" every ~50 ms
# with N kept in guest memory and in a register. Bad snapshot requests are refused and the
# guest counts on; a good one leaves it paused with a sparse memory file; the VMM is killed
# and a restore goes on counting from N+1, not from 1. A state file with one byte flipped,
# or cut short, and a memory file cut short, are refused with exit status 2.
# last_count FILE: the last N printed, in decimal (0 when none)
# Only whole lines count: a VMM paused or stopped in the middle of a line (likely where
# every byte is a slow exit, as in the harness's L1) leaves "count 00" at the end of its
# output, and its restored guest prints the rest of that line first.
# cut_short FILE: 1 when FILE ends in the middle of a line, else 0
cut_short() { if [ -n "$(tail -c 1 "$1" 2>/dev/null)" ]; then echo 1; else echo 0; fi; }
# whole_lines FILE: FILE without a last line that has no newline yet. A guest paused between
# "count 0000000b" and its newline has not finished that line: grep alone would count it,
# and a test adding cut_short for the unfinished line would count it twice.
whole_lines() {
	if [ "$(cut_short "$1")" = 1 ]; then sed '$d' "$1"; else cat "$1" 2>/dev/null; fi
}
# nth_count FILE WORD head|tail: the first or last whole "WORD xxxxxxxx" line's number
nth_count() {
	n=$(whole_lines "$1" | grep -E "^$2 [0-9a-f]{8}\$" | "$3" -n 1 | cut -d' ' -f2)
	echo $((0x${n:-0}))
}
last_count() { nth_count "$1" count tail; }
first_count() { nth_count "$1" count head; }
# seam BEFORE AFTER WORD: empty when the line a snapshot cut in BEFORE and the first line
# the restored guest wrote to AFTER make one whole "WORD xxxxxxxx" line (an access the
# pause left half done would repeat or lose a byte there); else that line, quoted
seam() {
	cut=
	[ "$(cut_short "$1")" = 0 ] || cut=$(tail -n 1 "$1")
	line="$cut$(head -n 1 "$2")"
	echo "$line" | grep -qE "^$3 [0-9a-f]{8}\$" || echo "'$line'"
}
# lines FILE REGEX: how many lines of FILE match (0 while FILE does not exist yet: a VMM
# started in the background opens its output a moment later)
lines() { n=$(grep -c "$2" "$1" 2>/dev/null); echo "${n:-0}"; }
# wait_lines FILE WORD N: until FILE shows N or more "WORD xxxxxxxx" lines (10 s at most)
wait_lines() {
	i=0
	while [ $i -lt 100 ] && [ "$(lines "$1" "^$2 [0-9a-f]\{8\}\$")" -lt "$3" ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
wait_counts() { wait_lines "$1" count "$2"; }
snap=$tmp/snap
mkdir -p "$snap"
# left-over names that must neither block the snapshot (a FIFO) nor be written through
mkfifo "$snap/state.tmp"
ln -s "$tmp/elsewhere" "$snap/memory.tmp"
fresh "$tmp/out" "$tmp/err"
"$vmm" --flat "$dir/counter.bin" --memory 16M --cpus 2 --kvm-device "$kvm" --api-socket "$sock" \
	</dev/null >"$tmp/out" 2>"$tmp/err" &
pid=$!
wait_counts "$tmp/out" 3
why=
"$vmm" ctl "$sock" snapshot "$tmp/no-such-dir" >"$tmp/ctl" 2>&1 &&
	why="$why; a snapshot into a missing directory was accepted"
grep -q 'no-such-dir' "$tmp/ctl" || why="$why; the refusal does not name the directory: $(cat "$tmp/ctl")"
"$vmm" ctl "$sock" request PUT /api/v1/vm.snapshot '{"destination_url": "http://x/y"}' \
	>"$tmp/ctl" 2>&1 && why="$why; an http:// URL was accepted"
grep -q '400' "$tmp/ctl" || why="$why; a bad URL is not a 400: $(cat "$tmp/ctl")"
before=$(last_count "$tmp/out")
wait_counts "$tmp/out" $((before + 3))
[ "$(last_count "$tmp/out")" -gt "$before" ] || why="$why; a refused snapshot stopped the guest"
if ! timeout 60 "$vmm" ctl "$sock" snapshot "$snap" >"$tmp/ctl" 2>&1; then
	why="$why; snapshot: $(cat "$tmp/ctl")"
fi
[ ! -e "$tmp/elsewhere" ] || why="$why; the snapshot wrote through a symbolic link"
saved=$(last_count "$tmp/out")
expect=$((saved + 1 + $(cut_short "$tmp/out")))
sleep 0.5
[ "$(last_count "$tmp/out")" = "$saved" ] || why="$why; the guest counted on after the snapshot"
"$vmm" ctl "$sock" info 2>&1 | grep -q '"state": "paused"' || why="$why; vm.info does not say paused"
kill -9 $pid
wait $pid 2>/dev/null
blocks=$(stat -c %b "$snap/memory" 2>/dev/null || echo 0)
size=$(stat -c %s "$snap/memory" 2>/dev/null || echo 0)
[ "$size" -eq $((16 << 20)) ] || why="$why; the memory file has $size bytes, expected 16M"
[ $((blocks * 512)) -lt $((size / 4)) ] ||
	why="$why; the memory file is not sparse ($((blocks * 512)) bytes on disk)"
# restore: `vmm --restore` with the same shape, no --flat; the count goes on
rm -f "$sock"
fresh "$tmp/out2" "$tmp/err2"
"$vmm" --restore "source_url=file://$snap" --memory 16M --cpus 2 --kvm-device "$kvm" \
	</dev/null >"$tmp/out2" 2>"$tmp/err2" &
pid=$!
wait_counts "$tmp/out2" 3
kill -TERM $pid
wait $pid
rc=$?
first=$(first_count "$tmp/out2")
[ "$first" -eq "$expect" ] ||
	why="$why; the restored guest's first count is $first, expected $expect"
[ "$(last_count "$tmp/out2")" -gt "$first" ] || why="$why; the restored guest does not count on"
[ $rc -eq 143 ] || why="$why; the restored VMM exited $rc on SIGTERM, expected 143"
grep -q 'disagree' "$tmp/out2" && why="$why; the register and memory counts disagree"
cut=$(seam "$tmp/out" "$tmp/out2" count)
[ -z "$cut" ] || why="$why; the line the snapshot cut goes on as $cut"
if [ -n "$why" ]; then
	fail snapshot-restore "${why#; }"
	sed 's/^/    | /' "$tmp/out2" "$tmp/err2" | tail -n 5
else pass "snapshot-restore (saved at $saved, restored from $first)"; fi

# A snapshot in the middle of a port access. chatter.S does nothing but print, so each
# round stops it inside one. KVM finishes an OUT that exited to the VMM (RIP past it)
# only on the next KVM_RUN: a vCPU saved before that is saved on the OUT, and the restored
# guest prints that byte again. Where the two outputs meet they must make one whole line,
# numbered on from the last. (On AMD-V in the harness, a VMM without that last KVM_RUN
# failed 10 of 40 rounds; under PVM it passed them all, so only the harness tells.)
why=
csnap=$tmp/chatter-snap
round=0 cuts=0
while [ $round -lt 8 ]; do
	round=$((round + 1))
	rm -rf "$csnap" "$sock" && mkdir -p "$csnap"
	fresh "$tmp/c1" "$tmp/c1.err"
	"$vmm" --flat "$dir/chatter.bin" --memory 16M --kvm-device "$kvm" --api-socket "$sock" \
		</dev/null >"$tmp/c1" 2>"$tmp/c1.err" &
	pid=$!
	i=0
	while [ $i -lt 100 ] && { [ ! -S "$sock" ] || [ "$(lines "$tmp/c1" '^line ')" -lt 5 ]; }; do
		sleep 0.1
		i=$((i + 1))
	done
	"$vmm" ctl "$sock" snapshot "$csnap" >"$tmp/ctl" 2>&1 ||
		why="$why; round $round: snapshot: $(cat "$tmp/ctl")"
	kill -9 $pid
	wait $pid 2>/dev/null
	rm -f "$sock"
	fresh "$tmp/c2" "$tmp/c2.err"
	"$vmm" --restore "source_url=file://$csnap" --memory 16M --kvm-device "$kvm" \
		</dev/null >"$tmp/c2" 2>"$tmp/c2.err" &
	pid=$!
	wait_lines "$tmp/c2" line 3
	kill -9 $pid
	wait $pid 2>/dev/null
	cuts=$((cuts + $(cut_short "$tmp/c1")))
	expect=$(($(nth_count "$tmp/c1" line tail) + 1 + $(cut_short "$tmp/c1")))
	first=$(nth_count "$tmp/c2" line head)
	cut=$(seam "$tmp/c1" "$tmp/c2" line)
	[ -z "$cut" ] || why="$why; round $round: the line the snapshot cut goes on as $cut"
	[ "$first" -eq "$expect" ] ||
		why="$why; round $round: the restored guest's first line is $first, expected $expect"
	[ -z "$why" ] || break
done
rm -rf "$csnap"
if [ -n "$why" ]; then
	fail snapshot-mid-line "${why#; }"
	sed 's/^/    | /' "$tmp/c1.err" "$tmp/c2.err" | tail -n 6
else pass "snapshot-mid-line ($round rounds, $cuts of them cut a line)"; fi

# restore_refused TEST WHAT: a restore of $snap2 must exit 2 with WHAT in its message
restore_refused() {
	timeout 20 "$vmm" --restore "source_url=file://$snap2" --memory 16M --cpus 2 \
		--kvm-device "$kvm" </dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 2 ]; then fail "$1" "exit status $rc, expected 2"
	elif ! grep -q "$2" "$tmp/err"; then fail "$1" "no '$2' in: $(cat "$tmp/err")"
	elif [ "$(wc -l <"$tmp/err")" -ne 1 ]; then fail "$1" "more than one line: $(cat "$tmp/err")"
	else pass "$1"; fi
}
snap2=$tmp/snap2
rm -rf "$snap2" && cp -a "$snap" "$snap2"
printf '\377' | dd of="$snap2/state" bs=1 seek=200 conv=notrunc 2>/dev/null
restore_refused snapshot-corrupted 'corrupted'
rm -rf "$snap2" && cp -a "$snap" "$snap2"
truncate -s $(($(stat -c %s "$snap2/state") - 1)) "$snap2/state"
restore_refused snapshot-truncated-state 'truncated'
rm -rf "$snap2" && cp -a "$snap" "$snap2"
truncate -s 8M "$snap2/memory"
restore_refused snapshot-truncated-memory 'memory: 8388608 bytes'
timeout 20 "$vmm" --restore "source_url=file://$snap" --memory 32M --cpus 2 --kvm-device "$kvm" \
	</dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -ne 2 ]; then fail snapshot-other-memory "exit status $rc, expected 2"
elif ! grep -q 'not this machine: its memory is 16384K' "$tmp/err"; then
	fail snapshot-other-memory "no reason given: $(cat "$tmp/err")"
else pass snapshot-other-memory; fi

# The VM generation ID (docs/snapshot.md): the genid guest prints the 16 bytes at the
# ID's address and the GPE0 status byte. A boot writes a random ID (two boots differ;
# --vmgenid off leaves zeros); every restore of one snapshot writes another and raises
# GPE 0; a restore with --vmgenid off keeps the snapshot's ID and raises nothing.
# genid_line FILE: the first whole line's "ID gpe SS"
genid_line() { grep -E '^genid [0-9a-f]{32} gpe [0-9a-f]{2}$' "$1" 2>/dev/null | head -n 1 | cut -d' ' -f2-; }
# genid_run OUT OPTION...: a VMM with the genid guest until its first whole line
genid_run() {
	out=$1
	shift
	fresh "$out" "$out.err"
	"$vmm" "$@" --memory 16M --cpus 1 --kvm-device "$kvm" </dev/null >"$out" 2>"$out.err" &
	gpid=$!
	i=0
	while [ $i -lt 100 ] && [ -z "$(genid_line "$out")" ]; do sleep 0.1; i=$((i + 1)); done
}
# genid_once OUT OPTION...: genid_run, then the line it printed in $line, and the VMM killed
genid_once() {
	genid_run "$@"
	line=$(genid_line "$1")
	kill -9 $gpid
	wait $gpid 2>/dev/null
}
why=
zero=00000000000000000000000000000000
gsnap=$tmp/genid-snap
mkdir -p "$gsnap"
rm -f "$sock"
genid_run "$tmp/g1" --flat "$dir/genid.bin" --api-socket "$sock"
boot1=$(genid_line "$tmp/g1")
timeout 60 "$vmm" ctl "$sock" snapshot "$gsnap" >"$tmp/ctl" 2>&1 || why="$why; snapshot: $(cat "$tmp/ctl")"
kill -9 $gpid
wait $gpid 2>/dev/null
genid_once "$tmp/g2" --flat "$dir/genid.bin"; boot2=$line
genid_once "$tmp/g3" --flat "$dir/genid.bin" --vmgenid off; off=$line
genid_once "$tmp/r1" --restore "source_url=file://$gsnap"; r1=$line
genid_once "$tmp/r2" --restore "source_url=file://$gsnap"; r2=$line
genid_once "$tmp/r3" --restore "source_url=file://$gsnap" --vmgenid off; r3=$line
id1=${boot1% gpe *}
[ -n "$id1" ] && [ "$id1" != "$zero" ] || why="$why; the boot's ID is '$boot1'"
[ "${boot2% gpe *}" != "$id1" ] || why="$why; two boots have the same ID $id1"
[ "$off" = "$zero gpe 00" ] || why="$why; --vmgenid off at boot shows '$off'"
case "$r1" in *" gpe 01") ;; *) why="$why; a restore raised no GPE 0: '$r1'" ;; esac
[ -n "$r1" ] && [ "${r1% gpe *}" != "$id1" ] && [ "${r1% gpe *}" != "${r2% gpe *}" ] ||
	why="$why; restores did not renew the ID: boot $id1, restores '$r1', '$r2'"
[ "$r3" = "$id1 gpe 00" ] || why="$why; a restore with --vmgenid off shows '$r3', want '$id1 gpe 00'"
if [ -n "$why" ]; then
	fail vmgenid "${why#; }"
	tail -n 3 "$tmp/r1.err" | sed 's/^/    | /'
else pass "vmgenid (boot $(echo "$id1" | cut -c1-8)..., restores $(echo "$r1" | cut -c1-8)... and $(echo "$r2" | cut -c1-8)..., off keeps it)"; fi

# A NIC's own section (virtio/net/net_snapshot.h): the counter guest with a TAP it never
# drives is snapshotted; a restore that gives another mac= or queues= is refused with the
# difference named, and one without mac= takes the saved MAC (not a random new one) and,
# its guest having no driver, is not asked to announce (ctl info: announces 0).
tapname=vmmtiny$$
snapn=$tmp/snapn
mkdir -p "$snapn"
rm -f "$sock"
fresh "$tmp/out" "$tmp/err"
"$vmm" --flat "$dir/counter.bin" --memory 16M --cpus 2 --kvm-device "$kvm" --api-socket "$sock" \
	--net "tap=$tapname,mac=02:00:00:00:00:aa" </dev/null >"$tmp/out" 2>"$tmp/err" &
pid=$!
wait_counts "$tmp/out" 3
if ! kill -0 $pid 2>/dev/null; then
	wait $pid 2>/dev/null
	echo "SKIP: tiny snapshot-net: the VMM cannot make a TAP here: $(tail -n 1 "$tmp/err")"
else
	why=
	"$vmm" ctl "$sock" snapshot "$snapn" >"$tmp/ctl" 2>&1 || why="; snapshot: $(cat "$tmp/ctl")"
	kill -9 $pid
	wait $pid 2>/dev/null
	# net_restore NET: a restore of $snapn with --net NET; sets rc, out in $tmp/out2
	net_restore() {
		rm -f "$sock"
		fresh "$tmp/out2" "$tmp/err2"
		timeout 20 "$vmm" --restore "source_url=file://$snapn" --memory 16M --cpus 2 \
			--kvm-device "$kvm" --net "$1" --api-socket "$sock" </dev/null \
			>"$tmp/out2" 2>"$tmp/err2" &
		rpid=$!
		i=0
		while [ $i -lt 100 ] && kill -0 $rpid 2>/dev/null &&
			[ "$(lines "$tmp/out2" '^count [0-9a-f]\{8\}$')" -lt 2 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		"$vmm" ctl "$sock" info >"$tmp/info2" 2>&1
		kill -TERM $rpid 2>/dev/null
		wait $rpid
		rc=$?
	}
	net_restore "tap=$tapname,mac=02:00:00:00:00:bb"
	[ $rc -eq 2 ] || why="$why; another mac=: exit status $rc, expected 2"
	grep -q 'mac 02:00:00:00:00:bb, the snapshot.s NIC has 02:00:00:00:00:aa' "$tmp/err2" ||
		why="$why; another mac=: $(tail -n 1 "$tmp/err2")"
	net_restore "tap=$tapname,mac=02:00:00:00:00:aa,queues=2"
	[ $rc -eq 2 ] || why="$why; queues=2: exit status $rc, expected 2"
	grep -q '1 queue pair saved, the command line gives 2 (queues=)' "$tmp/err2" ||
		why="$why; queues=2: $(tail -n 1 "$tmp/err2")"
	net_restore "tap=$tapname"
	[ $rc -eq 143 ] || why="$why; without mac=: exit status $rc, expected 143"
	grep -q 'virtio-net0: mac 02:00:00:00:00:aa, as saved' "$tmp/err2" ||
		why="$why; without mac=, the saved MAC was not taken: $(cat "$tmp/err2")"
	[ "$(last_count "$tmp/out2")" -gt 0 ] || why="$why; the restored guest does not count"
	# a guest without a driver negotiated no GUEST_ANNOUNCE: the restore asks nothing of it
	grep -q '"announces": 0,' "$tmp/info2" ||
		why="$why; a NIC without a driver was asked to announce: $(grep announce "$tmp/info2")"
	if [ -n "$why" ]; then fail snapshot-net "${why#; }"
	else pass "snapshot-net (mac= and queues= checked, the saved MAC taken, no announce without a driver)"; fi
fi

# The same with a live virtio-blk queue: blkcount reads its disk's first sector every
# ~50 ms through a queue it set up (its BAR moved, DRIVER_OK). Snapshot, resume, snapshot
# again into the same directory, kill; the restore reads on from the next request. Then
# that restored VM is snapshotted into the directory its memory is mapped from, killed,
# and restored again: the file it maps is replaced, never rewritten under it.
dd if=/dev/zero of="$tmp/snap.img" bs=1024 count=1024 2>/dev/null
printf 'tiny-disk-A-0042' | dd of="$tmp/snap.img" conv=notrunc 2>/dev/null
# blk_run OUT [vmm options...]: start the VMM in the background on $sock; sets $pid.
# After a kill -9 the disk's lock goes only once the kernel has torn down the dead VMM's
# io_uring, a moment after the process itself: a start refused for that is tried again.
blk_run() {
	out=$1
	shift
	tries=0
	while :; do
		rm -f "$sock"
		fresh "$out" "$out.err"
		"$vmm" --memory 16M --disk "path=$tmp/snap.img" --kvm-device "$kvm" \
			--api-socket "$sock" "$@" </dev/null >"$out" 2>"$out.err" &
		pid=$!
		i=0
		while [ $i -lt 100 ] && [ ! -S "$sock" ] && kill -0 $pid 2>/dev/null; do
			sleep 0.1
			i=$((i + 1))
		done
		[ -S "$sock" ] || ! grep -q 'in use by another process' "$out.err" ||
			[ $tries -ge 20 ] || { wait $pid; tries=$((tries + 1)); sleep 0.2; continue; }
		break
	done
}
# blk_last FILE, blk_first FILE: the last or first N of "blk N", in decimal
blk_last() { nth_count "$1" blk tail; }
blk_first() { nth_count "$1" blk head; }
blk_wait() { wait_lines "$1" blk "$2"; }
why=
rm -rf "$snap" && mkdir -p "$snap"
blk_run "$tmp/b1" --flat "$dir/blkcount.bin"
blk_wait "$tmp/b1" 3
"$vmm" ctl "$sock" snapshot "$snap" >"$tmp/ctl" 2>&1 || why="$why; snapshot: $(cat "$tmp/ctl")"
"$vmm" ctl "$sock" resume >"$tmp/ctl" 2>&1 || why="$why; resume: $(cat "$tmp/ctl")"
n=$(blk_last "$tmp/b1")
blk_wait "$tmp/b1" $((n + 3))
[ "$(blk_last "$tmp/b1")" -gt "$n" ] || why="$why; no read after the first snapshot's resume"
"$vmm" ctl "$sock" snapshot "$snap" >"$tmp/ctl" 2>&1 || why="$why; second snapshot: $(cat "$tmp/ctl")"
saved=$(($(blk_last "$tmp/b1") + $(cut_short "$tmp/b1")))
kill -9 $pid
wait $pid 2>/dev/null
blk_run "$tmp/b2" --restore "source_url=file://$snap"
blk_wait "$tmp/b2" 3
first=$(blk_first "$tmp/b2")
[ "$first" -eq $((saved + 1)) ] || why="$why; restored: first read $first, expected $((saved + 1))"
cut=$(seam "$tmp/b1" "$tmp/b2" blk)
[ -z "$cut" ] || why="$why; restored: the line the snapshot cut goes on as $cut"
"$vmm" ctl "$sock" snapshot "$snap" >"$tmp/ctl" 2>&1 ||
	why="$why; snapshot of the restored VM: $(cat "$tmp/ctl")"
saved=$(($(blk_last "$tmp/b2") + $(cut_short "$tmp/b2")))
kill -9 $pid
wait $pid 2>/dev/null
blk_run "$tmp/b3" --restore "source_url=file://$snap"
blk_wait "$tmp/b3" 3
kill -TERM $pid
wait $pid
rc=$?
first=$(blk_first "$tmp/b3")
[ "$first" -eq $((saved + 1)) ] || why="$why; restored twice: first read $first, expected $((saved + 1))"
[ "$(blk_last "$tmp/b3")" -gt "$first" ] || why="$why; restored twice: the reads stop"
cut=$(seam "$tmp/b2" "$tmp/b3" blk)
[ -z "$cut" ] || why="$why; restored twice: the line the snapshot cut goes on as $cut"
grep -q FAIL "$tmp/b1" "$tmp/b2" "$tmp/b3" && why="$why; the guest saw a bad read"
[ $rc -eq 143 ] || why="$why; exit status $rc on SIGTERM, expected 143"
if [ -n "$why" ]; then
	fail snapshot-live-blk "${why#; }"
	sed 's/^/    | /' "$tmp/b3" "$tmp/b3.err" "$tmp/b2.err" "$tmp/b1.err" | tail -n 8
else pass "snapshot-live-blk (second restore from $first)"; fi

# On a terminal: the VMM puts it in raw mode and every way out must give it back as it
# was, under the seccomp filters. ptyrun (tests/tty/ptyrun.c) gives the VMM a pseudo-
# terminal of its own, types into it, and says whether its settings came back.
# pty NAME [ptyrun options...] -- [vmm options...]: sets $rc
pty() {
	name=$1
	shift
	"$dir/ptyrun" -t 30 "$@" "$vmm" --flat "$dir/$name.bin" --memory 16M --kvm-device "$kvm" \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
}
# pty_check TEST EXPECTED WHAT: the status and the terminal's settings
pty_check() {
	if [ $rc -ne "$2" ]; then fail "$1" "exit status $rc, expected $2 ($3)"
	elif ! grep -q 'ptyrun: terminal restored' "$tmp/err"; then
		fail "$1" "the terminal's settings differ from those before"
	else pass "$1"; fi
}
if [ ! -x "$dir/ptyrun" ]; then
	echo "SKIP: tiny on-a-terminal: ptyrun is not built (make guests)"
elif ! "$dir/ptyrun" true 2>"$tmp/err"; then
	echo "SKIP: tiny on-a-terminal: no pseudo-terminal here ($(head -n 1 "$tmp/err"))"
else
	pty hello
	pty_check pty-poweroff 0 "guest poweroff"
	pty reboot
	pty_check pty-reset 3 "guest reset"
	pty spin -w 'spin: ready' -s "$(printf '\001x')"
	pty_check pty-ctrl-a-x 6 "Ctrl-A X typed"
fi

# Every thread of a running VMM with a share (whose workers exist before the guest
# starts them) keeps no capability and runs under no-new-privs and a seccomp filter:
# as started, and switched to another user with --user (docs/security.md, "Start-up
# order").
# privileges LABEL [vmm options...]
privileges() {
	label=$1
	shift
	mkdir -p "$tmp/share"
	fresh "$tmp/out" "$tmp/err"
	"$vmm" --flat "$dir/spin.bin" --memory 16M --cpus 2 --share "$tmp/share" \
		--kvm-device "$kvm" "$@" \
		</dev/null >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	i=0
	while [ $i -lt 100 ] && ! grep -q 'spin: ready' "$tmp/out"; do sleep 0.1; i=$((i + 1)); done
	# the main thread loads its filter last, once the vCPUs run
	thread_privs "/proc/$pid/status"
	while [ $i -lt 130 ] && [ "$t_seccomp" != 2 ]; do
		sleep 0.1
		i=$((i + 1))
		thread_privs "/proc/$pid/status"
	done
	vmm_threads_check "$pid"
	kill -TERM $pid
	wait $pid
	rc=$?
	if ! grep -q 'spin: ready' "$tmp/out"; then fail "$label" "the guest never ran"
	elif [ -n "$threads_bad" ]; then fail "$label" "${threads_bad#; }"
	elif [ "$threads_checked" -lt 5 ]; then
		fail "$label" "$threads_checked threads (want 5: main, 2 vCPUs, 2 file server workers)"
	elif [ $rc -ne 143 ]; then fail "$label" "exit status $rc after SIGTERM, expected 143"
	else pass "$label ($threads_checked threads)"; fi
}
if ! command -v vmm_threads_check >/dev/null; then
	echo "SKIP: tiny thread privileges: no tests/harness/scenario-lib.sh"
else
	privileges "thread privileges"
	# The main thread loads its own list only once every vCPU has loaded its: a vCPU
	# thread that is a second late (VMM_TEST_VCPU_LATE, test-hook builds) must not be
	# caught without one the moment the main thread has its filter.
	if [ -z "${VMM_TEST:-}" ] || [ ! -x "$VMM_TEST" ]; then
		echo "SKIP: tiny late vCPU fenced: no VMM with test hooks (VMM_TEST; make static-test)"
	else
		fresh "$tmp/out" "$tmp/err"
		VMM_TEST_VCPU_LATE=1 "$VMM_TEST" --flat "$dir/spin.bin" --memory 16M --cpus 2 \
			--kvm-device "$kvm" </dev/null >"$tmp/out" 2>"$tmp/err" &
		pid=$!
		i=0
		thread_privs "/proc/$pid/status"
		while [ $i -lt 200 ] && [ -n "$t_state" ] && [ "$t_seccomp" != 2 ]; do
			sleep 0.05
			i=$((i + 1))
			thread_privs "/proc/$pid/status"
		done
		main_seccomp=$t_seccomp
		vmm_threads_check "$pid"
		kill -TERM $pid
		wait $pid
		rc=$?
		if [ "$main_seccomp" != 2 ]; then
			fail "late vCPU fenced" "the main thread never loaded its filter"
		elif [ -n "$threads_bad" ]; then fail "late vCPU fenced" "${threads_bad#; }"
		elif [ "$threads_checked" -lt 3 ]; then
			fail "late vCPU fenced" "$threads_checked threads (want 3: main, 2 vCPUs)"
		elif [ $rc -ne 143 ]; then
			fail "late vCPU fenced" "exit status $rc after SIGTERM, expected 143"
		else pass "late vCPU fenced ($threads_checked threads, each with its filter)"; fi
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: tiny thread privileges with --user: only root may switch"
	else
		privileges "thread privileges with --user" --user 65534:65534
	fi
fi

# A jailed VMM lives in a child of the process its user started: a kill -9 of that
# process must take the jailed one with it, also after the switch to --user (which
# clears the parent-death signal, so the VMM arms it again).
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: tiny jail kill -9: only root may switch to --user"
else
	mkdir -p "$tmp/jail"
	fresh "$tmp/out" "$tmp/err"
	"$vmm" --flat "$dir/spin.bin" --memory 16M --kvm-device "$kvm" --jail "$tmp/jail" \
		--user 65534:65534 </dev/null >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	# Up to 60 s: a jailed start sets up its namespaces, mounts and the user switch
	# before the guest runs. (The "never ran (60 s)" failures seen before did not wait at
	# all: an earlier test's "spin: ready" was still in the output file, the wait ended at
	# once, and by the check the new VMM had emptied it; see fresh. In the harness's L1, a
	# loop of jailed starts into one file "failed" 16 of 150 that way.) A failure says how
	# long it waited and where each thread of both processes waits in the kernel.
	i=0
	while [ $i -lt 600 ] && ! grep -q 'spin: ready' "$tmp/out"; do sleep 0.1; i=$((i + 1)); done
	waited=$((i / 10))
	child=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null)
	# where a jailed start that never ran stands: each thread's kernel stack, for the log
	where=
	if ! grep -q 'spin: ready' "$tmp/out"; then
		for t in /proc/$pid/task/* $(for c in $child; do echo /proc/$c/task/*; done); do
			[ -r "$t/stack" ] || continue
			where="$where; ${t#/proc/} $(cat "$t/comm" 2>/dev/null):"
			where="$where $(head -n 4 "$t/stack" 2>/dev/null | sed 's/^\[<0>\] //' | tr '\n' ' ')"
		done
	fi
	kill -KILL $pid
	wait $pid 2>/dev/null
	i=0
	while [ $i -lt 50 ] && [ -n "$child" ] && kill -0 $child 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	if ! grep -q 'spin: ready' "$tmp/out"; then
		fail "jail kill -9" "the jailed guest never ran (waited $waited s)${where:+; threads$where}"
	elif [ -z "$child" ]; then fail "jail kill -9" "no jailed child process found"
	elif kill -0 $child 2>/dev/null; then
		kill -KILL $child
		fail "jail kill -9" "the jailed VMM outlived the process its user started"
	else pass "jail kill -9"; fi
fi

# The hostile guests: two disks whose first sectors start with a known pattern.
mkdisk() {
	dd if=/dev/zero of="$1" bs=1024 count=1024 2>/dev/null
	printf '%s' "$2" | dd of="$1" conv=notrunc 2>/dev/null
}
mkdisk "$tmp/a.img" tiny-disk-A-0042
mkdisk "$tmp/b.img" tiny-disk-B-0042
disks="--disk path=$tmp/a.img --disk path=$tmp/b.img,readonly=on"
limit=120

# shellcheck disable=SC2086 # $disks is two options
run hostile_regs $disks
show
if [ $rc -ne 0 ]; then fail hostile-regs "exit status $rc, expected 0"
elif ! grep -q 'hostile-regs: OK' "$tmp/out"; then fail hostile-regs "no OK line from the guest"
elif [ "$(count 'hostile-regs: ' "$tmp/out")" -ne 7 ]; then fail hostile-regs "a progress line is missing"
elif [ "$(count 'vCPU' "$tmp/err")" -ne 0 ]; then fail hostile-regs "a vCPU error"
elif [ "$(count 'unhandled' "$tmp/err")" -gt 2 ]; then fail hostile-regs "logged more than once per bus"
elif [ "$(count 'boot marker' "$tmp/err")" -gt 64 ]; then fail hostile-regs "boot markers flood the log"
elif [ "$(count 'virtio-blk0: driver started' "$tmp/err")" -gt 1 ] ||
	[ "$(count 'virtio-blk1: driver started' "$tmp/err")" -gt 1 ] ||
	[ "$(count 'virtio-blk0: the driver broke' "$tmp/err")" -gt 1 ] ||
	[ "$(count 'virtio-blk1: the driver broke' "$tmp/err")" -gt 1 ]; then
	fail hostile-regs "a device fault was logged more than once"
else pass "hostile-regs (${secs}s)"; fi

# shellcheck disable=SC2086
run hostile_rings $disks
show
if [ $rc -ne 0 ]; then fail hostile-rings "exit status $rc, expected 0"
elif ! grep -q 'hostile-rings: OK' "$tmp/out"; then fail hostile-rings "no OK line from the guest"
elif [ "$(count 'hostile-rings: ' "$tmp/out")" -ne 12 ]; then fail hostile-rings "a progress line is missing"
elif [ "$(count 'virtio-blk0: driver started the device with unusable queues' "$tmp/err")" -ne 1 ]; then
	fail hostile-rings "rings outside RAM: expected one log line"
# ELOOP's text is the C library's: glibc's "Too many levels...", musl's "Symbolic link loop"
elif [ "$(count 'virtio-blk0: queue 0: driver error (\(Too many levels\|Symbolic link loop\)' \
	"$tmp/err")" -ne 1 ]; then
	fail hostile-rings "descriptor loops: expected one log line"
elif [ "$(count 'virtio-blk0: queue 0: driver error (Invalid argument)' "$tmp/err")" -ne 1 ]; then
	fail hostile-rings "nested indirect table: expected one log line"
elif [ "$(count 'virtio-blk0: the driver broke the virtqueue rules' "$tmp/err")" -ne 1 ]; then
	fail hostile-rings "NEEDS_RESET: expected one log line"
elif [ "$(count 'virtio-blk' "$tmp/err")" -ne 4 ]; then
	fail hostile-rings "unexpected device log lines (the second disk must have none)"
else pass "hostile-rings (${secs}s)"; fi

# shellcheck disable=SC2086
run hostile_notify $disks
show
if [ $rc -ne 0 ]; then fail hostile-notify "exit status $rc, expected 0"
elif ! grep -q 'hostile-notify: OK' "$tmp/out"; then fail hostile-notify "no OK line from the guest"
elif [ "$(count 'virtio-blk' "$tmp/err")" -ne 0 ]; then
	fail hostile-notify "a notification flood was logged as a device fault"
elif [ "$(count 'unhandled' "$tmp/err")" -gt 2 ]; then fail hostile-notify "logged more than once per bus"
else pass "hostile-notify (${secs}s)"; fi

# shellcheck disable=SC2086
run hostile_status $disks
show
if [ $rc -ne 0 ]; then fail hostile-status "exit status $rc, expected 0 (a signal here: the device wrote past guest RAM)"
elif ! grep -q 'hostile-status: OK' "$tmp/out"; then fail hostile-status "no OK line from the guest"
elif [ "$(count 'hostile-status: ' "$tmp/out")" -ne 8 ]; then fail hostile-status "a progress line is missing"
elif [ "$(count 'virtio-blk0: driver tried to clear device status bits' "$tmp/err")" -ne 1 ]; then
	fail hostile-status "the cleared status bits: expected one log line"
elif [ "$(count 'virtio-blk1' "$tmp/err")" -ne 0 ]; then
	fail hostile-status "the second disk logged a fault"
else pass "hostile-status (${secs}s)"; fi

rm -rf "$tmp"
