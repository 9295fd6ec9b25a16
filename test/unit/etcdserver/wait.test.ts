import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdGenerator } from '../../../server/src/etcdserver/id-generator.js';
import { Wait } from '../../../server/src/etcdserver/wait.js';

describe('IdGenerator', () => {
  it("puts the member's low 16 bits on top and counts up from the start time", () => {
    const g = new IdGenerator(0x1234_5678_9abc_def0n, 0x12_3456_789a);
    const a = g.next();
    const b = g.next();
    assert.equal(a >> 48n, 0xdef0n);
    assert.equal(b, a + 1n);
    assert.equal(a & 0xffff_ffff_ffffn, (0x12_3456_789an << 8n) + 1n);
  });

  it('two members or two starts never collide', () => {
    const m1 = new IdGenerator(1n, 1000);
    const m2 = new IdGenerator(2n, 1000);
    const later = new IdGenerator(1n, 2000);
    const ids = new Set<bigint>();
    for (let i = 0; i < 1000; i++) {
      ids.add(m1.next());
      ids.add(m2.next());
      ids.add(later.next());
    }
    assert.equal(ids.size, 3000);
  });
});

describe('Wait', () => {
  it('delivers a result to its waiter once; unknown ids are ignored', async () => {
    const w = new Wait<string>();
    const p = w.register(7n);
    assert.equal(w.trigger(8n, 'other member'), false);
    assert.equal(w.trigger(7n, 'done'), true);
    assert.equal(await p, 'done');
    assert.equal(w.trigger(7n, 'again'), false);
    assert.equal(w.size, 0);
  });

  it('cancels one or all, refuses duplicates', async () => {
    const w = new Wait<number>();
    const a = w.register(1n);
    const b = w.register(2n);
    const c = w.register(3n);
    assert.throws(() => w.register(1n), /duplicate wait id/);
    w.cancel(1n, new Error('timed out'));
    await assert.rejects(a, /timed out/);
    w.cancelAll(new Error('stopped'));
    await assert.rejects(b, /stopped/);
    await assert.rejects(c, /stopped/);
    assert.equal(w.isRegistered(2n), false);
  });
});
