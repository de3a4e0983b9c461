#!/bin/bash
# --gdb against tiny guests, with Debian's gdb in batch mode: attach before the first
# instruction, registers, memory, a step, a hardware breakpoint, a software one (real
# VT-x/AMD-V only: KVM's instruction emulator on PVM cannot run a guest's int3 under
# guest debugging), Ctrl-C, a unix socket, and a hostile client that must leave the VM
# running and the next client served.
# Usage: run-gdb.sh VMM GUESTDIR. Prints PASS:/FAIL:/SKIP: lines.
# Env: host-kind.sh's VMM_TEST_* variables, VMM_TEST_KVM_DEVICE.
set -u
vmm=$1
dir=$2
here=$(cd "$(dirname "$0")" && pwd)
kvm=${VMM_TEST_KVM_DEVICE:-/dev/kvm}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT

kind=$(sh "$here/host-kind.sh") || exit 1
case $kind in
none:*)
	echo "SKIP: gdb: ${kind#none: }"
	exit 0
	;;
esac
if ! command -v gdb >/dev/null; then
	echo "SKIP: gdb: Debian's gdb is not installed (make deps installs it)"
	exit 0
fi

pass() { echo "PASS: gdb $1"; }
fail() {
	echo "FAIL: gdb $1: $2"
	for f in "$tmp/gdb.out" "$tmp/vmm.out" "$tmp/vmm.err"; do
		[ -s "$f" ] && sed "s#^#    | $(basename "$f"): #" "$f" | tail -n 15
	done
}

# A free TCP port on the loopback: bash's /dev/tcp fails to connect where nobody listens.
free_port() {
	local p
	for p in $(seq $((20000 + $$ % 20000)) $((20100 + $$ % 20000))); do
		(: </dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
	done
}

# start_vmm GUEST OPTIONS...: the VMM in the background, $vmm_pid; waits for the socket.
start_vmm() {
	local guest=$1
	shift
	: >"$tmp/vmm.out" >"$tmp/vmm.err"
	timeout 60 "$vmm" --flat "$dir/$guest.bin" --memory 16M --kvm-device "$kvm" "$@" \
		</dev/null >"$tmp/vmm.out" 2>"$tmp/vmm.err" &
	vmm_pid=$!
	for _ in $(seq 50); do
		grep -q "uuid" "$tmp/vmm.err" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.3
}

# vmm_status: wait for the VMM; $status
vmm_status() {
	wait "$vmm_pid"
	status=$?
}

gdb_batch() {
	timeout 40 gdb -nx -batch -ex 'set architecture i386:x86-64' -ex 'set remotetimeout 10' \
		"$@" >"$tmp/gdb.out" 2>&1
}

# ---- attach before the first instruction, look, step, break in hardware, run to the end
port=$(free_port)
start_vmm hello --gdb "tcp:127.0.0.1:$port" --gdb-wait
gdb_batch -ex "target remote 127.0.0.1:$port" -ex 'p/x $rip' -ex 'stepi' -ex 'p/x $rip' \
	-ex 'x/6cb 0x10002f' -ex 'info threads' -ex 'hbreak *0x100010' -ex 'continue' \
	-ex 'p/x $rip' -ex 'set $rax = 0x3400' -ex 'p/x $rax' -ex 'delete' -ex 'continue'
vmm_status
if ! grep -q '^\$1 = 0x100000$' "$tmp/gdb.out"; then
	fail attach "the guest was not stopped at its first instruction (0x100000)"
elif ! grep -q '^\$2 = 0x100007$' "$tmp/gdb.out"; then
	fail attach "stepi did not go one instruction on (to 0x100007)"
elif ! grep -q "104 'h'.*101 'e'.*108 'l'.*108 'l'.*111 'o'" "$tmp/gdb.out"; then
	fail attach "guest memory at 0x10002f did not read as the guest's string"
elif ! grep -q '^\* 1 *Thread 1 ' "$tmp/gdb.out"; then
	fail attach "the vCPU is not listed as thread 1"
elif ! grep -q '^\$3 = 0x100010$' "$tmp/gdb.out"; then
	fail attach "the hardware breakpoint at 0x100010 was not hit"
elif ! grep -q '^\$4 = 0x3400$' "$tmp/gdb.out"; then
	fail attach "a register write did not read back"
elif [ "$status" -ne 0 ] || ! grep -q 'hello from a tiny guest' "$tmp/vmm.out"; then
	fail attach "after the last continue the guest should print and power off (status $status)"
else
	pass "attach: first instruction, stepi, memory, thread, hbreak, register write, run to poweroff"
fi

# ---- a software breakpoint: int3 in guest memory
if [ "${kind%%:*}" = real ]; then
	port=$(free_port)
	start_vmm hello --gdb "tcp:127.0.0.1:$port" --gdb-wait
	gdb_batch -ex "target remote 127.0.0.1:$port" -ex 'break *0x10001d' -ex 'continue' \
		-ex 'p/x $rip' -ex 'x/1xb 0x10001d' -ex 'delete' -ex 'continue'
	vmm_status
	if ! grep -q '^\$1 = 0x10001d$' "$tmp/gdb.out"; then
		fail swbreak "the breakpoint at 0x10001d was not hit"
	elif ! grep -q '0x10001d:.*0xec' "$tmp/gdb.out"; then
		fail swbreak "memory under the breakpoint should read as the guest's byte (0xec)"
	elif [ "$status" -ne 0 ] || ! grep -q 'hello from a tiny guest' "$tmp/vmm.out"; then
		fail swbreak "the guest did not finish intact (status $status)"
	else
		pass "swbreak: int3 hit, the guest's byte shown, removed, the guest finished"
	fi
else
	echo "SKIP: gdb swbreak: KVM's instruction emulator here fails on a guest's int3 under" \
		"guest debugging (real VT-x/AMD-V only)"
fi

# ---- Ctrl-C stops a running guest; detach lets it run on
port=$(free_port)
start_vmm spin --gdb "tcp:127.0.0.1:$port"
(
	sleep 3
	pkill -INT -f "^gdb .*target remote 127.0.0.1:$port" 2>/dev/null
) &
gdb_batch -ex "target remote 127.0.0.1:$port" -ex 'continue' -ex 'p/x $rip' -ex 'detach'
sleep 1
running=no
kill -0 "$vmm_pid" 2>/dev/null && running=yes
kill -TERM "$vmm_pid" 2>/dev/null
vmm_status
if ! grep -q 'received signal SIGINT' "$tmp/gdb.out"; then
	fail interrupt "gdb's Ctrl-C did not stop the guest"
elif ! grep -qE '^\$1 = 0x10000[ce]$' "$tmp/gdb.out"; then
	fail interrupt "the guest was not stopped in its spin loop"
elif [ $running != yes ]; then
	fail interrupt "the VMM did not run on after gdb detached"
else
	pass "interrupt: Ctrl-C stopped the guest in its loop, detach let it run on"
fi

# ---- a VM paused over the API stays paused when a debugger comes and goes, continue or not
sock=$tmp/api.sock
port=$(free_port)
start_vmm ticker --gdb "tcp:127.0.0.1:$port" --api-socket "$sock"
for _ in $(seq 50); do [ "$(grep -c tick "$tmp/vmm.out")" -ge 3 ] && break; sleep 0.1; done
why=
"$vmm" ctl "$sock" pause >"$tmp/ctl" 2>&1 || why="pause: $(cat "$tmp/ctl")"
gdb_batch -ex "target remote 127.0.0.1:$port" -ex 'p/x $rip' -ex 'detach'
grep -q '^\$1 = 0x' "$tmp/gdb.out" || why="$why; gdb did not attach to the paused VM"
gdb_batch -ex "target remote 127.0.0.1:$port" -ex 'stepi' -ex 'p/x $rip' -ex 'detach'
grep -q '^\$1 = 0x' "$tmp/gdb.out" || why="$why; gdb did not step the paused VM"
size1=$(wc -c <"$tmp/vmm.out")
sleep 1.5
size2=$(wc -c <"$tmp/vmm.out")
[ "$size1" = "$size2" ] || why="$why; the guest ran after gdb detached ($((size2 - size1)) bytes)"
"$vmm" ctl "$sock" info >"$tmp/ctl" 2>&1
grep -q '"paused"' "$tmp/ctl" || why="$why; vm.info does not say paused: $(head -c 200 "$tmp/ctl")"
"$vmm" ctl "$sock" resume >"$tmp/ctl" 2>&1 || why="$why; resume: $(cat "$tmp/ctl")"
for _ in $(seq 50); do [ "$(wc -c <"$tmp/vmm.out")" -gt "$size2" ] && break; sleep 0.1; done
[ "$(wc -c <"$tmp/vmm.out")" -gt "$size2" ] || why="$why; no tick after resume"
kill -TERM "$vmm_pid" 2>/dev/null
vmm_status
if [ -n "$why" ]; then fail api-paused "${why#; }"
else pass "api-paused: a VM paused over the API stayed paused across two gdb sessions, resumed over the API"; fi

# ---- a packet sent twice in one go (gdb retransmits after 2 s without our '+') is answered once
port=$(free_port)
start_vmm spin --gdb "tcp:127.0.0.1:$port"
replies=$(printf '$?#3f$?#3f' | timeout 10 socat -t 2 - "TCP:127.0.0.1:$port" 2>/dev/null |
	grep -o 'T02thread' | wc -l)
kill -TERM "$vmm_pid" 2>/dev/null
vmm_status
if [ "$replies" != 1 ]; then
	fail retransmit "a packet sent twice got $replies answers, expected 1"
else
	pass "retransmit: the same packet twice in one read is answered once"
fi

# ---- a hostile client, a second client, then a real one over a unix socket
sock=$tmp/gdb.sock
start_vmm spin --gdb "unix:$sock"
mode=$(stat -c %a "$sock" 2>/dev/null)
{
	printf '$m0,1#zz$g#00\003+-'
	printf '$m10000000000000000,1#00$M0,9999:00#00'
	head -c 6000 /dev/zero | tr '\0' 'a'
	printf '#00'
	head -c 20000 /dev/urandom
	printf '$qSupp' # and go away in the middle of a packet
} | timeout 10 socat -t 1 - "UNIX-CONNECT:$sock" >/dev/null 2>&1
# while gdb is attached, a second client is turned away at once
timeout 20 gdb -nx -batch -ex 'set architecture i386:x86-64' -ex "target remote $sock" \
	-ex "shell printf '\$g#67' | timeout 5 socat -t 3 - UNIX-CONNECT:$sock >$tmp/second.out; echo second=\$?" \
	-ex 'p/x $rip' -ex 'detach' >"$tmp/gdb.out" 2>&1
sleep 0.5
running=no
kill -0 "$vmm_pid" 2>/dev/null && running=yes
kill -TERM "$vmm_pid" 2>/dev/null
vmm_status
if ! command -v socat >/dev/null; then
	echo "SKIP: gdb hostile: socat is not installed (make deps installs it)"
elif [ "$mode" != 600 ]; then
	fail hostile "the unix socket has mode '$mode', expected 600"
elif [ $running != yes ]; then
	fail hostile "the VMM did not survive the hostile client"
elif ! grep -qE '^\$1 = 0x10000[ce]$' "$tmp/gdb.out"; then
	fail hostile "the next client was not served over the unix socket"
elif grep -q '^second=124$' "$tmp/gdb.out" || [ -s "$tmp/second.out" ]; then
	fail hostile "a second client at the same time was answered (or hung)"
elif [ -e "$sock" ]; then
	fail hostile "the socket was left behind at exit"
elif grep -q 'seccomp' "$tmp/vmm.err"; then
	fail hostile "a seccomp violation"
else
	pass "hostile: garbage, bad checksums, huge numbers and packets, a half packet: the VM ran on, the next client (unix socket, mode 600) was served, a second one at once turned away, the socket removed"
fi
