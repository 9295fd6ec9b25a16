/**
 * Operating errors of the Raft core. They are expected (a proposal with no leader, a log entry that was
 * compacted away) and carry a stable code; broken invariants use assert() instead.
 */
export type RaftErrorCode =
  /** Storage: the requested index is below the first available index. */
  | 'ErrCompacted'
  /** Storage: a snapshot older than the one already stored. */
  | 'ErrSnapOutOfDate'
  /** Storage: the requested index is above the last index. */
  | 'ErrUnavailable'
  /** Storage: the snapshot cannot be produced right now; the leader will retry later. */
  | 'ErrSnapshotTemporarilyUnavailable'
  /** A proposal could not be accepted: no leader, forwarding disabled, a transfer in progress, or too
   * many uncommitted bytes. The caller may retry. */
  | 'ErrProposalDropped'
  /** A local-only message type was given to step(). */
  | 'ErrStepLocalMsg'
  /** A response from a node that is not in the configuration. */
  | 'ErrStepPeerNotFound';

const MESSAGES: Record<RaftErrorCode, string> = {
  ErrCompacted: 'requested index is unavailable due to compaction',
  ErrSnapOutOfDate: 'requested index is older than the existing snapshot',
  ErrUnavailable: 'requested entry at index is unavailable',
  ErrSnapshotTemporarilyUnavailable: 'snapshot is temporarily unavailable',
  ErrProposalDropped: 'raft proposal dropped',
  ErrStepLocalMsg: 'raft: cannot step raft local message',
  ErrStepPeerNotFound: 'raft: cannot step as peer not found',
};

export class RaftError extends Error {
  override readonly name = 'RaftError';
  constructor(
    readonly code: RaftErrorCode,
    detail?: string,
  ) {
    super(detail === undefined ? MESSAGES[code] : `${MESSAGES[code]}: ${detail}`);
  }
}

export function isRaftError(e: unknown, code: RaftErrorCode): e is RaftError {
  return e instanceof RaftError && e.code === code;
}
