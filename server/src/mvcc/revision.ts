import { assert } from '../util/assert.js';

/**
 * A point in the store's history. `main` grows by one per write transaction; `sub` numbers the changes
 * inside it (0, 1, 2, … in execution order). The store starts at main revision 1.
 */
export interface Revision {
  readonly main: number;
  readonly sub: number;
}

/**
 * Backend key of a revision (etcd's layout, so sizes and ordering match etcd's "key" bucket):
 *
 *   0        8   9        17  18
 *   +--------+---+--------+---+
 *   |  main  | _ |  sub   | t |   main, sub: unsigned 64-bit big-endian
 *   +--------+---+--------+---+   't': present only on a tombstone (a deletion)
 *
 * Big-endian integers make lexicographic byte order equal revision order, so an lmdb cursor walks
 * history in revision order.
 */
export const REVISION_BYTES = 17;
export const MARKED_REVISION_BYTES = REVISION_BYTES + 1;
const SEPARATOR = 0x5f; // '_'
const TOMBSTONE_MARK = 0x74; // 't'

export function revisionToBytes(rev: Revision, tombstone = false): Buffer {
  assert(Number.isSafeInteger(rev.main) && rev.main >= 0, `invalid main revision ${rev.main}`);
  assert(Number.isSafeInteger(rev.sub) && rev.sub >= 0, `invalid sub revision ${rev.sub}`);
  const out = Buffer.allocUnsafe(tombstone ? MARKED_REVISION_BYTES : REVISION_BYTES);
  out.writeBigUInt64BE(BigInt(rev.main), 0);
  out[8] = SEPARATOR;
  out.writeBigUInt64BE(BigInt(rev.sub), 9);
  if (tombstone) out[REVISION_BYTES] = TOMBSTONE_MARK;
  return out;
}

/** The smallest backend key at or above main revision `main` (sub 0, no mark). */
export function mainRevisionToBytes(main: number): Buffer {
  return revisionToBytes({ main, sub: 0 });
}

export function bytesToRevision(bytes: Uint8Array): Revision {
  if (bytes.length !== REVISION_BYTES && bytes.length !== MARKED_REVISION_BYTES) {
    throw new Error(`mvcc: malformed revision key of ${bytes.length} bytes`);
  }
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const main = view.readBigUInt64BE(0);
  const sub = view.readBigUInt64BE(9);
  if (
    view[8] !== SEPARATOR ||
    main > BigInt(Number.MAX_SAFE_INTEGER) ||
    sub > BigInt(Number.MAX_SAFE_INTEGER)
  ) {
    throw new Error('mvcc: malformed revision key');
  }
  return { main: Number(main), sub: Number(sub) };
}

export function isTombstoneBytes(bytes: Uint8Array): boolean {
  return bytes.length === MARKED_REVISION_BYTES && bytes[REVISION_BYTES] === TOMBSTONE_MARK;
}

export function compareRevision(a: Revision, b: Revision): number {
  return a.main !== b.main ? a.main - b.main : a.sub - b.sub;
}

export function revisionKey(rev: Revision): string {
  return `${rev.main}_${rev.sub}`;
}
