#!/usr/bin/env bash
# Boot to init on arm64: our VMM against kvmtool's arm64 lkvm, in one nested arm64 run
# (the L1 of tests/harness-arm64: QEMU TCG "virt" with EL2 and a GICv3, Debian's arm64
# cloud kernel with KVM). In L1 each VMM boots the same kernel (the L1 kernel again) and the
# same busybox initramfs, whose init prints one line with the CPUs and memory it sees and
# powers off; per round and configuration ours and kvmtool run back to back, the first of
# the two alternating between rounds. See docs/performance.md for the figures.
#
#   bench/arm64.sh [-v]      -v: L1's whole console, not only the bench lines
#
# Figures, in seconds of L1 uptime from starting the VMM: "init" until the guest's init line
# appears on the VMM's stdout, "exit" until the VMM has exited after the guest's power-off.
# table.txt: per configuration (vCPUs x memory) and figure the median [min-max] of each VMM
# and kvmtool's median divided by ours (above 1: ours is faster). Equal work is checked: a
# kvmtool run whose guest saw other CPUs than asked for, or MemTotal more than 20% off our
# guest's median, is left out and counted as invalid; a run that gave no init line counts as
# failed. Every run's line follows the table under "runs:".
# Exit status 0 when ours gave both figures in every round, 1 otherwise.
#
# Env: BENCH_ARM64_ROUNDS (default 10), BENCH_ARM64_CONFIGS (default "1x256 2x512":
#   vCPUs x MiB), BENCH_ARM64_TIMEOUT (seconds per VM run in L1, default 120),
#   BENCH_TIMEOUT (seconds for all of L1, default 3000), KVMTOOL (an arm64 lkvm, default
#   ${VMM_CACHE:-~/.cache/minivmm}/kvmtool-arm64/lkvm: ARCH=arm64 bench/build-kvmtool.sh
#   SRC builds it; without it only ours runs and the table says so), VMM_STATIC (default
#   build/arm64/vmm-static: make ARCH=arm64 static). HARNESS_LOCK as in tests/harness-arm64.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"
out=build/bench/arm64
# shellcheck source=bench/args.sh
. "$here/args.sh"
bench_args "$@"
rounds=${BENCH_ARM64_ROUNDS:-10}
configs=${BENCH_ARM64_CONFIGS:-1x256 2x512}
per_run=${BENCH_ARM64_TIMEOUT:-120}
vmm=${VMM_STATIC:-build/arm64/vmm-static}
cache=${VMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minivmm}
lkvm=${KVMTOOL:-$cache/kvmtool-arm64/lkvm}
case $rounds in '' | *[!0-9]* | 0) echo "BENCH_ARM64_ROUNDS=$rounds: a count of rounds" >&2; exit 2 ;; esac
for c in $configs; do
	case $c in [1-9]x[1-9]*[0-9]) ;; *)
		echo "BENCH_ARM64_CONFIGS: $c is not CPUSxMIB" >&2
		exit 2
		;;
	esac
done
mkdir -p "$out"
rm -f "$out/table.txt"

# shellcheck source=tests/harness-arm64/lib.sh
. tests/harness-arm64/lib.sh
if ! arm64_need "bench arm64" qemu-system-aarch64 cpio gzip >"$out/skip"; then
	tee "$out/table.txt" <"$out/skip"
	exit 0
fi
if [ ! -x "$vmm" ]; then
	echo "SKIP: bench arm64: no $vmm (make ARCH=arm64 static)" | tee "$out/table.txt"
	exit 0
fi
# shellcheck source=/dev/null  # fetch.sh, found from the repository root
. tests/harness-arm64/fetch.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# L2: busybox and an init that says what it sees, then powers off.
mkdir -p "$work/l2/bin" "$work/l2/proc" "$work/l2/sys" "$work/l2/dev"
cp "$BUSYBOX" "$work/l2/bin/busybox"
cat >"$work/l2/init" <<'EOS'
#!/bin/busybox sh
bb=/bin/busybox
$bb mount -t proc proc /proc
echo "BENCH-GUEST cpus=$($bb grep -c ^processor /proc/cpuinfo) mem_kb=$($bb awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
$bb poweroff -f
EOS
chmod 755 "$work/l2/init"

# L1: the harness's base, the same initramfs for both VMMs, kvmtool beside ours, and an init
# that runs the rounds and prints one BENCH-RUN line per VM run.
arm64_l1_base "$work/l1" "$vmm"
arm64_cpio "$work/l2" >"$work/l1/l2.cpio"
peers=ours
kvmtool_version="none"
if [ -x "$lkvm" ]; then
	cp "$lkvm" "$work/l1/lkvm"
	peers="ours kvmtool"
	kvmtool_version=$(cat "$(dirname "$lkvm")/version" 2>/dev/null || echo "version unknown")
fi
cat >"$work/l1/init" <<EOS
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox mkdir -p /bin /tmp
/bin/busybox --install -s /bin
export PATH=/bin HOME=/tmp
[ -c /dev/kvm ] || echo "BENCH-NOTE L1 has no /dev/kvm"
up() { cut -d' ' -f1 /proc/uptime; }
# one VM run: NAME ROUND CPUS MIB; the guest's line is stamped as it arrives on stdout
run() {
	case \$1 in
	ours) set -- "\$@" /vmm-static --kernel /Image --initrd /l2.cpio --cpus \$3 --memory \${4}M \\
		--timeout $per_run --cmdline "console=ttyS0 quiet panic=-1" ;;
	kvmtool) set -- "\$@" timeout $per_run /lkvm run -k /Image -i /l2.cpio -c \$3 -m \$4 \\
		-n mode=none --console serial -p "quiet panic=-1" ;;
	esac
	name=\$1 round=\$2 cpus=\$3 mib=\$4
	shift 4
	rm -f /tmp/seen /tmp/rc
	t0=\$(up)
	{ "\$@" </dev/null 2>/tmp/\$name.err; echo \$? >/tmp/rc; } | tr -d "\\r" | while IFS= read -r line; do
		case \$line in *BENCH-GUEST*) echo "\$(up) \${line#*BENCH-GUEST }" >/tmp/seen ;; esac
		[ "$verbose" = 1 ] && echo "L2 \$name: \$line"
	done
	t2=\$(up)
	if [ -s /tmp/seen ]; then
		set -- \$(cat /tmp/seen)
		init=\$(awk "BEGIN { printf \"%.2f\", \$1 - \$t0 }")
		seen="\$2 \$3"
	else
		init=- seen="cpus=- mem_kb=-"
		tail -n 5 /tmp/\$name.err | sed "s/^/BENCH-NOTE \$name: /"
	fi
	echo "BENCH-RUN vmm=\$name cfg=\${cpus}x\$mib round=\$round init=\$init exit=\$(awk "BEGIN { printf \"%.2f\", \$t2 - \$t0 }") rc=\$(cat /tmp/rc) \$seen"
}
r=1
while [ \$r -le $rounds ]; do
	for c in $configs; do
		if [ \$((r % 2)) = 1 ]; then order="$peers"; else order="$(echo "$peers" | awk '{ for (i = NF; i > 0; i--) printf "%s%s", $i, (i > 1 ? " " : "") }')"; fi
		for p in \$order; do run \$p \$r \${c%x*} \${c#*x}; done
	done
	r=\$((r + 1))
done
echo "BENCH-DONE"
poweroff -f
EOS
chmod 755 "$work/l1/init"
arm64_cpio "$work/l1" | gzip -1 >"$work/l1.cpio.gz"

arm64_lock
echo "bench arm64: $rounds rounds of $configs, VMMs: $peers (kvmtool: $kvmtool_version)"
if [ "$verbose" = 1 ]; then
	arm64_boot_l1 3 "$work/l1.cpio.gz" "$out/console" "${BENCH_TIMEOUT:-3000}"
else
	# not a pipe: arm64_boot_l1 sets ARM64_WALL in this shell
	arm64_boot_l1 3 "$work/l1.cpio.gz" "$out/console" "${BENCH_TIMEOUT:-3000}" \
		> >(grep --line-buffered -a 'BENCH-' || true)
fi
log=$out/console.txt

{
	echo "arm64 boot to init, nested (QEMU TCG virt, EL2, GICv3; L1: 2 CPUs, 2 GiB);"
	echo "$rounds rounds, L1 ${ARM64_WALL} s wall; kvmtool: $kvmtool_version"
	echo "seconds of L1 uptime from starting the VMM: median [min-max] over the valid runs"
	grep -a '^BENCH-RUN ' "$log" | awk -v configs="$configs" -v peers="$peers" '
		function median(list,    n, a, i, j, t) {
			n = split(list, a, " ")
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		function range(list,    n, a, i, lo, hi) {
			n = split(list, a, " "); lo = hi = a[1]
			for (i = 2; i <= n; i++) { if (a[i] + 0 < lo + 0) lo = a[i]; if (a[i] + 0 > hi + 0) hi = a[i] }
			return sprintf("[%.2f-%.2f]", lo, hi)
		}
		function cell(v, c, f) {
			if (!n[v, c]) return bad[v, c] ? "invalid" : "-"
			return sprintf("%.2f %s", median(all[v, c, f]), range(all[v, c, f]))
		}
		{
			for (i = 2; i <= NF; i++) { split($i, kv, "="); x[kv[1]] = kv[2] }
			rnd[++nr] = x["round"]; v = x["vmm"]; c = x["cfg"]; vm[nr] = v; cf[nr] = c
			init[nr] = x["init"]; ex[nr] = x["exit"]; cpus[nr] = x["cpus"]; mem[nr] = x["mem_kb"]; rc[nr] = x["rc"]
			if (v == "ours" && x["init"] != "-") ourmem[c] = ourmem[c] " " x["mem_kb"]
		}
		END {
			for (r = 1; r <= nr; r++) {
				v = vm[r]; c = cf[r]; want = c; sub(/x.*/, "", want)
				why = ""
				if (init[r] == "-") why = "failed: no init line (rc " rc[r] ")"
				else if (cpus[r] != want) why = "invalid: the guest saw " cpus[r] " CPUs, not " want
				else if (v != "ours" && ourmem[c] != "" &&
					 (mem[r] < 0.8 * median(ourmem[c]) || mem[r] > 1.2 * median(ourmem[c])))
					why = "invalid: the guest saw MemTotal " mem[r] " kB, ours " median(ourmem[c]) " kB"
				if (why != "") { bad[v, c]++; note[++nn] = v " " c " round " rnd[r] ": " why; continue }
				n[v, c]++
				all[v, c, "init"] = all[v, c, "init"] " " init[r]
				all[v, c, "exit"] = all[v, c, "exit"] " " ex[r]
			}
			np = split(peers, p, " ")
			printf "%-11s %-5s", "config", "figure"
			for (i = 1; i <= np; i++) printf "  %-20s", p[i]
			if (np > 1) printf "  %s", "kvmtool/ours"
			printf "\n"
			nc = split(configs, cs, " ")
			for (k = 1; k <= nc; k++) {
				c = cs[k]; split(c, cm, "x")
				for (f = 1; f <= 2; f++) {
					fig = f == 1 ? "init" : "exit"
					printf "%-11s %-5s", cm[1] " CPU " cm[2] "M", fig
					for (i = 1; i <= np; i++) printf "  %-20s", cell(p[i], c, fig)
					if (np > 1) {
						if (n["ours", c] && n["kvmtool", c])
							printf "  %.2f", median(all["kvmtool", c, fig]) / median(all["ours", c, fig])
						else printf "  -"
					}
					printf "\n"
				}
				printf "%-17s", ""
				for (i = 1; i <= np; i++)
					printf "  %-20s", sprintf("%d valid%s", n[p[i], c], bad[p[i], c] ? ", " bad[p[i], c] " not" : "")
				printf "\n"
				printf "%-17s", "  guest saw"
				for (i = 1; i <= np; i++) {
					s = "-"
					for (r = 1; r <= nr; r++) if (vm[r] == p[i] && cf[r] == c && init[r] != "-") { s = cpus[r] " CPU, " mem[r] " kB"; break }
					printf "  %-20s", s
				}
				printf "\n"
			}
			for (i = 1; i <= nn; i++) print "left out: " note[i]
		}'
	grep -a '^BENCH-NOTE ' "$log" | sed 's/^BENCH-NOTE /note: /' | sort | uniq -c | sed 's/^ *\([0-9]*\) /(x\1) /' || true
	echo "runs:"
	grep -a '^BENCH-RUN ' "$log" | sed 's/^BENCH-RUN //'
} >"$out/table.txt"
cat "$out/table.txt"

status=0
grep -q '^BENCH-DONE' "$log" || { echo "bench arm64: L1 did not finish its rounds (see $log)"; status=1; }
for c in $configs; do
	got=$(grep -a '^BENCH-RUN vmm=ours ' "$log" | grep -c " cfg=$c .*init=[0-9]" || true)
	[ "$got" = "$rounds" ] || { echo "bench arm64: ours gave $got of $rounds init figures for $c"; status=1; }
done
exit $status
