import type { RaftConfig } from '../../../server/src/raft/config.js';
import type { MemoryStorage } from '../../../server/src/raft/memory-storage.js';
import { isRaftError } from '../../../server/src/raft/errors.js';
import { RawNode } from '../../../server/src/raft/raw-node.js';
import type { ReadState } from '../../../server/src/raft/ready.js';
import type { Entry, Message } from '../../../server/src/raftpb/types.js';
import { ids, storageWithPeers, testConfig, type TestRaftOptions } from './test-raft.js';

/** Rounds of Ready handling one stabilize() may take, at most: more means the group never settles. */
const ROUNDS_MAX = 1000;

/** One member driven through RawNode, as the application drives it. */
export interface ClusterNode {
  id: bigint;
  node: RawNode;
  storage: MemoryStorage;
  config: RaftConfig;
  /** Every committed entry handed to the application, in the order it applied them. */
  applied: Entry[];
  /** Every ReadIndex answer handed to the application. */
  readStates: ReadState[];
}

/**
 * A Raft group driven through RawNode's Ready/advance loop over MemoryStorage, the way the server's
 * driver does it: persist the snapshot, entries and hard state, send the messages, apply the committed
 * entries, advance. stabilize() repeats that and delivers messages until nothing is left to do.
 * Messages to a dropped member are discarded.
 */
export class Cluster {
  readonly members = new Map<bigint, ClusterNode>();
  readonly dropped = new Set<bigint>();

  constructor(size: number, opts: TestRaftOptions = {}) {
    for (const id of ids(size)) {
      const storage = storageWithPeers(ids(size));
      const config = testConfig(id, storage, opts);
      this.members.set(id, { id, node: new RawNode(config), storage, config, applied: [], readStates: [] });
    }
  }

  get(id: bigint): ClusterNode {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  node(id: bigint): RawNode {
    return this.get(id).node;
  }

  /** Handles one Ready of member `id` and returns the messages it sends. */
  handleReady(id: bigint): Message[] {
    const m = this.get(id);
    const rd = m.node.ready();
    if (rd.snapshot !== undefined) m.storage.applySnapshot(rd.snapshot);
    m.storage.append(rd.entries);
    if (rd.hardState !== undefined) m.storage.setHardState(rd.hardState);
    m.applied.push(...rd.committedEntries);
    m.readStates.push(...rd.readStates);
    m.node.advance();
    return rd.messages;
  }

  /**
   * Delivers messages (copies, as a transport would). A forwarded proposal that its recipient drops is
   * lost like any message; every other error is the test's business.
   */
  deliver(msgs: Message[]): void {
    for (const msg of msgs) {
      if (this.dropped.has(msg.to) || this.dropped.has(msg.from)) continue;
      try {
        this.members.get(msg.to)?.node.step(structuredClone(msg));
      } catch (e) {
        if (!isRaftError(e, 'ErrProposalDropped')) throw e;
      }
    }
  }

  stabilize(): void {
    for (let round = 0; round < ROUNDS_MAX; round++) {
      const msgs: Message[] = [];
      let busy = false;
      for (const m of this.members.values()) {
        if (!m.node.hasReady()) continue;
        busy = true;
        msgs.push(...this.handleReady(m.id));
      }
      if (!busy) return;
      this.deliver(msgs);
    }
    throw new Error(`cluster did not stabilize within ${ROUNDS_MAX} rounds`);
  }
}
