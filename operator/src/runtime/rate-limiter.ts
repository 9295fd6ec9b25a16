/**
 * Per-item exponential back-off, client-go's `ItemExponentialFailureRateLimiter`: the n-th consecutive
 * failure of a key waits `baseDelayMs * 2^(n-1)`, capped at `maxDelayMs`, until `forget(key)` resets it.
 * Keyed per item so one broken cluster backing off does not slow the reconciles of healthy ones.
 */
export class ItemExponentialRateLimiter {
  readonly #failures = new Map<string, number>();

  constructor(
    readonly baseDelayMs: number,
    readonly maxDelayMs: number,
  ) {
    if (!(baseDelayMs > 0) || !Number.isFinite(baseDelayMs)) {
      throw new Error(`work queue: backoffBaseMs must be a positive number, got ${baseDelayMs}`);
    }
    if (!(maxDelayMs >= baseDelayMs) || !Number.isFinite(maxDelayMs)) {
      throw new Error(`work queue: backoffMaxMs (${maxDelayMs}) must be >= backoffBaseMs (${baseDelayMs})`);
    }
  }

  /** Records one more failure of `key` and returns how long it should wait before its next try. */
  when(key: string): number {
    const exp = this.#failures.get(key) ?? 0;
    this.#failures.set(key, exp + 1);
    // 2^exp overflows to Infinity long after it passed any sane cap; Math.min keeps the cap exact.
    return Math.min(this.baseDelayMs * 2 ** exp, this.maxDelayMs);
  }

  /** How many failures `key` has had since it was last forgotten. */
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }
}
