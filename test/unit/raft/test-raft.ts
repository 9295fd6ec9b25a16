import type { RaftConfig } from '../../../server/src/raft/config.js';
import { MemoryStorage } from '../../../server/src/raft/memory-storage.js';
import { Raft } from '../../../server/src/raft/raft.js';
import { StateType } from '../../../server/src/raft/ready.js';
import { Prng } from '../../../server/src/raft/rng.js';
import type { Storage } from '../../../server/src/raft/storage.js';
import {
  emptyConfState,
  MessageType,
  newEntry,
  newMessage,
  type Entry,
  type Message,
} from '../../../server/src/raftpb/types.js';

/**
 * Building blocks for unit tests of the Raft core, in the manner of etcd-io/raft's newTestRaft,
 * withPeers and index(i).terms(...): members are constructed directly over a MemoryStorage, and their
 * outgoing messages are read straight from `raft.msgs`.
 */

/** No byte limit: a limit so large that no test ever reaches it. */
export const NO_LIMIT_BYTES = Number.MAX_SAFE_INTEGER;

/** Member ids 1..n. */
export function ids(n: number): bigint[] {
  return Array.from({ length: n }, (_, i) => BigInt(i + 1));
}

/** A MemoryStorage whose bootstrap configuration has these voters and learners (etcd's withPeers). */
export function storageWithPeers(voters: bigint[], learners: bigint[] = []): MemoryStorage {
  const s = new MemoryStorage();
  s.applySnapshot({
    data: new Uint8Array(0),
    metadata: { index: 0, term: 0, confState: { ...emptyConfState(), voters, learners } },
  });
  return s;
}

/** Consecutive entries starting at `first`, one per term given (etcd's index(first).terms(...)). */
export function entriesAt(first: number, ...terms: number[]): Entry[] {
  return terms.map((term, i) => newEntry({ index: first + i, term }));
}

export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export type TestRaftOptions = Partial<Omit<RaftConfig, 'id' | 'storage' | 'rng'>> & {
  /** Seed of the member's Prng; defaults to its id so members of one cluster draw different timeouts. */
  seed?: number;
};

/** A config with etcd's test defaults: election 10 ticks, heartbeat 1, no size limits, no pre-vote. */
export function testConfig(id: bigint, storage: Storage, opts: TestRaftOptions = {}): RaftConfig {
  const { seed, ...rest } = opts;
  return {
    id,
    storage,
    electionTicks: 10,
    heartbeatTicks: 1,
    maxSizePerMsgBytes: NO_LIMIT_BYTES,
    maxInflightMsgs: 256,
    checkQuorum: false,
    preVote: false,
    rng: new Prng(seed ?? Number(id)),
    ...rest,
  };
}

export function newTestRaft(id: bigint, storage: Storage, opts: TestRaftOptions = {}): Raft {
  return new Raft(testConfig(id, storage, opts));
}

/** Takes the messages the member queued since the last call. */
export function readMessages(r: Raft): Message[] {
  const msgs = r.msgs;
  r.msgs = [];
  return msgs;
}

/** Orders messages by recipient, then type (etcd's messageSlice), so tests need not rely on send order. */
export function sortMessages(msgs: Message[]): Message[] {
  return [...msgs].sort((a, b) => {
    if (a.to !== b.to) return a.to < b.to ? -1 : 1;
    return a.type - b.type;
  });
}

/** The answer of a follower that accepted an append in full. */
export function acceptAndReply(m: Message): Message {
  if (m.type !== MessageType.MsgApp)
    throw new Error(`acceptAndReply: not a MsgApp but ${MessageType[m.type]}`);
  return newMessage({
    type: MessageType.MsgAppResp,
    from: m.to,
    to: m.from,
    term: m.term,
    index: m.index + m.entries.length,
  });
}

/** Makes `r` a leader of its next term (it must not be one already). */
export function electLeader(r: Raft): void {
  r.becomeCandidate();
  r.becomeLeader();
}

/**
 * Has every follower acknowledge the new leader's empty entry, then persists and applies everything,
 * so a test starts from a leader with a committed log whose followers are all in Replicate.
 */
export function commitNoopEntry(r: Raft, s: MemoryStorage): void {
  if (r.state !== StateType.StateLeader) throw new Error('commitNoopEntry: not a leader');
  r.bcastAppend();
  for (const m of readMessages(r)) {
    const only = m.entries[0];
    if (
      m.type !== MessageType.MsgApp ||
      m.entries.length !== 1 ||
      only === undefined ||
      only.data.length > 0
    ) {
      throw new Error('commitNoopEntry: not an append of the empty entry');
    }
    r.step(acceptAndReply(m));
  }
  // Appends that only carry the new commit index.
  readMessages(r);
  persistUnstable(r, s);
  r.raftLog.appliedTo(r.raftLog.committed);
}

/** Does what the application does with a Ready's entries: writes them to storage and marks them stable. */
export function persistUnstable(r: Raft, s: MemoryStorage): void {
  const ents = r.raftLog.unstableEntries();
  const last = ents[ents.length - 1];
  if (last === undefined) return;
  s.append(ents);
  r.raftLog.stableTo(last.index, last.term);
}

/** Index and term of each entry, the shape most log assertions compare. */
export function indexTerms(ents: Entry[]): [number, number][] {
  return ents.map((e) => [e.index, e.term]);
}
