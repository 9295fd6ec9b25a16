import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { newOperatorMetrics } from '../../../../operator/src/runtime/metrics.js';
import { ItemExponentialRateLimiter } from '../../../../operator/src/runtime/rate-limiter.js';
import {
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_MAX_MS,
  WorkQueue,
} from '../../../../operator/src/runtime/work-queue.js';
import { FakeClock, settle } from './fake-clock.js';

function newQueue(clock = new FakeClock(), extra: { backoffBaseMs?: number; backoffMaxMs?: number } = {}) {
  return { clock, queue: new WorkQueue({ name: 'test', clock, ...extra }) };
}

const PENDING: unique symbol = Symbol('pending');

/** Resolves to the key `get()` produced, or PENDING if it has not resolved once pending work ran. */
async function peek(p: Promise<string | undefined>): Promise<string | undefined | typeof PENDING> {
  let value: string | undefined | typeof PENDING = PENDING;
  void p.then((v) => (value = v));
  await settle();
  return value;
}

describe('WorkQueue', () => {
  it('hands keys out in FIFO order and collapses duplicates', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    assert.equal(queue.len(), 2);
    assert.equal(await queue.get(), 'ns/a');
    assert.equal(await queue.get(), 'ns/b');
    assert.equal(queue.len(), 0);
    assert.equal(await peek(queue.get()), PENDING);
    queue.shutDown();
  });

  it('never hands a key to two workers; a key added while processing comes back after done()', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    const first = await queue.get();
    assert.equal(first, 'ns/a');
    queue.add('ns/a'); // the object changed mid-reconcile
    queue.add('ns/a');
    assert.equal(queue.len(), 0, 'held key must not be queued again while processing');
    const second = queue.get();
    assert.equal(await peek(second), PENDING);
    queue.done('ns/a');
    assert.equal(await peek(second), 'ns/a', 'the re-added key is processed once more');
    queue.done('ns/a');
    assert.equal(await peek(queue.get()), PENDING, 'and only once');
    queue.shutDown();
  });

  it('done() without a re-add does not requeue', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    assert.equal(await queue.get(), 'ns/a');
    queue.done('ns/a');
    assert.equal(queue.len(), 0);
    queue.shutDown();
  });

  it('wakes a blocked get() when a key is added', async () => {
    const { queue } = newQueue();
    const waiting = queue.get();
    assert.equal(await peek(waiting), PENDING);
    queue.add('ns/a');
    assert.equal(await waiting, 'ns/a');
    queue.shutDown();
  });

  it('addAfter delays a key, and a shorter delay moves a waiting key earlier', async () => {
    const { queue, clock } = newQueue();
    queue.addAfter('ns/a', 1000);
    queue.addAfter('ns/b', 500);
    queue.addAfter('ns/a', 200); // earlier: wins
    queue.addAfter('ns/b', 900); // later: ignored
    const got = queue.get();
    await clock.advance(199);
    assert.equal(await peek(got), PENDING);
    await clock.advance(1);
    assert.equal(await got, 'ns/a');
    await clock.advance(299);
    assert.equal(queue.len(), 0);
    await clock.advance(1);
    assert.equal(queue.len(), 1);
    assert.equal(await queue.get(), 'ns/b');
    await clock.advance(10_000);
    assert.equal(queue.len(), 0, 'the superseded 1000 ms and 900 ms deadlines add nothing');
    assert.equal(clock.pendingTimers, 0);
    queue.shutDown();
  });

  it('addAfter with a zero delay adds at once', () => {
    const { queue } = newQueue();
    queue.addAfter('ns/a', 0);
    assert.equal(queue.len(), 1);
    queue.shutDown();
  });

  it('addRateLimited backs off exponentially per key until forget()', async () => {
    const { queue, clock } = newQueue(new FakeClock(), { backoffBaseMs: 5, backoffMaxMs: 30 });
    const readyAfter = async (key: string): Promise<number> => {
      queue.addRateLimited(key);
      let waitedMs = 0;
      while (queue.len() === 0) {
        await clock.advance(1);
        waitedMs++;
      }
      assert.equal(await queue.get(), key);
      queue.done(key);
      return waitedMs;
    };
    assert.equal(await readyAfter('ns/a'), 5);
    assert.equal(await readyAfter('ns/a'), 10);
    assert.equal(await readyAfter('ns/a'), 20);
    assert.equal(await readyAfter('ns/a'), 30, 'capped at backoffMaxMs');
    assert.equal(queue.numRequeues('ns/a'), 4);
    assert.equal(await readyAfter('ns/b'), 5, 'back-off is per key');
    queue.forget('ns/a');
    assert.equal(queue.numRequeues('ns/a'), 0);
    assert.equal(await readyAfter('ns/a'), 5, 'forget resets the back-off');
    queue.shutDown();
  });

  it('defaults to client-go back-off: 5 ms doubling up to 1000 s', async () => {
    const { queue, clock } = newQueue();
    queue.addRateLimited('ns/a');
    await clock.advance(4);
    assert.equal(queue.len(), 0);
    await clock.advance(1);
    assert.equal(queue.len(), 1);
    const limiter = new ItemExponentialRateLimiter(DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_MAX_MS);
    const delays = Array.from({ length: 30 }, () => limiter.when('k'));
    assert.deepEqual(delays.slice(0, 4), [5, 10, 20, 40]);
    assert.equal(delays[17], 655_360);
    assert.equal(delays[18], 1_000_000, 'capped at 1000 s');
    assert.equal(delays[29], 1_000_000);
    queue.shutDown();
  });

  it('shutDown resolves blocked and later get() with undefined, ignores adds and clears timers', async () => {
    const { queue, clock } = newQueue();
    const blocked = queue.get();
    queue.addAfter('ns/late', 100);
    assert.equal(clock.pendingTimers, 1);
    queue.shutDown();
    assert.equal(await blocked, undefined);
    assert.equal(clock.pendingTimers, 0);
    queue.add('ns/a');
    assert.equal(queue.len(), 0);
    assert.equal(await queue.get(), undefined);
  });

  it('shutDownWithDrain waits for held keys to be done', async () => {
    const { queue } = newQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    assert.equal(await queue.get(), 'ns/a');
    let drained = false;
    const drain = queue.shutDownWithDrain().then(() => (drained = true));
    await settle();
    assert.equal(drained, false);
    assert.equal(await queue.get(), undefined, 'no new keys handed out while draining');
    queue.done('ns/a');
    await drain;
    assert.equal(drained, true);
  });

  it('rejects invalid back-off options with a readable error', () => {
    assert.throws(() => new WorkQueue({ name: 'x', backoffBaseMs: 0 }), /backoffBaseMs/);
    assert.throws(() => new WorkQueue({ name: 'x', backoffBaseMs: 10, backoffMaxMs: 5 }), /backoffMaxMs/);
  });

  it('reports depth, adds and retries per queue name', async () => {
    const registry = new Registry();
    const metrics = newOperatorMetrics(registry);
    const clock = new FakeClock();
    const queue = new WorkQueue({ name: 'kvcluster', clock, metrics });
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/b');
    queue.addRateLimited('ns/c');
    const value = async (name: string) =>
      (await registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels['name'] === 'kvcluster')
        ?.value;
    assert.equal(await value('cairn_operator_workqueue_adds_total'), 2);
    assert.equal(await value('cairn_operator_workqueue_depth'), 2);
    assert.equal(await value('cairn_operator_workqueue_retries_total'), 1);
    await queue.get();
    assert.equal(await value('cairn_operator_workqueue_depth'), 1);
    queue.shutDown();
  });
});
