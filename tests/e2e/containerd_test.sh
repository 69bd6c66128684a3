#!/usr/bin/env bash
# End to end against a real containerd (Debian's containerd 1.6) that this
# test starts on its own socket and directories, with the configuration in
# docs/containerd-runsc.toml (its BinaryName rewritten to the runsc under
# test). Containers run through containerd's stock runc shim,
# io.containerd.runc.v2, told to call runsc instead of runc with
# `ctr run --runc-binary`. The image is an OCI image layout made here from a
# busybox rootfs and brought in with `ctr images import`: no registry.
# Usage: containerd_test.sh RUNSC BUSYBOX
set -u
runsc=$1
busybox=$2
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "containerd needs root"
command -v containerd >/dev/null || skip "containerd is not installed (Debian's containerd; scripts/install-deps.sh installs it)"
command -v ctr >/dev/null || skip "no ctr client (it comes with Debian's containerd)"
command -v containerd-shim-runc-v2 >/dev/null || skip "no containerd-shim-runc-v2"
config_src=$(cd "$(dirname "$0")/../../docs" && pwd)/containerd-runsc.toml
[ -f "$config_src" ] || { echo "FAIL: no $config_src"; exit 1; }
case $runsc in /*) ;; *) runsc=$(pwd)/$runsc ;; esac
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d /tmp/runsc-ctrd.XXXXXX)
sock="$tmp/containerd.sock"       # well under the 108 bytes of sun_path
ns="runsc-e2e"
runc_root="$tmp/runc-root"        # the shim gives runsc --root $runc_root/$ns
fifos="$tmp/fifo"                 # not ctr's default, /run/containerd/fifo
image=docker.io/library/runsc-e2e:busybox
C() { timeout 60 ctr -a "$sock" -n "$ns" "$@"; }
containerd_pid=""
cleanup() {
  if [ -n "$containerd_pid" ]; then
    for t in $(C task ls -q 2>/dev/null); do C task kill -s SIGKILL "$t" >/dev/null 2>&1; done
    sleep 0.2
    for t in $(C task ls -q 2>/dev/null); do C task delete -f "$t" >/dev/null 2>&1; done
    for c in $(C container ls -q 2>/dev/null); do C container delete "$c" >/dev/null 2>&1; done
    stop_daemon "$containerd_pid"
  fi
  unmount_under "$tmp"
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The docs' configuration file, with BinaryName pointing at the runsc under
# test, and the directories containerd's plugins would make on the host
# (/opt/containerd, /etc/cni/net.d) kept inside $tmp.
config="$tmp/containerd-runsc.toml"
sed "s|^\([[:space:]]*BinaryName[[:space:]]*=[[:space:]]*\).*|\1\"$runsc\"|" "$config_src" > "$config"
cat >> "$config" <<EOF

[plugins."io.containerd.internal.v1.opt"]
  path = "$tmp/opt"

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "$tmp/cni/bin"
  conf_dir = "$tmp/cni/net.d"
EOF
grep -q "BinaryName = \"$runsc\"" "$config" || { echo "FAIL: no BinaryName line to rewrite in $config_src"; exit 1; }

containerd --config "$config" --root "$tmp/root" --state "$tmp/state" --address "$sock" \
  --log-level debug >"$tmp/containerd.log" 2>&1 &
containerd_pid=$!
for _ in $(seq 150); do C version >/dev/null 2>&1 && break; kill -0 $containerd_pid 2>/dev/null || break; sleep 0.2; done
if ! C version >/dev/null 2>&1; then
  echo "containerd's last words:"; tail -5 "$tmp/containerd.log"
  skip "containerd did not start on this machine"
fi

# 1. The configuration file: containerd read it and its CRI plugin, which
# serves Kubernetes' RuntimeClass handlers, loaded with a "runsc" handler
# that runs io.containerd.runc.v2 with BinaryName = the runsc under test.
# (ctr cannot pick a CRI handler by name -- that takes the CRI API, i.e.
# kubelet or crictl -- so the handler's runtime is exercised below through
# the same shim and binary with --runtime/--runc-binary.)
# The CRI plugin logs the configuration it starts with.
cri=$(grep -m1 'Start cri plugin with config' "$tmp/containerd.log")
echo "$cri" | grep -qF "runsc:{Type:io.containerd.runc.v2 " \
  && echo "$cri" | grep -qF "Options:map[BinaryName:$runsc]" \
  && pass "containerd's CRI plugin loaded docs/containerd-runsc.toml: handler runsc = io.containerd.runc.v2, BinaryName = runsc" \
  || fail "no runsc handler in the CRI plugin's configuration: ${cri:-no CRI start line in the log}"
C plugins ls 2>/dev/null | grep -E 'io\.containerd\.grpc\.v1 +cri +.* ok *$' >/dev/null \
  && pass "the CRI plugin is up (status ok)" \
  || { fail "CRI plugin: $(C plugins ls 2>&1 | grep -w cri)"; grep 'io.containerd.grpc.v1.cri' "$tmp/containerd.log" | tail -2; }

# 2. An OCI image layout made by hand from the busybox rootfs.
rootfs="$tmp/rootfs"
busybox_rootfs "$rootfs" "$busybox" sh echo cat ls sleep uname dmesg true id ps hostname
oci="$tmp/oci"
mkdir -p "$oci/blobs/sha256"
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
blob() { local d; d=$(sha "$1"); mv "$1" "$oci/blobs/sha256/$d"; echo "$d"; }
tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -cf "$tmp/layer.tar" .
diff_id=$(sha "$tmp/layer.tar")
gzip -n "$tmp/layer.tar"
layer_size=$(size "$tmp/layer.tar.gz")
layer=$(blob "$tmp/layer.tar.gz")
cat > "$tmp/config.json" <<EOF
{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]}}
EOF
config_size=$(size "$tmp/config.json")
config_blob=$(blob "$tmp/config.json")
cat > "$tmp/manifest.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$config_blob","size":$config_size},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:$layer","size":$layer_size}]}
EOF
manifest_size=$(size "$tmp/manifest.json")
manifest=$(blob "$tmp/manifest.json")
cat > "$oci/index.json" <<EOF
{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$manifest","size":$manifest_size,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"busybox"}}]}
EOF
echo '{"imageLayoutVersion":"1.0.0"}' > "$oci/oci-layout"
tar -C "$oci" -cf "$tmp/image.tar" oci-layout index.json blobs
out=$(C images import --base-name docker.io/library/runsc-e2e "$tmp/image.tar" 2>&1)
C images ls -q 2>/dev/null | grep -qx "$image" && pass "ctr images import of a hand-made OCI archive" \
  || { echo "FAIL: ctr images import: $out"; exit 1; }

run() { C run --runtime io.containerd.runc.v2 --runc-binary "$runsc" --runc-root "$runc_root" --fifo-dir "$fifos" "$@"; }
shim_log() {  # what the shim and runsc said about container $1, from containerd's log
  echo "  containerd's log for $1:"
  grep -E "$1|runsc|shim" "$tmp/containerd.log" | grep -Ei 'error|fail|warn' | tail -5 | sed 's/^/    /'
}

# 3. What a user checks first.
out=$(run --rm "$image" e2e-uname uname -r 2>&1)
[ "$out" = "4.4.0" ] && pass "ctr run --runc-binary runsc uname -r prints 4.4.0" || { fail "uname -r: $out"; shim_log e2e-uname; }
out=$(run --rm "$image" e2e-dmesg dmesg 2>&1)
echo "$out" | grep -q "Starting runsc" && pass "dmesg prints the sandbox's boot log" || { fail "dmesg: $out"; shim_log e2e-dmesg; }

# 4. Exit status and stdin.
run --rm "$image" e2e-exit sh -c 'exit 7' >/dev/null 2>&1
st=$?
[ "$st" = 7 ] && pass "the exit status propagates through the shim and ctr" || { fail "exit status $st, want 7"; shim_log e2e-exit; }
# (ctr 1.6 does not close the container's stdin at EOF, with runc either:
# so the program reads one line rather than waiting for EOF.)
out=$(echo "through stdin" | run --rm "$image" e2e-stdin sh -c 'read l; echo "got $l"' 2>&1)
[ "$out" = "got through stdin" ] && pass "ctr run passes stdin" || { fail "stdin: $out"; shim_log e2e-stdin; }

# 5. Detached: task exec, ps, kill (SIGKILL and SIGTERM), delete.
sandbox_pids() {  # the shim's children: the Sentry and its gofers
  local shim
  shim=$(ps -o ppid= -p "$1" | tr -d ' ')
  ps -o pid= --ppid "$shim" | tr -d ' '
}
task_field() { C task ls 2>/dev/null | awk -v id="$1" -v n="$2" '$1 == id { print $n }'; }  # 2 pid, 3 status
wait_stopped() {
  for _ in $(seq 100); do [ "$(task_field "$1" 3)" = STOPPED ] && return 0; sleep 0.1; done
  return 1
}
pids=""
id=e2e-detached
if out=$(run -d --null-io "$image" "$id" sleep 1000 2>&1); then
  pid=$(task_field "$id" 2)
  status=$(task_field "$id" 3)
  [ "$status" = RUNNING ] && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
    && pass "ctr run -d: the task is RUNNING with host pid $pid" || fail "run -d: task status '$status' pid '$pid'"
  [ -n "$pid" ] && pids+=" $(sandbox_pids "$pid")"
  st=$("$runsc" --root "$runc_root/$ns" state "$id" 2>&1)
  echo "$st" | grep -q '"status": *"running"' && echo "$st" | grep -q "\"pid\": *$pid\b" \
    && pass "runsc state under --root \$runc_root/$ns: the shim used the root ctr --runc-root gave it" \
    || fail "runsc state under $runc_root/$ns: $st"
  out=$(C task exec --fifo-dir "$fifos" --exec-id x "$id" sh -c 'echo hi' 2>&1)
  [ "$out" = hi ] && pass "ctr task exec prints hi" || { fail "task exec: $out"; shim_log "$id"; }
  C task exec --fifo-dir "$fifos" --exec-id y "$id" sh -c 'exit 3' >/dev/null 2>&1
  st=$?
  [ "$st" = 3 ] && pass "ctr task exec: the exit status propagates" || fail "task exec exit status $st, want 3"
  out=$(C task ps "$id" 2>&1)
  [ -n "$pid" ] && echo "$out" | grep -qw "$pid" && pass "ctr task ps lists the task's pid" || fail "task ps: $out"
  C task kill -s SIGKILL "$id" >/dev/null 2>&1 || fail "ctr task kill -s SIGKILL"
  wait_stopped "$id" && pass "ctr task kill -s SIGKILL: the task stops" || fail "after SIGKILL the task is '$(task_field "$id" 3)'"
  # ctr 1.6's task delete exits 0 and warns of a non-zero exit code.
  out=$(C task delete "$id" 2>&1)
  echo "$out" | grep -q "exit code 137" && pass "ctr task delete reports the SIGKILL (exit code 137)" \
    || fail "task delete: '$out' (want exit code 137)"
  C container delete "$id" >/dev/null 2>&1 && ! C container info "$id" >/dev/null 2>&1 \
    && pass "ctr container delete" || fail "container delete"
else
  fail "ctr run -d: $out"; shim_log "$id"
fi
id=e2e-term
if out=$(run -d --null-io "$image" "$id" sh -c 'trap "exit 0" TERM; while true; do sleep 0.2; done' 2>&1); then
  pid=$(task_field "$id" 2)
  [ -n "$pid" ] && pids+=" $(sandbox_pids "$pid")"
  sleep 0.3  # let sh install its trap
  C task kill "$id" >/dev/null 2>&1 || fail "ctr task kill (SIGTERM)"
  wait_stopped "$id" && out=$(C task delete "$id" 2>&1) && [ -z "$out" ] \
    && pass "ctr task kill: SIGTERM reaches the program's handler, exit status 0" \
    || fail "SIGTERM: task '$(task_field "$id" 3)' $out"
  C task delete -f "$id" >/dev/null 2>&1
  C container delete "$id" >/dev/null 2>&1
else
  fail "ctr run -d: $out"; shim_log "$id"
fi

# 6. Nothing left behind: no task, container, runsc state, sandbox process
# or rootfs mount.
left=""
[ -z "$(C task ls -q 2>/dev/null)" ] || left+=" tasks:$(C task ls -q | tr '\n' ' ')"
[ -z "$(C container ls -q 2>/dev/null)" ] || left+=" containers:$(C container ls -q | tr '\n' ' ')"
[ -z "$(ls -A "$runc_root/$ns" 2>/dev/null)" ] || left+=" state:$(ls "$runc_root/$ns" | tr '\n' ' ')"
for p in $pids; do kill -0 "$p" 2>/dev/null && left+=" process:$p"; done
grep -q " $tmp/state/io.containerd.runtime.v2.task/" /proc/mounts && left+=" mounts"
[ -e "/run/containerd/runc/$ns" ] && left+=" /run/containerd/runc/$ns"
[ -z "$left" ] && pass "nothing is left behind after task and container delete" || fail "left behind:$left"

echo "$failures failure(s)"
[ "$failures" = 0 ]
