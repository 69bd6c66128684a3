#!/usr/bin/env bash
# Captures real Ethernet frames the host kernel sends on a veth pair
# between two network namespaces this script makes (and removes), as the
# seed corpus for netstack's frame fuzz test (netstack_frames.hex: one
# frame per line, hex). Traffic only between those namespaces: ARP and
# NDP, ping over IPv4 and IPv6, UDP, a TCP connection with data and
# close, and TCP and UDP to a closed port (RST, ICMP port unreachable).
# Run as root by hand when the corpus should change; the file is kept in
# the repository so the test needs no privileges.
# Usage: tests/unit/data/make_frame_corpus.sh [OUT]
set -eu
out=${1:-$(dirname "$0")/netstack_frames.hex}
a=corpus-a-$$ b=corpus-b-$$
cleanup() { ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$a"
ip netns add "$b"
ip link add veth-a netns "$a" type veth peer name veth-b netns "$b"
ip -n "$a" link set lo up
ip -n "$b" link set lo up
ip -n "$a" addr add 10.77.0.1/24 dev veth-a
ip -n "$b" addr add 10.77.0.2/24 dev veth-b
ip -n "$a" addr add fd77::1/64 dev veth-a nodad
ip -n "$b" addr add fd77::2/64 dev veth-b nodad
ip -n "$a" link set veth-a up
ip -n "$b" link set veth-b up
capture=$(mktemp)
# Every frame seen on veth-b (both directions), for as long as the traffic lasts.
ip netns exec "$b" python3 - "$capture" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind(("veth-b", 0))
s.settimeout(0.5)
end = time.time() + 6
with open(sys.argv[1], "w") as f:
    while time.time() < end:
        try:
            frame = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:  # ENETDOWN while the link comes up
            time.sleep(0.05)
            continue
        f.write(frame.hex() + "\n")
PY
capturer=$!
sleep 1
# A TCP server and a UDP sink in b.
ip netns exec "$b" python3 -c '
import socket, threading
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(("0.0.0.0", 8080)); t.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 5353))
def serve():
    c, _ = t.accept(); c.sendall(c.recv(100).upper()); c.close()
def sink():
    u.settimeout(4)
    try: u.recvfrom(100)
    except Exception: pass
threads = [threading.Thread(target=f, daemon=True) for f in (serve, sink)]
for th in threads: th.start()
for th in threads: th.join(4)
' &
server=$!
sleep 0.5
ip netns exec "$a" ping -c 2 -i 0.2 10.77.0.2 >/dev/null
ip netns exec "$a" ping -6 -c 2 -i 0.2 fd77::2 >/dev/null
ip netns exec "$a" python3 -c '
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b"datagram", ("10.77.0.2", 5353))
u.sendto(b"to a closed port", ("10.77.0.2", 5354))
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u6.sendto(b"six", ("fd77::2", 5354))
c = socket.create_connection(("10.77.0.2", 8080)); c.sendall(b"hello over tcp"); c.recv(100); c.close()
try: socket.create_connection(("10.77.0.2", 8081), timeout=1)
except OSError: pass
try: socket.create_connection(("fd77::2", 8081), timeout=1)
except OSError: pass
'
wait "$server" || true
wait "$capturer"
sort -u "$capture" >"$out"
rm -f "$capture"
echo "$(wc -l <"$out") frames in $out"
