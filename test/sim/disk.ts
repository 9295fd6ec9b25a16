import {
  emptyHardState,
  emptySnapshot,
  isEmptySnapshot,
  type Entry,
  type HardState,
  type Snapshot,
} from '../../server/src/raftpb/types.js';
import { assert } from '../../server/src/util/assert.js';
import { cloneEntry, cloneHardState, cloneSnapshot } from './clone.js';
import { entryDigest } from './describe.js';

/** One Ready's persistence, in the order it must reach the disk: snapshot, entries, hard state. */
export interface Write {
  snapshot: Snapshot | undefined;
  entries: Entry[];
  hardState: HardState | undefined;
}

/**
 * A member's simulated disk (the WAL plus the snapshot file). A write is first `pending` (in the page
 * cache): it becomes durable only when its simulated fsync completes, and a crash before that loses it.
 * At most one write is pending, because the driver asks for the next Ready only after advance().
 *
 * Log layout: `entries` are consecutive, entries[0].index === firstIndex. Compaction may keep entries at
 * or below the snapshot index (catch-up entries for slow followers).
 * Invariant: firstIndex <= snapshot.index + 1; hardState.commit <= lastIndex().
 */
export class SimDisk {
  hardState: HardState = emptyHardState();
  snapshot: Snapshot = emptySnapshot();
  entries: Entry[] = [];
  firstIndex = 1;
  pending: Write | undefined;

  /** A fresh member's disk, or one bootstrapped with the initial configuration snapshot. */
  static withSnapshot(snap: Snapshot | undefined): SimDisk {
    const d = new SimDisk();
    if (snap !== undefined) d.installSnapshot(snap);
    return d;
  }

  lastIndex(): number {
    return this.firstIndex + this.entries.length - 1;
  }

  /** The term at `i` as the durable log knows it, or undefined when not there. */
  term(i: number): number | undefined {
    if (i >= this.firstIndex && i <= this.lastIndex()) return this.entries[i - this.firstIndex]!.term;
    if (i === this.snapshot.metadata.index) return this.snapshot.metadata.term;
    return undefined;
  }

  entryAt(i: number): Entry | undefined {
    return i >= this.firstIndex && i <= this.lastIndex() ? this.entries[i - this.firstIndex] : undefined;
  }

  entryDigestAt(i: number): string | undefined {
    const e = this.entryAt(i);
    return e === undefined ? undefined : entryDigest(e);
  }

  /** Starts a write (copied, so the core's later mutations cannot reach the disk). */
  begin(w: Write): void {
    assert(this.pending === undefined, 'disk: a write is already pending');
    this.pending = {
      snapshot: w.snapshot === undefined ? undefined : cloneSnapshot(w.snapshot),
      entries: w.entries.map(cloneEntry),
      hardState: w.hardState === undefined ? undefined : cloneHardState(w.hardState),
    };
  }

  /** The pending write's fsync completed: it is durable now. Returns it. */
  fsync(): Write {
    const w = this.pending;
    assert(w !== undefined, 'disk: fsync without a pending write');
    this.pending = undefined;
    if (w.snapshot !== undefined && !isEmptySnapshot(w.snapshot)) this.installSnapshot(w.snapshot);
    this.append(w.entries);
    if (w.hardState !== undefined) this.hardState = w.hardState;
    assert(
      this.hardState.commit <= Math.max(this.lastIndex(), this.snapshot.metadata.index),
      `disk: commit ${this.hardState.commit} beyond last index ${this.lastIndex()}`,
    );
    return w;
  }

  /** A crash: the page cache is gone. */
  crash(): void {
    this.pending = undefined;
  }

  private installSnapshot(snap: Snapshot): void {
    this.snapshot = cloneSnapshot(snap);
    this.entries = [];
    this.firstIndex = snap.metadata.index + 1;
  }

  private append(ents: Entry[]): void {
    if (ents.length === 0) return;
    const first = ents[0]!.index;
    assert(first <= this.lastIndex() + 1, `disk: gap appending ${first} after ${this.lastIndex()}`);
    const keep = Math.max(0, first - this.firstIndex);
    const fresh = ents.filter((e) => e.index >= this.firstIndex);
    this.entries = this.entries.slice(0, keep).concat(fresh);
  }

  /** Records a snapshot the application took (durable at once: it is written and synced in one step). */
  saveSnapshot(snap: Snapshot): void {
    assert(snap.metadata.index <= this.lastIndex(), 'disk: snapshot beyond the log');
    assert(snap.metadata.index > this.snapshot.metadata.index, 'disk: snapshot older than the current one');
    this.snapshot = cloneSnapshot(snap);
  }

  /** Drops the entries up to and including `index` (index <= snapshot index). */
  compact(index: number): void {
    assert(index <= this.snapshot.metadata.index, 'disk: compacting past the snapshot');
    if (index < this.firstIndex) return;
    this.entries = this.entries.slice(index + 1 - this.firstIndex);
    this.firstIndex = index + 1;
  }

  /** A deep copy (the buggy-disk mutation rolls back to one of these). */
  copy(): SimDisk {
    const d = new SimDisk();
    d.hardState = cloneHardState(this.hardState);
    d.snapshot = cloneSnapshot(this.snapshot);
    d.entries = this.entries.map(cloneEntry);
    d.firstIndex = this.firstIndex;
    return d;
  }
}
