import type { RaftConfig } from '../../server/src/raft/config.js';
import { MemoryStorage } from '../../server/src/raft/memory-storage.js';
import { RawNode } from '../../server/src/raft/raw-node.js';
import type { Ready, SoftState } from '../../server/src/raft/ready.js';
import type { TrackerConfig } from '../../server/src/raft/tracker/tracker.js';
import type { ConfChangeV2, ConfState, HardState, Message } from '../../server/src/raftpb/types.js';

/**
 * The part of RawNode the simulator drives (the one place that names the core's classes, so a core
 * under test can be swapped in).
 */
export interface SimNode {
  tick(): void;
  campaign(): void;
  propose(data: Uint8Array): void;
  proposeConfChange(cc: ConfChangeV2): void;
  applyConfChange(cc: ConfChangeV2): ConfState;
  step(m: Message): void;
  readIndex(requestCtx: Uint8Array): void;
  transferLeader(to: bigint): void;
  reportUnreachable(id: bigint): void;
  reportSnapshot(id: bigint, ok: boolean): void;
  hasReady(): boolean;
  ready(): Ready;
  advance(): void;
  status(): {
    id: bigint;
    hardState: HardState;
    softState: SoftState;
    applied: number;
    leadTransferee: bigint;
    config: TrackerConfig;
  };
}

export function newNode(config: RaftConfig): SimNode {
  return new RawNode(config);
}

export function newStorage(): MemoryStorage {
  return new MemoryStorage();
}

export { MemoryStorage };
