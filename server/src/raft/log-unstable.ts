import type { Entry, Snapshot } from '../raftpb/types.js';
import { assert } from '../util/assert.js';

/**
 * The tail of the log (and possibly an incoming snapshot) that the application has not persisted yet.
 * Entries here are handed out in Ready.entries and become stable on advance().
 *
 * Invariant: entries[i] has index offset + i.
 * Invariant: when snapshot is set, offset = snapshot.metadata.index + 1.
 */
export class Unstable {
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** The first index of the log if a snapshot is pending (everything before it is replaced). */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.metadata.index;
  }

  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.metadata.index === i)
        return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset]?.term;
  }

  /**
   * Entries up to (i, t) were persisted. Ignored when the entry at i has changed since it was handed out
   * (a newer leader replaced it), because then the persisted copy is already outdated.
   */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined) return;
    if (gt === t && i >= this.offset) {
      this.entries = this.entries.slice(i + 1 - this.offset);
      this.offset = i + 1;
    }
  }

  stableSnapTo(i: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === i) this.snapshot = undefined;
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.entries = [];
    this.snapshot = s;
  }

  /**
   * Appends entries that directly follow or overwrite part of the unstable tail. An overlap replaces
   * everything from the first new index on (Raft §5.3: a conflicting suffix is deleted).
   */
  truncateAndAppend(ents: Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const after = first.index;
    if (after === this.offset + this.entries.length) {
      this.entries = this.entries.concat(ents);
    } else if (after <= this.offset) {
      // The whole unstable tail is replaced; the log now continues from `after`.
      this.offset = after;
      this.entries = ents.slice();
    } else {
      // A gap would silently shift every later entry to the wrong index.
      assert(
        after < this.offset + this.entries.length,
        `unstable append at ${after} leaves a gap after ${this.offset + this.entries.length - 1}`,
      );
      this.entries = this.entries.slice(0, after - this.offset).concat(ents);
    }
  }

  /** Entries in [lo, hi), which must lie within the unstable tail. */
  slice(lo: number, hi: number): Entry[] {
    assert(lo <= hi, `invalid unstable slice ${lo} > ${hi}`);
    const upper = this.offset + this.entries.length;
    assert(
      lo >= this.offset && hi <= upper,
      `unstable slice [${lo},${hi}) out of bound [${this.offset},${upper}]`,
    );
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
