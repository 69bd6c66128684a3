#!/usr/bin/env bash
# Networking through real programs: each case of data/net_cases.sh runs
# natively in a fresh network namespace whose only interface is lo, up
# (`unshare -n`, as the sandbox sees its own), and under `runsc do`; stdout
# and the exit status must be identical, and the native run must succeed.
# Traffic goes only to 127.0.0.1, ::1 and unix sockets; every server is the
# case's own, bounded in time and killed afterwards.
#   http        python3 -m http.server on 127.0.0.1 and ::1; curl and urllib.request
#   asyncio     an asyncio echo server and clients (TCP v4, v6, unix)
#   mp_manager  multiprocessing.Manager with child processes (unix, then TCP)
#   socat       socat from a unix socket to a socat TCP echo server
#   redis       redis-server and redis-cli: SET/GET/INCR, 10000 keys by --pipe
#   ip          ip link/addr/route (netlink route dumps)
#   nginx       nginx (master + worker, sendfile) serving files to curl
#   node        a node http server and client (TCP v4, v6, unix)
#   ping        ping -c 1 127.0.0.1 and ::1, times removed
# Usage: network_test.sh RUNSC [CASE...]
#        network_test.sh [RUNSC] --native-only [CASE...]   (development: only the
#          native side, printing the output that would be compared)
# Each case prints PASS, FAIL or SKIP (a program it needs is missing); exits 1
# if any failed, 77 (a skip) if every case was skipped, 0 otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cases=$here/data/net_cases.sh
all_cases=(http asyncio mp_manager socat redis ip nginx node ping)
# Each run (native or sandboxed) of one case is bounded by this.
run_limit=30

runsc=""
native_only=0
[ "${1:-}" != "--native-only" ] && [ $# -gt 0 ] && { runsc=$1; shift; }
[ "${1:-}" = "--native-only" ] && { native_only=1; shift; }
selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${all_cases[@]}")
if [ $native_only = 0 ] && [ -z "$runsc" ]; then
  echo "usage: network_test.sh RUNSC [--native-only] [CASE...]"; exit 2
fi

# What each case needs besides bash and coreutils.
needs() {
  case $1 in
    http) echo /usr/bin/python3 curl ;;
    asyncio | mp_manager) echo /usr/bin/python3 ;;
    socat) echo /usr/bin/python3 socat ;;
    redis) echo /usr/bin/python3 redis-server redis-cli awk ;;
    ip) echo ip ;;
    nginx) echo /usr/bin/python3 nginx curl /etc/nginx/mime.types ;;
    node) echo node ;;
    ping) echo ping ;;
    *) return 1 ;;
  esac
}
missing() {  # the first program of CASE's needs that is missing, if any
  local p
  for p in $(needs "$1"); do
    if [ "${p#/}" != "$p" ]; then
      [ -e "$p" ] || { echo "$p"; return; }
    else
      command -v "$p" >/dev/null 2>&1 || { echo "$p"; return; }
    fi
  done
}

for c in "${selected[@]}"; do
  needs "$c" >/dev/null || { echo "unknown case $c (cases: ${all_cases[*]})"; exit 2; }
done
if ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
  echo "SKIP: unshare(1) and ip(8) are needed for the native runs"; exit 77
fi
if ! unshare -n sh -c 'ip link set lo up' 2>/dev/null; then
  echo "SKIP: cannot make a network namespace with lo up (unshare -n needs root)"; exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# native CASE: the case in a fresh network namespace with only lo, brought up.
native() {
  env -u _ timeout -k 5 "$run_limit" unshare -n sh -c 'ip link set lo up && exec "$@"' sh \
    /bin/bash "$cases" "$1"
}
sandboxed() {
  env -u _ timeout -k 5 "$run_limit" "$runsc" do -- /bin/bash "$cases" "$1"
}

passed=0 failed=0 skipped=0
for c in "${selected[@]}"; do
  m=$(missing "$c")
  if [ -n "$m" ]; then
    echo "SKIP: $c ($m is not installed)"; skipped=$((skipped + 1)); continue
  fi
  native "$c" <"/dev/null" >"$tmp/$c.native.out" 2>"$tmp/$c.native.err"
  nrc=$?
  if [ $native_only = 1 ]; then
    echo "=== $c: native exit $nrc, $(wc -l <"$tmp/$c.native.out") lines"
    cat "$tmp/$c.native.out"
    if [ $nrc != 0 ]; then
      echo "--- native stderr:"; tail -20 "$tmp/$c.native.err"; failed=$((failed + 1))
    else
      passed=$((passed + 1))
    fi
    continue
  fi
  if [ $nrc != 0 ]; then
    echo "FAIL: $c (the native run exits $nrc)"
    tail -20 "$tmp/$c.native.out" "$tmp/$c.native.err" | sed 's/^/  | /'
    failed=$((failed + 1)); continue
  fi
  sandboxed "$c" <"/dev/null" >"$tmp/$c.sandbox.out" 2>"$tmp/$c.sandbox.err"
  src=$?
  why=""
  [ $nrc = $src ] || why="exit status differs: native $nrc, sandboxed $src"
  [ $src = 124 ] || [ $src = 137 ] && why="the sandboxed run timed out after $run_limit s"
  if ! cmp -s "$tmp/$c.native.out" "$tmp/$c.sandbox.out"; then
    why="${why:+$why; }stdout differs"
  fi
  if [ -z "$why" ]; then
    echo "PASS: $c (same output, $(wc -l <"$tmp/$c.native.out") lines, and exit status $nrc)"
    passed=$((passed + 1))
  else
    echo "FAIL: $c ($why)"
    echo "  --- diff (- native, + sandboxed):"
    diff -u "$tmp/$c.native.out" "$tmp/$c.sandbox.out" | head -40 | sed 's/^/  /'
    echo "  --- sandboxed stderr:"
    tail -20 "$tmp/$c.sandbox.err" | sed 's/^/  | /'
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ] || exit 1
[ $passed -gt 0 ] || exit 77
exit 0
