import { setImmediate as flushIO } from 'node:timers/promises';
import type { Clock } from '../../../../operator/src/runtime/clock.js';

interface FakeTimer {
  atMs: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock the test moves by hand. `advance(ms)` fires due timers in time order, letting promise chains
 * (the fake stores resolve at once) run to completion between firings, so async loops driven by timers
 * progress exactly as far as the advanced time allows.
 */
export class FakeClock implements Clock {
  #nowMs: number;
  #seq = 0;
  readonly #timers = new Set<FakeTimer>();

  constructor(startEpochMs = Date.UTC(2026, 0, 1)) {
    this.#nowMs = startEpochMs;
  }

  now(): number {
    return this.#nowMs;
  }

  monotonicMs(): number {
    return this.#nowMs;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const timer = { atMs: this.#nowMs + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.add(timer);
    return () => this.#timers.delete(timer);
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }

  async advance(ms: number): Promise<void> {
    const endMs = this.#nowMs + ms;
    await settle();
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.atMs > endMs) break;
      this.#timers.delete(next);
      this.#nowMs = Math.max(this.#nowMs, next.atMs);
      next.fn();
      await settle();
    }
    this.#nowMs = endMs;
    await settle();
  }

  #earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.#timers) {
      if (best === undefined || t.atMs < best.atMs || (t.atMs === best.atMs && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/** Lets every already-resolvable promise chain run (a few turns of the event loop, no real waiting). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await flushIO();
}
