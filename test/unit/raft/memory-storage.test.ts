import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RaftError, isRaftError, type RaftErrorCode } from '../../../server/src/raft/errors.js';
import { MemoryStorage } from '../../../server/src/raft/memory-storage.js';
import {
  emptyConfState,
  entrySizeBytes,
  newEntry,
  type ConfState,
  type Entry,
  type Snapshot,
} from '../../../server/src/raftpb/types.js';
import { AssertionError } from '../../../server/src/util/assert.js';

const e = (index: number, term: number, data = ''): Entry =>
  newEntry({ index, term, data: new TextEncoder().encode(data) });

const cs123 = (): ConfState => ({ ...emptyConfState(), voters: [1n, 2n, 3n] });

function snapshotAt(index: number, term: number, confState = cs123()): Snapshot {
  return { data: new Uint8Array([index]), metadata: { index, term, confState } };
}

/** Like etcd's storage tests: the snapshot covers up to 3/3, the log holds 4/4 and 5/5. */
function storage345(): MemoryStorage {
  const ms = new MemoryStorage();
  ms.applySnapshot(snapshotAt(3, 3));
  ms.append([e(4, 4), e(5, 5)]);
  return ms;
}

const raftError = (code: RaftErrorCode) => (err: unknown) => isRaftError(err, code);
const brokenInvariant = (pattern: RegExp) => (err: unknown) =>
  err instanceof AssertionError && pattern.test(err.message);

const indexes = (es: Entry[]): number[] => es.map((x) => x.index);

describe('MemoryStorage', () => {
  it('starts empty: the dummy entry is 0/0', () => {
    const ms = new MemoryStorage();
    assert.equal(ms.firstIndex(), 1);
    assert.equal(ms.lastIndex(), 0);
    assert.equal(ms.term(0), 0);
    assert.throws(() => ms.term(1), raftError('ErrUnavailable'));
    assert.deepEqual(ms.initialState(), {
      hardState: { term: 0, vote: 0n, commit: 0 },
      confState: emptyConfState(),
    });
    assert.equal(ms.snapshot().metadata.index, 0);
    assert.throws(() => ms.entries(1, 1, Infinity), raftError('ErrUnavailable'));
  });

  it('initialState: the saved hard state and the snapshot conf state, as copies', () => {
    const ms = storage345();
    ms.setHardState({ term: 5, vote: 2n, commit: 4 });
    const st = ms.initialState();
    assert.deepEqual(st, { hardState: { term: 5, vote: 2n, commit: 4 }, confState: cs123() });
    st.confState.voters.push(9n);
    st.hardState.term = 99;
    assert.deepEqual(ms.initialState(), { hardState: { term: 5, vote: 2n, commit: 4 }, confState: cs123() });
  });

  it('setHardState keeps a copy', () => {
    const ms = new MemoryStorage();
    const hs = { term: 1, vote: 1n, commit: 0 };
    ms.setHardState(hs);
    hs.commit = 7;
    assert.equal(ms.initialState().hardState.commit, 0);
  });

  it('term: compacted below the dummy, unavailable past the end', () => {
    const ms = storage345();
    assert.throws(() => ms.term(2), raftError('ErrCompacted'));
    assert.equal(ms.term(3), 3);
    assert.equal(ms.term(4), 4);
    assert.equal(ms.term(5), 5);
    assert.throws(() => ms.term(6), raftError('ErrUnavailable'));
  });

  it('firstIndex and lastIndex follow appends and compaction', () => {
    const ms = storage345();
    assert.equal(ms.firstIndex(), 4);
    assert.equal(ms.lastIndex(), 5);
    ms.append([e(6, 5)]);
    assert.equal(ms.lastIndex(), 6);
    ms.compact(4);
    assert.equal(ms.firstIndex(), 5);
    assert.equal(ms.lastIndex(), 6);
  });

  it('entries: ranges, errors and the size limit', () => {
    const ms = new MemoryStorage();
    ms.applySnapshot(snapshotAt(3, 3));
    ms.append([e(4, 4), e(5, 5), e(6, 6)]);
    const size = entrySizeBytes(e(4, 4));
    assert.throws(() => ms.entries(2, 6, Infinity), raftError('ErrCompacted'));
    assert.throws(() => ms.entries(3, 4, Infinity), raftError('ErrCompacted'));
    assert.deepEqual(indexes(ms.entries(4, 5, Infinity)), [4]);
    assert.deepEqual(indexes(ms.entries(4, 6, Infinity)), [4, 5]);
    assert.deepEqual(indexes(ms.entries(4, 7, Infinity)), [4, 5, 6]);
    assert.deepEqual(indexes(ms.entries(5, 5, Infinity)), []);
    // Even a limit of 0 returns the first entry.
    assert.deepEqual(indexes(ms.entries(4, 7, 0)), [4]);
    assert.deepEqual(indexes(ms.entries(4, 7, 2 * size)), [4, 5]);
    assert.deepEqual(indexes(ms.entries(4, 7, 3 * size - 1)), [4, 5]);
    assert.deepEqual(indexes(ms.entries(4, 7, 3 * size)), [4, 5, 6]);
    assert.deepEqual(indexes(ms.entries(4, 7, 2 * size + size / 2)), [4, 5]);
    // Sizes count the payload: one big entry cuts the batch before it.
    ms.append([e(7, 6, 'x'.repeat(1000))]);
    assert.deepEqual(indexes(ms.entries(5, 8, 1000)), [5, 6]);
    assert.deepEqual(indexes(ms.entries(7, 8, 10)), [7]);
    assert.throws(() => ms.entries(4, 9, Infinity), brokenInvariant(/out of bound/));
    assert.throws(() => ms.entries(6, 5, Infinity), brokenInvariant(/lo 6 > hi 5/));
  });

  it('entries hands out a copy of the array', () => {
    const ms = storage345();
    const got = ms.entries(4, 6, Infinity);
    got.pop();
    got.push(e(5, 99));
    assert.equal(ms.term(5), 5);
    assert.deepEqual(indexes(ms.entries(4, 6, Infinity)), [4, 5]);
  });

  it('compact: moves the dummy, refuses to compact twice, asserts the bound', () => {
    const ms = storage345();
    ms.append([e(6, 5)]);
    assert.throws(() => ms.compact(2), raftError('ErrCompacted'));
    assert.throws(() => ms.compact(3), raftError('ErrCompacted'));
    ms.compact(5);
    assert.equal(ms.firstIndex(), 6);
    assert.equal(ms.term(5), 5);
    assert.throws(() => ms.term(4), raftError('ErrCompacted'));
    assert.deepEqual(indexes(ms.entries(6, 7, Infinity)), [6]);
    ms.compact(6);
    assert.equal(ms.firstIndex(), 7);
    assert.equal(ms.lastIndex(), 6);
    assert.throws(() => ms.compact(7), brokenInvariant(/out of bound/));
  });

  it('createSnapshot: records index, term, conf state and data; refuses old indexes', () => {
    const ms = storage345();
    ms.append([e(6, 5)]);
    const data = new Uint8Array([1, 2, 3]);
    const cs: ConfState = { ...emptyConfState(), voters: [1n, 2n], learners: [3n] };
    const snap = ms.createSnapshot(4, cs, data);
    assert.deepEqual(snap, { data, metadata: { index: 4, term: 4, confState: cs } });
    assert.deepEqual(ms.snapshot(), snap);
    // The conf state was copied in.
    cs.voters.push(7n);
    assert.deepEqual(ms.snapshot().metadata.confState.voters, [1n, 2n]);
    // undefined keeps the previous conf state.
    const next = ms.createSnapshot(6, undefined, new Uint8Array([9]));
    assert.deepEqual(next.metadata, {
      index: 6,
      term: 5,
      confState: { ...emptyConfState(), voters: [1n, 2n], learners: [3n] },
    });
    // createSnapshot does not compact.
    assert.equal(ms.firstIndex(), 4);
    assert.throws(() => ms.createSnapshot(6, undefined, data), raftError('ErrSnapOutOfDate'));
    assert.throws(() => ms.createSnapshot(5, undefined, data), raftError('ErrSnapOutOfDate'));
    assert.throws(() => ms.createSnapshot(7, undefined, data), brokenInvariant(/out of bound/));
  });

  it('snapshot hands out a copy', () => {
    const ms = storage345();
    const s = ms.snapshot();
    assert.deepEqual(s, snapshotAt(3, 3));
    s.metadata.confState.voters.length = 0;
    s.metadata.index = 100;
    assert.deepEqual(ms.snapshot(), snapshotAt(3, 3));
  });

  it('applySnapshot: replaces the log; an older or equal snapshot is out of date', () => {
    const ms = new MemoryStorage();
    const first = snapshotAt(4, 4);
    ms.applySnapshot(first);
    first.metadata.confState.voters.push(42n);
    assert.deepEqual(ms.initialState().confState, cs123());
    assert.equal(ms.firstIndex(), 5);
    assert.equal(ms.lastIndex(), 4);
    assert.equal(ms.term(4), 4);
    assert.throws(() => ms.applySnapshot(snapshotAt(3, 3)), raftError('ErrSnapOutOfDate'));
    assert.throws(() => ms.applySnapshot(snapshotAt(4, 4)), raftError('ErrSnapOutOfDate'));
    ms.append([e(5, 4), e(6, 5)]);
    ms.applySnapshot(snapshotAt(10, 6));
    assert.equal(ms.firstIndex(), 11);
    assert.equal(ms.lastIndex(), 10);
    assert.equal(ms.term(10), 6);
    assert.throws(() => ms.term(6), raftError('ErrCompacted'));
    assert.equal(ms.snapshot().metadata.index, 10);
  });

  describe('append', () => {
    const cases: { name: string; append: Entry[]; want: [number, number][] }[] = [
      {
        name: 'same entries',
        append: [e(3, 3), e(4, 4), e(5, 5)],
        want: [
          [3, 3],
          [4, 4],
          [5, 5],
        ],
      },
      {
        name: 'replace a suffix',
        append: [e(3, 3), e(4, 6), e(5, 6)],
        want: [
          [3, 3],
          [4, 6],
          [5, 6],
        ],
      },
      {
        name: 'longer, same prefix',
        append: [e(3, 3), e(4, 4), e(5, 5), e(6, 5)],
        want: [
          [3, 3],
          [4, 4],
          [5, 5],
          [6, 5],
        ],
      },
      {
        name: 'all below firstIndex: ignored',
        append: [e(2, 3), e(3, 3)],
        want: [
          [3, 3],
          [4, 4],
          [5, 5],
        ],
      },
      {
        name: 'partly below firstIndex: that part is ignored',
        append: [e(2, 3), e(3, 3), e(4, 5)],
        want: [
          [3, 3],
          [4, 5],
        ],
      },
      {
        name: 'truncate the last entry',
        append: [e(5, 5)],
        want: [
          [3, 3],
          [4, 4],
          [5, 5],
        ],
      },
      {
        name: 'overwrite from the middle',
        append: [e(4, 5)],
        want: [
          [3, 3],
          [4, 5],
        ],
      },
      {
        name: 'directly after the end',
        append: [e(6, 5)],
        want: [
          [3, 3],
          [4, 4],
          [5, 5],
          [6, 5],
        ],
      },
      {
        name: 'nothing',
        append: [],
        want: [
          [3, 3],
          [4, 4],
          [5, 5],
        ],
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const ms = storage345();
        ms.append(c.append);
        const got: [number, number][] = [];
        for (let i = ms.firstIndex() - 1; i <= ms.lastIndex(); i++) got.push([i, ms.term(i)]);
        assert.deepEqual(got, c.want);
      });
    }

    it('a gap after the last index is a broken invariant', () => {
      const ms = storage345();
      assert.throws(() => ms.append([e(7, 5)]), brokenInvariant(/missing log entries/));
      assert.equal(ms.lastIndex(), 5);
    });

    it('non-consecutive entries are a broken invariant', () => {
      const ms = storage345();
      assert.throws(() => ms.append([e(6, 5), e(8, 5)]), brokenInvariant(/not consecutive/));
    });

    it('keeps its own array: the caller changing its array later changes nothing', () => {
      const ms = storage345();
      const batch = [e(6, 5), e(7, 5)];
      ms.append(batch);
      batch.length = 0;
      batch.push(e(99, 9));
      assert.equal(ms.lastIndex(), 7);
      assert.deepEqual(indexes(ms.entries(6, 8, Infinity)), [6, 7]);
    });
  });

  it('errors are RaftErrors with etcd messages', () => {
    const ms = storage345();
    try {
      ms.term(1);
      assert.fail('term(1) must throw');
    } catch (err) {
      assert.ok(err instanceof RaftError);
      assert.equal(err.code, 'ErrCompacted');
      assert.match(err.message, /^requested index is unavailable due to compaction/);
    }
  });
});
