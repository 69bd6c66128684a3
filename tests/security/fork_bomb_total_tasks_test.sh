#!/usr/bin/env bash
# A fork bomb under the sandbox's own task limit (--total-tasks, as
# linux.resources.pids.limit sets it): fork is EAGAIN from the Sentry, no
# host limit involved, and the sandbox goes on.
# Usage: fork_bomb_total_tasks_test.sh RUNSC FORK_BOMB
set -u
out=$(timeout -k 5 120 "$1" --total-tasks 30 do -- "$2" 2>&1)
status=$?
echo "$out"
if [ "$status" = 0 ] && echo "$out" | grep -q "then Resource temporarily unavailable" &&
   echo "$out" | grep -q "after: child exit 7"; then
  echo "PASS: fork got EAGAIN at the sandbox's task limit and the sandbox went on"
  exit 0
fi
echo "FAIL: exit status $status"
exit 1
