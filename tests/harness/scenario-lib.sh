# Sourced by the scenarios: the fault scenarios (full-disk, sigterm, kill9,
# disk-lock) act on a running VMM from outside with most of it; every scenario
# that judges a VMM's exit status uses vmm_status_why. mkinitrd-host.sh puts it
# in L1 as /lib/harness/scenario.sh; it runs under busybox sh (POSIX, no bash).
#
#   vmm_status_why RC LIMIT         why VMM exit status RC is not a clean power-off,
#                                   as "; reason" (nothing for 0): killed by timeout
#                                   after LIMIT s, the guest rebooted (3), or RC
#   l1_now                          L1's uptime in seconds
#   rand_token                      16 random hex digits (names one run's data)
#   vmm_start RUN VMM-OPTION...     start $VMM in the background, stdout (the guest
#                                   console) to $LOG_DIR/RUN.console, stderr to
#                                   $LOG_DIR/RUN.vmm; sets vmm_pid, run, out, err
#   vmm_alive                       true while that VMM has not exited
#   vmm_age                         seconds since it started (L1 time)
#   console_wait REGEX SECS         true once the console matches REGEX (grep -E; the
#                                   lines end in \r); false after SECS or when the VMM
#                                   is gone
#   vmm_wait SECS                   wait for that VMM, kill -9 after SECS; sets rc,
#                                   and timed_out=1 if it had to be killed
#   vmm_refused RUN VMM-OPTION...   run a VMM that must be refused before it starts a
#                                   guest: sets rc and refusal (its stderr, one line
#                                   expected); kills it after 20 s
#   record_ok, records_check        the disk-writer guest's records in an image
#   guest_value KEY                 the first "GUEST KEY=value" of the console
#   check COND-STRING WHY           (eval) add WHY to $why unless COND-STRING holds
#   finish NAME                     PASS: NAME, or FAIL: NAME: $why with the log tails
#                                   (full logs with HARNESS_VERBOSE=1); returns 1 on FAIL
# Env (set by host-init.sh): VMM LOG_DIR HARNESS_TIMEOUT HARNESS_VERBOSE

l1_now() { cut -d' ' -f1 /proc/uptime; }

vmm_status_why() {
    case "$1" in
    0) ;;
    124 | 137 | 143) echo "; timed out after ${2}s" ;;
    3) echo "; exit status 3 (guest rebooted)" ;;
    *) echo "; exit status $1" ;;
    esac
}

rand_token() { od -An -tx8 -N8 /dev/urandom | tr -d ' \n'; }

vmm_start() {
    run=$1
    shift
    out=$LOG_DIR/$run.console
    err=$LOG_DIR/$run.vmm
    why=
    "$VMM" "$@" >"$out" 2>"$err" </dev/null &
    vmm_pid=$!
    vmm_t0=$(l1_now)
}

vmm_age() { awk "BEGIN { printf \"%.2f\", $(l1_now) - $vmm_t0 }"; }

# A zombie still answers kill -0: look at the process state instead.
vmm_alive() {
    [ -r "/proc/$vmm_pid/stat" ] || return 1
    [ "$(sed 's/.*) //' "/proc/$vmm_pid/stat" | cut -d' ' -f1)" != Z ]
}

console_wait() {
    deadline=$(($(cut -d. -f1 /proc/uptime) + $2))
    while ! grep -qE "$1" "$out"; do
        vmm_alive || { grep -qE "$1" "$out"; return; }
        [ "$(cut -d. -f1 /proc/uptime)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# The watchdog keeps no descriptor of ours open: host-init.sh's tee would wait for it.
vmm_wait() {
    rm -f "$err.killed"
    (
        sleep "$1"
        kill -9 "$vmm_pid" && echo "VMM still running after $1 s: killed" >"$err.killed"
    ) </dev/null >/dev/null 2>&1 &
    watchdog=$!
    wait "$vmm_pid"
    rc=$?
    kill "$watchdog" 2>/dev/null
    timed_out=0
    if [ -f "$err.killed" ]; then
        timed_out=1
        echo "$run: $(cat "$err.killed")"
    fi
    secs=$(vmm_age)
    tr -d '\r' <"$out" >"$out.txt"
    echo "$run: VMM exited with status $rc after $secs s (L1 time)"
}

vmm_refused() {
    rrun=$1
    shift
    timeout -k 2 20 "$VMM" "$@" >"$LOG_DIR/$rrun.console" 2>"$LOG_DIR/$rrun.vmm" </dev/null
    rc=$?
    refusal=$(cat "$LOG_DIR/$rrun.vmm")
    echo "$rrun: exit status $rc: $refusal"
}

guest_value() { sed -n "s/^GUEST $1=//p" "$out.txt" | head -n1; }

check() {
    eval "$1" || why="$why; $2"
}

finish() {
    if [ "${HARNESS_VERBOSE:-0}" = 1 ]; then
        echo "--- $run: guest console"
        sed 's/^/| /' "$out.txt"
        echo "--- $run: VMM log"
        sed 's/^/| /' "$err"
    fi
    if [ -z "$why" ]; then
        echo "PASS: $1"
        return 0
    fi
    echo "FAIL: $1: ${why#; }"
    if [ "${HARNESS_VERBOSE:-0}" != 1 ]; then
        echo "--- $run: last 40 lines of the guest console"
        tail -n 40 "$out.txt" | sed 's/^/| /'
        echo "--- $run: last 40 lines of the VMM log"
        tail -n 40 "$err" | sed 's/^/| /'
    fi
    return 1
}

# record_ok IMAGE TOKEN N: the disk-writer guest's record N is in IMAGE, intact.
record_ok() {
    yes "rec $3 $2" | head -c 65536 >/tmp/record.want
    dd if="$1" bs=65536 skip="$3" count=1 2>/dev/null | cmp -s - /tmp/record.want
}

# records_check IMAGE TOKEN FIRST LAST: records FIRST..LAST must be intact. Sets
# records_bad (how many are not), records_bad_list (the first few of them) and
# records_after (how many records after LAST made it too, for the log).
records_check() {
    records_bad=0 records_bad_list= records_after=0
    i=$3
    while [ "$i" -le "$4" ]; do
        if ! record_ok "$1" "$2" "$i"; then
            records_bad=$((records_bad + 1))
            [ "$records_bad" -gt 5 ] || records_bad_list="$records_bad_list $i"
        fi
        i=$((i + 1))
    done
    while record_ok "$1" "$2" "$i"; do
        records_after=$((records_after + 1))
        i=$((i + 1))
    done
    rm -f /tmp/record.want
}
