#!/usr/bin/env bash
# End to end against a real Docker daemon (Debian's docker.io) that this
# test starts on its own socket and directories, with runsc installed into
# its daemon.json by `runsc install`. The image is a busybox rootfs brought
# in with `docker import`, so no registry is needed.
# Usage: docker_test.sh RUNSC BUSYBOX
set -u
runsc=$1
busybox=$2
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "dockerd needs root"
command -v dockerd >/dev/null || skip "dockerd is not installed (Debian's docker.io; scripts/install-deps.sh installs it)"
. "$(dirname "$0")/lib.sh"
[ -n "$docker_cli" ] || skip "no docker client"

tmp=$(mktemp -d /tmp/runsc-e2e.XXXXXX)
cleanup() {
  stop_private_dockerd "$tmp"
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

start_private_dockerd "$runsc" "$tmp" || skip "dockerd did not start on this machine"

rootfs="$tmp/rootfs"
busybox_rootfs "$rootfs" "$busybox" sh echo cat ls sleep uname dmesg true id ps hostname grep
tar -C "$rootfs" -c . | D import - runsc-e2e:busybox >/dev/null || { echo "FAIL: docker import"; exit 1; }
run() { D run --runtime=runsc "$@"; }

# 1. What a user checks first.
out=$(run --rm runsc-e2e:busybox uname -r 2>&1)
[ "$out" = "4.4.0" ] && pass "docker run --runtime=runsc uname -r prints 4.4.0" || fail "uname -r: $out"
out=$(run --rm runsc-e2e:busybox dmesg 2>&1)
echo "$out" | grep -q "Starting runsc" && pass "dmesg prints the sandbox's boot log" || fail "dmesg: $out"

# 2. Exit codes, stdin and the files Docker bind-mounts.
run --rm runsc-e2e:busybox sh -c 'exit 7' >/dev/null 2>&1
st=$?
[ "$st" = 7 ] && pass "the exit status propagates" || fail "exit status $st, want 7"
out=$(echo "through stdin" | run --rm -i runsc-e2e:busybox cat 2>&1)
[ "$out" = "through stdin" ] && pass "docker run -i passes stdin" || fail "stdin: $out"
out=$(run --rm --hostname e2e-host runsc-e2e:busybox sh -c 'hostname; cat /etc/hostname; grep -c localhost /etc/hosts' 2>&1)
[ "$out" = "$(printf 'e2e-host\ne2e-host\n2')" ] && pass "hostname, /etc/hostname and /etc/hosts come from Docker" \
  || fail "hostname files: $out"

# 3. Volumes: a host directory read-write and read-only.
mkdir -p "$tmp/vol"
echo "from the host" > "$tmp/vol/in"
out=$(run --rm -v "$tmp/vol:/data" runsc-e2e:busybox sh -c 'cat /data/in; echo from the container > /data/out' 2>&1)
[ "$out" = "from the host" ] && [ "$(cat "$tmp/vol/out" 2>/dev/null)" = "from the container" ] \
  && pass "a -v volume is shared with the host" || fail "volume: $out / $(cat "$tmp/vol/out" 2>&1)"
out=$(run --rm -v "$tmp/vol:/data:ro" runsc-e2e:busybox sh -c 'echo x > /data/new' 2>&1)
echo "$out" | grep -q "Read-only file system" && [ ! -e "$tmp/vol/new" ] && pass "a :ro volume refuses writes" \
  || fail "ro volume: $out"

# 4. Detached: logs, stop (SIGTERM, then SIGKILL after the timeout), kill.
sandbox_pids() {  # the shim's children: the Sentry and its gofers
  local shim
  shim=$(ps -o ppid= -p "$1" | tr -d ' ')
  ps -o pid= --ppid "$shim" | tr -d ' '
}
id=$(run -d runsc-e2e:busybox sh -c 'echo started; trap "echo bye; exit 0" TERM; while true; do sleep 0.2; done')
for _ in $(seq 50); do D logs "$id" 2>&1 | grep -q started && break; sleep 0.1; done
[ "$(D logs "$id" 2>&1)" = "started" ] && pass "docker logs shows a detached container's output" || fail "logs: $(D logs "$id" 2>&1)"
pid=$(D inspect -f '{{.State.Pid}}' "$id")
pids=$(sandbox_pids "$pid")
D stop -t 10 "$id" >/dev/null
st=$(D inspect -f '{{.State.ExitCode}}' "$id")
[ "$st" = 0 ] && [ "$(D logs "$id" 2>&1 | tail -1)" = "bye" ] && pass "docker stop: the program's TERM handler runs" \
  || fail "stop with a handler: status $st, logs $(D logs "$id" 2>&1)"
D rm "$id" >/dev/null
id=$(run -d runsc-e2e:busybox sleep 1000)
D stop -t 1 "$id" >/dev/null
st=$(D inspect -f '{{.State.ExitCode}}' "$id")
[ "$st" = 137 ] && pass "docker stop: SIGKILL after the timeout when pid 1 ignores SIGTERM" || fail "stop: status $st"
D rm "$id" >/dev/null
id=$(run -d runsc-e2e:busybox sleep 1000)
D kill "$id" >/dev/null
st=$(D inspect -f '{{.State.ExitCode}}' "$id")
[ "$st" = 137 ] && pass "docker kill" || fail "kill: status $st"
D rm "$id" >/dev/null
# 4b. docker run -it: a terminal, ^C to the foreground job, exit status.
if command -v script >/dev/null; then
  out=$( (sleep 2; printf 'test -t 0 && echo on-a-tty\n'; sleep 0.5; printf 'sleep 100\n'; sleep 1; printf '\003'; sleep 0.5
          printf 'echo rc=$?\n'; sleep 0.5; printf 'exit 4\n') \
        | script -qec "$docker_cli -H unix://$sock run -it --rm --runtime=runsc runsc-e2e:busybox sh" /dev/null 2>&1)
  st=$?
  echo "$out" | grep -q "^on-a-tty" && echo "$out" | grep -q "^rc=130" && [ "$st" = 4 ] \
    && pass "docker run -it: a terminal, ^C interrupts the foreground job, exit status" \
    || fail "run -it: status $st: $out"
else
  echo "not checked: docker run -it (no script(1) to give docker a terminal)"
fi

# 4c. Resources and pause: docker run -m/--pids-limit/--cpu-shares land on
# the sandbox's cgroup; docker pause freezes it.
id=$(run -d -m 64m --pids-limit 40 --cpu-shares 300 runsc-e2e:busybox sh -c 'while true; do sleep 0.05; done')
cg=/sys/fs/cgroup/memory/docker/$id
if [ -d /sys/fs/cgroup/memory/docker ]; then
  [ "$(cat $cg/memory.limit_in_bytes 2>&1)" = 67108864 ] && [ "$(cat /sys/fs/cgroup/pids/docker/$id/pids.max 2>&1)" = 40 ] \
    && [ "$(cat /sys/fs/cgroup/cpu/docker/$id/cpu.shares 2>&1)" = 300 ] \
    && grep -qx "$(D inspect -f '{{.State.Pid}}' "$id")" $cg/cgroup.procs \
    && pass "docker run -m, --pids-limit, --cpu-shares: the sandbox's cgroup" \
    || fail "resources: $(cat $cg/memory.limit_in_bytes $cg/cgroup.procs 2>&1)"
fi
D pause "$id" >/dev/null && [ "$(D inspect -f '{{.State.Status}}' "$id")" = paused ] && pass "docker pause" || fail "pause"
D unpause "$id" >/dev/null && sleep 0.3 && [ "$(D exec "$id" echo alive 2>&1)" = alive ] && pass "docker unpause: it runs on" \
  || fail "unpause: $(D inspect -f '{{.State.Status}}' "$id")"
D rm -f "$id" >/dev/null
[ ! -e "$cg" ] && pass "docker rm removes the sandbox's cgroup" || fail "cgroup left: $cg"

# 5. docker exec: output, exit status, stdin, env, user, detached; top.
id=$(run -d runsc-e2e:busybox sleep 1000)
out=$(D exec "$id" sh -c 'echo in exec; exit 3' 2>&1)
st=$?
[ "$out" = "in exec" ] && [ "$st" = 3 ] && pass "docker exec: output and exit status" || fail "exec: status $st: $out"
out=$(echo piped | D exec -i "$id" cat 2>&1)
[ "$out" = piped ] && pass "docker exec -i passes stdin" || fail "exec -i: $out"
out=$(D exec -e E2E=yes -u 1000:1000 -w /tmp "$id" sh -c 'echo $E2E $(id -u):$(id -g) $(pwd)' 2>&1)
[ "$out" = "yes 1000:1000 /tmp" ] && pass "docker exec -e -u -w" || fail "exec options: $out"
if command -v script >/dev/null; then
  out=$( (sleep 2; printf 'sleep 100\n'; sleep 1; printf '\003'; sleep 0.5; printf 'echo rc=$?; exit 5\n') \
        | script -qec "$docker_cli -H unix://$sock exec -it $id sh" /dev/null 2>&1)
  st=$?
  echo "$out" | grep -q "^rc=130" && [ "$st" = 5 ] && pass "docker exec -it: a terminal, ^C, exit status" \
    || fail "exec -it: status $st: $out"
fi
D exec -d "$id" sleep 77 && sleep 0.3
out=$(D exec "$id" ps 2>&1)
echo "$out" | grep -q "sleep 77" && echo "$out" | grep -q "sleep 1000" && pass "docker exec -d; ps inside sees every process" \
  || fail "exec -d / ps: $out"
out=$(D top "$id" 2>&1)
echo "$out" | grep -q "runsc-sentry" && pass "docker top shows the sandbox's host process" || fail "top: $out"
# The container's host process is the Sentry: nobody on the host, in a user
# namespace of its own, with no capability left (proc(5) status fields).
sentry_pid=$(D inspect -f '{{.State.Pid}}' "$id" 2>/dev/null)
if [ -n "$sentry_pid" ] && [ -r "/proc/$sentry_pid/status" ]; then
  creds=$(awk '$1 == "Uid:" || $1 == "CapEff:" || $1 == "CapPrm:" || $1 == "CapBnd:" { print $2 }' "/proc/$sentry_pid/status" | tr '\n' ' ')
  userns=$(readlink "/proc/$sentry_pid/ns/user")
  [ "$creds" = "65534 0000000000000000 0000000000000000 0000000000000000 " ] && [ "$userns" != "$(readlink /proc/self/ns/user)" ] &&
    pass "the container's Sentry is nobody in its own user namespace, with no capability" ||
    fail "the container's Sentry (pid $sentry_pid): uid and caps $creds, user namespace $userns"
else
  fail "docker inspect gave no host pid for the container ($sentry_pid)"
fi
D exec "$id" /nonexistent >/dev/null 2>&1
st=$?
[ "$st" != 0 ] && pass "docker exec of a missing program fails ($st)" || fail "exec missing program succeeded"
D rm -f "$id" >/dev/null && ! D inspect "$id" >/dev/null 2>&1 && pass "docker rm -f of a running container" \
  || fail "rm -f"
run --rm runsc-e2e:busybox true

# 6. Nothing left behind: no container, state, sandbox process or mount.
left=""
[ -z "$(D ps -aq)" ] || left+=" containers"
[ -z "$(ls -A "$tmp/exec/runtime-runc/moby" 2>/dev/null)" ] || left+=" state:$(ls "$tmp/exec/runtime-runc/moby")"
for p in $pids; do kill -0 "$p" 2>/dev/null && left+=" process:$p"; done
grep -q " $tmp/data/overlay2/[^ ]*/merged" /proc/mounts && left+=" mounts"
[ -z "$left" ] && pass "nothing is left behind after docker rm" || fail "left behind:$left"

echo "$failures failure(s)"
[ "$failures" = 0 ]
