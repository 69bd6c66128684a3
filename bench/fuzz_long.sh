#!/usr/bin/env bash
# The long syscall fuzz (issue 15, item 5): TOTAL calls (10^7 by default)
# as runs of 200,000 calls with seeds 1, 2, ..., each checked by
# tests/security/syscall_fuzz_test.sh (the sandbox survives, every task
# ends, no host FD leaks). Run it before resolving a change to the Sentry's
# syscall surface; the README's fuzz figures come from it.
# Usage: bench/fuzz_long.sh [TOTAL] [FIRST_SEED]   (after scripts/build.sh)
set -u
cd "$(dirname "$0")/.."
total=${1:-10000000}
seed=${2:-1}
per_run=200000
runs=$(( (total + per_run - 1) / per_run ))
failed=0
for ((i = 0; i < runs; i++, seed++)); do
  if ! out=$(tests/security/syscall_fuzz_test.sh build/runsc/runsc build/tests/security/syscall_fuzz "$per_run" "$seed" 2>&1); then
    echo "seed $seed FAILED:"
    echo "$out"
    failed=$((failed + 1))
  fi
done
echo "fuzz_long: $((runs * per_run)) calls in $runs runs (seeds ${2:-1}..$((seed - 1))), $failed failed"
[ "$failed" = 0 ]
