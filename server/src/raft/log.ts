import type { Entry, Snapshot } from '../raftpb/types.js';
import { entrySizeBytes } from '../raftpb/types.js';
import { assert } from '../util/assert.js';
import { isRaftError, RaftError } from './errors.js';
import type { Logger } from './logger.js';
import { Unstable } from './log-unstable.js';
import type { Storage } from './storage.js';

const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * The Raft log as the core sees it: the persisted part (Storage) followed by the unstable tail.
 *
 *   snapshot / compacted | storage: [firstIndex .. offset-1] | unstable: [offset .. lastIndex]
 *                        ^ applied <= committed <= lastIndex
 *
 * Invariant: applied <= committed (entries are applied only once committed).
 * Invariant: committed <= lastIndex.
 */
export class RaftLog {
  readonly unstable: Unstable;
  /** The highest index known to be stored on a quorum. */
  committed: number;
  /** The highest index the application has applied. */
  applied: number;
  /**
   * The highest index handed out for applying in a Ready not yet acknowledged by advance().
   * Invariant: applied <= applying <= committed.
   */
  applying: number;

  constructor(
    readonly storage: Storage,
    /** Upper bound of bytes of committed entries handed out per Ready. */
    private readonly maxNextEntsBytes: number,
    private readonly logger: Logger,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    // Everything up to the snapshot is committed and applied by definition.
    this.committed = first - 1;
    this.applied = first - 1;
    this.applying = first - 1;
  }

  toString(): string {
    return `committed=${this.committed}, applied=${this.applied}, unstable.offset=${this.unstable.offset}, len(unstable.Entries)=${this.unstable.entries.length}`;
  }

  /**
   * Appends a leader's entries after (index, logTerm) if our log matches there (Raft §5.3 consistency
   * check). Returns the index of the last new entry, or undefined on a mismatch.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNewIndex = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      assert(
        conflict > this.committed,
        `entry ${conflict} conflicts with committed entry [committed(${this.committed})]`,
      );
      this.append(ents.slice(conflict - (index + 1)));
    }
    // Only up to lastNewIndex is known to match the leader: beyond it our log may still diverge.
    this.commitTo(Math.min(committed, lastNewIndex));
    return lastNewIndex;
  }

  append(ents: Entry[]): number {
    const first = ents[0];
    if (first === undefined) return this.lastIndex();
    const after = first.index - 1;
    assert(after >= this.committed, `after(${after}) is out of range [committed(${this.committed})]`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry that conflicts with ours (same index, different term) or that we do
   * not have; 0 when all of them are already in our log.
   */
  findConflict(ents: Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) {
        if (e.index <= this.lastIndex()) {
          this.logger.info(
            `found conflict at index ${e.index} [existing term: ${this.term(e.index) ?? 0}, conflicting term: ${e.term}]`,
          );
        }
        return e.index;
      }
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`: where a follower's log and the leader's can
   * still match, which lets a rejected append skip a whole term at once (fast backtracking, thesis
   * §5.3's optimisation). An unknown term (compacted or beyond the log) stops the search with term 0.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i > 0; i--) {
      const ourTerm = this.term(i);
      if (ourTerm === undefined) return { index: i, term: 0 };
      if (ourTerm <= term) return { index: i, term: ourTerm };
    }
    return { index: 0, term: 0 };
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.slice();
  }

  /** Committed entries not yet applied, within the per-Ready byte limit. */
  nextCommittedEntries(): Entry[] {
    const off = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 <= off) return [];
    return this.slice(off, this.committed + 1, this.maxNextEntsBytes);
  }

  hasNextCommittedEntries(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined && this.unstable.snapshot.metadata.index > 0;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  commitTo(toCommit: number): void {
    // Never decrease commit.
    if (this.committed < toCommit) {
      assert(
        this.lastIndex() >= toCommit,
        `tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`,
      );
      this.committed = toCommit;
    }
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    assert(
      this.committed >= i && i >= this.applied,
      `applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`,
    );
    this.applied = i;
    if (this.applying < i) this.applying = i;
  }

  /** Committed entries up to `i` were handed out to be applied. */
  acceptApplying(i: number): void {
    assert(i <= this.committed, `applying(${i}) is beyond committed(${this.committed})`);
    if (this.applying < i) this.applying = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(t !== undefined, 'unexpected error when getting the last term');
    return t;
  }

  /**
   * The term of entry i, or undefined when it is compacted away (i < firstIndex-1) or beyond the log.
   * The term of firstIndex-1 is always known: it is the snapshot's.
   */
  term(i: number): number | undefined {
    const dummyIndex = this.firstIndex() - 1;
    if (i < dummyIndex || i > this.lastIndex()) return undefined;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    try {
      return this.storage.term(i);
    } catch (e) {
      if (isRaftError(e, 'ErrCompacted') || isRaftError(e, 'ErrUnavailable')) return undefined;
      throw e;
    }
  }

  /** Entries from i to the end, within maxSizeBytes. Throws ErrCompacted when i is compacted. */
  entries(i: number, maxSizeBytes: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSizeBytes);
  }

  /** Every entry in the log (after the snapshot). Single-threaded: no compaction can race this. */
  allEntries(): Entry[] {
    return this.entries(this.firstIndex(), NO_LIMIT);
  }

  /**
   * Whether a candidate's log (lastIndex, lastTerm) is at least as up-to-date as ours (Raft §5.4.1):
   * a later last term wins; with equal terms the longer log wins.
   */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  matchTerm(i: number, term: number): boolean {
    const t = this.term(i);
    return t !== undefined && t === term;
  }

  /**
   * Commits up to maxIndex if that entry is from `term` (Raft §5.4.2: a leader only commits entries of
   * its own term by counting replicas; earlier ones are committed indirectly).
   */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.term(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(s: Snapshot): void {
    this.logger.info(
      `log [${this.toString()}] starts to restore snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`,
    );
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries in [lo, hi) limited to maxSizeBytes (at least one). Throws ErrCompacted below firstIndex. */
  slice(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    this.mustCheckOutOfBounds(lo, hi);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const offset = this.unstable.offset;
    if (lo < offset) {
      let stored: Entry[];
      try {
        stored = this.storage.entries(lo, Math.min(hi, offset), maxSizeBytes);
      } catch (e) {
        if (isRaftError(e, 'ErrCompacted')) throw e;
        assert(
          !isRaftError(e, 'ErrUnavailable'),
          `entries[${lo}:${Math.min(hi, offset)}) is unavailable from storage`,
        );
        throw e;
      }
      // The storage stopped early because of the size limit: do not add unstable entries.
      if (stored.length < Math.min(hi, offset) - lo) return stored;
      ents = stored;
    }
    if (hi > offset) {
      const tail = this.unstable.slice(Math.max(lo, offset), hi);
      ents = ents.length > 0 ? ents.concat(tail) : tail;
    }
    return limitSize(ents, maxSizeBytes);
  }

  private mustCheckOutOfBounds(lo: number, hi: number): void {
    assert(lo <= hi, `invalid slice ${lo} > ${hi}`);
    const first = this.firstIndex();
    if (lo < first) throw new RaftError('ErrCompacted');
    const length = this.lastIndex() + 1 - first;
    assert(hi <= first + length, `slice[${lo},${hi}) out of bound [${first},${this.lastIndex()}]`);
  }
}

/** The longest prefix within maxSizeBytes, but always at least one entry. */
export function limitSize(ents: Entry[], maxSizeBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySizeBytes(ents[0] as Entry);
  let limit = 1;
  for (; limit < ents.length; limit++) {
    size += entrySizeBytes(ents[limit] as Entry);
    if (size > maxSizeBytes) break;
  }
  return limit === ents.length ? ents : ents.slice(0, limit);
}
