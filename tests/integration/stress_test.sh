#!/usr/bin/env bash
# Runs a stress mode of the stress program natively and under runsc do,
# compares the output, and checks that no stub process is left behind.
# Usage: stress_test.sh RUNSC STRESS_BINARY MODE
set -u
runsc=$1; prog=$2; mode=$3
native=$("$prog" "$mode") || { echo "FAIL: native run failed"; exit 1; }
sandboxed=$("$runsc" do -- "$prog" "$mode") || { echo "FAIL: sandboxed run failed: $sandboxed"; exit 1; }
if [ "$native" != "$sandboxed" ]; then
  echo "FAIL: native '$native', sandboxed '$sandboxed'"; exit 1
fi
echo "ok: $sandboxed"
# Stubs die with their sandbox; give the kernel a moment to reap them.
for _ in $(seq 1 50); do
  left=$(pgrep -c -f '^runsc-stub' 2>/dev/null || true)
  [ "${left:-0}" = 0 ] && break
  sleep 0.1
done
# Other sandboxes may run in parallel (ctest -j): only count stubs whose
# parent Sentry is gone.
orphans=0
for p in $(pgrep -f '^runsc-stub' 2>/dev/null); do
  ppid=$(awk '/^PPid:/ {print $2}' /proc/$p/status 2>/dev/null)
  [ "${ppid:-1}" = 1 ] && orphans=$((orphans + 1))
done
if [ "$orphans" != 0 ]; then echo "FAIL: $orphans stub processes left behind"; exit 1; fi
echo "ok: no stub process left behind"
