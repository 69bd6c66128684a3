#!/usr/bin/env bash
# The bounded syscall fuzzer (issue 15, item 5): CALLS random system calls
# from forked children in one sandbox. Fails if the sandbox does not come
# back with the fuzzer's "still working" (a Sentry crash or abort, a task
# SIGKILL did not end), or if the Sentry holds more host FDs once every
# child is gone than before the first one (a leak: what the children
# opened must be closed when they exit).
# Usage: syscall_fuzz_test.sh RUNSC SYSCALL_FUZZ [CALLS [SEED]]
set -u
runsc=$1
fuzz=$2
calls=${3:-200000}
seed=${4:-1}
# The FDs of the Sentry process: the descendant of PID (timeout, then
# runsc) named runsc-sentry by its argv[0].
sentry_fds() {
  local p
  for p in $(pgrep -P "$1"); do
    if tr '\0' ' ' <"/proc/$p/cmdline" | grep -q '^runsc-sentry '; then
      ls "/proc/$p/fd" | wc -l
      return 0
    fi
    sentry_fds "$p" && return 0
  done
  return 1
}
# Bounded memory and overlay: the fuzzer's size-taking calls (mmap, brk,
# fallocate, ftruncate...) hit the sandbox's limits, never the host's.
coproc FUZZ { exec timeout -k 5 600 "$runsc" --total-memory 1g --overlay-size 64m do -- "$fuzz" 2000 "$calls" "$seed" pause 2>&1; }
runsc_pid=$FUZZ_PID
read -r line <&"${FUZZ[0]}"
[ "$line" = "fuzz: start" ] || { echo "FAIL: expected 'fuzz: start', got '$line'"; exit 1; }
before=$(sentry_fds "$runsc_pid" || echo -1)
echo >&"${FUZZ[1]}"
read -r line <&"${FUZZ[0]}"
[ "$line" = "fuzz: done" ] || { echo "FAIL: expected 'fuzz: done', got '$line'"; cat <&"${FUZZ[0]}"; exit 1; }
after=$(sentry_fds "$runsc_pid" || echo -1)
echo >&"${FUZZ[1]}"
out=$(cat <&"${FUZZ[0]}")
wait "$runsc_pid"
status=$?
echo "$out"
echo "Sentry host FDs: $before before the first child, $after after the last"
[ "$status" = 0 ] || { echo "FAIL: the sandbox exited with status $status"; exit 1; }
echo "$out" | grep -q "still working" || { echo "FAIL: no 'still working' line"; exit 1; }
[ "$before" -ge 0 ] && [ "$after" -ge 0 ] || { echo "FAIL: no Sentry process found under pid $runsc_pid"; exit 1; }
[ "$after" -le "$before" ] || { echo "FAIL: host FDs leaked"; exit 1; }
echo "PASS"
