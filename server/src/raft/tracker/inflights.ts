import { assert } from '../../util/assert.js';

/**
 * The leader's window of appends sent to one follower and not yet acknowledged: a ring buffer of the
 * last index of each MsgApp with its payload bytes. Bounded by a message count and a byte total so a
 * slow follower cannot make the leader queue unbounded data (etcd MaxInflightMsgs/MaxInflightBytes).
 */
export class Inflights {
  private start = 0;
  private count = 0;
  private bytes = 0;
  private readonly indexes: number[];
  private readonly sizes: number[];

  constructor(
    readonly sizeMax: number,
    /** 0 means no byte limit. */
    readonly bytesMax: number,
  ) {
    assert(Number.isInteger(sizeMax) && sizeMax > 0, 'inflights size must be positive');
    this.indexes = new Array<number>(sizeMax).fill(0);
    this.sizes = new Array<number>(sizeMax).fill(0);
  }

  clone(): Inflights {
    const c = new Inflights(this.sizeMax, this.bytesMax);
    for (let i = 0; i < this.count; i++) {
      const slot = (this.start + i) % this.sizeMax;
      c.add(this.indexes[slot] ?? 0, this.sizes[slot] ?? 0);
    }
    return c;
  }

  /** Records an append whose last entry is `index`. Indexes must be added in increasing order. */
  add(index: number, bytes: number): void {
    assert(!this.full(), 'cannot add into a full inflights window');
    const slot = (this.start + this.count) % this.sizeMax;
    if (this.count > 0) {
      const lastSlot = (slot + this.sizeMax - 1) % this.sizeMax;
      assert((this.indexes[lastSlot] ?? 0) < index, 'inflight indexes must increase');
    }
    this.indexes[slot] = index;
    this.sizes[slot] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every append whose last index is <= `to` (the follower acknowledged up to `to`). */
  freeLE(to: number): void {
    while (this.count > 0) {
      const index = this.indexes[this.start] ?? 0;
      if (index > to) break;
      this.bytes -= this.sizes[this.start] ?? 0;
      this.start = (this.start + 1) % this.sizeMax;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  /** Frees the oldest append (a heartbeat answer proved the follower alive while the window was full). */
  freeFirstOne(): void {
    const first = this.indexes[this.start];
    if (this.count > 0 && first !== undefined) this.freeLE(first);
  }

  full(): boolean {
    return this.count === this.sizeMax || (this.bytesMax > 0 && this.bytes >= this.bytesMax);
  }

  get length(): number {
    return this.count;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}
