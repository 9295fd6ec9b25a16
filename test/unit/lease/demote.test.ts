import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { Lessor } from '../../../server/src/lease/lessor.js';
import { newLeaseMetrics } from '../../../server/src/lease/metrics.js';
import { newLogger } from '../../../server/src/util/logger.js';
import { closeStores, openStore } from '../apply/requests.js';
import { FakeClock } from './fake-clock.js';

after(closeStores);

interface Setup {
  readonly lessor: Lessor;
  readonly clock: FakeClock;
  readonly expired: bigint[][];
}

function setup(): Setup {
  const { backend } = openStore();
  const logger = newLogger('error', true);
  const registry = new Registry();
  const clock = new FakeClock();
  const expired: bigint[][] = [];
  const lessor = new Lessor({
    backend,
    clock,
    logger,
    metrics: newLeaseMetrics(registry),
    config: { minLeaseTtlSeconds: 1, promoteExtendMs: 0 },
    onExpired: (ids) => {
      expired.push([...ids]);
    },
  });
  return { lessor, clock, expired };
}

describe('Lessor.demote', () => {
  it('a primary lessor hands an expired lease to onExpired (the baseline demote must change)', () => {
    const s = setup();
    s.lessor.promote();
    assert.equal(s.lessor.isPrimary, true);
    s.lessor.grant(1n, 5n);
    s.clock.advance(5_001);
    assert.deepEqual(s.expired, [[1n]]);
  });

  it("a demoted lessor's expired lease is not handed to onExpired, and isPrimary is false", () => {
    const s = setup();
    s.lessor.promote();
    s.lessor.grant(1n, 5n);
    s.lessor.grant(2n, 10n);
    assert.ok(s.clock.pendingTimers > 0, 'the expiry timer is armed while primary');
    s.lessor.demote();
    assert.equal(s.lessor.isPrimary, false);
    assert.equal(s.clock.pendingTimers, 0, 'demote disarms the expiry timer');
    s.clock.advance(60_000);
    assert.deepEqual(s.expired, []);
    assert.equal(s.lessor.size, 2, 'the leases stay; the new leader revokes them through the log');
  });

  it('grants and renews on a demoted lessor do not arm expiry', () => {
    const s = setup();
    s.lessor.promote();
    s.lessor.demote();
    s.lessor.grant(3n, 2n);
    assert.equal(s.lessor.renew(3n), 2);
    assert.equal(s.clock.pendingTimers, 0);
    s.clock.advance(30_000);
    assert.deepEqual(s.expired, []);
    // A follower renews even a lease whose TTL has passed (only the primary judges expiry).
    assert.equal(s.lessor.renew(3n), 2);
  });

  it('promote after demote resumes expiry with a full TTL from the promotion', () => {
    const s = setup();
    s.lessor.promote();
    s.lessor.grant(1n, 5n);
    s.lessor.demote();
    s.clock.advance(20_000);
    assert.deepEqual(s.expired, []);
    s.lessor.promote();
    assert.equal(s.lessor.isPrimary, true);
    s.clock.advance(4_900);
    assert.deepEqual(s.expired, [], 'not before a full TTL after promote');
    s.clock.advance(200);
    assert.deepEqual(s.expired, [[1n]]);
  });
});
