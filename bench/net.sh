#!/usr/bin/env bash
# bench/net.sh: sockets natively, under `runsc do`, and (with Docker) a
# published port with runsc against runc, in the same run. Medians of
# BENCH_RUNS runs; prints a markdown table on stdout, progress on stderr.
#
#   bench/net.sh [BUILD_DIR]        (default /work/main/build)
#
# Needs the net_bench and runsc targets built, nginx, ab (apache2-utils)
# and curl; the Docker rows need dockerd and runc (skipped without).
# Environment: BENCH_RUNS=5, BENCH_MIB=1024 (stream size), BENCH_RTT=20000
# (round trips), BENCH_HTTP=20000 (requests), BENCH_DOCKER_HTTP=5000.
set -u -o pipefail
BUILD=${1:-/work/main/build}
here=$(cd "$(dirname "$0")" && pwd)
RUNS=${BENCH_RUNS:-5}
MIB=${BENCH_MIB:-1024}
RTT=${BENCH_RTT:-20000}
HTTP=${BENCH_HTTP:-20000}
DOCKER_HTTP=${BENCH_DOCKER_HTTP:-5000}
runsc=$BUILD/runsc/runsc
net_bench=$BUILD/bench/net_bench

median() { sort -g | awk '{a[NR]=$1} END {if (NR) print (NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2); else print "n/a"}'; }
# runs CMD... RUNS times and prints the median of the second field of its output.
measure() {
  for _ in $(seq "$RUNS"); do timeout 300 "$@" 2>/dev/null | awk '{print $2}'; done | median
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b == 0) print "n/a"; else printf "%.2fx", a / b }'; }

echo "| what | unit | native | runsc do | runsc vs native |"
echo "|---|---|---:|---:|---:|"
for spec in "unix_stream $MIB MiB/s" "tcp_stream $MIB MiB/s" "unix_rtt $RTT us" "tcp_rtt $RTT us"; do
  set -- $spec
  echo "net.sh: $1" >&2
  native=$(measure "$net_bench" "$1" "$2")
  sandbox=$(measure "$runsc" do -- "$net_bench" "$1" "$2")
  # Throughput: runsc/native (1 is native's speed); latency: runsc/native time.
  echo "| $1 | $3 | $native | $sandbox | $(ratio "$sandbox" "$native") |"
done
echo "net.sh: http" >&2
native=$(measure "$here/net_http.sh" "$HTTP" 8)
sandbox=$(measure "$runsc" do -- "$here/net_http.sh" "$HTTP" 8)
echo "| nginx + ab -k -c 8, both inside | req/s | $native | $sandbox | $(ratio "$sandbox" "$native") |"

# docker run -p: busybox httpd in a container, ab from the host (no
# keep-alive: busybox httpd closes each connection), runc against runsc.
if ! command -v dockerd >/dev/null || ! command -v runc >/dev/null || [ "$(id -u)" != 0 ]; then
  echo "net.sh: no dockerd/runc or not root: no Docker rows" >&2
  exit 0
fi
. "$here/../tests/e2e/lib.sh"
tmp=$(mktemp -d /tmp/runsc-bench-net.XXXXXX)
net=runsc-bench-net-$$
trap 'D rm -f $(D ps -aq 2>/dev/null) >/dev/null 2>&1; D network rm "$net" >/dev/null 2>&1; stop_private_dockerd "$tmp"; rm -rf "$tmp"' EXIT
start_private_dockerd "$runsc" "$tmp" || { echo "net.sh: dockerd did not start" >&2; exit 0; }
busybox_rootfs "$tmp/rootfs" /bin/busybox sh httpd
mkdir -p "$tmp/rootfs/www"
head -c 4096 /dev/zero | tr '\0' x >"$tmp/rootfs/www/index.html"
tar -C "$tmp/rootfs" -c . | D import - runsc-bench:net >/dev/null
D network create --subnet 172.29.8.0/24 "$net" >/dev/null
declare -A rps
for rt in runc runsc; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  D run -d --name "web-$rt" --runtime="$rt" --network "$net" -p "127.0.0.1:$port:80" runsc-bench:net \
    httpd -f -p 80 -h /www >/dev/null
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/index.html" && break; sleep 0.2; done
  echo "net.sh: docker $rt" >&2
  rps[$rt]=$(for _ in $(seq "$RUNS"); do
    ab -q -n "$DOCKER_HTTP" -c 8 "http://127.0.0.1:$port/index.html" 2>/dev/null | awk '/Requests per second/ {print $4}'
  done | median)
done
echo
echo "| docker run -p 127.0.0.1:PORT:80 (busybox httpd), ab -c 8 from the host | req/s | runc ${rps[runc]} | runsc ${rps[runsc]} | $(ratio "${rps[runsc]}" "${rps[runc]}") |"
