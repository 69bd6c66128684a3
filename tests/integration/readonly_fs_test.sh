#!/usr/bin/env bash
# With `runsc do --read-only` the root is the gofer's tree, read-only: calls that modify files fail with the same
# errno, call for call, as natively on a read-only bind mount.
# Usage: readonly_fs_test.sh RUNSC READONLY_FS_ERRORS_BINARY
set -u
runsc=$1
prog=$2
if ! unshare -m true 2>/dev/null; then
  echo "SKIP: the native side needs a private mount namespace (unshare -m), which this user cannot create"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/d"
echo data >"$tmp/root/f"
ln -s f "$tmp/root/l"
cp "$prog" "$tmp/root/prog"
unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && "$1/prog" "$1"' sh "$tmp/root" \
  >"$tmp/native" 2>&1 || { echo "FAIL: native run"; cat "$tmp/native"; exit 1; }
"$runsc" do --read-only --root-dir "$tmp/root" -- /prog / >"$tmp/sandbox" 2>&1 || { echo "FAIL: sandboxed run"; cat "$tmp/sandbox"; exit 1; }
if diff -u "$tmp/native" "$tmp/sandbox"; then
  echo "ok: $(wc -l <"$tmp/native") calls fail alike natively and sandboxed"
  cat "$tmp/native"
else
  echo "FAIL: errnos differ (- native, + sandboxed)"
  exit 1
fi
