import type { KeyRange } from '../mvcc/kv.js';

const EMPTY = Buffer.alloc(0);

/**
 * Converts a request's (key, range_end) to an mvcc range. On the wire an empty range_end means the
 * single key, and range_end "\0" means every key >= key (etcd's mkGteRange); in mvcc an empty end
 * means the open range.
 */
export function toKeyRange(key: Buffer, rangeEnd: Buffer): KeyRange {
  if (rangeEnd.length === 0) return { key };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { key, end: EMPTY };
  return { key, end: rangeEnd };
}

/** Whether a key falls in a request's [key, range_end) with the wire conventions above. */
export function rangeContains(range: KeyRange, k: Buffer): boolean {
  if (range.end === undefined) return range.key.equals(k);
  if (Buffer.compare(k, range.key) < 0) return false;
  return range.end.length === 0 || Buffer.compare(k, range.end) < 0;
}

/** Converts a 64-bit wire integer to a number; values past 2^53 only ever compare as "huge". */
export function toNumber(v: bigint): number {
  return Number(v);
}
