import type { KeyValue } from './kv-codec.js';
import type { KeyRange } from './tree-index.js';

export type { KeyValue } from './kv-codec.js';
export type { KeyRange } from './tree-index.js';

export interface RangeOptions {
  /** Maximum keys to return; 0 = all. */
  readonly limit?: number;
  /** Revision to read at; <= 0 = the view's revision. */
  readonly rev?: number;
  /** Only count the keys, return none. */
  readonly countOnly?: boolean;
  /** Walk keys in descending order (the limit then applies from the top of the range). */
  readonly descending?: boolean;
}

export interface RangeResult {
  readonly kvs: KeyValue[];
  /** The view's revision (etcd reports the current revision even for reads of the past). */
  readonly rev: number;
  /** Number of keys in the range at the read revision, regardless of the limit. */
  readonly count: number;
}

/** A consistent read-only view of the store at one revision. */
export interface ReadView {
  /** The revision this view reads at. */
  readonly rev: number;
  /** The compaction revision at the time the view was opened. */
  readonly compactRev: number;
  /** Keys of `range`; throws MvccError (compacted, future revision). */
  range(range: KeyRange, opts?: RangeOptions): RangeResult;
}

/** One write transaction: all changes share one main revision. */
export interface TxnWrite extends ReadView {
  put(key: Buffer, value: Buffer, lease: bigint): void;
  /** Deletes the keys of `range`; returns the deleted key-values (as they were before). */
  deleteRange(range: KeyRange): KeyValue[];
  /** Number of changes so far. */
  readonly changes: number;
}
