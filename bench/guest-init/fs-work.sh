# shellcheck shell=sh
# The workloads of the file system benchmark (bench/fs.sh), sourced by the L2 init
# (bench/guest-init/fs.sh, on the mounted share) and by the L1 script (bench/l1/fs.sh,
# on the tree itself, as the reference): the same commands, the same order, the same
# clock. Busybox sh; needs fstree (bench/tools/fstree.c) and, for git, git on PATH.
#
#   fs_work ROOT WORKLOADS     WORKLOADS: comma-separated, of find,stat,git,dd
#
# ROOT holds tree/ (fstree make), repo/ (a git checkout) and big (fstree big). Each
# workload runs twice right after the page, dentry and inode caches were dropped
# (echo 3 > /proc/sys/vm/drop_caches): "cold", then at once "warm". Prints, one each:
#   BENCH <w>_cold_ms=X BENCH <w>_warm_ms=X   (fstree time: fork to wait, monotonic)
#   BENCH find_n=N          lines find printed (every directory and file)
#   BENCH stat_files=N BENCH stat_bytes=N   what fstree stat counted
#   BENCH git_files=N       files in the index; BENCH git_lines=N  lines of status
#   BENCH dd_mib=N          MiB dd copied (its records of bs=1M)
# The counts are of the cold run; a warm run that counts otherwise says BENCH error=...
#   find    find ROOT/tree (busybox: lstat of each entry), output to a file
#   stat    fstree stat ROOT/tree: lstat of every entry by its full path, one process
#   git     git --no-optional-locks status --porcelain in ROOT/repo (no index write)
#   dd      dd if=ROOT/big of=/dev/null bs=1M

# fs_timed NAME PHASE OUT CMD...: one timed run; prints BENCH NAME_PHASE_ms=X
fs_timed() {
    fs_n=$1 fs_p=$2 fs_out=$3
    shift 3
    fs_r=$(fstree time "$fs_out" "$@") || { echo "BENCH error=$fs_n $fs_p: fstree time failed"; return 1; }
    fs_st=${fs_r##*status=}
    fs_ms=${fs_r#ms=}
    fs_ms=${fs_ms%% *}
    if [ "$fs_st" != 0 ]; then
        echo "BENCH error=$fs_n $fs_p: exit status $fs_st: $(head -c 300 "$fs_out" | tr '\n' ' ')"
        return 1
    fi
    echo "BENCH ${fs_n}_${fs_p}_ms=$fs_ms"
}

# fs_count NAME OUT: what the run saw, as "KEY=N ..." lines (BENCH prefix added later)
fs_count() {
    case "$1" in
    find) echo "find_n=$(wc -l <"$2" | tr -d ' ')" ;;
    stat) awk '/^files=/ { split($0, a, /[ =]/); print "stat_files=" a[2]; print "stat_bytes=" a[6] }' "$2" ;;
    git) echo "git_lines=$(wc -l <"$2" | tr -d ' ')" ;;
    # busybox dd says only "FULL+PARTIAL records out"; a partial record would be a
    # short file: counted as a whole MiB more, so that it shows as unequal
    dd) sed -n 's/^\([0-9]*\)+\([0-9]*\) records out$/\1 \2/p' "$2" | awk '{ print "dd_mib=" $1 + ($2 > 0) }' ;;
    esac
}

fs_work() {
    fs_root=$1
    fs_tmp=${TMPDIR:-/tmp}
    for fs_w in $(echo "$2" | tr ',' ' '); do
        case "$fs_w" in
        find) set -- find "$fs_root/tree" ;;
        stat) set -- fstree stat "$fs_root/tree" ;;
        git) set -- git -C "$fs_root/repo" --no-optional-locks status --porcelain ;;
        dd) set -- dd "if=$fs_root/big" of=/dev/null bs=1M ;;
        *) echo "BENCH error=unknown workload $fs_w"; continue ;;
        esac
        sync
        echo 3 >/proc/sys/vm/drop_caches
        fs_timed "$fs_w" cold "$fs_tmp/fs-cold.out" "$@" || continue
        fs_timed "$fs_w" warm "$fs_tmp/fs-warm.out" "$@" || continue
        fs_c=$(fs_count "$fs_w" "$fs_tmp/fs-cold.out")
        [ "$fs_c" = "$(fs_count "$fs_w" "$fs_tmp/fs-warm.out")" ] ||
            echo "BENCH error=$fs_w: the warm run saw $(fs_count "$fs_w" "$fs_tmp/fs-warm.out" | tr '\n' ' '), the cold one $(echo "$fs_c" | tr '\n' ' ')"
        echo "$fs_c" | sed 's/^/BENCH /'
        if [ "$fs_w" = git ]; then
            echo "BENCH git_files=$(git -C "$fs_root/repo" --no-optional-locks ls-files | wc -l | tr -d ' ')"
        fi
    done
    rm -f "$fs_tmp/fs-cold.out" "$fs_tmp/fs-warm.out"
}
