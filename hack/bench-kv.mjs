// Side-by-side KV load: the same bounded put and range workloads, run by cairn-bench (etcd's tools/benchmark
// commands and flags), against a fresh cairn cluster and a fresh Debian etcd cluster (if `etcd` is on the
// PATH), 3 members each by default, every member on free 127.0.0.1 ports with its own temp data dir,
// all stopped by PID at the end.
//
//   npm run bench [-- --total 5000] [--size 3]
//
// Prints one table, cairn and etcd side by side. Numbers, not assertions: this is a benchmark.
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import { KVClient } from '../dist/server/src/proto/gen/etcdserverpb/rpc.js';
import { putRequest, rangeRequest } from '../dist/server/src/proto/messages.js';

const { values } = parseArgs({
  options: { total: { type: 'string', default: '5000' }, size: { type: 'string', default: '3' } },
});
const TOTAL = Number(values.total);
const SIZE = Number(values.size);
const BENCH_JS = new URL('../dist/server/src/cmd/cairn-bench.js', import.meta.url).pathname;
const CAIRN_JS = new URL('../dist/server/src/cmd/cairn.js', import.meta.url).pathname;
const RANGE_KEY = 'bench-range-key';
const VAL_SIZE = 256;

// name, cairn-bench arguments (the endpoint and --json are added).
const ROWS = [
  ['put, 1 client', ['--conns', '1', '--clients', '1', 'put']],
  ['put, 64 clients / 8 conns', ['--conns', '8', '--clients', '64', 'put']],
  ['range l, 1 client', ['--conns', '1', '--clients', '1', 'range', RANGE_KEY, '--consistency', 'l']],
  [
    'range l, 64 clients / 8 conns',
    ['--conns', '8', '--clients', '64', 'range', RANGE_KEY, '--consistency', 'l'],
  ],
  [
    'range s, 64 clients / 8 conns',
    ['--conns', '8', '--clients', '64', 'range', RANGE_KEY, '--consistency', 's'],
  ],
];
const PUT_FLAGS = [
  '--key-size',
  '8',
  '--val-size',
  String(VAL_SIZE),
  '--key-space-size',
  '10000',
  '--sequential-keys',
];

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The first executable `etcd` on the PATH (Debian's etcd-server installs /usr/bin/etcd). */
function whichEtcd() {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir || '.', 'etcd');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not in this PATH entry
    }
  }
  return undefined;
}

async function call(client, method, request) {
  return new Promise((resolve, reject) =>
    client[method](request, { deadline: new Date(Date.now() + 2000) }, (e, r) =>
      e ? reject(e) : resolve(r),
    ),
  );
}

/** Waits (bounded) until the server answers, then writes the key the range rows read. */
async function prepare(ep) {
  const c = new KVClient(ep, credentials.createInsecure());
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await call(c, 'range', rangeRequest({ key: Buffer.from('x') }));
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`${ep} not ready: ${err.message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await call(c, 'put', putRequest({ key: Buffer.from(RANGE_KEY), value: Buffer.alloc(VAL_SIZE, 0x61) }));
  } finally {
    c.close();
  }
}

/**
 * Starts a `size`-member cluster of `kind` (same flags for both: etcd's names) on free 127.0.0.1 ports,
 * each member in its own temp data dir; resolves once it answers, with the client endpoints.
 */
async function startCluster(kind, etcdBin, size) {
  const members = [];
  for (let i = 1; i <= size; i++) {
    members.push({
      name: `m${i}`,
      dir: mkdtempSync(join(tmpdir(), `bench-${kind}-`)),
      client: `127.0.0.1:${await freePort()}`,
      peer: `http://127.0.0.1:${await freePort()}`,
    });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peer}`).join(',');
  const children = members.map((m) => {
    const args = [
      '--name',
      m.name,
      '--data-dir',
      m.dir,
      '--listen-client-urls',
      `http://${m.client}`,
      '--advertise-client-urls',
      `http://${m.client}`,
      '--listen-peer-urls',
      m.peer,
      '--initial-advertise-peer-urls',
      m.peer,
      '--initial-cluster',
      initialCluster,
      '--initial-cluster-token',
      `bench-${kind}`,
      '--log-level',
      'warn',
    ];
    if (kind === 'cairn') args.push('--listen-metrics-urls', '');
    const [bin, argv] = kind === 'cairn' ? [process.execPath, [CAIRN_JS, ...args]] : [etcdBin, args];
    const child = spawn(bin, argv, { stdio: 'ignore' });
    return { child, exited: new Promise((r) => child.once('exit', r)) };
  });
  const stop = async () => {
    for (const { child } of children) {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGTERM');
    }
    for (const { child, exited } of children) {
      const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    for (const m of members) rmSync(m.dir, { recursive: true, force: true });
  };
  const eps = members.map((m) => m.client);
  try {
    for (const ep of eps) await prepare(ep);
  } catch (err) {
    await stop();
    throw err;
  }
  return { ep: eps.join(','), stop };
}

async function bench(ep, args) {
  const extra = args.includes('put') ? PUT_FLAGS : [];
  const argv = [BENCH_JS, '--endpoints', ep, ...args, ...extra, '--total', String(TOTAL), '--json'];
  try {
    const { stdout } = await promisify(execFile)(process.execPath, argv, { timeout: 600_000 });
    return JSON.parse(stdout);
  } catch (err) {
    // cairn-bench exits 1 when some requests failed; its JSON still says how many.
    if (typeof err.stdout === 'string' && err.stdout.startsWith('{')) return JSON.parse(err.stdout);
    throw err;
  }
}

const etcdBin = whichEtcd();
const kinds = ['cairn', ...(etcdBin ? ['etcd'] : [])];
const results = new Map();
for (const kind of kinds) {
  const srv = await startCluster(kind, etcdBin, SIZE);
  try {
    for (const [name, args] of ROWS) {
      results.set(`${kind} ${name}`, await bench(srv.ep, args));
      process.stderr.write('.');
    }
  } finally {
    await srv.stop();
  }
}
process.stderr.write('\n');

const cell = (r) =>
  r === undefined
    ? 'n/a'.padStart(30)
    : `${r.qps.toFixed(0).padStart(8)} ${r.p50Ms.toFixed(2).padStart(7)} ${r.p99Ms.toFixed(2).padStart(7)} ${String(r.errors).padStart(5)}`;
console.log(
  `cairn-bench, ${SIZE}-member clusters, ${TOTAL} requests per row over every member's endpoint, ` +
    `8-byte keys, ${VAL_SIZE}-byte values; p50/p99 in ms`,
);
console.log(`${''.padEnd(30)}  ${'cairn'.padEnd(30)}  etcd`);
console.log(
  `${'workload'.padEnd(30)}  ${'     qps     p50     p99   err'}  ${'     qps     p50     p99   err'}`,
);
for (const [name] of ROWS) {
  console.log(
    `${name.padEnd(30)}  ${cell(results.get(`cairn ${name}`))}  ${cell(results.get(`etcd ${name}`))}`,
  );
}
