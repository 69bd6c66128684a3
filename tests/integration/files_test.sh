#!/usr/bin/env bash
# The "files" milestone through real Debian programs. Usage: files_test.sh RUNSC CASE
#   tar, cp, find, sqlite, python, git: data/files_cases.sh CASE runs natively and under
#     `runsc do`, each building its input in a fresh temporary directory; stdout (with
#     stderr) and the exit status must be identical, and the native run must succeed.
#   proc: /proc readers (ps, nproc, top, df, free, uptime) under `runsc do`; they differ
#     from native by nature, so properties of their output are checked.
#   overlay: a sandboxed shell modifies a host directory; the changes are seen in the
#     sandbox (as natively on a copy) and the host directory is left byte-identical.
# Exits 77 (a skip) when a program a case needs is missing.
set -u
runsc=$1
name=$2
here=$(cd "$(dirname "$0")" && pwd)
cases=$here/data/files_cases.sh

need() {
  local p
  for p in "$@"; do
    if [ "${p#/}" != "$p" ]; then
      [ -x "$p" ] || { echo "SKIP: $p is not installed"; exit 77; }
    else
      command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p is not installed"; exit 77; }
    fi
  done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

compare_case() {
  env -u _ /bin/bash "$cases" "$name" >"$tmp/native.out" 2>"$tmp/native.err"
  local native=$?
  env -u _ "$runsc" do -- /bin/bash "$cases" "$name" >"$tmp/sandbox.out" 2>"$tmp/sandbox.err"
  local sandbox=$?
  if [ "$native" != 0 ]; then
    echo "FAIL: the native run exits $native"; tail -20 "$tmp/native.out" "$tmp/native.err"; exit 1
  fi
  local fail=0
  if [ "$native" != "$sandbox" ]; then
    echo "exit status differs: native $native, sandboxed $sandbox"; fail=1
  fi
  if ! cmp -s "$tmp/native.out" "$tmp/sandbox.out"; then
    echo "output differs (- native, + sandboxed):"
    diff -u "$tmp/native.out" "$tmp/sandbox.out" | head -60; fail=1
  fi
  if [ $fail != 0 ]; then
    echo "--- sandboxed stderr:"; head -20 "$tmp/sandbox.err"; exit 1
  fi
  echo "same output ($(wc -l <"$tmp/native.out") lines) and exit status: $name"
}

failures=0
check() {  # check DESCRIPTION COMMAND...: a property that must hold
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}

# run_sandboxed FILE CMD...: runs CMD under runsc do, stdout+stderr to FILE, the exit status.
run_sandboxed() {
  local out=$1; shift
  "$runsc" do -- "$@" >"$out" 2>&1
  local rc=$?
  sed 's/^/  | /' "$out" | head -8
  return $rc
}

proc_case() {
  need ps nproc top df free uptime head
  # ps as a child of the shell, which is pid 1 (`; exit` keeps sh from exec'ing ps).
  run_sandboxed "$tmp/ps" /bin/sh -c 'ps -o pid,comm; exit $?'
  check "ps -o pid,comm exits 0" [ $? = 0 ]
  check "ps lists pid 1, the shell" grep -Eq '^ *1 sh$' "$tmp/ps"
  check "ps lists itself with another pid" grep -Eq '^ *([2-9]|[1-9][0-9]+) ps$' "$tmp/ps"
  run_sandboxed "$tmp/psef" ps -ef
  check "ps -ef exits 0 and shows its own command line" grep -q 'ps -ef' "$tmp/psef"
  run_sandboxed "$tmp/nproc" nproc
  check "nproc equals native nproc ($(nproc))" [ "$(cat "$tmp/nproc")" = "$(nproc)" ]
  run_sandboxed "$tmp/top" /bin/sh -c 'top -b -n1 | head -1'
  check "top -b -n1 starts with 'top -'" grep -q '^top -' "$tmp/top"
  run_sandboxed "$tmp/df" df /
  check "df / exits 0" [ $? = 0 ]
  check "df / shows a filesystem on /" grep -Eq ' /$' "$tmp/df"
  run_sandboxed "$tmp/free" free -b
  check "free -b exits 0 with a Mem: line" grep -Eq '^Mem: +[0-9]+' "$tmp/free"
  run_sandboxed "$tmp/uptime" uptime
  check "uptime exits 0 with a load average" grep -q 'load average' "$tmp/uptime"
  [ $failures = 0 ] || { echo "$failures checks failed"; exit 1; }
}

# tree_state DIR: every entry's type, mode, owner, size, link count, target and
# nanosecond mtime, and the md5sum of every regular file.
tree_state() {
  (cd "$1" && find . -printf '%P %y %m %u:%g %s %n %l %T@\n' | LC_ALL=C sort &&
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum)
}

overlay_case() {
  local host=$tmp/host
  mkdir -p "$host"
  /bin/bash "$cases" make_tree "$host/tree" || { echo "FAIL: cannot build the tree"; exit 1; }
  tree_state "$host/tree" >"$tmp/before"
  cp -a "$host/tree" "$host/copy"
  # What the changes should look like: the same script natively on a copy.
  /bin/bash "$cases" mutate "$host/copy" >"$tmp/native.out" 2>&1 ||
    { echo "FAIL: native run"; cat "$tmp/native.out"; exit 1; }
  "$runsc" do -- /bin/bash "$cases" mutate "$host/tree" >"$tmp/sandbox.out" 2>&1
  check "the sandboxed shell exits 0" [ $? = 0 ]
  if cmp -s "$tmp/native.out" "$tmp/sandbox.out"; then
    echo "ok: the sandbox sees its changes ($(wc -l <"$tmp/sandbox.out") lines, as natively)"
  else
    echo "FAIL: the sandbox's listing differs from native (- native, + sandboxed):"
    diff -u "$tmp/native.out" "$tmp/sandbox.out" | head -40
    failures=$((failures + 1))
  fi
  # Not checked, shown: as on overlayfs without index=on, a copy-up breaks a
  # hard link of the lower layer, so a write through one name is not seen
  # through the other (natively it is).
  local seen
  seen=$("$runsc" do -- /bin/sh -c 'echo more >>"$1/a/hello.txt"; cat "$1/a/b/hard-hello.txt"' sh "$host/tree" |
    tr '\n' ' ')
  echo "note: after appending to a/hello.txt in the sandbox, its hard link a/b/hard-hello.txt reads: $seen"
  tree_state "$host/tree" >"$tmp/after"
  check "the host tree is unchanged ($(md5sum <"$tmp/before" | cut -c1-32))" cmp -s "$tmp/before" "$tmp/after"
  diff -u "$tmp/before" "$tmp/after" | head -20
  # The changes vanished with their sandbox: a new one sees the tree as the host does.
  "$runsc" do -- /bin/bash "$cases" list_tree "$host/tree" >"$tmp/sandbox2.out" 2>&1
  /bin/bash "$cases" list_tree "$host/tree" >"$tmp/native2.out" 2>&1
  check "a new sandbox sees the original tree" cmp -s "$tmp/native2.out" "$tmp/sandbox2.out"
  diff -u "$tmp/native2.out" "$tmp/sandbox2.out" | head -20
  # Nothing left next to the tree either.
  check "no new entry beside the tree" [ "$(ls "$host" | tr '\n' ' ')" = "copy tree " ]
  [ $failures = 0 ] || { echo "$failures checks failed"; exit 1; }
}

case $name in
  tar) need tar gzip md5sum find diff; compare_case ;;
  cp) need cp find diff md5sum truncate; compare_case ;;
  find) need find du awk md5sum; compare_case ;;
  sqlite) need sqlite3 md5sum; compare_case ;;
  python) need /usr/bin/python3; compare_case ;;
  git) need git md5sum; compare_case ;;
  proc) proc_case ;;
  overlay) need find md5sum cp dd truncate; overlay_case ;;
  *) echo "unknown case $name"; exit 2 ;;
esac
