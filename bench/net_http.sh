#!/usr/bin/env bash
# One HTTP measurement, run as a whole natively or under `runsc do`: nginx
# (one worker) serving a 4 KiB file on 127.0.0.1 and ab with keep-alive
# against it, both in the same place. Prints "http_keepalive <req/s> req/s".
# Usage: net_http.sh [REQUESTS] [CONCURRENCY]
set -u
requests=${1:-20000}
concurrency=${2:-8}
dir=$(mktemp -d /tmp/runsc-bench-http.XXXXXX)
trap 'kill $(cat "$dir/nginx.pid" 2>/dev/null) 2>/dev/null; rm -rf "$dir"' EXIT
head -c 4096 /dev/zero | tr '\0' x >"$dir/index.html"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 256; }
http {
  access_log off;
  server { listen 127.0.0.1:$port; root $dir; }
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
}
EOF
nginx -c "$dir/nginx.conf" -e "$dir/error.log" || exit 1
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/index.html" && break; sleep 0.1; done
rps=$(ab -q -k -n "$requests" -c "$concurrency" "http://127.0.0.1:$port/index.html" 2>/dev/null |
  awk '/Requests per second/ {print $4}')
[ -n "$rps" ] || exit 1
echo "http_keepalive $rps req/s"
