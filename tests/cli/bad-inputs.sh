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

# expect NAME PATTERN ARGS...: exit status 2, one line on stderr matching PATTERN
expect() {
	local name=$1 pattern=$2
	shift 2
	"$vmm" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	local rc=$? lines
	lines=$(wc -l <"$tmp/err")
	if [ $rc -ne 2 ]; then
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
expect memory-zero "--memory 0" --kernel "$tmp/text" --memory 0
expect memory-junk "--memory lots" --kernel "$tmp/text" --memory lots
expect memory-beyond-host "--memory $too_much: more than this host" --kernel "$tmp/text" \
	--memory "$too_much"
expect memory-1T "--memory 1T" --kernel "$tmp/text" --memory 1T
expect cpus-zero "--cpus 0" --kernel "$tmp/text" --cpus 0
expect cpus-junk "--cpus two" --kernel "$tmp/text" --cpus two
expect unknown-option "unknown option --frobnicate" --kernel "$tmp/text" --frobnicate
expect no-kernel "--kernel is required"
expect missing-initrd "--initrd $tmp/nonexistent" --kernel "$tmp/text" --initrd "$tmp/nonexistent"
expect console-mode "--console tty" --kernel "$tmp/text" --console tty
expect missing-disk "--disk path=$tmp/nonexistent: No such file" --kernel "$tmp/text" \
	--disk path="$tmp/nonexistent"
expect disk-bad-key "--disk foo=bar: unknown key" --kernel "$tmp/text" --disk path="$tmp/text",foo=bar
expect disk-no-path "path=FILE is required" --kernel "$tmp/text" --disk readonly=on
expect stray-argument "unexpected argument" --kernel "$tmp/text" extra
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
expect run-missing-rootfs "--rootfs $tmp/nonexistent" run --kernel "$tmp/text" \
	--rootfs "$tmp/nonexistent" -- true
expect run-rootfs-not-dir "--rootfs $tmp/text: not a directory" run --kernel "$tmp/text" \
	--rootfs "$tmp/text" -- true
expect run-root-tag "tag 'vmm-run-root' is already used" run --kernel "$tmp/text" \
	--share "$tmp/share:vmm-run-root" -- true
expect run-only-option "--verbose only works with vmm run" --kernel "$tmp/text" --verbose
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
printf '{"kernel": "%s", "command": ["true"]}' "$tmp/text" >"$tmp/cmd.json"
expect config-command-plain-boot "\"command\" is only for vmm run" --config "$tmp/cmd.json"
expect config-command-used "not a bzImage" run --config "$tmp/cmd.json" --rootfs "$tmp/share"
