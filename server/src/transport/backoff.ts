/**
 * Reconnect delays: exponential from `minMs`, doubled per consecutive failure, capped at `maxMs`, with
 * "equal jitter" (half fixed, half random) so that members restarted together do not reconnect in
 * lock-step and so that the delay never drops to zero.
 */
export class Backoff {
  // Invariant: failures counts consecutive failures since the last reset(); bounded by the cap below.
  private failures = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.failures, 30));
    this.failures = Math.min(this.failures + 1, 30);
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset(): void {
    this.failures = 0;
  }
}
