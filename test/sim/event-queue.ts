import { assert } from '../../server/src/util/assert.js';

/**
 * The simulator's clock and agenda: a binary min-heap of events ordered by (time, sequence). The sequence
 * number breaks ties in insertion order, so two runs of the same seed pop events in the same order.
 *
 * Time is abstract (integer "microticks"); only the simulator advances it, by popping the next event.
 */
export class EventQueue<T> {
  private readonly heap: { time: number; seq: number; item: T }[] = [];
  private seq = 0;
  /** The time of the last popped event. Invariant: never decreases. */
  now = 0;

  constructor(
    /** Events pending at once, at most; a runaway scheduler is a simulator bug. */
    private readonly eventsMax: number,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `item` at `delay` after now (delay >= 0). */
  schedule(delay: number, item: T): void {
    assert(Number.isSafeInteger(delay) && delay >= 0, `event delay must be a non-negative integer: ${delay}`);
    assert(this.heap.length < this.eventsMax, `event queue overflow (${this.eventsMax} events)`);
    const e = { time: this.now + delay, seq: this.seq++, item };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!less(e, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  /** Removes and returns the earliest event, advancing `now` to its time. */
  pop(): T | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return undefined;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(h[r]!, h[l]!) ? r : l;
        if (!less(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    assert(top.time >= this.now, 'event queue: time went backwards');
    this.now = top.time;
    return top.item;
  }
}

function less(a: { time: number; seq: number }, b: { time: number; seq: number }): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
