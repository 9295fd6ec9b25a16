import { hostname } from 'node:os';
import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import type { LeaderElectionRecord, LeaseStore, StoredLease } from './lease-store.js';
import { LeaseConflictError } from './lease-store.js';
import type { Logger } from './logger.js';
import { errorMessage } from './logger.js';
import type { OperatorMetrics } from './metrics.js';

export interface LeaderElectionOptions {
  store: LeaseStore;
  /** Unique per replica; defaults to `hostname_pid` (the pod name, plus the pid for two on one host). */
  identity?: string;
  /** How long a non-leader waits, from when it last saw the record change, before taking over. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it stops acting as leader. */
  renewDeadlineMs?: number;
  /** Time between acquire attempts and between renewals. */
  retryPeriodMs?: number;
  logger: Logger;
  metrics?: Pick<OperatorMetrics, 'leader'>;
  clock?: Clock;
  /** Jitter source for acquire retries; tests pass `() => 0`. */
  random?: () => number;
}

export interface LeaderCallbacks {
  /** Start the controllers. `signal` aborts when leadership ends, before `onStoppedLeading`. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Stop the controllers; awaited before the lease is released on a graceful hand-off. */
  onStoppedLeading(): void | Promise<void>;
  /** The holder this replica observes changed (its own identity included). */
  onNewLeader?(identity: string): void;
}

// client-go's defaults (leaderelection.go and kube-controller-manager's flags).
export const DEFAULT_LEASE_DURATION_MS = 15_000;
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
export const DEFAULT_RETRY_PERIOD_MS = 2_000;
/** client-go's JitterFactor: an acquire retry waits retryPeriod × [1, 2.2). */
export const JITTER_FACTOR = 1.2;

type AttemptResult = 'ok' | 'held' | 'conflict' | 'failed';

/**
 * Leader election on a Lease, after client-go's `leaderelection.LeaderElector`:
 *
 * - A candidate tries every retryPeriod (jittered). It takes the Lease when it does not exist, is
 *   released (empty holder) or has expired: expiry is judged by when *this* replica last saw the record
 *   change plus the holder's leaseDurationSeconds — never by the remote renewTime, so clock skew between
 *   replicas cannot make a live lease look expired.
 * - Every write carries the resourceVersion it read: if two candidates race, one gets 409 and does not
 *   lead. A takeover increments leaseTransitions.
 * - The leader renews every retryPeriod and stops leading once renewDeadline has passed since its last
 *   successful renewal (a timer, so a hung request cannot hold it up). renewDeadline < leaseDuration is
 *   what keeps two leaders from overlapping: the old one gives up before any other may take over. If a
 *   renewal finds the lease held by someone else, it steps down at once (client-go would keep retrying
 *   until the deadline, though it already knows).
 * - `release()` stops the controllers first, then writes an empty holder with a 1 s duration, so the
 *   next candidate takes over at its next retry instead of after a whole lease duration
 *   (client-go's ReleaseOnCancel).
 *
 * One `run()` is one term: after leadership is lost it resolves and the process is expected to exit
 * (client-go's controllers do the same), because state built while leading cannot be trusted after.
 */
export class LeaderElector {
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly #store: LeaseStore;
  readonly #logger: Logger;
  readonly #metrics: LeaderElectionOptions['metrics'];
  readonly #clock: Clock;
  readonly #random: () => number;

  #observed: LeaderElectionRecord | undefined;
  #observedRaw = '';
  #observedAtMs = 0;
  #resourceVersion = '';
  #reportedLeader = '';

  #callbacks: LeaderCallbacks | undefined;
  #leading = false;
  #abort: AbortController | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #steppingDown: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #cancelDeadline: (() => void) | undefined;

  constructor(opts: LeaderElectionOptions) {
    this.identity = opts.identity ?? `${hostname()}_${process.pid}`;
    this.leaseDurationMs = opts.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
    this.retryPeriodMs = opts.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
    validateTimings(this.identity, this.leaseDurationMs, this.renewDeadlineMs, this.retryPeriodMs);
    this.#store = opts.store;
    this.#logger = opts.logger.child({ identity: this.identity, lease: opts.store.describe() });
    this.#metrics = opts.metrics;
    this.#clock = opts.clock ?? realClock;
    this.#random = opts.random ?? Math.random;
  }

  /** Whether this replica holds the lease as far as it last observed. */
  isLeader(): boolean {
    return this.#observed !== undefined && this.#observed.holderIdentity === this.identity;
  }

  /** The holder this replica last observed ('' if none). */
  get leader(): string {
    return this.#observed?.holderIdentity ?? '';
  }

  /** Campaigns, leads until leadership is lost or `release()` is called, then resolves. */
  run(callbacks: LeaderCallbacks): Promise<void> {
    if (this.#loop !== undefined) throw new Error('leader election: run() called twice');
    this.#callbacks = callbacks;
    this.#loop = this.#campaign();
    return this.#loop;
  }

  /**
   * Graceful shutdown: stops campaigning or renewing, stops the controllers (`onStoppedLeading`), and if
   * this replica still holds the lease, releases it so another takes over at once.
   */
  async release(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
  }

  async #campaign(): Promise<void> {
    try {
      if (await this.#acquire()) {
        this.#becomeLeader();
        await this.#renew();
      }
    } finally {
      this.#cancelDeadline?.();
      this.#cancelDeadline = undefined;
      // A graceful stop: our controllers stop before the lease is given away, so two replicas never
      // reconcile at once during a hand-off. run() resolves only after both.
      if (this.#stopped) await this.#stepDown('released');
      await this.#steppingDown;
      if (this.#stopped) await this.#releaseLease();
    }
  }

  async #releaseLease(): Promise<void> {
    if (!this.isLeader()) return;
    const nowMs = this.#clock.now();
    const record: LeaderElectionRecord = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: new Date(nowMs),
      renewTime: new Date(nowMs),
      leaseTransitions: this.#observed?.leaseTransitions ?? 0,
    };
    try {
      this.#setObserved(await this.#store.update(record, this.#resourceVersion), this.#clock.monotonicMs());
      this.#logger.info('released the lease');
    } catch (err) {
      // Not fatal: the others take over after the lease duration instead of at once.
      this.#logger.warn('could not release the lease', { error: errorMessage(err) });
    }
  }

  async #acquire(): Promise<boolean> {
    this.#logger.info('attempting to acquire the leader lease');
    while (!this.#stopped) {
      const result = await this.#tryAcquireOrRenew();
      this.#maybeReportTransition();
      if (result === 'ok') return !this.#stopped;
      if (this.#stopped) break;
      await this.#sleep(this.retryPeriodMs * (1 + this.#random() * JITTER_FACTOR));
    }
    return false;
  }

  async #renew(): Promise<void> {
    // Conservatively, a renewal counts from when its attempt started: the write landed no earlier.
    this.#armDeadline(this.#clock.monotonicMs());
    while (!this.#stopped && this.#leading) {
      await this.#sleep(this.retryPeriodMs);
      if (this.#stopped || !this.#leading) return;
      const startedMs = this.#clock.monotonicMs();
      const result = await this.#tryAcquireOrRenew();
      this.#maybeReportTransition();
      if (!this.#leading) return; // the renew deadline passed while the request was in flight
      if (result === 'ok') {
        this.#armDeadline(startedMs);
      } else if (result === 'held' || result === 'conflict') {
        await this.#stepDown(`lease taken by ${this.leader || 'another writer'}`);
        return;
      }
      // 'failed' (API unreachable, 5xx): retry next period until the deadline timer fires.
    }
  }

  /** client-go's tryAcquireOrRenew: one read-check-write round. */
  async #tryAcquireOrRenew(): Promise<AttemptResult> {
    const nowMs = this.#clock.now();
    const monoMs = this.#clock.monotonicMs();
    const desired: LeaderElectionRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseDurationMs / 1000,
      acquireTime: new Date(nowMs),
      renewTime: new Date(nowMs),
      leaseTransitions: 0,
    };

    // Fast path: a leader whose last write we saw renews optimistically without reading first.
    if (this.isLeader() && this.#isLeaseValid(monoMs) && this.#observed !== undefined) {
      desired.acquireTime = this.#observed.acquireTime;
      desired.leaseTransitions = this.#observed.leaseTransitions;
      try {
        this.#setObserved(await this.#store.update(desired, this.#resourceVersion), monoMs);
        return 'ok';
      } catch (err) {
        this.#logger.debug('optimistic renewal failed, re-reading the lease', { error: errorMessage(err) });
      }
    }

    let current: StoredLease | undefined;
    try {
      current = await this.#store.get();
    } catch (err) {
      this.#logger.warn('could not read the lease', { error: errorMessage(err) });
      return 'failed';
    }
    if (current === undefined) {
      try {
        this.#setObserved(await this.#store.create(desired), monoMs);
        return 'ok';
      } catch (err) {
        return this.#writeFailed('create', err);
      }
    }

    this.#resourceVersion = current.resourceVersion;
    if (recordKey(current.record) !== this.#observedRaw) {
      // Expiry counts from when we saw this record change (now), not from its remote renewTime.
      this.#setObserved(current, this.#clock.monotonicMs());
    }
    if (current.record.holderIdentity !== '' && this.#isLeaseValid(monoMs) && !this.isLeader()) {
      return 'held';
    }
    if (this.isLeader()) {
      desired.acquireTime = current.record.acquireTime;
      desired.leaseTransitions = current.record.leaseTransitions;
    } else {
      desired.leaseTransitions = current.record.leaseTransitions + 1;
    }
    try {
      this.#setObserved(await this.#store.update(desired, current.resourceVersion), monoMs);
      return 'ok';
    } catch (err) {
      return this.#writeFailed('update', err);
    }
  }

  #writeFailed(op: string, err: unknown): AttemptResult {
    if (err instanceof LeaseConflictError) {
      this.#logger.info(`lease ${op} lost a race to another writer`);
      return 'conflict';
    }
    this.#logger.warn(`could not ${op} the lease`, { error: errorMessage(err) });
    return 'failed';
  }

  #setObserved(stored: StoredLease, atMs: number): void {
    this.#observed = stored.record;
    this.#observedRaw = recordKey(stored.record);
    this.#observedAtMs = atMs;
    this.#resourceVersion = stored.resourceVersion;
  }

  #isLeaseValid(nowMs: number): boolean {
    return (
      this.#observed !== undefined && this.#observedAtMs + this.#observed.leaseDurationSeconds * 1000 > nowMs
    );
  }

  #maybeReportTransition(): void {
    const holder = this.leader;
    if (holder === this.#reportedLeader) return;
    this.#reportedLeader = holder;
    if (holder === '') return; // released: nobody to announce
    this.#logger.info('new leader observed', { leader: holder });
    try {
      this.#callbacks?.onNewLeader?.(holder);
    } catch (err) {
      this.#logger.error('onNewLeader failed', { error: errorMessage(err) });
    }
  }

  #becomeLeader(): void {
    this.#leading = true;
    this.#abort = new AbortController();
    this.#metrics?.leader.set({ identity: this.identity }, 1);
    this.#logger.info('became leader');
    const signal = this.#abort.signal;
    void (async () => {
      try {
        await this.#callbacks?.onStartedLeading(signal);
      } catch (err) {
        this.#logger.error('onStartedLeading failed', { error: errorMessage(err) });
      }
    })();
  }

  /** Ends this term's leadership once; later calls wait for the first. */
  #stepDown(reason: string): Promise<void> {
    if (!this.#leading) return this.#steppingDown ?? Promise.resolve();
    this.#leading = false;
    this.#cancelDeadline?.();
    this.#cancelDeadline = undefined;
    this.#metrics?.leader.set({ identity: this.identity }, 0);
    this.#logger.info('stopped leading', { reason });
    this.#abort?.abort(new Error(`leadership lost: ${reason}`));
    this.#wake?.();
    this.#steppingDown = (async () => {
      try {
        await this.#callbacks?.onStoppedLeading();
      } catch (err) {
        this.#logger.error('onStoppedLeading failed', { error: errorMessage(err) });
      }
    })();
    return this.#steppingDown;
  }

  #armDeadline(renewedAtMs: number): void {
    this.#cancelDeadline?.();
    const remainingMs = renewedAtMs + this.renewDeadlineMs - this.#clock.monotonicMs();
    this.#cancelDeadline = this.#clock.setTimer(() => {
      this.#cancelDeadline = undefined;
      void this.#stepDown(`could not renew within renewDeadline (${this.renewDeadlineMs} ms)`);
    }, remainingMs);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.#clock.setTimer(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        cancel();
        this.#wake = undefined;
        resolve();
      };
    });
  }
}

function validateTimings(identity: string, leaseMs: number, renewMs: number, retryMs: number): void {
  if (identity === '') throw new Error('leader election: identity must not be empty');
  if (!Number.isInteger(leaseMs / 1000) || leaseMs <= 0) {
    // The Lease stores whole seconds; anything else would silently differ between replicas.
    throw new Error(
      `leader election: leaseDurationMs must be a positive whole number of seconds, got ${leaseMs}`,
    );
  }
  if (!(retryMs > 0)) throw new Error(`leader election: retryPeriodMs must be positive, got ${retryMs}`);
  if (!(leaseMs > renewMs)) {
    throw new Error(
      `leader election: leaseDurationMs (${leaseMs}) must be greater than renewDeadlineMs (${renewMs})`,
    );
  }
  if (!(renewMs > retryMs * JITTER_FACTOR)) {
    throw new Error(
      `leader election: renewDeadlineMs (${renewMs}) must be greater than ${JITTER_FACTOR} × retryPeriodMs (${retryMs})`,
    );
  }
}

/** client-go compares the raw record bytes to tell "changed" from "same"; this is our equivalent. */
function recordKey(r: LeaderElectionRecord): string {
  return JSON.stringify([
    r.holderIdentity,
    r.leaseDurationSeconds,
    r.acquireTime?.getTime(),
    r.renewTime?.getTime(),
    r.leaseTransitions,
  ]);
}
