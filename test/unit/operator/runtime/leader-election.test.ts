import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { LeaderElector } from '../../../../operator/src/runtime/leader-election.js';
import type { LeaderElectionOptions } from '../../../../operator/src/runtime/leader-election.js';
import { newOperatorLogger } from '../../../../operator/src/runtime/logger.js';
import { newOperatorMetrics } from '../../../../operator/src/runtime/metrics.js';
import { FakeClock } from './fake-clock.js';
import { FakeLease, FakeLeaseStore } from './fake-lease-store.js';

interface Replica {
  elector: LeaderElector;
  store: FakeLeaseStore;
  started: number[];
  stopped: number[];
  leaders: string[];
  signal: AbortSignal | undefined;
  done: Promise<void>;
}

function cluster(n: number, extra: Partial<LeaderElectionOptions> = {}) {
  const clock = new FakeClock();
  const lease = new FakeLease();
  const logger = newOperatorLogger({ silent: true });
  const registry = new Registry();
  const metrics = newOperatorMetrics(registry);
  const replicas: Replica[] = [];
  for (let i = 0; i < n; i++) {
    const store = new FakeLeaseStore(lease);
    const elector = new LeaderElector({
      store,
      identity: `op-${i}`,
      logger,
      metrics,
      clock,
      random: () => 0,
      ...extra,
    });
    const r: Replica = {
      elector,
      store,
      started: [],
      stopped: [],
      leaders: [],
      signal: undefined,
      done: undefined!,
    };
    r.done = elector.run({
      onStartedLeading: (signal) => {
        r.started.push(clock.now());
        r.signal = signal;
      },
      onStoppedLeading: () => {
        r.stopped.push(clock.now());
      },
      onNewLeader: (id) => r.leaders.push(id),
    });
    replicas.push(r);
  }
  const leading = () =>
    replicas.filter((r) => r.started.length > r.stopped.length).map((r) => r.elector.identity);
  const shutdown = async () => {
    for (const r of replicas) await r.elector.release();
    await Promise.all(replicas.map((r) => r.done));
    assert.equal(clock.pendingTimers, 0, 'no timer left behind');
  };
  return { clock, lease, replicas, leading, shutdown, registry };
}

describe('LeaderElector', () => {
  it('two electors over one lease: exactly one leads, and keeps leading while it renews', async () => {
    const { clock, lease, replicas, leading, shutdown, registry } = cluster(2);
    const [a, b] = replicas as [Replica, Replica];
    await clock.advance(0);
    assert.deepEqual(leading(), ['op-0']);
    assert.equal(lease.stored?.record.holderIdentity, 'op-0');
    assert.equal(lease.stored?.record.leaseDurationSeconds, 15);
    for (let t = 0; t < 60; t++) {
      await clock.advance(1000);
      assert.deepEqual(leading(), ['op-0'], `one leader at t=${t + 1}s`);
    }
    assert.ok(lease.writes >= 30, 'the leader renews every retry period');
    assert.equal(lease.stored?.record.leaseTransitions, 0);
    assert.equal(a.elector.isLeader(), true);
    assert.equal(b.elector.isLeader(), false);
    assert.deepEqual(b.leaders, ['op-0'], 'the follower reports who leads');
    assert.match(await registry.metrics(), /cairn_operator_leader\{identity="op-0"\} 1/);
    await shutdown();
  });

  it('a leader that cannot renew steps down after renewDeadline; the other takes over after leaseDuration', async () => {
    const { clock, lease, replicas, leading, shutdown } = cluster(2);
    const [a, b] = replicas as [Replica, Replica];
    await clock.advance(5000);
    assert.deepEqual(leading(), ['op-0']);
    const lastRenewMs = lease.stored?.record.renewTime?.getTime() ?? NaN;
    a.store.partitioned = true; // the API server is unreachable from op-0 only

    await clock.advance(lastRenewMs + 9_999 - clock.now());
    assert.deepEqual(leading(), ['op-0'], 'still within renewDeadline');
    await clock.advance(1);
    assert.deepEqual(leading(), [], 'op-0 gave up 10 s after its last renewal');
    assert.equal(a.stopped[0], lastRenewMs + 10_000);
    assert.equal(a.signal?.aborted, true);
    assert.equal(a.elector.isLeader(), true, 'the record still names op-0 as far as it knows');
    await a.done; // one term per run()

    while (b.started.length === 0 && clock.now() < lastRenewMs + 60_000) {
      await clock.advance(500);
      if (clock.now() < lastRenewMs + 15_000) assert.deepEqual(leading(), [], 'op-1 waits out the lease');
    }
    assert.deepEqual(leading(), ['op-1']);
    const takeoverMs = b.started[0] ?? NaN;
    assert.ok(takeoverMs >= lastRenewMs + 15_000, 'never before the lease could have expired');
    assert.ok(takeoverMs <= lastRenewMs + 15_000 + 2 * 2_000, 'within a retry period of expiry');
    assert.ok((a.stopped[0] ?? Infinity) < takeoverMs, 'the old leader stopped before the new one started');
    assert.equal(lease.stored?.record.leaseTransitions, 1);
    assert.deepEqual(b.leaders, ['op-0', 'op-1']);
    a.store.partitioned = false;
    await shutdown();
  });

  it('expiry is judged by when the record was observed, not by its remote renewTime', async () => {
    const { clock, lease, replicas, leading, shutdown } = cluster(1);
    // A live holder whose clock is an hour behind: its renewTime looks long expired.
    lease.writeAs('other', clock.now() - 3_600_000, 15, 0);
    await clock.advance(14_000);
    assert.deepEqual(leading(), [], 'a record first seen now is valid for 15 s from now');
    await clock.advance(2_000);
    assert.deepEqual(leading(), ['op-0']);
    assert.equal(replicas[0]?.leaders.join(), 'other,op-0');
    await shutdown();
  });

  it('release() hands the lease over at once instead of after the lease duration', async () => {
    const { clock, lease, replicas, leading, shutdown } = cluster(2);
    const [a, b] = replicas as [Replica, Replica];
    await clock.advance(3000);
    assert.deepEqual(leading(), ['op-0']);
    const releasedAtMs = clock.now();
    await a.elector.release();
    await a.done;
    assert.equal(a.stopped[0], releasedAtMs, 'the controllers stop before the lease is given up');
    assert.equal(lease.stored?.record.holderIdentity, '');
    assert.equal(lease.stored?.record.leaseDurationSeconds, 1);
    await clock.advance(2_000);
    assert.deepEqual(leading(), ['op-1'], 'taken over at the next retry, not 15 s later');
    assert.ok((b.started[0] ?? Infinity) - releasedAtMs <= 2_000);
    assert.equal(lease.stored?.record.leaseTransitions, 1);
    await shutdown();
  });

  it('a 409 on update means someone else won: not leading', async () => {
    const { clock, lease, replicas, leading, shutdown } = cluster(1);
    const [a] = replicas as [Replica];
    // An expired lease, and a rival that writes between our read and our update.
    lease.writeAs('', clock.now(), 1, 3);
    a.store.beforeUpdate = () => lease.writeAs('rival', clock.now(), 15, 4);
    await clock.advance(0);
    assert.deepEqual(leading(), []);
    assert.equal(a.elector.isLeader(), false);
    await clock.advance(2_000);
    assert.deepEqual(leading(), [], 'and the rival’s fresh lease is respected');
    assert.equal(a.elector.leader, 'rival');
    await shutdown();
  });

  it('a leader whose renewal finds the lease taken steps down at once', async () => {
    const { clock, lease, replicas, leading, shutdown } = cluster(1);
    const [a] = replicas as [Replica];
    await clock.advance(0);
    assert.deepEqual(leading(), ['op-0']);
    // Someone (a misconfigured second operator) overwrites the lease.
    lease.writeAs('intruder', clock.now(), 15, 1);
    await clock.advance(2_000);
    assert.deepEqual(leading(), []);
    assert.equal(a.stopped[0], clock.now(), 'at the first renewal, not after renewDeadline');
    await shutdown();
    assert.equal(
      lease.stored?.record.holderIdentity,
      'intruder',
      'release never clears someone else’s lease',
    );
  });

  it('validates leaseDuration > renewDeadline > retryPeriod', () => {
    const base = { store: new FakeLeaseStore(new FakeLease()), logger: newOperatorLogger({ silent: true }) };
    assert.throws(
      () => new LeaderElector({ ...base, leaseDurationMs: 10_000 }),
      /greater than renewDeadlineMs/,
    );
    assert.throws(() => new LeaderElector({ ...base, retryPeriodMs: 9_000 }), /retryPeriodMs/);
    assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 15_500 }), /whole number of seconds/);
    assert.throws(() => new LeaderElector({ ...base, identity: '' }), /identity/);
    const e = new LeaderElector(base);
    assert.equal(e.leaseDurationMs, 15_000);
    assert.equal(e.renewDeadlineMs, 10_000);
    assert.equal(e.retryPeriodMs, 2_000);
    assert.match(e.identity, /_\d+$/, 'hostname_pid by default');
  });
});
