/**
 * Three RaftNodes in one process, each with its own WAL, snapshot dir and peer transport on
 * 127.0.0.1: they elect a leader, replicate proposals made at any member in one order, and a member
 * restarted from its WAL re-applies exactly what it had committed and catches up.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { RaftNode } from '../../../server/src/etcdserver/raft-node.js';
import { openRaftStorage } from '../../../server/src/etcdserver/raft-storage.js';
import { StateType } from '../../../server/src/raft/ready.js';
import { Prng } from '../../../server/src/raft/rng.js';
import type { Message } from '../../../server/src/raftpb/types.js';
import { emptyConfState, EntryType } from '../../../server/src/raftpb/types.js';
import { listenPeerServer, type PeerServer } from '../../../server/src/transport/peer-server.js';
import { Transport } from '../../../server/src/transport/transport.js';
import { newLogger } from '../../../server/src/util/logger.js';
import { waitFor } from '../../framework/wait.js';
import type { Wal } from '../../../server/src/wal/wal.js';

const logger = newLogger('error', true);
const root = mkdtempSync(join(tmpdir(), 'cairn-raftnode-'));
after(() => rmSync(root, { recursive: true, force: true }));

const IDS = [1n, 2n, 3n];
const CLUSTER_ID = 0xc1n;
const INITIAL_CONF = { ...emptyConfState(), voters: IDS };

class Member {
  node!: RaftNode;
  transport!: Transport;
  server!: PeerServer;
  wal!: Wal;
  /** The application's state: the data of every applied normal entry, in order. */
  applied: string[] = [];
  lead = 0n;
  fatal: Error | undefined;
  readonly dir: string;

  constructor(readonly id: bigint) {
    this.dir = join(root, `m${id}`);
  }

  async open(port: number): Promise<void> {
    const rs = await openRaftStorage({
      walDir: join(this.dir, 'wal'),
      snapDir: join(this.dir, 'snap'),
      bootstrap: { metadata: new TextEncoder().encode(`member ${this.id}`), confState: INITIAL_CONF },
      logger,
    });
    this.wal = rs.wal;
    // The snapshot holds no application data here: the state restarts empty at its index.
    this.applied = [];
    this.transport = new Transport({
      clusterId: CLUSTER_ID,
      memberId: this.id,
      snapshotDir: join(this.dir, 'incoming'),
      registry: new Registry(),
      logger,
      raft: {
        process: (m: Message) => this.node.step(m),
        onSnapshot: (m, payload) => {
          if (m.snapshot !== undefined) m.snapshot.data = readFileSync(payload.path);
          this.node.step(m);
          return Promise.resolve();
        },
        reportUnreachable: (id) => this.node.reportUnreachable(id),
        reportSnapshot: (id, ok) => this.node.reportSnapshot(id, ok),
        isRemoved: () => false,
      },
    });
    this.node = new RaftNode({
      id: this.id,
      raft: {
        electionTicks: 10,
        heartbeatTicks: 1,
        maxSizePerMsgBytes: 1024 * 1024,
        maxInflightMsgs: 256,
        checkQuorum: true,
        preVote: true,
      },
      tickMs: 10,
      storage: rs.storage,
      applied: rs.snapshot.metadata.index,
      wal: rs.wal,
      snapshotter: rs.snapshotter,
      send: (msgs) => this.transport.send(msgs),
      rng: new Prng(Number(this.id)),
      logger,
      app: {
        apply: ({ entries }) => {
          for (const e of entries) {
            if (e.type === EntryType.EntryNormal && e.data.length > 0) {
              this.applied.push(new TextDecoder().decode(e.data));
            }
          }
          return Promise.resolve();
        },
        onSoftState: (ss) => {
          this.lead = ss.raftState === StateType.StateLeader || ss.lead !== 0n ? ss.lead : 0n;
        },
        onFatal: (err) => {
          this.fatal = err;
        },
      },
    });
    this.server = await listenPeerServer(this.transport, { port });
  }

  start(peers: Member[]): void {
    this.transport.start();
    for (const p of peers) if (p.id !== this.id) this.transport.addPeer(p.id, [p.server.url]);
    this.node.start();
  }

  async close(): Promise<void> {
    await this.node.stop();
    await this.transport.stop();
    await this.server.close();
    await this.wal.close();
  }
}

function leaderOf(members: Member[]): Member | undefined {
  return members.find((m) => m.node.status().softState.raftState === StateType.StateLeader);
}

/** Proposes at `m`, retrying while there is no leader to take it (bounded). */
async function propose(m: Member, data: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      m.node.propose(new TextEncoder().encode(data));
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error(`proposal ${data} never accepted`);
}

describe('RaftNode over WAL and peer transport', () => {
  const members = IDS.map((id) => new Member(id));
  const ports = new Map<bigint, number>();

  after(async () => {
    for (const m of members) await m.close().catch(() => undefined);
  });

  it('elects one leader and applies proposals from every member in the same order', async () => {
    for (const m of members) await m.open(0);
    for (const m of members) ports.set(m.id, Number(new URL(m.server.url).port));
    for (const m of members) m.start(members);
    await waitFor('a leader', () => leaderOf(members) !== undefined);
    const proposals: string[] = [];
    for (let i = 0; i < 60; i++) {
      const data = `p${i}`;
      proposals.push(data);
      await propose(members[i % 3] as Member, data);
    }
    await waitFor('every member to apply every proposal', () =>
      members.every((m) => m.applied.length === proposals.length),
    );
    const first = members[0]?.applied;
    for (const m of members) assert.deepEqual(m.applied, first);
    assert.deepEqual([...(first ?? [])].sort(), [...proposals].sort());
    assert.equal(
      members.filter((m) => m.node.status().softState.raftState === StateType.StateLeader).length,
      1,
    );
    assert.ok(members.every((m) => m.fatal === undefined));
  });

  it('a follower restarted from its WAL re-applies its committed log and catches up', async () => {
    const leader = leaderOf(members);
    assert.ok(leader !== undefined);
    const follower = members.find((m) => m !== leader);
    assert.ok(follower !== undefined);
    const before = [...follower.applied];
    const hardStateBefore = follower.node.status().hardState;
    await follower.close();
    // Writes go on while it is down.
    for (let i = 0; i < 20; i++) await propose(leader, `q${i}`);
    await follower.open(ports.get(follower.id) ?? 0);
    // Before any peer has spoken to it, its state comes from the WAL alone.
    assert.deepEqual(follower.node.status().hardState, hardStateBefore);
    follower.start(members);
    await waitFor('the restarted follower to catch up', () => follower.applied.length === before.length + 20);
    assert.deepEqual(follower.applied.slice(0, before.length), before);
    assert.deepEqual(follower.applied, leader.applied);
    // It kept its term and vote through the restart (from the WAL's hard state) and follows the leader.
    assert.equal(follower.node.status().hardState.term, leader.node.status().hardState.term);
    assert.equal(follower.node.status().softState.lead, leader.id);
    assert.ok(members.every((m) => m.fatal === undefined));
  });
});
