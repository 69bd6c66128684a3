#!/usr/bin/env bash
# A fork bomb under a pids cgroup limit: the host refusing the Sentry a
# thread or a stub process is the application's EAGAIN from fork(2), and
# the sandbox goes on (it used to abort: an uncaught std::system_error,
# whose abort the Sentry's own seccomp filter then refused).
# Usage: fork_bomb_test.sh RUNSC FORK_BOMB
set -u
runsc=$1
bomb=$2
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to make a pids cgroup"
pids=/sys/fs/cgroup/pids
[ -w "$pids" ] || skip "no writable cgroup v1 pids hierarchy at $pids"
cg=$pids/runsc-fork-bomb-$$
mkdir "$cg" || skip "cannot make $cg"
trap 'rmdir "$cg" 2>/dev/null' EXIT
echo 40 >"$cg/pids.max"
out=$( (echo "$BASHPID" >"$cg/cgroup.procs" && exec timeout -k 5 120 "$runsc" do -- "$bomb") 2>&1)
status=$?
echo "$out" | grep -v "stub process died"
if [ "$status" = 0 ] && echo "$out" | grep -q "then Resource temporarily unavailable" &&
   echo "$out" | grep -q "after: child exit 7"; then
  echo "PASS: fork got EAGAIN at the limit and the sandbox went on"
  exit 0
fi
echo "FAIL: exit status $status"
exit 1
