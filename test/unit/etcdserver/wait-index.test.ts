import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IndexWaiter } from '../../../server/src/etcdserver/wait-index.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('IndexWaiter', () => {
  it('starts at 0 and resolves a wait at or below the reached index at once', async () => {
    const w = new IndexWaiter();
    assert.equal(w.index, 0);
    await w.wait(0);
    w.trigger(5);
    assert.equal(w.index, 5);
    let done = 0;
    void w.wait(5).then(() => done++);
    void w.wait(3).then(() => done++);
    await flush();
    assert.equal(done, 2);
  });

  it('a wait above the reached index stays pending until a trigger reaches it', async () => {
    const w = new IndexWaiter();
    let done = false;
    void w.wait(10).then(() => {
      done = true;
    });
    w.trigger(9);
    await flush();
    assert.equal(done, false);
    w.trigger(10);
    await flush();
    assert.equal(done, true);
  });

  it('wakes waiters in index order, only those reached, whatever order they waited in', async () => {
    const w = new IndexWaiter();
    const woke: number[] = [];
    for (const i of [7, 3, 9, 5, 3, 12]) void w.wait(i).then(() => woke.push(i));
    w.trigger(4);
    await flush();
    assert.deepEqual(woke, [3, 3]);
    w.trigger(9);
    await flush();
    assert.deepEqual(woke, [3, 3, 5, 7, 9]);
    w.trigger(100);
    await flush();
    assert.deepEqual(woke, [3, 3, 5, 7, 9, 12]);
  });

  it('a trigger never moves the index back', async () => {
    const w = new IndexWaiter();
    w.trigger(10);
    w.trigger(4);
    assert.equal(w.index, 10);
    let done = false;
    void w.wait(8).then(() => {
      done = true;
    });
    await flush();
    assert.equal(done, true, 'index 8 counts as reached after trigger(10) then trigger(4)');
    let later = false;
    void w.wait(11).then(() => {
      later = true;
    });
    w.trigger(10);
    w.trigger(2);
    await flush();
    assert.equal(later, false);
    assert.equal(w.index, 10);
  });
});
