import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyIndex } from '../../../server/src/mvcc/key-index.js';
import { revisionKey } from '../../../server/src/mvcc/revision.js';

const r = (main: number, sub = 0) => ({ main, sub });

/** put(1.0); put(2.0); tombstone(3.0); put(4.0); tombstone(5.0) — the worked example in key-index.ts. */
function example(): KeyIndex {
  const ki = new KeyIndex(Buffer.from('foo'));
  ki.put(r(1));
  ki.put(r(2));
  ki.tombstone(r(3));
  ki.put(r(4));
  ki.tombstone(r(5));
  return ki;
}

function shape(ki: KeyIndex): string[][] {
  return ki.generations.map((g) => g.revs.map(revisionKey));
}

describe('KeyIndex', () => {
  it('tracks generations, created revision and version per life of the key', () => {
    const ki = example();
    assert.deepEqual(shape(ki), [['1_0', '2_0', '3_0'], ['4_0', '5_0'], []]);
    assert.deepEqual(ki.get(1), { modified: r(1), created: r(1), version: 1 });
    assert.deepEqual(ki.get(2), { modified: r(2), created: r(1), version: 2 });
    assert.equal(ki.get(3), undefined, 'deleted at 3');
    assert.deepEqual(
      ki.get(4),
      { modified: r(4), created: r(4), version: 1 },
      're-created: version restarts',
    );
    assert.equal(ki.get(5), undefined);
    assert.equal(ki.get(100), undefined);
    assert.equal(ki.get(0), undefined, 'before creation');
    assert.equal(ki.isLive(), false);
  });

  it('compacts as etcd does, keeping a tombstone at exactly the compaction revision', () => {
    const cases: [number, string[][], string[]][] = [
      [1, [['1_0', '2_0', '3_0'], ['4_0', '5_0'], []], ['1_0']],
      [2, [['2_0', '3_0'], ['4_0', '5_0'], []], ['2_0']],
      [3, [['3_0'], ['4_0', '5_0'], []], ['3_0']],
      [4, [['4_0', '5_0'], []], ['4_0']],
      [5, [['5_0'], []], ['5_0']],
      [6, [[]], []],
    ];
    for (const [at, want, wantKeep] of cases) {
      const ki = example();
      const keep = new Set<string>();
      ki.compact(at, keep);
      assert.deepEqual(shape(ki), want, `compact(${at})`);
      assert.deepEqual([...keep], wantKeep, `compact(${at}) keeps`);
    }
    const ki = example();
    ki.compact(6, new Set());
    assert.equal(ki.isEmpty(), true);
  });

  it('answers reads above the compaction revision unchanged after compaction', () => {
    const ki = new KeyIndex(Buffer.from('k'));
    for (let i = 1; i <= 10; i++) ki.put(r(i));
    ki.compact(7, new Set());
    assert.deepEqual(ki.get(7), { modified: r(7), created: r(1), version: 7 });
    assert.deepEqual(ki.get(10), { modified: r(10), created: r(1), version: 10 });
    assert.deepEqual(shape(ki), [['7_0', '8_0', '9_0', '10_0']]);
  });

  it('rejects a put that does not move forward and a tombstone on a deleted key', () => {
    const ki = example();
    assert.throws(() => ki.put(r(5)), /not after/);
    assert.throws(() => ki.tombstone(r(6)), /deleted key/);
  });

  it('lists revisions since a revision, oldest first', () => {
    assert.deepEqual(example().since(2).map(revisionKey), ['3_0', '4_0', '5_0']);
  });
});
