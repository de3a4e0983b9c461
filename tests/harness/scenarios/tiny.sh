#!/bin/sh
# Scenario "tiny" (runs inside L1): the tiny flat-binary test guests
# (tests/guests, built into build/guests) on the real /dev/kvm. run-tiny.sh,
# copied to /tiny with the .bin files, prints its own PASS:/FAIL:/SKIP: lines.
# Env (set by host-init.sh): VMM TINY_DIR
dir=${TINY_DIR:-/tiny}
if [ -f "$dir/run-tiny.sh" ]; then
    sh "$dir/run-tiny.sh" "$VMM" "$dir"
else
    echo "SKIP: tiny guests: not built"
fi
