// A node http server and its client in one program: over TCP on 127.0.0.1
// and ::1 (port 0) and over a unix socket, GET and POST requests, a streamed
// 1 MiB response and a keep-alive agent. Prints status, a few headers and
// bodies (or their md5), never ports, paths or times.
// Usage: node net_node_http.js. Run by net_cases.sh (network_test.sh).
'use strict';
const http = require('http');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const guard = setTimeout(() => { console.log('FAIL: timed out'); process.exit(1); }, 20000);
guard.unref();

const big = Buffer.alloc(1 << 20);
for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 8)) & 0xff;

function handler(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.url === '/hello') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('hello from node\n');
    } else if (req.url === '/echo' && req.method === 'POST') {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Body-Length': String(body.length) });
      res.end(body.toString().toUpperCase());
    } else if (req.url === '/big') {
      // Streamed in 64 KiB pieces: chunked transfer encoding.
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      let off = 0;
      const more = () => {
        while (off < big.length) {
          const piece = big.subarray(off, off + 65536);
          off += piece.length;
          if (!res.write(piece)) return res.once('drain', more);
        }
        res.end();
      };
      more();
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
    }
  });
}

function request(opts, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(opts, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks), reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function show(label, what, { res, body, reused }) {
  const h = res.headers;
  let line = `${label} ${what}: ${res.statusCode} ${h['content-type']}`;
  if (h['transfer-encoding']) line += ` transfer-encoding=${h['transfer-encoding']}`;
  if (h['x-body-length']) line += ` x-body-length=${h['x-body-length']}`;
  if (reused !== undefined) line += ` reused=${reused}`;
  line += ` ${body.length} bytes`;
  line += body.length <= 64 ? ` body=${JSON.stringify(body.toString())}`
                            : ` md5=${crypto.createHash('md5').update(body).digest('hex')}`;
  console.log(line);
}

function listen(server, ...args) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(...args, () => resolve(server.address()));
  });
}

async function exercise(label, target) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const base = { ...target, agent };
  show(label, 'GET /hello', await request({ ...base, path: '/hello' }));
  show(label, 'POST /echo', await request({ ...base, method: 'POST', path: '/echo',
    headers: { 'Content-Type': 'text/plain' } }, 'posted through node\n'));
  show(label, 'GET /big', await request({ ...base, path: '/big' }));
  show(label, 'GET /missing', await request({ ...base, path: '/missing' }));
  agent.destroy();
}

async function main() {
  for (const host of ['127.0.0.1', '::1']) {
    const server = http.createServer(handler);
    const addr = await listen(server, 0, host);
    console.log(`tcp ${host}: family ${addr.family}, address ${addr.address}, port>0 ${addr.port > 0}`);
    await exercise(`tcp ${host}`, { host, port: addr.port });
    await new Promise((r) => server.close(r));
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'net-node-'));
  const sock = path.join(dir, 'http.sock');
  const server = http.createServer(handler);
  const addr = await listen(server, sock);
  console.log(`unix: listening on our path ${addr === sock}`);
  await exercise('unix', { socketPath: sock });
  await new Promise((r) => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
  console.log('done');
}

main().catch((e) => { console.log(`FAIL: ${e.stack}`); process.exit(1); });
