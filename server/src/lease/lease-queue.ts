import { assert } from '../util/assert.js';

interface Item {
  readonly id: bigint;
  /** When the lease expires, in clock milliseconds. */
  expiryMs: number;
}

/**
 * The expiry queue: a binary min-heap of lease ids ordered by expiry time, with an id → position map
 * so a renewal moves its lease in O(log n) instead of adding a duplicate (etcd's LeaseExpiredNotifier
 * over a LeaseQueue). The lessor only ever looks at the top, so finding what expired costs O(log n)
 * per expired lease, never a scan of all leases.
 *
 * Invariant: for every position i > 0, heap[parent(i)].expiryMs <= heap[i].expiryMs, and
 * positions.get(heap[i].id) === i.
 */
export class LeaseQueue {
  private readonly heap: Item[] = [];
  private readonly positions = new Map<bigint, number>();

  get size(): number {
    return this.heap.length;
  }

  /** Adds `id`, or moves it to its new expiry if already queued. */
  upsert(id: bigint, expiryMs: number): void {
    const at = this.positions.get(id);
    if (at === undefined) {
      this.heap.push({ id, expiryMs });
      this.positions.set(id, this.heap.length - 1);
      this.up(this.heap.length - 1);
      return;
    }
    const item = this.heap[at]!;
    const earlier = expiryMs < item.expiryMs;
    item.expiryMs = expiryMs;
    if (earlier) this.up(at);
    else this.down(at);
  }

  /** The earliest expiry, or undefined when empty. */
  peek(): { readonly id: bigint; readonly expiryMs: number } | undefined {
    return this.heap[0];
  }

  /** Removes and returns the earliest item. */
  pop(): { readonly id: bigint; readonly expiryMs: number } | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    this.removeAt(0);
    return top;
  }

  remove(id: bigint): void {
    const at = this.positions.get(id);
    if (at !== undefined) this.removeAt(at);
  }

  clear(): void {
    this.heap.length = 0;
    this.positions.clear();
  }

  private removeAt(at: number): void {
    const last = this.heap.pop()!;
    this.positions.delete(this.heap.length === at ? last.id : this.heap[at]!.id);
    if (at === this.heap.length) return;
    this.heap[at] = last;
    this.positions.set(last.id, at);
    this.up(at);
    this.down(this.positions.get(last.id)!);
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.heap[parent]!.expiryMs <= this.heap[i]!.expiryMs) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < n && this.heap[l]!.expiryMs < this.heap[min]!.expiryMs) min = l;
      if (r < n && this.heap[r]!.expiryMs < this.heap[min]!.expiryMs) min = r;
      if (min === i) return;
      this.swap(i, min);
      i = min;
    }
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    this.heap[i] = b;
    this.heap[j] = a;
    this.positions.set(b.id, i);
    this.positions.set(a.id, j);
  }

  /** Checks the heap invariant (tests). */
  verify(): void {
    for (let i = 0; i < this.heap.length; i++) {
      assert(this.positions.get(this.heap[i]!.id) === i, 'lease queue: position map out of date');
      if (i > 0) {
        const parent = (i - 1) >> 1;
        assert(this.heap[parent]!.expiryMs <= this.heap[i]!.expiryMs, 'lease queue: heap order broken');
      }
    }
    assert(this.positions.size === this.heap.length, 'lease queue: stale positions');
  }
}
