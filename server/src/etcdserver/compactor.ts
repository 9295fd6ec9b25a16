import type { Logger } from 'winston';
import type { Clock, TimerHandle } from '../lease/clock.js';
import { systemClock } from '../lease/clock.js';
import { MvccError } from '../mvcc/errors.js';
import { durationToMs, parseGoDuration } from '../util/go-duration.js';

/** --auto-compaction-mode / --auto-compaction-retention, parsed (etcd embed.Config). */
export type AutoCompaction =
  | { readonly mode: 'periodic'; readonly retentionMs: number }
  | { readonly mode: 'revision'; readonly retentionRevisions: number };

/** Revision mode checks this often (etcd v3compactor revision.go revInterval). */
export const REVISION_CHECK_INTERVAL_MS = 5 * 60 * 1000;
/** Periodic mode samples the revision every min(retention, 1 h) / 10 (etcd retryDivisor). */
const PERIODIC_DIVISOR = 10;
const HOUR_MS = 60 * 60 * 1000;

/**
 * Parses the flags as etcd does (etcdmain/config.go, embed/etcd.go): a retention of "0" turns
 * auto-compaction off; in periodic mode a bare integer is hours, anything else a Go duration; in
 * revision mode it is a revision count.
 */
export function parseAutoCompaction(mode: string, retention: string): AutoCompaction | undefined {
  if (mode !== 'periodic' && mode !== 'revision') {
    throw new Error(`unknown auto-compaction-mode "${mode}"`);
  }
  if (mode === 'revision') {
    const n = Number(retention);
    if (!/^[0-9]+$/.test(retention) || !Number.isSafeInteger(n)) {
      throw new Error(`invalid auto-compaction-retention "${retention}" for revision mode: not an integer`);
    }
    return n === 0 ? undefined : { mode, retentionRevisions: n };
  }
  let ms: number;
  if (/^[0-9]+$/.test(retention)) ms = Number(retention) * HOUR_MS;
  else {
    try {
      ms = durationToMs(parseGoDuration(retention));
    } catch {
      throw new Error(
        `invalid auto-compaction-retention "${retention}": not a number of hours or a duration`,
      );
    }
  }
  if (ms < 0) throw new Error(`invalid auto-compaction-retention "${retention}": negative`);
  return ms === 0 ? undefined : { mode, retentionMs: ms };
}

export interface CompactorOptions {
  readonly config: AutoCompaction;
  /** Default: the system clock. */
  readonly clock?: Clock;
  readonly logger: Logger;
  /** The store's current revision. */
  readonly revision: () => number;
  /** Compacts at `rev` (without waiting for the physical removal), as a Compaction request would. */
  readonly compact: (rev: number) => Promise<void>;
}

/**
 * Automatic compaction, as etcd's v3compactor runs it (server/etcdserver/api/v3compactor):
 *
 * periodic (retention R): every R' = min(R, 1 h) / 10 the current revision is sampled, keeping the last
 *   R / R' + 1 samples, so the oldest is the revision of R ago. The first compaction happens once R has
 *   passed since start, then at most every min(R, 1 h), each at the oldest sample, skipped if that is the
 *   revision last compacted. A failed compaction is retried at the next sample.
 * revision (retention N): every 5 minutes, compacts at current − N when that is positive and differs
 *   from the last compaction's revision.
 *
 * ErrCompacted counts as success (someone else compacted further), as in etcd.
 */
export class Compactor {
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly revs: number[] = [];
  private lastRevision = 0;
  private lastSuccessMs: number;
  private baseIntervalMs: number;
  private readonly clock: Clock;

  constructor(private readonly opts: CompactorOptions) {
    this.clock = opts.clock ?? systemClock;
    this.lastSuccessMs = this.clock.now();
    this.baseIntervalMs = opts.config.mode === 'periodic' ? opts.config.retentionMs : 0;
  }

  start(): void {
    const c = this.opts.config;
    this.opts.logger.info('auto compaction enabled', {
      mode: c.mode,
      retention: c.mode === 'periodic' ? `${c.retentionMs}ms` : c.retentionRevisions,
    });
    if (c.mode === 'periodic') this.samplePeriodic();
    else this.schedule(REVISION_CHECK_INTERVAL_MS);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private get periodicIntervalMs(): number {
    const c = this.opts.config;
    return c.mode === 'periodic' ? Math.min(c.retentionMs, HOUR_MS) : REVISION_CHECK_INTERVAL_MS;
  }

  private get sampleIntervalMs(): number {
    return this.periodicIntervalMs / PERIODIC_DIVISOR;
  }

  private samplePeriodic(): void {
    const c = this.opts.config;
    if (c.mode !== 'periodic') return;
    this.revs.push(this.opts.revision());
    const retentions = Math.floor(c.retentionMs / this.sampleIntervalMs) + 1;
    if (this.revs.length > retentions) this.revs.shift();
    this.schedule(this.sampleIntervalMs);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      void this.fire();
    }, delayMs);
  }

  private async fire(): Promise<void> {
    if (this.stopped) return;
    const c = this.opts.config;
    if (c.mode === 'periodic') {
      const rev = this.revs[0]!;
      const due = this.clock.now() - this.lastSuccessMs >= this.baseIntervalMs;
      if (due && rev !== this.lastRevision) {
        if (this.baseIntervalMs === c.retentionMs) this.baseIntervalMs = this.periodicIntervalMs;
        await this.tryCompact(rev);
      }
      this.samplePeriodic();
      return;
    }
    const rev = this.opts.revision() - c.retentionRevisions;
    if (rev > 0 && rev !== this.lastRevision) await this.tryCompact(rev);
    this.schedule(REVISION_CHECK_INTERVAL_MS);
  }

  private async tryCompact(rev: number): Promise<void> {
    const c = this.opts.config;
    this.opts.logger.info(`starting auto ${c.mode} compaction`, { revision: rev });
    try {
      await this.opts.compact(rev);
    } catch (err) {
      if (!(err instanceof MvccError && err.code === 'ERR_MVCC_COMPACTED')) {
        this.opts.logger.warn(`failed auto ${c.mode} compaction`, {
          revision: rev,
          error: (err as Error).message,
        });
        return;
      }
    }
    this.lastRevision = rev;
    this.lastSuccessMs = this.clock.now();
    this.opts.logger.info(`completed auto ${c.mode} compaction`, { revision: rev });
  }
}
