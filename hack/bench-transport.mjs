// Throughput of the peer transport alone: two members in one process on 127.0.0.1, one sending MsgApp
// messages (one entry of the given payload size) to the other over the real HTTP/2 stream, the receiver
// only counting them. Reported per payload size: messages/s, payload MB/s and wire MB/s (frames as
// sent, headers included), plus writes per 1000 messages (batching).
//
//   npm run build && node hack/bench-transport.mjs [--ms 2000]
//
// The sender keeps at most sendQueueMessagesMax messages outstanding (sent − received), topping up
// once per event-loop turn, so nothing is dropped and the figure is the stream's sustained rate.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(repoRoot, 'dist', 'server', 'src');

let runMs = 2000;
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--ms' && process.argv[i + 1] !== undefined) runMs = Number(process.argv[++i]);
  else {
    console.error('usage: node hack/bench-transport.mjs [--ms MILLISECONDS]');
    process.exit(2);
  }
}
if (!fs.existsSync(path.join(dist, 'transport', 'transport.js'))) {
  console.error(
    'bench-transport: dist/server/src/transport/transport.js not found; run `npm run build` first',
  );
  process.exit(1);
}
const load = (f) => import(pathToFileURL(path.join(dist, f)).href);
const { Transport } = await load('transport/transport.js');
const { listenPeerServer } = await load('transport/peer-server.js');
const { MessageType, newMessage } = await load('raftpb/types.js');
const { newLogger } = await load('util/logger.js');
const { Registry } = await import('prom-client');

const QUEUE_MAX = 4096;
const TOP_UP_ROUNDS_MAX = 10_000_000;

async function member(id, onMessage) {
  const snapshotDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-transport-'));
  const transport = new Transport({
    clusterId: 0xc1n,
    memberId: id,
    raft: {
      process: onMessage,
      onSnapshot: () => Promise.resolve(),
      reportUnreachable: () => {},
      reportSnapshot: () => {},
      isRemoved: () => false,
    },
    snapshotDir,
    registry: new Registry(),
    logger: newLogger('error', true),
    limits: { sendQueueMessagesMax: QUEUE_MAX },
  });
  const server = await listenPeerServer(transport);
  return { id, transport, server, snapshotDir };
}

async function run(payloadBytes) {
  let received = 0;
  const a = await member(1n, () => {});
  const b = await member(2n, () => received++);
  a.transport.addPeer(2n, [b.server.url]);
  b.transport.addPeer(1n, [a.server.url]);
  a.transport.start();
  b.transport.start();
  while (a.transport.activeSince(2n) === undefined) await new Promise((r) => setTimeout(r, 5));

  const data = new Uint8Array(payloadBytes).fill(0x61);
  const msg = (i) =>
    newMessage({
      type: MessageType.MsgApp,
      from: 1n,
      to: 2n,
      term: 1,
      index: i,
      commit: i,
      entries: [{ term: 1, index: i + 1, type: 0, data }],
    });
  let sent = 0;
  const measure = async (ms) => {
    const end = performance.now() + ms;
    for (let round = 0; round < TOP_UP_ROUNDS_MAX && performance.now() < end; round++) {
      const room = QUEUE_MAX - (sent - received);
      if (room > 0) {
        const batch = [];
        for (let i = 0; i < room; i++) batch.push(msg(sent + i));
        a.transport.send(batch);
        sent += room;
      }
      await new Promise((r) => setImmediate(r));
    }
    while (received < sent) await new Promise((r) => setImmediate(r));
  };
  await measure(Math.min(300, runMs / 4)); // warm-up
  const s0 = { ...a.transport.peerStats(2n) };
  const r0 = received;
  const t0 = performance.now();
  await measure(runMs);
  const secs = (performance.now() - t0) / 1000;
  const s1 = a.transport.peerStats(2n);
  const n = received - r0;
  const dropped = s1.droppedMessages - s0.droppedMessages;
  const result = {
    payloadBytes,
    msgsPerSec: n / secs,
    payloadMBps: (n * payloadBytes) / secs / 1e6,
    wireMBps: (s1.bytesSent - s0.bytesSent) / secs / 1e6,
    writesPer1000: ((s1.writes - s0.writes) / n) * 1000,
    dropped,
  };
  await Promise.all([a.transport.stop(), b.transport.stop()]);
  await Promise.all([a.server.close(), b.server.close()]);
  for (const m of [a, b]) fs.rmSync(m.snapshotDir, { recursive: true, force: true });
  return result;
}

console.log(
  `bench-transport: 2 members, 1 → 2 over h2c on 127.0.0.1, ${runMs} ms per size, node ${process.version}`,
);
for (const size of [100, 4096]) {
  const r = await run(size);
  console.log(
    `payload ${String(r.payloadBytes).padStart(5)} B: ${Math.round(r.msgsPerSec).toLocaleString('en-US').padStart(9)} msg/s  ` +
      `${r.payloadMBps.toFixed(1).padStart(7)} MB/s payload  ${r.wireMBps.toFixed(1).padStart(7)} MB/s wire  ` +
      `${r.writesPer1000.toFixed(1)} writes/1000 msgs  dropped ${r.dropped}`,
  );
}
