import type { Logger } from 'winston';
import type { Backend } from '../backend/backend.js';
import { assert } from '../util/assert.js';
import { MvccError, errCompacted, errFutureRev } from './errors.js';
import type { KeyValueHash } from './hash.js';
import { hashKeyBucket } from './hash.js';
import { KeyIndex } from './key-index.js';
import type { KeyValue } from './kv-codec.js';
import { decodeKeyValue, encodeKeyValue } from './kv-codec.js';
import type { RangeOptions, RangeResult, ReadView, TxnWrite } from './kv.js';
import type { MvccMetrics } from './metrics.js';
import type { Revision } from './revision.js';
import {
  bytesToRevision,
  isTombstoneBytes,
  mainRevisionToBytes,
  revisionKey,
  revisionToBytes,
} from './revision.js';
import type { KeyRange } from './tree-index.js';
import { TreeIndex } from './tree-index.js';

/** Revisions deleted per backend commit during physical compaction (etcd: 1000). */
export const COMPACTION_BATCH_LIMIT = 1000;

const META_SCHEDULED_COMPACT = Buffer.from('scheduledCompactRev');
const META_FINISHED_COMPACT = Buffer.from('finishedCompactRev');

/** A change made by a write transaction, in execution order (what watchers will be sent). */
export interface Change {
  readonly kv: KeyValue;
  readonly tombstone: boolean;
}

export interface KVStoreOptions {
  readonly backend: Backend;
  readonly logger: Logger;
  readonly metrics: MvccMetrics;
  readonly compactionBatchLimit?: number;
}

export interface WriteResult<T> {
  readonly result: T;
  /** The store revision after the transaction (unchanged if it wrote nothing). */
  readonly rev: number;
  readonly changes: readonly Change[];
  /** Resolves once the transaction's effects (and everything before them) are durable. */
  readonly durable: Promise<void>;
}

/** Called once per write transaction that changed something, after it is durable, in revision order. */
export type CommitListener = (rev: number, changes: readonly Change[]) => void;

/** One stored revision of a key, as history replays it. */
export interface HistoryEntry {
  readonly rev: Revision;
  readonly kv: KeyValue;
  readonly tombstone: boolean;
}

export interface CompactResult {
  /** Resolves when every compacted revision has been removed from the backend. */
  readonly physical: Promise<void>;
}

/**
 * The multi-version key-value store: an in-memory TreeIndex of key → revisions over the backend's key
 * bucket of revision → KeyValue (etcd's mvcc store).
 *
 * Two revisions matter. `currentRev` is the newest revision written (writers see it, so a transaction
 * reads its predecessors' writes even before they reach the disk). `readRev` is the newest revision that
 * is durable; plain reads are served there, so a reader never observes a write that a crash could still
 * take back. Invariant: compactRev <= readRev <= currentRev.
 */
export class KVStore {
  private index = new TreeIndex();
  private readonly backend: Backend;
  private readonly compactionBatchLimit: number;
  private currentRevValue = 1;
  private readRevValue = 1;
  private compactRevValue = -1;
  private compactionChain: Promise<void> = Promise.resolve();
  private readonly commitListeners: CommitListener[] = [];
  private writing = false;

  private constructor(private readonly opts: KVStoreOptions) {
    this.backend = opts.backend;
    this.compactionBatchLimit = opts.compactionBatchLimit ?? COMPACTION_BATCH_LIMIT;
    assert(this.compactionBatchLimit > 0, 'compactionBatchLimit must be positive');
  }

  /** Opens the store over `backend`, rebuilding the index from it and finishing an interrupted compaction. */
  static open(opts: KVStoreOptions): KVStore {
    const s = new KVStore(opts);
    s.restore();
    return s;
  }

  /**
   * Rebuilds the store from the backend after its contents were replaced wholesale (a snapshot from the
   * leader): the index, the revisions, an interrupted compaction. A compaction in progress on the old
   * contents is waited for first. Listeners stay registered.
   */
  async reload(installContents: () => Promise<void>): Promise<void> {
    assert(!this.writing, 'reload during a write transaction');
    await this.compactionChain;
    await installContents();
    this.index = new TreeIndex();
    this.compactionChain = Promise.resolve();
    this.restore();
  }

  get currentRev(): number {
    return this.currentRevValue;
  }

  get readRev(): number {
    return this.readRevValue;
  }

  get compactRev(): number {
    return this.compactRevValue;
  }

  /** Number of keys in the index, live or with history (etcd_debugging_mvcc_keys_total). */
  get keysTotal(): number {
    return this.index.size;
  }

  /** A view of the durable state. Use it synchronously: it is not a snapshot across awaits. */
  read(): ReadView {
    const rev = this.readRevValue;
    const compactRev = this.compactRevValue;
    return {
      rev,
      compactRev,
      range: (range, opts) => this.rangeKeys(range, rev, opts ?? {}),
    };
  }

  /**
   * Runs `fn` as one write transaction. Every change made in it shares main revision currentRev+1.
   * `fn` must validate before it writes: an exception after a change is a bug and is fatal.
   */
  write<T>(fn: (txn: TxnWrite) => T): WriteResult<T> {
    assert(!this.writing, 'nested write transaction');
    this.writing = true;
    const beginRev = this.currentRevValue;
    const main = beginRev + 1;
    const changes: Change[] = [];
    const txn: TxnWrite = {
      get rev() {
        return changes.length > 0 ? main : beginRev;
      },
      compactRev: this.compactRevValue,
      get changes() {
        return changes.length;
      },
      range: (range, opts) => this.rangeKeys(range, changes.length > 0 ? main : beginRev, opts ?? {}),
      put: (key, value, lease) => {
        changes.push({ kv: this.putKey(key, value, lease, { main, sub: changes.length }), tombstone: false });
      },
      deleteRange: (range) => this.deleteRange(range, main, changes),
    };
    let result: T;
    try {
      result = fn(txn);
    } catch (err) {
      assert(
        changes.length === 0,
        `write transaction failed after ${changes.length} changes: ${String(err)}`,
      );
      throw err;
    } finally {
      this.writing = false;
    }
    if (changes.length > 0) this.currentRevValue = main;
    this.backend.endTxn();
    const rev = this.currentRevValue;
    const durable = this.backend.commit().then(() => {
      if (rev > this.readRevValue) this.readRevValue = rev;
      // In the same callback as readRev moves, so a listener never sees readRev ahead of its events.
      if (changes.length > 0) this.emitCommitted(rev, changes);
    });
    return { result, rev, changes, durable };
  }

  /** A listener's failure (a watcher's stream) must not turn an acknowledged write into an error. */
  private emitCommitted(rev: number, changes: readonly Change[]): void {
    for (const l of this.commitListeners) {
      try {
        l(rev, changes);
      } catch (err) {
        this.opts.logger.error('commit listener failed', { revision: rev, error: (err as Error).message });
      }
    }
  }

  /** Registers a listener for durable changes (the watch path). */
  onCommitted(listener: CommitListener): void {
    this.commitListeners.push(listener);
  }

  /** The key as it was at main revision `rev` (undefined if absent or compacted away). */
  keyAt(key: Buffer, rev: number): KeyValue | undefined {
    if (rev < this.compactRevValue || rev <= 0) return undefined;
    const found = this.index.get(key, rev);
    return found === undefined ? undefined : this.readRevision(found.at.modified);
  }

  /**
   * Replays stored history: every revision with main revision in [fromRev, toRev], in revision order.
   * Only durable revisions may be asked for (toRev <= readRev).
   */
  *history(fromRev: number, toRev: number): Generator<HistoryEntry> {
    assert(
      toRev <= this.readRevValue,
      `history beyond the durable revision: ${toRev} > ${this.readRevValue}`,
    );
    for (const [k, v] of this.backend.rangeCommitted(
      'key',
      mainRevisionToBytes(fromRev),
      mainRevisionToBytes(toRev + 1),
    )) {
      const tombstone = isTombstoneBytes(k);
      const rev = bytesToRevision(k);
      const stored = decodeKeyValue(v);
      yield { rev, tombstone, kv: tombstone ? { ...stored, modRevision: rev.main } : stored };
    }
  }

  /**
   * Compacts history at or below `rev`: reads below it fail from now on, and every revision that is
   * not the newest of its key at `rev` is removed from the backend in batches.
   */
  async compact(rev: number): Promise<CompactResult> {
    this.checkCompact(rev);
    // Compaction must not overtake durability: reads at readRev must stay possible.
    if (rev > this.readRevValue) await this.backend.commit();
    this.checkCompact(rev);
    this.compactRevValue = rev;
    this.backend.put('meta', META_SCHEDULED_COMPACT, revBytes(rev));
    const keep = this.index.compact(rev);
    const physical = this.compactionChain.then(() => this.physicalCompact(rev, keep));
    this.compactionChain = physical.catch(() => undefined);
    return { physical };
  }

  /**
   * HashKV (etcd store.hashByRev): the hash of the key bucket up to main revision `rev` (0: the current
   * one). Fails like etcd for a revision below the compaction revision or above the current one. Waits
   * for staged writes to be durable, then hashes in one synchronous pass, so no write or compaction
   * batch interleaves with it.
   */
  async hashKV(rev: number): Promise<KeyValueHash & { readonly currentRev: number }> {
    await this.backend.commit();
    // Everything written before this call is durable now; later writes (above readRev) are not hashed.
    const compactRev = this.compactRevValue;
    const currentRev = this.readRevValue;
    if (rev > 0 && rev < compactRev) throw errCompacted();
    if (rev > 0 && rev > currentRev) throw errFutureRev();
    const hashRev = rev === 0 ? currentRev : rev;
    const keep = this.index.keep(hashRev);
    const entries = this.backend.rangeCommitted('key', undefined, mainRevisionToBytes(hashRev + 1));
    return { ...hashKeyBucket(entries, compactRev, hashRev, keep), currentRev };
  }

  private checkCompact(rev: number): void {
    if (rev <= this.compactRevValue) throw errCompacted();
    if (rev > this.currentRevValue) throw errFutureRev();
  }

  private async physicalCompact(rev: number, keep: Set<string>): Promise<void> {
    const started = performance.now();
    const end = mainRevisionToBytes(rev + 1);
    // From the very first revision: revisions kept by an earlier compaction may be obsolete now.
    let from = mainRevisionToBytes(0);
    let removed = 0;
    // Scan and delete in bounded batches, committing each before scanning on, so the committed view
    // under the cursor never changes and one batch never holds the write lock for long.
    for (;;) {
      const doomed: Buffer[] = [];
      let last: Buffer | undefined;
      for (const [k] of this.backend.rangeCommitted('key', from, end)) {
        last = k;
        if (!keep.has(revisionKey(bytesToRevision(k)))) doomed.push(k);
        if (doomed.length >= this.compactionBatchLimit) break;
      }
      for (const k of doomed) this.backend.delete('key', k);
      await this.backend.commit();
      removed += doomed.length;
      if (last === undefined || doomed.length < this.compactionBatchLimit) break;
      from = Buffer.concat([last, ZERO_BYTE]);
    }
    this.backend.put('meta', META_FINISHED_COMPACT, revBytes(rev));
    await this.backend.commit();
    this.opts.metrics.compactionDurationMs.observe(performance.now() - started);
    this.opts.metrics.compactionKeysTotal.inc(removed);
    this.opts.logger.info('finished scheduled compaction', {
      compactRevision: rev,
      removedRevisions: removed,
      tookMs: Math.round(performance.now() - started),
    });
  }

  private rangeKeys(range: KeyRange, curRev: number, ro: RangeOptions): RangeResult {
    let rev = ro.rev ?? 0;
    if (rev > curRev) throw errFutureRev();
    if (rev <= 0) rev = curRev;
    if (rev < this.compactRevValue) throw errCompacted();
    if (ro.countOnly === true) return { kvs: [], rev: curRev, count: this.index.count(range, rev) };
    const limit = ro.limit !== undefined && ro.limit > 0 ? ro.limit : Infinity;
    const kvs: KeyValue[] = [];
    let count = 0;
    const visit = (_ki: KeyIndex, at: { modified: Revision }): boolean => {
      count++;
      if (kvs.length < limit) kvs.push(this.readRevision(at.modified));
      return true;
    };
    if (ro.descending === true) this.index.visitReverse(range, rev, visit);
    else this.index.visit(range, rev, visit);
    return { kvs, rev: curRev, count };
  }

  private readRevision(rev: Revision): KeyValue {
    const raw = this.backend.get('key', revisionToBytes(rev));
    if (raw === undefined) {
      throw new MvccError(
        'ERR_MVCC_CORRUPT',
        `mvcc: revision ${revisionKey(rev)} is in the index but not in the backend`,
      );
    }
    return decodeKeyValue(raw);
  }

  private putKey(key: Buffer, value: Buffer, lease: bigint, rev: Revision): KeyValue {
    const ki = this.index.keyIndex(key);
    let createRevision = rev.main;
    let version = 1;
    if (ki !== undefined) {
      const at = ki.get(rev.main);
      if (at !== undefined) {
        createRevision = at.created.main;
        version = at.version + 1;
      }
    }
    const kv: KeyValue = {
      key: Buffer.from(key),
      createRevision,
      modRevision: rev.main,
      version,
      value,
      lease,
    };
    this.backend.put('key', revisionToBytes(rev), encodeKeyValue(kv));
    this.index.put(key, rev);
    return kv;
  }

  private deleteRange(range: KeyRange, main: number, changes: Change[]): KeyValue[] {
    const atRev = changes.length > 0 ? main : this.currentRevValue;
    const deleted: KeyValue[] = [];
    const keys: Buffer[] = [];
    this.index.visit(range, atRev, (ki, at) => {
      keys.push(ki.key);
      deleted.push(this.readRevision(at.modified));
      return true;
    });
    for (const key of keys) {
      const rev = { main, sub: changes.length };
      // A tombstone is stored as a KeyValue holding only the key (as etcd stores it); the change
      // reported to watchers carries the deletion revision as its mod_revision.
      const stored: KeyValue = {
        key,
        createRevision: 0,
        modRevision: 0,
        version: 0,
        value: EMPTY,
        lease: 0n,
      };
      this.backend.put('key', revisionToBytes(rev, true), encodeKeyValue(stored));
      const tomb: KeyValue = { ...stored, modRevision: main };
      this.index.tombstone(key, rev);
      changes.push({ kv: tomb, tombstone: true });
    }
    return deleted;
  }

  /** Rebuilds the index from the backend (etcd's restore) and resumes an interrupted compaction. */
  private restore(): void {
    const scheduled = readRevMeta(this.backend, META_SCHEDULED_COMPACT);
    const finished = readRevMeta(this.backend, META_FINISHED_COMPACT);
    let lastMain = 1;
    for (const [k, v] of this.backend.rangeCommitted('key', mainRevisionToBytes(0), undefined)) {
      let rev: Revision;
      let kv: KeyValue;
      try {
        rev = bytesToRevision(k);
        kv = decodeKeyValue(v);
      } catch (err) {
        throw new Error(`mvcc: corrupt entry in the key bucket: ${(err as Error).message}`);
      }
      lastMain = Math.max(lastMain, rev.main);
      const ki = this.index.keyIndex(kv.key);
      if (isTombstoneBytes(k)) {
        // A tombstone whose key has no remaining history (compacted away) leaves nothing to index.
        if (ki !== undefined && ki.isLive()) ki.tombstone(rev);
        continue;
      }
      if (ki === undefined) {
        const fresh = new KeyIndex(Buffer.from(kv.key));
        fresh.restore({ main: kv.createRevision, sub: 0 }, rev, kv.version);
        this.index.insert(fresh);
      } else {
        ki.put(rev);
      }
    }
    this.compactRevValue = Math.max(scheduled, finished);
    this.currentRevValue = Math.max(lastMain, this.compactRevValue);
    this.readRevValue = this.currentRevValue;
    if (this.compactRevValue > 0) {
      const keep = this.index.compact(this.compactRevValue);
      if (scheduled > finished) {
        this.opts.logger.info('resuming interrupted compaction', { compactRevision: scheduled });
        const physical = this.physicalCompact(scheduled, keep);
        this.compactionChain = physical.catch((err: unknown) => {
          this.opts.logger.error('compaction failed', { error: (err as Error).message });
        });
      }
    }
  }
}

const EMPTY = Buffer.alloc(0);
const ZERO_BYTE = Buffer.from([0]);

function revBytes(rev: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(BigInt(rev));
  return b;
}

function readRevMeta(backend: Backend, key: Buffer): number {
  const v = backend.get('meta', key);
  if (v === undefined) return -1;
  if (v.length !== 8) throw new Error(`mvcc: corrupt meta entry ${key.toString()}`);
  return Number(v.readBigInt64BE());
}
