#!/usr/bin/env bash
# Asks a running QEMU's human monitor and prints its answers as plain lines.
#
#   tests/harness/qemu-monitor.sh MONITOR_SOCKET COMMAND...
#
# Each COMMAND (e.g. 'info registers') is sent as a line; QEMU gets a second to
# answer. Output has no CRs and none of the monitor's terminal escapes. Exit
# status 1 when socat is missing or nothing answered within 5 s.
set -u
mon=$1
shift
command -v socat >/dev/null || exit 1
{ printf '%s\n' "$@"; sleep 1; } | timeout 5 socat - "UNIX-CONNECT:$mon" 2>/dev/null |
    tr -d '\r' | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' | grep .
