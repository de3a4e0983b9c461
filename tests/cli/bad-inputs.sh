#!/bin/bash
# Bad command lines and input files: each must give exactly one line naming the
# problem and exit status 2, before the VMM touches /dev/kvm.
# Usage: tests/cli/bad-inputs.sh [VMM]   Prints PASS:/FAIL: lines.
set -u
vmm=${1:-build/vmm}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "this is a text file, not a kernel" >"$tmp/text"
: >"$tmp/empty"
host_mem_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo)
too_much=$(( (host_mem_kb / 1024 / 1024 + 1) * 2 ))G

# expect NAME PATTERN ARGS...: exit status 2, one line on stderr matching PATTERN, within
# $limit seconds (a rejected input is answered at once; one that hangs fails here)
limit=10
expect() {
	local name=$1 pattern=$2
	shift 2
	timeout -k 2 "$limit" "$vmm" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	local rc=$? lines
	lines=$(wc -l <"$tmp/err")
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "FAIL: bad-input $name: still running after $limit s (stopped): it hangs"
	elif [ $rc -ne 2 ]; then
		echo "FAIL: bad-input $name: exit status $rc, expected 2"
	elif [ "$lines" -ne 1 ]; then
		echo "FAIL: bad-input $name: $lines lines on stderr, expected 1"
	elif ! grep -q -- "$pattern" "$tmp/err"; then
		echo "FAIL: bad-input $name: message '$(cat "$tmp/err")' lacks '$pattern'"
	else
		echo "PASS: bad-input $name ($(cat "$tmp/err"))"
	fi
}

expect missing-kernel "--kernel $tmp/nonexistent: No such file" --kernel "$tmp/nonexistent"
expect text-kernel "not a bzImage" --kernel "$tmp/text"
expect empty-kernel "not a bzImage" --kernel "$tmp/empty"
expect directory-kernel "not a regular file" --kernel "$tmp"
# ELF files that are not a vmlinux: cut short, and a program (position-independent)
printf '\177ELF\002\001\001' >"$tmp/elf-short"
expect elf-short-kernel "ELF file is too short" --kernel "$tmp/elf-short"
expect elf-program-kernel "not an executable (a vmlinux is one)" --kernel "$(command -v sh)"
# bzImages whose payload the VMM unpacks (--kernel-unpack host, the default): a header
# (protocol 2.15, 1 KiB of setup) whose 1 MiB payload runs past the file's 4 KiB, and one
# whose 16-byte payload is gzip's magic and then noise. Their cache is this test's.
put() { printf "$2" | dd of="$1" bs=1 seek=$(($3)) conv=notrunc status=none; }
head -c 4096 /dev/zero >"$tmp/bz-truncated"
put "$tmp/bz-truncated" '\001' 0x1f1             # setup_sects
put "$tmp/bz-truncated" '\125\252' 0x1fe         # boot_flag 0xaa55
put "$tmp/bz-truncated" 'HdrS\017\002' 0x202     # header, version 2.15
put "$tmp/bz-truncated" '\001' 0x211             # loadflags: LOADED_HIGH
put "$tmp/bz-truncated" '\000\000\040\000\001\000\001' 0x230 # alignment, relocatable, XLF_KERNEL_64
put "$tmp/bz-truncated" '\000\001\000\000\000\000\020\000' 0x248 # payload at 0x100, 1 MiB
put "$tmp/bz-truncated" '\000\000\000\001' 0x258 # pref_address 16 MiB
put "$tmp/bz-truncated" '\000\000\100\000' 0x260 # init_size 4 MiB
cp "$tmp/bz-truncated" "$tmp/bz-corrupt"
put "$tmp/bz-corrupt" '\020\000\000\000' 0x24c  # payload_length 16
put "$tmp/bz-corrupt" '\037\213\010\000noisenoise\000\020\000\000' 0x500
XDG_CACHE_HOME=$tmp/cache expect bzimage-truncated "--kernel $tmp/bz-truncated: bzImage is truncated" \
	--kernel "$tmp/bz-truncated"
XDG_CACHE_HOME=$tmp/cache expect bzimage-corrupt-payload "--kernel $tmp/bz-corrupt: payload is" \
	--kernel "$tmp/bz-corrupt"
expect kernel-unpack-value "--kernel-unpack sideways" --kernel "$tmp/text" --kernel-unpack sideways
expect memory-zero "--memory 0" --kernel "$tmp/text" --memory 0
expect memory-junk "--memory lots" --kernel "$tmp/text" --memory lots
expect memory-beyond-host "--memory $too_much: more than this host" --kernel "$tmp/text" \
	--memory "$too_much"
expect memory-1T "--memory 1T" --kernel "$tmp/text" --memory 1T
expect cpus-zero "--cpus 0" --kernel "$tmp/text" --cpus 0
expect cpus-junk "--cpus two" --kernel "$tmp/text" --cpus two
expect unknown-option "unknown option --frobnicate" --kernel "$tmp/text" --frobnicate
expect no-kernel "--kernel is required"
# --restore (docs/snapshot.md): a bad URL, no snapshot, a state file that is not one
expect restore-no-key "expected source_url=file:///DIR" --restore "file://$tmp"
expect restore-http "not a file:///DIR URL" --restore source_url=http://host/dir
expect restore-relative "needs an absolute directory" --restore source_url=file://snap
expect restore-missing "--restore $tmp/nonexistent: no snapshot there" \
	--restore "source_url=file://$tmp/nonexistent"
mkdir -p "$tmp/snap-empty" "$tmp/snap-text"
: >"$tmp/snap-empty/state"
: >"$tmp/snap-empty/memory"
expect restore-empty-state "state: truncated" --restore "source_url=file://$tmp/snap-empty"
head -c 4096 /dev/urandom >"$tmp/snap-text/state"
: >"$tmp/snap-text/memory"
expect restore-not-a-snapshot "not a snapshot state file" \
	--restore "source_url=file://$tmp/snap-text"
mkdir -p "$tmp/snap-fifo"
mkfifo "$tmp/snap-fifo/state" "$tmp/snap-fifo/memory"
expect restore-fifo "state: not a regular file" --restore "source_url=file://$tmp/snap-fifo"
expect restore-with-kernel "leave out --kernel" --restore "source_url=file://$tmp" \
	--kernel "$tmp/text"
expect run-restore "cannot be used with vmm run" run --restore "source_url=file://$tmp" -- true
expect restore-with-uuid "--uuid: a restored guest keeps what its boot set" \
	--restore "source_url=file://$tmp" --uuid 6f0c1e6a-8d1b-4b7e-9a34-1d2c3b4a5f60
expect restore-with-cmdline "--cmdline: a restored guest keeps" --restore "source_url=file://$tmp" \
	--cmdline "console=ttyS0"
expect missing-initrd "--initrd $tmp/nonexistent" --kernel "$tmp/text" --initrd "$tmp/nonexistent"
expect console-mode "--console tty" --kernel "$tmp/text" --console tty
expect missing-disk "--disk path=$tmp/nonexistent: No such file" --kernel "$tmp/text" \
	--disk path="$tmp/nonexistent"
expect disk-bad-key "--disk foo=bar: unknown key" --kernel "$tmp/text" --disk path="$tmp/text",foo=bar
expect disk-no-path "path=FILE is required" --kernel "$tmp/text" --disk readonly=on
expect net-no-backend "--net mac=02:00:00:00:00:01: must start with tap=IFNAME or tap-fd=N" \
	--kernel "$tmp/text" --net mac=02:00:00:00:00:01
expect net-bad-mac "--net mac=01:00:5e:00:00:01: not a unicast MAC" --kernel "$tmp/text" \
	--net tap=vmmtest0,mac=01:00:5e:00:00:01
expect net-short-mac "--net mac=02:00:00:00:00: not a unicast MAC" --kernel "$tmp/text" \
	--net tap=vmmtest0,mac=02:00:00:00:00
expect net-queues-zero "--net queues=0: queue pairs must be 1 to 8" --kernel "$tmp/text" \
	--net tap=vmmtest0,queues=0
expect net-queues-junk "--net queues=lots" --kernel "$tmp/text" --net tap=vmmtest0,queues=lots
expect net-vhost-value "--net vhost=yes: must be on or off" --kernel "$tmp/text" \
	--net tap=vmmtest0,vhost=yes
expect net-bad-key "--net speed=10: unknown key" --kernel "$tmp/text" --net tap=vmmtest0,speed=10
expect net-key-twice "--net mac=02:00:00:00:00:02: given twice" --kernel "$tmp/text" \
	--net tap=vmmtest0,mac=02:00:00:00:00:01,mac=02:00:00:00:00:02
expect net-long-ifname "--net tap=averyveryverylongname: an interface name is at most 15" \
	--kernel "$tmp/text" --net tap=averyveryverylongname
expect net-tap-fd-junk "--net tap-fd=x: not a file descriptor number" --kernel "$tmp/text" \
	--net tap-fd=x
expect net-tap-fd-closed "--net tap-fd=57: Bad file descriptor" --kernel "$tmp/text" --net tap-fd=57
expect net-tap-fd-not-tap "--net tap-fd=0: not a TAP device" --kernel "$tmp/text" --net tap-fd=0
expect net-tap-fd-queues "--net tap-fd=0,queues=2: tap-fd= carries one queue pair" \
	--kernel "$tmp/text" --net tap-fd=0,queues=2
expect net-too-many "at most 4 network devices" --kernel "$tmp/text" --net tap-fd=0 \
	--net tap-fd=0 --net tap-fd=0 --net tap-fd=0 --net tap-fd=0
expect net-user-udp "--net hostfwd=udp::5353-:53: only tcp" --kernel "$tmp/text" \
	--net user,hostfwd=udp::5353-:53
expect net-user-form "--net hostfwd=tcp:8080:80: expected hostfwd=tcp:" --kernel "$tmp/text" \
	--net user,hostfwd=tcp:8080:80
expect net-user-port-zero "--net hostfwd=tcp::0-:22: ports are 1 to 65535" --kernel "$tmp/text" \
	--net user,hostfwd=tcp::0-:22
expect net-user-port-big "--net hostfwd=tcp::2222-:65536: ports are 1 to 65535" \
	--kernel "$tmp/text" --net user,hostfwd=tcp::2222-:65536
expect net-user-host-addr "--net hostfwd=tcp:localhost:2222-:22: the host address must be IPv4" \
	--kernel "$tmp/text" --net user,hostfwd=tcp:localhost:2222-:22
expect net-user-guest-addr "--net hostfwd=tcp::2222-10.0.2.16:22: the guest address is always" \
	--kernel "$tmp/text" --net user,hostfwd=tcp::2222-10.0.2.16:22
expect net-user-fwd-twice "--net hostfwd=tcp:0.0.0.0:2222-:23: that host port is already" \
	--kernel "$tmp/text" --net user,hostfwd=tcp::2222-:22,hostfwd=tcp:0.0.0.0:2222-:23
expect net-user-queues "--net user,queues=2: user networking has one queue pair" \
	--kernel "$tmp/text" --net user,queues=2
expect net-user-vhost "--net user,vhost=on: vhost=on needs a TAP" --kernel "$tmp/text" \
	--net user,vhost=on
expect net-user-empty "--net user,: expected key=value" --kernel "$tmp/text" --net user,
expect net-tap-hostfwd "--net hostfwd=tcp::2222-:22: only user networking" --kernel "$tmp/text" \
	--net tap=vmmtest0,hostfwd=tcp::2222-:22
# the static binary is built without libslirp: it must say so before anything else fails
static=$(dirname "$vmm")/vmm-static
if [ -x "$static" ]; then
	dynamic=$vmm
	vmm=$static
	expect net-user-static "--net user: this VMM was built without user networking" \
		--kernel "$tmp/text" --net user,hostfwd=tcp::2222-:22
	vmm=$dynamic
fi
expect stray-argument "unexpected argument" --kernel "$tmp/text" extra
expect seccomp-mode "--seccomp maybe: must be on, log or off" --kernel "$tmp/text" --seccomp maybe
expect vmgenid-mode "--vmgenid maybe: must be on or off" --kernel "$tmp/text" --vmgenid maybe
expect run-vmgenid "--vmgenid cannot be used with vmm run" run --vmgenid off -- true
expect user-name "--user nobody: expected UID or UID:GID" --kernel "$tmp/text" --user nobody
expect stats-json-dir "--stats-json $tmp/nonexistent/s.json" --flat "$tmp/text" \
	--stats-json "$tmp/nonexistent/s.json"
mkdir -p "$tmp/share/data" "$tmp/other/data"
expect share-missing-dir "--share $tmp/nonexistent: No such file" --kernel "$tmp/text" \
	--share "$tmp/nonexistent"
expect share-not-a-directory "--share $tmp/text: not a directory" --kernel "$tmp/text" \
	--share "$tmp/text"
expect share-tag-too-long "tag longer than 36 bytes" --kernel "$tmp/text" \
	--share "$tmp/share:abcdefghijklmnopqrstuvwxyz0123456789X"
expect share-duplicate-tag "tag 'data' is already used" --kernel "$tmp/text" \
	--share "$tmp/share/data" --share "$tmp/other/data"
expect share-duplicate-explicit-tag "tag 't' is already used" --kernel "$tmp/text" \
	--share "$tmp/share:t" --share "$tmp/other:t"
expect share-empty-tag "empty tag" --kernel "$tmp/text" --share "$tmp/share:"
expect share-no-dir "needs a host directory" --kernel "$tmp/text" --share ":tag"
expect share-bad-setting "unknown setting 'readonly=yes'" --kernel "$tmp/text" \
	--share "$tmp/share,readonly=yes"
expect share-bad-cache "unknown setting 'cache=fast' (readonly=on|off, cache=never|auto|always)" \
	--kernel "$tmp/text" --share "$tmp/share,cache=fast"
expect share-blank-in-tag "printable ASCII without blanks" --kernel "$tmp/text" \
	--share "$tmp/share:a b"
expect share-too-many "at most 8 shares" --kernel "$tmp/text" \
	$(for i in 1 2 3 4 5 6 7 8 9; do echo --share "$tmp/share:t$i"; done)

# vmm run and --config
expect run-no-command "a command is needed" run --kernel "$tmp/text"
expect run-initrd "--initrd cannot be used with vmm run" run --kernel "$tmp/text" --initrd x -- true
expect run-bad-env "--env 1X=y" run --kernel "$tmp/text" --env 1X=y -- true
expect run-relative-cwd "must be an absolute path" run --kernel "$tmp/text" --cwd rel -- true
expect run-bad-timeout "--timeout 1h" run --kernel "$tmp/text" --timeout 1h -- true
expect run-kernel-dir "--kernel $tmp: a directory, but not a kernel build tree" run --kernel "$tmp" \
	-- true
mkdir -p "$tmp/tree/include/config"
echo 6.1.0-test >"$tmp/tree/include/config/kernel.release"
expect run-kernel-tree-unbuilt "a kernel build tree without arch/x86/boot/bzImage (run make)" \
	run --kernel "$tmp/tree" -- true
expect run-missing-rootfs "--rootfs $tmp/nonexistent" run --kernel "$tmp/text" \
	--rootfs "$tmp/nonexistent" -- true
expect run-rootfs-not-dir "--rootfs $tmp/text: not a directory" run --kernel "$tmp/text" \
	--rootfs "$tmp/text" -- true
expect run-root-tag "tag 'vmm-run-root' is already used" run --kernel "$tmp/text" \
	--share "$tmp/share:vmm-run-root" -- true
expect run-only-option "--verbose only works with vmm run" --kernel "$tmp/text" --verbose
expect run-rwdir-missing "--rwdir $tmp/nonexistent: No such file or directory" run \
	--kernel "$tmp/text" --rwdir "$tmp/nonexistent" -- true
expect run-rwdir-not-dir "--rwdir $tmp/text: not a directory" run --kernel "$tmp/text" \
	--rwdir "$tmp/text" -- true
expect run-overlay-bad "--overlay maybe: must be on or off" run --kernel "$tmp/text" \
	--overlay=maybe -- true
expect run-text-kernel "not a bzImage" run --kernel "$tmp/text" --rootfs "$tmp/share" -- true
printf '{\n  "cpus": 2,\n  "memory": "lots"\n}\n' >"$tmp/bad-value.json"
expect config-bad-value "bad-value.json:3:13: --memory lots" --config "$tmp/bad-value.json" \
	--kernel "$tmp/text"
printf '{"cpus": 2,}' >"$tmp/trailing.json"
expect config-trailing-comma "trailing.json:1:12: trailing comma" --config "$tmp/trailing.json"
printf '{"kernel": "k", "frob": 1}' >"$tmp/unknown.json"
expect config-unknown-key "unknown key \"frob\"" --config "$tmp/unknown.json"
expect config-missing "--config $tmp/nonexistent.json: No such file" \
	--config "$tmp/nonexistent.json"

# FIFOs with no process at the other end: opening one blocks for ever unless the VMM
# opens it without waiting and refuses what is not a regular file (or block device)
mkfifo "$tmp/fifo"
# a bzImage header that the loader accepts (protocol 2.15, relocatable, 64-bit entry), so
# that the initrd is opened: put OFFSET BYTES writes printf-escaped bytes into it
put() { printf "$2" | dd of="$tmp/bzimage" bs=1 seek=$(($1)) conv=notrunc 2>/dev/null; }
head -c 5120 /dev/zero >"$tmp/bzimage"
put 0x1f1 '\001'                          # setup_sects: the kernel starts at 1 KiB
put 0x1fe '\125\252'                      # boot flag 0xaa55
put 0x202 'HdrS\017\002'                  # "HdrS", version 2.15
put 0x211 '\001'                          # loadflags: LOADED_HIGH
put 0x22c '\377\377\377\177\000\000\040\000\001' # initrd_addr_max, kernel_alignment 2 MiB, relocatable
put 0x236 '\001\000\377\007'              # xloadflags: 64-bit entry; cmdline_size 2047
put 0x258 '\000\000\000\001\000\000\000\000\000\000\020' # pref_address 16 MiB, init_size 1 MiB
limit=5
expect fifo-kernel "--kernel $tmp/fifo: not a regular file" --kernel "$tmp/fifo"
expect fifo-flat "--flat $tmp/fifo: not a regular file" --flat "$tmp/fifo"
expect fifo-initrd "--initrd $tmp/fifo: not a regular file" --kernel "$tmp/bzimage" \
	--initrd "$tmp/fifo"
expect fifo-config "--config $tmp/fifo: not a regular file" --config "$tmp/fifo"
expect fifo-disk-readonly "--disk: $tmp/fifo: not a regular file or block device" \
	--flat "$tmp/text" --disk path="$tmp/fifo",readonly=on
expect fifo-disk-readonly-cache-none "--disk: $tmp/fifo: not a regular file or block device" \
	--flat "$tmp/text" --disk path="$tmp/fifo",readonly=on,cache=none
expect fifo-disk "--disk: $tmp/fifo: not a regular file or block device" \
	--flat "$tmp/text" --disk path="$tmp/fifo"
expect api-socket-dir "--api-socket $tmp/nonexistent/api.sock: its directory does not exist" \
	--flat "$tmp/text" --api-socket "$tmp/nonexistent/api.sock"
expect api-socket-file "--api-socket $tmp/text: exists and is not a socket" \
	--flat "$tmp/text" --api-socket "$tmp/text"
expect api-socket-empty "needs a socket path" --flat "$tmp/text" --api-socket ""
expect gdb-kind "--gdb serial:0: expected tcp:HOST:PORT or unix:PATH" --flat "$tmp/text" \
	--gdb serial:0
expect gdb-port "--gdb tcp:127.0.0.1:99999: the port must be 1 to 65535" --flat "$tmp/text" \
	--gdb tcp:127.0.0.1:99999
expect gdb-no-port "--gdb tcp:1234: expected tcp:HOST:PORT" --flat "$tmp/text" --gdb tcp:1234
expect gdb-host "--gdb tcp:localhost:1234: 'localhost' is not an IPv4 address" --flat "$tmp/text" \
	--gdb tcp:localhost:1234
expect gdb-unix-exists "--gdb unix:$tmp/text: $tmp/text exists" --flat "$tmp/text" \
	--gdb "unix:$tmp/text"
expect gdb-unix-dir "--gdb unix:$tmp/nonexistent/g.sock: No such file or directory" \
	--flat "$tmp/text" --gdb "unix:$tmp/nonexistent/g.sock"
expect gdb-empty "needs tcp:HOST:PORT or unix:PATH" --flat "$tmp/text" --gdb ""
expect gdb-wait-alone "--gdb-wait needs --gdb" --flat "$tmp/text" --gdb-wait
expect ctl-command "vmm ctl: frobnicate: not a command" ctl "$tmp/api.sock" frobnicate
expect ctl-arguments "vmm ctl: needs a socket and a command" ctl "$tmp/api.sock"
expect fifo-stats-json "--stats-json $tmp/fifo: a FIFO that no process reads" \
	--flat "$tmp/text" --stats-json "$tmp/fifo"
expect fifo-status-file "--status-file $tmp/fifo: a FIFO that no process reads" \
	run --kernel "$tmp/text" --status-file "$tmp/fifo" -- true
# --boot-cache DIR: a directory we can write, checked before anything is built
expect boot-cache-missing "--boot-cache $tmp/nonexistent: No such file" \
	run --kernel "$tmp/text" --rootfs "$tmp/share" --boot-cache "$tmp/nonexistent" -- true
expect boot-cache-file "--boot-cache $tmp/text: not a directory" \
	run --kernel "$tmp/text" --rootfs "$tmp/share" --boot-cache "$tmp/text" -- true
expect boot-cache-fifo "--boot-cache $tmp/fifo: not a directory" \
	run --kernel "$tmp/text" --rootfs "$tmp/share" --boot-cache "$tmp/fifo" -- true
# --user saves as that user: a directory they cannot write is refused (root's 0700 here)
mkdir -p "$tmp/cache-0700"
chmod 0700 "$tmp/cache-0700"
expect boot-cache-user "--user 54321:54321 cannot write there" \
	run --kernel "$tmp/text" --rootfs "$tmp/share" --user 54321:54321 --boot-cache "$tmp/cache-0700" -- true
expect boot-cache-empty "--boot-cache '': needs a directory" \
	run --kernel "$tmp/text" --rootfs "$tmp/share" --boot-cache "" -- true
# its bounds: keep=N entries, max-size=SIZE bytes (docs/snapshot.md)
expect boot-cache-keep-zero "--boot-cache $tmp/share,keep=0: keep= must be a whole number" \
	run --kernel "$tmp/text" --rootfs "$tmp/share" --boot-cache "$tmp/share,keep=0" -- true
expect boot-cache-keep-junk "--boot-cache $tmp/share,keep=8x: keep= must be a whole number" \
	run --kernel "$tmp/text" --rootfs "$tmp/share" --boot-cache "$tmp/share,keep=8x" -- true
expect boot-cache-max-size-tiny "--boot-cache $tmp/share,max-size=4K: max-size= must be a size" \
	run --kernel "$tmp/text" --rootfs "$tmp/share" --boot-cache "$tmp/share,max-size=4K" -- true
expect boot-cache-unknown "--boot-cache $tmp/share,size=1G: unknown setting 'size=1G'" \
	run --kernel "$tmp/text" --rootfs "$tmp/share" --boot-cache "$tmp/share,size=1G" -- true
expect boot-cache-twice "--boot-cache $tmp/share,keep=2,keep=3: 'keep=3' given twice" \
	run --kernel "$tmp/text" --rootfs "$tmp/share" --boot-cache "$tmp/share,keep=2,keep=3" -- true
# a directory we may not write: as root, checked as nobody (root may write a mode 555 one)
mkdir -p "$tmp/pub/cache-ro" "$tmp/pub/root"
chmod 755 "$tmp" "$tmp/pub" "$tmp/pub/root"
chmod 555 "$tmp/pub/cache-ro"
cp "$tmp/text" "$tmp/pub/text"
chmod 644 "$tmp/pub/text"
saved_vmm=$vmm
if [ "$(id -u)" = 0 ]; then
	printf '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups %s "$@"\n' \
		"$(realpath "$vmm")" >"$tmp/as-nobody"
	chmod 755 "$tmp/as-nobody"
	vmm=$tmp/as-nobody
fi
if [ "$(id -u)" = 0 ] && ! setpriv --reuid=65534 test -x "$(realpath "$saved_vmm")"; then
	echo "SKIP: bad-input boot-cache-unwritable: user nobody cannot run $saved_vmm"
else
	expect boot-cache-unwritable \
		"--boot-cache $tmp/pub/cache-ro: not a directory we can write" \
		run --kernel "$tmp/pub/text" --rootfs "$tmp/pub/root" \
		--boot-cache "$tmp/pub/cache-ro" -- true
fi
vmm=$saved_vmm
expect fifo-run-kernel "--kernel $tmp/fifo: not a regular file" \
	run --kernel "$tmp/fifo" --rootfs "$tmp/share" -- true
mkdir -p "$tmp/modules"
ln -s "$tmp/fifo" "$tmp/modules/modules.dep"
expect fifo-run-modules-dep "--modules $tmp/modules: cannot read modules.dep: not a regular file" \
	run --kernel "$tmp/bzimage" --modules "$tmp/modules" -- true
limit=10

printf '{"kernel": "%s", "command": ["true"]}' "$tmp/text" >"$tmp/cmd.json"
expect config-command-plain-boot "\"command\" is only for vmm run" --config "$tmp/cmd.json"
expect config-command-used "not a bzImage" run --config "$tmp/cmd.json" --rootfs "$tmp/share"
# --jail: refused before any namespace or fork
expect jail-empty "--jail '': needs a directory" --flat "$tmp/text" --jail ''
expect jail-missing "--jail $tmp/nonexistent: No such file" --flat "$tmp/text" \
	--jail "$tmp/nonexistent" --user 1000
expect jail-not-dir "--jail $tmp/text: not a directory" --flat "$tmp/text" --jail "$tmp/text" \
	--user 1000
if [ "$(id -u)" = 0 ]; then
	expect jail-root-without-user "started as root, it needs --user" --flat "$tmp/text" \
		--jail "$tmp"
else
	expect jail-user-not-root "only root can run the VM as another user" --flat "$tmp/text" \
		--jail "$tmp" --user 1000
fi
printf '{"jail": ""}' >"$tmp/jail.json"
expect config-jail-empty "jail.json:1:10: --jail '': needs a directory" --config "$tmp/jail.json" \
	--flat "$tmp/text"
expect rng-rate-zero "--rng rate=0: must be 64 to 1073741824 bytes per second" \
	--kernel "$tmp/text" --rng rate=0
expect rng-rate-junk "--rng rate=fast: must be 64 to" --kernel "$tmp/text" --rng rate=fast
expect rng-rate-too-high "--rng rate=2G: must be 64 to" --kernel "$tmp/text" --rng=rate=2G
expect rng-unknown-setting "--rng speed=5: unknown setting (rate=BYTES_PER_SEC)" \
	--kernel "$tmp/text" --rng=speed=5
printf '{"rng": {"rate": 10}}' >"$tmp/rng.json"
expect config-rng-rate "rng.json:1:9: --rng rate=10: must be 64 to" --config "$tmp/rng.json" \
	--kernel "$tmp/text"
printf '{"rng": "yes"}' >"$tmp/rng-text.json"
expect config-rng-text "rng.*unknown setting" --config "$tmp/rng-text.json" --kernel "$tmp/text"
