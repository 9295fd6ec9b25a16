import type { Logger } from 'winston';
import type { Change, KVStore } from './kvstore.js';
import type { KeyValue } from './kv-codec.js';
import { WatcherGroup } from './watcher-group.js';
import type { WatchEvent, WatchSink, WatcherOptions } from './watcher.js';
import { Watcher } from './watcher.js';

/** Most revisions replayed to unsynced watchers per pass (etcd: watchBatchMaxRevs = 1000). */
export const SYNC_BATCH_REVS_MAX = 1000;

/**
 * Watchers over the KV store, in two groups (etcd's watchableStore, seed 004):
 *
 * - **synced**: caught up with the store. Each durable write is matched against them as it happens
 *   (by key, through the WatcherGroup index) and its events sent at once.
 * - **unsynced**: behind — started in the past, or moved here because their stream's buffer was full.
 *   A sync pass replays history from the backend in batches of at most SYNC_BATCH_REVS_MAX revisions,
 *   one shared scan for all of them, then moves those that caught up to the synced group.
 *
 * Writes never wait for watchers: a watcher whose stream cannot take more is moved to unsynced with its
 * minRev at the first undelivered revision, so it is never dropped and never given a gap.
 */
export class WatchableStore {
  private readonly synced = new WatcherGroup();
  private readonly unsynced = new Set<Watcher>();
  private syncScheduled = false;

  constructor(
    private readonly store: KVStore,
    private readonly logger: Logger,
  ) {
    store.onCommitted((rev, changes) => this.notify(rev, changes));
  }

  /** The durable revision: what "now" means to a watcher. */
  get rev(): number {
    return this.store.readRev;
  }

  get compactRev(): number {
    return this.store.compactRev;
  }

  get watcherCount(): number {
    return this.synced.size + this.unsynced.size;
  }

  /**
   * The store's contents were replaced (a snapshot from the leader): every synced watcher may have
   * missed revisions, so all go back to unsynced and catch up from the new history (etcd Restore).
   * `deliveredRev` is the revision synced watchers had been sent everything up to (the old store's),
   * so they resume after it: nothing twice, and no compacted cancel for a watcher that was current.
   */
  restore(deliveredRev: number): void {
    for (const w of [...this.synced.all()]) {
      this.synced.delete(w);
      w.synced = false;
      w.minRev = Math.max(w.minRev, deliveredRev + 1);
      this.unsynced.add(w);
    }
    this.scheduleSync();
  }

  /** Watchers catching up from history (etcd's "slow watchers"). */
  get unsyncedCount(): number {
    return this.unsynced.size;
  }

  /**
   * Starts a watcher. startRev 0 means "from now" (the next revision). A start in the future waits
   * silently; a start at or below the compaction revision is answered with a compacted cancel by the
   * next sync pass (after the caller has sent its `created` reply).
   */
  watch(id: bigint, opts: Omit<WatcherOptions, 'startRev'> & { startRev: number }, sink: WatchSink): Watcher {
    const startRev = opts.startRev <= 0 ? this.rev + 1 : opts.startRev;
    const w = new Watcher(id, { ...opts, startRev }, sink);
    if (startRev > this.rev) {
      w.synced = true;
      this.synced.add(w);
    } else {
      this.unsynced.add(w);
      this.scheduleSync();
    }
    return w;
  }

  cancel(w: Watcher): void {
    w.canceled = true;
    if (w.synced) this.synced.delete(w);
    else this.unsynced.delete(w);
  }

  /**
   * Whether the watcher has been given everything up to the current revision and does not wait for a
   * future one (then a progress notification at the current revision would be a lie).
   */
  isSynced(w: Watcher): boolean {
    return w.synced && w.minRev <= this.rev + 1;
  }

  /** Asks for a sync pass soon (a sink that became writable again calls this). */
  scheduleSync(): void {
    if (this.syncScheduled || this.unsynced.size === 0) return;
    this.syncScheduled = true;
    setImmediate(() => {
      this.syncScheduled = false;
      this.syncWatchers();
    });
  }

  /** A durable write transaction: deliver its events to the synced watchers. */
  private notify(rev: number, changes: readonly Change[]): void {
    if (this.synced.size === 0) return;
    const perWatcher = new Map<Watcher, WatchEvent[]>();
    for (const c of changes) {
      const type = c.tombstone ? 'DELETE' : 'PUT';
      this.synced.forKey(c.kv.key, (w) => {
        if (w.minRev > rev || !w.wants(type)) return;
        let evs = perWatcher.get(w);
        if (evs === undefined) perWatcher.set(w, (evs = []));
        evs.push(this.event(c.kv, type, rev, w.opts.prevKv));
      });
    }
    // Only the watchers this write concerns are visited. A synced watcher's minRev is not advanced on
    // every write (that would cost O(all watchers)); it is set when the watcher leaves the group.
    for (const [w, evs] of perWatcher) {
      if (!w.sink.ready) {
        // The stream is full: everything before `rev` was delivered; replay from `rev` later.
        this.synced.delete(w);
        w.synced = false;
        w.minRev = rev;
        this.unsynced.add(w);
        continue;
      }
      w.sink.sendEvents(w, evs, rev);
    }
    this.scheduleSync();
  }

  /** One shared history scan for all unsynced watchers whose sinks can take more. */
  private syncWatchers(): void {
    const current = this.rev;
    const compactRev = this.compactRev;
    const active: Watcher[] = [];
    for (const w of this.unsynced) {
      // The compaction revision itself is still readable (etcd 3.6), so only revisions below it are lost.
      if (w.minRev < compactRev) {
        this.unsynced.delete(w);
        w.canceled = true;
        this.logger.debug('watcher canceled: required revision compacted', {
          watchId: String(w.id),
          minRev: w.minRev,
          compactRev,
        });
        w.sink.sendCompacted(w, compactRev);
        continue;
      }
      if (w.minRev > current) {
        this.moveToSynced(w);
        continue;
      }
      if (w.sink.ready) active.push(w);
    }
    if (active.length === 0) return;
    const from = Math.min(...active.map((w) => w.minRev));
    const to = Math.min(current, from + SYNC_BATCH_REVS_MAX - 1);
    const events = new Map<Watcher, WatchEvent[]>(active.map((w) => [w, []]));
    for (const h of this.store.history(from, to)) {
      const type = h.tombstone ? 'DELETE' : 'PUT';
      for (const w of active) {
        if (h.rev.main < w.minRev || !w.matches(h.kv.key) || !w.wants(type)) continue;
        events.get(w)!.push(this.event(h.kv, type, h.rev.main, w.opts.prevKv));
      }
    }
    for (const w of active) {
      const evs = events.get(w)!;
      if (evs.length > 0) w.sink.sendEvents(w, evs, current);
      w.minRev = Math.max(w.minRev, to + 1);
      if (w.minRev > current) this.moveToSynced(w);
    }
    if (this.unsynced.size > 0) this.scheduleSync();
  }

  private moveToSynced(w: Watcher): void {
    this.unsynced.delete(w);
    w.synced = true;
    this.synced.add(w);
    w.sink.onSynced(w);
  }

  private event(kv: KeyValue, type: 'PUT' | 'DELETE', rev: number, withPrev: boolean): WatchEvent {
    // A create (version 1) has no previous value; otherwise read the key just before this revision.
    const isCreate = type === 'PUT' && kv.createRevision === kv.modRevision;
    const prevKv = withPrev && !isCreate ? this.store.keyAt(kv.key, rev - 1) : undefined;
    return { type, kv, prevKv };
  }
}
