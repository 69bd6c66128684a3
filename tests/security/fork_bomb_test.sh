#!/usr/bin/env bash
# A fork bomb at a task limit: fork(2) is EAGAIN and the sandbox goes on.
#   cgroup:      under a host pids cgroup limit, where the host refusing the
#                Sentry a thread or a stub process must become EAGAIN (it
#                used to abort: an uncaught std::system_error, whose abort
#                the Sentry's own seccomp filter then refused);
#   total-tasks: under the sandbox's own limit (--total-tasks, as
#                linux.resources.pids.limit sets it), no host limit involved.
# Usage: fork_bomb_test.sh RUNSC FORK_BOMB cgroup|total-tasks
set -u
runsc=$1
bomb=$2
mode=$3
skip() { echo "SKIP: $*"; exit 77; }
case "$mode" in
  cgroup)
    [ "$(id -u)" = 0 ] || skip "needs root to make a pids cgroup"
    pids=/sys/fs/cgroup/pids
    [ -w "$pids" ] || skip "no writable cgroup v1 pids hierarchy at $pids"
    cg=$pids/runsc-fork-bomb-$$
    mkdir "$cg" || skip "cannot make $cg"
    trap 'rmdir "$cg" 2>/dev/null' EXIT
    echo 40 >"$cg/pids.max"
    out=$( (echo "$BASHPID" >"$cg/cgroup.procs" && exec timeout -k 5 120 "$runsc" do -- "$bomb") 2>&1)
    ;;
  total-tasks)
    out=$(timeout -k 5 120 "$runsc" --total-tasks 30 do -- "$bomb" 2>&1)
    ;;
  *)
    echo "usage: fork_bomb_test.sh RUNSC FORK_BOMB cgroup|total-tasks"
    exit 2
    ;;
esac
status=$?
echo "$out" | grep -v "stub process died"
if [ "$status" = 0 ] && echo "$out" | grep -q "then Resource temporarily unavailable" &&
   echo "$out" | grep -q "after: child exit 7"; then
  echo "PASS: fork got EAGAIN at the limit ($mode) and the sandbox went on"
  exit 0
fi
echo "FAIL: exit status $status"
exit 1
