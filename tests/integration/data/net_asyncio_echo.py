# An asyncio echo server and its clients in one program, over TCP on
# 127.0.0.1 and ::1 and over a unix socket: concurrent clients send a few
# lines each and print what came back, then one sends 256 KiB and checks it.
# Servers listen on port 0 (or a fresh temporary path); nothing printed
# depends on ports, paths or timing. Run by net_cases.sh (network_test.sh).
import asyncio
import hashlib
import os
import socket
import tempfile


async def handle(reader, writer):
    # Line mode until "BULK n", then echo n raw bytes back.
    while True:
        line = await reader.readline()
        if not line:
            break
        if line.startswith(b"BULK "):
            n = int(line.split()[1])
            data = await reader.readexactly(n)
            writer.write(data)
            await writer.drain()
            continue
        writer.write(b"echo: " + line.upper())
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def client(name, open_conn, count):
    reader, writer = await open_conn()
    got = []
    for i in range(count):
        writer.write(f"{name} message {i}\n".encode())
        await writer.drain()
        got.append((await reader.readline()).decode().rstrip("\n"))
    writer.write_eof()
    rest = await reader.read()  # the server closes after our EOF
    writer.close()
    await writer.wait_closed()
    return got, rest


async def bulk(open_conn, size):
    reader, writer = await open_conn()
    payload = bytes((i * 7 + i // 251) & 0xFF for i in range(size))
    writer.write(f"BULK {size}\n".encode() + payload)
    await writer.drain()
    back = await reader.readexactly(size)
    writer.close()
    await writer.wait_closed()
    return len(back), back == payload, hashlib.md5(back).hexdigest()


async def exercise(label, server, open_conn):
    async with server:
        # Three clients at once, each waiting for every echo before the next line.
        results = await asyncio.gather(*(client(f"c{k}", open_conn, 4) for k in range(3)))
        for k, (got, rest) in enumerate(results):
            print(f"{label} client c{k}: {got} then {rest!r}")
        n, same, digest = await bulk(open_conn, 256 * 1024)
        print(f"{label} bulk: {n} bytes back, identical={same}, md5={digest}")
    print(f"{label} server closed")


async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    sock = srv.sockets[0]
    host, port = sock.getsockname()[:2]
    print("tcp4 family", socket.AddressFamily(sock.family).name, "host", host, "port>0", port > 0)
    await exercise("tcp4", srv, lambda: asyncio.open_connection("127.0.0.1", port))

    srv6 = await asyncio.start_server(handle, "::1", 0)
    sock6 = srv6.sockets[0]
    host6, port6 = sock6.getsockname()[:2]
    print("tcp6 family", socket.AddressFamily(sock6.family).name, "host", host6, "port>0", port6 > 0)
    await exercise("tcp6", srv6, lambda: asyncio.open_connection("::1", port6))

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "echo.sock")
        srvu = await asyncio.start_unix_server(handle, path)
        print("unix family", socket.AddressFamily(srvu.sockets[0].family).name,
              "bound to our path", srvu.sockets[0].getsockname() == path)
        await exercise("unix", srvu, lambda: asyncio.open_unix_connection(path))


asyncio.run(asyncio.wait_for(main(), 20))
print("done")
