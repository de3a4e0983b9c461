#!/bin/sh
# Scenario "stats" (runs inside L1): the VMM's exit statistics (--stats,
# --stats-json, SIGUSR1) on the same 10 KiB written two ways: the evidence
# docs/tour.md quotes. The guest (guest-init/stats-check.sh, 1 vCPU, 256M)
# boots twice with the same 1 MiB scratch image from L1's /tmp as a virtio
# disk (serial "stats"); each time it prints "GUEST ready" and waits 2 s, we
# send SIGUSR1 (the VMM prints its counters and carries on), then it writes
#   "stats serial": 10240 bytes to /dev/ttyS0;
#   "stats disk":   the same 10240 bytes to the disk, one O_DIRECT dd;
# and powers off. The table at exit minus the SIGUSR1 one is what the write
# cost (plus the few GUEST lines printed after it, the same in both runs).
# Checks: both runs exit 0 with a --stats-json file that is well-formed and
# agrees with the table; "stats serial": com1 took >= 10240 writes during the
# write and the console got >= 10240 'x'; "stats disk": the image holds
# exactly the 10 KiB, the write took >= 1 kick, request and MSI-X message and
# under a tenth of the serial write's exits; "stats sigusr1": both runs
# printed a table on SIGUSR1 and ran on to exit 0. Prints the differences and
# the tables at exit (they land in build/harness/serial.log).
# Env (set by host-init.sh): VMM GUEST_KERNEL GUEST_INITRD_DIR LOG_DIR
#   HARNESS_TIMEOUT (seconds, default 120; each run here gets at most 60)
#   HARNESS_VERBOSE (1: print full logs)
. /lib/harness/scenario.sh # vmm_status_why
name=stats
limit=${HARNESS_TIMEOUT:-120}
[ "$limit" -le 60 ] || limit=60

img=$LOG_DIR/stats-disk.img
if ! dd if=/dev/zero of="$img" bs=1024 count=1024 2>/dev/null; then
    echo "FAIL: $name: cannot create the scratch image $img"
    exit 1
fi

# json_range FILE NAME FIELD: a bus range's reads or writes from the JSON (one
# range per line there). json_first FILE KEY: the first "KEY": number, e.g.
# "all" (the exits object comes first), "kicks" (the first virtio device).
json_range() { sed -n "s/.*\"name\": \"$2\".*\"$3\": \([0-9]*\).*/\1/p" "$1" | head -n1; }
json_first() { sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p" "$1" | head -n1; }
# A JSON sanity check busybox can do: balanced braces and brackets, a final }.
json_ok() {
    awk '{ t = t $0 "\n" } END {
        o = gsub(/[{[]/, "&", t); c = gsub(/[]}]/, "&", t)
        exit !(o == c && o > 0 && t ~ /}[ \n]*$/) }' "$1"
}
# table N FILE: the Nth table in a VMM log (N = 1, 2, ...), without \r.
table() {
    awk -v want="$1" '/^vmm: exit statistics/ { n++; if (n > want) exit } n == want' "$2" |
        tr -d '\r'
}
# Table rows are "  LABEL  N  N ..." with 2+ spaces between the cells; the
# header line above them (not indented) names the columns the same way.
# table_number FILE LABEL COLUMN: the number in one cell of a table file,
# by row label and column name ("total", "writes", "kicks", ...).
table_number() {
    awk -F '  +' -v label="$2" -v c="$3" '
        !/^ / { for (i = 2; i <= NF; i++) col[i + 1] = $i; next }
        $2 == label { for (i = 3; i <= NF; i++) if (col[i] == c) { print $i; exit } }' "$1"
}
# table_delta BEFORE AFTER: the cells that changed, "  LABEL: COLUMN +N, ...".
table_delta() {
    awk -F '  +' '
        !/^ / { for (i = 2; i <= NF; i++) col[i + 1] = $i; next }
        /^ *[(]/ { next }
        {
            out = ""
            for (i = 3; i <= NF; i++) {
                if ($i !~ /^[0-9]+$/) continue
                c = $2 ~ /no device/ ? "accesses" : col[i]
                if (FILENAME == ARGV[1]) { before[$2, c] = $i; continue }
                d = $i - before[$2, c]
                if (d) out = out (out == "" ? "" : ", ") c " " (d > 0 ? "+" : "") d
            }
            if (out != "") print "  " $2 ": " out
        }' "$1" "$2"
}
# delta_of FILE LABEL COLUMN: one number from table_delta's output (or nothing).
delta_of() {
    awk -v l="  $2: " -v c="$3" 'index($0, l) == 1 {
        n = split(substr($0, length(l) + 1), f, ", ")
        for (i = 1; i <= n; i++) {
            p = match(f[i], / [+-]?[0-9]+$/)
            v = substr(f[i], p + 1); sub(/^[+]/, "", v)
            if (p && substr(f[i], 1, p - 1) == c) print v
        } }' "$1"
}

failed=0
usr1_why=
for mode in serial disk; do
    run=$name-$mode
    out=$LOG_DIR/$run.console # guest serial (VMM stdout)
    err=$LOG_DIR/$run.vmm     # VMM's own log (stderr): the tables
    json=$LOG_DIR/$run.json
    rm -f "$json"
    t0=$(cut -d' ' -f1 /proc/uptime)
    timeout -k 5 "$limit" "$VMM" --kernel "$GUEST_KERNEL" \
        --initrd "$GUEST_INITRD_DIR/stats-check.cpio.gz" \
        --cmdline "console=ttyS0 panic=-1 reboot=k quiet stats.mode=$mode stats.pause=2" \
        --cpus 1 --memory 256M --disk "path=$img,serial=stats" \
        --stats --stats-json "$json" >"$out" 2>"$err" </dev/null &
    vmm_job=$!
    # SIGUSR1 while the guest waits: the VMM prints the table and goes on.
    usr1=
    i=0
    while [ "$i" -lt 600 ] && ! grep -q '^GUEST ready' "$out" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    pid=$(pidof vmm)
    if [ -n "$pid" ] && grep -q '^GUEST ready' "$out"; then
        kill -USR1 "$pid" && usr1=sent
    fi
    wait "$vmm_job"
    rc=$?
    t1=$(cut -d' ' -f1 /proc/uptime)
    secs=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
    tr -d '\r' <"$out" >"$out.txt"
    grep -E '^GUEST ' "$out.txt" | sed "s/^GUEST /GUEST $mode: /"
    grep -E '^vmm: ' "$err" | grep -v '^vmm: exit statistics'
    echo "$run: VMM exited with status $rc after $secs s (L1 time)"

    value() { sed -n "s/^GUEST $1=//p" "$out.txt" | head -n1; }
    why=$(vmm_status_why "$rc" "$limit")
    [ "$(value "done")" = 1 ] || why="$why; the guest did not finish ($(grep -E '^GUEST ' "$out.txt" | tail -n1))"
    [ "$(value modules)" = ok ] || why="$why; modules=$(value modules)"
    [ "$(value disk)" != none ] || why="$why; the guest found no disk with serial stats"
    [ "$(value write)" = ok ] || why="$why; write=$(value write)"

    # Table 1: on SIGUSR1, just before the write; table 2: at exit.
    tables=$(grep -c '^vmm: exit statistics' "$err")
    if [ "$usr1" != sent ]; then
        usr1_why="$usr1_why; $mode: could not signal the VMM while the guest waited"
    elif [ "$tables" != 2 ] || [ "$rc" != 0 ]; then
        usr1_why="$usr1_why; $mode: $tables tables on stderr (want 2), VMM exit status $rc"
    fi
    table 1 "$err" >"$err.before"
    table "$tables" "$err" >"$err.last"
    if [ ! -s "$json" ]; then
        why="$why; no --stats-json file"
    elif ! json_ok "$json"; then
        why="$why; the --stats-json file is not well-formed"
    fi
    # the JSON and the table at exit must tell the same story
    com1=$(json_range "$json" com1 writes)
    all=$(json_first "$json" all)
    tcom1=$(table_number "$err.last" "port I/O: com1" writes)
    tall=$(table_number "$err.last" "all exits" total)
    [ -n "$com1" ] && [ "$com1" = "$tcom1" ] || why="$why; com1 writes: JSON ${com1:-?}, table ${tcom1:-?}"
    [ -n "$all" ] && [ "$all" = "$tall" ] || why="$why; all exits: JSON ${all:-?}, table ${tall:-?}"
    # what the write cost: table at exit minus the one just before
    if [ "$tables" = 2 ]; then
        table_delta "$err.before" "$err.last" >"$err.delta"
    else
        : >"$err.delta"
    fi
    d_all=$(delta_of "$err.delta" "all exits" total)
    d_com1=$(delta_of "$err.delta" "port I/O: com1" writes)
    case "$mode" in
    serial)
        serial_all=${d_all:-0}
        [ "${d_com1:-0}" -ge 10240 ] || why="$why; the write took ${d_com1:-?} com1 writes (want >= 10240)"
        xs=$(tr -cd x <"$out.txt" | wc -c)
        [ "$xs" -ge 10240 ] || why="$why; the console got $xs 'x' (want >= 10240)"
        ;;
    disk)
        got=$(head -c 10240 "$img" | tr -d x | wc -c)
        rest=$(tail -c +10241 "$img" | tr -d '\0' | wc -c)
        [ "$got" -eq 0 ] && [ "$rest" -eq 0 ] || why="$why; the image does not hold exactly the 10 KiB ($got stray bytes in it, $rest after it)"
        vblk=$(awk -F '  +' '$2 ~ /^virtio-blk0 / { print $2; exit }' "$err.last")
        d_kicks=$(delta_of "$err.delta" "$vblk" kicks)
        d_req=$(delta_of "$err.delta" "$vblk" requests)
        d_msix=$(delta_of "$err.delta" "$vblk" MSI-X)
        [ "${d_kicks:-0}" -ge 1 ] || why="$why; the write took ${d_kicks:-no} kicks (want >= 1)"
        [ "${d_req:-0}" -ge 1 ] || why="$why; the write took ${d_req:-no} requests (want >= 1)"
        [ "${d_msix:-0}" -ge 1 ] || why="$why; the write took ${d_msix:-no} MSI-X messages (want >= 1)"
        if [ -n "${serial_all:-}" ] && [ "$serial_all" -gt 0 ]; then
            [ $((${d_all:-0} * 10)) -lt "$serial_all" ] ||
                why="$why; the write took ${d_all:-?} exits, the serial one $serial_all (want under a tenth)"
        fi
        ;;
    esac
    echo "--- $run: what the write cost (table at exit minus the SIGUSR1 table)"
    cat "$err.delta"
    echo "--- $run: the --stats table at exit"
    cat "$err.last"
    if [ "${HARNESS_VERBOSE:-0}" = 1 ]; then
        echo "--- $run: --stats-json"
        sed 's/^/| /' "$json"
        echo "--- $run: VMM log"
        sed 's/^/| /' "$err"
    fi
    if [ -n "$why" ]; then
        echo "FAIL: $name $mode: ${why#; }"
        failed=1
        if [ "${HARNESS_VERBOSE:-0}" != 1 ]; then
            echo "--- $run: last 20 lines of the guest console"
            tail -n 20 "$out.txt" | cut -c1-200 | sed 's/^/| /'
            echo "--- $run: VMM log"
            sed 's/^/| /' "$err"
        fi
    else
        echo "PASS: $name $mode"
    fi
done
if [ -n "$usr1_why" ]; then
    echo "FAIL: $name sigusr1: ${usr1_why#; }"
    failed=1
else
    echo "PASS: $name sigusr1"
fi
rm -f "$img"
exit "$failed"
