import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeaseQueue } from '../../../server/src/lease/lease-queue.js';

describe('LeaseQueue', () => {
  it('pops in expiry order after upserts that move items both ways and removals', () => {
    const q = new LeaseQueue();
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const expected = new Map<bigint, number>();
    for (let i = 0; i < 2000; i++) {
      const id = BigInt(1 + rand(300));
      const op = rand(10);
      if (op < 7) {
        const at = rand(100_000);
        q.upsert(id, at);
        expected.set(id, at);
      } else {
        q.remove(id);
        expected.delete(id);
      }
      if (i % 100 === 0) q.verify();
    }
    q.verify();
    assert.equal(q.size, expected.size);
    const popped: number[] = [];
    for (let item = q.pop(); item !== undefined; item = q.pop()) {
      assert.equal(item.expiryMs, expected.get(item.id));
      popped.push(item.expiryMs);
    }
    assert.deepEqual(
      popped,
      [...expected.values()].sort((a, b) => a - b),
    );
    assert.equal(q.size, 0);
  });

  it('keeps one entry per id', () => {
    const q = new LeaseQueue();
    q.upsert(1n, 50);
    q.upsert(1n, 10);
    q.upsert(2n, 20);
    q.upsert(1n, 30);
    assert.equal(q.size, 2);
    assert.deepEqual(q.peek(), { id: 2n, expiryMs: 20 });
    q.remove(2n);
    assert.deepEqual(q.pop(), { id: 1n, expiryMs: 30 });
    assert.equal(q.pop(), undefined);
  });
});
