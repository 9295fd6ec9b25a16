import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import type { Logger } from './logger.js';
import { errorMessage, reconcileLogger } from './logger.js';
import type { OperatorMetrics, ReconcileOutcome } from './metrics.js';
import type { WorkQueue } from './work-queue.js';

/** What a reconcile asks for when it succeeds: nothing, or another pass after `requeueAfterMs`. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

/**
 * Reconciles one object by key (`namespace/name`). Reads the current state itself (level-triggered),
 * returns normally when done or when it wants a timed requeue, and throws to be retried with back-off.
 */
export type Reconcile = (key: string, logger: Logger) => Promise<ReconcileResult>;

export interface ControllerOptions {
  name: string;
  queue: WorkQueue;
  /** Keys reconciled in parallel; the queue guarantees one key is never reconciled twice at once. */
  workers: number;
  reconcile: Reconcile;
  logger: Logger;
  metrics: Pick<OperatorMetrics, 'reconcileTotal' | 'reconcileDuration' | 'reconcileErrors'>;
  /** How long `stop()` waits for running reconciles before giving up on them. */
  stopTimeoutMs?: number;
  clock?: Clock;
}

export const DEFAULT_STOP_TIMEOUT_MS = 30_000;
const WORKERS_MAX = 64;

/**
 * The loop between a work queue and a reconcile function, after controller-runtime's controller:
 * `workers` loops each take a key, reconcile it, and settle it in the queue —
 *
 * - success: `forget(key)` (its back-off resets), then `addAfter(key, requeueAfterMs)` if asked;
 * - thrown error: logged with the key, `addRateLimited(key)` (exponential back-off per key);
 * - always `done(key)`, so a key re-added during the reconcile runs again.
 */
export class Controller {
  readonly name: string;
  readonly #queue: WorkQueue;
  readonly #workers: number;
  readonly #reconcile: Reconcile;
  readonly #logger: Logger;
  readonly #metrics: ControllerOptions['metrics'];
  readonly #stopTimeoutMs: number;
  readonly #clock: Clock;
  #running: Promise<void>[] = [];
  #started = false;

  constructor(opts: ControllerOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1 || opts.workers > WORKERS_MAX) {
      throw new Error(`controller ${opts.name}: workers must be an integer in [1, ${WORKERS_MAX}]`);
    }
    const stopTimeoutMs = opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    if (!(stopTimeoutMs >= 0)) throw new Error(`controller ${opts.name}: stopTimeoutMs must be >= 0`);
    this.name = opts.name;
    this.#queue = opts.queue;
    this.#workers = opts.workers;
    this.#reconcile = opts.reconcile;
    this.#logger = opts.logger.child({ controller: opts.name });
    this.#metrics = opts.metrics;
    this.#stopTimeoutMs = stopTimeoutMs;
    this.#clock = opts.clock ?? realClock;
  }

  start(): void {
    if (this.#started) throw new Error(`controller ${this.name}: already started`);
    this.#started = true;
    this.#logger.info('starting workers', { workers: this.#workers });
    for (let i = 0; i < this.#workers; i++) this.#running.push(this.#worker());
  }

  /**
   * Stops taking keys (shuts the queue down) and waits for the reconciles in flight, at most
   * `stopTimeoutMs`. Resolves `true` if they all finished, `false` if some were still running.
   */
  async stop(): Promise<boolean> {
    const drained = this.#queue.shutDownWithDrain();
    const workers = Promise.all(this.#running).then(() => drained);
    let cancelTimer: (() => void) | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      cancelTimer = this.#clock.setTimer(() => resolve(false), this.#stopTimeoutMs);
    });
    const finished = await Promise.race([workers.then(() => true), timedOut]);
    cancelTimer?.();
    this.#running = [];
    if (!finished) {
      this.#logger.warn('stop timed out with reconciles still running', {
        stopTimeoutMs: this.#stopTimeoutMs,
      });
    }
    return finished;
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.#queue.get();
      if (key === undefined) return;
      await this.#processOne(key);
    }
  }

  async #processOne(key: string): Promise<void> {
    const logger = reconcileLogger(this.#logger, key);
    const endTimer = this.#metrics.reconcileDuration.startTimer({ controller: this.name });
    let outcome: ReconcileOutcome;
    try {
      const result = await this.#reconcile(key, logger);
      this.#queue.forget(key);
      if (result.requeueAfterMs !== undefined) {
        this.#queue.addAfter(key, result.requeueAfterMs);
        outcome = 'requeue';
      } else {
        outcome = 'success';
      }
    } catch (err) {
      outcome = 'error';
      this.#metrics.reconcileErrors.inc({ controller: this.name });
      logger.error('reconcile failed', {
        error: errorMessage(err),
        stack: err instanceof Error ? err.stack : undefined,
        requeues: this.#queue.numRequeues(key),
      });
      this.#queue.addRateLimited(key);
    } finally {
      endTimer();
      this.#queue.done(key);
    }
    this.#metrics.reconcileTotal.inc({ controller: this.name, result: outcome });
  }
}
