#!/bin/bash
# The include order of the VMM's sources. Each file belongs to a layer; a file may include
# headers of its own layer and of the layers below it, never of a layer above. And no two
# modules (a .c and its .h) may reach each other through includes: that is a cycle.
# Prints FAIL: lines, one per violation, and one PASS: line for the tree and one for its
# own self-test. Usage: tests/layering.sh [ROOT]   (default: the repository)
set -u

# The layers, bottom to top: RANK NAME PATTERNS (a layer may take several lines). A file
# takes the first line with a pattern that matches it (shell patterns; * also matches /),
# so the catch-all vmm/* comes last. Layers of equal rank may include each other.
# docs/architecture.md draws the same picture.
LAYERS='
0 platform devices/platform.h devices/arm64/platform.h
1 core     vmm/kvm.* vmm/memory.* vmm/irq.* vmm/seccomp.* vmm/seccomp_* vmm/event_loop.* vmm/hostfile.*
1 core     vmm/exit_codes.h vmm/json.* vmm/parse.* vmm/x86/cpuid.* vmm/x86/chipset.* vmm/arm64/chipset.*
1 core     vmm/snapshot_format.* vmm/sha256.* vmm/version.h
2 devices  devices/*
2 firmware firmware/*
3 virtio   virtio/*
5 run      vmm/run/*
6 main     vmm/main.c vmm/startup.*
4 monitor  vmm/*
'
# The directories the layers cover.
SOURCES='vmm devices firmware virtio'

# Known violations, each "FILE HEADER reason": reported as "known", not as a failure; a new
# violation fails. None today: keep it so, and give any entry a reason and a way out.
ALLOWED='
'

# check ROOT ALLOWED: print FAIL: lines (and note: lines); exit status 1 on a failure.
check() {
	local root=$1 allowed=$2
	(
		cd "$root" || exit 2
		# shellcheck disable=SC2086 # SOURCES is a list
		files=$(find $SOURCES -name '*.[ch]' 2>/dev/null | sort)
		{
			echo "$LAYERS" | sed -n 's/^\([0-9]\)/L \1/p'
			echo "$allowed" | awk 'NF >= 2 { print "A", $1, $2 }'
			for f in $files; do
				echo "F $f"
			done
			# shellcheck disable=SC2086
			[ -z "$files" ] || grep -H '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' $files |
				sed 's/^\([^:]*\):[^"]*"\([^"]*\)".*/E \1 \2/'
		} | awk -f <(layering_awk)
	)
}

layering_awk() {
	cat <<'EOF'
function glob_re(g) { gsub(/[.+?^$()|{}\[\]]/, "\\\\&", g); gsub(/\*/, ".*", g); return "^" g "$" }
function layer_of(f,   i) {
	for (i = 1; i <= npat; i++)
		if (f ~ pat[i])
			return patlayer[i]
	return ""
}
# X_internal.h is module X's private header, shared only by X's own files: part of X
function module_of(f) { sub(/\.[ch]$/, "", f); sub(/_internal$/, "", f); return f }
$1 == "L" { rank[$3] = $2; for (i = 4; i <= NF; i++) { pat[++npat] = glob_re($i); patlayer[npat] = $3 } }
$1 == "A" { allowed[$2 " " $3] = 1 }
$1 == "F" { file[$2] = 1; nfiles++ }
$1 == "E" { ne++; ef[ne] = $2; eh[ne] = $3 }
END {
	for (f in file)
		if (layer_of(f) == "") {
			print "FAIL: layering: " f " is in no layer (add it to LAYERS in tests/layering.sh)"
			failed++
		}
	for (i = 1; i <= ne; i++) {
		f = ef[i]; h = eh[i]
		if (!(h in file)) {
			print "FAIL: layering: " f " includes " h ", which is not under " \
				"the layered directories (include it by its path from the root)"
			failed++
			continue
		}
		mf = module_of(f); mh = module_of(h)
		if (mf != mh && !((mf, mh) in medge)) {
			medge[mf, mh] = 1
			nout[mf]++; out[mf, nout[mf]] = mh
		}
	}
	# reach[a, b]: module b can be reached from module a; via[a, b]: b's predecessor on
	# a shortest path from a (breadth first from every module)
	for (m in nout) {
		qh = 0; qt = 0; q[qt++] = m
		while (qh < qt) {
			a = q[qh++]
			for (k = 1; k <= nout[a]; k++) {
				b = out[a, k]
				if (!((m, b) in reach)) {
					reach[m, b] = 1; via[m, b] = a; q[qt++] = b
				}
			}
		}
	}
	for (i = 1; i <= ne; i++) {
		f = ef[i]; h = eh[i]
		if (!(h in file))
			continue
		lf = layer_of(f); lh = layer_of(h)
		key = f " " h
		if (lf != "" && lh != "" && rank[lh] > rank[lf]) {
			msg = f " includes " h " (" lh " above " lf ")"
			if (key in allowed) { known++; used[key] = 1; print "known: layering: " msg }
			else { print "FAIL: layering: " msg; failed++ }
		}
		mf = module_of(f); mh = module_of(h)
		if (mf != mh && ((mh, mf) in reach)) {
			path = mf
			for (b = mf; b != mh; b = via[mh, b])
				path = via[mh, b] " -> " path
			msg = "cycle: " f " includes " h ", and " mh " leads back to " mf " (" path ")"
			if (key in allowed) { known++; used[key] = 1; print "known: layering: " msg }
			else { print "FAIL: layering: " msg; failed++ }
		}
	}
	for (key in allowed)
		if (!(key in used))
			print "note: layering: " key " is no longer a violation: take it off ALLOWED"
	if (failed)
		exit 1
	printf "PASS: layering: %d files, %d includes: none goes up the layer order or closes a " \
		"new cycle (%d known, listed in tests/layering.sh)\n", nfiles, ne, known
}
EOF
}

# The check must see an upward include and a cycle in a tree made for it.
self_test() {
	local tmp out
	tmp=$(mktemp -d) || return 1
	mkdir -p "$tmp/vmm" "$tmp/devices" "$tmp/virtio" "$tmp/firmware"
	echo '#include "vmm/vm.h"' >"$tmp/devices/up.h"
	echo '#include "devices/platform.h"' >"$tmp/vmm/memory.c"
	: >"$tmp/devices/platform.h"
	echo '#include "vmm/vcpu.h"' >"$tmp/vmm/vm.h"
	printf '#include "vmm/vm.h"\n#include "vmm/memory.h"\n' >"$tmp/vmm/vcpu.c"
	: >"$tmp/vmm/vcpu.h"
	: >"$tmp/vmm/memory.h"
	out=$(check "$tmp" "")
	local want1='FAIL: layering: devices/up.h includes vmm/vm.h (monitor above devices)'
	local want2='FAIL: layering: cycle: vmm/vcpu.c includes vmm/vm.h, and vmm/vm leads back to vmm/vcpu (vmm/vm -> vmm/vcpu)'
	local want3='FAIL: layering: cycle: vmm/vm.h includes vmm/vcpu.h, and vmm/vcpu leads back to vmm/vm (vmm/vcpu -> vmm/vm)'
	local allowed='devices/up.h vmm/vm.h r
vmm/vcpu.c vmm/vm.h r
vmm/vm.h vmm/vcpu.h r'
	if [ "$(echo "$out" | grep -c '^FAIL:')" -ne 3 ] || ! grep -qxF "$want1" <<<"$out" ||
		! grep -qxF "$want2" <<<"$out" || ! grep -qxF "$want3" <<<"$out"; then
		echo "FAIL: layering: self-test: the check did not report exactly the upward include" \
			"and the cycle it was given; it printed:"
		echo "$out" | sed 's/^/    /'
	elif ! check "$tmp" "$allowed" | grep -q '^PASS: layering: 7 files, 5 includes'; then
		echo "FAIL: layering: self-test: the allow-list did not excuse what it names"
	else
		echo "PASS: layering: self-test (an upward include and a cycle are reported)"
		rm -rf "$tmp"
		return 0
	fi
	rm -rf "$tmp"
	return 1
}

root=${1:-$(dirname "$0")/..}
status=0
self_test || status=1
check "$root" "$ALLOWED" || status=1
exit $status
