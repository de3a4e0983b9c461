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
all=(disk run-cmd)

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

failed=()
start=$(date +%s)
for b in "${names[@]}"; do
    echo "=== bench $b"
    rm -f "$top/build/bench/$b/table.txt"
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
if [ "${#failed[@]}" -gt 0 ]; then
    echo "bench: failed: ${failed[*]}"
    exit 1
fi
