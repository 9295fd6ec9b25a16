// Micro-benchmark of the Raft core alone: proposals per second through three in-memory members, with no
// I/O at all — MemoryStorage, messages delivered synchronously from one FIFO queue, the Ready loop run
// to a fixed point after every batch. It measures the core's own CPU cost (log, progress tracking,
// message building, Ready assembly); a real server adds fsync, network and apply on top.
//
//   npm run bench:raft [-- --ms 1000]
//
// For each payload size and batch size N: the leader gets N proposals, then the cluster runs until the
// leader has applied all of them; repeated for about --ms milliseconds after a warm-up. Reported:
// proposals/s (committed and applied at the leader), entries/s (appended to storage, all 3 members) and
// payload MB/s. Every member compacts its log every 10 000 entries so the log stays short.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const raftDir = path.join(repoRoot, 'dist', 'server', 'src', 'raft');

let runMs = 1000;
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--ms' && process.argv[i + 1] !== undefined) runMs = Number(process.argv[++i]);
  else {
    console.error('usage: node hack/bench-raft.mjs [--ms MILLISECONDS]');
    process.exit(2);
  }
}
if (!fs.existsSync(path.join(raftDir, 'raw-node.js'))) {
  console.error('bench-raft: dist/server/src/raft/raw-node.js not found; run `npm run build` first');
  process.exit(1);
}
const load = (f) => import(pathToFileURL(path.join(raftDir, f)).href);
const { RawNode } = await load('raw-node.js');
const { MemoryStorage } = await load('memory-storage.js');
const { Prng } = await load('rng.js');
const { StateType } = await load('ready.js');

const COMPACT_EVERY_ENTRIES = 10_000;
const LOOP_ROUNDS_MAX = 1_000_000;

function newCluster() {
  const ids = [1n, 2n, 3n];
  const confState = { voters: ids, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  const rng = new Prng(42);
  const members = new Map();
  for (const id of ids) {
    const storage = new MemoryStorage();
    storage.applySnapshot({ data: new Uint8Array(), metadata: { index: 1, term: 1, confState } });
    const node = new RawNode({
      id,
      electionTicks: 10,
      heartbeatTicks: 1,
      storage,
      applied: 1,
      maxSizePerMsgBytes: 1024 * 1024,
      maxInflightMsgs: 256,
      checkQuorum: true,
      preVote: true,
      rng: rng.fork(),
    });
    members.set(id, { id, node, storage, applied: 1, snapIndex: 1 });
  }
  return { members, queue: [], entriesPersisted: 0, appliedAtLeader: 0 };
}

/** Runs every member's Ready loop and delivers messages until nothing is left to do. */
function stabilize(c, leaderId) {
  for (let round = 0; round < LOOP_ROUNDS_MAX; round++) {
    let busy = false;
    for (const m of c.members.values()) {
      if (!m.node.hasReady()) continue;
      busy = true;
      const rd = m.node.ready();
      if (rd.snapshot !== undefined && rd.snapshot.metadata.index > 0) m.storage.applySnapshot(rd.snapshot);
      if (rd.entries.length > 0) {
        m.storage.append(rd.entries);
        c.entriesPersisted += rd.entries.length;
      }
      if (rd.hardState !== undefined) m.storage.setHardState(rd.hardState);
      for (const msg of rd.messages) c.queue.push(msg);
      for (const e of rd.committedEntries) {
        m.applied = e.index;
        if (m.id === leaderId && e.data.length > 0) c.appliedAtLeader++;
      }
      m.node.advance();
      if (m.applied - m.snapIndex >= COMPACT_EVERY_ENTRIES) {
        m.storage.createSnapshot(m.applied, undefined, new Uint8Array());
        m.storage.compact(m.applied - 100);
        m.snapIndex = m.applied;
      }
    }
    const batch = c.queue;
    c.queue = [];
    for (const msg of batch) {
      busy = true;
      c.members.get(msg.to).node.step(msg);
    }
    if (!busy) return;
  }
  throw new Error('bench-raft: the cluster did not stabilize');
}

function elect(c) {
  const n1 = c.members.get(1n);
  n1.node.campaign();
  stabilize(c, 1n);
  if (n1.node.status().softState.raftState !== StateType.StateLeader) throw new Error('n1 did not win');
}

function measure(batch, payloadBytes) {
  const c = newCluster();
  elect(c);
  const leader = c.members.get(1n).node;
  const data = new Uint8Array(payloadBytes).fill(0x61);
  const round = () => {
    for (let i = 0; i < batch; i++) leader.propose(data);
    stabilize(c, 1n);
  };
  const warmUntil = performance.now() + Math.min(200, runMs / 4);
  while (performance.now() < warmUntil) round();
  const applied0 = c.appliedAtLeader;
  const persisted0 = c.entriesPersisted;
  const t0 = performance.now();
  let rounds = 0;
  while (performance.now() - t0 < runMs) {
    round();
    rounds++;
  }
  const secs = (performance.now() - t0) / 1000;
  const proposals = c.appliedAtLeader - applied0;
  if (proposals !== rounds * batch) throw new Error(`applied ${proposals}, proposed ${rounds * batch}`);
  return {
    proposalsPerSec: proposals / secs,
    entriesPerSec: (c.entriesPersisted - persisted0) / secs,
    mbPerSec: (proposals * payloadBytes) / secs / 1e6,
  };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US').padStart(12);
console.log(
  `raft core: 3 in-memory members, synchronous delivery, ~${runMs} ms per cell (node ${process.version})`,
);
console.log('payload   batch   proposals/s    entries/s   payload MB/s');
for (const payloadBytes of [16, 1024]) {
  for (const batch of [1, 10, 100, 1000]) {
    const r = measure(batch, payloadBytes);
    console.log(
      `${String(payloadBytes).padStart(6)} B ${String(batch).padStart(6)} ${fmt(r.proposalsPerSec)} ${fmt(r.entriesPerSec)} ` +
        `${r.mbPerSec.toFixed(1).padStart(13)}`,
    );
  }
}
