import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRaftError } from '../../../server/src/raft/errors.js';
import { Unstable } from '../../../server/src/raft/log-unstable.js';
import { RaftLog } from '../../../server/src/raft/log.js';
import { discardLogger } from '../../../server/src/raft/logger.js';
import { MemoryStorage } from '../../../server/src/raft/memory-storage.js';
import type { Storage } from '../../../server/src/raft/storage.js';
import {
  emptyConfState,
  entrySizeBytes,
  newEntry,
  type Entry,
  type Snapshot,
} from '../../../server/src/raftpb/types.js';
import { AssertionError } from '../../../server/src/util/assert.js';
import { entriesAt, indexTerms, NO_LIMIT_BYTES } from './test-raft.js';

/*
 * RaftLog (the persisted log in Storage followed by the Unstable tail) and Unstable on their own, in
 * the manner of etcd-io/raft's log_test.go and log_unstable_test.go.
 */

function snapshot(index: number, term: number): Snapshot {
  return {
    data: new Uint8Array(0),
    metadata: { index, term, confState: { ...emptyConfState(), voters: [1n] } },
  };
}

function newLog(storage: MemoryStorage = new MemoryStorage(), maxNextEntsBytes = NO_LIMIT_BYTES): RaftLog {
  return new RaftLog(storage, maxNextEntsBytes, discardLogger);
}

/** A log whose entries are all in the unstable tail. */
function logWith(ents: Entry[]): RaftLog {
  const l = newLog();
  l.append(ents);
  return l;
}

/** A log whose entries are all in storage. */
function storedLogWith(ents: Entry[], snap?: Snapshot): RaftLog {
  const s = new MemoryStorage();
  if (snap !== undefined) s.applySnapshot(snap);
  s.append(ents);
  return newLog(s);
}

/** Entries carrying `n` bytes of payload each. */
function sized(first: number, count: number, term: number, n: number): Entry[] {
  return Array.from({ length: count }, (_, i) =>
    newEntry({ index: first + i, term, data: new Uint8Array(n) }),
  );
}

const compacted = (err: unknown): boolean => isRaftError(err, 'ErrCompacted');
const brokenInvariant = (err: unknown): boolean => err instanceof AssertionError;

describe('RaftLog', () => {
  it('starts from its storage: committed and applied at the snapshot, unstable after the last entry', () => {
    const s = new MemoryStorage();
    s.applySnapshot(snapshot(1000, 1000));
    s.append(entriesAt(1001, 1000, 1001));
    const l = newLog(s);
    assert.equal(l.firstIndex(), 1001);
    assert.equal(l.lastIndex(), 1002);
    assert.equal(l.committed, 1000);
    assert.equal(l.applied, 1000);
    assert.equal(l.unstable.offset, 1003);
    assert.equal(l.term(1000), 1000);
    assert.equal(l.lastTerm(), 1001);
  });

  it('findConflict: the first entry that is new or has another term; 0 when all are present', () => {
    const previous = entriesAt(1, 1, 2, 3);
    const cases: { ents: Entry[]; want: number }[] = [
      { ents: [], want: 0 },
      // All present.
      { ents: entriesAt(1, 1, 2, 3), want: 0 },
      { ents: entriesAt(2, 2, 3), want: 0 },
      { ents: entriesAt(3, 3), want: 0 },
      // Present, then new.
      { ents: entriesAt(1, 1, 2, 3, 4, 4), want: 4 },
      { ents: entriesAt(2, 2, 3, 4, 4), want: 4 },
      { ents: entriesAt(3, 3, 4, 4), want: 4 },
      { ents: entriesAt(4, 4, 4), want: 4 },
      // Conflicting terms.
      { ents: entriesAt(1, 4, 4), want: 1 },
      { ents: entriesAt(2, 1, 4, 4), want: 2 },
      { ents: entriesAt(3, 1, 2, 4, 4), want: 3 },
    ];
    for (const [i, tt] of cases.entries()) {
      assert.equal(logWith(previous).findConflict(tt.ents), tt.want, `#${i} (unstable)`);
      assert.equal(storedLogWith(previous).findConflict(tt.ents), tt.want, `#${i} (stored)`);
    }
  });

  it('findConflictByTerm: the last index at or below `index` with a term <= `term`; unknown terms give term 0', () => {
    const cases: { log: () => RaftLog; index: number; term: number; want: [number, number] }[] = [
      // A log from index 1 with terms 2 2 5 5 5.
      ...(
        [
          [100, 2, [100, 0]], // beyond the log: unknown
          [5, 6, [5, 5]],
          [5, 5, [5, 5]],
          [5, 4, [2, 2]],
          [5, 2, [2, 2]],
          [5, 1, [0, 0]],
          [1, 2, [1, 2]],
          [1, 1, [0, 0]],
          [0, 0, [0, 0]],
        ] as const
      ).map(([index, term, want]) => ({
        log: () => storedLogWith(entriesAt(1, 2, 2, 5, 5, 5)),
        index,
        term,
        want: [...want] as [number, number],
      })),
      // A log compacted up to 10 (term 3), then 11..15 with terms 3 3 4 4 4.
      ...(
        [
          [30, 3, [30, 0]], // beyond the log: unknown
          [14, 9, [14, 4]],
          [14, 4, [14, 4]],
          [14, 3, [12, 3]],
          [14, 2, [9, 0]], // walks down into the compacted prefix: unknown
          [11, 5, [11, 3]],
          [10, 5, [10, 3]], // the snapshot's own term is known
          [10, 3, [10, 3]],
          [10, 2, [9, 0]],
          [9, 2, [9, 0]],
          [4, 2, [4, 0]],
          [0, 0, [0, 0]],
        ] as const
      ).map(([index, term, want]) => ({
        log: () => storedLogWith(entriesAt(11, 3, 3, 4, 4, 4), snapshot(10, 3)),
        index,
        term,
        want: [...want] as [number, number],
      })),
    ];
    for (const [i, tt] of cases.entries()) {
      const got = tt.log().findConflictByTerm(tt.index, tt.term);
      assert.deepEqual([got.index, got.term], tt.want, `#${i}: (${tt.index}, ${tt.term})`);
    }
    // The same answers when the entries are still in the unstable tail.
    const l = logWith(entriesAt(1, 2, 2, 5, 5, 5));
    assert.deepEqual(l.findConflictByTerm(5, 4), { index: 2, term: 2 });
    assert.deepEqual(l.findConflictByTerm(100, 2), { index: 100, term: 0 });
  });

  it('isUpToDate: a later last term wins; with equal terms, the longer log', () => {
    const l = logWith(entriesAt(1, 1, 2, 3));
    const last = l.lastIndex();
    const cases: [number, number, boolean][] = [
      // Greater term: up to date whatever the index.
      [last - 1, 4, true],
      [last, 4, true],
      [last + 1, 4, true],
      // Smaller term: never.
      [last - 1, 2, false],
      [last, 2, false],
      [last + 1, 2, false],
      // Equal term: at least as long.
      [last - 1, 3, false],
      [last, 3, true],
      [last + 1, 3, true],
    ];
    for (const [index, term, want] of cases) {
      assert.equal(l.isUpToDate(index, term), want, `(${index}, ${term})`);
    }
  });

  it('append: after the last entry, or over a conflicting suffix (which moves the unstable offset back)', () => {
    const cases: { ents: Entry[]; last: number; want: Entry[]; offset: number }[] = [
      { ents: [], last: 2, want: entriesAt(1, 1, 2), offset: 3 },
      { ents: entriesAt(3, 2), last: 3, want: entriesAt(1, 1, 2, 2), offset: 3 },
      // Conflicts at index 1: everything is replaced.
      { ents: entriesAt(1, 2), last: 1, want: entriesAt(1, 2), offset: 1 },
      // Conflicts at index 2.
      { ents: entriesAt(2, 3, 3), last: 3, want: entriesAt(1, 1, 3, 3), offset: 2 },
    ];
    for (const [i, tt] of cases.entries()) {
      const l = storedLogWith(entriesAt(1, 1, 2));
      assert.equal(l.append(tt.ents), tt.last, `#${i}`);
      assert.deepEqual(l.allEntries(), tt.want, `#${i}`);
      assert.equal(l.unstable.offset, tt.offset, `#${i}`);
    }
    // Overwriting committed entries is a broken invariant.
    const l = storedLogWith(entriesAt(1, 1, 2));
    l.commitTo(2);
    assert.throws(() => l.append(entriesAt(2, 3)), brokenInvariant);
  });

  it('maybeAppend: consistency check, conflict replacement, commit clamped to the last new entry', () => {
    const previous = entriesAt(1, 1, 2, 3);
    const lastIndex = 3;
    const lastTerm = 3;
    const commit = 1;
    const cases: {
      logTerm: number;
      index: number;
      committed: number;
      ents: Entry[];
      want: number | undefined;
      wcommit: number;
      log?: [number, number][];
    }[] = [
      // No entry at index with logTerm: refused, nothing changes.
      {
        logTerm: lastTerm - 1,
        index: lastIndex,
        committed: lastIndex,
        ents: entriesAt(4, 4),
        want: undefined,
        wcommit: commit,
      },
      {
        logTerm: lastTerm,
        index: lastIndex + 1,
        committed: lastIndex,
        ents: entriesAt(5, 4),
        want: undefined,
        wcommit: commit,
      },
      // Matches the last entry; the commit index follows the leader's but only up to the last new entry,
      // and never goes back.
      { logTerm: lastTerm, index: lastIndex, committed: lastIndex, ents: [], want: 3, wcommit: 3 },
      { logTerm: lastTerm, index: lastIndex, committed: lastIndex + 1, ents: [], want: 3, wcommit: 3 },
      { logTerm: lastTerm, index: lastIndex, committed: lastIndex - 1, ents: [], want: 3, wcommit: 2 },
      { logTerm: lastTerm, index: lastIndex, committed: 0, ents: [], want: 3, wcommit: commit },
      {
        logTerm: lastTerm,
        index: lastIndex,
        committed: lastIndex,
        ents: entriesAt(4, 4),
        want: 4,
        wcommit: 3,
      },
      {
        logTerm: lastTerm,
        index: lastIndex,
        committed: lastIndex + 1,
        ents: entriesAt(4, 4),
        want: 4,
        wcommit: 4,
      },
      {
        logTerm: lastTerm,
        index: lastIndex,
        committed: lastIndex + 2,
        ents: entriesAt(4, 4),
        want: 4,
        wcommit: 4,
      },
      {
        logTerm: lastTerm,
        index: lastIndex,
        committed: lastIndex + 2,
        ents: entriesAt(4, 4, 4),
        want: 5,
        wcommit: 5,
      },
      // Matches an entry in the middle: the conflicting suffix is replaced.
      {
        logTerm: 1,
        index: 1,
        committed: lastIndex,
        ents: entriesAt(2, 4),
        want: 2,
        wcommit: 2,
        log: [
          [1, 1],
          [2, 4],
        ],
      },
      {
        logTerm: 2,
        index: 2,
        committed: lastIndex,
        ents: entriesAt(3, 4),
        want: 3,
        wcommit: 3,
        log: [
          [1, 1],
          [2, 2],
          [3, 4],
        ],
      },
      {
        logTerm: 2,
        index: 2,
        committed: lastIndex,
        ents: entriesAt(3, 4, 4),
        want: 4,
        wcommit: 3,
        log: [
          [1, 1],
          [2, 2],
          [3, 4],
          [4, 4],
        ],
      },
      // Entries already present are not a conflict: the log keeps its suffix. The commit index still
      // stops at the last entry the leader sent (3), although the log holds more.
      {
        logTerm: 1,
        index: 1,
        committed: lastIndex,
        ents: entriesAt(2, 2),
        want: 2,
        wcommit: 2,
        log: [
          [1, 1],
          [2, 2],
          [3, 3],
        ],
      },
    ];
    for (const [i, tt] of cases.entries()) {
      const l = logWith(previous);
      l.commitTo(commit);
      assert.equal(l.maybeAppend(tt.index, tt.logTerm, tt.committed, tt.ents), tt.want, `#${i}`);
      assert.equal(l.committed, tt.wcommit, `#${i}`);
      // Unless given, the log is the previous one, plus the new entries when they were accepted.
      const wlog = tt.log ?? indexTerms(tt.want === undefined ? previous : [...previous, ...tt.ents]);
      assert.deepEqual(indexTerms(l.allEntries()), wlog, `#${i}`);
    }

    // A conflict with a committed entry means the leader would erase committed data: a broken invariant.
    const l = logWith(previous);
    l.commitTo(commit);
    assert.throws(() => l.maybeAppend(0, 0, lastIndex, entriesAt(1, 4)), brokenInvariant);
  });

  it('term: known from the snapshot (firstIndex-1) through storage and the unstable tail; unknown outside', () => {
    const s = new MemoryStorage();
    s.applySnapshot(snapshot(3, 3));
    s.append(entriesAt(4, 4, 5));
    const l = newLog(s);
    l.append(entriesAt(6, 6, 7));
    const cases: [number, number | undefined][] = [
      [0, undefined],
      [2, undefined], // compacted
      [3, 3], // the snapshot's
      [4, 4], // storage
      [5, 5],
      [6, 6], // unstable
      [7, 7],
      [8, undefined], // beyond the log
    ];
    for (const [i, want] of cases) assert.equal(l.term(i), want, `term(${i})`);
    assert.equal(l.firstIndex(), 4);
    assert.equal(l.lastIndex(), 7);
    assert.equal(l.lastTerm(), 7);
  });

  it('term: with an unstable snapshot, only the snapshot index and what follows it are known', () => {
    const s = new MemoryStorage();
    s.applySnapshot(snapshot(100, 1));
    s.append(entriesAt(101, 1, 1, 1));
    const l = newLog(s);
    l.restore(snapshot(105, 2));
    const cases: [number, number | undefined][] = [
      [100, undefined],
      [101, undefined],
      [103, undefined],
      [104, undefined],
      [105, 2],
      [106, undefined],
    ];
    for (const [i, want] of cases) assert.equal(l.term(i), want, `term(${i})`);
  });

  describe('slice and entries across the storage | unstable boundary', () => {
    // Compacted up to 100; storage holds 101..149, the unstable tail 150..199. Empty entries, so each
    // counts entrySizeBytes = 24 against a limit.
    const offset = 100;
    const half = 150;
    const last = 199;
    const size = entrySizeBytes(newEntry({}));
    const build = (): RaftLog => {
      const s = new MemoryStorage();
      s.applySnapshot(snapshot(offset, offset));
      s.append(
        Array.from({ length: half - offset - 1 }, (_, i) =>
          newEntry({ index: offset + 1 + i, term: offset + 1 + i }),
        ),
      );
      const l = newLog(s);
      l.append(
        Array.from({ length: last - half + 1 }, (_, i) => newEntry({ index: half + i, term: half + i })),
      );
      return l;
    };
    const indexes = (ents: Entry[]): number[] => ents.map((e) => e.index);
    const range = (lo: number, hi: number): number[] => Array.from({ length: hi - lo }, (_, i) => lo + i);

    it('returns [lo, hi) from either part or both, without a limit', () => {
      const l = build();
      assert.equal(l.unstable.offset, half);
      assert.deepEqual(indexes(l.slice(offset + 1, offset + 1, NO_LIMIT_BYTES)), []);
      assert.deepEqual(indexes(l.slice(offset + 1, half, NO_LIMIT_BYTES)), range(offset + 1, half));
      assert.deepEqual(indexes(l.slice(half - 1, half + 1, NO_LIMIT_BYTES)), [half - 1, half]);
      assert.deepEqual(indexes(l.slice(half, last + 1, NO_LIMIT_BYTES)), range(half, last + 1));
      assert.deepEqual(indexes(l.slice(offset + 1, last + 1, NO_LIMIT_BYTES)), range(offset + 1, last + 1));
      // Terms come along (each entry's term is its index here).
      assert.deepEqual(indexTerms(l.slice(half - 1, half + 1, NO_LIMIT_BYTES)), [
        [half - 1, half - 1],
        [half, half],
      ]);
    });

    it('stops before exceeding maxSizeBytes, but always returns at least one entry', () => {
      const l = build();
      const cases: [number, number, number, number[]][] = [
        // Within storage.
        [offset + 1, half, 0, [offset + 1]],
        [offset + 1, half, size * 2, [offset + 1, offset + 2]],
        // Across the boundary.
        [half - 1, half + 1, 0, [half - 1]],
        [half - 1, half + 1, size, [half - 1]],
        [half - 1, half + 1, size * 2 - 1, [half - 1]],
        [half - 1, half + 1, size * 2, [half - 1, half]],
        [half - 2, half + 2, size * 3, [half - 2, half - 1, half]],
        // The limit is reached inside storage: nothing from the unstable tail.
        [half - 3, half + 2, size * 2, [half - 3, half - 2]],
        // Within the unstable tail.
        [half, half + 2, 0, [half]],
        [half, half + 2, size, [half]],
        [half, half + 3, size * 2 + 1, [half, half + 1]],
      ];
      for (const [lo, hi, max, want] of cases) {
        assert.deepEqual(indexes(l.slice(lo, hi, max)), want, `slice(${lo}, ${hi}, ${max})`);
      }
      assert.deepEqual(indexes(l.entries(half - 1, size * 2)), [half - 1, half]);
    });

    it('never skips entries when storage returns fewer than asked', () => {
      // A storage may stop early for reasons of its own (its own size accounting, a page boundary):
      // then the unstable entries after the gap must not be appended to what it returned.
      const s = new MemoryStorage();
      s.append(entriesAt(1, 1, 1, 1, 1, 1));
      const onePerCall: Storage = {
        initialState: () => s.initialState(),
        entries: (lo, hi, max) => s.entries(lo, Math.min(hi, lo + 1), max),
        term: (i) => s.term(i),
        lastIndex: () => s.lastIndex(),
        firstIndex: () => s.firstIndex(),
        snapshot: () => s.snapshot(),
      };
      const l = new RaftLog(onePerCall, NO_LIMIT_BYTES, discardLogger);
      l.append(entriesAt(6, 1, 1));
      const got = indexes(l.slice(3, 8, NO_LIMIT_BYTES));
      assert.deepEqual(got, range(3, 3 + got.length), 'consecutive');
      assert.equal(got[0], 3);
      // Paging with the answers still reaches every entry.
      const all: number[] = [];
      for (let lo = 1, page = 0; lo <= l.lastIndex() && page < 10; page++) {
        const ents = l.slice(lo, l.lastIndex() + 1, NO_LIMIT_BYTES);
        all.push(...indexes(ents));
        lo = (ents[ents.length - 1] as Entry).index + 1;
      }
      assert.deepEqual(all, range(1, 8));
    });

    it('throws ErrCompacted below the first index; out-of-range bounds are broken invariants', () => {
      const l = build();
      assert.throws(() => l.slice(offset - 1, offset + 1, NO_LIMIT_BYTES), compacted);
      assert.throws(() => l.slice(offset, offset + 1, NO_LIMIT_BYTES), compacted);
      assert.throws(() => l.entries(offset, NO_LIMIT_BYTES), compacted);
      assert.throws(() => l.slice(last, last + 2, NO_LIMIT_BYTES), brokenInvariant);
      assert.throws(() => l.slice(half + 1, half, NO_LIMIT_BYTES), brokenInvariant);
      // entries() past the end is simply empty.
      assert.deepEqual(l.entries(last + 1, NO_LIMIT_BYTES), []);
      assert.deepEqual(indexes(l.entries(last - 1, NO_LIMIT_BYTES)), [last - 1, last]);
    });
  });

  it('after storage compaction: entries below the new first index are ErrCompacted, its term is kept', () => {
    const s = new MemoryStorage();
    s.append(entriesAt(1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3));
    const l = newLog(s);
    l.append(entriesAt(11, 3, 4));
    l.commitTo(10);
    l.appliedTo(10);
    s.compact(5);

    assert.equal(l.firstIndex(), 6);
    assert.equal(l.lastIndex(), 12);
    assert.equal(l.term(5), 2);
    assert.equal(l.term(4), undefined);
    assert.throws(() => l.entries(5, NO_LIMIT_BYTES), compacted);
    assert.deepEqual(indexTerms(l.entries(6, NO_LIMIT_BYTES)), indexTerms(entriesAt(6, 2, 3, 3, 3, 3, 3, 4)));
    assert.deepEqual(indexTerms(l.allEntries()), indexTerms(entriesAt(6, 2, 3, 3, 3, 3, 3, 4)));
    // Matching at the compaction point still works (the leader probes there).
    assert.equal(l.matchTerm(5, 2), true);
    assert.equal(l.maybeAppend(5, 2, 12, entriesAt(6, 2)), 6);
  });

  it('commitTo: moves forward only, and never past the last index', () => {
    const l = logWith(entriesAt(1, 1, 2, 3));
    l.commitTo(2);
    assert.equal(l.committed, 2);
    l.commitTo(3);
    assert.equal(l.committed, 3);
    l.commitTo(1);
    assert.equal(l.committed, 3, 'never decreases');
    assert.throws(() => l.commitTo(4), brokenInvariant);
    assert.equal(l.committed, 3);
  });

  it('appliedTo: between the previous applied index and the commit index; 0 is ignored', () => {
    const l = logWith(entriesAt(1, 1, 1, 1, 1, 1));
    l.commitTo(3);
    l.appliedTo(0);
    assert.equal(l.applied, 0);
    l.appliedTo(2);
    assert.equal(l.applied, 2);
    l.appliedTo(2);
    assert.equal(l.applied, 2);
    assert.throws(() => l.appliedTo(1), brokenInvariant, 'below applied');
    assert.throws(() => l.appliedTo(4), brokenInvariant, 'above committed');
    l.appliedTo(3);
    assert.equal(l.applied, 3);
  });

  it('nextCommittedEntries: committed and not yet applied, within the per-Ready byte limit', () => {
    const entrySize = entrySizeBytes(sized(1, 1, 1, 100)[0] as Entry);
    const build = (limit: number): RaftLog => {
      const s = new MemoryStorage();
      s.applySnapshot(snapshot(3, 1));
      s.append(sized(4, 3, 1, 100));
      const l = newLog(s, limit);
      l.append(sized(7, 2, 1, 100)); // 7 and 8 are unstable: committed entries may be applied before they are stable
      return l;
    };
    const indexes = (ents: Entry[]): number[] => ents.map((e) => e.index);
    const cases: { applied: number; commit: number; limit: number; want: number[] }[] = [
      { applied: 3, commit: 5, limit: NO_LIMIT_BYTES, want: [4, 5] },
      { applied: 4, commit: 5, limit: NO_LIMIT_BYTES, want: [5] },
      { applied: 5, commit: 5, limit: NO_LIMIT_BYTES, want: [] },
      { applied: 3, commit: 8, limit: NO_LIMIT_BYTES, want: [4, 5, 6, 7, 8] },
      { applied: 6, commit: 8, limit: NO_LIMIT_BYTES, want: [7, 8] },
      // The byte limit, at least one entry.
      { applied: 3, commit: 8, limit: 1, want: [4] },
      { applied: 3, commit: 8, limit: entrySize, want: [4] },
      { applied: 3, commit: 8, limit: 2 * entrySize - 1, want: [4] },
      { applied: 3, commit: 8, limit: 2 * entrySize, want: [4, 5] },
      { applied: 5, commit: 8, limit: 2 * entrySize, want: [6, 7] },
    ];
    for (const [i, tt] of cases.entries()) {
      const l = build(tt.limit);
      l.commitTo(tt.commit);
      l.appliedTo(tt.applied);
      assert.deepEqual(indexes(l.nextCommittedEntries()), tt.want, `#${i}`);
      assert.equal(l.hasNextCommittedEntries(), tt.want.length > 0, `#${i}`);
    }
    // Applying in limited batches hands out every committed entry exactly once, in order.
    const l = build(2 * entrySize);
    l.commitTo(8);
    const applied: number[] = [];
    for (let batch = 0; batch < 10 && l.hasNextCommittedEntries(); batch++) {
      const ents = l.nextCommittedEntries();
      applied.push(...indexes(ents));
      l.appliedTo((ents[ents.length - 1] as Entry).index);
    }
    assert.deepEqual(applied, [4, 5, 6, 7, 8]);
  });

  it('restore: a snapshot replaces the log; it is pending in the unstable part until persisted', () => {
    const s = new MemoryStorage();
    s.append(entriesAt(1, 1, 1, 1, 1, 1));
    const l = newLog(s);
    l.commitTo(2);
    const snap = snapshot(10, 3);
    l.restore(snap);

    assert.equal(l.committed, 10);
    assert.equal(l.firstIndex(), 11);
    assert.equal(l.lastIndex(), 10);
    assert.equal(l.lastTerm(), 3);
    assert.equal(l.term(10), 3);
    assert.equal(l.term(5), undefined);
    assert.equal(l.hasPendingSnapshot(), true);
    assert.equal(l.snapshot(), snap);
    assert.equal(l.unstable.offset, 11);
    assert.deepEqual(l.unstableEntries(), []);
    // Nothing to apply from the log: the snapshot itself is what gets applied.
    assert.deepEqual(l.nextCommittedEntries(), []);
    assert.equal(l.hasNextCommittedEntries(), false);
    assert.throws(() => l.entries(10, NO_LIMIT_BYTES), compacted);
    // New entries go after it.
    assert.equal(l.append(entriesAt(11, 3)), 11);

    // Once persisted, storage answers.
    s.applySnapshot(snap);
    l.stableSnapTo(10);
    assert.equal(l.hasPendingSnapshot(), false);
    assert.equal(l.firstIndex(), 11);
    assert.equal(l.term(10), 3);
    assert.equal(l.lastIndex(), 11);
  });

  it('stableTo: marks the unstable prefix persisted, but ignores an entry that has since been replaced', () => {
    const cases: { index: number; term: number; offset: number; left: number }[] = [
      { index: 1, term: 1, offset: 2, left: 1 },
      { index: 2, term: 2, offset: 3, left: 0 },
      { index: 2, term: 1, offset: 1, left: 2 }, // wrong term
      { index: 3, term: 1, offset: 1, left: 2 }, // beyond the log
    ];
    for (const [i, tt] of cases.entries()) {
      const l = logWith(entriesAt(1, 1, 2));
      l.stableTo(tt.index, tt.term);
      assert.equal(l.unstable.offset, tt.offset, `#${i}`);
      assert.equal(l.unstable.entries.length, tt.left, `#${i}`);
    }

    // Entries 1..2 of term 1 are handed out to be persisted; before that finishes, a new leader replaces
    // entry 2. The acknowledgement of (2, 1) must not mark the new entry (2, 2) stable: it was never
    // written, and dropping it from the unstable tail would lose it.
    const l = logWith(entriesAt(1, 1, 1));
    const handedOut = l.unstableEntries();
    assert.equal(l.maybeAppend(1, 1, 0, entriesAt(2, 2)), 2);
    const lastHandedOut = handedOut[handedOut.length - 1] as Entry;
    l.stableTo(lastHandedOut.index, lastHandedOut.term);
    assert.deepEqual(indexTerms(l.unstableEntries()), [
      [1, 1],
      [2, 2],
    ]);
    assert.equal(l.unstable.offset, 1);
  });
});

describe('Unstable', () => {
  const withSnap = (offset: number, ents: Entry[], snapIndex?: number): Unstable => {
    const u = new Unstable(offset);
    if (snapIndex !== undefined) u.snapshot = snapshot(snapIndex, 1);
    u.entries = ents;
    return u;
  };

  it('maybeFirstIndex / maybeLastIndex / maybeTerm with and without a pending snapshot', () => {
    const noSnap = withSnap(5, entriesAt(5, 1));
    assert.equal(noSnap.maybeFirstIndex(), undefined);
    assert.equal(noSnap.maybeLastIndex(), 5);
    assert.equal(noSnap.maybeTerm(5), 1);
    assert.equal(noSnap.maybeTerm(4), undefined);
    assert.equal(noSnap.maybeTerm(6), undefined);

    const snapAndEntries = withSnap(5, entriesAt(5, 1), 4);
    assert.equal(snapAndEntries.maybeFirstIndex(), 5);
    assert.equal(snapAndEntries.maybeLastIndex(), 5);
    assert.equal(snapAndEntries.maybeTerm(4), 1);
    assert.equal(snapAndEntries.maybeTerm(3), undefined);

    const snapOnly = withSnap(5, [], 4);
    assert.equal(snapOnly.maybeFirstIndex(), 5);
    assert.equal(snapOnly.maybeLastIndex(), 4);
    assert.equal(snapOnly.maybeTerm(4), 1);
    assert.equal(snapOnly.maybeTerm(5), undefined);

    const empty = new Unstable(1);
    assert.equal(empty.maybeFirstIndex(), undefined);
    assert.equal(empty.maybeLastIndex(), undefined);
    assert.equal(empty.maybeTerm(0), undefined);
  });

  it('stableTo: only an entry of the tail with the same term moves the offset', () => {
    const cases: { u: () => Unstable; index: number; term: number; offset: number; left: number }[] = [
      { u: () => withSnap(0, []), index: 5, term: 1, offset: 0, left: 0 },
      { u: () => withSnap(5, entriesAt(5, 1)), index: 5, term: 1, offset: 6, left: 0 },
      { u: () => withSnap(5, entriesAt(5, 1, 1)), index: 5, term: 1, offset: 6, left: 1 },
      { u: () => withSnap(6, entriesAt(6, 2)), index: 6, term: 1, offset: 6, left: 1 }, // term mismatch
      { u: () => withSnap(5, entriesAt(5, 1)), index: 4, term: 1, offset: 5, left: 1 }, // below the tail
      { u: () => withSnap(5, entriesAt(5, 1)), index: 4, term: 2, offset: 5, left: 1 },
      // With a snapshot.
      { u: () => withSnap(5, entriesAt(5, 1), 4), index: 5, term: 1, offset: 6, left: 0 },
      { u: () => withSnap(5, entriesAt(5, 1, 1), 4), index: 5, term: 1, offset: 6, left: 1 },
      { u: () => withSnap(6, entriesAt(6, 2), 5), index: 6, term: 1, offset: 6, left: 1 },
      // The snapshot's own index is not an unstable entry.
      { u: () => withSnap(5, entriesAt(5, 1), 4), index: 4, term: 1, offset: 5, left: 1 },
      { u: () => withSnap(5, entriesAt(5, 2), 4), index: 4, term: 1, offset: 5, left: 1 },
    ];
    for (const [i, tt] of cases.entries()) {
      const u = tt.u();
      u.stableTo(tt.index, tt.term);
      assert.equal(u.offset, tt.offset, `#${i}`);
      assert.equal(u.entries.length, tt.left, `#${i}`);
    }
  });

  it('truncateAndAppend: append at the end, replace the whole tail, or truncate inside it', () => {
    const cases: {
      offset: number;
      ents: Entry[];
      append: Entry[];
      woffset: number;
      want: [number, number][];
    }[] = [
      // Directly after the tail.
      {
        offset: 5,
        ents: entriesAt(5, 1),
        append: entriesAt(6, 1, 1),
        woffset: 5,
        want: [
          [5, 1],
          [6, 1],
          [7, 1],
        ],
      },
      // Starting at the offset: the whole tail is replaced.
      {
        offset: 5,
        ents: entriesAt(5, 1),
        append: entriesAt(5, 2, 2),
        woffset: 5,
        want: [
          [5, 2],
          [6, 2],
        ],
      },
      // Starting before the offset: replaces persisted entries too, the offset moves back.
      {
        offset: 5,
        ents: entriesAt(5, 1),
        append: entriesAt(4, 2, 2, 2),
        woffset: 4,
        want: [
          [4, 2],
          [5, 2],
          [6, 2],
        ],
      },
      // Inside the tail: keep the prefix, drop the rest.
      {
        offset: 5,
        ents: entriesAt(5, 1, 1, 1),
        append: entriesAt(6, 2),
        woffset: 5,
        want: [
          [5, 1],
          [6, 2],
        ],
      },
      {
        offset: 5,
        ents: entriesAt(5, 1, 1, 1),
        append: entriesAt(7, 2, 2),
        woffset: 5,
        want: [
          [5, 1],
          [6, 1],
          [7, 2],
          [8, 2],
        ],
      },
    ];
    for (const [i, tt] of cases.entries()) {
      const u = withSnap(tt.offset, tt.ents);
      u.truncateAndAppend(tt.append);
      assert.equal(u.offset, tt.woffset, `#${i}`);
      assert.deepEqual(indexTerms(u.entries), tt.want, `#${i}`);
    }
  });

  it('truncateAndAppend refuses a gap after the tail (a broken invariant, as in etcd)', () => {
    // Entries 5..6 are unstable; appending 8 would leave index 7 missing and put entry 8 where entry 7
    // belongs.
    const u = withSnap(5, entriesAt(5, 1, 1));
    assert.throws(() => u.truncateAndAppend(entriesAt(8, 1)), brokenInvariant);
    assert.deepEqual(indexTerms(u.entries), [
      [5, 1],
      [6, 1],
    ]);
    // Through RaftLog too: the log never holds an entry at the wrong position.
    const l = logWith(entriesAt(1, 1, 1));
    assert.throws(() => l.append(entriesAt(4, 1)), brokenInvariant);
    assert.equal(l.lastIndex(), 2);
  });

  it('truncateAndAppend shares no array with the caller or with slices handed out', () => {
    // The three paths: inside the tail, replacing it, after it.
    for (const first of [6, 5, 8]) {
      const u = withSnap(5, entriesAt(5, 1, 1, 1));
      const handedOut = u.slice(5, 8);
      const incoming = entriesAt(first, 2);
      u.truncateAndAppend(incoming);
      const after = indexTerms(u.entries);
      incoming.push(newEntry({ index: first + 1, term: 2 }));
      handedOut.pop();
      assert.deepEqual(indexTerms(u.entries), after, `at ${first}`);
      u.truncateAndAppend(entriesAt(first, 3));
      assert.deepEqual(
        indexTerms(handedOut),
        [
          [5, 1],
          [6, 1],
        ],
        `at ${first}`,
      );
    }
  });

  it('restore: the snapshot becomes pending and the tail restarts after it', () => {
    const u = withSnap(5, entriesAt(5, 1, 1));
    const s = snapshot(6, 2);
    u.restore(s);
    assert.equal(u.offset, 7);
    assert.deepEqual(u.entries, []);
    assert.equal(u.snapshot, s);
    u.stableSnapTo(5);
    assert.equal(u.snapshot, s, 'a different index does not acknowledge it');
    u.stableSnapTo(6);
    assert.equal(u.snapshot, undefined);
  });

  it('slice: only within the tail', () => {
    const u = withSnap(5, entriesAt(5, 1, 1, 1));
    assert.deepEqual(indexTerms(u.slice(6, 8)), [
      [6, 1],
      [7, 1],
    ]);
    assert.deepEqual(u.slice(6, 6), []);
    assert.throws(() => u.slice(4, 6), brokenInvariant);
    assert.throws(() => u.slice(6, 9), brokenInvariant);
    assert.throws(() => u.slice(7, 6), brokenInvariant);
  });
});
