import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { EtcdError } from '../../../server/src/errors.js';
import { ReadIndexer, type ReadIndexDeps } from '../../../server/src/etcdserver/read-index.js';
import { waitFor } from '../../framework/wait.js';

interface FakeDeps extends ReadIndexDeps {
  readonly asked: Uint8Array[];
  readonly applied: { index: number; release: () => void }[];
}

/** A fake Raft side: records every readIndex call; waitApplied resolves only when released (or at once). */
function fakeDeps(opts: { timeoutMs?: number; retryMs?: number; holdApplied?: boolean } = {}): FakeDeps {
  const asked: Uint8Array[] = [];
  const applied: { index: number; release: () => void }[] = [];
  return {
    asked,
    applied,
    timeoutMs: opts.timeoutMs ?? 5_000,
    retryMs: opts.retryMs ?? 5_000,
    readIndex(ctx: Uint8Array): void {
      asked.push(Uint8Array.from(ctx));
    },
    waitApplied(index: number): Promise<void> {
      if (opts.holdApplied !== true) {
        applied.push({ index, release: () => undefined });
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => applied.push({ index, release: resolve }));
    },
  };
}

/** Tracks whether a promise settled, and how. */
function track(p: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error: unknown } {
  const t: { state: 'pending' | 'resolved' | 'rejected'; error: unknown } = {
    state: 'pending',
    error: undefined,
  };
  p.then(
    () => {
      t.state = 'resolved';
    },
    (err: unknown) => {
      t.state = 'rejected';
      t.error = err;
    },
  );
  return t;
}

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

function isCode(code: string): (err: unknown) => boolean {
  return (err: unknown) => err instanceof EtcdError && err.code === code;
}

const indexers: ReadIndexer[] = [];
function newIndexer(deps: ReadIndexDeps): ReadIndexer {
  const r = new ReadIndexer(deps);
  indexers.push(r);
  return r;
}
afterEach(() => {
  // Clears any round's timers; rejections of reads nobody awaits any more are swallowed by track().
  for (const r of indexers.splice(0)) r.stop();
});

describe('ReadIndexer', () => {
  it('batches every read that arrives while a round is in flight into one round', async () => {
    const deps = fakeDeps();
    const r = newIndexer(deps);
    const first = r.read();
    assert.equal(deps.asked.length, 1, 'an idle indexer asks at once');
    const reads = Array.from({ length: 100 }, () => r.read());
    assert.equal(deps.asked.length, 1, 'reads during a round do not ask');
    r.onReadStates([{ index: 7, requestCtx: deps.asked[0]! }]);
    await first;
    await waitFor('round 2 asked', () => deps.asked.length === 2, 2_000);
    r.onReadStates([{ index: 8, requestCtx: deps.asked[1]! }]);
    await Promise.all(reads);
    assert.equal(deps.asked.length, 2, '101 reads cost two readIndex calls');
    assert.deepEqual(
      deps.applied.map((a) => a.index),
      [7, 8],
    );
  });

  it('reads issued in the same turn cost at most two rounds', async () => {
    const deps = fakeDeps();
    const r = newIndexer(deps);
    const reads = Array.from({ length: 5 }, () => r.read());
    assert.equal(deps.asked.length, 1);
    r.onReadStates([{ index: 1, requestCtx: deps.asked[0]! }]);
    await waitFor('round 2 asked', () => deps.asked.length === 2, 2_000);
    r.onReadStates([{ index: 1, requestCtx: deps.asked[1]! }]);
    await Promise.all(reads);
    assert.equal(deps.asked.length, 2);
  });

  it('reads arriving while a round is in flight go into the next round', async () => {
    const deps = fakeDeps();
    const r = newIndexer(deps);
    const first = track(r.read());
    assert.equal(deps.asked.length, 1);
    const second = track(r.read());
    const third = track(r.read());
    assert.equal(deps.asked.length, 1, 'no second request while the first is in flight');
    r.onReadStates([{ index: 3, requestCtx: deps.asked[0]! }]);
    await waitFor('first read', () => first.state === 'resolved', 2_000);
    assert.equal(second.state, 'pending', 'a read that arrived during round 1 is not served by it');
    assert.equal(third.state, 'pending');
    assert.equal(deps.asked.length, 2, 'the next round is asked as soon as the first ends');
    assert.notDeepEqual(deps.asked[1], deps.asked[0], 'each round has its own context');
    r.onReadStates([{ index: 4, requestCtx: deps.asked[1]! }]);
    await waitFor('second round', () => second.state === 'resolved' && third.state === 'resolved', 2_000);
    assert.equal(deps.asked.length, 2);
    assert.deepEqual(
      deps.applied.map((a) => a.index),
      [3, 4],
    );
  });

  it('ignores a ReadState with a foreign context', async () => {
    const deps = fakeDeps();
    const r = newIndexer(deps);
    const read = track(r.read());
    r.onReadStates([{ index: 9, requestCtx: Buffer.from('not-ours') }]);
    r.onReadStates([{ index: 9, requestCtx: Buffer.alloc(8, 0xff) }]);
    await tick(20);
    assert.equal(read.state, 'pending');
    assert.equal(deps.applied.length, 0, 'waitApplied is not called for a foreign answer');
    // The matching answer in the same batch as a foreign one is still found.
    r.onReadStates([
      { index: 1, requestCtx: Buffer.from('x') },
      { index: 10, requestCtx: deps.asked[0]! },
    ]);
    await waitFor('read', () => read.state === 'resolved', 2_000);
    assert.deepEqual(
      deps.applied.map((a) => a.index),
      [10],
    );
  });

  it('awaits waitApplied before resolving the reads', async () => {
    const deps = fakeDeps({ holdApplied: true });
    const r = newIndexer(deps);
    const a = track(r.read());
    r.onReadStates([{ index: 42, requestCtx: deps.asked[0]! }]);
    await tick(20);
    assert.equal(deps.applied.length, 1);
    assert.equal(deps.applied[0]!.index, 42);
    assert.equal(a.state, 'pending', 'not served before the applied index reaches the read index');
    deps.applied[0]!.release();
    await waitFor('read', () => a.state === 'resolved', 2_000);
  });

  it('a waitApplied failure fails the round', async () => {
    const deps = fakeDeps();
    deps.waitApplied = () => Promise.reject(new EtcdError('ErrStopped'));
    const r = newIndexer(deps);
    const p = r.read();
    r.onReadStates([{ index: 1, requestCtx: deps.asked[0]! }]);
    await assert.rejects(p, isCode('ErrStopped'));
  });

  it('onLeaderChange(true) fails the round in flight with ErrLeaderChanged', async () => {
    const deps = fakeDeps();
    const r = newIndexer(deps);
    const a = r.read();
    r.onLeaderChange(true);
    await assert.rejects(a, isCode('ErrLeaderChanged'));
    assert.equal(deps.asked.length, 1, 'no reads left, so no new round');
    // A late answer for the failed round is ignored.
    r.onReadStates([{ index: 5, requestCtx: deps.asked[0]! }]);
    await tick(10);
    assert.equal(deps.applied.length, 0);
    // The indexer still works.
    const c = r.read();
    assert.equal(deps.asked.length, 2);
    r.onReadStates([{ index: 6, requestCtx: deps.asked[1]! }]);
    await c;
  });

  it('onLeaderChange(true) with a read queued behind the round moves that read to a fresh round', async () => {
    const deps = fakeDeps({ holdApplied: true });
    const r = newIndexer(deps);
    const a = track(r.read());
    r.onReadStates([{ index: 2, requestCtx: deps.asked[0]! }]);
    // Round 1 is waiting for the applied index; a new read queues for round 2.
    const b = track(r.read());
    r.onLeaderChange(true);
    await waitFor('a rejected', () => a.state === 'rejected', 2_000);
    assert.ok(isCode('ErrLeaderChanged')(a.error));
    assert.equal(b.state, 'pending');
    assert.equal(deps.asked.length, 2, 'the queued read gets its own round');
    deps.applied[0]!.release();
    await tick(10);
    assert.equal(b.state, 'pending', 'the failed round finishing late does not serve the next round');
    r.onReadStates([{ index: 3, requestCtx: deps.asked[1]! }]);
    await waitFor('waitApplied(3)', () => deps.applied.length === 2, 2_000);
    deps.applied[1]!.release();
    await waitFor('b resolved', () => b.state === 'resolved', 2_000);
  });

  it('onLeaderChange(false) (a first leader) asks again instead of failing', async () => {
    const deps = fakeDeps();
    const r = newIndexer(deps);
    const read = track(r.read());
    assert.equal(deps.asked.length, 1);
    r.onLeaderChange(false);
    assert.equal(deps.asked.length, 2, 'asked again at once');
    assert.deepEqual(deps.asked[1], deps.asked[0], 'same round, same context');
    await tick(10);
    assert.equal(read.state, 'pending');
    r.onReadStates([{ index: 1, requestCtx: deps.asked[1]! }]);
    await waitFor('read', () => read.state === 'resolved', 2_000);
  });

  it('onLeaderChange with no round in flight does nothing', () => {
    const deps = fakeDeps();
    const r = newIndexer(deps);
    r.onLeaderChange(true);
    r.onLeaderChange(false);
    assert.equal(deps.asked.length, 0);
  });

  it('fails the round with ErrTimeout when no answer comes in time', async () => {
    const deps = fakeDeps({ timeoutMs: 40, retryMs: 1_000 });
    const r = newIndexer(deps);
    const started = Date.now();
    const a = r.read();
    await assert.rejects(a, isCode('ErrTimeout'));
    assert.ok(Date.now() - started >= 35, 'not before the timeout');
    // An answer after the timeout is ignored.
    r.onReadStates([{ index: 1, requestCtx: deps.asked[0]! }]);
    await tick(5);
    assert.equal(deps.applied.length, 0);
  });

  it('the deadline also bounds the wait for the applied index after Raft answered', async () => {
    const deps = fakeDeps({ holdApplied: true, timeoutMs: 50 });
    const r = newIndexer(deps);
    const read = track(r.read());
    r.onReadStates([{ index: 9, requestCtx: deps.asked[0]! }]);
    await waitFor('read rejected', () => read.state === 'rejected', 2_000);
    assert.ok(isCode('ErrTimeout')(read.error), String(read.error));
  });

  it('asks again every retryMs until answered, with the same context', async () => {
    const deps = fakeDeps({ timeoutMs: 5_000, retryMs: 15 });
    const r = newIndexer(deps);
    const read = track(r.read());
    await waitFor('three asks', () => deps.asked.length >= 3, 2_000);
    for (const ctx of deps.asked) assert.deepEqual(ctx, deps.asked[0]);
    r.onReadStates([{ index: 1, requestCtx: deps.asked[0]! }]);
    await waitFor('read', () => read.state === 'resolved', 2_000);
    const n = deps.asked.length;
    await tick(60);
    assert.equal(deps.asked.length, n, 'no more retries once answered');
  });

  it('does not retry before retryMs', async () => {
    const deps = fakeDeps({ timeoutMs: 5_000, retryMs: 200 });
    const r = newIndexer(deps);
    void track(r.read());
    await tick(40);
    assert.equal(deps.asked.length, 1);
  });

  it('stop() rejects the round in flight, queued reads and later reads with ErrStopped', async () => {
    const deps = fakeDeps({ holdApplied: true });
    const r = newIndexer(deps);
    const a = r.read();
    r.onReadStates([{ index: 1, requestCtx: deps.asked[0]! }]);
    const queued = r.read();
    r.stop();
    await assert.rejects(a, isCode('ErrStopped'));
    await assert.rejects(queued, isCode('ErrStopped'));
    await assert.rejects(r.read(), isCode('ErrStopped'));
    assert.equal(deps.asked.length, 1, 'stop does not start a new round');
  });
});
