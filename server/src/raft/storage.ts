import type { ConfState, Entry, HardState, Snapshot } from '../raftpb/types.js';

/**
 * The persisted part of the Raft log, as the core reads it. The application owns every mutation
 * (appending the entries a Ready hands out, applying snapshots, compacting); the core only reads.
 *
 * Errors are thrown as RaftError with these codes:
 * - ErrCompacted: the index is below firstIndex() (it is covered by the snapshot).
 * - ErrUnavailable: the index is above lastIndex().
 * - ErrSnapshotTemporarilyUnavailable (snapshot() only): not ready yet; the leader retries later.
 */
export interface Storage {
  /** The saved HardState and the ConfState of the latest snapshot (or the bootstrap configuration). */
  initialState(): { hardState: HardState; confState: ConfState };
  /**
   * Consecutive entries in [lo, hi). With `maxSizeBytes`, stops before exceeding it but always returns
   * at least one entry when any is in range.
   */
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[];
  /**
   * The term of entry `i`, in [firstIndex()-1, lastIndex()]. The term of firstIndex()-1 is the
   * snapshot's term, kept for the log-matching check.
   */
  term(i: number): number;
  lastIndex(): number;
  /** The first index that may be in the log; older entries are in the snapshot. */
  firstIndex(): number;
  /** The most recent snapshot. */
  snapshot(): Snapshot;
}
