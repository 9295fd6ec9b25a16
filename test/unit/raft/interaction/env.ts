import type { RaftConfig } from '../../../../server/src/raft/config.js';
import { MemoryStorage } from '../../../../server/src/raft/memory-storage.js';
import type { RawNode } from '../../../../server/src/raft/raw-node.js';
import type { Storage } from '../../../../server/src/raft/storage.js';
import type { ConfState, Entry, HardState, Message, Snapshot } from '../../../../server/src/raftpb/types.js';
import { Output, RedirectLogger } from './output.js';

/**
 * The node's MemoryStorage, except that snapshot() answers with the state machine as of the last
 * applied entry (the newest entry of `history`), as a real application's snapshot would. MemoryStorage
 * alone would keep answering with the bootstrap snapshot after compaction.
 */
export class HarnessStorage implements Storage {
  readonly mem = new MemoryStorage();

  constructor(private readonly latest: () => Snapshot) {}

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.mem.initialState();
  }
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    return this.mem.entries(lo, hi, maxSizeBytes);
  }
  term(i: number): number {
    return this.mem.term(i);
  }
  lastIndex(): number {
    return this.mem.lastIndex();
  }
  firstIndex(): number {
    return this.mem.firstIndex();
  }
  snapshot(): Snapshot {
    return this.latest();
  }
}

/** One member of the group under test. */
export interface InteractionNode {
  id: bigint;
  /** Replaced by `restart`. */
  rawNode: RawNode;
  storage: HarnessStorage;
  config: RaftConfig;
  /**
   * The state machine after each applied entry: an "appender" whose state is the concatenation of
   * every applied payload. The last one is what the node sends as a snapshot.
   */
  history: Snapshot[];
  /**
   * Committed entries of a Ready handled with `process-ready <id> apply=false`: persisted and sent but
   * not applied yet, and the Ready not acknowledged, until `apply-ready <id>`.
   */
  applying: Entry[] | undefined;
}

/**
 * A Raft group driven by hand, one step at a time (etcd-io/raft's rafttest.InteractionEnv): nodes over
 * MemoryStorage, a pool of messages in flight that commands deliver or drop, and one output that both
 * the harness and the cores' loggers write to.
 */
export class InteractionEnv {
  readonly nodes: InteractionNode[] = [];
  /** Messages sent and not yet delivered or dropped, in sending order. */
  messages: Message[] = [];
  readonly output = new Output();
  readonly logger = new RedirectLogger(this.output);

  node(id: bigint): InteractionNode {
    const n = this.nodes[Number(id) - 1];
    if (n === undefined) throw new Error(`no node ${id} (there are ${this.nodes.length})`);
    return n;
  }
}
