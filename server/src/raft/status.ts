import type { HardState } from '../raftpb/types.js';
import type { Raft } from './raft.js';
import { type SoftState, StateType } from './ready.js';
import type { Progress } from './tracker/progress.js';
import type { TrackerConfig } from './tracker/tracker.js';

/** A snapshot of one member's Raft state, for monitoring and tests. Copies: safe to keep. */
export interface Status {
  id: bigint;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  leadTransferee: bigint;
  config: TrackerConfig;
  /** Every member's replication progress; only the leader tracks it. */
  progress: Map<bigint, Progress> | undefined;
}

export function getStatus(r: Raft): Status {
  let progress: Map<bigint, Progress> | undefined;
  if (r.state === StateType.StateLeader) {
    progress = new Map();
    for (const [id, pr] of r.trk.progress) progress.set(id, pr.clone());
  }
  return {
    id: r.id,
    hardState: r.hardState(),
    softState: r.softState(),
    applied: r.raftLog.applied,
    leadTransferee: r.leadTransferee,
    config: r.trk.config.clone(),
    progress,
  };
}
