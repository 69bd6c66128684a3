#!/usr/bin/env bash
# Runs a command natively and under `runsc do`, and fails unless stdout and
# the exit status are identical. Usage: compare.sh RUNSC [--stdin FILE] -- CMD...
set -u
runsc=$1; shift
stdin=/dev/null
if [ "${1:-}" = "--stdin" ]; then stdin=$2; shift 2; fi
[ "${1:-}" = "--" ] && shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# `env -u _`: the shell sets $_ to the program it starts, which differs
# (busybox natively, runsc sandboxed) and would show in `env`'s output.
env -u _ "$@" <"$stdin" >"$tmp/native.out" 2>"$tmp/native.err"; native=$?
env -u _ "$runsc" do -- "$@" <"$stdin" >"$tmp/sandbox.out" 2>"$tmp/sandbox.err"; sandbox=$?
fail=0
if [ "$native" != "$sandbox" ]; then
  echo "exit status differs: native $native, sandboxed $sandbox"; fail=1
fi
if ! cmp -s "$tmp/native.out" "$tmp/sandbox.out"; then
  echo "stdout differs (native vs sandboxed):"; diff "$tmp/native.out" "$tmp/sandbox.out" | head -20; fail=1
fi
if [ $fail -ne 0 ]; then
  echo "--- sandboxed stderr:"; head -20 "$tmp/sandbox.err"
  exit 1
fi
echo "same output ($(wc -c <"$tmp/native.out") bytes) and exit status $native: $*"
