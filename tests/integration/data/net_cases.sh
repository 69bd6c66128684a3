# Cases of the network integration test: real servers and clients talking
# over 127.0.0.1, ::1 and unix sockets, and ip(8)'s view of the namespace.
# network_test.sh runs each case natively in a fresh network namespace with
# only lo up (unshare -n) and under `runsc do`, and compares the outputs.
# Every server is started here, on a port picked here (in a fresh namespace
# every port is free) or port 0, under timeout(1), with its output in a log
# file, and is killed on exit; readiness is polled with a bounded loop.
# Nothing printed shows a port, a pid, a temporary path or a time.
# Usage: bash net_cases.sh CASE   (http asyncio mp_manager socat redis ip nginx node ping)
set -uo pipefail
export LC_ALL=C TZ=UTC
umask 022
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
# Servers live at most this long, whatever happens to this script.
server_life=25

tmp=$(mktemp -d /tmp/net-case.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

die() { echo "FAIL: $*"; exit 1; }

# start_bg NAME CMD...: CMD in the background under timeout(1) (which, as a
# process group leader, passes our kill on to CMD's children), stdin from
# /dev/null, stdout and stderr to $tmp/NAME.log. Its pid is in $bg_pid.
start_bg() {
  local name=$1; shift
  timeout -k 2 "$server_life" "$@" </dev/null >"$tmp/$name.log" 2>&1 &
  bg_pid=$!
  pids+=("$bg_pid")
}

# wait_until WHAT CMD...: polls CMD (which must itself be bounded in time)
# every 0.1 s until it succeeds, for 10 s at most.
wait_until() {
  local what=$1 deadline=$((SECONDS + 10)); shift
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "--- logs:" >&2; tail -n 20 "$tmp"/*.log "$tmp"/*/*.log >&2 2>/dev/null
      die "$what is not ready after 10 s"
    fi
    sleep 0.1
  done
}

# free_port ADDRESS: a port nothing listens on at ADDRESS (asks the kernel for one).
free_port() {
  "$py" -c 'import socket, sys
a = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
s.bind((a, 0))
print(s.getsockname()[1])' "$1"
}

# A document root with a short text file, 1 MiB of fixed bytes and a subdirectory.
make_www() {
  mkdir -p "$1/sub"
  printf 'hello over the loopback\n' >"$1/hello.txt"
  { yes 'network test 0123456789abcdef' || true; } | head -c 1048576 >"$1/big.bin"
  printf 'a\n' >"$1/sub/a.txt"
  printf 'b\n' >"$1/sub/b.txt"
}

# curl_get LABEL URL PATH...: status, content type, size and md5 of each body.
curl_get() {
  local label=$1 url=$2 p; shift 2
  for p in "$@"; do
    curl -gsS --max-time 10 -o "$tmp/body" -w "%{http_code} %{content_type} %{size_download}" "$url$p" >"$tmp/w" ||
      echo "curl $label$p failed: $?"
    echo "curl $label$p: $(cat "$tmp/w") md5=$(md5sum <"$tmp/body" | cut -d' ' -f1)"
  done
}

# `python3 -c "$http_server" ARGS...` is `python3 -m http.server ARGS...`, except that
# the server does not look its own address up (socket.getfqdn): with no /etc/hosts
# entry for it (often so for ::1) that would ask the DNS server of /etc/resolv.conf.
http_server='import runpy, socket
socket.getfqdn = lambda name="": name
runpy.run_module("http.server", run_name="__main__", alter_sys=True)'

# 1. python3 -m http.server on 127.0.0.1 and on ::1, fetched by curl and urllib.request.
case_http() {
  make_www "$tmp/www"
  local p4 p6
  p4=$(free_port 127.0.0.1) || die "no free port"
  p6=$(free_port ::1) || die "no free port"
  start_bg http4 "$py" -c "$http_server" "$p4" --bind 127.0.0.1 --directory "$tmp/www"
  start_bg http6 "$py" -c "$http_server" "$p6" --bind ::1 --directory "$tmp/www"
  wait_until "http.server on 127.0.0.1" curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$p4/hello.txt"
  wait_until "http.server on ::1" curl -gsf --max-time 1 -o /dev/null "http://[::1]:$p6/hello.txt"
  curl_get 127.0.0.1 "http://127.0.0.1:$p4" /hello.txt /big.bin /sub/ /missing
  curl_get ::1 "http://[::1]:$p6" /hello.txt /big.bin
  echo "curl body of /hello.txt: $(curl -sS --max-time 10 "http://127.0.0.1:$p4/hello.txt")"
  # http.server answers POST with 501; the request body still goes over.
  echo "curl POST: $(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -d 'some=data' "http://127.0.0.1:$p4/")"
  "$py" "$here/net_http_fetch.py" 127.0.0.1 "http://127.0.0.1:$p4" /hello.txt /big.bin /sub/ /missing
  "$py" "$here/net_http_fetch.py" ::1 "http://[::1]:$p6" /hello.txt /big.bin
}

# 2. An asyncio echo server and clients in one program (TCP v4, v6, unix).
case_asyncio() {
  timeout "$server_life" "$py" "$here/net_asyncio_echo.py"
}

# 3. multiprocessing.Manager shared with child processes (unix socket, then TCP).
case_mp_manager() {
  timeout "$server_life" "$py" "$here/net_mp_manager.py"
}

# 4. socat: a unix socket forwarded to a TCP echo server (socat too, cat behind it).
case_socat() {
  local port sock=$tmp/front.sock
  port=$(free_port 127.0.0.1) || die "no free port"
  start_bg echo socat -t 10 "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" EXEC:cat
  wait_until "the TCP echo server" socat -T 1 /dev/null "TCP:127.0.0.1:$port"
  start_bg front socat -t 10 "UNIX-LISTEN:$sock,fork" "TCP:127.0.0.1:$port"
  wait_until "the unix socket" test -S "$sock"
  local i
  for i in 1 2 3; do
    printf 'line %s one\nline %s two\n' "$i" "$i" | socat -t 10 - "UNIX-CONNECT:$sock" | sed "s/^/client $i got: /"
  done
  # 1 MiB both ways through both hops; the half-close ends it.
  { yes 'through a unix socket and TCP' || true; } | head -c 1048576 >"$tmp/big"
  socat -t 10 - "UNIX-CONNECT:$sock" <"$tmp/big" >"$tmp/big.back"
  echo "1 MiB client: $(wc -c <"$tmp/big.back") bytes back, md5 $(md5sum <"$tmp/big.back" | cut -d' ' -f1)" \
    "(sent $(md5sum <"$tmp/big" | cut -d' ' -f1))"
  # Straight to the TCP server too.
  echo "direct TCP: $(printf 'direct\n' | socat -t 10 - "TCP:127.0.0.1:$port")"
}

# 5. redis-server on 127.0.0.1 and a unix socket, with redis-cli.
case_redis() {
  local port
  port=$(free_port 127.0.0.1) || die "no free port"
  start_bg redis redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --dir "$tmp" --logfile '' --unixsocket "$tmp/redis.sock" --unixsocketperm 700
  local server=$bg_pid
  rc() { redis-cli -h 127.0.0.1 -p "$port" "$@"; }
  wait_until "redis-server" rc PING
  rc PING
  rc SET greeting hello
  rc GET greeting
  rc INCR counter
  rc INCR counter
  rc INCRBY counter 40
  rc RPUSH list a b c
  rc LRANGE list 0 -1
  # 10000 SETs in the Redis protocol through one pipe.
  awk 'BEGIN { for (i = 1; i <= 10000; i++) {
    k = "key:" i; v = "value:" i
    printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v } }' >"$tmp/pipe.resp"
  rc --pipe <"$tmp/pipe.resp"
  echo "DBSIZE $(rc DBSIZE)"
  rc MGET key:1 key:5000 key:10000
  rc --scan --pattern 'key:999*' | sort | tr '\n' ' '; echo
  echo "through the unix socket: $(redis-cli -s "$tmp/redis.sock" GET greeting)"
  rc SHUTDOWN NOSAVE
  wait "$server"
  echo "redis-server exited $?"
}

# 6. The namespace as ip(8) shows it (netlink route dumps).
case_ip() {
  local c
  for c in "link show" "-4 addr show lo" "-6 addr show lo" "addr show" "-br link" "-br addr" \
    "route show" "-6 route show" "route show table local" "-6 route show table local"; do
    echo "\$ ip $c"
    # shellcheck disable=SC2086
    ip $c 2>&1
    echo "(exit $?)"
  done
}

# 7. nginx (master and one worker) serving files to curl on 127.0.0.1 and ::1.
case_nginx() {
  local port n=$tmp/nginx
  port=$(free_port 127.0.0.1) || die "no free port"
  make_www "$tmp/www"
  mkdir -p "$n"
  chmod 755 "$tmp"  # the worker runs as nobody
  cat >"$n/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
user nobody nogroup;
pid $n/nginx.pid;
error_log $n/error.log info;
events { worker_connections 64; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log $n/access.log;
  client_body_temp_path $n/body;
  proxy_temp_path $n/proxy;
  fastcgi_temp_path $n/fastcgi;
  uwsgi_temp_path $n/uwsgi;
  scgi_temp_path $n/scgi;
  sendfile on;
  keepalive_timeout 30;
  server {
    listen 127.0.0.1:$port;
    listen [::1]:$port;
    root $tmp/www;
  }
}
EOF
  start_bg nginx nginx -p "$n" -e "$n/error.log" -c "$n/nginx.conf"
  wait_until "nginx" curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$port/hello.txt"
  curl_get 127.0.0.1 "http://127.0.0.1:$port" /hello.txt /big.bin /missing
  curl_get ::1 "http://[::1]:$port" /hello.txt /big.bin
  # Two requests on one kept-alive connection: the second makes no new connection.
  echo "keep-alive: $(curl -sS --max-time 10 -o /dev/null -o /dev/null -w '%{http_code} connects=%{num_connects};' \
    "http://127.0.0.1:$port/hello.txt" "http://127.0.0.1:$port/big.bin")"
}

# 8. A node http server and client in one program (TCP v4, v6, unix).
case_node() {
  timeout "$server_life" node "$here/net_node_http.js"
}

# 9. ping over the loopback, without the times.
case_ping() {
  local a
  for a in 127.0.0.1 ::1; do
    ping -n -c 1 -W 5 "$a" >"$tmp/ping" 2>&1
    echo "ping $a exit $?"
    sed -E -e '/^rtt /d' -e 's/ time=[0-9.]+ ms$//' -e 's/(packet loss), time [0-9]+ms$/\1/' "$tmp/ping"
  done
}

case ${1:-} in
  http | asyncio | mp_manager | socat | redis | ip | nginx | node | ping) "case_$1" ;;
  *) echo "usage: net_cases.sh http|asyncio|mp_manager|socat|redis|ip|nginx|node|ping" >&2; exit 2 ;;
esac
