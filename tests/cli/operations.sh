#!/bin/bash
# The systemd unit in docs/operations.md is one that systemd accepts: systemd-analyze
# verify on it, with the VMM's path pointed at this build. SKIP without systemd-analyze.
set -u
cd "$(dirname "$0")/../.." || exit 2
vmm=$(realpath "${1:-build/vmm}")
if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: operations unit: systemd-analyze is not installed"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^```ini$/ { on = 1; next } /^```$/ { on = 0 } on' docs/operations.md |
	sed "s#/usr/local/bin/vmm#$vmm#g" >"$tmp/vm@.service"
if [ ! -s "$tmp/vm@.service" ]; then
	echo "FAIL: operations unit: no unit found in docs/operations.md"
	exit 1
fi
cp "$tmp/vm@.service" "$tmp/vm@web.service"
if out=$(cd "$tmp" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
	"$tmp/vm@web.service" 2>&1) && [ -z "$out" ]; then
	echo "PASS: operations unit: systemd-analyze verify accepts docs/operations.md's vm@.service"
else
	echo "FAIL: operations unit: systemd-analyze verify: $(echo "$out" | head -n 5 | tr '\n' ' ')"
	exit 1
fi
