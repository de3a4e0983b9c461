#!/usr/bin/env bash
# What `make bench` runs (after building build/vmm-static): each benchmark
# bench/<name>.sh in turn, then the tables they wrote to
# build/bench/<name>/table.txt, together at the end.
#
#   bench/run.sh [-v] [name ...]     default: every benchmark below
#
# A benchmark is a bench/<name>.sh that leaves its table in
# build/bench/<name>/table.txt and exits non-zero when it failed; add its
# name to the list. Not part of `make test`. Method and figures:
# docs/performance.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
all=(disk net vm run-cmd snapshot fs arm64)

opts=()
names=()
for a in "$@"; do
    case "$a" in
    -v) opts+=("$a") ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
    -*) echo "bench/run.sh: unknown option $a" >&2; exit 2 ;;
    *)
        [ -x "$here/$a.sh" ] || { echo "bench/run.sh: no benchmark $a (have: ${all[*]})" >&2; exit 2; }
        names+=("$a")
        ;;
    esac
done
[ "${#names[@]}" -gt 0 ] || names=("${all[@]}")

# One turn of HARNESS_LOCK for every benchmark, so no other checkout's nested run slips
# in between them; each benchmark sees HARNESS_LOCK_HELD and does not take it again.
if [ -n "${HARNESS_LOCK:-}" ] && [ "${HARNESS_LOCK_HELD:-}" != "$HARNESS_LOCK" ]; then
    exec 7>"$HARNESS_LOCK"
    flock -n 7 || { echo "harness: waiting for $HARNESS_LOCK..."; flock -w 3600 7; }
    export HARNESS_LOCK_HELD=$HARNESS_LOCK
fi

failed=()
start=$(date +%s)
for b in "${names[@]}"; do
    echo "=== bench $b"
    rm -f "$top/build/bench/$b/table.txt" "$top/build/bench/$b/distributions.svg"
    "$here/$b.sh" "${opts[@]}" || failed+=("$b")
done

echo
echo "=== results ($(($(date +%s) - start)) s)"
for b in "${names[@]}"; do
    echo "--- $b"
    if [ -f "$top/build/bench/$b/table.txt" ]; then
        cat "$top/build/bench/$b/table.txt"
    else
        echo "(no table)"
    fi
done

# The same tables go into docs/performance.md, between two marker lines, with the date
# and the machine, so the document always carries the last run next to its analysis.
doc=$top/docs/performance.md
begin='<!-- make bench: begin -->'
end='<!-- make bench: end -->'
if grep -qx -- "$begin" "$doc" && grep -qx -- "$end" "$doc"; then
    # A benchmark that drew the spread of its rounds (build/bench/<name>/distributions.svg)
    # has it shown beside its table, as docs/bench-<name>.svg; the charts of an older run
    # leave with its tables.
    rm -f "$top"/docs/bench-*.svg
    for b in "${names[@]}"; do
        [ ! -f "$top/build/bench/$b/distributions.svg" ] ||
            cp "$top/build/bench/$b/distributions.svg" "$top/docs/bench-$b.svg"
    done
    section=$(mktemp)
    {
        echo "$begin"
        echo "Last \`make bench\` run, written by bench/run.sh: $(date -u '+%Y-%m-%d %H:%M UTC'),"
        echo "$(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | sed -n 1p),"
        echo "$(uname -sr), tree $(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown);"
        echo "benchmarks: ${names[*]}${failed[*]:+ (failed: ${failed[*]})}."
        for b in "${names[@]}"; do
            echo
            echo '```'
            echo "--- $b"
            # every single run's numbers stay in the table file, not in the document
            sed '/^runs:$/,$d' "$top/build/bench/$b/table.txt" 2>/dev/null || echo "(no table)"
            echo '```'
            echo "Every run: build/bench/$b/table.txt."
            if [ -f "$top/docs/bench-$b.svg" ]; then
                echo
                echo "![$b: every round of every VMM, one panel per figure](bench-$b.svg)"
            fi
        done
        echo "$end"
    } >"$section"
    awk -v b="$begin" -v e="$end" -v f="$section" '
        $0 == b { while ((getline l < f) > 0) print l; skip = 1; next }
        $0 == e { skip = 0; next }
        !skip' "$doc" >"$doc.new" && mv "$doc.new" "$doc"
    rm -f "$section"
    echo "bench: tables written to docs/performance.md"
fi
if [ "${#failed[@]}" -gt 0 ]; then
    echo "bench: failed: ${failed[*]}"
    exit 1
fi
