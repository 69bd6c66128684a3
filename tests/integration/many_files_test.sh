#!/usr/bin/env bash
# A sandbox looks at more host files than its caller's soft limit on open
# files: every name the Sentry walks to holds an FD in the gofer, which
# therefore raises that limit to the hard one. find stating 3000 files with
# `ulimit -S -n 256` must count what it counts natively.
# Usage: many_files_test.sh RUNSC
set -u
runsc=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for d in $(seq 1 30); do
  mkdir "$dir/d$d"
  (cd "$dir/d$d" && touch $(seq -f 'f%g' 1 100))
done
[ "$(ulimit -H -n)" = unlimited ] || [ "$(ulimit -H -n)" -gt 4000 ] || { echo "SKIP: the hard limit on open files ($(ulimit -H -n)) is below what the test needs"; exit 77; }
native=$(ulimit -S -n 256; find "$dir" -size -1k | wc -l)
sandboxed=$(ulimit -S -n 256; "$runsc" do -- sh -c "find '$dir' -size -1k | wc -l" 2>&1)
echo "native: $native, sandboxed: $sandboxed"
[ "$native" = 3000 ] || { echo "FAIL: native find counted $native, not 3000"; exit 1; }
[ "$native" = "$sandboxed" ] || { echo "FAIL: the sandboxed find differs"; exit 1; }
echo "ok"
