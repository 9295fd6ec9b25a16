// Micro-benchmark of protobuf encode/decode: ts-proto generated code (what Cairn uses) against
// protobufjs loading the same .proto files at runtime, as @grpc/proto-loader does.
//
//   npm run build && node hack/bench-codec.mjs [--ms 1000]
//
// Codecs:
//   ts-proto      X.encode(msg).finish() / X.decode(buf) from dist/server/src/proto/gen
//                 (this is what the generated grpc-js service definitions call per message)
//   ts-proto+w    encode only: X.encode(msg, writer).finish() reusing one BinaryWriter, whose
//                 buffer then no longer has to grow from empty on every call
//   protobufjs    Type.encode(message).finish() / Type.decode(buf) on protobufjs message instances
//   proto-loader  what @grpc/proto-loader's serialize/deserialize do: Type.encode(Type.fromObject(obj))
//                 and Type.toObject(Type.decode(buf), { longs: String, enums: String, defaults: true, oneofs: true })
//
// Each cell runs for about --ms milliseconds (default 1000) after a short warm-up.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import protobuf from 'protobufjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const protoRoot = path.join(repoRoot, 'server', 'src', 'proto');
const genDir = path.join(repoRoot, 'dist', 'server', 'src', 'proto', 'gen');

let runMs = 1000;
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--ms' && process.argv[i + 1] !== undefined) runMs = Number(process.argv[++i]);
  else {
    console.error('usage: node hack/bench-codec.mjs [--ms MILLISECONDS]');
    process.exit(2);
  }
}

const rpcJs = path.join(genDir, 'etcdserverpb', 'rpc.js');
if (!fs.existsSync(rpcJs)) {
  console.error(`bench-codec: ${path.relative(repoRoot, rpcJs)} not found; run \`npm run build\` first`);
  process.exit(1);
}
const gen = await import(pathToFileURL(rpcJs).href);

// protobufjs, configured like @grpc/proto-loader (keepCase, includeDirs = server/src/proto).
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(protoRoot, target));
root.loadSync(['etcdserverpb/rpc.proto'], { keepCase: true });
root.resolveAll();
const loaderToObject = { longs: String, enums: String, defaults: true, oneofs: true };

// --- fixtures ---------------------------------------------------------------------------------

const bytes = (n, seed) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
const header = {
  clusterId: 0x1234567890abcdefn,
  memberId: 0xfedcba0987654321n,
  revision: 123456n,
  raftTerm: 7n,
};
const headerObj = {
  cluster_id: String(header.clusterId),
  member_id: String(header.memberId),
  revision: String(header.revision),
  raft_term: String(header.raftTerm),
};

const putKey = bytes(16, 1);
const putValue = bytes(256, 2);
const putTs = {
  key: putKey,
  value: putValue,
  lease: 7587000000000000001n,
  prevKv: false,
  ignoreValue: false,
  ignoreLease: false,
};
const putObj = { key: putKey, value: putValue, lease: String(putTs.lease) };

const kvsTs = [];
const kvsObj = [];
for (let i = 0; i < 100; i++) {
  const key = Buffer.from(`/registry/pods/default/pod-${String(i).padStart(4, '0')}`);
  const value = bytes(256, i);
  const rev = BigInt(100000 + i);
  kvsTs.push({ key, createRevision: rev - 50n, modRevision: rev, version: 3n, value, lease: 0n });
  kvsObj.push({ key, create_revision: String(rev - 50n), mod_revision: String(rev), version: '3', value });
}
const rangeTs = { header, kvs: kvsTs, more: false, count: 100n };
const rangeObj = { header: headerObj, kvs: kvsObj, count: '100' };

const txnKey = bytes(16, 3);
const txnTs = {
  compare: [
    {
      result: gen.Compare_CompareResult.EQUAL,
      target: gen.Compare_CompareTarget.MOD,
      key: txnKey,
      targetUnion: { $case: 'modRevision', value: 123456n },
      rangeEnd: Buffer.alloc(0),
    },
  ],
  success: [
    {
      request: {
        $case: 'requestPut',
        value: {
          key: txnKey,
          value: bytes(256, 4),
          lease: 0n,
          prevKv: false,
          ignoreValue: false,
          ignoreLease: false,
        },
      },
    },
  ],
  failure: [],
};
const txnObj = {
  compare: [{ result: 'EQUAL', target: 'MOD', key: txnKey, mod_revision: '123456' }],
  success: [{ request_put: { key: txnKey, value: bytes(256, 4) } }],
};

const cases = [
  { name: 'PutRequest (16 B key, 256 B value)', type: 'PutRequest', ts: putTs, obj: putObj },
  { name: 'RangeResponse (header + 100 kvs)', type: 'RangeResponse', ts: rangeTs, obj: rangeObj },
  { name: 'TxnRequest (1 compare, 1 put)', type: 'TxnRequest', ts: txnTs, obj: txnObj },
];

// --- harness ----------------------------------------------------------------------------------

let sink = 0;
function measure(fn) {
  // Warm-up, then find a batch size of roughly 10 ms.
  let batch = 1;
  const warmEnd = performance.now() + Math.min(200, runMs / 5);
  while (performance.now() < warmEnd) {
    for (let i = 0; i < batch; i++) sink ^= fn() ? 1 : 0;
    batch = Math.min(batch * 2, 1 << 20);
  }
  const t0 = process.hrtime.bigint();
  let calib = 0;
  while (Number(process.hrtime.bigint() - t0) < 10e6) {
    sink ^= fn() ? 1 : 0;
    calib++;
  }
  batch = Math.max(1, calib);
  let ops = 0;
  const start = process.hrtime.bigint();
  const budget = runMs * 1e6;
  let elapsed = 0;
  while (elapsed < budget) {
    for (let i = 0; i < batch; i++) sink ^= fn() ? 1 : 0;
    ops += batch;
    elapsed = Number(process.hrtime.bigint() - start);
  }
  return { opsPerSec: (ops * 1e9) / elapsed, nsPerOp: elapsed / ops };
}

const rows = [];
for (const c of cases) {
  const T = root.lookupType(`etcdserverpb.${c.type}`);
  const G = gen[c.type];
  const pbMsg = T.fromObject(c.obj);
  const writer = new BinaryWriter();

  const tsBuf = G.encode(c.ts).finish();
  const pbBuf = T.encode(pbMsg).finish();
  if (!Buffer.from(tsBuf).equals(Buffer.from(pbBuf))) {
    throw new Error(`${c.type}: ts-proto and protobufjs encodings differ (fixture mismatch)`);
  }

  const codecs = [
    ['ts-proto', () => G.encode(c.ts).finish().length, () => G.decode(tsBuf) !== undefined],
    ['ts-proto+w', () => G.encode(c.ts, writer).finish().length, null],
    ['protobufjs', () => T.encode(pbMsg).finish().length, () => T.decode(pbBuf) !== undefined],
    [
      'proto-loader',
      () => T.encode(T.fromObject(c.obj)).finish().length,
      () => T.toObject(T.decode(pbBuf), loaderToObject) !== undefined,
    ],
  ];
  for (const [codec, enc, dec] of codecs) {
    const e = measure(enc);
    const d = dec ? measure(dec) : null;
    rows.push({ message: c.name, size: tsBuf.length, codec, e, d });
  }
}

// --- report -----------------------------------------------------------------------------------

const fmtOps = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`);
const fmtNs = (x) => (x >= 1e4 ? `${(x / 1e3).toFixed(1)} µs` : `${x.toFixed(0)} ns`);
const table = [['message', 'bytes', 'codec', 'encode ops/s', 'encode/op', 'decode ops/s', 'decode/op']];
for (const r of rows) {
  table.push([
    r.message,
    String(r.size),
    r.codec,
    fmtOps(r.e.opsPerSec),
    fmtNs(r.e.nsPerOp),
    r.d ? fmtOps(r.d.opsPerSec) : '-',
    r.d ? fmtNs(r.d.nsPerOp) : '-',
  ]);
}
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
const line = (row) =>
  row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
console.log(`node ${process.version}, ${runMs} ms per cell`);
console.log(line(table[0]));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of table.slice(1)) console.log(line(row));
if (sink === 42) console.log(''); // keep results observable
