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
#   finish NAME [DETAIL]            PASS: NAME [(DETAIL)], or FAIL: NAME: $why with the
#                                   tails of $out.txt and $err, headed by $run (full
#                                   logs with HARNESS_VERBOSE=1); returns 1 on FAIL
#   vmm_threads_check PID           every thread of the running VMM PID has CapEff 0,
#                                   NoNewPrivs 1 and Seccomp 2 (docs/security.md);
#                                   sets threads_checked, and threads_bad to one
#                                   "; thread TID (NAME): ..." per thread that has not
#   vmm_privs_exec REAL ARG...      what /vmm (and every VMM binary in L1) runs: starts
#                                   vmm_privs_watch on its own PID, then execs REAL
#   vmm_privs_watch PID ARGS        waits for the VMM to load its main thread's filter,
#                                   then checks each of its threads, old and new, until
#                                   it exits; notes go to $PRIVS_DIR/PID
#   vmm_privs_report NAME           one PASS/FAIL/SKIP line "privileges NAME" for every
#                                   VMM watched since the last report
#   as_kvm_user COMMAND             run COMMAND (sh -c) as uid 1000 ("vmmuser"), given
#                                   /dev/kvm through its group; sets rc
# Env (set by host-init.sh): VMM LOG_DIR HARNESS_TIMEOUT HARNESS_VERBOSE PRIVS_DIR

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
    # a poll of the new run's output must not read an older run's under the same name
    rm -f "$out" "$err"
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
        echo "PASS: $1${2:+ ($2)}"
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

# thread_privs STATUS-FILE: sets t_state t_name t_capeff t_nnp t_seccomp from a
# /proc/.../status file (all empty when it is gone). Builtins only: the watcher
# runs beside every VMM and must cost L1 next to nothing.
thread_privs() {
    t_state='' t_name='' t_capeff='' t_nnp='' t_seccomp=''
    while read -r t_key t_val _; do
        case $t_key in
        State:) t_state=$t_val ;;
        Name:) t_name=$t_val ;;
        CapEff:) t_capeff=$t_val ;;
        NoNewPrivs:) t_nnp=$t_val ;;
        Seccomp:) t_seccomp=$t_val ;;
        esac
    done <"$1" 2>/dev/null
}

thread_privs_ok() {
    case $t_capeff in '' | *[!0]*) return 1 ;; esac
    [ "$t_nnp" = 1 ] && [ "$t_seccomp" = 2 ]
}

thread_privs_line() {
    echo "thread $1 ($t_name): CapEff ${t_capeff:-?} NoNewPrivs ${t_nnp:-?} Seccomp ${t_seccomp:-?}"
}

vmm_threads_check() {
    threads_checked=0 threads_bad=
    for t_dir in /proc/"$1"/task/*; do
        thread_privs "$t_dir/status"
        [ -n "$t_state" ] || continue # ended meanwhile
        threads_checked=$((threads_checked + 1))
        thread_privs_ok || threads_bad="$threads_bad; $(thread_privs_line "${t_dir##*/}")"
    done
    [ -z "$threads_bad" ]
}

PRIVS_DIR=${PRIVS_DIR:-/tmp/log/privs}

# The VMM sets up as root, then drops everything before its first thread; its main
# thread loads its own filter last, after the vCPUs start. So the watcher waits for
# that filter (a VMM refused at start-up never gets one and is not judged), checks
# every thread then, and every thread that appears later (queue threads, io_uring
# workers) once a second. A VMM that runs threads for 5 s without a filter on its
# main thread is judged as it is.
vmm_privs_watch() {
    w_pid=$1 w_file=$PRIVS_DIR/$1 w_seen=' ' w_state=wait w_n=0 w_multi=0
    echo "vmm $2" >"$w_file" || return
    while :; do
        thread_privs "/proc/$w_pid/status"
        case $t_state in '' | Z* | X*) break ;; esac
        if [ "$w_state" = wait ]; then
            if [ "$t_seccomp" != 2 ]; then
                set -- /proc/"$w_pid"/task/*
                [ "$#" -le 1 ] || w_multi=$((w_multi + 1))
                if [ "$w_multi" -lt 25 ]; then
                    sleep 0.2
                    continue
                fi
            fi
            w_state=run
        fi
        for t_dir in /proc/"$w_pid"/task/*; do
            t_tid=${t_dir##*/}
            case $w_seen in *" $t_tid "*) continue ;; esac
            thread_privs "$t_dir/status"
            [ -n "$t_state" ] || continue
            w_seen="$w_seen$t_tid "
            w_n=$((w_n + 1))
            thread_privs_ok || echo "bad $(thread_privs_line "$t_tid")" >>"$w_file"
        done
        sleep 1
    done
    echo "end $w_state $w_n" >>"$w_file"
}

vmm_privs_exec() {
    w_real=$1
    shift
    if [ -d "$PRIVS_DIR" ] && [ -w "$PRIVS_DIR" ]; then
        # no descriptor of the caller's: a reader of the VMM's output must not wait for it
        # signals meant for the VMM's process group (a terminal's hang-up when ptyrun's
        # session ends, SIGUSR1 for statistics) must not end the watcher before it
        # writes its verdict: it ends by itself once the VMM is gone
        (trap '' HUP INT USR1 USR2 PIPE; vmm_privs_watch "$$" "$*") </dev/null >/dev/null 2>&1 &
    fi
    exec "$w_real" "$@"
}

vmm_privs_report() {
    r_vmms=0 r_checked=0 r_threads=0 r_bad='' r_nbad=0 r_killed=0
    for r_file in "$PRIVS_DIR"/[0-9]*; do
        [ -f "$r_file" ] || continue
        r_vmms=$((r_vmms + 1))
        # the watcher notices an exit within a second
        r_i=0
        while ! grep -q '^end ' "$r_file" && [ "$r_i" -lt 30 ]; do
            sleep 0.1
            r_i=$((r_i + 1))
        done
        r_what=$(sed -n '1s/^vmm //p' "$r_file" | cut -c1-70)
        r_end=$(sed -n 's/^end //p' "$r_file")
        case $r_end in
        run\ *)
            r_checked=$((r_checked + 1))
            r_threads=$((r_threads + ${r_end#run })) ;;
        '')
            # no verdict: the VMM still runs, or its watcher was killed with it (a
            # kill of the VMM's process group, as bench/tools/vmclock.c does)
            if [ -d "/proc/${r_file##*/}" ]; then
                r_bad="$r_bad; VMM ${r_file##*/} ($r_what) still ran after its scenario"
            else
                r_killed=$((r_killed + 1))
            fi ;;
        esac
        r_these=''
        while read -r r_line; do
            [ -n "$r_line" ] || continue
            r_nbad=$((r_nbad + 1))
            [ "$r_nbad" -gt 4 ] || r_these="$r_these, ${r_line#bad }"
        done <<EOF_PRIVS
$(grep '^bad ' "$r_file")
EOF_PRIVS
        [ -z "$r_these" ] || r_bad="$r_bad; VMM ${r_file##*/} ($r_what): ${r_these#, }"
        mv "$r_file" "$PRIVS_DIR/done.$1.${r_file##*/}"
    done
    [ "$r_nbad" -le 4 ] || r_bad="$r_bad; and $((r_nbad - 4)) more threads"
    r_unjudged=
    [ "$r_killed" = 0 ] || r_unjudged="; $r_killed killed with their watcher before it gave a verdict"
    if [ -n "$r_bad" ]; then
        echo "FAIL: privileges $1: ${r_bad#; }"
    elif [ "$r_checked" = 0 ]; then
        echo "SKIP: privileges $1: none of its $r_vmms VMM runs lived to be checked${r_unjudged:+ (${r_unjudged#; })}"
    else
        echo "PASS: privileges $1: $r_threads threads of $r_checked VMMs (of $r_vmms run$r_unjudged) had CapEff 0, NoNewPrivs 1, Seccomp 2"
    fi
}

as_kvm_user() {
    grep -q '^vmmuser:' /etc/passwd 2>/dev/null || echo 'vmmuser:x:1000:1000::/tmp:/bin/sh' >>/etc/passwd
    grep -q '^vmmuser:' /etc/group 2>/dev/null || echo 'vmmuser:x:1000:' >>/etc/group
    u_kvm=$(stat -c '%a %g' /dev/kvm)
    chgrp 1000 /dev/kvm && chmod 660 /dev/kvm
    su -s /bin/sh vmmuser -c "$1"
    rc=$?
    chmod "${u_kvm% *}" /dev/kvm
    chgrp "${u_kvm#* }" /dev/kvm
}
