#!/usr/bin/env bash
# Host files outside the sandbox's root stay out of reach: a program in a
# sandbox whose root is a scratch directory tries "..", symlinks (absolute
# and climbing, made on the host and inside), /proc's root, cwd and fd
# magic links, openat from directory FDs and a rename race, to read a
# secret file beside that root (tests/security/programs/path_escape.c). It
# must never read it, with the root served writable by the gofer, under
# the overlay, and read-only. As a control, the same program run natively
# from that directory does read it (so a miss is not the program's fault).
# Usage: path_escape_test.sh RUNSC PATH_ESCAPE
set -u
runsc=$1
prog=$2
tmp=$(mktemp -d /tmp/runsc-escape.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
secret="HOST-SECRET-$RANDOM$RANDOM$RANDOM"
echo "$secret" >"$tmp/secret"
chmod 644 "$tmp/secret"
root=$tmp/root
mkdir -p "$root/bin" "$root/proc" "$root/dev" "$root/tmp"
cp "$prog" "$root/bin/path_escape"
# Host-made symlinks, for the read-only root where the program cannot make them.
ln -s "$tmp/secret" "$root/abs"
ln -s ../../../../../../secret "$root/up"
ln -s ../../../../.. "$root/updir"
failures=0

out=$(cd "$root" && "$root/bin/path_escape" "$tmp" "$secret" "$root" 2>&1)
if echo "$out" | grep -q "^ESCAPE"; then
  echo "ok: control: natively the program reads the secret ($(echo "$out" | grep -c '^ESCAPE') ways)"
else
  echo "FAIL: control: natively the program did not read the secret, so it proves nothing: $out"
  failures=$((failures + 1))
fi

for mode in writable overlay read-only; do
  case $mode in
    writable) flags=(--overlay2=none do --root-dir "$root") ;;
    overlay) flags=(do --root-dir "$root") ;;
    read-only) flags=(do --read-only --root-dir "$root") ;;
  esac
  out=$(timeout -k 5 60 "$runsc" "${flags[@]}" --cwd / -- /bin/path_escape "$tmp" "$secret" 2>&1)
  status=$?
  summary=$(echo "$out" | grep -E "attempts|rename race" | tr '\n' ' ')
  if [ $status = 0 ] && echo "$out" | grep -q " 0 escapes$"; then
    echo "ok: $mode root: no escape ($summary)"
  else
    echo "FAIL: $mode root (status $status):"
    echo "$out"
    failures=$((failures + 1))
  fi
done
# The secret is untouched on the host.
[ "$(cat "$tmp/secret")" = "$secret" ] || { echo "FAIL: the host's secret file changed"; failures=$((failures + 1)); }
echo "$failures failure(s)"
[ $failures = 0 ]
