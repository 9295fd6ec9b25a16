import type { KeyValue } from './kv-codec.js';
import type { KeyRange } from './tree-index.js';

export type EventType = 'PUT' | 'DELETE';

/** A change as a watcher sees it. DELETE carries the key and the deleting revision as mod_revision. */
export interface WatchEvent {
  readonly type: EventType;
  readonly kv: KeyValue;
  readonly prevKv?: KeyValue | undefined;
}

/**
 * Where a watcher's output goes (one gRPC stream holds many watchers). `send` returns false when the
 * stream's buffer is full: the events were taken, but nothing more should be sent until `ready`.
 */
export interface WatchSink {
  readonly ready: boolean;
  /** Events of one or more whole revisions, ascending; `rev` is the store revision to report. */
  sendEvents(w: Watcher, events: WatchEvent[], rev: number): boolean;
  /** The watcher's next revision was compacted away: it is canceled with the compaction revision. */
  sendCompacted(w: Watcher, compactRev: number): void;
  /** The watcher caught up (moved to the synced group). */
  onSynced(w: Watcher): void;
}

export interface WatcherOptions {
  readonly range: KeyRange;
  /** The next revision to deliver (etcd's minRev): start_revision, or current + 1 for "now". */
  readonly startRev: number;
  readonly prevKv: boolean;
  readonly noPut: boolean;
  readonly noDelete: boolean;
}

/**
 * One watch: a key range and the next revision it is owed. Invariant: every event with revision
 * < minRev that matches the range has been handed to the sink, in order, exactly once.
 */
export class Watcher {
  minRev: number;
  /** Set while the watcher is in the synced group. */
  synced = false;
  canceled = false;

  constructor(
    readonly id: bigint,
    readonly opts: WatcherOptions,
    readonly sink: WatchSink,
  ) {
    this.minRev = opts.startRev;
  }

  matches(key: Buffer): boolean {
    const { key: start, end } = this.opts.range;
    if (end === undefined) return start.equals(key);
    if (Buffer.compare(key, start) < 0) return false;
    return end.length === 0 || Buffer.compare(key, end) < 0;
  }

  /** Whether the filters let this event through. */
  wants(type: EventType): boolean {
    return type === 'PUT' ? !this.opts.noPut : !this.opts.noDelete;
  }
}
