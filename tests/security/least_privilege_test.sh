#!/usr/bin/env bash
# Least privilege of the sandbox's host processes, read from the host's
# /proc while a sandbox runs (proc(5): Uid, CapEff... in status; ns/*):
#   the Sentry: nobody on the host, in a user namespace of its own, no
#     capability in any set, seccomp on, its own mount/PID/IPC/UTS/network
#     namespaces;
#   its stubs: nobody, no capability, seccomp on;
#   a gofer: its own user, mount, PID and (empty) network namespace, only
#     CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (read-only tree) plus
#     CAP_CHOWN, CAP_FOWNER and CAP_FSETID (writable tree);
#   --network=host: the host's user and network namespace, nobody with
#     CAP_NET_RAW and CAP_NET_BIND_SERVICE alone;
#   rootless: an ordinary user's `runsc do` works.
# Usage: least_privilege_test.sh RUNSC
set -u
runsc=$(readlink -f "$1")
failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status"; }
ns() { readlink "/proc/$1/ns/$2"; }

# Capability masks (linux/capability.h).
CHOWN=$((1 << 0)); DAC_OVERRIDE=$((1 << 1)); DAC_READ_SEARCH=$((1 << 2)); FOWNER=$((1 << 3))
FSETID=$((1 << 4)); NET_BIND_SERVICE=$((1 << 10)); NET_RAW=$((1 << 13))
hex() { printf '%016x' "$1"; }

# Starts `runsc FLAGS do sleep` and sets runsc_pid, sentry, stub and
# gofers (the Sentry's and gofers' parent is that runsc; stubs are the
# Sentry's children).
start() {
  "$runsc" "$@" do -- sleep 30 &
  runsc_pid=$!
  sentry="" stub="" gofers=""
  for _ in $(seq 100); do
    sentry=$(pgrep -P "$runsc_pid" -f runsc-sentry | head -1)
    gofers=$(pgrep -P "$runsc_pid" -f runsc-gofer | tr '\n' ' ')
    [ -n "$sentry" ] && stub=$(pgrep -P "$sentry" | head -1)
    [ -n "$stub" ] && [ -n "$gofers" ] && return 0
    sleep 0.1
  done
  return 1
}
# Kills runsc: the Sentry must die with it (its parent-death signal,
# which a change of IDs would clear).
stop() {
  kill -KILL "$runsc_pid" 2>/dev/null
  wait "$runsc_pid" 2>/dev/null
  [ -n "$sentry" ] || return
  for _ in $(seq 50); do
    state=$(awk '$1 == "State:" { print $2 }' "/proc/$sentry/status" 2>/dev/null)
    [ -z "$state" ] || [ "$state" = Z ] && return
    sleep 0.1
  done
  fail "the Sentry ($sentry) outlived runsc"
  kill -KILL "$sentry"
}

# Checks pid $1 ($2 names it): uid and gid all $3, effective, permitted
# and bounding capabilities $4 (hex), seccomp filtering on.
check_process() {
  local pid=$1 what=$2 id=$3 caps=$4 got
  got="$(field "$pid" Uid) / $(field "$pid" Gid)"
  [ "$got" = "$id $id $id $id / $id $id $id $id" ] || fail "$what: uid/gid $got, want $id"
  for set in CapEff CapPrm CapBnd; do
    got=$(field "$pid" $set)
    [ "$got" = "$caps" ] || fail "$what: $set $got, want $caps"
  done
  for set in CapInh CapAmb; do
    got=$(field "$pid" $set)
    [ "$got" = "$(hex 0)" ] || fail "$what: $set $got, want none"
  done
  [ "$(field "$pid" Seccomp)" = 2 ] || fail "$what: seccomp mode $(field "$pid" Seccomp), want 2 (filter)"
  [ "$(field "$pid" NoNewPrivs)" = 1 ] || fail "$what: no_new_privs is off"
}

# Only lo in pid $1's network namespace (/proc/PID/net/dev is its own).
only_loopback() {
  [ "$(tail -n +3 "/proc/$1/net/dev" | awk -F: '{ gsub(/ /, "", $1); print $1 }' | tr '\n' ' ')" = "lo " ]
}

before=$failures
if start; then
  check_process "$sentry" "the Sentry" 65534 "$(hex 0)"
  [ "$(field "$sentry" Groups)" = "" ] || fail "the Sentry: supplementary groups $(field "$sentry" Groups)"
  for n in user mnt pid ipc uts net; do
    [ "$(ns "$sentry" $n)" != "$(ns $$ $n)" ] || fail "the Sentry shares the host's $n namespace"
  done
  check_process "$stub" "a stub" 65534 "$(hex 0)"
  [ "$(ns "$stub" user)" = "$(ns "$sentry" user)" ] || fail "a stub is not in the Sentry's user namespace"
  for g in $gofers; do
    check_process "$g" "the root's gofer (read-only under the overlay)" 0 "$(hex $((DAC_OVERRIDE | DAC_READ_SEARCH)))"
    for n in user mnt pid net; do
      [ "$(ns "$g" $n)" != "$(ns $$ $n)" ] || fail "the gofer shares the host's $n namespace"
      [ "$(ns "$g" $n)" != "$(ns "$sentry" $n)" ] || fail "the gofer shares the Sentry's $n namespace"
    done
    only_loopback "$g" || fail "the gofer's network namespace has interfaces: $(tail -n +3 /proc/$g/net/dev | cut -d: -f1)"
  done
  stop
  [ $failures = $before ] && pass "runsc do: the Sentry and its stubs are nobody with no capability, the gofer keeps two, all in namespaces of their own"
else
  fail "runsc do: the sandbox's processes did not appear"; stop
fi

before=$failures
if start --overlay2=none; then
  for g in $gofers; do
    check_process "$g" "the root's writable gofer" 0 \
      "$(hex $((DAC_OVERRIDE | DAC_READ_SEARCH | CHOWN | FOWNER | FSETID)))"
  done
  stop
  [ $failures = $before ] && pass "a writable tree's gofer keeps DAC_OVERRIDE, DAC_READ_SEARCH, CHOWN, FOWNER and FSETID only"
else
  fail "runsc --overlay2=none do: the sandbox's processes did not appear"; stop
fi

before=$failures
if start --network=host; then
  check_process "$sentry" "the Sentry (host network)" 65534 "$(hex $((NET_BIND_SERVICE | NET_RAW)))"
  for n in user net; do
    [ "$(ns "$sentry" $n)" = "$(ns $$ $n)" ] || fail "with --network=host the Sentry is not in the host's $n namespace"
  done
  [ "$(field "$stub" CapEff)/$(field "$stub" CapPrm)" = "$(hex 0)/$(hex 0)" ] ||
    fail "a stub (host network) holds capabilities: $(field "$stub" CapEff)"
  stop
  [ $failures = $before ] && pass "--network=host: the Sentry is nobody with CAP_NET_RAW and CAP_NET_BIND_SERVICE, its stubs with none"
else
  fail "runsc --network=host do: the sandbox's processes did not appear"; stop
fi

# Rootless: an ordinary user (nobody) runs a sandbox, if this kernel lets
# unprivileged users make user namespaces.
if ! command -v setpriv >/dev/null; then
  echo "skip: rootless: no setpriv to become an ordinary user"
elif ! setpriv --reuid=65534 --regid=65534 --clear-groups unshare --user true 2>/dev/null; then
  echo "skip: rootless: this kernel does not let an ordinary user make a user namespace"
else
  out=$(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups "$runsc" do -- sh -c \
    'echo written >/tmp/rootless-check && cat /tmp/rootless-check && id -u && cat /proc/sys/net/ipv4/ip_unprivileged_port_start' 2>&1)
  want=$(printf 'written\n65534\n1024')
  if [ "$out" = "$want" ]; then
    pass "rootless runsc do: a file written in the overlay, the user's own uid, a network namespace of its own"
  else
    fail "rootless runsc do printed: $out"
  fi
fi

# Root of a nested user namespace (runsc in a container, `unshare --user`)
# has only what user namespaces give: the rootless way, and it works.
if ! unshare --user --map-root-user true 2>/dev/null; then
  echo "skip: nested: this kernel does not let this user make a user namespace"
else
  out=$(cd / && unshare --user --map-root-user "$runsc" do -- sh -c 'echo nested-ok; id -u' 2>&1)
  if [ "$out" = "$(printf 'nested-ok\n0')" ]; then
    pass "runsc do as root of a nested user namespace"
  else
    fail "runsc do under unshare --user --map-root-user printed: $out"
  fi
fi

[ $failures = 0 ] && echo "0 failure(s)" && exit 0
echo "$failures failure(s)"
exit 1
