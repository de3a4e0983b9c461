# shellcheck shell=bash
# The command line every benchmark script takes, sourced by bench/{vm,disk,net,run-cmd,
# snapshot,arm64}.sh:
#
#   bench_args "$@"
#
# -v sets verbose=1 (follow the L1 console live); -h or --help prints the script's
# opening comment and exits 0; anything else is one line naming it, exit 2.
# shellcheck disable=SC2034 # verbose is read by the script that sources this
bench_args() {
    local a
    verbose=0
    for a in "$@"; do
        case "$a" in
        -v) verbose=1 ;;
        -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
        *) echo "bench/$(basename "$0"): unknown argument $a" >&2; exit 2 ;;
        esac
    done
}
