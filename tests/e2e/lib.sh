# Shared by tests/e2e/*_test.sh and bench/oci_run.sh (sourced): a private
# dockerd, a busybox root filesystem, and cleaning up after a daemon.

# busybox_rootfs DIR BUSYBOX APPLET...: a minimal root filesystem.
busybox_rootfs() {
  local dir=$1 busybox=$2
  shift 2
  mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/proc" "$dir/sys" "$dir/dev"
  cp "$busybox" "$dir/bin/busybox"
  local applet
  for applet in "$@"; do ln -s busybox "$dir/bin/$applet"; done
}

# stop_daemon PID: SIGTERM, up to 10 s to go, then SIGKILL.
stop_daemon() {
  kill "$1" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null
}

# unmount_under DIR: what is still mounted below DIR, deepest first.
unmount_under() {
  grep -o " $1[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
}

# The docker client: /usr/bin/docker (Debian's, the daemon's version) before
# whatever else is on PATH.
docker_cli=/usr/bin/docker
[ -x "$docker_cli" ] || docker_cli=$(command -v docker || true)

# D ARGS...: the docker client on the private daemon's socket ($sock).
D() { "$docker_cli" -H "unix://$sock" "$@"; }

# start_private_dockerd RUNSC DIR: a dockerd with its own data and exec
# roots and socket ($sock = DIR/docker.sock) under DIR, with RUNSC added to
# its daemon.json by `runsc install`, and no bridge or iptables. Sets
# dockerd_pid. Fails (its last words on stderr) if it does not answer.
start_private_dockerd() {
  local runsc=$1 dir=$2
  sock="$dir/docker.sock"
  "$runsc" install --config-file "$dir/daemon.json" >/dev/null || return 1
  dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" -H "unix://$sock" \
    --config-file "$dir/daemon.json" --bridge=none --iptables=false >"$dir/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 150); do
    D version >/dev/null 2>&1 && return 0
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "dockerd's last words:" >&2
  tail -5 "$dir/dockerd.log" >&2
  return 1
}

# stop_private_dockerd DIR: its containers, the daemon, its mounts.
stop_private_dockerd() {
  if [ -n "${dockerd_pid:-}" ]; then
    D rm -f $(D ps -aq 2>/dev/null) >/dev/null 2>&1
    stop_daemon "$dockerd_pid"
  fi
  unmount_under "$1"
}
