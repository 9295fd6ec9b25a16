import { assert } from '../util/assert.js';
import type { Revision } from './revision.js';
import { revisionKey } from './revision.js';

/**
 * One life of a key: from its creation to its deletion (the tombstone), or to now.
 * Invariant: `revs` is strictly increasing; `ver` counts puts in this life (so `ver == revs.length`
 * until compaction drops old revisions, after which `ver` stays and `revs` shrinks).
 */
export interface Generation {
  ver: number;
  created: Revision;
  revs: Revision[];
}

/** Result of looking a key up at a revision. */
export interface KeyAt {
  readonly modified: Revision;
  readonly created: Revision;
  readonly version: number;
}

/**
 * The history of one key as a list of generations, like etcd's keyIndex. A worked example:
 *
 *   put(1.0); put(2.0); tombstone(3.0); put(4.0); tombstone(5.0)
 *
 *   generations:
 *     {empty}                 ← the open generation after the last tombstone
 *     {4.0, 5.0(t)}
 *     {1.0, 2.0, 3.0(t)}
 *
 * compact(n) keeps, in the generation alive at n, the largest revision <= n and everything above it,
 * and drops the generations that ended (tombstone) strictly below n. A tombstone at exactly n is kept,
 * so a watch started at the compaction revision still sees that deletion (etcd 3.6; etcd issue 19179):
 *
 *   compact(2): {empty} {4.0, 5.0(t)} {2.0, 3.0(t)}
 *   compact(4): {empty} {4.0, 5.0(t)}
 *   compact(5): {empty} {5.0(t)}      ← the tombstone at exactly 5 survives compact(5)…
 *   compact(6): {empty}               ← …and goes with the next compaction; the key is then removable.
 */
export class KeyIndex {
  readonly key: Buffer;
  modified: Revision = { main: 0, sub: 0 };
  generations: Generation[] = [];

  constructor(key: Buffer) {
    this.key = key;
  }

  /** Records a put at `rev`, opening a new generation if the key was deleted or never existed. */
  put(rev: Revision): void {
    assert(
      this.modified.main < rev.main || (this.modified.main === rev.main && this.modified.sub < rev.sub),
      `keyIndex put at ${revisionKey(rev)} not after ${revisionKey(this.modified)}`,
    );
    let g = this.generations.at(-1);
    if (g === undefined) {
      g = { ver: 0, created: rev, revs: [] };
      this.generations.push(g);
    }
    if (g.revs.length === 0) g.created = rev;
    g.revs.push(rev);
    g.ver++;
    this.modified = rev;
  }

  /** Rebuilds a key's live generation from a stored KeyValue (on restore, where history may be compacted). */
  restore(created: Revision, modified: Revision, version: number): void {
    assert(this.generations.length === 0, 'keyIndex restore on a non-empty index');
    this.modified = modified;
    this.generations = [{ ver: version, created, revs: [modified] }];
  }

  /** Records a deletion at `rev`: ends the current generation. The key must currently exist. */
  tombstone(rev: Revision): void {
    assert(this.isLive(), `keyIndex tombstone on a deleted key at ${revisionKey(rev)}`);
    this.put(rev);
    this.generations.push({ ver: 0, created: { main: 0, sub: 0 }, revs: [] });
  }

  /** True when the key exists at the newest revision. */
  isLive(): boolean {
    const g = this.generations.at(-1);
    return g !== undefined && g.revs.length > 0;
  }

  /** True when nothing is left (the key can leave the tree). */
  isEmpty(): boolean {
    return this.generations.length === 1 && this.generations[0]!.revs.length === 0;
  }

  /** The state of the key at main revision `atRev`, or undefined if it did not exist then. */
  get(atRev: number): KeyAt | undefined {
    const g = this.findGeneration(atRev);
    if (g === undefined) return undefined;
    for (let i = g.revs.length - 1; i >= 0; i--) {
      const r = g.revs[i]!;
      if (r.main <= atRev) {
        return { modified: r, created: g.created, version: g.ver - (g.revs.length - 1 - i) };
      }
    }
    return undefined;
  }

  /**
   * The generation in which the key was alive at `rev`. A generation that ended with a tombstone at or
   * below `rev` means the key was deleted at `rev`.
   */
  private findGeneration(rev: number): Generation | undefined {
    const last = this.generations.length - 1;
    for (let i = last; i >= 0; i--) {
      const g = this.generations[i]!;
      if (g.revs.length === 0) continue;
      if (i !== last && g.revs[g.revs.length - 1]!.main <= rev) return undefined;
      if (g.revs[0]!.main <= rev) return g;
    }
    return undefined;
  }

  /** Every revision of this key with main revision > `afterRev`, oldest first (the watch catch-up path). */
  since(afterRev: number): Revision[] {
    const out: Revision[] = [];
    for (const g of this.generations) for (const r of g.revs) if (r.main > afterRev) out.push(r);
    return out;
  }

  /**
   * Drops history at or below `atRev`, keeping in each affected generation the largest revision
   * <= atRev. Revisions that must stay in the backend are added to `keep` (by revisionKey).
   */
  compact(atRev: number, keep: Set<string>): void {
    assert(!this.isEmpty(), 'compact on an empty keyIndex');
    let genIdx = 0;
    // Skip generations that ended strictly before atRev: they are gone entirely.
    while (genIdx < this.generations.length - 1) {
      const g = this.generations[genIdx]!;
      if (g.revs[g.revs.length - 1]!.main >= atRev) break;
      genIdx++;
    }
    const g = this.generations[genIdx]!;
    let revIndex = -1;
    for (let i = g.revs.length - 1; i >= 0; i--) {
      if (g.revs[i]!.main <= atRev) {
        revIndex = i;
        keep.add(revisionKey(g.revs[i]!));
        break;
      }
    }
    if (g.revs.length > 0 && revIndex !== -1) g.revs = g.revs.slice(revIndex);
    this.generations = this.generations.slice(genIdx);
  }

  /**
   * The revisions compact(atRev) would keep, without compacting (etcd keyIndex.keep, used by HashKV).
   * Unlike compact, a tombstone at exactly atRev is not kept, which keeps hashes equal to etcd's.
   */
  keep(atRev: number, keep: Set<string>): void {
    if (this.isEmpty()) return;
    let genIdx = 0;
    while (genIdx < this.generations.length - 1) {
      const g = this.generations[genIdx]!;
      if (g.revs[g.revs.length - 1]!.main >= atRev) break;
      genIdx++;
    }
    const g = this.generations[genIdx]!;
    for (let i = g.revs.length - 1; i >= 0; i--) {
      if (g.revs[i]!.main <= atRev) {
        // The generation's last revision is its tombstone unless it is the open (last) generation.
        const isTombstone = i === g.revs.length - 1 && genIdx !== this.generations.length - 1;
        if (!isTombstone) keep.add(revisionKey(g.revs[i]!));
        break;
      }
    }
  }
}
