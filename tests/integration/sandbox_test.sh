#!/usr/bin/env bash
# What a user checks about the sandbox itself: isolation (the application is
# traced, the Sentry's root is empty, raw syscalls get the Sentry's answers),
# what it reports (uname, dmesg), and how it fails (bad flags, missing
# programs, crashes, signals). Usage: sandbox_test.sh RUNSC RAW_SYSCALLS_BINARY
set -u
runsc=$1
raw=$2
tmp=$(mktemp -d)
bg=""
cleanup() { [ -n "$bg" ] && kill -9 "$bg" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# 1. Raw syscalls in a root holding only the test binary.
mkdir -p "$tmp/root"
cp "$raw" "$tmp/root/raw_syscalls"
before=$(cd "$tmp/root" && find . -printf '%p %s %m\n' | sort; sha256sum raw_syscalls)
if "$runsc" do --root-dir "$tmp/root" -- /raw_syscalls >"$tmp/raw.out" 2>&1; then
  pass "raw syscalls get the Sentry's answers"
else
  fail "raw syscalls:"; cat "$tmp/raw.out"
fi
after=$(cd "$tmp/root" && find . -printf '%p %s %m\n' | sort; sha256sum raw_syscalls)
[ "$before" = "$after" ] && pass "the sandbox's writes to its root left the host tree unchanged" \
  || fail "the host tree changed: $before / $after"
"$runsc" do --root-dir "$tmp/root" -- /raw_syscalls crash >/dev/null 2>&1
st=$?
[ "$st" = 139 ] && pass "a segfaulting program gives 128+SIGSEGV" || fail "segfault exit status $st, want 139"

# 2. While a sandbox runs: its application is a traced stub and the
# Sentry's root is empty.
"$runsc" do -- /bin/busybox sleep 10 &
bg=$!
# This sandbox's stub: a child of its Sentry, itself a child of runsc do
# (other sandboxes may run at the same time).
stub=""
for _ in $(seq 1 100); do
  sentry=$(pgrep -P "$bg" -f "^runsc-sentry " | head -1)
  [ -n "$sentry" ] && stub=$(pgrep -P "$sentry" -x runsc-stub | head -1)
  [ -n "$stub" ] && break
  sleep 0.05
done
if [ -z "$stub" ]; then
  fail "no stub process found while the sandbox runs"
else
  tracer=$(awk '/^TracerPid:/ {print $2}' /proc/$stub/status)
  if [ "${tracer:-0}" != 0 ]; then pass "application stub $stub is traced by $tracer"; else fail "stub $stub is not traced"; fi
  if [ "${tracer:-0}" != 0 ]; then
    entries=$(ls -A /proc/$tracer/root/ 2>&1 | wc -l)
    [ "$entries" = 0 ] && pass "the Sentry's root directory is empty" || fail "the Sentry's root has $entries entries"
    mode=$(awk '/^Seccomp:/ {print $2}' /proc/$tracer/status)
    [ "$mode" = 2 ] && pass "the Sentry runs under its seccomp filter" || fail "Sentry seccomp mode '$mode', want 2"
  fi
  gofer=$(pgrep -P "$bg" -f "^runsc-gofer " | head -1)
  if [ -n "$gofer" ]; then
    mode=$(awk '/^Seccomp:/ {print $2}' /proc/$gofer/status)
    [ "$mode" = 2 ] && pass "the gofer runs under its seccomp filter" || fail "gofer seccomp mode '$mode', want 2"
  else
    fail "no gofer process found while the sandbox runs"
  fi
  libs=$(grep -c -E 'libc|runsc/runsc|\[heap\]' /proc/$stub/maps)
  [ "$libs" = 0 ] && pass "the stub maps none of the Sentry's memory" || fail "the stub still maps Sentry memory"
fi
# pid 1 without a handler ignores SIGTERM, as in a container; a second
# SIGTERM becomes SIGKILL.
kill -TERM "$bg"
sleep 0.3
if kill -0 "$bg" 2>/dev/null; then pass "pid 1 without a SIGTERM handler survives SIGTERM"; else fail "pid 1 died of a SIGTERM it does not handle"; fi
kill -TERM "$bg"
wait "$bg"
st=$?
bg=""
[ "$st" = 137 ] && pass "a second SIGTERM kills pid 1 (exit 137)" || fail "second SIGTERM: exit status $st, want 137"

# 3. What users check: uname and dmesg.
out=$("$runsc" do -- uname -a)
case "$out" in
  Linux*" 4.4.0 "*x86_64*) pass "uname -a: $out" ;;
  *) fail "uname -a printed: $out" ;;
esac
lines=$("$runsc" do -- /bin/busybox dmesg | grep -cE '^\[ *[0-9]+\.[0-9]{6}\] ')
[ "$lines" -ge 3 ] && pass "dmesg prints $lines boot log lines" || fail "dmesg printed $lines lines"

# 4. Exit statuses and errors.
"$runsc" do -- /bin/busybox sh -c 'exit 7'
st=$?
[ "$st" = 7 ] && pass "exit status passes through" || fail "exit status $st, want 7"
"$runsc" do -- /no/such/program 2>"$tmp/err"
st=$?
n=$(wc -l <"$tmp/err")
[ "$st" = 127 ] && [ "$n" = 1 ] && pass "missing program: 127 and one line: $(cat "$tmp/err")" ||
  fail "missing program: status $st, $n lines"
timeout 10 "$runsc" --no-such-flag do -- true 2>"$tmp/err"
st=$?
n=$(wc -l <"$tmp/err")
[ "$st" = 1 ] && [ "$n" = 1 ] && pass "unknown flag: exit 1 and one line: $(cat "$tmp/err")" ||
  fail "unknown flag: status $st, $n lines"

"$runsc" --debug --debug-log /no/such/dir/debug.log do -- /bin/busybox true >/dev/null 2>"$tmp/err"
st=$?; n=$(wc -l <"$tmp/err")
[ "$st" = 1 ] && [ "$n" = 1 ] && pass "unwritable debug log: exit 1 and one line: $(cat "$tmp/err")" ||
  fail "unwritable debug log: status $st, $n lines"

# A SIGTERM that pid 1 handles reaches its handler (a shell's trap).
"$runsc" do -- /bin/busybox sh -c 'trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 1; done' >"$tmp/trap.out" 2>&1 &
bg=$!
for _ in $(seq 1 100); do grep -q ready "$tmp/trap.out" 2>/dev/null && break; sleep 0.05; done
kill -TERM "$bg"
wait "$bg"
st=$?
bg=""
if [ "$st" = 3 ] && grep -q "got TERM" "$tmp/trap.out"; then
  pass "SIGTERM reaches pid 1's handler (trap ran, exit 3)"
else
  fail "trapped SIGTERM: status $st, output: $(cat "$tmp/trap.out")"
fi

# 5. --cwd and --env.
out=$("$runsc" do --cwd /usr/share -- /bin/busybox pwd 2>&1)
[ "$out" = /usr/share ] && pass "--cwd sets the working directory" || fail "--cwd: got '$out'"
out=$("$runsc" do --env RUNSC_A=1 --env RUNSC_B="two words" -- /bin/busybox env 2>&1 | grep '^RUNSC_' | tr '\n' ';')
[ "$out" = "RUNSC_A=1;RUNSC_B=two words;" ] && pass "--env adds variables" || fail "--env: got '$out'"
"$runsc" do --cwd /no/such/dir -- /bin/busybox pwd >/dev/null 2>"$tmp/err"
st=$?; n=$(wc -l <"$tmp/err")
[ "$st" != 0 ] && [ "$n" = 1 ] && pass "missing --cwd: one line: $(cat "$tmp/err")" || fail "missing --cwd: status $st, $n lines"

# 6. --strace and the debug log.
"$runsc" --strace do -- /bin/busybox uname -r 2>"$tmp/strace" >/dev/null
grep -qF "exit_group(0) = ?" "$tmp/strace" && grep -qE 'uname\(0x[0-9a-f]+\) = 0' "$tmp/strace" &&
  pass "--strace prints one line per syscall" || { fail "--strace output:"; head "$tmp/strace"; }
"$runsc" --debug --debug-log "$tmp/debug.log" do --root-dir "$tmp/root" -- /raw_syscalls >/dev/null 2>&1
grep -q 'unsupported syscall 433 (fspick)' "$tmp/debug.log" &&
  pass "an unimplemented syscall is named in the debug log" || fail "no ENOSYS line in the debug log"

echo "$failures failures"
[ "$failures" = 0 ]
