import { assert } from '../util/assert.js';
import {
  emptyHardState,
  emptySnapshot,
  entrySizeBytes,
  newEntry,
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
} from '../raftpb/types.js';
import { RaftError } from './errors.js';
import type { Storage } from './storage.js';

/**
 * Storage kept in memory, for tests and the simulator (etcd-io/raft MemoryStorage). The application
 * drives it the way it drives a durable one: append() the entries of each Ready, setHardState(),
 * applySnapshot() a received snapshot, createSnapshot() + compact() to trim the log.
 *
 * Arrays and objects handed in or out are copied, so neither the caller nor the core can change the
 * stored log behind its back. Entries themselves are treated as immutable and shared.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = emptyHardState();
  private snap: Snapshot = emptySnapshot();
  /**
   * ents[0] is a dummy entry holding the index and term of the last entry covered by the snapshot (or
   * 0/0), so term(firstIndex()-1) answers the log-matching check for the first real entry (Raft thesis
   * §3.5, §5.1). ents[i] has index ents[0].index + i.
   * Invariant: ents.length >= 1 and indexes are consecutive.
   */
  private ents: Entry[] = [newEntry({})];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.metadata.confState) };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    const offset = this.offset();
    if (lo <= offset) throw new RaftError('ErrCompacted', `entries from ${lo}, first index ${offset + 1}`);
    assert(lo <= hi, `entries: lo ${lo} > hi ${hi}`);
    assert(hi <= this.lastIndex() + 1, `entries: hi ${hi} is out of bound lastIndex ${this.lastIndex()}`);
    // Only the dummy entry: the log is empty (etcd answers ErrUnavailable here too).
    if (this.ents.length === 1) throw new RaftError('ErrUnavailable', `entries from ${lo}, log is empty`);
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSizeBytes);
  }

  term(i: number): number {
    const offset = this.offset();
    if (i < offset) throw new RaftError('ErrCompacted', `term of ${i}, first index ${offset + 1}`);
    const e = this.ents[i - offset];
    if (e === undefined)
      throw new RaftError('ErrUnavailable', `term of ${i}, last index ${this.lastIndex()}`);
    return e.term;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  snapshot(): Snapshot {
    return cloneSnapshot(this.snap);
  }

  /**
   * Replaces the whole state with a snapshot received from the leader: the log restarts after it.
   * A snapshot not newer than the stored one is refused with ErrSnapOutOfDate.
   */
  applySnapshot(snap: Snapshot): void {
    const current = this.snap.metadata.index;
    const index = snap.metadata.index;
    if (current !== 0 && current >= index) {
      throw new RaftError('ErrSnapOutOfDate', `snapshot at ${index}, have one at ${current}`);
    }
    this.snap = cloneSnapshot(snap);
    this.ents = [newEntry({ index, term: snap.metadata.term })];
  }

  /**
   * Records a snapshot of the state machine at `index` (which must be in the log) and returns it.
   * `confState` is the configuration at `index`; undefined keeps the previous snapshot's. The log is
   * not trimmed: call compact() for that.
   */
  createSnapshot(index: number, confState: ConfState | undefined, data: Uint8Array): Snapshot {
    const current = this.snap.metadata.index;
    if (index <= current) {
      throw new RaftError('ErrSnapOutOfDate', `snapshot at ${index}, have one at ${current}`);
    }
    assert(index <= this.lastIndex(), `snapshot ${index} is out of bound lastIndex ${this.lastIndex()}`);
    const term = this.term(index);
    this.snap = {
      data,
      metadata: {
        index,
        term,
        confState: cloneConfState(confState ?? this.snap.metadata.confState),
      },
    };
    return cloneSnapshot(this.snap);
  }

  /**
   * Discards the entries up to and including `compactIndex`; that entry becomes the dummy. The
   * application must only compact what a snapshot covers.
   */
  compact(compactIndex: number): void {
    const offset = this.offset();
    if (compactIndex <= offset) {
      throw new RaftError('ErrCompacted', `compact ${compactIndex}, first index ${offset + 1}`);
    }
    assert(
      compactIndex <= this.lastIndex(),
      `compact ${compactIndex} is out of bound lastIndex ${this.lastIndex()}`,
    );
    const i = compactIndex - offset;
    const dummy = newEntry({ index: compactIndex, term: this.term(compactIndex) });
    this.ents = [dummy, ...this.ents.slice(i + 1)];
  }

  /**
   * Appends consecutive entries. Entries below firstIndex() are already covered by the snapshot and are
   * ignored; an entry at an index already in the log replaces it and everything after it (a new leader
   * overwrote an uncommitted suffix, Raft thesis §3.5). A gap after lastIndex() is a bug in the caller.
   */
  append(entries: readonly Entry[]): void {
    const head = entries[0];
    if (head === undefined) return;
    for (let k = 1; k < entries.length; k++) {
      assert(entries[k]?.index === head.index + k, `append: entries not consecutive at position ${k}`);
    }
    const first = this.firstIndex();
    const last = head.index + entries.length - 1;
    if (last < first) return;
    const fresh = head.index < first ? entries.slice(first - head.index) : entries;
    const start = fresh[0]?.index ?? first;
    const at = start - this.offset();
    assert(
      at <= this.ents.length,
      `append: missing log entries [last: ${this.lastIndex()}, append at: ${start}]`,
    );
    this.ents = [...this.ents.slice(0, at), ...fresh];
  }

  private offset(): number {
    const dummy = this.ents[0];
    assert(dummy !== undefined, 'memory storage lost its dummy entry');
    return dummy.index;
  }
}

/**
 * The longest prefix of `ents` whose entrySizeBytes total stays within `maxSizeBytes`, but never empty
 * when `ents` is not: a single entry larger than the limit must still be able to make progress.
 */
function limitSize(ents: Entry[], maxSizeBytes: number): Entry[] {
  const firstEntry = ents[0];
  if (firstEntry === undefined) return ents;
  let size = entrySizeBytes(firstEntry);
  for (let limit = 1; limit < ents.length; limit++) {
    const e = ents[limit];
    if (e === undefined) break;
    size += entrySizeBytes(e);
    if (size > maxSizeBytes) return ents.slice(0, limit);
  }
  return ents;
}

function cloneConfState(cs: ConfState): ConfState {
  return {
    voters: [...cs.voters],
    learners: [...cs.learners],
    votersOutgoing: [...cs.votersOutgoing],
    learnersNext: [...cs.learnersNext],
    autoLeave: cs.autoLeave,
  };
}

function cloneSnapshot(s: Snapshot): Snapshot {
  return {
    data: s.data,
    metadata: {
      index: s.metadata.index,
      term: s.metadata.term,
      confState: cloneConfState(s.metadata.confState),
    },
  };
}
