#!/bin/sh
# Tiny-guest tests: small flat binaries run by the VMM on a real /dev/kvm, checking
# serial output, unknown-port handling, exit statuses and signal handling; then the
# hostile guests (hostile_*.S), which attack the VMM's devices over two disk images made
# here and must leave it running, its devices working and its log short.
# Usage: run-tiny.sh VMM GUESTDIR   (POSIX sh: it also runs inside the nested harness)
# Prints PASS:/FAIL: lines.
vmm=$1
dir=$2
tmp=${TMPDIR:-/tmp}/tiny.$$
mkdir -p "$tmp"
# vmm_threads_check, from the harness's library: beside this file in the source tree,
# in /lib/harness inside the harness's L1
for lib in "$(dirname "$0")/../harness/scenario-lib.sh" /lib/harness/scenario.sh; do
	if [ -f "$lib" ]; then
		# shellcheck source=SCRIPTDIR/../harness/scenario-lib.sh
		. "$lib"
		break
	fi
done

pass() { echo "PASS: tiny $1"; }
fail() {
	echo "FAIL: tiny $1: $2"
	sed 's/^/    | /' "$tmp/out" "$tmp/err" 2>/dev/null | tail -n 20
}

# run NAME [vmm options...]: runs the guest with a $limit s limit (default 30), sets $rc
# and $secs (wall time)
run() {
	name=$1
	shift
	t0=$(date +%s)
	timeout "${limit:-30}" "$vmm" --flat "$dir/$name.bin" --memory 16M "$@" \
		</dev/null >"$tmp/out" 2>"$tmp/err"
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

run unknown_port
if [ $rc -ne 0 ]; then fail unknown-port "exit status $rc, expected 0"
elif ! grep -q 'reads gave all-ones' "$tmp/out"; then fail unknown-port "reads were not all-ones"
elif [ "$(grep -c 'unhandled' "$tmp/err")" -gt 2 ]; then fail unknown-port "logged more than once per bus"
else pass unknown-port; fi

run triple_fault
if [ $rc -ne 4 ]; then fail triple-fault "exit status $rc, expected 4"
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
"$vmm" --flat "$dir/spin.bin" --memory 16M </dev/null >"$tmp/out" 2>"$tmp/err" &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q 'spin: ready' "$tmp/out"; do sleep 0.1; i=$((i + 1)); done
kill -TERM $pid
wait $pid
rc=$?
if [ $rc -ne 143 ]; then fail sigterm "exit status $rc, expected 143"
else pass sigterm; fi

# Every thread of a running VMM with a share (whose workers exist before the guest
# starts them) keeps no capability and runs under no-new-privs and a seccomp filter:
# as started, and switched to another user with --user (docs/security.md, "Start-up
# order").
# privileges LABEL [vmm options...]
privileges() {
	label=$1
	shift
	mkdir -p "$tmp/share"
	"$vmm" --flat "$dir/spin.bin" --memory 16M --cpus 2 --share "$tmp/share" "$@" \
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
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: tiny thread privileges with --user: only root may switch"
	else
		privileges "thread privileges with --user" --user 65534:65534
	fi
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
elif [ "$(count 'virtio-blk0: queue 0: driver error (Too many levels' "$tmp/err")" -ne 1 ]; then
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

rm -rf "$tmp"
