import { randomBytes } from 'node:crypto';
import type { Logger } from 'winston';
import type { Backend } from '../backend/backend.js';
import { EtcdError } from '../errors.js';
import { assert } from '../util/assert.js';
import type { Clock, TimerHandle } from './clock.js';
import { Lease } from './lease.js';
import { decodeLeaseRecord, encodeLeaseRecord, leaseKey } from './lease-codec.js';
import { LeaseQueue } from './lease-queue.js';
import type { LeaseMetrics } from './metrics.js';

/** etcd lease.MaxLeaseTTL: a longer TTL is refused with "too large lease TTL". */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000;

/**
 * etcd's minLeaseTTL = ceil((3 × ElectionTicks / 2) × heartbeat) = ceil(1.5 × 1000 ms) = 2 s with the
 * default 100 ms heartbeat and 10-tick election (etcdserver/server.go).
 */
export const MIN_LEASE_TTL_SECONDS_DEFAULT = 2;
/** etcd leaseRevokeRate: expired leases revoked per second at most. */
export const REVOKE_RATE_PER_SECOND_DEFAULT = 1000;
/** etcd's lessor runLoop period: expiry is checked (and the revoke budget renewed) every 500 ms. */
export const EXPIRY_CHECK_INTERVAL_MS_DEFAULT = 500;
/** etcd's ExpiredLeasesRetryInterval = ReqTimeout() = 5 s + 2 × election timeout. */
export const EXPIRED_RETRY_INTERVAL_MS_DEFAULT = 7000;
/** etcd Promote(electionTimeout): a new primary lessor extends every lease by one election timeout. */
export const PROMOTE_EXTEND_MS_DEFAULT = 1000;
/**
 * The longest timer delay: Node fires a setTimeout beyond 2^31 - 1 ms (24.8 days) after 1 ms instead,
 * which would spin the expiry check. A lease further away than this is looked at again after it.
 */
export const TIMER_DELAY_MAX_MS = 2 ** 31 - 1;

export interface LessorConfig {
  readonly minLeaseTtlSeconds: number;
  readonly revokeRatePerSecond: number;
  readonly expiryCheckIntervalMs: number;
  readonly expiredRetryIntervalMs: number;
  readonly promoteExtendMs: number;
}

export const LESSOR_CONFIG_DEFAULT: LessorConfig = {
  minLeaseTtlSeconds: MIN_LEASE_TTL_SECONDS_DEFAULT,
  revokeRatePerSecond: REVOKE_RATE_PER_SECOND_DEFAULT,
  expiryCheckIntervalMs: EXPIRY_CHECK_INTERVAL_MS_DEFAULT,
  expiredRetryIntervalMs: EXPIRED_RETRY_INTERVAL_MS_DEFAULT,
  promoteExtendMs: PROMOTE_EXTEND_MS_DEFAULT,
};

/** The part of a write transaction a revoke needs (mvcc's TxnWrite has it). */
export interface LeaseTxn {
  deleteRange(range: { readonly key: Buffer }): unknown;
}

/** A key written or deleted by a write transaction (mvcc's Change has this shape). */
export interface KeyChange {
  readonly kv: { readonly key: Buffer; readonly lease: bigint };
  readonly tombstone: boolean;
}

export interface LessorOptions {
  readonly backend: Backend;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: LeaseMetrics;
  readonly config?: Partial<LessorConfig>;
  /**
   * Revokes expired leases, each through the server's write path. Called from a timer with at most
   * the rate limit's worth of ids; ids that are still there after the retry interval come again.
   */
  readonly onExpired: (ids: readonly bigint[]) => void;
  /** Source of lease ids picked by the server; default a random positive int63. */
  readonly randomId?: () => bigint;
}

/** What LeaseTimeToLive reports. */
export interface LeaseInfo {
  readonly id: bigint;
  readonly grantedTtlSeconds: number;
  /** Whole seconds left, truncated toward zero as Go's int64(Duration.Seconds()). */
  readonly remainingSeconds: number;
  readonly keys: Buffer[];
}

/**
 * The lessor (etcd lease/lessor.go) of a single member, which is always the primary lessor once
 * promote() has run.
 *
 * - grant/revoke change state that must survive a restart: they stage their lease-bucket writes on the
 *   backend, and the caller commits them (revoke inside the write transaction that deletes the keys, so
 *   the keys and the lease record go in one commit).
 * - Keys are attached and detached from the changes of each write transaction (applyChanges), as
 *   etcd's mvcc put/delete call Attach/Detach.
 * - Expiry: a min-heap by expiry time (LeaseQueue); one timer armed for the earliest expiry. Each check
 *   hands at most `revokeRatePerSecond × expiryCheckIntervalMs / 1000` expired leases to onExpired per
 *   check interval (etcd: 500 per 500 ms), so a mass expiry is spread out instead of stalling writes.
 *
 * Invariant: a key is in itemMap iff it is in the key set of the lease itemMap names, and every lease
 * of leaseMap is in the queue once promoted.
 */
export class Lessor {
  private readonly leaseMap = new Map<bigint, Lease>();
  private readonly itemMap = new Map<string, bigint>();
  private readonly queue = new LeaseQueue();
  private readonly cfg: LessorConfig;
  private readonly randomId: () => bigint;
  private primary = false;
  private stopped = false;
  private timer: TimerHandle | undefined;
  private timerAtMs = Infinity;
  /** The current rate-limit window: when it began and how many leases it handed out. */
  private windowStartMs = -Infinity;
  private windowRevokes = 0;

  constructor(private readonly opts: LessorOptions) {
    this.cfg = { ...LESSOR_CONFIG_DEFAULT, ...opts.config };
    assert(this.cfg.minLeaseTtlSeconds >= 1, 'minLeaseTtlSeconds must be at least 1');
    assert(this.cfg.revokeRatePerSecond > 0, 'revokeRatePerSecond must be positive');
    assert(this.cfg.expiryCheckIntervalMs > 0, 'expiryCheckIntervalMs must be positive');
    assert(this.cfg.expiredRetryIntervalMs > 0, 'expiredRetryIntervalMs must be positive');
    assert(this.cfg.promoteExtendMs >= 0, 'promoteExtendMs must not be negative');
    this.randomId = opts.randomId ?? randomLeaseId;
  }

  get minLeaseTtlSeconds(): number {
    return this.cfg.minLeaseTtlSeconds;
  }

  /** Expired leases handed out per check interval (etcd: leaseRevokeRate / 2 per 500 ms). */
  get revokeBatchMax(): number {
    return Math.max(1, Math.floor((this.cfg.revokeRatePerSecond * this.cfg.expiryCheckIntervalMs) / 1000));
  }

  get size(): number {
    return this.leaseMap.size;
  }

  /**
   * Loads the leases of the 'lease' bucket (etcd initAndRecover). Their expiry stays "forever" until
   * promote(); keys are attached by recoverKeys once the KV store is restored.
   */
  recover(): void {
    for (const [k, v] of this.opts.backend.rangeCommitted('lease', undefined, undefined)) {
      const r = decodeLeaseRecord(k, v);
      const ttl = Math.max(Number(r.ttlSeconds), this.cfg.minLeaseTtlSeconds);
      this.leaseMap.set(r.id, new Lease(r.id, ttl));
    }
  }

  /** Re-attaches restored keys to their leases (etcd's mvcc restore calls Attach for each live key). */
  recoverKeys(kvs: Iterable<{ readonly key: Buffer; readonly lease: bigint }>): void {
    for (const kv of kvs) {
      if (kv.lease === 0n) continue;
      if (!this.leaseMap.has(kv.lease)) {
        this.opts.logger.error('restored key names a lease that does not exist', {
          key: kv.key.toString('latin1'),
          lease: kv.lease.toString(16),
        });
        continue;
      }
      this.attach(kv.lease, kv.key.toString('latin1'));
    }
  }

  exists(id: bigint): boolean {
    return this.leaseMap.has(id);
  }

  /** A lease id no lease has: positive int63, as etcd only hands out positive ids. */
  pickId(): bigint {
    for (;;) {
      const id = this.randomId();
      if (id > 0n && !this.leaseMap.has(id)) return id;
    }
  }

  /**
   * Grants a lease (etcd Lessor.Grant). `id` 0 picks one. The TTL is raised to the minimum; a TTL
   * above MAX_LEASE_TTL_SECONDS or an id in use is refused. Stages the lease record; the caller commits.
   */
  grant(id: bigint, ttlSeconds: bigint): Lease {
    if (ttlSeconds > BigInt(MAX_LEASE_TTL_SECONDS)) throw new EtcdError('ErrLeaseTTLTooLarge');
    if (id === 0n) id = this.pickId();
    if (this.leaseMap.has(id)) throw new EtcdError('ErrLeaseExists');
    const ttl = Math.max(Number(ttlSeconds), this.cfg.minLeaseTtlSeconds);
    const l = new Lease(id, ttl);
    this.leaseMap.set(id, l);
    this.opts.backend.put('lease', leaseKey(id), encodeLeaseRecord({ id, ttlSeconds: BigInt(ttl) }));
    this.opts.metrics.ttl.observe(ttl);
    this.opts.metrics.granted.inc();
    if (this.primary) {
      l.refresh(this.opts.clock.now(), 0);
      this.queue.upsert(id, l.expiryMs);
      this.arm();
    }
    return l;
  }

  /**
   * Revokes a lease inside the write transaction `txn`: deletes every attached key, in sorted order so
   * all members produce the same revisions (etcd Lessor.Revoke), and stages the removal of the lease
   * record in the same backend commit. Throws ErrLeaseNotFound before changing anything.
   */
  revoke(id: bigint, txn: LeaseTxn): void {
    const l = this.leaseMap.get(id);
    if (l === undefined) throw new EtcdError('ErrLeaseNotFound');
    for (const key of l.sortedKeys()) txn.deleteRange({ key });
    for (const k of l.keys) this.itemMap.delete(k);
    l.keys.clear();
    this.leaseMap.delete(id);
    this.queue.remove(id);
    this.opts.backend.delete('lease', leaseKey(id));
    this.opts.metrics.revoked.inc();
  }

  /**
   * Renews a lease to its full TTL (etcd Lessor.Renew); returns the TTL, or undefined when the lease
   * does not exist or has already expired (a revoke is then due: etcd waits for it and answers "not
   * found", which is what the caller reports as TTL 0).
   */
  renew(id: bigint): number | undefined {
    const l = this.leaseMap.get(id);
    if (l === undefined) return undefined;
    const now = this.opts.clock.now();
    if (this.primary && l.remainingMs(now) <= 0) return undefined;
    l.refresh(now, 0);
    if (this.primary) {
      this.queue.upsert(id, l.expiryMs);
      this.arm();
    }
    this.opts.metrics.renewed.inc();
    return l.ttlSeconds;
  }

  lookup(id: bigint, withKeys: boolean): LeaseInfo | undefined {
    const l = this.leaseMap.get(id);
    if (l === undefined) return undefined;
    const remainingMs = l.remainingMs(this.opts.clock.now());
    return {
      id,
      grantedTtlSeconds: l.ttlSeconds,
      remainingSeconds: Number.isFinite(remainingMs) ? Math.trunc(remainingMs / 1000) : l.ttlSeconds,
      keys: withKeys ? l.sortedKeys() : [],
    };
  }

  /** Every lease id, soonest expiry first (etcd Leases sorts by remaining time). */
  leases(): bigint[] {
    return [...this.leaseMap.values()]
      .sort((a, b) => (a.expiryMs < b.expiryMs ? -1 : a.expiryMs > b.expiryMs ? 1 : 0))
      .map((l) => l.id);
  }

  /**
   * Attaches and detaches keys after a write transaction (etcd mvcc put: detach from the old lease,
   * attach to the new; delete: detach). Must run right after the transaction, before any other write.
   */
  applyChanges(changes: readonly KeyChange[]): void {
    for (const c of changes) {
      const key = c.kv.key.toString('latin1');
      const old = this.itemMap.get(key);
      const next = c.tombstone ? 0n : c.kv.lease;
      if (old !== undefined && old !== next) this.detach(old, key);
      if (next !== 0n && old !== next) {
        assert(this.leaseMap.has(next), `put attached key to lease ${next.toString(16)} that does not exist`);
        this.attach(next, key);
      }
    }
  }

  /**
   * Makes this the primary lessor (etcd Promote(extend)): every lease gets a full TTL from now plus
   * `extendMs`, so leases never expire because the member was down. When at least revokeRatePerSecond
   * leases exist, expiries that pile up in the same second are spread out as etcd does, so no more than
   * 3/4 of the revoke rate falls into any one second.
   */
  promote(extendMs: number = this.cfg.promoteExtendMs): void {
    this.primary = true;
    const now = this.opts.clock.now();
    for (const l of this.leaseMap.values()) {
      l.refresh(now, extendMs);
      this.queue.upsert(l.id, l.expiryMs);
    }
    if (this.leaseMap.size >= this.cfg.revokeRatePerSecond) this.spreadExpiries(now, extendMs);
    this.arm();
  }

  private spreadExpiries(now: number, extendMs: number): void {
    const leases = [...this.leaseMap.values()].sort((a, b) => a.expiryMs - b.expiryMs);
    const first = leases[0];
    if (first === undefined) return;
    let baseWindow = first.remainingMs(now);
    let nextWindow = baseWindow + 1000;
    let expires = 0;
    const targetExpiresPerSecond = Math.floor((3 * this.cfg.revokeRatePerSecond) / 4);
    for (const l of leases) {
      const remaining = l.remainingMs(now);
      if (remaining > nextWindow) {
        baseWindow = remaining;
        nextWindow = baseWindow + 1000;
        expires = 1;
        continue;
      }
      expires++;
      if (expires <= targetExpiresPerSecond) continue;
      let delay = (1000 * expires) / targetExpiresPerSecond;
      // Leases already n seconds past the base window need n seconds less delay.
      delay -= remaining - baseWindow;
      nextWindow = baseWindow + delay;
      l.refresh(now, delay + extendMs);
      this.queue.upsert(l.id, l.expiryMs);
    }
  }

  /** Whether this lessor expires leases (the leader's does). */
  get isPrimary(): boolean {
    return this.primary;
  }

  /**
   * This member is no longer the leader (etcd Demote): it stops expiring leases; the new leader's lessor
   * does that, and revokes reach this member through the log.
   */
  demote(): void {
    this.primary = false;
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAtMs = Infinity;
  }

  /** Stops the expiry timer; the lessor keeps answering lookups. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAtMs = Infinity;
  }

  private attach(id: bigint, key: string): void {
    this.leaseMap.get(id)!.keys.add(key);
    this.itemMap.set(key, id);
  }

  private detach(id: bigint, key: string): void {
    this.leaseMap.get(id)?.keys.delete(key);
    this.itemMap.delete(key);
  }

  /** Arms the timer for the next check: the earliest expiry, or the next window if this one is used up. */
  private arm(): void {
    if (this.stopped || !this.primary) return;
    const top = this.queue.peek();
    if (top === undefined) return;
    let at = top.expiryMs;
    if (this.windowRevokes >= this.revokeBatchMax)
      at = Math.max(at, this.windowStartMs + this.cfg.expiryCheckIntervalMs);
    if (this.timer !== undefined && this.timerAtMs <= at) return;
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer);
    this.timerAtMs = at;
    this.timer = this.opts.clock.setTimer(
      () => {
        this.timer = undefined;
        this.timerAtMs = Infinity;
        this.checkExpiry();
      },
      Math.min(at - this.opts.clock.now(), TIMER_DELAY_MAX_MS),
    );
  }

  /**
   * Hands expired leases to onExpired, at most the window's remaining budget (etcd
   * revokeExpiredLeases/findExpiredLeases). Each handed-out lease is re-queued at now + retry interval:
   * a successful revoke removes it, a failed one is tried again then.
   */
  private checkExpiry(): void {
    if (this.stopped) return;
    const now = this.opts.clock.now();
    if (now >= this.windowStartMs + this.cfg.expiryCheckIntervalMs) {
      this.windowStartMs = now;
      this.windowRevokes = 0;
    }
    const expired: bigint[] = [];
    while (this.windowRevokes + expired.length < this.revokeBatchMax) {
      const top = this.queue.peek();
      if (top === undefined || top.expiryMs > now) break;
      const l = this.leaseMap.get(top.id);
      if (l === undefined) {
        this.queue.pop();
        continue;
      }
      this.queue.upsert(top.id, now + this.cfg.expiredRetryIntervalMs);
      expired.push(top.id);
    }
    this.windowRevokes += expired.length;
    if (expired.length > 0) {
      try {
        this.opts.onExpired(expired);
      } catch (err) {
        this.opts.logger.error('revoking expired leases failed', { error: (err as Error).message });
      }
    }
    this.arm();
  }
}

/** A random positive int63 (etcd only hands out positive ids: ID & (1<<63 - 1), never 0). */
function randomLeaseId(): bigint {
  return randomBytes(8).readBigUInt64BE() & 0x7fff_ffff_ffff_ffffn;
}
