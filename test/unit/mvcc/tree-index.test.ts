import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TreeIndex } from '../../../server/src/mvcc/tree-index.js';
import type { KeyRange } from '../../../server/src/mvcc/tree-index.js';

const b = (s: string) => Buffer.from(s, 'latin1');

function keysIn(idx: TreeIndex, range: KeyRange, rev: number, reverse = false): string[] {
  const out: string[] = [];
  const visit = (ki: { key: Buffer }) => {
    out.push(ki.key.toString('latin1'));
    return true;
  };
  if (reverse) idx.visitReverse(range, rev, visit);
  else idx.visit(range, rev, visit);
  return out;
}

describe('TreeIndex', () => {
  const idx = new TreeIndex();
  const keys = ['a', 'ab', 'abc', 'b', 'b\xff', 'c', '\x00', '\xff\xff'];
  keys.forEach((k, i) => idx.put(b(k), { main: i + 2, sub: 0 }));
  idx.tombstone(b('ab'), { main: 20, sub: 0 });

  it('reads single keys, ranges, open ranges and everything in byte order', () => {
    assert.deepEqual(keysIn(idx, { key: b('a') }, 30), ['a']);
    assert.deepEqual(keysIn(idx, { key: b('a'), end: b('b') }, 30), ['a', 'abc']);
    assert.deepEqual(keysIn(idx, { key: b('a'), end: b('b') }, 19), ['a', 'ab', 'abc'], 'before the delete');
    assert.deepEqual(keysIn(idx, { key: b('b'), end: Buffer.alloc(0) }, 30), ['b', 'b\xff', 'c', '\xff\xff']);
    assert.deepEqual(keysIn(idx, { key: b('\x00'), end: Buffer.alloc(0) }, 30), [
      '\x00',
      'a',
      'abc',
      'b',
      'b\xff',
      'c',
      '\xff\xff',
    ]);
    assert.deepEqual(keysIn(idx, { key: b('c'), end: b('a') }, 30), [], 'end before key is empty');
    assert.deepEqual(keysIn(idx, { key: b('a'), end: b('c') }, 3), ['a', 'ab'], 'at revision 3');
  });

  it('walks ranges backwards', () => {
    assert.deepEqual(keysIn(idx, { key: b('a'), end: b('c') }, 30, true), ['b\xff', 'b', 'abc', 'a']);
    assert.deepEqual(keysIn(idx, { key: b('b'), end: Buffer.alloc(0) }, 30, true), [
      '\xff\xff',
      'c',
      'b\xff',
      'b',
    ]);
  });

  it('counts keys in a range at a revision', () => {
    assert.equal(idx.count({ key: b('a'), end: b('b') }, 30), 2);
    assert.equal(idx.count({ key: b('\x00'), end: Buffer.alloc(0) }, 30), 7);
  });

  it('drops keys left with no history by compaction and reports what to keep', () => {
    const t = new TreeIndex();
    t.put(b('x'), { main: 2, sub: 0 });
    t.put(b('x'), { main: 3, sub: 0 });
    t.tombstone(b('x'), { main: 4, sub: 0 });
    t.put(b('y'), { main: 5, sub: 0 });
    assert.deepEqual([...t.compact(4)].sort(), ['4_0']);
    assert.equal(t.size, 2, 'tombstone at the compaction revision keeps x');
    assert.deepEqual([...t.compact(5)].sort(), ['5_0']);
    assert.equal(t.size, 1);
    assert.equal(t.get(b('y'), 5)?.at.version, 1);
  });

  it('visits a prefix in time proportional to the result, not to the key count', () => {
    const big = new TreeIndex();
    for (let i = 0; i < 50_000; i++) big.put(b(`key/${String(i).padStart(6, '0')}`), { main: i + 2, sub: 0 });
    let visited = 0;
    const hits: string[] = [];
    big.visit({ key: b('key/012340'), end: b('key/012343') }, 60_000, (ki) => {
      visited++;
      hits.push(ki.key.toString());
      return true;
    });
    assert.deepEqual(hits, ['key/012340', 'key/012341', 'key/012342']);
    assert.equal(visited, 3);
  });
});
