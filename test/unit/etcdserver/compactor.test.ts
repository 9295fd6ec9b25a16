import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock, TimerHandle } from '../../../server/src/lease/clock.js';
import { Compactor, parseAutoCompaction } from '../../../server/src/etcdserver/compactor.js';
import type { AutoCompaction } from '../../../server/src/etcdserver/compactor.js';
import { errCompacted } from '../../../server/src/mvcc/errors.js';
import { newLogger } from '../../../server/src/util/logger.js';

/** A clock whose time moves only when the test advances it; due timers fire in time order. */
class FakeClock implements Clock {
  private t = 0;
  private timers: { at: number; fn: () => void; handle: TimerHandle }[] = [];
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const handle = {};
    this.timers.push({ at: this.t + delayMs, fn, handle });
    return handle;
  }
  clearTimer(handle: TimerHandle): void {
    this.timers = this.timers.filter((x) => x.handle !== handle);
  }
  /** Advances to now + ms, firing due timers one at a time and letting their async work settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (next === undefined || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    this.t = end;
  }
}

const MIN = 60 * 1000;
const HOUR = 60 * MIN;

function harness(config: AutoCompaction, failWith?: () => Error) {
  const clock = new FakeClock();
  let rev = 1;
  const compacted: { at: number; rev: number }[] = [];
  const c = new Compactor({
    config,
    clock,
    logger: newLogger('error', true),
    revision: () => rev,
    compact: (r) => {
      if (failWith !== undefined) return Promise.reject(failWith());
      compacted.push({ at: clock.now(), rev: r });
      return Promise.resolve();
    },
  });
  return {
    clock,
    compacted,
    compactor: c,
    setRev: (r: number) => {
      rev = r;
    },
  };
}

describe('auto-compaction flags', () => {
  it('parses retention like etcd', () => {
    assert.deepEqual(parseAutoCompaction('periodic', '1'), { mode: 'periodic', retentionMs: HOUR });
    assert.deepEqual(parseAutoCompaction('periodic', '30m'), { mode: 'periodic', retentionMs: 30 * MIN });
    assert.deepEqual(parseAutoCompaction('periodic', '1h30m'), { mode: 'periodic', retentionMs: 90 * MIN });
    assert.equal(parseAutoCompaction('periodic', '0'), undefined);
    assert.deepEqual(parseAutoCompaction('revision', '1000'), { mode: 'revision', retentionRevisions: 1000 });
    assert.equal(parseAutoCompaction('revision', '0'), undefined);
    assert.throws(() => parseAutoCompaction('hourly', '1'), /unknown auto-compaction-mode "hourly"/);
    assert.throws(() => parseAutoCompaction('revision', '1h'), /not an integer/);
    assert.throws(() => parseAutoCompaction('periodic', 'soon'), /invalid auto-compaction-retention/);
  });
});

describe('Compactor (fake clock)', () => {
  it('periodic 10m: first compaction after 10 minutes at the revision of 10 minutes ago, then every 10 minutes', async () => {
    const h = harness({ mode: 'periodic', retentionMs: 10 * MIN });
    h.compactor.start();
    // The revision grows by 100 a minute: at minute m it is 100*m + 1.
    for (let m = 1; m <= 30; m++) {
      await h.clock.advance(MIN / 2);
      h.setRev(100 * m + 1 - 50);
      await h.clock.advance(MIN / 2);
      h.setRev(100 * m + 1);
    }
    h.compactor.stop();
    assert.deepEqual(
      h.compacted.map((c) => c.at / MIN),
      [10, 20, 30],
    );
    // Samples are taken every minute (10m / 10), each just after the check at that minute; 11 are kept,
    // so the check at minute 20 uses the sample of minute 9 (rev 851), as etcd's loop does.
    assert.deepEqual(
      h.compacted.map((c) => c.rev),
      [1, 851, 1851],
    );
  });

  it('periodic 2h: compacts hourly once the first 2 hours have passed, at the revision of 2 hours ago', async () => {
    const h = harness({ mode: 'periodic', retentionMs: 2 * HOUR });
    h.compactor.start();
    for (let m = 1; m <= 300; m++) {
      await h.clock.advance(MIN);
      h.setRev(m + 1);
    }
    h.compactor.stop();
    assert.deepEqual(
      h.compacted.map((c) => c.at / MIN),
      [120, 180, 240, 300],
    );
    // Sampling every 6 minutes (1h / 10) with 21 samples kept: the check at minute 180 uses the sample
    // of minute 54, taken before the revision moved on from 54.
    assert.deepEqual(
      h.compacted.map((c) => c.rev),
      [1, 54, 114, 174],
    );
  });

  it('periodic: an unchanged revision is not compacted twice', async () => {
    const h = harness({ mode: 'periodic', retentionMs: 10 * MIN });
    h.compactor.start();
    await h.clock.advance(60 * MIN);
    h.compactor.stop();
    assert.deepEqual(h.compacted, [{ at: 10 * MIN, rev: 1 }]);
  });

  it('revision 1000: every 5 minutes at current - 1000 when positive and new', async () => {
    const h = harness({ mode: 'revision', retentionRevisions: 1000 });
    h.compactor.start();
    h.setRev(500);
    await h.clock.advance(5 * MIN);
    h.setRev(1500);
    await h.clock.advance(4 * MIN);
    assert.deepEqual(h.compacted, []);
    await h.clock.advance(MIN);
    await h.clock.advance(5 * MIN); // unchanged revision: skipped
    h.setRev(4000);
    await h.clock.advance(5 * MIN);
    h.compactor.stop();
    assert.deepEqual(h.compacted, [
      { at: 10 * MIN, rev: 500 },
      { at: 20 * MIN, rev: 3000 },
    ]);
  });

  it('treats ErrCompacted as done and retries other failures', async () => {
    const failing = harness({ mode: 'revision', retentionRevisions: 10 }, () => new Error('disk'));
    failing.setRev(100);
    failing.compactor.start();
    await failing.clock.advance(15 * MIN);
    failing.compactor.stop();
    const compacted = harness({ mode: 'revision', retentionRevisions: 10 }, () => errCompacted());
    compacted.setRev(100);
    compacted.compactor.start();
    await compacted.clock.advance(15 * MIN);
    compacted.compactor.stop();
    // Neither recorded a compaction (the fake compact rejects); both kept running without throwing.
    assert.deepEqual(failing.compacted, []);
    assert.deepEqual(compacted.compacted, []);
  });
});
