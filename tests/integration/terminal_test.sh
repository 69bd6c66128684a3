#!/usr/bin/env bash
# Job control on a terminal: tty_jobs runs as a session leader on a pty
# that script(1) provides, natively and under `runsc do`; both must pass
# and print the same checks. A line typed ahead feeds the job's read.
# Usage: terminal_test.sh RUNSC TTY_JOBS
set -u
runsc=$1
prog=$2
if ! command -v script >/dev/null; then echo "SKIP: no script(1) to make a terminal"; exit 77; fi
run() {  # COMMAND: its checks, as seen through the pty
  printf 'typed ahead\n' | timeout 60 script -qec "exec $1" /dev/null | tr -d '\r' | grep -E '^(ok|FAIL|[0-9]+ failure)'
}
native=$(run "$prog")
sandboxed=$(run "$runsc do $prog")
echo "--- native"; echo "$native"
echo "--- sandboxed"; echo "$sandboxed"
[ -n "$native" ] && ! echo "$native" | grep -q FAIL || { echo "FAIL: the native run fails its own checks"; exit 1; }
[ "$native" = "$sandboxed" ] || { echo "FAIL: the sandboxed run differs"; exit 1; }
echo "ok: identical"
