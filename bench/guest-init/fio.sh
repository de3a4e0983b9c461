#!/bin/sh
# L2 /init of the disk benchmark (bench/disk.sh, bench/l1/disk.sh): the same
# image boots under our VMM and under QEMU. Loads virtio-pci + virtio-blk,
# finds the scratch disk by its serial (never by vdX order) and runs fio on the
# raw device, O_DIRECT, one job after the other:
#   seqwrite   rw=write     bs=1M  iodepth=bench.seq_iodepth  (default 4)
#   seqread    rw=read      bs=1M  iodepth=bench.seq_iodepth
#   randread   rw=randread  bs=4k  iodepth=bench.rand_iodepth (default 16)
# each time_based for bench.ramp (default 1) + bench.runtime (default 5)
# seconds, ioengine=libaio (psync where fio lacks libaio), then powers off.
# The write job runs first so the reads see written blocks where it reached.
# Output, one line each, on the serial console:
#   BENCH seqwrite_MBps=X BENCH seqread_MBps=X BENCH randread_iops=X
#   (MB = 10^6 bytes; from fio's terse output), BENCH error=... on a failure,
#   BENCH done=1 at the end.
# Kernel command line: bench.serial=S (default bench) bench.runtime=SECS
#   bench.ramp=SECS bench.seq_iodepth=N bench.rand_iodepth=N
#   bench.jobs=seqwrite,seqread,randread
# fio and the libraries it links (with the dynamic loader) are in the image at
# their usual paths; bench/disk.sh puts them there.
# harness-modules: virtio_pci virtio_blk
. /lib/harness/prologue.sh # boot marker, busybox applets, /dev /proc /sys
mkdir -p /tmp

serial=bench runtime=5 ramp=1 seq_iodepth=4 rand_iodepth=16 jobs=seqwrite,seqread,randread
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    bench.serial=*) serial=${arg#bench.serial=} ;;
    bench.runtime=*) runtime=${arg#bench.runtime=} ;;
    bench.ramp=*) ramp=${arg#bench.ramp=} ;;
    bench.seq_iodepth=*) seq_iodepth=${arg#bench.seq_iodepth=} ;;
    bench.rand_iodepth=*) rand_iodepth=${arg#bench.rand_iodepth=} ;;
    bench.jobs=*) jobs=${arg#bench.jobs=} ;;
    esac
done

finish() {
    echo "BENCH uptime=$(cut -d' ' -f1 /proc/uptime)"
    echo "BENCH done=1"
    sync
    poweroff -f
    echo "BENCH error=poweroff failed"
    exit 1
}

for m in $(cat /lib/modules/load-order); do
    msg=$(insmod "/lib/modules/$m.ko" 2>&1) || echo "BENCH error=insmod $m: $msg"
done

wait_disks "$serial"
dev=$(find_disk "$serial")
if [ -z "$dev" ]; then
    echo "BENCH error=no virtio disk with serial $serial ($(ls /sys/block | tr '\n' ' '))"
    finish
fi
# Kernel lines from here on would split BENCH lines: errors only.
dmesg -n 4
p=$(dirname "$(readlink -f "/sys/block/$dev/device")")
q=/sys/block/$dev/queue
info="disk=/dev/$dev pci_id=$(cat "$p/vendor" 2>/dev/null):$(cat "$p/device" 2>/dev/null)"
info="$info queues=$(ls "/sys/block/$dev/mq" | wc -l) queue_depth=$(cat "/sys/block/$dev/mq/0/nr_tags" 2>/dev/null)"
info="$info max_segments=$(cat "$q/max_segments") max_hw_kb=$(cat "$q/max_hw_sectors_kb")"
echo "BENCH $info sectors=$(cat "/sys/block/$dev/size") nproc=$(nproc)"

if ! fio --version >/dev/null 2>&1; then
    echo "BENCH error=fio does not run: $(fio --version 2>&1 | head -n1)"
    finish
fi
engine=libaio
fio --enghelp 2>/dev/null | grep -qw libaio || engine=psync
echo "BENCH fio=$(fio --version) ioengine=$engine runtime=$runtime ramp=$ramp seq_iodepth=$seq_iodepth rand_iodepth=$rand_iodepth"
echo "BENCH clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"

# run_job NAME RW BS IODEPTH: prints fio's terse (v3) line for the job.
run_job() {
    # psync ignores iodepth (one request at a time).
    fio --name="$1" --filename="/dev/$dev" --rw="$2" --bs="$3" --iodepth="$4" \
        --ioengine="$engine" --direct=1 --thread --numjobs=1 --time_based \
        --runtime="$runtime" --ramp_time="$ramp" --norandommap --randrepeat=0 \
        --clocksource=clock_gettime --output-format=terse --terse-version=3 \
        2>/tmp/fio.err
}
# Terse v3 fields: 7 read bandwidth KiB/s, 8 read IOPS, 48 write KiB/s, 49 write IOPS.
for job in $(echo "$jobs" | tr ',' ' '); do
    case "$job" in
    seqwrite) t=$(run_job seqwrite write 1M "$seq_iodepth") ;;
    seqread) t=$(run_job seqread read 1M "$seq_iodepth") ;;
    randread) t=$(run_job randread randread 4k "$rand_iodepth") ;;
    *) echo "BENCH error=unknown job $job"; continue ;;
    esac
    line=$(echo "$t" | grep '^3;' | head -n1)
    if [ -z "$line" ]; then
        echo "BENCH error=$job: fio gave no result: $(tr '\n' ' ' </tmp/fio.err | cut -c1-300)"
        continue
    fi
    # fio's own errors (field 5) must be 0.
    err=$(echo "$line" | cut -d';' -f5)
    [ "$err" = 0 ] || echo "BENCH error=$job: fio error $err: $(tr '\n' ' ' </tmp/fio.err | cut -c1-300)"
    case "$job" in
    seqwrite) echo "$line" | awk -F';' '{ printf "BENCH seqwrite_MBps=%.2f\n", $48 * 1.024 / 1000 }' ;;
    seqread) echo "$line" | awk -F';' '{ printf "BENCH seqread_MBps=%.2f\n", $7 * 1.024 / 1000 }' ;;
    # IOPS from the bytes read (field 6, KiB) and the runtime (field 9, ms):
    # field 8 is rounded to an integer.
    randread) echo "$line" | awk -F';' '{ printf "BENCH randread_iops=%.1f\n", ($9 > 0 ? $6 / 4 * 1000 / $9 : 0) }' ;;
    esac
done
echo "BENCH io_errors=$(dmesg | grep -ciE 'I/O error|blk_update_request')"
finish
