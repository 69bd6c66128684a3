#!/usr/bin/env bash
# The sandbox's memory bounds (issue 15, item 3): under --total-memory and
# --overlay-size, the overlay, a tmpfs and the application's memory stop
# at their sizes inside the sandbox (ENOSPC, the OOM killer's SIGKILL with
# its dmesg line), and the sandbox goes on. A bad size is a usage error.
# Usage: memory_bounds_test.sh RUNSC MEMORY_BOUNDS
set -u
runsc=$1
program=$2
fail() { echo "FAIL: $*"; exit 1; }
out=$(timeout -k 5 120 "$runsc" --total-memory 256m --overlay-size 8m do -- "$program" 2>/dev/null)
status=$?
echo "$out"
[ "$status" = 0 ] || fail "exit status $status"
expect() { grep -qxF -- "$1" <<<"$out" || fail "expected the line '$1'"; }
expect "overlay fallocate: ENOSPC"
expect "overlay write: ENOSPC"
expect "shm fallocate: ENOSPC"
expect "oom child: SIGKILL"
grep -qE '^dmesg: Out of memory: Killed process [0-9]+ \(memory_bounds\)$' <<<"$out" || fail "no OOM line in dmesg"
expect "meminfo total: 262144 kB"
expect "after: ok"
err=$("$runsc" --total-memory lots do -- /bin/true 2>&1)
status=$?
[ "$status" != 0 ] && grep -q "not a size" <<<"$err" || fail "--total-memory lots: status $status, '$err'"
echo "PASS"
