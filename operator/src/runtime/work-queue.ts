import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import type { OperatorMetrics } from './metrics.js';
import { ItemExponentialRateLimiter } from './rate-limiter.js';

export interface WorkQueueOptions {
  /** Names the queue in metrics and logs (usually the controller's name). */
  name: string;
  /** First back-off of `addRateLimited`; doubles per consecutive failure (client-go: 5 ms). */
  backoffBaseMs?: number;
  /** Ceiling of that back-off (client-go: 1000 s). */
  backoffMaxMs?: number;
  clock?: Clock;
  metrics?: Pick<OperatorMetrics, 'workqueueDepth' | 'workqueueAdds' | 'workqueueRetries'>;
}

export const DEFAULT_BACKOFF_BASE_MS = 5;
export const DEFAULT_BACKOFF_MAX_MS = 1_000_000;

/**
 * A rate-limited, de-duplicating work queue of object keys, with client-go's
 * `workqueue.RateLimitingInterface` semantics:
 *
 * - `dirty` holds every key that needs processing; `queue` the dirty keys that are ready to hand out
 *   (FIFO); `processing` the keys a worker holds between `get()` and `done()`.
 * - Invariants: `queue ⊆ dirty`; `queue ∩ processing = ∅`. So a key is never held by two workers, and
 *   adding a key that is already dirty is a no-op (duplicates collapse).
 * - A key added while it is being processed stays dirty but is not queued; `done(key)` queues it again,
 *   so the change that arrived mid-reconcile is not lost and is still seen by only one worker at a time.
 * - `addAfter` parks a key in `waiting` until its time; a second `addAfter` only ever moves it earlier.
 *
 * A JavaScript `Set` keeps insertion order, which makes it the FIFO (the invariants forbid a key being in
 * it twice).
 */
export class WorkQueue {
  readonly name: string;
  readonly #clock: Clock;
  readonly #rateLimiter: ItemExponentialRateLimiter;
  readonly #metrics: WorkQueueOptions['metrics'];

  readonly #queue = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  /** Workers blocked in `get()`, oldest first. */
  readonly #getters: ((key: string | undefined) => void)[] = [];
  /** Keys parked by `addAfter`: key → monotonic time it becomes ready. */
  readonly #waiting = new Map<string, number>();
  #cancelWaitTimer: (() => void) | undefined;
  #waitTimerAtMs = Infinity;

  #shuttingDown = false;
  #drained: (() => void) | undefined;

  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.#clock = opts.clock ?? realClock;
    this.#metrics = opts.metrics;
    this.#rateLimiter = new ItemExponentialRateLimiter(
      opts.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS,
      opts.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS,
    );
  }

  /** Marks `key` as needing processing. Ignored after shutdown. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#metrics?.workqueueAdds.inc({ name: this.name });
    this.#updateDepth();
    if (this.#processing.has(key)) return; // done(key) will queue it
    this.#enqueue(key);
  }

  /** Adds `key` once `delayMs` has passed; an earlier deadline for a waiting key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    const readyAtMs = this.#clock.monotonicMs() + delayMs;
    const current = this.#waiting.get(key);
    if (current !== undefined && current <= readyAtMs) return;
    this.#waiting.set(key, readyAtMs);
    if (readyAtMs < this.#waitTimerAtMs) this.#armWaitTimer(readyAtMs);
  }

  /** Adds `key` after its own exponential back-off; each call without a `forget` doubles it. */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.#metrics?.workqueueRetries.inc({ name: this.name });
    this.addAfter(key, this.#rateLimiter.when(key));
  }

  /** Resets `key`'s back-off (after a successful reconcile). Does not remove it from the queue. */
  forget(key: string): void {
    this.#rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#rateLimiter.numRequeues(key);
  }

  /**
   * The next ready key, held by the caller until `done(key)`. Waits while the queue is empty;
   * `undefined` once the queue is shut down (keys still queued then are dropped: reconciles are
   * level-triggered, so whoever runs next re-lists and sees them again).
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Releases `key`; if it was added again while held, it goes back in the queue now. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#enqueue(key);
    if (this.#drained !== undefined && this.#processing.size === 0) this.#drained();
  }

  /** Keys ready to be handed out (not counting held or waiting ones), like client-go's `Len()`. */
  len(): number {
    return this.#queue.size;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Stops the queue: adds are ignored, blocked and future `get()`s return `undefined`, timers cleared. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#cancelWaitTimer?.();
    this.#cancelWaitTimer = undefined;
    this.#waitTimerAtMs = Infinity;
    this.#waiting.clear();
    this.#queue.clear();
    this.#dirty.clear();
    this.#updateDepth();
    for (const resolve of this.#getters.splice(0)) resolve(undefined);
  }

  /** `shutDown()`, then resolves once every key handed out has been `done()` (client-go's drain). */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#drained;
      this.#drained = () => {
        this.#drained = undefined;
        previous?.();
        resolve();
      };
    });
  }

  #enqueue(key: string): void {
    const getter = this.#getters.shift();
    if (getter === undefined) {
      this.#queue.add(key);
      return;
    }
    // A worker is already waiting: hand the key straight over, as if it went through the queue.
    this.#dirty.delete(key);
    this.#processing.add(key);
    this.#updateDepth();
    getter(key);
  }

  #take(): string | undefined {
    const first = this.#queue.values().next();
    if (first.done === true) return undefined;
    const key = first.value;
    this.#queue.delete(key);
    this.#dirty.delete(key);
    this.#processing.add(key);
    this.#updateDepth();
    return key;
  }

  #updateDepth(): void {
    this.#metrics?.workqueueDepth.set({ name: this.name }, this.#dirty.size);
  }

  /**
   * One timer for the earliest waiting key (client-go keeps a heap in its waiting loop). Finding the
   * next earliest is a scan: the waiting set is bounded by the number of watched objects and a scan
   * happens once per firing, which stays far cheaper than the reconciles it schedules.
   */
  #armWaitTimer(atMs: number): void {
    this.#cancelWaitTimer?.();
    this.#waitTimerAtMs = atMs;
    this.#cancelWaitTimer = this.#clock.setTimer(
      () => this.#fireWaiting(),
      atMs - this.#clock.monotonicMs(),
      {
        unref: true,
      },
    );
  }

  #fireWaiting(): void {
    this.#cancelWaitTimer = undefined;
    this.#waitTimerAtMs = Infinity;
    const nowMs = this.#clock.monotonicMs();
    let nextMs = Infinity;
    for (const [key, readyAtMs] of this.#waiting) {
      if (readyAtMs <= nowMs) {
        this.#waiting.delete(key);
        this.add(key);
      } else if (readyAtMs < nextMs) {
        nextMs = readyAtMs;
      }
    }
    if (nextMs !== Infinity) this.#armWaitTimer(nextMs);
  }
}
