#!/usr/bin/env bash
# The OCI commands so far on a busybox bundle the test makes: `spec`,
# `run` (output, exit status, --pid-file, tmpfs mounts, a read-only root),
# `state` and `list` while it runs, `kill`, `create` then `start`,
# `run --detach`, `delete` (--force), and the one-line
# errors for a duplicate ID, malformed or unsupported config.json and a
# missing rootfs.
# Usage: oci_test.sh RUNSC BUSYBOX
set -u
runsc=$1
busybox=$2
tmp=$(mktemp -d)
state="$tmp/state"
bg=""
cleanup() { [ -n "$bg" ] && kill -9 "$bg" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
edit() {  # edit BUNDLE PYTHON-STATEMENTS (on the dict `c`)
  python3 -c 'import json,sys; p=sys.argv[1]+"/config.json"; c=json.load(open(p)); exec(sys.argv[2]); json.dump(c,open(p,"w"))' "$1" "$2"
}
get() { python3 -c 'import json,sys; d=json.load(sys.stdin); exec("print(d"+sys.argv[1]+")")' "$1"; }

b="$tmp/bundle"
mkdir -p "$b/rootfs/bin" "$b/rootfs/tmp" "$b/rootfs/proc" "$b/rootfs/dev" "$b/rootfs/sys"
cp "$busybox" "$b/rootfs/bin/busybox"
for a in sh echo cat sleep hostname id grep; do ln -s busybox "$b/rootfs/bin/$a"; done
"$runsc" spec --bundle "$b" || fail "spec"
edit "$b" 'c["process"]["terminal"]=False; c["hostname"]="oci-test"; c["process"]["args"]=["sh","-c","echo $(hostname) $FOO; echo data > /tmp/f; cat /tmp/f; exit 3"]; c["process"]["env"].append("FOO=bar"); c["mounts"].append({"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["mode=1777"]})'

# 1. run: the program's output, its exit status, the tmpfs mount.
out=$("$runsc" --root "$state" run --bundle "$b" c1 2>&1)
st=$?
[ "$st" = 3 ] && [ "$out" = "$(printf 'oci-test bar\ndata')" ] && pass "run prints what the program does and exits with its status" \
  || fail "run: status $st, output: $out"
[ ! -e "$state/c1" ] && pass "run forgets the container when it ends" || fail "state left behind: $(ls "$state")"

# 1b. process.capabilities and process.rlimits reach the program.
edit "$b" 'c["process"]["args"]=["sh","-c","grep -E \"CapEff|NoNewPrivs\" /proc/self/status; ulimit -n"]; c["process"]["rlimits"]=[{"type":"RLIMIT_NOFILE","soft":4096,"hard":4096}]'
out=$("$runsc" --root "$state" run --bundle "$b" c1b 2>&1)
# CAP_KILL (5), CAP_NET_BIND_SERVICE (10) and CAP_AUDIT_WRITE (29): the spec's defaults.
[ "$out" = "$(printf 'CapEff:\t0000000020000420\nNoNewPrivs:\t1\n4096')" ] \
  && pass "capabilities, noNewPrivileges and rlimits come from config.json" \
  || fail "capabilities/rlimits: $out"
edit "$b" 'c["process"]["capabilities"]["effective"]=["CAP_NOPE"]'
out=$("$runsc" --root "$state" run --bundle "$b" c1c 2>&1)
echo "$out" | grep -q 'unknown capability "CAP_NOPE"' && pass "an unknown capability is refused" || fail "unknown cap: $out"
edit "$b" 'c["process"]["capabilities"]["effective"]=c["process"]["capabilities"]["permitted"]'

# 2. A read-only root: writes outside the tmpfs fail with EROFS.
edit "$b" 'c["process"]["args"]=["sh","-c","echo x > /f"]'
out=$("$runsc" --root "$state" run --bundle "$b" c2 2>&1)
echo "$out" | grep -q "Read-only file system" && pass "root.readonly makes the root read-only" || fail "read-only root: $out"

# 3. While it runs: state, list, pid file, delete refused, kill.
edit "$b" 'c["process"]["args"]=["sleep","30"]; c["annotations"]={"org.example/k":"v"}'
"$runsc" --root "$state" run --bundle "$b" --pid-file "$tmp/pid" c3 >/dev/null 2>&1 &
bg=$!
for _ in $(seq 100); do [ -s "$tmp/pid" ] && break; sleep 0.1; done
s=$("$runsc" --root "$state" state c3)
[ "$(echo "$s" | get '["status"]')" = running ] && [ "$(echo "$s" | get '["id"]')" = c3 ] \
  && [ "$(echo "$s" | get '["pid"]')" = "$(cat "$tmp/pid")" ] && [ "$(echo "$s" | get '["bundle"]')" = "$b" ] \
  && [ "$(echo "$s" | get '["annotations"]["org.example/k"]')" = v ] && [ "$(echo "$s" | get '["ociVersion"]')" = 1.1.0 ] \
  && pass "state reports the running container with its pid, bundle and annotations" || fail "state: $s"
[ "$("$runsc" --root "$state" list --format json | get '[0]["id"]')" = c3 ] && pass "list --format json shows it" \
  || fail "list: $("$runsc" --root "$state" list --format json)"
"$runsc" --root "$state" run --bundle "$b" c3 >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "already exists" "$tmp/err" && pass "a second run of one ID is refused" || fail "duplicate: $(cat "$tmp/err")"
"$runsc" --root "$state" delete c3 2>"$tmp/err"
[ $? = 1 ] && grep -q "running" "$tmp/err" && pass "delete of a running container needs --force" || fail "delete: $(cat "$tmp/err")"
"$runsc" --root "$state" kill c3 KILL || fail "kill"
wait "$bg"
st=$?
bg=""
[ "$st" = 137 ] && pass "kill KILL ends it (137)" || fail "after kill: status $st"
"$runsc" --root "$state" state c3 >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "does not exist" "$tmp/err" && pass "state of a gone container is an error" || fail "state after: $(cat "$tmp/err")"

# 4. create leaves the program waiting; start runs it; delete forgets it.
wait_status() {  # ID STATUS: up to 10 s
  for _ in $(seq 100); do
    [ "$("$runsc" --root "$state" state "$1" 2>/dev/null | get '["status"]')" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
edit "$b" 'c["process"]["args"]=["sh","-c","echo started"]'
"$runsc" --root "$state" create --bundle "$b" --pid-file "$tmp/pid4" c4 >"$tmp/c4.out" 2>&1
st=$?
[ "$st" = 0 ] && [ "$("$runsc" --root "$state" state c4 | get '["status"]')" = created ] && kill -0 "$(cat "$tmp/pid4")" \
  && pass "create leaves a created container with a live pid" || fail "create: status $st: $(cat "$tmp/c4.out")"
sleep 0.3
[ ! -s "$tmp/c4.out" ] && pass "the program has not run before start" || fail "ran before start: $(cat "$tmp/c4.out")"
"$runsc" --root "$state" start c4 && wait_status c4 stopped && grep -q started "$tmp/c4.out" \
  && pass "start runs the program, with create's stdio" || fail "start: $(cat "$tmp/c4.out")"
"$runsc" --root "$state" start c4 2>"$tmp/err"
[ $? = 1 ] && grep -q "not created" "$tmp/err" && pass "start of a stopped container is refused" || fail "restart: $(cat "$tmp/err")"
"$runsc" --root "$state" delete c4 && [ ! -e "$state/c4" ] && pass "delete forgets a stopped container" || fail "delete c4"

# 4b. runsc calls on one container take a lock on its state directory: a
# start waits while another holder (flock(1) here) has it.
edit "$b" 'c["process"]["args"]=["sleep","5"]'
if command -v flock >/dev/null; then
  "$runsc" --root "$state" create --bundle "$b" c4c >/dev/null 2>&1 || fail "create c4c"
  flock "$state/c4c" sleep 1.5 &
  holder=$!
  sleep 0.3
  "$runsc" --root "$state" start c4c &
  starter=$!
  sleep 0.5
  during=$("$runsc" --root "$state" state c4c | get '["status"]')
  wait "$holder"; wait "$starter"
  after=$("$runsc" --root "$state" state c4c | get '["status"]')
  [ "$during" = created ] && [ "$after" = running ] && pass "start waits for the container's lock" \
    || fail "lock: $during while locked, $after after"
  "$runsc" --root "$state" delete --force c4c
fi

# 5. run --detach returns at once; kill and delete --force end it.
edit "$b" 'c["process"]["args"]=["sleep","30"]'
"$runsc" --root "$state" run --detach --bundle "$b" c5 >/dev/null 2>&1 \
  && [ "$("$runsc" --root "$state" state c5 | get '["status"]')" = running ] \
  && pass "run --detach leaves the container running" || fail "run --detach"
"$runsc" --root "$state" delete --force c5 && [ ! -e "$state/c5" ] && pass "delete --force kills and forgets it" \
  || fail "delete --force"

# A console socket's receiver, as containerd's shim is one: it writes
# INPUT to the master it gets and prints what comes back.
cat >"$tmp/console.py" <<'PY'
import os, select, socket, sys
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(sys.argv[1]); server.listen(1)
open(sys.argv[1] + ".ready", "w").close()
conn, _ = server.accept()
name, fds, _, _ = socket.recv_fds(conn, 1024, 1)
master = fds[0]
os.write(master, sys.argv[2].encode())
out = b""
while True:
    r, _, _ = select.select([master], [], [], 10)
    if not r: break
    try: chunk = os.read(master, 4096)
    except OSError: break  # EIO: the last slave FD closed
    if not chunk: break
    out += chunk
print(name.decode().startswith("/dev/pts/"), out.decode(errors="replace").replace("\r", ""))
PY

# 5a. A running container: exec (foreground, --detach with --pid-file,
# --process, --env/--user/--cwd), ps, events --stats, kill --all, wait.
edit "$b" 'c["process"]["args"]=["sleep","30"]'
"$runsc" --root "$state" run --detach --bundle "$b" c5a >/dev/null 2>&1 || fail "run --detach c5a"
out=$("$runsc" --root "$state" exec c5a sh -c 'echo $FOO; exit 4' 2>&1)
st=$?
[ "$out" = bar ] && [ "$st" = 4 ] && pass "exec: the container's env, the program's output and exit status" \
  || fail "exec: status $st: $out"
out=$(echo in | "$runsc" --root "$state" exec --env FOO=baz --user 1000:100 --cwd /tmp c5a sh -c 'cat; echo $FOO $(id -u) $(id -g) $(pwd)' 2>&1)
[ "$out" = "$(printf 'in\nbaz 1000 100 /tmp')" ] && pass "exec: stdin, --env, --user, --cwd" || fail "exec options: $out"
echo '{"args":["sh","-c","exit 6"],"cwd":"/","env":["A=1"]}' >"$tmp/process.json"
"$runsc" --root "$state" exec --process "$tmp/process.json" c5a
st=$?
[ "$st" = 6 ] && pass "exec --process FILE" || fail "exec --process: status $st"
"$runsc" --root "$state" exec --detach --pid-file "$tmp/exec.pid" c5a sleep 20 && kill -0 "$(cat "$tmp/exec.pid")" \
  && pass "exec --detach returns with a live pid in --pid-file" || fail "exec --detach"
out=$("$runsc" --root "$state" ps c5a)
[ "$(echo "$out" | grep -c sleep)" = 2 ] && pass "ps lists the container's processes" || fail "ps: $out"
[ "$("$runsc" --root "$state" ps --format json c5a)" = "[$("$runsc" --root "$state" state c5a | get '["pid"]')]" ] \
  && pass "ps --format json: the host pid (the Sentry)" || fail "ps json"
ev=$("$runsc" --root "$state" events --stats c5a)
[ "$(echo "$ev" | get '["type"]')" = stats ] && [ "$(echo "$ev" | get '["data"]["pids"]["current"]')" -ge 2 ] \
  && [ "$(echo "$ev" | get '["data"]["memory"]["usage"]["usage"]')" -gt 0 ] && pass "events --stats" || fail "events: $ev"
n=$(timeout 2 "$runsc" --root "$state" events --interval 300ms c5a | grep -c '"type":"stats"')
[ "$n" -ge 3 ] && pass "events streams a stats event every --interval ($n in 2 s)" || fail "events --interval: $n events"
"$runsc" --root "$state" events --interval 0s c5a 2>/dev/null && fail "events --interval 0s accepted" \
  || pass "events refuses a zero interval"
"$runsc" --root "$state" exec c5a /nonexistent 2>"$tmp/err"
st=$?
[ "$st" = 127 ] && grep -q "/nonexistent" "$tmp/err" && pass "exec of a missing program: 127 and a message" || fail "exec missing: $st $(cat "$tmp/err")"
rm -f "$tmp/console.sock" "$tmp/console.sock.ready"
python3 "$tmp/console.py" "$tmp/console.sock" 'test -t 0 && echo on-a-tty; exit 2
' >"$tmp/exec-console.out" &
receiver=$!
for _ in $(seq 50); do [ -e "$tmp/console.sock.ready" ] && break; sleep 0.1; done
"$runsc" --root "$state" exec --tty --console-socket "$tmp/console.sock" c5a sh
st=$?
wait "$receiver"
[ "$st" = 2 ] && grep -q "^on-a-tty" "$tmp/exec-console.out" && pass "exec --tty --console-socket: a terminal for the process" \
  || fail "exec --tty: status $st: $(cat "$tmp/exec-console.out")"
rm -f "$tmp/console.sock" "$tmp/console.sock.ready"
"$runsc" --root "$state" exec --tty c5a true </dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "needs --console-socket or a terminal" "$tmp/err" && pass "exec --tty without a terminal is refused clearly" \
  || fail "exec --tty: $(cat "$tmp/err")"
"$runsc" --root "$state" wait c5a >"$tmp/wait.out" &
waiter=$!
sleep 0.3
"$runsc" --root "$state" kill --all c5a TERM
# pid 1 (sleep, without a TERM handler) ignores TERM; the detached sleep dies.
for _ in $(seq 50); do kill -0 "$(cat "$tmp/exec.pid")" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$(cat "$tmp/exec.pid")" 2>/dev/null && [ "$("$runsc" --root "$state" state c5a | get '["status"]')" = running ] \
  && pass "kill --all signals every process" || fail "kill --all"
"$runsc" --root "$state" kill c5a KILL
wait "$waiter" 2>/dev/null
for _ in $(seq 50); do [ -s "$tmp/wait.out" ] && break; sleep 0.1; done
[ "$(get '["exitStatus"]' <"$tmp/wait.out")" = 137 ] && pass "wait prints the exit status" || fail "wait: $(cat "$tmp/wait.out")"
"$runsc" --root "$state" delete --force c5a

# 5a2. process.terminal: the pty's master arrives over --console-socket
# (as containerd's shim receives it); the program has it as its
# controlling terminal, sized by process.consoleSize.
edit "$b" 'c["process"]["terminal"]=True; c["process"]["consoleSize"]={"height":33,"width":77}; c["process"]["args"]=["sh"]'
python3 "$tmp/console.py" "$tmp/console.sock" 'stty size; test -t 0 && echo on-a-tty; ps -o pid,comm >/dev/null; exit 3
' >"$tmp/console.out" &
receiver=$!
for _ in $(seq 50); do [ -e "$tmp/console.sock.ready" ] && break; sleep 0.1; done
"$runsc" --root "$state" create --bundle "$b" --console-socket "$tmp/console.sock" c5t 2>"$tmp/err" \
  && "$runsc" --root "$state" start c5t && wait_status c5t stopped
wait "$receiver"
grep -q "^True" "$tmp/console.out" && grep -q "^33 77" "$tmp/console.out" && grep -q "^on-a-tty" "$tmp/console.out" \
  && pass "terminal: the pty's master over --console-socket, consoleSize, a tty for the program" \
  || fail "console: $(cat "$tmp/err" "$tmp/console.out")"
"$runsc" --root "$state" delete c5t 2>/dev/null
"$runsc" --root "$state" create --bundle "$b" c5u >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "needs --console-socket" "$tmp/err" && pass "create with process.terminal and no --console-socket is refused" \
  || fail "terminal without socket: $(cat "$tmp/err")"
edit "$b" 'c["process"]["terminal"]=False; del c["process"]["consoleSize"]'

# 5a3. linux.resources on the sandbox's host cgroup (cgroupsPath), and
# pause/resume through its freezer; delete removes the cgroup.
if [ -d /sys/fs/cgroup/freezer ] && [ -d /sys/fs/cgroup/memory ]; then
  cg="/runsc-oci-test-$$"
  edit "$b" 'c["process"]["args"]=["sh","-c","while true; do sleep 0.05; done"]; c["linux"]["cgroupsPath"]="'"$cg"'"; c["linux"]["resources"]={"memory":{"limit":268435456},"pids":{"limit":64},"cpu":{"shares":256,"quota":20000,"period":100000},"devices":[{"allow":False,"access":"rwm"}],"blockIO":{"weight":0}}'
  "$runsc" --root "$state" run --detach --bundle "$b" c5r >/dev/null 2>"$tmp/err" || fail "run with resources: $(cat "$tmp/err")"
  sentry=$("$runsc" --root "$state" state c5r | get '["pid"]')
  m=/sys/fs/cgroup/memory$cg
  # The program's stub appears once the started Sentry has run it.
  for _ in $(seq 100); do [ "$(wc -l <$m/cgroup.procs)" -ge 3 ] && break; sleep 0.05; done
  [ "$(cat $m/memory.limit_in_bytes)" = 268435456 ] && [ "$(cat /sys/fs/cgroup/pids$cg/pids.max)" = 64 ] \
    && [ "$(cat /sys/fs/cgroup/cpu$cg/cpu.shares)" = 256 ] && [ "$(cat /sys/fs/cgroup/cpu$cg/cpu.cfs_quota_us)" = 20000 ] \
    && grep -qx "$sentry" $m/cgroup.procs && [ "$(wc -l <$m/cgroup.procs)" -ge 3 ] \
    && pass "linux.resources: memory, pids and cpu limits on the cgroup holding the Sentry, its gofer and stubs" \
    || fail "resources: $(cat $m/memory.limit_in_bytes /sys/fs/cgroup/pids$cg/pids.max $m/cgroup.procs 2>&1)"
  "$runsc" --root "$state" pause c5r && [ "$("$runsc" --root "$state" state c5r | get '["status"]')" = paused ] \
    && [ "$(cat /sys/fs/cgroup/freezer$cg/freezer.state)" = FROZEN ] && pass "pause freezes the sandbox" || fail "pause"
  u1=$(cat /sys/fs/cgroup/cpuacct$cg/cpuacct.usage); sleep 1; u2=$(cat /sys/fs/cgroup/cpuacct$cg/cpuacct.usage)
  [ "$u1" = "$u2" ] && pass "a paused sandbox uses no CPU" || fail "paused but CPU went from $u1 to $u2"
  "$runsc" --root "$state" kill c5r TERM 2>"$tmp/err"
  [ $? = 1 ] && grep -q "paused" "$tmp/err" && pass "kill of a paused container (but KILL) is refused" || fail "kill paused: $(cat "$tmp/err")"
  "$runsc" --root "$state" resume c5r && [ "$("$runsc" --root "$state" state c5r | get '["status"]')" = running ] \
    && [ "$(cat /sys/fs/cgroup/freezer$cg/freezer.state)" = THAWED ] && pass "resume thaws it" || fail "resume"
  sleep 0.3
  [ "$("$runsc" --root "$state" exec c5r echo alive 2>&1)" = alive ] && pass "the thawed sandbox runs on (sleeps and polls restarted)" \
    || fail "after resume: $("$runsc" --root "$state" state c5r)"
  "$runsc" --root "$state" resume c5r 2>/dev/null && fail "resume of a running container" || pass "resume of a running container is refused"
  "$runsc" --root "$state" delete --force c5r
  [ ! -e "$m" ] && [ ! -e /sys/fs/cgroup/freezer$cg ] && pass "delete removes the cgroup" || fail "cgroup left: $m"
  for c in memory cpu cpuacct cpuset pids freezer; do rmdir /sys/fs/cgroup/$c$cg 2>/dev/null; done
  edit "$b" 'del c["linux"]["cgroupsPath"]; del c["linux"]["resources"]'
else
  echo "not checked: linux.resources, pause, resume (no cgroup v1 memory and freezer hierarchies here)"
fi

# 5a4. A network namespace given by path (a pod's) is joined.
unshare --net sleep 30 &
holder=$!
sleep 0.2
edit "$b" 'c["process"]["args"]=["sleep","10"]; c["linux"]["namespaces"]=[n for n in c["linux"]["namespaces"] if n["type"]!="network"]+[{"type":"network","path":"/proc/'"$holder"'/ns/net"}]'
"$runsc" --root "$state" run --detach --bundle "$b" c5n 2>"$tmp/err"
sentry=$("$runsc" --root "$state" state c5n | get '["pid"]')
[ -n "$sentry" ] && [ "$(readlink /proc/$sentry/ns/net)" = "$(readlink /proc/$holder/ns/net)" ] \
  && [ "$(readlink /proc/$sentry/ns/net)" != "$(readlink /proc/self/ns/net)" ] \
  && pass "linux.namespaces: the network namespace at a path is joined" || fail "netns path: $(cat "$tmp/err")"
"$runsc" --root "$state" delete --force c5n
kill "$holder"
edit "$b" 'c["linux"]["namespaces"]=[n for n in c["linux"]["namespaces"] if "path" not in n]+([{"type":"network"}] if not any(n["type"]=="network" for n in c["linux"]["namespaces"]) else [])'

# 5a5. A pod: containerd's CRI annotations put a second container in the
# sandbox of the first, with its own root and processes.
pod="$tmp/pod"
mkdir -p "$pod"
cp -a "$b" "$pod/s" && cp -a "$b" "$pod/c"
echo "sandbox root" >"$pod/s/rootfs/whoami" && echo "container root" >"$pod/c/rootfs/whoami"
edit "$pod/s" 'c["process"]["args"]=["sleep","30"]; c["annotations"]={"io.kubernetes.cri.container-type":"sandbox","io.kubernetes.cri.sandbox-id":"p1"}'
edit "$pod/c" 'c["process"]["args"]=["sh","-c","cat /whoami; exit 7"]; c["annotations"]={"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.sandbox-id":"p1"}; c["linux"]["namespaces"]=[n for n in c["linux"]["namespaces"] if n["type"] not in ("ipc","uts")]+[{"type":"ipc","path":"/proc/1/ns/ipc"},{"type":"uts","path":"/proc/1/ns/uts"}]'
"$runsc" --root "$state" run --detach --bundle "$pod/s" p1 >/dev/null 2>&1 || fail "pod sandbox"
out=$("$runsc" --root "$state" run --bundle "$pod/c" p1c 2>&1)
st=$?
[ "$out" = "container root" ] && [ "$st" = 7 ] && pass "a pod's container runs in the pod's sandbox with its own root and exit status" \
  || fail "pod container: status $st: $out"
for _ in $(seq 50); do pgrep -f "gofer --root $pod/c/rootfs" >/dev/null || break; sleep 0.1; done
! pgrep -f "gofer --root $pod/c/rootfs" >/dev/null && pass "its mounts go with it: the container's gofers end while the sandbox runs on" \
  || fail "pod container's gofer left: $(pgrep -fa "gofer --root $pod/c/rootfs")"
edit "$pod/c" 'c["process"]["args"]=["sleep","30"]'
"$runsc" --root "$state" create --bundle "$pod/c" --pid-file "$tmp/p2.pid" p2 && "$runsc" --root "$state" start p2 \
  && [ "$("$runsc" --root "$state" state p2 | get '["status"]')" = running ] && kill -0 "$(cat "$tmp/p2.pid")" \
  && pass "create/start of a pod's container; its pid file names a live process" || fail "pod create/start"
[ "$("$runsc" --root "$state" exec p2 cat /whoami)" = "container root" ] && [ "$("$runsc" --root "$state" exec p1 cat /whoami)" = "sandbox root" ] \
  && pass "exec runs in each container's own root" || fail "pod exec"
[ "$("$runsc" --root "$state" ps p1 | grep -c sleep)" = 2 ] && pass "the sandbox runs both containers' processes" || fail "pod ps: $("$runsc" --root "$state" ps p1)"
ev=$("$runsc" --root "$state" events --stats p2)
[ "$(echo "$ev" | get '["id"]')" = p2 ] && pass "events --stats of a pod's container (through its sandbox)" || fail "pod events: $ev"
"$runsc" --root "$state" wait p2 2>"$tmp/err"
[ $? = 1 ] && grep -q "its pid file's process stands for it" "$tmp/err" && pass "wait on a pod's container says what to wait on" \
  || fail "pod wait: $(cat "$tmp/err")"
"$runsc" --root "$state" kill --all p2 KILL
for _ in $(seq 50); do [ "$("$runsc" --root "$state" state p2 | get '["status"]')" = stopped ] && break; sleep 0.1; done
[ "$("$runsc" --root "$state" state p2 | get '["status"]')" = stopped ] && [ "$("$runsc" --root "$state" state p1 | get '["status"]')" = running ] \
  && [ "$("$runsc" --root "$state" ps p1 | grep -c sleep)" = 1 ] \
  && pass "kill --all of a pod's container reaches its processes, not the sandbox's" || fail "pod kill --all"
"$runsc" --root "$state" delete p2
"$runsc" --root "$state" create --bundle "$pod/c" p2 >/dev/null 2>&1 && "$runsc" --root "$state" start p2 || fail "pod p2 again"
"$runsc" --root "$state" kill p2 KILL
for _ in $(seq 50); do [ "$("$runsc" --root "$state" state p2 | get '["status"]')" = stopped ] && break; sleep 0.1; done
[ "$("$runsc" --root "$state" state p2 | get '["status"]')" = stopped ] && [ "$("$runsc" --root "$state" state p1 | get '["status"]')" = running ] \
  && pass "kill of a pod's container leaves the sandbox running" || fail "pod kill"
"$runsc" --root "$state" delete p2
edit "$pod/c" 'c["annotations"]["io.kubernetes.cri.sandbox-id"]="nope"'
"$runsc" --root "$state" create --bundle "$pod/c" p3 2>"$tmp/err"
[ $? = 1 ] && grep -q 'sandbox "nope" is not a running sandbox' "$tmp/err" && [ ! -e "$state/p3" ] \
  && pass "a pod's container without its sandbox is refused" || fail "no sandbox: $(cat "$tmp/err")"
"$runsc" --root "$state" delete --force p1

# 5b. Bind mounts: a directory read-only and a file read-write, each served
# by a gofer of its own; the missing mount points are made (mkdir -p).
mkdir -p "$tmp/hostdir"
echo "dir content" >"$tmp/hostdir/a"
echo "file content" >"$tmp/hostfile"
edit "$b" 'c["root"]["readonly"]=False; c["mounts"]+=[{"destination":"/mnt/deep/ro","type":"bind","source":"'"$tmp/hostdir"'","options":["rbind","ro"]},{"destination":"/etc/bound","type":"bind","source":"'"$tmp/hostfile"'","options":["rbind","rprivate"]}]; c["process"]["args"]=["sh","-c","cat /mnt/deep/ro/a /etc/bound; echo appended >> /etc/bound; echo x > /mnt/deep/ro/new || echo refused"]'
out=$("$runsc" --root "$state" run --bundle "$b" c5b 2>/dev/null)
[ "$out" = "$(printf 'dir content\nfile content\nrefused')" ] && [ "$(cat "$tmp/hostfile")" = "$(printf 'file content\nappended')" ] \
  && [ ! -e "$tmp/hostdir/new" ] && pass "bind mounts: a read-only directory and a writable file reach the host" \
  || fail "bind mounts: $out / $(cat "$tmp/hostfile")"
edit "$b" 'c["root"]["readonly"]=True; c["mounts"]=[m for m in c["mounts"] if m["type"]!="bind"]'

check_bad() {  # label expected-text
  "$runsc" --root "$state" run --bundle "$b" bad >/dev/null 2>"$tmp/err"
  local st=$?
  [ "$st" = 1 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "$2" "$tmp/err" && pass "$1" || fail "$1: status $st: $(cat "$tmp/err")"
}

# 5c. Hooks: each gets the state on stdin; the creation hooks run before the
# program (its output, on a bound file, is still empty then), poststop after.
cat >"$tmp/hook" <<HOOK
#!/bin/sh
state=\$(cat)
status=\$(echo "\$state" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
echo "\$1 \$status [\$(cat $tmp/program.out)]" >> $tmp/hooks.log
exit \${2:-0}
HOOK
chmod +x "$tmp/hook"
: >"$tmp/program.out"
hook() { echo '{"path":"'"$tmp/hook"'","args":["hook","'"$1"'"'"${2:+,\"$2\"}"'],"timeout":10}'; }
edit "$b" 'c["root"]["readonly"]=False; c["mounts"].append({"destination":"/out","type":"bind","source":"'"$tmp/program.out"'","options":["bind"]}); c["process"]["args"]=["sh","-c","echo ran > /out"]; c["hooks"]={"prestart":['"$(hook prestart)"'],"createRuntime":['"$(hook createRuntime)"'],"createContainer":['"$(hook createContainer)"'],"poststart":['"$(hook poststart)"'],"poststop":['"$(hook poststop)"']}'
"$runsc" --root "$state" run --bundle "$b" c5c >/dev/null 2>&1
want="prestart created []
createRuntime created []
createContainer created []
poststart running []
poststop stopped [ran]"
got=$(sed 's/^poststart running \[ran\]$/poststart running []/' "$tmp/hooks.log")
[ "$got" = "$want" ] && pass "run: prestart, createRuntime, createContainer before the program, poststart and poststop after" \
  || fail "run hooks: $(cat "$tmp/hooks.log")"
: >"$tmp/hooks.log"; : >"$tmp/program.out"
"$runsc" --root "$state" create --bundle "$b" c5d >/dev/null 2>&1 && "$runsc" --root "$state" start c5d \
  && wait_status c5d stopped && "$runsc" --root "$state" delete c5d
# poststart may find the program done already: only its place is checked.
got=$(sed 's/^poststart running \[ran\]$/poststart running []/' "$tmp/hooks.log")
[ "$got" = "$want" ] && pass "create/start/delete: every hook in its place" || fail "create hooks: $(cat "$tmp/hooks.log")"
: >"$tmp/hooks.log"
edit "$b" 'c["hooks"]={"createRuntime":['"$(hook createRuntime 3)"']}'
"$runsc" --root "$state" create --bundle "$b" c5e >/dev/null 2>"$tmp/err"
st=$?
[ "$st" = 1 ] && grep -q "createRuntime hook $tmp/hook exited with status 3" "$tmp/err" && [ ! -e "$state/c5e" ] \
  && pass "a failing createRuntime hook fails create and leaves nothing" || fail "failing hook: status $st: $(cat "$tmp/err")"
# startContainer runs inside the container, before its program: here it
# leaves the state it got on the container's /tmp for the program to read.
edit "$b" 'c["root"]["readonly"]=True; c["mounts"]=[m for m in c["mounts"] if m["type"]!="bind"]; c["process"]["args"]=["sh","-c","grep -q id.:.c5s /tmp/hookstate && echo got-state"]; c["hooks"]={"startContainer":[{"path":"/bin/sh","args":["sh","-c","cat > /tmp/hookstate; echo hook output"]}]}'
out=$("$runsc" --root "$state" run --bundle "$b" c5s 2>&1)
[ "$out" = got-state ] && pass "startContainer hooks run inside the container before its program, with the state" \
  || fail "startContainer: $out"
edit "$b" 'c["hooks"]={"startContainer":[{"path":"/bin/sh","args":["sh","-c","echo no way; exit 5"]}]}'
check_bad "a failing startContainer hook fails the run" "startContainer hook /bin/sh exited with status 5: no way"
edit "$b" 'c["hooks"]={}; c["root"]["readonly"]=True; c["mounts"]=[m for m in c["mounts"] if m["type"]!="bind"]'

# 6. Bad bundles: one line, exit 1.
cp "$b/config.json" "$tmp/good.json"
printf '{"process": ' >"$b/config.json"
check_bad "malformed config.json" "not valid JSON"
cp "$tmp/good.json" "$b/config.json"
edit "$b" 'c["process"]["args"]=[]'
check_bad "empty process.args" "process.args must not be empty"
cp "$tmp/good.json" "$b/config.json"
edit "$b" 'c["root"]["path"]="missing"'
check_bad "a missing rootfs" "root.path"
cp "$tmp/good.json" "$b/config.json"
edit "$b" 'c["mounts"].append({"destination":"/data","type":"bind","source":"/nonexistent/dir","options":["rbind"]})'
check_bad "a bind mount of a missing source" "bind mount source /nonexistent/dir"
cp "$tmp/good.json" "$b/config.json"
edit "$b" 'c["mounts"].append({"destination":"/data","type":"nfs","source":"srv:/x"})'
check_bad "an unsupported mount type" "not supported yet"
cp "$tmp/good.json" "$b/config.json"
edit "$b" 'c["linux"]["namespaces"].append({"type":"ipc","path":"/proc/1/ns/ipc"})'
check_bad "joining another container's ipc namespace is refused" "joining the ipc namespace at a path is not supported yet"
cp "$tmp/good.json" "$b/config.json"
edit "$b" 'c["linux"]["resources"]={"hugepageLimits":[{"pageSize":"2MB","limit":1}]}'
check_bad "a resource the sandbox cannot limit" "linux.resources.hugepageLimits is not supported yet"
cp "$tmp/good.json" "$b/config.json"
edit "$b" 'c["linux"]["sysctl"]={"kernel.msgmax":"1"}'
check_bad "a sysctl the sandbox does not emulate" "sysctl kernel.msgmax is not emulated"
cp "$tmp/good.json" "$b/config.json"
"$runsc" --root "$state" --log "$tmp/log.json" --log-format json run --bundle "$b" 'bad"id' >/dev/null 2>&1
python3 -c 'import json,sys; l=json.loads(open(sys.argv[1]).read().splitlines()[-1]); assert l["level"]=="error" and "invalid container ID" in l["msg"], l' "$tmp/log.json" \
  && pass "--log-format json: the error is the log's last line, valid JSON (as containerd's shim reads it)" \
  || fail "json log: $(cat "$tmp/log.json")"
"$runsc" --root "$state" run --bundle "$b" 'bad/id' >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "invalid container ID" "$tmp/err" && pass "an invalid ID" || fail "invalid id: $(cat "$tmp/err")"

# 7. The command line: one-line errors, exit 1, as runc; --version.
cli_error() {  # label expected-text ARGS...
  local label=$1 want=$2
  shift 2
  "$runsc" "$@" >/dev/null 2>"$tmp/err"
  local st=$?
  [ "$st" = 1 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q -- "$want" "$tmp/err" && pass "$label" || fail "$label: status $st: $(cat "$tmp/err")"
}
cli_error "an unknown flag is named" "not expected: --bogus" --bogus list
cli_error "an unknown command is named" "not expected: frobnicate" frobnicate
cli_error "no command" "no command given"
cli_error "a command without its ID" "id is required" --root "$state" start
cli_error "an unknown signal" 'unknown signal "SIGNOPE"' --root "$state" kill nosuch SIGNOPE
cli_error "--preserve-fds beyond 0" "only 0" --root "$state" create --preserve-fds 2 --bundle "$b" nofds
edit "$b" 'c["process"]["args"]=["sh","-c","exit 0"]'
"$runsc" --root "$state" run --no-pivot --no-new-keyring --preserve-fds 0 --bundle "$b" flags \
  && pass "runc's --no-pivot, --no-new-keyring and --preserve-fds 0 are accepted" || fail "runc flags"
out=$("$runsc" --version)
echo "$out" | grep -q "^runsc version " && echo "$out" | grep -q "^spec: 1\." && pass "--version names ours and the runtime-spec's" \
  || fail "--version: $out"

[ "$failures" = 0 ] && echo "all checks passed" || { echo "$failures failures"; exit 1; }
