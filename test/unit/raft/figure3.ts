import assert from 'node:assert/strict';
import type { RaftConfig } from '../../../server/src/raft/config.js';
import { isRaftError } from '../../../server/src/raft/errors.js';
import type { MemoryStorage } from '../../../server/src/raft/memory-storage.js';
import { RawNode } from '../../../server/src/raft/raw-node.js';
import { StateType } from '../../../server/src/raft/ready.js';
import { Prng } from '../../../server/src/raft/rng.js';
import { MessageType, type Entry, type Message } from '../../../server/src/raftpb/types.js';
import { bytes, ids, storageWithPeers, testConfig, type TestRaftOptions } from './test-raft.js';

/**
 * A seeded run of a Raft group under faults that checks the guarantees of the Raft paper's figure 3
 * after every step (etcd-io/raft's core driven through RawNode, the way the server drives it):
 *
 * - Election Safety: at most one leader per term.
 * - Leader Completeness: a leader of a later term holds every committed entry.
 * - State Machine Safety: no two members apply different entries at an index; each applies in order,
 *   without gaps (a snapshot counts as applying everything up to its index).
 * - Log Matching (at the end): two logs with an entry of the same index and term agree up to it.
 *
 * Faults: message loss (a lost snapshot is reported as failed), duplication and reordering, random
 * timeouts, crash-restarts from storage, log compaction (so lagging members get snapshots), leadership
 * transfers, and messages arriving between ready() and advance(). Afterwards the network heals and the group must
 * converge (liveness).
 */

/** What an applied entry leaves in the state machine. */
interface Applied {
  index: number;
  term: number;
  data: string;
}

interface Member {
  id: bigint;
  node: RawNode;
  storage: MemoryStorage;
  config: RaftConfig;
  /** The state machine: every entry applied, in order (from a snapshot or one by one). */
  history: Applied[];
  appliedIndex: number;
}

export interface Figure3Options {
  seed: number;
  steps: number;
  size?: number;
  raft?: TestRaftOptions;
}

export interface Figure3Stats {
  leaders: number;
  committed: number;
  snapshotsInstalled: number;
}

const decoder = new TextDecoder();

export function runFigure3(o: Figure3Options): Figure3Stats {
  const rng = new Prng(o.seed);
  const size = o.size ?? 5;
  const what = (msg: string): string => `seed ${o.seed}: ${msg}`;
  const members: Member[] = ids(size).map((id) => {
    const storage = storageWithPeers(ids(size));
    const config = testConfig(id, storage, { ...o.raft, seed: o.seed * 8 + Number(id) });
    return { id, node: new RawNode(config), storage, config, history: [], appliedIndex: 0 };
  });
  const member = (id: bigint): Member => members[Number(id) - 1] as Member;
  let pool: Message[] = [];
  const leaderOfTerm = new Map<number, bigint>();
  /** index → the entry committed there, and a term by which it was known to be committed. */
  const committed = new Map<number, Applied & { knownAtTerm: number }>();
  let snapshotsInstalled = 0;
  let proposals = 0;

  const learnCommitted = (m: Member, e: Applied): void => {
    const known = committed.get(e.index);
    if (known === undefined) {
      committed.set(e.index, { ...e, knownAtTerm: m.node.raft.term });
      return;
    }
    assert.deepEqual(
      [e.term, e.data],
      [known.term, known.data],
      what(`member ${m.id} applied another entry at ${e.index}`),
    );
  };

  const deliver = (msg: Message): void => {
    const to = member(msg.to);
    try {
      to.node.step(structuredClone(msg));
    } catch (e) {
      // A forwarded proposal its recipient cannot take is lost like any message.
      if (!isRaftError(e, 'ErrProposalDropped')) throw e;
    }
    // The transport reports a delivered snapshot, as etcd's does once the stream is done.
    if (msg.type === MessageType.MsgSnap) member(msg.from).node.reportSnapshot(msg.to, true);
  };

  const deliverRandom = (onlyTo?: bigint): void => {
    const candidates = onlyTo === undefined ? pool : pool.filter((m) => m.to === onlyTo);
    if (candidates.length === 0) return;
    const msg = candidates[rng.intn(candidates.length)] as Message;
    const roll = rng.intn(100);
    // 10% lost, 5% duplicated (delivered and kept), otherwise delivered once; order is random.
    if (roll >= 5) pool.splice(pool.indexOf(msg), 1);
    if (roll >= 5 && roll < 15) {
      if (msg.type === MessageType.MsgSnap) member(msg.from).node.reportSnapshot(msg.to, false);
      return;
    }
    deliver(msg);
  };

  const handleReady = (m: Member): void => {
    const rd = m.node.ready();
    // Inputs may arrive while the application works on a Ready.
    if (rng.intn(100) < 20) for (let k = rng.intn(3); k >= 0; k--) deliverRandom(m.id);
    if (rd.snapshot !== undefined) {
      m.storage.applySnapshot(rd.snapshot);
      const history = JSON.parse(decoder.decode(rd.snapshot.data)) as Applied[];
      const index = rd.snapshot.metadata.index;
      assert.ok(
        index > m.appliedIndex,
        what(`member ${m.id} got snapshot ${index} at applied ${m.appliedIndex}`),
      );
      assert.equal(history[history.length - 1]?.index, index, what('snapshot history ends at its index'));
      for (const e of history) learnCommitted(m, e);
      m.history = history;
      m.appliedIndex = index;
      snapshotsInstalled++;
    }
    m.storage.append(rd.entries);
    if (rd.hardState !== undefined) m.storage.setHardState(rd.hardState);
    pool.push(...rd.messages);
    for (const e of rd.committedEntries) {
      assert.equal(
        e.index,
        m.appliedIndex + 1,
        what(`member ${m.id} applied ${e.index} after ${m.appliedIndex}`),
      );
      const applied = { index: e.index, term: e.term, data: decoder.decode(e.data) };
      learnCommitted(m, applied);
      m.history.push(applied);
      m.appliedIndex = e.index;
    }
    m.node.advance();
  };

  const handleAll = (): void => {
    for (const m of members) {
      for (let k = 0; k < 3 && m.node.hasReady(); k++) handleReady(m);
    }
  };

  const check = (): void => {
    for (const m of members) {
      const r = m.node.raft;
      if (r.state !== StateType.StateLeader) continue;
      const prev = leaderOfTerm.get(r.term);
      assert.ok(
        prev === undefined || prev === r.id,
        what(`two leaders in term ${r.term}: ${prev} and ${r.id}`),
      );
      leaderOfTerm.set(r.term, r.id);
      const first = r.raftLog.firstIndex();
      for (const [index, e] of committed) {
        if (r.term <= e.knownAtTerm || index < first - 1) continue;
        assert.equal(
          r.raftLog.term(index),
          e.term,
          what(`leader ${r.id} of term ${r.term} lacks committed entry ${index}`),
        );
      }
    }
  };

  /** The application takes a snapshot at its applied index and trims the log behind it. */
  const compact = (m: Member): void => {
    const snapIndex = m.storage.snapshot().metadata.index;
    if (m.appliedIndex <= snapIndex) return;
    m.storage.createSnapshot(m.appliedIndex, undefined, bytes(JSON.stringify(m.history)));
    const keep = rng.intn(3);
    const upTo = m.appliedIndex - keep;
    if (upTo >= m.storage.firstIndex()) m.storage.compact(upTo);
  };

  const restart = (m: Member): void => {
    m.config = { ...m.config, applied: m.appliedIndex };
    m.node = new RawNode(m.config);
  };

  for (let step = 0; step < o.steps; step++) {
    const action = rng.intn(100);
    if (action < 15) {
      for (const m of members) m.node.tick();
    } else if (action < 25) {
      try {
        member(BigInt(1 + rng.intn(size))).node.propose(bytes(`p${proposals++}`));
      } catch (e) {
        if (!isRaftError(e, 'ErrProposalDropped')) throw e;
      }
    } else if (action < 27) {
      restart(member(BigInt(1 + rng.intn(size))));
    } else if (action < 30) {
      compact(member(BigInt(1 + rng.intn(size))));
    } else if (action < 31) {
      // A leadership transfer asked of a random member (a follower forwards it to its leader).
      member(BigInt(1 + rng.intn(size))).node.transferLeader(BigInt(1 + rng.intn(size)));
    } else {
      for (let k = 1 + rng.intn(8); k > 0; k--) deliverRandom();
    }
    handleAll();
    check();
    // Messages nobody delivers pile up: forget the oldest, as a transport's buffers would.
    if (pool.length > 500) pool = pool.slice(-250);
  }

  // Log Matching.
  const logs = members.map(
    (m) => new Map(m.node.raft.raftLog.allEntries().map((e): [number, Entry] => [e.index, e])),
  );
  for (let a = 0; a < size; a++) {
    for (let b = a + 1; b < size; b++) {
      const la = logs[a] as Map<number, Entry>;
      const lb = logs[b] as Map<number, Entry>;
      const common = [...la.keys()].filter((i) => lb.has(i)).sort((x, y) => y - x);
      const top = common.find((i) => la.get(i)?.term === lb.get(i)?.term);
      if (top === undefined) continue;
      for (const i of common.filter((j) => j <= top)) {
        assert.deepEqual(
          la.get(i),
          lb.get(i),
          what(`logs of ${a + 1} and ${b + 1} differ at ${i} below ${top}`),
        );
      }
    }
  }

  // Liveness: once the network heals the group elects a leader, commits, and every member converges.
  const marker = `final-${o.seed}`;
  const lastApplied = (m: Member): number => m.history[m.history.length - 1]?.index ?? 0;
  const converged = (): boolean =>
    members.every(
      (m) => m.history.some((e) => e.data === marker) && lastApplied(m) === lastApplied(members[0] as Member),
    );
  const holdsMarker = (m: Member): boolean =>
    m.history.some((e) => e.data === marker) ||
    m.node.raft.raftLog.allEntries().some((e) => decoder.decode(e.data) === marker);
  for (let round = 0; round < 1000 && !converged(); round++) {
    const msgs = pool;
    pool = [];
    for (const msg of msgs) deliver(msg);
    handleAll();
    check();
    // (Re)propose the marker to the current leader unless it has it: an uncommitted proposal is lost
    // legitimately when its leader is replaced.
    const leader = members.find((m) => m.node.raft.state === StateType.StateLeader);
    if (leader !== undefined && !holdsMarker(leader)) {
      try {
        leader.node.propose(bytes(marker));
      } catch (e) {
        // The uncommitted tail may be full until the new leader commits it: try again later.
        if (!isRaftError(e, 'ErrProposalDropped')) throw e;
      }
    }
    if (pool.length === 0) for (const m of members) m.node.tick();
  }
  for (const m of members) {
    assert.ok(
      m.history.some((e) => e.data === marker),
      what(`member ${m.id} did not converge: applied up to ${lastApplied(m)}`),
    );
    assert.deepEqual(m.history, (members[0] as Member).history, what(`member ${m.id} has another history`));
  }
  return { leaders: leaderOfTerm.size, committed: committed.size, snapshotsInstalled };
}
