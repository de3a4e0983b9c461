#!/usr/bin/env bash
# Draws the spread of the vm benchmark with gnuplot: a panel per figure of
# build/bench/vm/distributions.dat (bench/vm.sh writes it after its table), every
# round of every VMM as a point, and the median of the rounds the table counts as a
# bar with its value. Runs on the data of an older run as well.
#
#   bench/chart.sh DISTRIBUTIONS.dat OUT.svg      (OUT.png: the same chart as a PNG)
#
# Within the strip of a VMM the points lie left to right by round, so a drift during
# the run shows as a slope. A run the table left out as unequal work is a grey cross.
# A panel whose values span more than a factor of 8 has a log scale, so the spread of
# the fast VMMs stays visible next to the slow ones.
# Exit status 2 on wrong arguments or without gnuplot (Debian: gnuplot-nox).
set -euo pipefail

if [ "$#" -ne 2 ] || [ ! -f "$1" ]; then
    echo "usage: $0 DISTRIBUTIONS.dat OUT.svg|OUT.png" >&2
    exit 2
fi
command -v gnuplot >/dev/null || { echo "chart: gnuplot missing (make deps installs gnuplot-nox)" >&2; exit 2; }
case "$2" in
*.png) term='pngcairo size %d,%d font "sans,11" background "white"' ;;
*) term='svg size %d,%d dynamic font "sans,12" background "white"' ;;
esac

awk -v term="$term" -v out="$2" '
    # "# vmm NAME LABEL", "# panel PART KEY LABEL", then lines: part key vmm round value counted
    /^# title / { title = substr($0, 9); next }
    /^# vmm / { nv++; vid[$3] = nv; l = $0; sub(/^# vmm [^ ]+ /, "", l); vlabel[nv] = l; next }
    /^# panel / { np++; pid[$3, $4] = np; l = $0; sub(/^# panel [^ ]+ [^ ]+ /, "", l); plabel[np] = l; next }
    /^#/ || NF < 6 { next }
    {
        i = pid[$1, $2]; v = vid[$3]
        if (!i || !v) next
        used[v] = 1
        k = ++n[i]; pv[i, k] = v; pr[i, k] = $4; py[i, k] = $5; pc[i, k] = $6
        if ($4 + 0 > rounds) rounds = $4 + 0
        if ($6 == 1) vals[i, v] = vals[i, v] " " $5
        if (!(i in lo) || $5 + 0 < lo[i]) lo[i] = $5 + 0
        if (!(i in hi) || $5 + 0 > hi[i]) hi[i] = $5 + 0
    }
    function median(list,    a, m, j, k, t) {
        m = split(list, a, " ")
        for (j = 2; j <= m; j++)
            for (k = j; k > 1 && a[k - 1] + 0 > a[k] + 0; k--) { t = a[k]; a[k] = a[k - 1]; a[k - 1] = t }
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    function num(x) { return x >= 100 ? sprintf("%.0f", x) : x >= 10 ? sprintf("%.1f", x) : sprintf("%.2f", x) }
    END {
        # a tic label of two words takes two lines, so four VMMs fit under a narrow panel
        for (v = 1; v <= nv; v++) if (used[v]) {
            x[v] = ++nx
            m = split(vlabel[v], word, " ")
            l = word[1]
            for (k = 2; k <= m; k++) l = l "\\n" word[k]
            tics = tics sprintf("%s\"%s\" %d", nx > 1 ? ", " : "", l, nx)
        }
        for (i = 1; i <= np; i++) if (n[i]) shown[++ns] = i
        if (!ns) { print "chart: no data points" > "/dev/stderr"; exit 1 }
        cols = ns < 3 ? ns : 3
        rows = int((ns + cols - 1) / cols)
        w = 390 * cols; h = 350 * rows + 110
        printf "set terminal " term "\n", w, h
        printf "set output \"%s\"\nset encoding utf8\nset termoption noenhanced\n", out
        # colours by VMM: ours first, the peers after it
        split("#d95f02 #1b9e77 #7570b3 #e7298a #66a61e #e6ab02", colour, " ")
        for (v = 1; v <= nv; v++) printf "set linetype %d lc rgb \"%s\"\n", v, colour[(v - 1) % 6 + 1]
        for (s = 1; s <= ns; s++) {
            i = shown[s]
            printf "$p%d << EOD\n", s
            for (k = 1; k <= n[i]; k++) if (pc[i, k] == 1)
                printf "%.3f %s %d\n", x[pv[i, k]] + (rounds > 1 ? ((pr[i, k] - 1) / (rounds - 1) - 0.5) * 0.44 : 0), py[i, k], pv[i, k]
            printf "EOD\n$x%d << EOD\n", s
            for (k = 1; k <= n[i]; k++) if (pc[i, k] != 1) { printf "%.3f %s\n", x[pv[i, k]] + (rounds > 1 ? ((pr[i, k] - 1) / (rounds - 1) - 0.5) * 0.44 : 0), py[i, k]; left[s] = 1 }
            printf "EOD\n$m%d << EOD\n", s
            for (v = 1; v <= nv; v++) if ((i, v) in vals) { m = median(vals[i, v]); printf "%.2f %s 0.56 0 \"%s\"\n", x[v] - 0.28, m, num(m) }
            printf "EOD\n"
        }
        printf "set multiplot layout %d,%d title \"%s\" font \",12\" margins %.3f,%.3f,%.3f,%.3f spacing %.3f,%.3f\n", rows, cols, title, 70 / w, 1 - 15 / w, 105 / h, 1 - 75 / h, 80 / w, 100 / h
        printf "set xrange [0.4:%.2f]\nset xtics (%s) nomirror scale 0\nset ytics nomirror\nset border 3\n", nx + 0.75, tics
        print "set grid ytics lt 1 lw 0.5 lc rgb \"#d0d0d0\"\nset key bottom right opaque reverse Left samplen 1 font \",10\""
        for (s = 1; s <= ns; s++) {
            i = shown[s]
            printf "set title \"%s\"\n", plabel[i]
            if (lo[i] > 0 && hi[i] > 8 * lo[i]) {
                # tics at 1, 2 and 5 times a power of ten: a log axis with numbers to read
                d = 10 ^ int(log(lo[i]) / log(10))
                if (d > lo[i]) d /= 10
                for (m = 0; m == 0 || seq[m] < hi[i]; m++)
                    seq[m + 1] = d * 10 ^ int(m / 3) * (m % 3 == 0 ? 1 : m % 3 == 1 ? 2 : 5)
                for (j = 1; j < m && seq[j + 1] <= lo[i]; j++) ;
                ylo = seq[j]; yhi = seq[m]; yt = seq[j]
                for (j++; j <= m; j++) yt = yt ", " seq[j]
                printf "set logscale y\nset yrange [%s:%s]\nset ytics (%s)\n", ylo, yhi, yt
            } else print "unset logscale y\nset yrange [0:*]\nset ytics autofreq"
            if (s == ns)
                print "set label 99 \"a point: one round, left to right within a strip from the first round to the last; bar and number: median of the rounds the table counts\\n" \
                    "grey cross: a run the table left out as unequal work; a log scale where the values of a panel span more than a factor of 8\" at screen 0.5, screen " 30 / h " center font \",10\""
            # the bar first, so the round at the median stays visible on it
            printf "plot $m%d using 1:2:3:4 with vectors nohead lw 2.5 lc rgb \"black\" notitle, ", s
            printf "$m%d using ($1 + 0.58):2:5 with labels left font \",10\" notitle, ", s
            printf "$p%d using 1:2:3 with points pt 7 ps 0.7 lc variable notitle", s
            if (left[s]) printf ", $x%d using 1:2 with points pt 2 ps 0.9 lw 1.5 lc rgb \"#888888\" title \"left out: unequal work\"", s
            printf "\n"
        }
        print "unset multiplot"
    }' "$1" | gnuplot
