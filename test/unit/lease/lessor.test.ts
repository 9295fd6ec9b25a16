/**
 * The lessor with a fake clock: grant limits, expiry order from the heap, the revoke rate limit,
 * renewals, key attach/detach, revokes in one revision, and what a restart keeps (etcd lessor_test.go
 * covers the same ground).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { Backend } from '../../../server/src/backend/backend.js';
import { newBackendMetrics } from '../../../server/src/backend/metrics.js';
import { EtcdError } from '../../../server/src/errors.js';
import type { LessorConfig } from '../../../server/src/lease/lessor.js';
import { Lessor, MAX_LEASE_TTL_SECONDS } from '../../../server/src/lease/lessor.js';
import { newLeaseMetrics } from '../../../server/src/lease/metrics.js';
import { KVStore } from '../../../server/src/mvcc/kvstore.js';
import { newMvccMetrics } from '../../../server/src/mvcc/metrics.js';
import { newLogger } from '../../../server/src/util/logger.js';
import { FakeClock } from './fake-clock.js';

const dirs: string[] = [];
const backends: Backend[] = [];
after(async () => {
  for (const be of backends) await be.close().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const b = (s: string): Buffer => Buffer.from(s);

interface Setup {
  readonly dir: string;
  readonly backend: Backend;
  readonly store: KVStore;
  readonly clock: FakeClock;
  readonly lessor: Lessor;
  readonly registry: Registry;
  /** Every batch onExpired was given, with the clock time. */
  readonly batches: { at: number; ids: bigint[] }[];
  put(key: string, lease: bigint): number;
  del(key: string): number;
  revoke(id: bigint): { rev: number; deleted: string[] };
}

interface SetupOptions {
  dir?: string;
  config?: Partial<LessorConfig>;
  randomId?: () => bigint;
  /** Revoke what expires (default true); false simulates revokes that fail. */
  revokeExpired?: boolean;
  /** Recover from the backend and promote, as the server does on start (default true). */
  promote?: boolean;
}

function setup(o: SetupOptions = {}): Setup {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'cairn-lessor-'));
  if (o.dir === undefined) dirs.push(dir);
  const registry = new Registry();
  const logger = newLogger('error', true);
  const backend = Backend.open(
    {
      dir: join(dir, 'db'),
      logger,
      metrics: newBackendMetrics(registry),
      onFatal: (err) => {
        throw err;
      },
    },
    false,
  );
  backends.push(backend);
  const store = KVStore.open({ backend, logger, metrics: newMvccMetrics(registry) });
  const clock = new FakeClock();
  const batches: { at: number; ids: bigint[] }[] = [];
  const revoke = (id: bigint): { rev: number; deleted: string[] } => {
    const w = store.write((txn) => lessor.revoke(id, txn));
    lessor.applyChanges(w.changes);
    return { rev: w.rev, deleted: w.changes.map((c) => (c.tombstone ? c.kv.key.toString() : '?')) };
  };
  const lessor: Lessor = new Lessor({
    backend,
    clock,
    logger,
    metrics: newLeaseMetrics(registry),
    config: { minLeaseTtlSeconds: 2, ...o.config },
    ...(o.randomId === undefined ? {} : { randomId: o.randomId }),
    onExpired: (ids) => {
      batches.push({ at: clock.now(), ids: [...ids] });
      if (o.revokeExpired !== false) for (const id of ids) revoke(id);
    },
  });
  if (o.promote !== false) {
    lessor.recover();
    lessor.recoverKeys(store.read().range({ key: b('\0'), end: Buffer.alloc(0) }).kvs);
    lessor.promote();
  }
  return {
    dir,
    backend,
    store,
    clock,
    lessor,
    registry,
    batches,
    put: (key, lease) => {
      const w = store.write((txn) => txn.put(b(key), b('v'), lease));
      lessor.applyChanges(w.changes);
      return w.rev;
    },
    del: (key) => {
      const w = store.write((txn) => txn.deleteRange({ key: b(key) }));
      lessor.applyChanges(w.changes);
      return w.rev;
    },
    revoke,
  };
}

function etcdCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof EtcdError) return err.code;
    throw err;
  }
  return 'no error';
}

const keysOf = (s: Setup, id: bigint): string[] =>
  (s.lessor.lookup(id, true)?.keys ?? []).map((k) => k.toString());

async function metric(registry: Registry, name: string): Promise<number> {
  const m = registry.getSingleMetric(name);
  assert.ok(m !== undefined, name);
  const v = await m.get();
  // A histogram's samples are its buckets, sum and count: take the count.
  const samples = v.values as { value: number; metricName?: string }[];
  const count = samples.find((x) => x.metricName?.endsWith('_count') === true);
  return count?.value ?? samples.reduce((sum, x) => sum + x.value, 0);
}

describe('Lessor.grant', () => {
  it('picks a positive id not in use for ID 0, skipping 0, negative and taken ids', () => {
    const ids = [0n, -5n, 7n, 7n, 9n];
    const s = setup({ randomId: () => ids.shift() ?? 11n });
    assert.equal(s.lessor.grant(0n, 10n).id, 7n);
    assert.equal(s.lessor.grant(0n, 10n).id, 9n);
  });

  it('grants a client-chosen id and refuses it twice with ErrLeaseExists', () => {
    const s = setup();
    const l = s.lessor.grant(0x1234n, 30n);
    assert.equal(l.id, 0x1234n);
    assert.equal(l.ttlSeconds, 30);
    assert.equal(
      etcdCode(() => s.lessor.grant(0x1234n, 30n)),
      'ErrLeaseExists',
    );
  });

  it('raises a TTL below the minimum to it; the minimum is configurable', () => {
    const s = setup();
    assert.equal(s.lessor.grant(1n, 1n).ttlSeconds, 2);
    assert.equal(s.lessor.grant(2n, -3n).ttlSeconds, 2);
    assert.equal(s.lessor.grant(3n, 2n).ttlSeconds, 2);
    const t = setup({ config: { minLeaseTtlSeconds: 5 } });
    assert.equal(t.lessor.grant(1n, 3n).ttlSeconds, 5);
    assert.equal(t.lessor.minLeaseTtlSeconds, 5);
  });

  it('refuses a TTL above 9,000,000,000 s with ErrLeaseTTLTooLarge and accepts the maximum', () => {
    const s = setup();
    assert.equal(
      etcdCode(() => s.lessor.grant(1n, BigInt(MAX_LEASE_TTL_SECONDS) + 1n)),
      'ErrLeaseTTLTooLarge',
    );
    assert.equal(s.lessor.exists(1n), false);
    assert.equal(s.lessor.grant(1n, BigInt(MAX_LEASE_TTL_SECONDS)).ttlSeconds, MAX_LEASE_TTL_SECONDS);
  });

  it('counts grants and observes TTLs with etcd metric names', async () => {
    const s = setup();
    s.lessor.grant(1n, 5n);
    s.lessor.grant(2n, 100n);
    assert.equal(await metric(s.registry, 'etcd_debugging_lease_granted_total'), 2);
    assert.equal(await metric(s.registry, 'etcd_debugging_lease_ttl_total'), 2);
  });
});

describe('Lessor expiry', () => {
  it('expires leases in expiry order, whatever the grant order, when their time comes', () => {
    const s = setup();
    s.lessor.grant(1n, 8n); // expires at 8 s
    s.clock.advance(1000);
    s.lessor.grant(2n, 3n); // 4 s
    s.lessor.grant(3n, 5n); // 6 s
    s.clock.advance(500);
    s.lessor.grant(4n, 3n); // 4.5 s
    s.clock.advance(2499);
    assert.equal(s.batches.length, 0, 'nothing before the first expiry');
    s.clock.advance(10_000);
    assert.deepEqual(
      s.batches.map((x) => [x.at, x.ids]),
      [
        [4000, [2n]],
        [4500, [4n]],
        [6000, [3n]],
        [8000, [1n]],
      ],
    );
    assert.equal(s.lessor.size, 0);
    assert.equal(s.clock.pendingTimers, 0, 'no timer left once no lease is left');
  });

  it('hands out at most rate × interval expired leases per check interval', () => {
    // 10 revokes/s checked every 500 ms: batches of at most 5.
    const s = setup({ config: { revokeRatePerSecond: 10, expiryCheckIntervalMs: 500 } });
    for (let i = 1n; i <= 12n; i++) s.lessor.grant(i, 3n);
    s.clock.advance(10_000);
    assert.deepEqual(
      s.batches.map((x) => [x.at, x.ids.length]),
      [
        [3000, 5],
        [3500, 5],
        [4000, 2],
      ],
    );
    const handedOut = s.batches.flatMap((x) => x.ids).sort((x, y) => Number(x - y));
    assert.deepEqual(
      handedOut,
      Array.from({ length: 12 }, (_, i) => BigInt(i + 1)),
      'each expired lease handed out once',
    );
    assert.equal(s.lessor.size, 0);
  });

  it('hands a lease out again after the retry interval when its revoke did not happen', () => {
    const s = setup({ revokeExpired: false, config: { expiredRetryIntervalMs: 7000 } });
    s.lessor.grant(1n, 2n);
    s.clock.advance(2000);
    assert.deepEqual(
      s.batches.map((x) => x.at),
      [2000],
    );
    assert.equal(s.lessor.renew(1n), undefined, 'an expired lease is not renewed');
    s.clock.advance(7000);
    assert.deepEqual(
      s.batches.map((x) => x.at),
      [2000, 9000],
    );
    s.revoke(1n);
    s.clock.advance(20_000);
    assert.equal(s.batches.length, 2);
  });

  it('does not expire anything before promote (a non-primary lessor keeps leases forever)', () => {
    const s = setup({ promote: false });
    s.lessor.grant(1n, 2n);
    s.clock.advance(60_000);
    assert.equal(s.batches.length, 0);
    assert.equal(s.lessor.lookup(1n, false)?.remainingSeconds, 2);
    s.lessor.promote(0);
    s.clock.advance(2000);
    assert.deepEqual(
      s.batches.map((x) => x.ids),
      [[1n]],
    );
  });

  it('a lease months away arms a timer of at most 2^31 - 1 ms and does not expire early', () => {
    const s = setup();
    let armed = 0;
    const setTimer = s.clock.setTimer.bind(s.clock);
    s.clock.setTimer = (fn, delayMs) => {
      armed++;
      assert.ok(delayMs <= 2 ** 31 - 1, `timer of ${delayMs} ms`);
      return setTimer(fn, delayMs);
    };
    s.lessor.grant(1n, BigInt(90 * 24 * 3600)); // 90 days
    s.clock.advance(89 * 24 * 3600 * 1000);
    assert.equal(s.batches.length, 0);
    assert.ok(armed <= 5, `${armed} timers for 89 days`);
    s.clock.advance(24 * 3600 * 1000);
    assert.deepEqual(
      s.batches.map((x) => x.ids),
      [[1n]],
    );
  });

  it('stop() cancels the timer', () => {
    const s = setup();
    s.lessor.grant(1n, 2n);
    s.lessor.stop();
    assert.equal(s.clock.pendingTimers, 0);
    s.clock.advance(10_000);
    assert.equal(s.batches.length, 0);
  });
});

describe('Lessor.renew and lookup', () => {
  it('renews to the full TTL and moves the expiry', async () => {
    const s = setup();
    s.lessor.grant(1n, 3n);
    s.clock.advance(2500);
    assert.equal(s.lessor.lookup(1n, false)?.remainingSeconds, 0, 'truncated toward zero like Go');
    assert.equal(s.lessor.renew(1n), 3);
    assert.equal(s.lessor.lookup(1n, false)?.remainingSeconds, 3);
    assert.equal(s.lessor.lookup(1n, false)?.grantedTtlSeconds, 3);
    s.clock.advance(2999);
    assert.equal(s.batches.length, 0);
    s.clock.advance(1);
    assert.deepEqual(
      s.batches.map((x) => [x.at, x.ids]),
      [[5500, [1n]]],
    );
    assert.equal(await metric(s.registry, 'etcd_debugging_lease_renewed_total'), 1);
  });

  it('renew and lookup of an unknown lease find nothing', () => {
    const s = setup();
    assert.equal(s.lessor.renew(42n), undefined);
    assert.equal(s.lessor.lookup(42n, true), undefined);
  });

  it('lists leases soonest expiry first', () => {
    const s = setup();
    s.lessor.grant(1n, 30n);
    s.lessor.grant(2n, 10n);
    s.lessor.grant(3n, 20n);
    assert.deepEqual(s.lessor.leases(), [2n, 3n, 1n]);
  });
});

describe('Lessor keys', () => {
  it('attaches on put, moves a key to a new lease, detaches on put without lease and on delete', () => {
    const s = setup();
    s.lessor.grant(1n, 60n);
    s.lessor.grant(2n, 60n);
    s.put('a', 1n);
    s.put('b', 1n);
    s.put('c', 2n);
    assert.deepEqual(keysOf(s, 1n), ['a', 'b']);
    s.put('a', 2n);
    assert.deepEqual(keysOf(s, 1n), ['b']);
    assert.deepEqual(keysOf(s, 2n), ['a', 'c']);
    s.put('a', 0n);
    assert.deepEqual(keysOf(s, 2n), ['c']);
    s.del('c');
    assert.deepEqual(keysOf(s, 2n), []);
    s.put('b', 1n);
    assert.deepEqual(keysOf(s, 1n), ['b']);
  });

  it('revoke deletes every attached key in one revision, in key order, and removes the lease', async () => {
    const s = setup();
    s.lessor.grant(1n, 60n);
    s.lessor.grant(2n, 60n);
    for (const k of ['zeta', 'alpha', 'mid']) s.put(k, 1n);
    const other = s.put('other', 2n);
    const { rev, deleted } = s.revoke(1n);
    assert.equal(rev, other + 1, 'one revision for all keys');
    assert.deepEqual(deleted, ['alpha', 'mid', 'zeta']);
    assert.equal(s.lessor.exists(1n), false);
    await s.backend.commit();
    assert.deepEqual(
      s.store
        .read()
        .range({ key: b('\0'), end: Buffer.alloc(0) })
        .kvs.map((kv) => kv.key.toString()),
      ['other'],
    );
    assert.equal(
      etcdCode(() => s.revoke(1n)),
      'ErrLeaseNotFound',
    );
    assert.deepEqual(keysOf(s, 2n), ['other']);
    assert.equal(await metric(s.registry, 'etcd_debugging_lease_revoked_total'), 1);
  });

  it('a lease without keys is revoked without a new revision', () => {
    const s = setup();
    const before = s.put('x', 0n);
    s.lessor.grant(1n, 60n);
    assert.equal(s.revoke(1n).rev, before);
  });

  it('expiry deletes the keys in one revision', async () => {
    const s = setup();
    s.lessor.grant(5n, 2n);
    s.put('k1', 5n);
    const last = s.put('k2', 5n);
    s.clock.advance(2000);
    await s.backend.commit();
    const kvs = s.store.read().range({ key: b('\0'), end: Buffer.alloc(0) });
    assert.equal(kvs.kvs.length, 0);
    assert.equal(s.store.currentRev, last + 1);
  });
});

describe('Lessor restart', () => {
  it('reloads leases and their keys and refreshes every lease to its full TTL (+ the promote extension)', async () => {
    const first = setup({ config: { minLeaseTtlSeconds: 2 } });
    first.lessor.grant(0xabcn, 10n);
    first.lessor.grant(0xdefn, 100n);
    first.lessor.grant(0x123n, 5n);
    first.put('k1', 0xabcn);
    first.put('k2', 0xabcn);
    first.put('k3', 0xdefn);
    first.put('plain', 0n);
    first.revoke(0x123n);
    first.clock.advance(8000); // 0xabc has 2 s left
    first.lessor.stop();
    await first.backend.close();

    const second = setup({ dir: first.dir, config: { promoteExtendMs: 1000 } });
    assert.deepEqual(new Set(second.lessor.leases()), new Set([0xabcn, 0xdefn]));
    assert.equal(second.lessor.exists(0x123n), false);
    assert.deepEqual(keysOf(second, 0xabcn), ['k1', 'k2']);
    assert.deepEqual(keysOf(second, 0xdefn), ['k3']);
    const info = second.lessor.lookup(0xabcn, false);
    assert.equal(info?.grantedTtlSeconds, 10);
    assert.equal(info?.remainingSeconds, 11, 'full TTL again, plus one election timeout');
    second.clock.advance(10_999);
    assert.equal(second.batches.length, 0);
    second.clock.advance(1);
    assert.deepEqual(
      second.batches.map((x) => x.ids),
      [[0xabcn]],
    );
    await second.backend.commit();
    assert.equal(second.store.read().range({ key: b('k1'), end: b('k3') }).kvs.length, 0);
  });

  it('raises a stored TTL below a larger configured minimum on reload', async () => {
    const first = setup();
    first.lessor.grant(1n, 3n);
    first.lessor.stop();
    await first.backend.close();
    const second = setup({ dir: first.dir, config: { minLeaseTtlSeconds: 5 } });
    assert.equal(second.lessor.lookup(1n, false)?.grantedTtlSeconds, 5);
  });

  it('spreads expiries that pile up after a restart so no second gets more than 3/4 of the revoke rate', async () => {
    const first = setup();
    for (let i = 1n; i <= 40n; i++) first.lessor.grant(i, 10n);
    first.lessor.stop();
    await first.backend.close();
    const second = setup({ dir: first.dir, config: { revokeRatePerSecond: 20, promoteExtendMs: 0 } });
    second.clock.advance(60_000);
    const perSecond = new Map<number, number>();
    for (const x of second.batches) {
      const sec = Math.floor(x.at / 1000);
      perSecond.set(sec, (perSecond.get(sec) ?? 0) + x.ids.length);
    }
    assert.equal(
      [...perSecond.values()].reduce((a, n) => a + n, 0),
      40,
    );
    for (const [sec, n] of perSecond) assert.ok(n <= 15, `${n} expiries in second ${sec}`);
  });
});
