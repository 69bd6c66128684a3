#!/usr/bin/env bash
# Networking of runsc containers under a real Docker daemon (a private one
# this test starts, as docker_test.sh does): a published port answered from
# the host, containers on a user-defined bridge talking by name, and the
# none and host networks. Every case runs with runc first, as the
# baseline: a case runc cannot do on this machine is skipped with the
# reason, one it can do must work the same under runsc.
# Traffic goes only to 127.0.0.1 and to the bridge and namespaces this
# test's daemon makes (172.29.7.0/24, removed at the end).
# Usage: docker_network_test.sh RUNSC BUSYBOX
set -u
runsc=$1
busybox=$2
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "dockerd needs root"
command -v dockerd >/dev/null || skip "dockerd is not installed (scripts/install-deps.sh installs docker.io)"
command -v curl >/dev/null || skip "curl is not installed"
. "$(dirname "$0")/lib.sh"
[ -n "$docker_cli" ] || skip "no docker client"

tmp=$(mktemp -d /tmp/runsc-e2e-net.XXXXXX)
net=runsc-e2e-net-$$
cleanup() {
  if [ -n "${dockerd_pid:-}" ]; then
    D rm -f $(D ps -aq 2>/dev/null) >/dev/null 2>&1
    D network rm "$net" >/dev/null 2>&1
  fi
  stop_private_dockerd "$tmp"
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
skipped=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
note_skip() { echo "skipped: $*"; skipped=$((skipped + 1)); }

start_private_dockerd "$runsc" "$tmp" || skip "dockerd did not start on this machine"
rootfs="$tmp/rootfs"
busybox_rootfs "$rootfs" "$busybox" sh cat echo httpd wget ip wc sleep grep ping
mkdir -p "$rootfs/www"
echo "served from the sandbox" >"$rootfs/www/index.html"
tar -C "$rootfs" -c . | D import - runsc-e2e:net >/dev/null || { echo "FAIL: docker import"; exit 1; }
D network create --subnet 172.29.7.0/24 "$net" >/dev/null || skip "cannot create a bridge network"

# A free host port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# fetch URL: curl with a bounded wait until the server answers.
fetch() {
  local out
  for _ in $(seq 50); do
    out=$(curl -s --max-time 2 "$1") && { echo "$out"; return 0; }
    sleep 0.2
  done
  return 1
}

# 1. docker run -p 127.0.0.1:PORT:80: the host reaches the container's server.
for rt in runc runsc; do
  port=$(free_port)
  D run -d --name "web-$rt" --runtime="$rt" --network "$net" -p "127.0.0.1:$port:80" runsc-e2e:net \
    httpd -f -p 80 -h /www >/dev/null || { fail "$rt: docker run -p"; continue; }
  got=$(fetch "http://127.0.0.1:$port/index.html")
  if [ "$got" = "served from the sandbox" ]; then
    [ "$rt" = runsc ] && pass "docker run --runtime=runsc -p 127.0.0.1:PORT:80 answers curl from the host"
  elif [ "$rt" = runc ]; then
    note_skip "-p: runc's container does not answer here either ($got)"
    break
  else
    fail "-p with runsc: got '$got'"
  fi
done

# 2. Two containers on one user-defined bridge, by name (Docker's DNS).
for rt in runc runsc; do
  got=$(timeout 30 "$docker_cli" -H "unix://$sock" run --rm --runtime="$rt" --network "$net" runsc-e2e:net \
    wget -qO- "http://web-$rt/index.html" 2>&1)
  if [ "$got" = "served from the sandbox" ]; then
    [ "$rt" = runsc ] && pass "a runsc container reaches another by name on a user-defined bridge"
  elif [ "$rt" = runc ]; then
    note_skip "by name: runc's containers cannot either here ($got)"
    break
  else
    fail "by name with runsc: got '$got'"
  fi
done
# ...and across runtimes, by address.
addr=$(D inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' web-runsc 2>/dev/null)
got=$(timeout 30 "$docker_cli" -H "unix://$sock" run --rm --runtime=runc --network "$net" runsc-e2e:net \
  wget -qO- "http://$addr/index.html" 2>&1)
[ "$got" = "served from the sandbox" ] && pass "a runc container reaches a runsc one at $addr" \
  || fail "runc -> runsc at '$addr': $got"

# 3. The container's own view: eth0 with the bridge's address, and a
# server on its loopback.
got=$(D run --rm --runtime=runsc --network "$net" runsc-e2e:net sh -c \
  'ip -o -4 addr show eth0 | grep -c "inet 172.29.7."; httpd -p 127.0.0.1:8080 -h /www; wget -qO- http://127.0.0.1:8080/index.html' 2>&1)
[ "$got" = "$(printf '1\nserved from the sandbox')" ] && pass "eth0 has the bridge's address; loopback serves inside" \
  || fail "inside the bridged container: $got"

# 4. Docker's net.* sysctls reach the sandbox's namespace: with
# net.ipv4.ping_group_range "0 2147483647" (Docker's default; a new
# namespace's is "1 0", which allows nobody) a ping socket can be opened.
probe="$rootfs/bin/ping_socket"
if printf '%s\n' '#include <netinet/in.h>' '#include <stdio.h>' '#include <string.h>' '#include <errno.h>' \
     '#include <sys/socket.h>' \
     'int main(void) { int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);' \
     '  puts(fd >= 0 ? "ping socket: yes" : strerror(errno)); return 0; }' |
   cc -static -x c -o "$probe" - 2>/dev/null; then
  tar -C "$rootfs" -c . | D import - runsc-e2e:net >/dev/null
  want=$(D run --rm --runtime=runc --network "$net" runsc-e2e:net /bin/ping_socket 2>&1)
  got=$(D run --rm --runtime=runsc --network "$net" runsc-e2e:net /bin/ping_socket 2>&1)
  if [ "$want" != "ping socket: yes" ]; then
    note_skip "ping socket: runc's container cannot open one either here ($want)"
  elif [ "$got" = "$want" ]; then
    pass "Docker's net.* sysctls apply in the sandbox (ping_group_range: a ping socket opens)"
  else
    fail "ping socket in runsc: $got"
  fi
else
  note_skip "no C compiler for the ping socket probe"
fi

# 5. --network none: only lo.
want=$(D run --rm --runtime=runc --network none runsc-e2e:net sh -c 'ip -o link | wc -l; ip -o -4 addr' 2>&1)
got=$(D run --rm --runtime=runsc --network none runsc-e2e:net sh -c 'ip -o link | wc -l; ip -o -4 addr' 2>&1)
[ "$got" = "$want" ] && echo "$got" | head -1 | grep -qx 1 && pass "--network none sees only lo" \
  || fail "--network none: runsc '$got', runc '$want'"

# 6. --network host: the host's interfaces, and the host's network
# settings left as they were (runsc prepares only a namespace of the
# sandbox's own).
host_sysctls() { cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ping_group_range | tr '\n\t' '  '; }
sysctls_before=$(host_sysctls)
want=$(ip -o link | wc -l)
got=$(D run --rm --runtime=runsc --network host runsc-e2e:net sh -c 'ip -o link | wc -l' 2>&1)
[ "$got" = "$want" ] && pass "--network host sees the host's $want interfaces" || fail "--network host: $got, want $want"
[ "$(host_sysctls)" = "$sysctls_before" ] && pass "--network host leaves the host's net sysctls as they were" ||
  fail "--network host changed the host's sysctls: $sysctls_before -> $(host_sysctls)"

echo "$failures failed, $skipped skipped"
[ "$failures" = 0 ] || exit 1
