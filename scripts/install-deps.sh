#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests and the benchmarks
# need. Safe to run again: apt-get skips what is there.
set -euo pipefail
packages=(
  build-essential cmake pkg-config ccache
  libseccomp-dev libabsl-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  busybox-static proot
  bash coreutils findutils grep sed mawk gzip tar python3 perl-base
  diffutils procps sqlite3 git
  # The end-to-end tests' daemons (tests/e2e) and runc for the benchmarks.
  docker.io containerd runc
  # Networked programs the network integration tests run (tests/integration/network_test.sh).
  curl socat redis-server redis-tools iproute2 iputils-ping nginx nodejs
  # ab, the HTTP load generator of bench/net.sh.
  apache2-utils
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The nginx and redis-server packages may start their system services, which take
# ports 80 and 6379; the tests start their own servers and need neither.
for service in nginx redis-server; do
  dpkg-query -W -f='${Status}' "$service" 2>/dev/null | grep -q "install ok installed" || continue
  if [ -d /run/systemd/system ]; then
    systemctl disable --now "$service" >/dev/null 2>&1 || true
  else
    service "$service" stop >/dev/null 2>&1 || true
  fi
done
