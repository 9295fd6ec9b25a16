// Side-by-side KV load: the same bounded put and range workloads against a fresh cairn and a fresh
// Debian etcd (if /usr/bin/etcd exists), each on 127.0.0.1 with its own temp data dir.
//
//   npm run build && node hack/bench-kv.mjs [--total 5000] [--clients 1,64]
//
// Prints QPS and latency percentiles per workload. Numbers, not assertions: this is a benchmark.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import { KVClient } from '../dist/server/src/proto/gen/etcdserverpb/rpc.js';
import { putRequest, rangeRequest } from '../dist/server/src/proto/messages.js';

const { values } = parseArgs({
  options: { total: { type: 'string', default: '5000' }, clients: { type: 'string', default: '1,64' } },
});
const TOTAL = Number(values.total);
const CLIENTS = values.clients.split(',').map(Number);
const CONNS = 4;
const VALUE = Buffer.alloc(256, 0x61);
const KEY_SPACE = 10_000;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(ep) {
  const c = new KVClient(ep, credentials.createInsecure());
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await new Promise((r) => c.range(rangeReq('x', false), (e) => r(!e)));
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${ep} not ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
  c.close();
}

function rangeReq(key, serializable) {
  return rangeRequest({ key: Buffer.from(key), serializable });
}

async function startServer(kind) {
  const dir = mkdtempSync(join(tmpdir(), `bench-${kind}-`));
  const port = await freePort();
  const ep = `127.0.0.1:${port}`;
  let args;
  let bin;
  if (kind === 'cairn') {
    bin = process.execPath;
    args = [
      new URL('../dist/server/src/cmd/cairn.js', import.meta.url).pathname,
      '--data-dir',
      dir,
      '--listen-client-urls',
      `http://${ep}`,
      '--listen-metrics-urls',
      '',
      '--log-level',
      'warn',
    ];
  } else {
    const peer = await freePort();
    bin = '/usr/bin/etcd';
    args = [
      '--data-dir',
      dir,
      '--listen-client-urls',
      `http://${ep}`,
      '--advertise-client-urls',
      `http://${ep}`,
      '--listen-peer-urls',
      `http://127.0.0.1:${peer}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${peer}`,
      '--initial-cluster',
      `default=http://127.0.0.1:${peer}`,
      '--log-level',
      'warn',
    ];
  }
  const child = spawn(bin, args, { stdio: 'ignore' });
  await waitReady(ep);
  return {
    ep,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function load(ep, clients, op) {
  const conns = Array.from({ length: CONNS }, () => new KVClient(ep, credentials.createInsecure()));
  let issued = 0;
  const lat = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, w) => {
      const c = conns[w % CONNS];
      while (issued < TOTAL) {
        const i = issued++;
        const key = 'key' + String(i % KEY_SPACE).padStart(8, '0');
        const s = performance.now();
        await new Promise((res, rej) => {
          const cb = (e) => (e ? rej(e) : res());
          if (op === 'put') c.put(putRequest({ key: Buffer.from(key), value: VALUE }), cb);
          else c.range(rangeReq(key, op === 'range-s'), cb);
        });
        lat.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  conns.forEach((c) => c.close());
  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))].toFixed(2);
  return { qps: Math.round(TOTAL / seconds), p50: pct(0.5), p99: pct(0.99) };
}

const kinds = ['cairn', ...(existsSync('/usr/bin/etcd') ? ['etcd'] : [])];
const rows = [];
for (const kind of kinds) {
  const srv = await startServer(kind);
  try {
    for (const op of ['put', 'range-l', 'range-s']) {
      for (const clients of CLIENTS)
        rows.push({ server: kind, op, clients, ...(await load(srv.ep, clients, op)) });
    }
  } finally {
    await srv.stop();
  }
}
console.log(`total ${TOTAL} requests per row, ${CONNS} connections, 256-byte values, ${KEY_SPACE} keys`);
console.log('server  workload  clients      qps   p50 ms   p99 ms');
for (const r of rows) {
  console.log(
    `${r.server.padEnd(6)}  ${r.op.padEnd(8)}  ${String(r.clients).padStart(7)}  ${String(r.qps).padStart(7)}  ${r.p50.padStart(7)}  ${r.p99.padStart(7)}`,
  );
}
