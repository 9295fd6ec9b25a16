import sortedBtree from 'sorted-btree';
import type { KeyAt } from './key-index.js';
import { KeyIndex } from './key-index.js';

// sorted-btree is CommonJS with its class on `exports.default`.
const BTree = sortedBtree.default;
import type { Revision } from './revision.js';

/**
 * Keys are held as 'latin1' strings: each byte becomes one UTF-16 code unit of the same value, so
 * JavaScript's native string comparison is exactly byte-wise (memcmp) order, and the B-tree compares
 * keys without a comparator callback.
 */
function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/**
 * A key range in etcd's mvcc convention: `end` undefined is the single key `key`; an empty `end` is
 * every key >= `key`; otherwise the half-open interval [key, end).
 */
export interface KeyRange {
  readonly key: Buffer;
  readonly end?: Buffer | undefined;
}

/** Visitor over live keys of a range; return false to stop early. */
export type IndexVisitor = (ki: KeyIndex, at: KeyAt) => boolean;

/**
 * The in-memory ordered index from key to its revision history (etcd's treeIndex). Reads walk only the
 * keys inside the requested range, so a prefix or range read costs O(log n + keys in range).
 */
export class TreeIndex {
  private readonly tree = new BTree<string, KeyIndex>();

  get size(): number {
    return this.tree.size;
  }

  /** The key at `atRev`, if it existed then. */
  get(key: Buffer, atRev: number): { ki: KeyIndex; at: KeyAt } | undefined {
    const ki = this.tree.get(keyString(key));
    if (ki === undefined) return undefined;
    const at = ki.get(atRev);
    return at === undefined ? undefined : { ki, at };
  }

  keyIndex(key: Buffer): KeyIndex | undefined {
    return this.tree.get(keyString(key));
  }

  put(key: Buffer, rev: Revision): void {
    const ks = keyString(key);
    let ki = this.tree.get(ks);
    if (ki === undefined) {
      ki = new KeyIndex(Buffer.from(key));
      this.tree.set(ks, ki);
    }
    ki.put(rev);
  }

  tombstone(key: Buffer, rev: Revision): void {
    const ki = this.tree.get(keyString(key));
    if (ki === undefined || !ki.isLive()) throw new Error('mvcc: revision not found');
    ki.tombstone(rev);
  }

  /** Inserts a key index rebuilt from the backend on start-up. */
  insert(ki: KeyIndex): void {
    this.tree.set(keyString(ki.key), ki);
  }

  /**
   * Visits, in ascending key order, every key of `range` that existed at `atRev`. Returns the number
   * of keys visited (including the one at which the visitor stopped).
   */
  visit(range: KeyRange, atRev: number, visitor: IndexVisitor): void {
    if (range.end === undefined) {
      const found = this.get(range.key, atRev);
      if (found !== undefined) visitor(found.ki, found.at);
      return;
    }
    const low = keyString(range.key);
    const high = range.end.length === 0 ? undefined : keyString(range.end);
    if (high !== undefined && high <= low) return;
    const iter = this.tree.entries(low);
    for (let next = iter.next(); !next.done; next = iter.next()) {
      const [ks, ki] = next.value;
      if (high !== undefined && ks >= high) return;
      const at = ki.get(atRev);
      if (at !== undefined && !visitor(ki, at)) return;
    }
  }

  /** Visits keys of `range` in descending order (used for limit push-down of descending key sorts). */
  visitReverse(range: KeyRange, atRev: number, visitor: IndexVisitor): void {
    if (range.end === undefined) {
      this.visit(range, atRev, visitor);
      return;
    }
    const low = keyString(range.key);
    const high = range.end.length === 0 ? undefined : keyString(range.end);
    if (high !== undefined && high <= low) return;
    const iter = high === undefined ? this.tree.entriesReversed() : this.tree.entriesReversed(high);
    for (let next = iter.next(); !next.done; next = iter.next()) {
      const [ks, ki] = next.value;
      if (high !== undefined && ks >= high) continue; // entriesReversed(high) includes `high` itself
      if (ks < low) return;
      const at = ki.get(atRev);
      if (at !== undefined && !visitor(ki, at)) return;
    }
  }

  /** Counts keys of `range` that existed at `atRev`. */
  count(range: KeyRange, atRev: number): number {
    let n = 0;
    this.visit(range, atRev, () => {
      n++;
      return true;
    });
    return n;
  }

  /**
   * Compacts every key's history at `atRev` and removes keys with nothing left. Returns the revisions
   * (by revisionKey) at or below `atRev` that must stay in the backend.
   */
  compact(atRev: number): Set<string> {
    const keep = new Set<string>();
    const emptied: string[] = [];
    this.tree.forEach((ki, ks) => {
      ki.compact(atRev, keep);
      if (ki.isEmpty()) emptied.push(ks);
    });
    for (const ks of emptied) this.tree.delete(ks);
    return keep;
  }

  /** The revisions at or below `atRev` that compact(atRev) would keep, without compacting (HashKV). */
  keep(atRev: number): Set<string> {
    const keep = new Set<string>();
    this.tree.forEach((ki) => {
      ki.keep(atRev, keep);
    });
    return keep;
  }
}
