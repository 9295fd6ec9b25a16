import type { Entry, HardState, Message, Snapshot } from '../raftpb/types.js';

export enum StateType {
  StateFollower = 0,
  StateCandidate = 1,
  StateLeader = 2,
  StatePreCandidate = 3,
}

export function stateName(s: StateType): string {
  return ['StateFollower', 'StateCandidate', 'StateLeader', 'StatePreCandidate'][s] ?? `State(${String(s)})`;
}

/** Volatile state: who leads and in which role this node is. Never persisted. */
export interface SoftState {
  lead: bigint;
  raftState: StateType;
}

/**
 * The answer to a readIndex(requestCtx) call: once the application has applied up to `index`, a read
 * served from its state machine is linearizable (Raft thesis §6.4).
 */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

/**
 * Work the application must do, handed out by RawNode.ready() and acknowledged by advance(). The
 * fields are listed in the order the application must handle them.
 */
export interface Ready {
  /** Changed soft state, or undefined when unchanged. Informational; nothing to persist. */
  softState: SoftState | undefined;
  /**
   * The snapshot to persist, or undefined. Persist it (and make the log start after it) BEFORE the
   * entries below and BEFORE sending any message.
   */
  snapshot: Snapshot | undefined;
  /**
   * Entries to append to stable storage BEFORE messages are sent. An entry at an index already in
   * storage replaces it and every entry after it (a new leader overwrote an uncommitted suffix).
   */
  entries: Entry[];
  /** The HardState to persist with the entries, or undefined when unchanged. */
  hardState: HardState | undefined;
  /**
   * Whether entries/hardState must be synced to disk (fsync) before messages are sent. False when only
   * the commit index changed: it can be recovered from the leader, so losing it is safe.
   */
  mustSync: boolean;
  /** Messages to send AFTER the snapshot, entries and hard state above are persisted. */
  messages: Message[];
  /**
   * Entries committed by a quorum, to apply to the state machine in order. They were persisted by an
   * earlier Ready (or are in this one's `entries`, which must be persisted first). Conf-change
   * entries must be passed to applyConfChange() when applied.
   */
  committedEntries: Entry[];
  /** ReadIndex answers; serve each read once applied >= index. */
  readStates: ReadState[];
}
