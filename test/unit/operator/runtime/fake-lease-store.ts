import type {
  LeaderElectionRecord,
  LeaseStore,
  StoredLease,
} from '../../../../operator/src/runtime/lease-store.js';
import { LeaseConflictError } from '../../../../operator/src/runtime/lease-store.js';

/** One in-memory Lease with the API server's optimistic concurrency: a stale resourceVersion gets 409. */
export class FakeLease {
  stored: StoredLease | undefined;
  #rv = 0;
  writes = 0;

  write(record: LeaderElectionRecord, expectedRv: string | undefined): StoredLease {
    if (expectedRv === undefined && this.stored !== undefined) throw new LeaseConflictError('already exists');
    if (expectedRv !== undefined && this.stored?.resourceVersion !== expectedRv) {
      throw new LeaseConflictError('the object has been modified');
    }
    this.writes++;
    this.stored = { record: { ...record }, resourceVersion: String(++this.#rv) };
    return { record: { ...record }, resourceVersion: this.stored.resourceVersion };
  }

  /** Another replica's write: `holder` acquired and renewed at `atMs`. Checks the current version. */
  writeAs(holder: string, atMs: number, leaseDurationSeconds: number, leaseTransitions: number): StoredLease {
    const at = new Date(atMs);
    return this.write(
      { holderIdentity: holder, leaseDurationSeconds, acquireTime: at, renewTime: at, leaseTransitions },
      this.stored?.resourceVersion,
    );
  }
}

/**
 * One replica's view of the shared Lease: `partitioned` makes every call fail like an unreachable API
 * server; `beforeUpdate` lets a test slip another writer in between a read and a write.
 */
export class FakeLeaseStore implements LeaseStore {
  partitioned = false;
  beforeUpdate: (() => void) | undefined;

  constructor(readonly lease: FakeLease) {}

  describe(): string {
    return 'cairn-system/cairn-operator';
  }

  get(): Promise<StoredLease | undefined> {
    return this.#call(() => {
      const s = this.lease.stored;
      return s === undefined ? undefined : { record: { ...s.record }, resourceVersion: s.resourceVersion };
    });
  }

  create(record: LeaderElectionRecord): Promise<StoredLease> {
    return this.#call(() => this.lease.write(record, undefined));
  }

  update(record: LeaderElectionRecord, resourceVersion: string): Promise<StoredLease> {
    return this.#call(() => {
      const hook = this.beforeUpdate;
      this.beforeUpdate = undefined;
      hook?.();
      return this.lease.write(record, resourceVersion);
    });
  }

  async #call<T>(fn: () => T): Promise<T> {
    await Promise.resolve();
    if (this.partitioned) throw new Error('connect ECONNREFUSED');
    return fn();
  }
}
